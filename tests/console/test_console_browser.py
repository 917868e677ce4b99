"""The console in a real browser: Debian's chromium, driven through its chromedriver by Selenium (nothing is
downloaded), against the platform as a subprocess on loopback, with a fleet of forty kiosks in a third hall
seeded by the load generator (bench/fleet.py --port).

An operator signs in, sees the kiosk that went offline and its door alarm at the top of the alarms, and
acknowledges it with a note; the pages are saved as screenshots in tests/artifacts/console/ to be looked at.
"""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.common.exceptions import WebDriverException
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import WebDriverWait

from tests.central.conftest import start_central
from kiosk.central.demo_hall import definition
from tests.console.conftest import PASSWORD, make_console
from tests.conftest import ROOT

pytestmark = pytest.mark.slow
SHOTS = ROOT / "tests" / "artifacts" / "console"
CHROMIUM, CHROMEDRIVER = "/usr/bin/chromium", "/usr/bin/chromedriver"


FLEET = [f"fleet-k{i:04d}" for i in range(1, 41)]   # the ids bench/fleet.py gives its kiosks


def seed_fleet(console, tmp) -> None:
    """Forty kiosks of a third hall served for a few seconds by the load generator, bench/fleet.py, against
    the running platform: batches of prints, ratings and paper warnings, a heartbeat a second each (time
    compressed sixty-fold), catalog and config polls; it checks every id it was acknowledged is stored once."""
    body = definition().model_dump(mode="json")
    body.update(name="三号政务服务中心", kiosks=FLEET)
    r = console.central.call("PUT", "/api/v1/halls/hall-c", body, operator="op")
    assert r.status_code == 200, r.text
    server = console.central.server
    res = subprocess.run([sys.executable, str(ROOT / "bench" / "fleet.py"), "--port", str(server.port),
                          "--db", str(server.db), "--key-file", str(Path(server.db).parent / "central.key"),
                          "--server-pid", str(server.proc.pid), "--kiosks", str(len(FLEET)), "--batch", "20",
                          "--duration", "3", "--time-scale", "60", "--tps", "200", "--concurrency", "8"],
                         capture_output=True, text=True, timeout=300, cwd=tmp)
    assert res.returncode == 0 and "problems none" in res.stdout, res.stdout[-3000:] + res.stderr[-3000:]


@pytest.fixture(scope="module")
def console(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("console-browser")
    central = start_central(tmp)
    try:
        c = make_console(central)
        seed_fleet(c, tmp)
        yield c
    finally:
        central.stop()


@pytest.fixture
def browser(tmp_path, monkeypatch):
    for path in (CHROMIUM, CHROMEDRIVER):
        assert os.access(path, os.X_OK), f"{path} is missing: scripts/system-packages.sh installs chromium and " \
                                         "chromium-driver (make setup, as root)"
    monkeypatch.setenv("SE_OFFLINE", "true")   # Selenium Manager never looks for a driver on the network
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for arg in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--no-first-run",
                "--disable-background-networking", "--disable-component-update", "--disable-sync",
                "--disable-quic", "--window-size=1280,900", "--lang=zh-CN", f"--user-data-dir={tmp_path / 'profile'}"):
        options.add_argument(arg)
    driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)
    driver.set_page_load_timeout(30)
    try:
        yield driver
    finally:
        driver.quit()
        shutil.rmtree(tmp_path / "profile", ignore_errors=True)


def follow(driver, element) -> None:
    """Click a link or a form's button and wait until the next page has replaced this one (a click returns
    before the browser has loaded what it asked for). This page is marked in its window object, which the
    next document does not have; asking while the documents change over may fail (chromedriver then
    answers "Node ... does not belong to the document", not a stale element), and is asked again."""
    driver.execute_script("window.__consolePage = true")
    element.click()

    def replaced(d) -> bool:
        try:
            return d.execute_script("return window.__consolePage === undefined && document.readyState === 'complete'")
        except WebDriverException:
            return False

    WebDriverWait(driver, 30).until(replaced)


def shot(driver, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    height = driver.execute_script("return document.documentElement.scrollHeight")
    # the window's own bars take part of its height even headless: the page gets all of it
    bars = driver.execute_script("return window.outerHeight - window.innerHeight")
    driver.set_window_size(1280, min(max(height, 600), 4000) + bars)
    driver.save_screenshot(str(SHOTS / f"{name}.png"))
    driver.set_window_size(1280, 900)


def sign_in(driver, console, name: str) -> None:
    driver.get(console.url + "/console/fleet")
    assert "/console/login" in driver.current_url
    driver.find_element(By.NAME, "name").send_keys(name)
    driver.find_element(By.NAME, "password").send_keys(PASSWORD)
    follow(driver, driver.find_element(By.CSS_SELECTOR, "form[action='/console/login'] button"))
    assert driver.current_url.endswith("/console/fleet"), driver.page_source[:500]


def test_an_operator_sees_the_offline_kiosk_and_its_door_alarm_and_acknowledges_it(console, browser):
    console.heartbeat("k1", devices=[
        {"name": "locker", "driver": "lock8a", "state": "online", "detail": ""},
        {"name": "receipt_printer", "driver": "escpos", "state": "hardware_error", "detail": "paper out"}])
    warning = console.raise_alarm("k1", device="receipt_printer", code="paper_out", severity="fault",
                                  detail="paper out")
    door = console.raise_alarm("k2", code="door_left_open:3", detail="door 3 is open; close it")
    sign_in(browser, console, "ops")
    shot(browser, "01-login-done-fleet")
    rows = {r.get_attribute("data-kiosk"): r for r in browser.find_elements(By.CSS_SELECTOR, "tr[data-kiosk]")}
    assert set(rows) == {"k1", "k2", *FLEET}
    assert all("在线" in rows[k].text for k in FLEET)
    assert "离线" in rows["k2"].text and "在线" in rows["k1"].text
    assert "receipt_printer" in rows["k1"].text and "硬件故障" in rows["k1"].text
    first = browser.find_elements(By.CSS_SELECTOR, "tr[data-kiosk]")[0]
    assert first.get_attribute("data-kiosk") == "k2"   # the offline kiosk comes first

    follow(browser, browser.find_element(By.CSS_SELECTOR, "a[data-problem='offline']"))
    assert [r.get_attribute("data-kiosk") for r in browser.find_elements(By.CSS_SELECTOR, "tr[data-kiosk]")] == ["k2"]
    shot(browser, "02-fleet-offline-filter")

    follow(browser, browser.find_element(By.LINK_TEXT, "k2"))
    assert "/console/kiosks/k2" in browser.current_url and "door_left_open:3" in browser.page_source
    shot(browser, "03-kiosk-k2")

    follow(browser, browser.find_element(By.LINK_TEXT, "告警"))
    alarms = browser.find_elements(By.CSS_SELECTOR, "tr[data-alarm]")
    assert [a.get_attribute("data-alarm") for a in alarms][:2] == [door, warning]   # the door first
    row = alarms[0]
    row.find_element(By.NAME, "note").send_keys("值班员李师傅已前往关门")
    shot(browser, "04-alarms-before-acknowledging")
    follow(browser, row.find_element(By.CSS_SELECTOR, "form.ack button"))
    row = browser.find_element(By.CSS_SELECTOR, f"tr[data-alarm='{door}']")
    assert "ops" in row.text and "值班员李师傅已前往关门" in row.text
    shot(browser, "05-alarms-acknowledged")

    follow(browser, browser.find_element(By.LINK_TEXT, "审计日志"))
    assert "alarm.acknowledge" in browser.page_source and door in browser.page_source
    shot(browser, "06-audit-log")

    follow(browser, browser.find_element(By.CSS_SELECTOR, "a.lang"))
    assert "Audit log" in browser.page_source
    follow(browser, browser.find_element(By.LINK_TEXT, "Fleet"))
    shot(browser, "07-fleet-english")
    follow(browser, browser.find_element(By.CSS_SELECTOR, "form[action='/console/logout'] button"))
    assert "/console/login" in browser.current_url
    browser.get(console.url + "/console/alarms")
    assert "/console/login" in browser.current_url
