"""The ratings page in a real browser (Debian's chromium through Selenium, as tests/console/test_console_browser.py):
a hall's staff signs in, opens 好差评, finds the poor rating with its reasons, and records the call back with a
note; then finds a citizen's call for help (求助呼叫) and marks it handled. The pages are saved as screenshots in
tests/artifacts/console/ratings-*.png and help-*.png to be looked at.
"""
from __future__ import annotations

import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import Select

from tests.central.conftest import start_central
from tests.console.conftest import make_console
from tests.console.test_console_browser import browser, follow, shot, sign_in  # noqa: F401 (browser: a fixture)

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def console(tmp_path_factory):
    central = start_central(tmp_path_factory.mktemp("console-ratings-browser"))
    try:
        yield make_console(central)
    finally:
        central.stop()


def test_staff_find_a_poor_rating_with_its_reasons_and_record_the_call_back(console, browser):
    for level, service in ((5, "pickup"), (5, "pickup"), (4, "print"), (3, "print"), (4, "fee"), (5, "fee")):
        console.rate("k1", level, service)
    console.rate("k2", 2, "pickup", ["The machine did not work well"])   # another hall's: not shown to staff-a
    poor = console.rate("k1", 1, "pickup", ["It took too long", "The steps were hard to follow"])
    sign_in(browser, console, "staff-a")
    follow(browser, browser.find_element(By.LINK_TEXT, "好差评"))
    assert "/console/ratings" in browser.current_url
    rows = browser.find_elements(By.CSS_SELECTOR, "tr[data-rating]")
    assert [r.get_attribute("data-rating") for r in rows] == [poor]
    row = rows[0]
    assert "非常不满意" in row.text and "等候时间太长" in row.text and "操作步骤不清楚" in row.text
    assert "待处理" in row.text
    shot(browser, "ratings-1-staff")

    Select(row.find_element(By.NAME, "state")).select_by_visible_text("回访")
    row.find_element(By.NAME, "note").send_keys("已电话回访市民：当日排队较长，已致歉")
    follow(browser, row.find_element(By.CSS_SELECTOR, "form.followup button"))
    assert browser.current_url.endswith(f"#rating-{poor}")
    row = browser.find_element(By.CSS_SELECTOR, f"tr[data-rating='{poor}']")
    assert "回访 · staff-a" in row.text and "已电话回访市民：当日排队较长，已致歉" in row.text
    options = [o.text for o in Select(row.find_element(By.NAME, "state")).options]
    assert options == ["整改", "复核", "办结"]   # forward only
    shot(browser, "ratings-2-called-back")

    follow(browser, browser.find_element(By.LINK_TEXT, "近 90 天"))
    assert "按周" in browser.page_source and len(browser.find_elements(By.CSS_SELECTOR, "ol.columns li")) == 13
    shot(browser, "ratings-3-quarter")

    follow(browser, browser.find_element(By.CSS_SELECTOR, "a.lang"))
    assert "Ratings" in browser.page_source and "Called back" in browser.page_source
    shot(browser, "ratings-4-english")


def test_staff_see_a_call_for_help_and_mark_it_handled(console, browser):
    """Beside the ratings, on the same platform: a citizen pressed "Call staff" at k1's pickup screen."""
    called = console.call_staff("k1", "pickup", ago_s=300)
    console.call_staff("k2", "tickets")   # another hall's: not shown to staff-a
    sign_in(browser, console, "staff-a")
    follow(browser, browser.find_element(By.LINK_TEXT, "求助呼叫"))
    rows = browser.find_elements(By.CSS_SELECTOR, "tr[data-help]")
    assert [r.get_attribute("data-help") for r in rows] == [called]
    assert "k1" in rows[0].text and "证照领取" in rows[0].text and "5 分钟前" in rows[0].text
    assert "待处理: 1" in browser.find_element(By.CSS_SELECTOR, "a[data-count='open']").text
    rows[0].find_element(By.NAME, "note").send_keys("值班员已到1号机旁协助")
    shot(browser, "help-1-open")
    follow(browser, rows[0].find_element(By.CSS_SELECTOR, "form.ack button"))
    assert browser.find_elements(By.CSS_SELECTOR, "tr[data-help]") == []
    follow(browser, browser.find_element(By.LINK_TEXT, "近7天已处理"))
    row = browser.find_element(By.CSS_SELECTOR, f"tr[data-help='{called}']")
    assert "staff-a" in row.text and "值班员已到1号机旁协助" in row.text
    shot(browser, "help-2-handled")
