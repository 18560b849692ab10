#!/usr/bin/env python3
"""An admin in headless Chromium (Debian's chromium + chromedriver, Selenium and axe-core's
axe-selenium-python from PyPI) with JavaScript off, driven by AdminBrowserTests.swift:

  admin.py BASE_URL TOKEN SHOTS PAGE...   signs in on the public port with the admin token, then opens
                                          every PAGE (a path under BASE_URL) at 1280, 375 and 320 px: the
                                          page must fit the screen and axe-core must find no serious or
                                          critical violation; screenshots of each go to SHOTS.
  admin.py act BASE_URL TOKEN READER_PATH unsubscribes that reader from their page, with the form's
                                          CSRF token, as an admin would.
  admin.py public BASE_URL SHOTS PAGE...  the same checks at 1280, 375 and 320 px for pages anyone may
                                          open (the archive), without signing in.

Prints one line per step; exits 1 with the reason at the first thing an admin would trip over.
"""
import os
import re
import sys

from axe_selenium_python import Axe
from browsing import follow
from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By

WIDTHS = [1280, 375, 320]


def fail(message):
    print("FAIL: " + message, flush=True)
    sys.exit(1)


def step(message):
    print("ok: " + message, flush=True)


def browser(javascript=False):
    options = webdriver.ChromeOptions()
    options.binary_location = "/usr/bin/chromium"
    for argument in ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                     "--no-first-run", "--disable-extensions"]:
        options.add_argument(argument)
    if not javascript:
        options.add_experimental_option("prefs", {"profile.managed_default_content_settings.javascript": 2})
    driver = webdriver.Chrome(service=Service("/usr/bin/chromedriver"), options=options)
    driver.set_page_load_timeout(60)
    return driver


def resize(driver, width):
    driver.execute_cdp_cmd("Emulation.setDeviceMetricsOverride",
                           {"width": width, "height": 900, "deviceScaleFactor": 1, "mobile": width < 600})


def sign_in(driver, base, token):
    driver.get(base + "/admin/")
    if "/admin/signin" not in driver.current_url:
        fail("the console did not send a stranger to the sign-in page: %s" % driver.current_url)
    driver.find_element(By.ID, "token").send_keys(token)
    follow(driver, driver.find_element(By.CSS_SELECTOR, "form button[type=submit]"))
    heading = driver.find_element(By.TAG_NAME, "h1").text.strip()
    if heading != "Dashboard":
        fail("after signing in: %r at %s" % (heading, driver.current_url))
    step("signed in, on the dashboard")


def audit(driver, url, path, width):
    """axe-core finds no serious or critical violation. axe is a script and waits on timers, which a browser
    with JavaScript off never runs, so it audits the same URL in a second browser with JavaScript on; the
    pages have no script of their own (their security policy allows none), so both see the same page."""
    driver.get(url)
    axe = Axe(driver)
    axe.inject()
    results = axe.run()
    bad = [v for v in results["violations"] if v.get("impact") in ("serious", "critical")]
    if bad:
        fail("%s at %d px: axe-core: %s" % (path, width, "; ".join(
            "%s (%s): %s" % (v["id"], v["impact"], v["nodes"][0]["target"]) for v in bad)))


def check(driver, path, width, shots):
    """The page fits `width` (nothing scrolls sideways) and axe-core finds nothing serious."""
    # The page's own scripts are off; these run through the driver, only to measure and audit.
    scroll = driver.execute_script("return document.documentElement.scrollWidth")
    inner = driver.execute_script("return window.innerWidth")
    heading = driver.find_element(By.TAG_NAME, "h1").text.strip()
    if scroll > width or inner != width:
        fail("%s (%r) is %d px wide on a %d px screen" % (path, heading, scroll, width))
    if shots:
        # The whole page, not only the first screen of it.
        name = re.sub(r"[^a-z0-9]+", "-", path.strip("/").lower()).strip("-") or "dashboard"
        height = driver.execute_script("return document.documentElement.scrollHeight")
        driver.execute_cdp_cmd("Emulation.setDeviceMetricsOverride",
                               {"width": width, "height": min(height, 6000), "deviceScaleFactor": 1, "mobile": width < 600})
        driver.save_screenshot(os.path.join(shots, "%s-%d.png" % (name, width)))
        resize(driver, width)
    step("%s at %d px: %r fits (%d px)" % (path, width, heading, scroll))


def visit(driver, auditor, base, shots, paths):
    """Every path at every width: it fits (`check`, with JavaScript off) and axe-core passes (`audit`)."""
    for width in WIDTHS:
        resize(driver, width)
        resize(auditor, width)
        for path in paths:
            driver.get(base + path)
            check(driver, path, width, shots)
            audit(auditor, base + path, path, width)
            step("%s at %d px: no serious or critical axe-core violation" % (path, width))


def pages(base, token, shots, paths):
    driver, auditor = browser(), browser(javascript=True)
    try:
        # The sign-in page, as a stranger sees it, before signing in.
        visit(driver, auditor, base, shots, ["/admin/signin"])
        for each in (driver, auditor):
            resize(each, WIDTHS[0])
            sign_in(each, base, token)
        visit(driver, auditor, base, shots, paths)
    finally:
        driver.quit()
        auditor.quit()


def public(base, shots, paths):
    driver, auditor = browser(), browser(javascript=True)
    try:
        visit(driver, auditor, base, shots, paths)
    finally:
        driver.quit()
        auditor.quit()


def act(base, token, reader):
    driver = browser()
    try:
        resize(driver, 375)
        sign_in(driver, base, token)
        driver.get(base + reader)
        follow(driver, driver.find_element(By.XPATH, "//button[normalize-space()='Unsubscribe']"))
        heading = driver.find_element(By.TAG_NAME, "h1").text.strip()
        if heading != "Unsubscribed":
            fail("unsubscribing from the reader's page: %r" % heading)
        step("unsubscribed the reader from their page")
        follow(driver, driver.find_element(By.PARTIAL_LINK_TEXT, "Back to"))
        facts = driver.find_element(By.CSS_SELECTOR, "dl.facts").text
        if "unsubscribed" not in facts:
            fail("the reader's page does not say unsubscribed: %r" % facts)
        step("the reader's page says unsubscribed")
    finally:
        driver.quit()


if __name__ == "__main__":
    if len(sys.argv) >= 5 and sys.argv[1] == "act":
        act(sys.argv[2], sys.argv[3], sys.argv[4])
    elif len(sys.argv) >= 5 and sys.argv[1] == "public":
        public(sys.argv[2], sys.argv[3], sys.argv[4:])
    elif len(sys.argv) >= 5:
        pages(sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4:])
    else:
        fail("usage: admin.py BASE_URL TOKEN SHOTS PAGE... | admin.py act BASE_URL TOKEN READER_PATH")
    print("done", flush=True)
