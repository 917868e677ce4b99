"""Verification fails closed: every bad bundle leaves the kiosk on its config, with the reason recorded."""
from __future__ import annotations

import base64
import json
import pytest

from kiosk import config
from kiosk.store import Store
from kiosk.wire import bundle
from kiosk.sync.config_apply import ConfigApplier, current_version, local_only_keys
from tests.config_bundle.bundlekit import DAY, T0, make_kiosk, payload, signed

ORIGINAL_HALL = "示例政务服务中心 24小时自助服务区"


def assert_kept(kiosk, outcome, code, hall=ORIGINAL_HALL):
    assert outcome.result == "rejected", outcome
    assert outcome.code == code, outcome
    assert kiosk.hall() == hall
    st = kiosk.status()
    assert st["state"] == "rejected"
    assert st["last_rejection"]["code"] == code and st["last_rejection"]["reason"]


def test_a_good_bundle_is_applied_and_every_process_loads_it(kiosk):
    out = kiosk.apply(signed(kiosk.key, 7, {"kiosk": {"hall": "新大厅", "idle_timeout_s": 120},
                                            "sync": {"interval_s": 2.5}}))
    assert out.result == "applied" and out.version == 7
    s = config.load(kiosk.config)
    assert (s.kiosk.hall, s.kiosk.idle_timeout_s, s.sync.interval_s) == ("新大厅", 120, 2.5)
    assert s.devices.locker.port == "sim://locker"  # device wiring untouched
    st = kiosk.status()
    assert (st["version"], st["state"], st["last_rejection"]) == (7, "applied", None)
    assert st["sha256"] == out.sha256
    assert current_version(s) == 7


def test_keys_a_bundle_leaves_out_return_to_the_local_file(kiosk):
    kiosk.apply(signed(kiosk.key, 1, {"kiosk": {"idle_timeout_s": 200}}))
    kiosk.apply(signed(kiosk.key, 2, {"kiosk": {"hall": "二号"}}))
    s = config.load(kiosk.config)
    assert (s.kiosk.hall, s.kiosk.idle_timeout_s) == ("二号", 90)


def test_a_forged_signature_is_rejected(kiosk):
    env = json.loads(signed(kiosk.key, 5))
    forged = payload(5, {"kiosk": {"hall": "Forged hall"}})
    env["payload"] = base64.b64encode(forged).decode()  # the genuine signature, another content
    out = kiosk.apply(json.dumps(env).encode())
    assert_kept(kiosk, out, "bad_signature")


def test_a_signature_over_another_payload_type_does_not_verify(kiosk):
    env = json.loads(signed(kiosk.key, 5))
    env["payloadType"] = bundle.ROTATE_TYPE
    out = kiosk.apply(json.dumps(env).encode())
    assert out.result == "rejected" and out.code == "rotation_bad_signature"
    assert kiosk.hall() == ORIGINAL_HALL


def test_a_bundle_signed_by_an_unknown_key_is_rejected(kiosk, stranger_key):
    assert_kept(kiosk, kiosk.apply(signed(stranger_key, 5)), "unknown_key")


def test_a_kiosk_without_a_readable_trusted_key_applies_nothing(tmp_path):
    k = make_kiosk(tmp_path / "k", **{r'^trusted_keys = .*$': 'trusted_keys = ["keys/missing.pub"]'})
    out = k.apply(signed(k.key, 1))
    assert_kept(k, out, "no_trusted_keys")
    assert "missing.pub" in out.reason


def test_a_bundle_for_another_kiosk_is_rejected(kiosk):
    assert_kept(kiosk, kiosk.apply(signed(kiosk.key, 5, targets=["other-hall-k02"])), "not_targeted")


def test_a_bundle_for_a_group_of_this_kiosk_is_applied(tmp_path):
    k = make_kiosk(tmp_path / "k", **{r'^(idle_warning_s = .*)$': r'\1\ngroups = ["east-wing"]'})
    out = k.apply(signed(k.key, 3, targets=["east-wing"]))
    assert out.result == "applied" and k.hall() == "Hall v3"


def test_a_replayed_older_version_is_rejected(kiosk):
    old = signed(kiosk.key, 4)
    assert kiosk.apply(old).result == "applied"
    assert kiosk.apply(signed(kiosk.key, 5)).result == "applied"
    assert_kept(kiosk, kiosk.apply(old), "stale_version", hall="Hall v5")
    assert kiosk.status()["version"] == 5


def test_the_same_version_and_content_again_changes_nothing(kiosk):
    raw = signed(kiosk.key, 4)
    assert kiosk.apply(raw).result == "applied"
    again = kiosk.apply(raw)
    assert again.result == "unchanged" and again.ok
    assert kiosk.status()["state"] == "applied"


def test_the_same_version_with_other_content_is_refused_with_an_alarm(kiosk):
    assert kiosk.apply(signed(kiosk.key, 4)).result == "applied"
    out = kiosk.apply(signed(kiosk.key, 4, {"kiosk": {"hall": "Sneaky"}}))
    assert_kept(kiosk, out, "version_conflict", hall="Hall v4")
    conn = Store.from_settings(config.load(kiosk.config)).connect()
    # the default reporter: an alarm transaction in the outbox
    ConfigApplier(config.load(kiosk.config), now=kiosk.clock).apply_bytes(signed(kiosk.key, 4, {"kiosk": {"hall": "X"}}))
    rows = [json.loads(r[0]) for r in conn.execute("SELECT body FROM outbox WHERE kind='alarm'")]
    assert any(r["device"] == "config" and r["code"] == "version_conflict" and r["state"] == "raised" for r in rows)


def test_an_expired_bundle_is_rejected(kiosk):
    kiosk.clock.t = T0 + 10 * DAY
    out = kiosk.apply(signed(kiosk.key, 5, expires=T0 + 9 * DAY))
    assert_kept(kiosk, out, "expired")


def test_a_clock_set_back_a_year_does_not_revive_an_expired_bundle(kiosk):
    assert kiosk.apply(signed(kiosk.key, 1, issued=T0, expires=T0 + 30 * DAY)).result == "applied"
    stale = signed(kiosk.key, 2, issued=T0 - 20 * DAY, expires=T0 - 10 * DAY)  # never applied, expired
    kiosk.clock.t = T0 - 365 * DAY  # the local clock is set back a year
    out = kiosk.apply(stale)
    assert_kept(kiosk, out, "expired", hall="Hall v1")
    assert "2026-06-01" in out.reason  # judged against the latest time seen, not the clock


def test_a_fresh_kiosk_with_a_clock_a_year_back_still_refuses_an_older_bundle_as_stale(kiosk):
    # a signed issue time moves the expiry mark at most a day past the kiosk's clock (issue 24:
    # one bundle signed on a machine with a wild clock must not expire every later one), so a
    # kiosk whose clock is far behind judges expiry by its clock; the version order still holds
    kiosk.clock.t = T0 - 365 * DAY
    assert kiosk.apply(signed(kiosk.key, 2, issued=T0, expires=T0 + 30 * DAY)).result == "applied"
    out = kiosk.apply(signed(kiosk.key, 1, issued=T0 - 100 * DAY, expires=T0 - DAY))
    assert out.code == "stale_version"


def test_a_bundle_needing_newer_software_is_rejected(kiosk):
    assert_kept(kiosk, kiosk.apply(signed(kiosk.key, 5, min_software="99.0")), "software_too_old")
    assert kiosk.apply(signed(kiosk.key, 6, min_software="0.1.0")).result == "applied"


@pytest.mark.parametrize("settings, named", [
    ({"kiosk": {"idle_timeout_s": 5}}, "kiosk.idle_timeout_s"),
    ({"kiosk": {"language": "fr"}}, "kiosk.language"),
    ({"kiosk": {"hall": 42}}, "kiosk.hall"),
    ({"sync": {"interval_s": "fast"}}, "sync.interval_s"),
    ({"sync": {"no_such_key": 1}}, "sync.no_such_key"),
])
def test_invalid_settings_are_rejected_naming_the_key(kiosk, settings, named):
    out = kiosk.apply(signed(kiosk.key, 5, settings))
    assert_kept(kiosk, out, "invalid_settings")
    assert named in out.reason


@pytest.mark.parametrize("settings, named", [
    ({"devices": {"locker": {"port": "/dev/ttyUSB9"}}}, "devices.locker"),
    ({"kiosk": {"id": "someone-else"}}, "kiosk.id"),
    ({"kiosk": {"data_dir": "/tmp"}}, "kiosk.data_dir"),
    ({"management": {"trusted_keys": ["/tmp/evil.pub"]}}, "management"),
    ({"central": {"url": "http://evil.example"}}, "central.url"),
    ({"privacy": {"hash_key": "x" * 20}}, "privacy"),
])
def test_device_wiring_identity_and_secrets_are_refused(kiosk, settings, named):
    out = kiosk.apply(signed(kiosk.key, 5, settings))
    assert_kept(kiosk, out, "local_only_setting")
    assert named in out.reason


def test_the_payment_timeout_is_remote_but_the_payment_port_is_not():
    assert local_only_keys({"devices": {"payment": {"result_timeout_s": 60}}}) == []
    assert local_only_keys({"devices": {"payment": {"port": "x"}}}) == ["devices.payment.port"]


def test_a_truncated_body_is_rejected(kiosk):
    raw = signed(kiosk.key, 5)
    for cut in (0, 1, len(raw) // 2, len(raw) - 3):
        out = kiosk.apply(raw[:cut])
        assert_kept(kiosk, out, "malformed")


def test_the_toml_source_instead_of_the_signed_bundle_is_named(kiosk):
    out = kiosk.apply(b'version = 7\nexpires = "2027-01-31T00:00:00Z"\n')
    assert out.code == "malformed" and "not valid JSON" in out.reason


def test_a_50_mb_body_is_refused_before_anything_is_parsed(kiosk, monkeypatch):
    def no_parsing(*a, **kw):
        raise AssertionError("a body over the limit was parsed")
    monkeypatch.setattr(bundle.json, "loads", no_parsing)
    body = b"{" + b" " * (50 * 1024 * 1024)
    out = kiosk.apply(body)
    assert out.code == "too_large" and str(len(body)) in out.reason
    monkeypatch.undo()
    assert kiosk.hall() == ORIGINAL_HALL


def test_a_50_mb_file_is_refused_without_reading_it(kiosk, tmp_path, monkeypatch):
    big = tmp_path / "big.json"
    with open(big, "wb") as f:
        f.truncate(50 * 1024 * 1024)  # sparse: the size is what counts
    monkeypatch.setattr(bundle.json, "loads", lambda *a, **k: (_ for _ in ()).throw(AssertionError("parsed")))
    out = kiosk.applier().apply_file(big)
    assert out.code == "too_large"


def test_a_rejection_raises_one_alarm_and_the_next_good_apply_clears_it(kiosk, stranger_key):
    settings = config.load(kiosk.config)
    applier = ConfigApplier(settings, now=kiosk.clock)
    applier.apply_bytes(signed(stranger_key, 5))
    applier.apply_bytes(signed(stranger_key, 6))  # the same fault again: no second transaction
    applier.apply_bytes(signed(kiosk.key, 7))
    conn = Store.from_settings(settings).connect()
    rows = [json.loads(r[0]) for r in conn.execute("SELECT body FROM outbox WHERE kind='alarm' ORDER BY seq")]
    config_rows = [(r["code"], r["state"]) for r in rows if r["device"] == "config"]
    assert config_rows == [("rejected", "raised"), ("rejected", "cleared")]
    assert "unknown_key" in rows[0]["detail"]
    assert conn.execute("SELECT count(*) FROM alarms").fetchone()[0] == 0


def test_a_damaged_overlay_never_stops_the_kiosk(kiosk):
    kiosk.apply(signed(kiosk.key, 1))
    overlay = config.load(kiosk.config).data_path / "config" / "applied.json"
    overlay.write_text("{not json")
    assert kiosk.hall() == ORIGINAL_HALL  # kiosk.toml alone, with an error logged


def test_history_keeps_the_last_configs(kiosk):
    for v in range(1, 9):
        assert kiosk.apply(signed(kiosk.key, v)).result == "applied"
    st = kiosk.status()
    assert len(st["history"]) == 5 and st["history"][-1].startswith("0000000008-")


def test_the_heartbeat_reads_the_version_without_the_database(kiosk):
    kiosk.apply(signed(kiosk.key, 3))
    s = config.load(kiosk.config)
    (s.data_path / "kiosk.db").unlink()
    assert current_version(s) == 3


def test_service_policy_is_remote_and_device_wiring_stays_local():
    from kiosk.sync.config_apply import local_only_keys

    assert local_only_keys({"fees": {"documents": {"per_page_fen": 100}}, "staff": {"members": []},
                            "pickup": {"hold_days": 5}, "technician": {"pin_hashes": []}}) == []
    assert local_only_keys({"technician": {"usb_mounts": ["/mnt/*"]},
                            "devices": {"locker": {"port": "/dev/ttyS0"}}}) == \
        ["technician.usb_mounts", "devices.locker.port"]


def test_where_the_locker_stands_and_the_notice_key_are_remote_but_its_wiring_is_not():
    assert local_only_keys({"devices": {"locker": {"place": "一楼东侧24小时自助区"}},
                            "central": {"notice_key": "x25519:" + "A" * 43}}) == []
    assert local_only_keys({"devices": {"locker": {"place": "x", "boards": []}}}) == ["devices.locker.boards"]


def test_a_bundle_switches_services_off_and_an_unknown_service_is_refused_naming_the_known_ones(kiosk):
    assert local_only_keys({"services": {"disabled": ["tickets"]}}) == []
    out = kiosk.apply(signed(kiosk.key, 3, {"services": {"disabled": ["handin", "tickets"]}}))
    assert out.result == "applied", out
    assert config.load(kiosk.config).services.disabled == ["handin", "tickets"]
    out = kiosk.apply(signed(kiosk.key, 4, {"services": {"disabled": ["tikets"]}}))
    assert out.result == "rejected" and out.code == "invalid_settings"
    assert "services.disabled.0" in out.reason and "pickup, handin, guides, documents, forms, progress, fees, tickets" \
        in out.reason
    assert config.load(kiosk.config).services.disabled == ["handin", "tickets"]   # kept


def test_the_agent_stops_its_loop_to_restart_on_a_newly_applied_config(tmp_path):
    """The agent's intervals and timeouts come from the config: a new version ends the loop (run() then
    starts the agent again on it); the same version again does nothing."""
    import threading

    from kiosk import config as kiosk_config
    from kiosk.commands.agent import restart_on_new_config
    from tests.config_bundle.bundlekit import make_kiosk

    kiosk = make_kiosk(tmp_path / "k")
    stop, restart = threading.Event(), {}
    follow = restart_on_new_config(kiosk_config.load(kiosk.config), stop, restart)
    follow()
    assert not stop.is_set()
    outcome = kiosk.applier().apply_bytes(signed(kiosk.key, 5, {"sync": {"interval_s": 2.0}}))
    assert outcome.ok, outcome.text()
    follow()
    assert stop.is_set() and restart == {"version": 5}


def test_a_config_that_changes_nothing_the_agent_uses_leaves_it_running(tmp_path):
    import threading

    from kiosk import config as kiosk_config
    from kiosk.commands.agent import restart_on_new_config
    from tests.config_bundle.bundlekit import make_kiosk

    kiosk = make_kiosk(tmp_path / "k")
    stop, restart = threading.Event(), {}
    follow = restart_on_new_config(kiosk_config.load(kiosk.config), stop, restart)
    outcome = kiosk.applier().apply_bytes(signed(kiosk.key, 6, {"kiosk": {"hall": "东城区政务服务中心"}}))
    assert outcome.ok, outcome.text()
    follow()
    assert not stop.is_set() and restart == {}
