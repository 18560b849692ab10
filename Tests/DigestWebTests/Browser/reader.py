#!/usr/bin/env python3
"""A reader in headless Chromium (Debian's chromium + chromedriver, Selenium from PyPI), on a 375 px
wide screen with JavaScript off, driven by BrowserTests.swift:

  reader.py signup BASE_URL MAILDIR EMAIL   the form: read and answer the question, then confirm
                                            from the confirmation mail found in the Maildir
  reader.py manage MAILDIR EMAIL            from the digest in the Maildir: change preferences,
                                            then unsubscribe through the preferences page

Prints one line per step; exits 1 with the reason at the first thing a reader would trip over.
"""
import email
import email.policy
import os
import re
import sys
import time

from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions
from selenium.webdriver.support.ui import Select, WebDriverWait

WIDTH = 375


def fail(message):
    print("FAIL: " + message, flush=True)
    sys.exit(1)


def step(message):
    print("ok: " + message, flush=True)


def browser():
    options = webdriver.ChromeOptions()
    options.binary_location = "/usr/bin/chromium"
    for argument in ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                     "--no-first-run", "--disable-extensions"]:
        options.add_argument(argument)
    # A phone-sized screen (375 x 812 CSS px), and no JavaScript for the pages at all.
    options.add_experimental_option("prefs", {"profile.managed_default_content_settings.javascript": 2})
    driver = webdriver.Chrome(service=Service("/usr/bin/chromedriver"), options=options)
    driver.execute_cdp_cmd("Emulation.setDeviceMetricsOverride",
                           {"width": WIDTH, "height": 812, "deviceScaleFactor": 2, "mobile": True})
    driver.set_page_load_timeout(60)
    return driver


def follow(driver, element):
    """Clicks a link or submit button and waits until the next page has replaced this one (the old
    page's elements go stale), so the checks that follow never read the page being left."""
    page = driver.find_element(By.TAG_NAME, "html")
    element.click()
    WebDriverWait(driver, 60).until(expected_conditions.staleness_of(page))


def check_page(driver, heading):
    """The page's h1 is `heading`, nothing runs scripts, and nothing is wider than the screen."""
    h1 = driver.find_element(By.TAG_NAME, "h1").text.strip()
    if h1 != heading:
        fail("expected the heading %r, found %r at %s" % (heading, h1, driver.current_url))
    # The page's own scripts are off; this one runs through the driver, only to measure.
    width, scroll = driver.execute_script("return [window.innerWidth, document.documentElement.scrollWidth]")
    if width != WIDTH or scroll > WIDTH:
        fail("%r is %d px wide on a %d px screen" % (heading, scroll, width))
    step("%s (%d px, fits)" % (heading, scroll))


def mails(maildir, recipient):
    """Messages in the Maildir addressed to `recipient`, oldest first."""
    found = []
    for folder in ("new", "cur"):
        path = os.path.join(maildir, folder)
        if not os.path.isdir(path):
            continue
        for name in sorted(os.listdir(path)):
            with open(os.path.join(path, name), "rb") as handle:
                message = email.message_from_binary_file(handle, policy=email.policy.default)
            if recipient in str(message["To"]):
                found.append(message)
    return found


def wait_for_mail(maildir, recipient, subject_part, timeout=60):
    deadline = time.time() + timeout
    while time.time() < deadline:
        for message in mails(maildir, recipient):
            if subject_part in str(message["Subject"]):
                return message
        time.sleep(0.2)
    fail("no mail %r for %s arrived in %s" % (subject_part, recipient, maildir))


def text_of(message):
    return message.get_body(preferencelist=("plain",)).get_content()


def signup(base, maildir, address):
    driver = browser()
    try:
        driver.get(base + "/subscribe")
        check_page(driver, "Get top stories and blog posts emailed to you each day")
        question = driver.find_element(By.ID, "question").text
        match = re.fullmatch(r"\s*(\d+) \+ (\d+) =\s*", question)
        if not match:
            fail("cannot read the question %r" % question)
        driver.find_element(By.ID, "email").send_keys(address)
        driver.find_element(By.ID, "name").send_keys("Rana")
        driver.find_element(By.ID, "answer").send_keys(str(int(match.group(1)) + int(match.group(2))))
        step("answered %s %d" % (question.strip(), int(match.group(1)) + int(match.group(2))))
        follow(driver, driver.find_element(By.CSS_SELECTOR, "form button[type=submit]"))
        check_page(driver, "Check your inbox")

        mail = wait_for_mail(maildir, address, "Confirm")
        link = re.search(r"https?://\S+/confirm\?token=[A-Za-z0-9._-]+", text_of(mail))
        if not link:
            fail("no confirm link in the confirmation mail")
        step("confirmation mail with its link")
        driver.get(link.group(0))
        check_page(driver, "Confirm your subscription")
        follow(driver, driver.find_element(By.CSS_SELECTOR, "form button[type=submit]"))
        check_page(driver, "You are subscribed")
    finally:
        driver.quit()


def manage(maildir, address):
    digest = [m for m in mails(maildir, address) if "Confirm" not in str(m["Subject"])]
    if not digest:
        fail("no digest for %s in %s" % (address, maildir))
    link = re.search(r"https?://\S+/preferences\?token=[A-Za-z0-9._-]+", text_of(digest[-1]))
    if not link:
        fail("no preferences link in the digest")
    driver = browser()
    try:
        driver.get(link.group(0))
        check_page(driver, "Your digest preferences")
        hint = driver.find_element(By.ID, "deliveryHour-hint").text
        if "time zone" not in hint:
            fail("the delivery hour does not say its time zone: %r" % hint)
        post = driver.find_element(By.ID, "section-post")
        if post.is_selected():
            post.click()
        driver.find_element(By.ID, "format-text").click()
        zone = driver.find_element(By.ID, "timeZone")
        zone.clear()
        zone.send_keys("Europe/Berlin")
        Select(driver.find_element(By.ID, "deliveryHour")).select_by_value("7")
        follow(driver, driver.find_element(By.CSS_SELECTOR, "form button[type=submit]"))
        check_page(driver, "Your digest preferences")
        if "Your preferences are saved." not in driver.page_source:
            fail("the preferences were not saved")
        if "Europe/Berlin" not in driver.find_element(By.ID, "deliveryHour-hint").text:
            fail("the hour is not shown in the new time zone")
        step("preferences saved: stories only, plain text, Europe/Berlin, 07:00")

        follow(driver, driver.find_element(By.LINK_TEXT, "Unsubscribe"))
        check_page(driver, "Unsubscribe")
        follow(driver, driver.find_element(By.CSS_SELECTOR, "form button[type=submit]"))
        check_page(driver, "You are unsubscribed")
    finally:
        driver.quit()


if __name__ == "__main__":
    if len(sys.argv) == 5 and sys.argv[1] == "signup":
        signup(sys.argv[2], sys.argv[3], sys.argv[4])
    elif len(sys.argv) == 4 and sys.argv[1] == "manage":
        manage(sys.argv[2], sys.argv[3])
    else:
        fail("usage: reader.py signup BASE_URL MAILDIR EMAIL | manage MAILDIR EMAIL")
    print("done", flush=True)
