"""The locker and activity pages in a real browser: Debian's chromium through its chromedriver (Selenium, as
tests/console/test_console_browser.py), against the pickup loop's platform as a subprocess on loopback.

An operator opens the locker, finds the overdue item first and the failed texts with their reasons, picks a
hall; opens the activity of a month of transactions, then a week and a quarter; hall staff see their own
hall; the pages in English. The screenshots are saved in tests/artifacts/console/ to be looked at.
"""
from __future__ import annotations

import random
from datetime import datetime, timedelta

import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import Select

from tests.central.pickup_kit import CST, loop_on
from tests.console.test_console_activity import tx
from tests.console.test_console_browser import browser, follow, shot, sign_in  # noqa: F401 (browser: a fixture)
from tests.console.test_console_locker import Scene, store_scene

pytestmark = pytest.mark.slow
# what a kiosk serves in a working hour, by kind (deposits and hand-ins are the scene's own: made up ones would
# queue texts that can never go), and the services citizens pay for and rate
MIX = (("payment", 5), ("print", 4), ("pickup", 3), ("rating", 3), ("ticket", 6), ("form", 2))
SERVICES = ("BIZ-LICENCE", "SOCIAL-SECURITY", "HOUSING-FUND", "TAX-CERT")


@pytest.fixture(scope="module")
def scene(request, tmp_path_factory):
    with loop_on("sqlite", request, tmp_path_factory.mktemp("locker-browser")) as lp:
        s = store_scene(lp)
        send_a_busy_quarter(s)
        yield s


def send_a_busy_quarter(scene: Scene) -> None:
    """90 days of a hall's working hours (quieter at weekends, busiest mid-morning) at both kiosks."""
    rng = random.Random(21)
    midnight = datetime.now(CST).replace(hour=0, minute=0, second=0, microsecond=0)
    kinds = [kind for kind, weight in MIX for _ in range(weight)]
    for kiosk, scale in (("k1", 1.0), ("k2", 0.6)):
        items = []
        for days_ago in range(90):
            day = midnight - timedelta(days=days_ago)
            for hour in range(8, 19):
                busy = (3 if 9 <= hour <= 11 else 2 if 14 <= hour <= 16 else 1) * (0.4 if day.weekday() >= 5 else 1)
                for _ in range(round(rng.uniform(0.5, 1.5) * busy * scale * 2)):
                    kind = rng.choice(kinds)
                    service = {"service": rng.choice(SERVICES)} if kind in ("payment", "rating") else {}
                    items.append(tx(kind, day + timedelta(hours=hour, minutes=rng.randrange(60)), **service))
        for start in range(0, len(items), 500):
            scene.console.send(kiosk, *items[start:start + 500])


def test_an_operator_reads_the_locker_and_the_activity_and_staff_their_own_hall(scene, browser):  # noqa: F811
    sign_in(browser, scene.console, "ops")
    follow(browser, browser.find_element(By.LINK_TEXT, "智能柜"))
    held = browser.find_elements(By.CSS_SELECTOR, "tr[data-deposit]")
    assert held[0].get_attribute("data-deposit") == scene.deposits["overdue"]["id"]
    assert "overdue" in held[0].get_attribute("class") and "已逾期" in held[0].text
    assert "失败，不再重试" in browser.page_source and "connection_error" in browser.page_source
    shot(browser, "locker-1-operator")

    Select(browser.find_element(By.NAME, "hall")).select_by_value("hall-b")
    follow(browser, browser.find_element(By.CSS_SELECTOR, "form.filters button"))
    assert [r.get_attribute("data-deposit") for r in browser.find_elements(By.CSS_SELECTOR, "tr[data-deposit]")] == [
        scene.deposits["waiting"]["id"]]
    shot(browser, "locker-2-hall-b")

    follow(browser, browser.find_element(By.LINK_TEXT, "业务量"))
    assert browser.find_element(By.CSS_SELECTOR, "a.chip.on").get_attribute("data-days") == "30"
    assert len(browser.find_elements(By.CSS_SELECTOR, "svg.columns")[0].find_elements(By.TAG_NAME, "rect")) == 30
    assert [r.get_attribute("data-kiosk") for r in browser.find_elements(By.CSS_SELECTOR, "tr[data-kiosk]")] == [
        "k1", "k2"]
    shot(browser, "activity-1-30-days")
    follow(browser, browser.find_element(By.CSS_SELECTOR, "a[data-days='7']"))
    shot(browser, "activity-2-7-days")
    follow(browser, browser.find_element(By.CSS_SELECTOR, "a[data-days='90']"))
    assert len(browser.find_elements(By.CSS_SELECTOR, "svg.columns")[0].find_elements(By.TAG_NAME, "rect")) == 90
    shot(browser, "activity-3-90-days")

    follow(browser, browser.find_element(By.CSS_SELECTOR, "form[action='/console/logout'] button"))
    sign_in(browser, scene.console, "staff-a")
    follow(browser, browser.find_element(By.LINK_TEXT, "智能柜"))
    assert scene.deposits["waiting"]["id"] not in browser.page_source and not browser.find_elements(By.NAME, "hall")
    shot(browser, "locker-3-staff")
    follow(browser, browser.find_element(By.CSS_SELECTOR, "a.lang"))
    assert "Items held for their applicants" in browser.page_source
    shot(browser, "locker-4-english")
    follow(browser, browser.find_element(By.LINK_TEXT, "Activity"))
    assert [r.get_attribute("data-kiosk") for r in browser.find_elements(By.CSS_SELECTOR, "tr[data-kiosk]")] == ["k1"]
    shot(browser, "activity-4-staff-english")
