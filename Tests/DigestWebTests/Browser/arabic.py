#!/usr/bin/env python3
"""An Arabic reader in headless Chromium at 375 px (JavaScript off, the browser asking for Arabic), driven by
BrowserTests.swift; the helpers are reader.py's:

  arabic.py signup BASE_URL MAILDIR EMAIL SHOTS   the sign-up form comes in Arabic, right to left, with a link
                                                  to the English page; the question is read in Arabic-Indic
                                                  digits and answered in them; confirmed from the Arabic mail
  arabic.py digest MAILDIR EMAIL SHOTS            the Arabic digest in the Maildir (its HTML part, as a mail
                                                  client shows it), then its preferences page

Every page is right to left, fits the screen and passes axe-core with no serious or critical violation.
SHOTS, when not empty, is a folder for screenshots: signup-ar-375.png, digest-ar-375.png,
preferences-ar-375.png (the README's, under docs/).
"""
import os
import re
import sys
import tempfile

from browsing import follow
from reader import WIDTH, audit, browser, check_page, confirm, digest_link, fail, mails, screenshot, step
from selenium.webdriver.common.by import By

ARABIC_DIGITS = "٠١٢٣٤٥٦٧٨٩"


def latin(text):
    return "".join(str(ARABIC_DIGITS.index(c)) if c in ARABIC_DIGITS else c for c in text)


def arabic(number):
    return "".join(ARABIC_DIGITS[int(c)] for c in str(number))


def check_rtl(driver, what):
    direction, lang = driver.execute_script(
        "return [document.documentElement.dir, document.documentElement.lang]")
    if (direction, lang) != ("rtl", "ar"):
        fail("%s is dir=%r lang=%r, not rtl and ar" % (what, direction, lang))
    step("%s is right to left (lang=ar)" % what)


def signup(base, maildir, address, shots):
    driver, auditor = browser(languages="ar,en"), browser(javascript=True, languages="ar,en")
    try:
        driver.get(base + "/subscribe")
        check_page(driver, "تصلك أهم الأخبار والتدوينات على بريدك كل يوم")
        check_rtl(driver, "the sign-up page")
        audit(auditor, driver)
        switch = driver.find_element(By.CSS_SELECTOR, "nav a[hreflang=en]")
        if switch.text != "English":
            fail("the language switch reads %r" % switch.text)
        step("a visible link to the English page")
        screenshot(driver, shots, "signup-ar")
        question = driver.find_element(By.ID, "question").text
        match = re.fullmatch(r"\s*([٠-٩]+) \+ ([٠-٩]+) =\s*", question)
        if not match:
            fail("cannot read the question %r in Arabic-Indic digits" % question)
        answer = int(latin(match.group(1))) + int(latin(match.group(2)))
        driver.find_element(By.ID, "email").send_keys(address)
        driver.find_element(By.ID, "name").send_keys("رنا")
        driver.find_element(By.ID, "answer").send_keys(arabic(answer))
        step("answered %s %s" % (question.strip(), arabic(answer)))
        follow(driver, driver.find_element(By.CSS_SELECTOR, "form button[type=submit]"))
        check_page(driver, "تفقّد بريدك")

        confirm(driver, maildir, address, "أكّد اشتراكك", "أكّد اشتراكك", "اشتراكك مفعَّل")
        check_rtl(driver, "the confirmed page")
    finally:
        driver.quit()
        auditor.quit()


def digest(maildir, address, shots):
    driver, auditor = browser(languages="ar,en"), browser(javascript=True, languages="ar,en")
    try:
        found = [m for m in mails(maildir, address) if "أكّد" not in str(m["Subject"])]
        if not found:
            fail("no digest for %s in %s" % (address, maildir))
        message = found[-1]
        if not str(message["Subject"]).startswith("\u200f"):
            fail("the subject %r does not start right to left" % str(message["Subject"]))
        html = message.get_body(preferencelist=("html",)).get_content()
        with tempfile.NamedTemporaryFile("w", suffix=".html", delete=False, encoding="utf-8") as page:
            page.write(html)
        driver.get("file://" + page.name)
        check_rtl(driver, "the digest")
        width, scroll = driver.execute_script("return [window.innerWidth, document.documentElement.scrollWidth]")
        if width != WIDTH or scroll > WIDTH:
            fail("the digest is %d px wide on a %d px screen" % (scroll, width))
        step("the digest fits (%d px)" % scroll)
        auditor.get("file://" + page.name)
        audit_mail(auditor)
        screenshot(driver, shots, "digest-ar")
        os.unlink(page.name)

        driver.get(digest_link(maildir, address, "preferences"))
        check_page(driver, "تفضيلات نشرتك")
        check_rtl(driver, "the preferences page")
        audit(auditor, driver)
        if not driver.find_element(By.ID, "language-ar").is_selected():
            fail("preferences do not show Arabic as the reader's language")
        screenshot(driver, shots, "preferences-ar")
        follow(driver, driver.find_element(By.XPATH, "//button[normalize-space()='احفظ التفضيلات']"))
        check_page(driver, "تفضيلات نشرتك")
        if "حُفظت تفضيلاتك." not in driver.page_source:
            fail("the preferences were not saved")
        step("preferences saved in Arabic")
    finally:
        driver.quit()
        auditor.quit()


def audit_mail(auditor):
    """axe-core on the digest as the auditor shows it (a mail has no h1 for `audit` to name it by)."""
    from axe_selenium_python import Axe

    axe = Axe(auditor)
    axe.inject()
    bad = [v for v in axe.run()["violations"] if v.get("impact") in ("serious", "critical")]
    if bad:
        fail("the digest: axe-core: %s" % "; ".join(
            "%s (%s): %s" % (v["id"], v["impact"], v["nodes"][0]["target"]) for v in bad))
    step("the digest: no serious or critical axe-core violation")


if __name__ == "__main__":
    if len(sys.argv) == 6 and sys.argv[1] == "signup":
        signup(sys.argv[2], sys.argv[3], sys.argv[4], sys.argv[5])
    elif len(sys.argv) == 5 and sys.argv[1] == "digest":
        digest(sys.argv[2], sys.argv[3], sys.argv[4])
    else:
        fail("usage: arabic.py signup BASE_URL MAILDIR EMAIL SHOTS | digest MAILDIR EMAIL SHOTS")
    print("done", flush=True)
