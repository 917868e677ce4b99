"""Issue 24 item 5: only authenticated time moves the expiry high-water mark, by a bounded step.

The platform's `Date` header is not authenticated (plain HTTP by default): a
far-future one from anything in the middle must not make every later bundle
"expired". A technician can reset the mark, which raises an alarm.
"""
from __future__ import annotations

import json
from email.utils import format_datetime
from datetime import datetime, timezone
from types import SimpleNamespace

from kiosk import config
from kiosk.store import Store
from kiosk.sync.config_apply import ConfigApplier
from kiosk.sync.config_pull import ConfigPull
from tests.conftest import run_kiosk
from tests.config_bundle.bundlekit import DAY, T0, signed

YEAR = 365 * DAY


class _Answers:
    """A stand-in for the central client: answers config polls with what the test queued."""

    kiosk_id = "demo-hall-k01"
    base = "http://127.0.0.1:9"

    def __init__(self, *responses):
        self.responses = list(responses)

    def _request(self, method, path, headers=None, ok=()):
        return self.responses.pop(0)


class _State(dict):
    def set(self, k, v):
        self[k] = v


def _resp(status, content=b"", date=None, etag=None):
    headers = {}
    if date is not None:
        headers["Date"] = format_datetime(datetime.fromtimestamp(date, timezone.utc), usegmt=True)
    if etag:
        headers["ETag"] = etag
    return SimpleNamespace(status_code=status, headers=headers, content=content)


def test_a_far_future_date_header_on_a_304_does_not_expire_later_bundles(kiosk):
    applier = kiosk.applier()
    pull = ConfigPull(_Answers(_resp(304, date=T0 + 50 * YEAR)), _State(), applier)
    assert pull.pull() is None
    # a valid bundle from a USB stick, a day later
    kiosk.clock.t = T0 + DAY
    out = kiosk.apply(signed(kiosk.key, 1, issued=T0, expires=T0 + 30 * DAY))
    assert out.result == "applied", out.text()
    assert kiosk.status()["time_high_water"] < "2027"


def test_a_date_header_on_a_new_bundle_is_not_trusted_either(kiosk):
    pull = ConfigPull(_Answers(_resp(200, signed(kiosk.key, 1), date=T0 + 50 * YEAR, etag='"a"')),
                      _State(), kiosk.applier())
    assert pull.pull().result == "applied"
    assert kiosk.apply(signed(kiosk.key, 2, issued=T0, expires=T0 + 30 * DAY)).result == "applied"


def test_a_signed_issue_time_far_ahead_moves_the_mark_at_most_a_day_past_the_clock(kiosk):
    # an operator's machine with a clock 10 years ahead signs a bundle: it is authentic, but its time is not sane
    out = kiosk.apply(signed(kiosk.key, 1, issued=T0 + 10 * YEAR, expires=T0 + 10 * YEAR + 30 * DAY))
    assert out.result == "applied"
    status = kiosk.status()
    mark = datetime.strptime(status["time_high_water"], "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=timezone.utc)
    assert mark.timestamp() == T0 + DAY
    # so a correct bundle signed next is not judged against the year of the mistake
    assert kiosk.apply(signed(kiosk.key, 2, issued=T0, expires=T0 + 30 * DAY)).result == "applied"


def test_reset_time_brings_the_mark_back_to_the_clock_and_raises_an_alarm_cleared_by_the_next_apply(kiosk, tmp_path):
    mark_file = config.load(kiosk.config).data_path / "config" / "clock.json"
    mark_file.parent.mkdir(parents=True, exist_ok=True)
    far = T0 + 50 * YEAR
    mark_file.write_text(json.dumps({"high_water": far, "source": "a far-future clock", "at": "2076"}))
    out = kiosk.apply(signed(kiosk.key, 1, issued=T0, expires=T0 + 30 * DAY))
    assert out.code == "expired"

    r = run_kiosk("config", "reset-time", "--json", config=kiosk.config)
    assert r.returncode == 0, r.stderr
    doc = json.loads(r.stdout)
    assert doc["previous"].startswith("2076")
    assert doc["alarm"] == "config:time_mark_reset"
    assert json.loads(mark_file.read_text())["high_water"] < far

    kiosk.clock.t = datetime.now(timezone.utc).timestamp()
    fresh = signed(kiosk.key, 2, issued=kiosk.clock.t - DAY, expires=kiosk.clock.t + 30 * DAY)
    assert ConfigApplier(config.load(kiosk.config), now=kiosk.clock).apply_bytes(fresh).result == "applied"
    conn = Store.from_settings(config.load(kiosk.config)).connect()
    try:
        alarms = [json.loads(b) for (b,) in conn.execute("SELECT body FROM outbox WHERE kind='alarm'")]
        active = [k for (k,) in conn.execute("SELECT key FROM alarms")]
    finally:
        conn.close()
    assert any(a["device"] == "config" and a["code"] == "time_mark_reset" and a["state"] == "raised" for a in alarms)
    # raised when reset (the platform hears of it), cleared by the next bundle applied
    assert "config:time_mark_reset" not in active
    assert any(a["code"] == "time_mark_reset" and a["state"] == "cleared" for a in alarms)
