"""What the browser scripts (admin.py, reader.py) share: moving from page to page without JavaScript."""
from selenium.common.exceptions import WebDriverException
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import WebDriverWait


def follow(driver, element):
    """Clicks a link or submit button and waits until the next page has replaced this one, so the checks
    that follow never read the page being left. The old page's root is gone once any question about it
    fails: chromedriver says "stale element" or, while the new page is being put in place, "does not
    belong to the document" (which Selenium's `staleness_of` does not take for an answer); either means
    the page was left."""
    page = driver.find_element(By.TAG_NAME, "html")
    element.click()

    def left(_):
        try:
            page.is_enabled()
            return False
        except WebDriverException:
            return True

    WebDriverWait(driver, 60).until(left)
