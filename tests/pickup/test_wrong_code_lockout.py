"""The wrong-code lockout under a long attack: it doubles up to `[pickup] lockout_max_s` and stays
there, the count goes on, and the `pickup:wrong_codes` alarm tells the hall (issue 24, item 1)."""
from __future__ import annotations

import sqlite3

import pytest

from kiosk import config
from kiosk.config import ConfigError
from kiosk.alarms import Alarms
from kiosk.core.locker.model import DoorPlan, LockerModel, lockout_seconds
from kiosk.store import migrate
from kiosk.sync.outbox import Outbox
from tests.clocks import ManualClock
from tests.conftest import DEFAULT_CONFIG, write_config

HASH_KEY = "demo-deployment-key-change-me-000000"


def memory_model(clock: ManualClock) -> LockerModel:
    """The real model on an in-memory store: 100,000 commits in seconds, not fsyncs."""
    conn = sqlite3.connect(":memory:", isolation_level=None)
    conn.row_factory = sqlite3.Row
    migrate(conn)
    settings = config.load(DEFAULT_CONFIG)
    outbox = Outbox(conn, now=clock)
    return LockerModel(conn, DoorPlan(24), outbox=outbox, alarms=Alarms(conn, outbox, now=clock),
                       hash_key=HASH_KEY, rules=settings.pickup, clock=clock)


def stored_wrong(model: LockerModel) -> int:
    return model.conn.execute("SELECT wrong FROM locker_lockout WHERE scope='pickup'").fetchone()["wrong"]


def test_100000_wrong_codes_keep_pickup_locked_for_lockout_max_s_and_raise_the_alarm():
    clock = ManualClock(1_000_000.0)
    model = memory_model(clock)
    assert (model.rules.wrong_codes_before_lockout, model.rules.lockout_base_s, model.rules.lockout_max_s) \
        == (5, 60, 3600)
    seen = []
    for n in range(1, 100_001):
        locked, _ = model.wrong_code()      # before the cap: OverflowError at the 1,030th
        if n <= 12 or n % 25_000 == 0:
            seen.append(locked)
        if n < 100_000:
            clock.t += locked             # the next try comes when the lockout ends, as the keypad allows
    assert seen[:12] == [0, 0, 0, 0, 60, 120, 240, 480, 960, 1920, 3600, 3600]
    assert seen[12:] == [3600] * 4
    assert model.locked_for() == 3600
    assert stored_wrong(model) == 100_000
    assert model.alarms.is_active("pickup", "wrong_codes")
    raised = [a for a in model.alarms.active() if a.code == "wrong_codes"]
    assert "100000 wrong pickup codes" in raised[0].detail
    alarms = model.conn.execute("SELECT COUNT(*) FROM outbox WHERE kind='alarm'").fetchone()[0]
    assert alarms == 1                      # raised once, not once a wrong code


def test_a_right_code_clears_the_count_the_lockout_and_the_wrong_codes_alarm():
    clock = ManualClock(1_000_000.0)
    model = memory_model(clock)
    for _ in range(11):
        clock.t += model.wrong_code()[0]
    assert model.alarms.is_active("pickup", "wrong_codes")
    model.good_code()
    assert model.locked_for() == 0 and not model.alarms.is_active("pickup", "wrong_codes")
    assert model.wrong_code() == (0, 4)


def test_the_alarm_waits_for_the_cap():
    clock = ManualClock(1_000_000.0)
    model = memory_model(clock)
    for _ in range(10):                     # 60 .. 1920 s: still doubling
        clock.t += model.wrong_code()[0]
    assert not model.alarms.is_active("pickup", "wrong_codes")


@pytest.mark.parametrize("wrong, expected", [
    (1, 0), (4, 0), (5, 60), (6, 120), (10, 1920), (11, 3600), (1_030, 3600), (10 ** 18, 3600)])
def test_lockout_seconds_double_from_the_base_and_stop_at_the_cap(wrong, expected):
    assert lockout_seconds(wrong, 5, 60.0, 3600.0) == expected


def test_a_base_lockout_at_the_cap_locks_for_the_cap_from_the_first_lockout():
    assert lockout_seconds(3, 3, 600.0, 600.0) == 600 and lockout_seconds(10 ** 9, 3, 600.0, 600.0) == 600


def test_lockout_max_s_below_the_base_lockout_names_the_key_and_the_fix(tmp_path):
    path = write_config(tmp_path, **{r"^lockout_base_s = 60$": "lockout_base_s = 900",
                                     r"^lockout_max_s = 3600.*$": "lockout_max_s = 600"})
    with pytest.raises(ConfigError) as err:
        config.load(path)
    text = str(err.value)
    assert f"{path}: pickup.lockout_max_s: the longest lockout is shorter than the first " \
           "(lockout_base_s = 900 s): set lockout_max_s to at least lockout_base_s, got 600.0" in text


def test_the_default_config_caps_the_lockout_at_an_hour():
    assert config.load(DEFAULT_CONFIG).pickup.lockout_max_s == 3600
