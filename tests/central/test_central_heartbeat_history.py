"""How long the platform keeps kiosks' heartbeats: `[central] heartbeat_history_days` (30 by default; a
province keeps fewer), forgotten at most every HEARTBEAT_SWEEP_S, the latest of each kiosk always kept."""
from __future__ import annotations

import pytest

from kiosk.central import settings as platform_settings
from kiosk.central.db import HEARTBEAT_SWEEP_S, CentralDB

DAY = 86400


def test_heartbeats_older_than_the_history_are_forgotten_and_the_latest_kept(platform_db):
    now = [1_800_000_000.0]
    with CentralDB(platform_db, clock=lambda: now[0]) as db:
        db.heartbeat_keep_s = 2 * DAY
        db.add_kiosk("k1")
        db.add_kiosk("k2")
        db.record_heartbeat("k1", '{"n": 1}')
        db.record_heartbeat("k2", '{"n": 1}')
        now[0] += DAY
        db.record_heartbeat("k1", '{"n": 2}')
        now[0] += DAY + HEARTBEAT_SWEEP_S      # the first ones are now past two days
        db.record_heartbeat("k1", '{"n": 3}')
        assert [h["heartbeat"]["n"] for h in db.heartbeats("k1")] == [3, 2]
        assert db.heartbeats("k2") == []
        assert {k["kiosk_id"]: k["last_heartbeat"] for k in db.kiosks()} == {"k1": {"n": 3}, "k2": {"n": 1}}


def test_the_setting_is_read_and_a_bad_value_named(tmp_path):
    path = tmp_path / "central.toml"
    assert platform_settings.load(path).central.heartbeat_history_days == 30
    path.write_text("[central]\nheartbeat_history_days = 7\n")
    assert platform_settings.load(path).central.heartbeat_history_days == 7
    path.write_text("[central]\nheartbeat_history_days = 0\n")
    with pytest.raises(platform_settings.SettingsError, match=r"\[central\] heartbeat_history_days"):
        platform_settings.load(path)
