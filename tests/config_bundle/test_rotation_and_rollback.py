"""Key rotation is a signed step by the current keys; a failed health check puts the previous config back."""
from __future__ import annotations

import json

from kiosk import config
from kiosk.store import Store
from kiosk.wire import bundle
from kiosk.sync.config_apply import ConfigApplier
from tests.config_bundle.bundlekit import rotation, signed


def new_key(tmp_path, name):
    bundle.write_keypair(tmp_path / name)
    return bundle.load_private_key(tmp_path / name / "operator.key")


def test_a_rotation_signed_by_the_current_key_pins_the_new_set(kiosk, tmp_path):
    new = new_key(tmp_path, "new")
    out = kiosk.apply(rotation([kiosk.key], [new.public_key()], 1).to_bytes())
    assert out.result == "rotated"
    assert kiosk.status()["trust"] == {"generation": 1, "threshold": 1, "keyids": [bundle.keyid(new.public_key())]}
    assert kiosk.apply(signed(new, 2)).result == "applied"
    old = kiosk.apply(signed(kiosk.key, 3))  # the rotated-out key no longer counts
    assert (old.result, old.code) == ("rejected", "unknown_key")
    assert kiosk.hall() == "Hall v2"


def test_a_rotation_signed_by_a_key_that_is_not_trusted_is_refused(kiosk, tmp_path, stranger_key):
    out = kiosk.apply(rotation([stranger_key], [stranger_key.public_key()], 1).to_bytes())
    assert (out.result, out.code) == ("rejected", "rotation_unknown_key")
    assert kiosk.status()["trust"]["generation"] == 0
    assert kiosk.apply(signed(stranger_key, 2)).code == "unknown_key"


def test_a_replayed_older_rotation_is_refused_and_the_same_one_again_changes_nothing(kiosk, tmp_path):
    k1, k2 = new_key(tmp_path, "k1"), new_key(tmp_path, "k2")
    r1 = rotation([kiosk.key], [k1.public_key()], 1)
    r2 = rotation([k1], [k2.public_key()], 2)
    assert kiosk.apply(r1.to_bytes()).result == "rotated"
    assert kiosk.apply(r2.to_bytes()).result == "rotated"
    assert kiosk.apply(r2.to_bytes()).result == "unchanged"
    # r1 again: signed by a key that is no longer trusted
    assert kiosk.apply(r1.to_bytes()).code == "rotation_unknown_key"
    # a generation not above the pinned one, even when signed by the current key
    assert kiosk.apply(rotation([k2], [kiosk.key.public_key()], 2).to_bytes()).code == "stale_rotation"
    assert kiosk.status()["trust"]["keyids"] == [bundle.keyid(k2.public_key())]


def test_a_kiosk_that_missed_rotations_follows_the_chain_carried_by_the_bundle(kiosk, tmp_path):
    k1, k2 = new_key(tmp_path, "k1"), new_key(tmp_path, "k2")
    chain = [rotation([kiosk.key], [k1.public_key()], 1), rotation([k1], [k2.public_key()], 2)]
    out = kiosk.apply(signed(k2, 5, rotations=chain))
    assert out.result == "applied"
    assert kiosk.status()["trust"]["generation"] == 2


def test_a_forged_rotation_in_the_chain_is_not_followed(kiosk, tmp_path, stranger_key):
    chain = [rotation([stranger_key], [stranger_key.public_key()], 1)]
    out = kiosk.apply(signed(stranger_key, 5, rotations=chain))
    assert out.code == "unknown_key"
    assert kiosk.status()["trust"]["generation"] == 0


def test_a_rotation_to_two_keys_with_threshold_two_needs_both_signatures(kiosk, tmp_path):
    a, b = new_key(tmp_path, "a"), new_key(tmp_path, "b")
    assert kiosk.apply(rotation([kiosk.key], [a.public_key(), b.public_key()], 1, threshold=2).to_bytes()).ok
    one = kiosk.apply(signed(a, 2))
    assert one.code == "bad_signature" and "needs 2" in one.reason
    assert kiosk.apply(signed([a, b], 2)).result == "applied"


def test_a_failed_health_check_rolls_back_to_the_previous_config(kiosk):
    assert kiosk.apply(signed(kiosk.key, 1)).result == "applied"
    seen = []

    def ui_check(settings):
        seen.append(settings.kiosk.hall)
        return "the home screen did not build"

    out = kiosk.apply(signed(kiosk.key, 2), health_checks=[ui_check])
    assert (out.result, out.code, out.current_version) == ("rolled_back", "health_check_failed", 1)
    assert seen == ["Hall v2"]  # the check saw the new config, from disk
    assert kiosk.hall() == "Hall v1"
    st = kiosk.status()
    assert (st["version"], st["state"]) == (1, "rolled_back")
    assert "home screen" in st["last_rejection"]["reason"]
    # the same bundle is not taken again; a corrected one with a higher version is
    assert kiosk.apply(signed(kiosk.key, 2)).code == "rolled_back_before"
    assert kiosk.apply(signed(kiosk.key, 3)).result == "applied"


def test_a_health_hook_that_raises_counts_as_failed_and_the_first_bundle_rolls_back_to_the_file(kiosk):
    def broken(settings):
        raise RuntimeError("boom")

    out = kiosk.apply(signed(kiosk.key, 1), health_checks=[broken])
    assert out.result == "rolled_back" and "boom" in out.reason
    assert kiosk.hall() == "示例政务服务中心 24小时自助服务区"
    assert kiosk.status()["version"] is None


def test_a_rollback_is_reported_as_an_alarm_transaction(kiosk):
    settings = config.load(kiosk.config)
    ConfigApplier(settings, now=kiosk.clock, health_checks=[lambda s: False]).apply_bytes(signed(kiosk.key, 1))
    conn = Store.from_settings(settings).connect()
    rows = [json.loads(r[0]) for r in conn.execute("SELECT body FROM outbox WHERE kind='alarm'")]
    assert [(r["device"], r["code"], r["state"]) for r in rows] == [("config", "rolled_back", "raised")]
    assert "health_check_failed" in rows[0]["detail"]


def test_a_write_that_fails_mid_apply_leaves_the_previous_config(kiosk, monkeypatch):
    from kiosk.sync import config_apply
    assert kiosk.apply(signed(kiosk.key, 1)).result == "applied"
    real = config_apply.write_atomic

    def disk_full_at_the_switch(path, data, step=None, **hooks):
        if step == "switch":
            raise OSError(28, "No space left on device")
        return real(path, data, step, **hooks)

    monkeypatch.setattr(config_apply, "write_atomic", disk_full_at_the_switch)
    out = kiosk.apply(signed(kiosk.key, 2))
    assert (out.result, out.code) == ("rejected", "write_failed") and "No space" in out.reason
    monkeypatch.undo()
    assert kiosk.hall() == "Hall v1"
    st = kiosk.status()
    assert st["version"] == 1 and not st["trial"]
    assert kiosk.apply(signed(kiosk.key, 2)).result == "applied"
