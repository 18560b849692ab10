#!/usr/bin/env python3
"""A reader in headless Chromium (Debian's chromium + chromedriver, Selenium and axe-core's
axe-selenium-python from PyPI), on a 375 px wide screen with JavaScript off, driven by BrowserTests.swift:

  reader.py signup BASE_URL MAILDIR EMAIL   the form (weekly offered in one line, the button on the first
                                            screen): read and answer the question, then confirm from the
                                            confirmation mail found in the Maildir
  reader.py choices MAILDIR EMAIL SHOTS     from the digest in the Maildir: the unsubscribe link, where the
                                            reader takes "the weekly edition instead"; then preferences,
                                            where they pause for a month, then resume
  reader.py manage MAILDIR EMAIL            from the digest in the Maildir: change preferences,
                                            then unsubscribe through the preferences page
  reader.py vote MAILDIR EMAIL              from the digest in the Maildir: the first item's vote link (the
                                            short /v/ one of the plain text), the button, the thanks; the
                                            link again says the vote is counted and offers no button
  reader.py click MAILDIR EMAIL SITE_PORT   the digest's HTML part opened as a mail program shows it; a click
                                            on its first item's title goes through /r/TOKEN and lands on the
                                            item's page, served here on 127.0.0.1:SITE_PORT (the news site)

Every page must fit the screen, and the pages of signup, choices and vote must pass axe-core with no serious or
critical violation. SHOTS, when not empty, is a folder for a screenshot of the unsubscribe page.
Prints one line per step; exits 1 with the reason at the first thing a reader would trip over.
"""
import email
import email.policy
import http.server
import os
import re
import sys
import tempfile
import threading
import time

from axe_selenium_python import Axe
from browsing import follow
from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import Select

WIDTH = 375
HEIGHT = 812


def fail(message):
    print("FAIL: " + message, flush=True)
    sys.exit(1)


def step(message):
    print("ok: " + message, flush=True)


def browser(javascript=False, languages=None):
    """`languages`, when given, is what the browser asks for in Accept-Language (\"ar,en\")."""
    options = webdriver.ChromeOptions()
    options.binary_location = "/usr/bin/chromium"
    for argument in ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                     "--no-first-run", "--disable-extensions"]:
        options.add_argument(argument)
    # A phone-sized screen (375 x 812 CSS px), and no JavaScript for the pages at all (but for the
    # auditor's: axe-core is a script).
    prefs = {"intl.accept_languages": languages} if languages else {}
    if not javascript:
        prefs["profile.managed_default_content_settings.javascript"] = 2
    if prefs:
        options.add_experimental_option("prefs", prefs)
    if languages:
        options.add_argument("--lang=" + languages.split(",")[0])
    driver = webdriver.Chrome(service=Service("/usr/bin/chromedriver"), options=options)
    driver.execute_cdp_cmd("Emulation.setDeviceMetricsOverride",
                           {"width": WIDTH, "height": HEIGHT, "deviceScaleFactor": 2, "mobile": True})
    driver.set_page_load_timeout(60)
    return driver


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


def audit(auditor, driver):
    """axe-core finds no serious or critical violation on the page `driver` shows. axe is a script and waits
    on timers, which a browser with JavaScript off never runs, so a second browser with JavaScript on audits
    the same document (the page as received, which may be the answer to a POST that must not be sent twice);
    the pages have no script of their own (their security policy allows none), so both see the same page."""
    heading = driver.find_element(By.TAG_NAME, "h1").text.strip()
    auditor.get("about:blank")
    auditor.execute_script("document.open(); document.write(arguments[0]); document.close();", driver.page_source)
    axe = Axe(auditor)
    axe.inject()
    results = axe.run()
    bad = [v for v in results["violations"] if v.get("impact") in ("serious", "critical")]
    if bad:
        fail("%r: axe-core: %s" % (heading, "; ".join(
            "%s (%s): %s" % (v["id"], v["impact"], v["nodes"][0]["target"]) for v in bad)))
    step("%s: no serious or critical axe-core violation" % heading)


def screenshot(driver, shots, name):
    """The whole page, not only its first screen, into SHOTS (when given) as NAME-375.png."""
    if not shots:
        return
    height = driver.execute_script("return document.documentElement.scrollHeight")
    driver.execute_cdp_cmd("Emulation.setDeviceMetricsOverride",
                           {"width": WIDTH, "height": min(height, 6000), "deviceScaleFactor": 1, "mobile": True})
    driver.save_screenshot(os.path.join(shots, "%s-%d.png" % (name, WIDTH)))
    driver.execute_cdp_cmd("Emulation.setDeviceMetricsOverride",
                           {"width": WIDTH, "height": HEIGHT, "deviceScaleFactor": 2, "mobile": True})


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
    driver, auditor = browser(), browser(javascript=True)
    try:
        driver.get(base + "/subscribe")
        check_page(driver, "Get top stories and blog posts emailed to you each day")
        audit(auditor, driver)
        # The form stays one screen: daily / weekly is one line, and the button is still on the first
        # screen of a phone.
        daily, weekly = driver.find_element(By.ID, "cadence-daily"), driver.find_element(By.ID, "cadence-weekly")
        if daily.location["y"] != weekly.location["y"]:
            fail("daily and weekly are not on one line")
        if not daily.is_selected():
            fail("daily is not the default")
        bottom = driver.execute_script(
            "return document.querySelector('form button[type=submit]').getBoundingClientRect().bottom")
        if bottom > HEIGHT:
            fail("the Subscribe button ends at %d px, below the first %d px screen" % (bottom, HEIGHT))
        step("daily / weekly in one line, the button on the first screen (ends at %d px)" % bottom)
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

        confirm(driver, maildir, address, "Confirm", "Confirm your subscription", "You are subscribed")
    finally:
        driver.quit()
        auditor.quit()


def confirm(driver, maildir, address, subject, heading, done):
    """Opens the link of the confirmation mail (its subject holds `subject`) for `address`: a page headed
    `heading` with a button, which confirms (the page then headed `done`)."""
    mail = wait_for_mail(maildir, address, subject)
    link = re.search(r"https?://\S+/confirm\?token=[A-Za-z0-9._-]+", text_of(mail))
    if not link:
        fail("no confirm link in the confirmation mail %r" % str(mail["Subject"]))
    step("confirmation mail with its link")
    driver.get(link.group(0))
    check_page(driver, heading)
    follow(driver, driver.find_element(By.CSS_SELECTOR, "form button[type=submit]"))
    check_page(driver, done)


def digest_link(maildir, address, page):
    """The link to `page` (unsubscribe, preferences) in the newest digest for `address`."""
    digest = [m for m in mails(maildir, address) if "Confirm" not in str(m["Subject"])]
    if not digest:
        fail("no digest for %s in %s" % (address, maildir))
    link = re.search(r"https?://\S+/%s\?token=[A-Za-z0-9._-]+" % page, text_of(digest[-1]))
    if not link:
        fail("no %s link in the digest" % page)
    return link.group(0)


def choices(maildir, address, shots):
    driver, auditor = browser(), browser(javascript=True)
    try:
        # "Less before never": the unsubscribe page offers the weekly edition first.
        driver.get(digest_link(maildir, address, "unsubscribe"))
        check_page(driver, "Unsubscribe")
        audit(auditor, driver)
        screenshot(driver, shots, "unsubscribe")
        weekly = driver.find_element(By.XPATH, "//button[normalize-space()='Send me the weekly edition instead']")
        follow(driver, weekly)
        check_page(driver, "Weekly from now on")
        audit(auditor, driver)
        said = driver.find_element(By.TAG_NAME, "main").text
        if "You will get the week's best every Monday instead of a daily digest." not in said:
            fail("the weekly page does not say what changed: %r" % said)
        step("weekly instead of daily, and the page says so")

        follow(driver, driver.find_element(By.LINK_TEXT, "Your preferences"))
        check_page(driver, "Your digest preferences")
        if not driver.find_element(By.ID, "cadence-weekly").is_selected():
            fail("preferences do not show the weekly edition")
        Select(driver.find_element(By.ID, "pause")).select_by_value("1m")
        follow(driver, driver.find_element(By.XPATH, "//button[normalize-space()='Save preferences']"))
        check_page(driver, "Your digest preferences")
        audit(auditor, driver)
        notice = driver.find_element(By.CSS_SELECTOR, ".notice").text
        paused = re.search(r"Paused until (\d{4}-\d\d-\d\d): nothing is sent until then", notice)
        if not paused:
            fail("the saved notice does not say the pause: %r" % notice)
        if Select(driver.find_element(By.ID, "pause")).first_selected_option.text != "Paused until " + paused.group(1):
            fail("the pause select does not show the pause")
        step("paused until %s from preferences" % paused.group(1))

        follow(driver, driver.find_element(By.XPATH, "//button[normalize-space()='Resume now']"))
        check_page(driver, "Resumed")
        audit(auditor, driver)
        follow(driver, driver.find_element(By.LINK_TEXT, "Your preferences"))
        check_page(driver, "Your digest preferences")
        if Select(driver.find_element(By.ID, "pause")).first_selected_option.text != "Not paused":
            fail("preferences still show a pause after resuming")
        if driver.find_elements(By.XPATH, "//button[normalize-space()='Resume now']"):
            fail("a Resume button on a reader who is not paused")
        step("resumed: not paused")
    finally:
        driver.quit()
        auditor.quit()


def manage(maildir, address):
    driver = browser()
    try:
        driver.get(digest_link(maildir, address, "preferences"))
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
        follow(driver, driver.find_element(By.XPATH, "//button[normalize-space()='Save preferences']"))
        check_page(driver, "Your digest preferences")
        if "Your preferences are saved." not in driver.page_source:
            fail("the preferences were not saved")
        if "Europe/Berlin" not in driver.find_element(By.ID, "deliveryHour-hint").text:
            fail("the hour is not shown in the new time zone")
        step("preferences saved: stories only, plain text, Europe/Berlin, 07:00")

        follow(driver, driver.find_element(By.LINK_TEXT, "Unsubscribe"))
        check_page(driver, "Unsubscribe")
        # Below the offers, the button still leaves at once.
        follow(driver, driver.find_element(By.XPATH, "//button[normalize-space()='Unsubscribe']"))
        check_page(driver, "You are unsubscribed")
    finally:
        driver.quit()


def vote(maildir, address):
    driver, auditor = browser(), browser(javascript=True)
    try:
        digest = [m for m in mails(maildir, address) if "Confirm" not in str(m["Subject"])]
        if not digest:
            fail("no digest for %s in %s" % (address, maildir))
        text = text_of(digest[-1])
        link = re.search(r"^1\. (.+)\n(?:.*\n)*?   Vote: (https?://\S+/v/[a-z0-9-]+)$", text, re.MULTILINE)
        if not link:
            fail("no vote link under item 1 in the digest")
        title = link.group(1).strip()
        step("vote link of item 1, %r" % title)
        driver.get(link.group(2))
        check_page(driver, "Vote for this story?")
        audit(auditor, driver)
        if title not in driver.find_element(By.TAG_NAME, "main").text:
            fail("the vote page does not name %r" % title)
        follow(driver, driver.find_element(By.XPATH, "//button[normalize-space()='Vote for this story']"))
        check_page(driver, "Thank you for your vote")
        audit(auditor, driver)
        step("voted for %r" % title)
        driver.get(link.group(2))
        check_page(driver, "You voted for this story")
        if driver.find_elements(By.TAG_NAME, "button"):
            fail("the page of a vote already counted still has a button")
        step("the link again: counted, no button")
    finally:
        driver.quit()
        auditor.quit()


class Site(http.server.BaseHTTPRequestHandler):
    """The news site the digest's items live on: every path is a story page named by its path."""

    def do_GET(self):
        body = ("<!doctype html><html lang=en><title>Story</title><h1>Story %s</h1></html>" % self.path).encode()
        self.send_response(200)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *arguments):
        pass


def click(maildir, address, site_port):
    site = http.server.ThreadingHTTPServer(("127.0.0.1", int(site_port)), Site)
    threading.Thread(target=site.serve_forever, daemon=True).start()
    digest = [m for m in mails(maildir, address) if "Confirm" not in str(m["Subject"])]
    if not digest:
        fail("no digest for %s in %s" % (address, maildir))
    html = digest[-1].get_body(preferencelist=("html",)).get_content()
    driver = browser()
    try:
        # As a mail program shows it: the HTML part as a page of its own, its scripts (none) not run.
        with tempfile.NamedTemporaryFile("w", suffix=".html", delete=False, encoding="utf-8") as page:
            page.write(html)
        driver.get("file://" + page.name)
        # An item is a title link in a block of its own direction (the view-in-browser and footer links are not).
        links = driver.find_elements(By.CSS_SELECTOR, "div[dir=auto] > a.dd-link")
        if not links:
            fail("no item link in the digest's HTML")
        first = links[0]
        href, title = first.get_attribute("href"), first.text.strip()
        if "/r/" not in href:
            fail("the item link %r does not go through /r/TOKEN" % href)
        step("item link %r goes through %s" % (title, href.split("/r/")[0] + "/r/…"))
        follow(driver, first)
        landed = driver.current_url
        if not landed.startswith("http://127.0.0.1:%s/" % site_port):
            fail("the click landed on %r, not on the item's site" % landed)
        heading = driver.find_element(By.TAG_NAME, "h1").text.strip()
        if not heading.startswith("Story /"):
            fail("the item's page shows %r" % heading)
        step("landed on the item: %s" % landed)
        print("landed " + landed, flush=True)
        os.unlink(page.name)
    finally:
        driver.quit()
        site.shutdown()


if __name__ == "__main__":
    if len(sys.argv) == 5 and sys.argv[1] == "signup":
        signup(sys.argv[2], sys.argv[3], sys.argv[4])
    elif len(sys.argv) == 5 and sys.argv[1] == "choices":
        choices(sys.argv[2], sys.argv[3], sys.argv[4])
    elif len(sys.argv) == 4 and sys.argv[1] == "manage":
        manage(sys.argv[2], sys.argv[3])
    elif len(sys.argv) == 4 and sys.argv[1] == "vote":
        vote(sys.argv[2], sys.argv[3])
    elif len(sys.argv) == 5 and sys.argv[1] == "click":
        click(sys.argv[2], sys.argv[3], sys.argv[4])
    else:
        fail("usage: reader.py signup BASE_URL MAILDIR EMAIL | choices MAILDIR EMAIL SHOTS | manage MAILDIR EMAIL"
             " | vote MAILDIR EMAIL | click MAILDIR EMAIL SITE_PORT")
    print("done", flush=True)
