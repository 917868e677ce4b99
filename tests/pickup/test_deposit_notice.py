"""What a deposit tells the platform for the applicant's notice: the code sealed to the notifier, the
times, the hall and the place, the case's item and hold time; and where the plain code never is."""
from __future__ import annotations

import logging
from datetime import datetime

import pytest

from kiosk.core.locker.model import DAY_S, LockerRuleError, code_hash
from kiosk.wire import sealed
from tests.pickup.conftest import HASH_KEY, PLACE, make_kit, notice_config


@pytest.fixture
def notifier():
    return sealed.new_private_key()


def kit_for(tmp_path, key, **kw):
    return make_kit(tmp_path, edit=notice_config(key, **kw))


@pytest.fixture
def sealing_kit(tmp_path, notifier):
    k = kit_for(tmp_path, sealed.public_key_text(notifier.public_key()))
    yield k
    for dev in k.closers:
        dev.close()


def test_a_deposit_carries_its_code_sealed_to_the_notifier_and_bound_to_the_deposit(sealing_kit, notifier):
    kit = sealing_kit
    door, code = kit.deposit_item("BJ2026-0001")
    [deposit] = kit.outbox("deposit")
    hashed = code_hash(HASH_KEY, code)
    assert deposit["code_hash"] == hashed
    bound = sealed.binding("demo-hall-k01", "BJ2026-0001", hashed)
    assert sealed.open_sealed(notifier, deposit["sealed_code"], bound) == code
    # moved into another deposit (another case, another kiosk) it does not open
    for other in (sealed.binding("demo-hall-k01", "BJ2026-0002", hashed),
                  sealed.binding("demo-hall-k02", "BJ2026-0001", hashed)):
        with pytest.raises(sealed.SealError):
            sealed.open_sealed(notifier, deposit["sealed_code"], other)
    assert kit.service.site.sends_notices


def test_a_deposit_says_when_where_and_until_when_in_the_halls_local_time(sealing_kit):
    kit = sealing_kit
    kit.deposit_item("BJ2026-0001")
    [deposit] = kit.outbox("deposit")
    deposited = datetime.fromisoformat(deposit["deposited_at"])
    due = datetime.fromisoformat(deposit["due_at"])
    assert deposit["deposited_at"].endswith("+08:00") and deposit["due_at"].endswith("+08:00")
    item = kit.model().occupied()[deposit["door"]]
    assert deposited.timestamp() == pytest.approx(item.deposited_at, abs=1)
    assert (due - deposited).total_seconds() == pytest.approx(7 * DAY_S, abs=1)   # [pickup] hold_days
    assert deposit["hall"] == "示例政务服务中心 24小时自助服务区" and deposit["place"] == PLACE
    assert deposit["item_name"] is None      # not looked up: the platform has the case number


def test_an_item_keeps_the_hold_time_of_its_case(sealing_kit):
    kit = sealing_kit
    model = kit.model()
    item = model.reserve(case_number="BJ-77", size="small", holder_hash=None, staff_id="1001",
                         item_name="不动产权证书", hold_days=3)
    assert item.hold_days == 3 and item.item_name == "不动产权证书"
    item, code = model.complete_deposit(item.id)
    assert item.due_at - item.deposited_at == pytest.approx(3 * DAY_S)
    [deposit] = kit.outbox("deposit")
    assert deposit["item_name"] == "不动产权证书"
    assert (datetime.fromisoformat(deposit["due_at"]) - datetime.fromisoformat(deposit["deposited_at"])
            ).total_seconds() == pytest.approx(3 * DAY_S, abs=1)
    kit.clock.advance(3 * DAY_S)
    assert [i.case_number for i in model.recallable()] == ["BJ-77"]   # overdue on its own deadline
    with pytest.raises(LockerRuleError):
        model.reserve(case_number="BJ-78", size="small", holder_hash=None, staff_id="1001", hold_days=0)


def test_without_a_notice_key_the_deposit_says_no_notice_can_be_sent(tmp_path):
    kit = kit_for(tmp_path, None)
    try:
        kit.deposit_item("BJ2026-0001")
        [deposit] = kit.outbox("deposit")
        assert deposit["sealed_code"] is None and not kit.service.site.sends_notices
        assert deposit["place"] == PLACE
    finally:
        for dev in kit.closers:
            dev.close()


def test_the_plain_code_is_nowhere_in_the_database_its_wal_the_outbox_or_the_log(tmp_path, notifier, caplog):
    # 8 digits: a chance run of 6 digits in the file's hex hashes cannot pass for the code
    kit = kit_for(tmp_path, sealed.public_key_text(notifier.public_key()), code_length=8)
    caplog.set_level(logging.DEBUG)
    try:
        codes = [kit.deposit_item(f"BJ2026-00{n}{n}")[1] for n in range(1, 4)]
        assert all(len(c) == 8 for c in codes)
        bodies = "\n".join(str(d) for d in kit.outbox())
        db = kit.store.path
        files = [p for p in (db, db.with_name(db.name + "-wal"), db.with_name(db.name + "-shm")) if p.exists()]
        assert db.with_name(db.name + "-wal") in files
        data = b"".join(p.read_bytes() for p in files)
        for code in codes:
            assert code not in bodies
            assert code.encode() not in data and code.encode("utf-16-le") not in data
            assert code not in caplog.text
        # the sealed codes are there, and open only with the notifier's key
        assert sum(d["sealed_code"] is not None for d in kit.outbox("deposit")) == 3
    finally:
        for dev in kit.closers:
            dev.close()


def test_the_ui_seals_a_code_in_a_child_and_never_loads_cryptography():
    """The UI checks the notice key as text and seals a deposit's code in a child process (the library takes
    some 10 MB resident); what the child sealed opens with the platform's private key for that deposit only."""
    import subprocess
    import sys
    from pathlib import Path

    from kiosk.wire import sealed

    private = sealed.new_private_key()
    key = sealed.public_key_text(private.public_key())
    script = (
        "import sys\n"
        "from kiosk.core.locker.model import LockerSite\n"
        "from kiosk.wire.sealed import public_key_raw\n"
        f"public_key_raw({key!r})\n"
        f"site = LockerSite('demo-hall-k01', notice_key={key!r})\n"
        "print(site.seal('48213907', 'CASE-1', 'h' * 64))\n"
        "print(sorted({m.split('.')[0] for m in sys.modules if m.split('.')[0] == 'cryptography'}))\n")
    r = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120,
                       cwd=Path(__file__).resolve().parents[2])
    assert r.returncode == 0, r.stderr
    value, loaded = r.stdout.splitlines()
    assert loaded == "[]"
    assert sealed.open_sealed(private, value, sealed.binding("demo-hall-k01", "CASE-1", "h" * 64)) == "48213907"
    with pytest.raises(sealed.SealError):
        sealed.open_sealed(private, value, sealed.binding("demo-hall-k01", "CASE-2", "h" * 64))
