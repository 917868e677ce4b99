"""Device status and failed commands become alarm transactions: once when raised, once when cleared."""
import pytest

from kiosk import store
from kiosk.alarms import Alarms
from kiosk.core.device_alarms import AlarmDesk, DeviceAlarms, status_faults
from kiosk.sync.outbox import Outbox
from tests.clocks import ManualClock


@pytest.fixture
def conn(tmp_path):
    c = store.connect(tmp_path / "kiosk.db")
    store.migrate(c)
    yield c
    c.close()


def alarm_log(conn):
    return [(e.data["device"], e.data["code"], e.data["state"]) for e in Outbox(conn).items("pending", 1000)
            if e.kind == "alarm"]


@pytest.mark.parametrize("kind,state,detail,code", [
    ("receipt_printer", "online", "paper_near_end", "paper_near_end"),
    ("receipt_printer", "offline", "paper_out", "paper_out"),
    ("receipt_printer", "offline", "cover_open", "cover_open"),
    ("receipt_printer", "offline", "no_answer", "printer_offline"),
    ("document_printer", "offline", "offline", "printer_offline"),
    ("locker", "offline", "no_answer", "board_offline"),
    ("idcard", "offline", "no_answer", "reader_offline"),
    ("idcard", "no_device", "no_device", "reader_offline"),
    ("payment", "offline", "no_answer", "terminal_offline"),
    ("scanner", "offline", "no_answer", "scanner_offline"),
])
def test_each_device_fault_has_its_alarm_code(kind, state, detail, code):
    assert list(status_faults(kind, state, detail)) == [code]


def test_online_and_busy_are_not_faults():
    assert status_faults("locker", "online", "door_open:3") == {}
    assert status_faults("payment", "busy", "transaction_in_progress") == {}


def test_paper_out_polled_many_times_is_one_alarm_then_one_clear(conn):
    d = DeviceAlarms(Alarms(conn, Outbox(conn)))
    for _ in range(20):
        d.observe("receipt_printer", "receipt_printer", "offline", "paper_out")
    d.observe("receipt_printer", "receipt_printer", "online", "")
    d.observe("receipt_printer", "receipt_printer", "online", "")
    assert alarm_log(conn) == [("receipt_printer", "paper_out", "raised"), ("receipt_printer", "paper_out", "cleared")]


def test_paper_near_end_is_a_warning_and_gives_way_to_paper_out(conn):
    alarms = Alarms(conn, Outbox(conn))
    d = DeviceAlarms(alarms)
    d.observe("receipt_printer", "receipt_printer", "online", "paper_near_end")
    assert [a.severity for a in alarms.active()] == ["warning"]
    d.observe("receipt_printer", "receipt_printer", "offline", "paper_out")
    assert alarm_log(conn) == [("receipt_printer", "paper_near_end", "raised"),
                               ("receipt_printer", "paper_out", "raised"),
                               ("receipt_printer", "paper_near_end", "cleared")]


def test_a_door_open_longer_than_the_limit_is_left_open_and_clears_when_shut(conn):
    clock = ManualClock(100.0)
    d = DeviceAlarms(Alarms(conn, Outbox(conn)), door_left_open_s=60, clock=clock)
    d.observe("locker", "locker", "online", "door_open:7")
    clock.t += 59
    d.check_timers()
    assert alarm_log(conn) == []
    clock.t += 1
    d.check_timers()
    d.check_timers()
    d.observe("locker", "locker", "online", "")
    assert alarm_log(conn) == [("locker", "door_left_open:7", "raised"), ("locker", "door_left_open:7", "cleared")]


def test_a_door_that_failed_to_open_stays_alarmed_through_status_changes_until_it_opens(conn):
    d = DeviceAlarms(Alarms(conn, Outbox(conn)))
    d.door_failed("locker", 3, "door 3 did not report open")
    d.door_failed("locker", 3, "door 3 did not report open")
    d.observe("locker", "locker", "online", "")
    d.door_opened("locker", 3)
    assert alarm_log(conn) == [("locker", "door_not_opened:3", "raised"), ("locker", "door_not_opened:3", "cleared")]


def test_a_door_a_citizen_could_not_open_stays_alarmed_until_a_technician_opens_it(conn):
    d = DeviceAlarms(Alarms(conn, Outbox(conn)))
    d.alarms.raise_alarm("locker", "door_stuck:4", "door 4 did not open for the citizen")
    d.observe("locker", "locker", "online", "")
    d.observe("locker", "locker", "online", "door_open:4")
    assert [a.code for a in d.alarms.active()] == ["door_stuck:4"]
    d.door_opened("locker", 4)
    assert alarm_log(conn) == [("locker", "door_stuck:4", "raised"), ("locker", "door_stuck:4", "cleared")]


def test_an_unknown_payment_is_an_alarm_a_technician_can_mark_checked(conn):
    d = DeviceAlarms(Alarms(conn, Outbox(conn)))
    d.payment_unknown("payment", "ABC1234567", "no_result")
    d.observe("payment", "payment", "online", "")
    assert d.resolve("payment", "payment_unknown:ABC1234567")
    assert not d.resolve("receipt_printer", "paper_out")   # status alarms clear only when the device recovers
    assert alarm_log(conn) == [("payment", "payment_unknown:ABC1234567", "raised"),
                               ("payment", "payment_unknown:ABC1234567", "cleared")]


def test_the_desk_writes_from_its_own_thread_what_pollers_report(tmp_path):
    from kiosk.hardware.device import State, Status

    path = tmp_path / "kiosk.db"
    c = store.connect(path)
    store.migrate(c)

    def open_alarms():
        conn = store.connect(path)
        return Alarms(conn, Outbox(conn))

    class Dev:
        name, kind = "receipt_printer", "receipt_printer"

    desk = AlarmDesk(open_alarms, interval_s=0.05)
    seen = []
    desk.on_change(seen.append)
    desk.start()
    try:
        desk.on_status(Dev(), Status(State.OFFLINE, "cover_open"))
        assert desk.flush()
        assert [a["code"] for a in desk.active] == ["cover_open"]
        desk.on_status(Dev(), Status(State.ONLINE, ""))
        assert desk.flush()
        assert desk.active == []
    finally:
        desk.stop()
    assert alarm_log(c) == [("receipt_printer", "cover_open", "raised"), ("receipt_printer", "cover_open", "cleared")]
    assert [len(s) for s in seen] == [1, 0]
    c.close()


@pytest.mark.parametrize("device,code", [
    ("payment", "outcome_unknown_K7Q2M9X4A1"),   # the ledger's: a sale whose outcome is not known
    ("payment", "refund_owed_K7Q2M9X4A1"),       # the ledger's: money staff must give back
    ("locker", "door_stuck:7"),                  # a citizen said the door did not open
])
def test_money_and_door_alarms_of_the_flows_survive_the_device_coming_back_online(conn, device, code):
    alarms = Alarms(conn, Outbox(conn))
    alarms.raise_alarm(device, code, "raised by a flow")
    d = DeviceAlarms(alarms)
    d.observe(device, device, "online", "")
    assert f"{device}:{code}" in {f"{a.device}:{a.code}" for a in alarms.active()}
