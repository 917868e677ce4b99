"""Alarms: one transaction when raised, one when cleared, nothing in between; listed while active."""
import pytest

from kiosk import store
from kiosk.alarms import Alarms
from kiosk.core.health import HealthBoard
from kiosk.sync.outbox import Outbox


@pytest.fixture
def conn(tmp_path):
    c = store.connect(tmp_path / "kiosk.db")
    store.migrate(c)
    yield c
    c.close()


def alarm_rows(outbox):
    return [e.data for e in outbox.items("pending", 1000) if e.kind == "alarm"]


def test_a_fault_seen_many_times_is_one_alarm_until_it_clears(conn):
    outbox = Outbox(conn)
    alarms = Alarms(conn, outbox)
    assert alarms.raise_alarm("receipt_printer", "paper_out", "sensor says empty")
    for _ in range(50):
        assert not alarms.raise_alarm("receipt_printer", "paper_out", "sensor says empty")
    assert alarms.clear("receipt_printer", "paper_out")
    assert not alarms.clear("receipt_printer", "paper_out")
    rows = alarm_rows(outbox)
    assert [(r["code"], r["state"]) for r in rows] == [("paper_out", "raised"), ("paper_out", "cleared")]


def test_active_alarms_are_listed_with_severity(conn):
    alarms = Alarms(conn, Outbox(conn))
    alarms.raise_alarm("receipt_printer", "paper_near_end")
    alarms.raise_alarm("locker", "door_left_open", "door 7")
    active = {a.key: a for a in alarms.active()}
    assert active["receipt_printer:paper_near_end"].severity == "warning"
    assert active["locker:door_left_open"].severity == "fault"
    assert active["locker:door_left_open"].detail == "door 7"


def test_reconcile_raises_the_new_and_clears_the_gone(conn):
    outbox = Outbox(conn)
    alarms = Alarms(conn, outbox)
    alarms.reconcile("receipt_printer", {"paper_out": None, "cover_open": None})
    alarms.reconcile("receipt_printer", {"cover_open": None})
    assert [a.code for a in alarms.active()] == ["cover_open"]
    assert [(r["code"], r["state"]) for r in alarm_rows(outbox)] == [
        ("paper_out", "raised"), ("cover_open", "raised"), ("paper_out", "cleared")]


def test_an_alarm_detail_with_an_id_number_is_masked_not_refused(conn):
    outbox = Outbox(conn)
    Alarms(conn, outbox).raise_alarm("idcard", "reader_offline", "last card 11010519491231002X")
    assert alarm_rows(outbox)[0]["detail"] == "last card 110***********002X"


def test_the_alarm_row_and_its_transaction_roll_back_together(conn):
    class BrokenOutbox:
        def enqueue(self, conn, kind, data):
            raise RuntimeError("outbox refused")
    alarms = Alarms(conn, BrokenOutbox())
    with pytest.raises(RuntimeError):
        alarms.raise_alarm("locker", "board_offline")
    assert alarms.active() == []


def test_device_health_is_written_by_one_side_and_read_by_the_other(conn):
    HealthBoard(conn).report("receipt_printer", "escpos", "online", "paper_near_end")
    HealthBoard(conn).report("receipt_printer", "escpos", "offline", "paper_out")
    [d] = HealthBoard(conn).all()
    assert (d.state, d.detail) == ("offline", "paper_out")
    with pytest.raises(ValueError, match="state must be one of"):
        HealthBoard(conn).report("locker", "lock8a", "broken")


def test_an_outbox_over_its_cap_raises_one_alarm_and_clears_below_the_margin(conn, tmp_path):
    from kiosk.sync.agent import Capacity
    outbox = Outbox(conn)
    alarms = Alarms(conn, outbox)
    cap = Capacity(outbox, alarms, cap_items=100, data_dir=tmp_path, min_free_mb=1)
    ids = [outbox.record("probe", {"n": i}).seq for i in range(99)]
    cap.check()
    assert alarms.active() == []
    outbox.record("probe", {"n": 99})
    cap.check()
    cap.check()
    assert [a.key for a in alarms.active()] == ["outbox:over_cap"]
    outbox.settle(ids[:5], {}, {}, 0)   # 96 left (95 probes and the alarm): inside the margin, still raised
    cap.check()
    assert alarms.is_active("outbox", "over_cap")
    outbox.settle(ids[5:20], {}, {}, 0)
    cap.check()
    assert alarms.active() == []
    raised = [e.data["state"] for e in outbox.items("pending", 1000) if e.kind == "alarm"]
    assert raised == ["raised", "cleared"]


def test_a_data_dir_running_out_of_space_raises_an_alarm(conn, tmp_path):
    from kiosk.sync.agent import Capacity
    outbox = Outbox(conn)
    alarms = Alarms(conn, outbox)
    Capacity(outbox, alarms, cap_items=100, data_dir=tmp_path, min_free_mb=10 ** 9).check()  # an exabyte
    [alarm] = alarms.active()
    assert alarm.key == "outbox:disk_low" and "disk_alarm_free_mb" in alarm.detail
