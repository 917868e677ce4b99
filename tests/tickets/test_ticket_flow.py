"""Queue tickets and appointment check-in (取号 / 预约签到): TicketFlow through every step, with injected time,
a queue port answering as told, and stand-ins for the receipt printer and the card reader (the real drivers
on their simulators: test_tickets_e2e.py)."""
from __future__ import annotations

import datetime as dt

import pytest

from kiosk import config
from kiosk.core.background import Held
from kiosk.core.flow import Leave
from kiosk.core.privacy import holder_hash
from kiosk.core.tickets import Notice, Step
from kiosk.hardware.scanner import classify
from kiosk.wire.queues import TicketRefused
from tests.conftest import write_config
from tests.tickets.kit import HASH_KEY, ID_NUMBER, MONDAY_0930, ZONE, Kit, appointment

HOLDER = holder_hash(HASH_KEY, ID_NUMBER)


@pytest.fixture
def kit(tmp_path):
    return Kit(tmp_path / "var")


def started(kit) -> None:
    kit.flow.begin()
    assert kit.flow.step is Step.CHOOSE


# --- the list and an ordinary ticket -------------------------------------------------------------------------

def test_the_list_shows_each_business_with_its_waiting_count_and_estimated_wait(kit):
    started(kit)
    social = kit.flow.queues.business("social")
    assert (social.name, social.waiting, social.estimated_wait_min) == ("社保医保", 4, 20)
    assert not kit.flow.offline and kit.flow.open_now(social)


def test_a_ticket_without_the_id_card_prints_number_business_waiting_count_time_and_a_qr_code(kit):
    started(kit)
    kit.flow.choose("social")
    assert kit.flow.step is Step.ID_CARD          # optional: the citizen may go on without
    kit.flow.without_card()
    assert kit.flow.step is Step.DONE and kit.flow.printed
    ticket = kit.flow.ticket
    assert (ticket.number, ticket.waiting_before, ticket.offline, ticket.priority) == ("A001", 4, False, False)
    paper = kit.printer.printed[0]
    assert "A001" in paper and "社保医保" in paper and "2026-05-18 09:30" in paper and "[QR kiosk-ticket:" in paper
    assert kit.port.requests[0].holder_hash is None
    [sent] = kit.tickets_in_outbox()
    assert sent | {"request_id": None} == {"hall": "demo-hall", "business": "social", "number": "A001",
                                            "request_id": None, "issued_at": "2026-05-18T09:30:00+08:00",
                                            "priority": False, "offline": False, "holder_hash": None,
                                            "appointment": None, "waiting_before": 4, "again": False}
    assert kit.flow.leaving(idle=False).free      # no rating after a ticket: the visit may end


def test_the_id_card_sends_only_the_keyed_hash_of_its_number_with_the_ticket(kit):
    started(kit)
    kit.flow.choose("social")
    kit.flow.read_card()
    assert kit.flow.step is Step.DONE
    assert kit.port.requests[0].holder_hash == HOLDER
    [sent] = kit.tickets_in_outbox()
    assert sent["holder_hash"] == HOLDER
    text = repr(sent) + "".join(kit.printer.printed)
    assert ID_NUMBER not in text and "张三" not in text and "张*" not in text


def test_a_card_not_read_says_why_and_a_ticket_can_still_be_taken_without_it(kit):
    started(kit)
    kit.flow.choose("social")
    kit.reader.detail = "no_card"
    kit.flow.read_card()
    assert (kit.flow.step, kit.flow.notice) == (Step.ID_CARD, Notice.NO_CARD)
    kit.flow.without_card()
    assert kit.flow.step is Step.DONE and kit.port.requests[0].holder_hash is None


def test_without_a_card_reader_the_number_is_issued_at_once(tmp_path):
    kit = Kit(tmp_path / "var", reader=False)
    started(kit)
    kit.flow.choose("social")
    assert kit.flow.step is Step.DONE


def test_back_from_the_card_goes_to_the_list(kit):
    started(kit)
    kit.flow.choose("social")
    kit.flow.back()
    assert kit.flow.step is Step.CHOOSE and not kit.port.requests


# --- opening hours ---------------------------------------------------------------------------------------------

def test_outside_opening_hours_the_service_says_when_to_come_back(tmp_path):
    kit = Kit(tmp_path / "var", now=dt.datetime(2026, 5, 18, 21, 0, tzinfo=ZONE))   # Monday 21:00
    kit.flow.begin()
    assert kit.flow.step is Step.CLOSED
    assert kit.flow.opens_at == dt.datetime(2026, 5, 19, 8, 30, tzinfo=ZONE)
    assert not kit.port.requests and not kit.printer.printed


def test_a_business_closed_today_among_open_ones_says_when_it_opens(tmp_path):
    kit = Kit(tmp_path / "var", now=dt.datetime(2026, 5, 23, 10, 0, tzinfo=ZONE))   # Saturday: only social opens
    started(kit)
    kit.flow.choose("property")
    assert (kit.flow.step, kit.flow.notice) == (Step.CHOOSE, Notice.BUSINESS_CLOSED)
    assert kit.flow.opens_at == dt.datetime(2026, 5, 25, 8, 30, tzinfo=ZONE)
    kit.flow.choose("social")
    assert kit.flow.step is Step.ID_CARD and kit.flow.notice is None


def test_a_business_the_platform_closed_meanwhile_says_when_it_opens_and_takes_nothing(kit):
    started(kit)
    kit.port.refuse = TicketRefused("closed", opens_at=dt.datetime(2026, 5, 18, 13, 30, tzinfo=ZONE))
    kit.flow.choose("social")
    kit.flow.without_card()
    assert (kit.flow.step, kit.flow.notice) == (Step.CHOOSE, Notice.BUSINESS_CLOSED)
    assert kit.flow.opens_at.hour == 13 and not kit.tickets_in_outbox() and not kit.printer.printed


# --- appointments -------------------------------------------------------------------------------------------------

def check_in_by_code(kit, code: str) -> None:
    kit.flow.check_in()
    assert kit.flow.step is Step.CHECK_IN
    for ch in code:
        kit.flow.press(ch)
    kit.flow.submit()


def test_an_appointment_code_checks_in_for_a_priority_ticket(kit):
    kit.port.appointments["80000001"] = appointment("80000001")
    started(kit)
    check_in_by_code(kit, "80000001")
    assert kit.flow.step is Step.DONE
    ticket = kit.flow.ticket
    assert ticket.priority and ticket.appointment == "80000001" and ticket.waiting_before == 0
    assert kit.port.requests[0].appointment == "80000001" and kit.port.requests[0].business is None
    assert "预约" in kit.printer.printed[0] or "Appointment" in kit.printer.printed[0]
    assert kit.tickets_in_outbox()[0]["priority"] is True


@pytest.mark.parametrize("refusal, notice", [
    ("appointment_other_day", Notice.APPOINTMENT_OTHER_DAY), ("too_early", Notice.TOO_EARLY),
    ("appointment_missed", Notice.APPOINTMENT_MISSED)])
def test_an_appointment_refused_at_check_in_says_why_and_issues_nothing(kit, refusal, notice):
    kit.port.appointments["80000001"] = appointment("80000001")
    kit.port.refuse = TicketRefused(refusal, opens_at=dt.datetime(2026, 5, 18, 9, 0, tzinfo=ZONE))
    started(kit)
    check_in_by_code(kit, "80000001")
    assert (kit.flow.step, kit.flow.notice) == (Step.CHECK_IN, notice)
    assert not kit.tickets_in_outbox() and not kit.printer.printed


def test_an_unknown_or_malformed_appointment_code_is_a_clear_sentence(kit):
    started(kit)
    check_in_by_code(kit, "12345")
    assert (kit.flow.step, kit.flow.notice) == (Step.CHECK_IN, Notice.BAD_CODE)
    kit.flow.clear()
    for ch in "99999999":
        kit.flow.press(ch)
    kit.flow.submit()
    assert (kit.flow.step, kit.flow.notice) == (Step.CHECK_IN, Notice.APPOINTMENT_UNKNOWN)
    kit.port.appointments["80000009"] = appointment("80000009", state="missed")
    kit.flow.clear()
    for ch in "80000009":
        kit.flow.press(ch)
    kit.flow.submit()
    assert kit.flow.notice is Notice.APPOINTMENT_MISSED and not kit.port.requests


def test_the_id_card_checks_in_the_holders_one_appointment_today(kit):
    kit.port.by_holder[HOLDER] = [appointment("80000002", business="property", slot="10:30-11:00")]
    started(kit)
    kit.flow.check_in()
    kit.flow.read_card()
    assert kit.flow.step is Step.DONE
    assert (kit.flow.ticket.number, kit.flow.ticket.priority) == ("C001", True)
    assert kit.port.requests[0].holder_hash == HOLDER and kit.port.requests[0].appointment == "80000002"


def test_a_holder_with_several_appointments_today_chooses_one(kit):
    kit.port.by_holder[HOLDER] = [appointment("80000002", business="property"), appointment("80000003")]
    started(kit)
    kit.flow.check_in()
    kit.flow.read_card()
    assert kit.flow.step is Step.APPOINTMENTS and [a.code for a in kit.flow.appointments] == ["80000002", "80000003"]
    kit.flow.choose_appointment("80000003")
    assert kit.flow.step is Step.DONE and kit.port.requests[0].appointment == "80000003"


def test_a_card_without_an_appointment_today_says_so(kit):
    started(kit)
    kit.flow.check_in()
    kit.flow.read_card()
    assert (kit.flow.step, kit.flow.notice) == (Step.CHECK_IN, Notice.NO_APPOINTMENT_TODAY)


def test_a_scanned_appointment_qr_code_checks_in_and_a_payment_code_is_never_sent(kit):
    kit.port.appointments["80000001"] = appointment("80000001")
    started(kit)
    kit.flow.check_in()
    kit.flow.scanned(classify("134567890123456789"))     # a WeChat payment code: the citizen's secret
    assert kit.flow.notice is Notice.NOT_AN_APPOINTMENT_CODE and not kit.port.requests
    kit.flow.scanned(classify("KIOSK-APPOINTMENT:80000001"))
    assert kit.flow.step is Step.DONE and kit.flow.ticket.priority


def test_an_appointment_cannot_be_checked_in_offline_and_says_take_an_ordinary_number(kit):
    kit.port.appointments["80000001"] = appointment("80000001")
    started(kit)
    kit.port.offline = True
    check_in_by_code(kit, "80000001")
    assert (kit.flow.step, kit.flow.notice) == (Step.CHECK_IN, Notice.CHECK_IN_OFFLINE)
    kit.flow.back()
    kit.flow.choose("social")
    kit.flow.without_card()
    assert kit.flow.step is Step.DONE and kit.flow.ticket.offline and not kit.flow.ticket.priority


# --- the printer ------------------------------------------------------------------------------------------------

def test_a_printer_that_cannot_print_takes_no_number(kit):
    started(kit)
    kit.printer.paper = False
    kit.flow.choose("social")
    kit.flow.without_card()
    assert kit.flow.step is Step.PRINTER_DOWN and not kit.port.requests and not kit.tickets_in_outbox()


def test_a_ticket_that_did_not_print_stays_on_screen_until_finish(kit):
    started(kit)
    kit.printer.jam = True
    kit.flow.choose("social")
    kit.flow.without_card()
    assert kit.flow.step is Step.DONE and kit.flow.printed is False and kit.flow.ticket.number == "A001"
    assert kit.flow.leaving(idle=False).rule is Leave.CONFIRM
    assert kit.flow.leaving(idle=True).free          # nobody there to read it: the number is issued
    kit.flow.number_seen()
    assert kit.flow.leaving(idle=False).free


def test_issuing_and_printing_finish_before_the_visit_may_end(tmp_path):
    held = Held()
    kit = Kit(tmp_path / "var", executor=held)
    kit.flow.begin()
    held.release()
    kit.flow.choose("social")
    kit.flow.without_card()
    assert kit.flow.step is Step.ISSUING and kit.flow.leaving(idle=True).rule is Leave.FINISH
    held.release()
    assert kit.flow.step is Step.DONE


def test_a_late_answer_of_an_ended_visit_is_dropped(tmp_path):
    held = Held()
    kit = Kit(tmp_path / "var", executor=held)
    kit.flow.begin()
    kit.flow.end_visit()
    held.release()
    assert kit.flow.step is Step.LOADING and kit.flow.queues is None


# --- offline numbering --------------------------------------------------------------------------------------------

def offline_ticket(kit) -> str:
    kit.flow.begin()
    kit.flow.choose("social")
    kit.flow.without_card()
    assert kit.flow.step is Step.DONE and kit.flow.ticket.offline
    return kit.flow.ticket.number


def test_offline_the_kept_list_shows_its_age_and_numbers_come_from_the_kiosks_block(kit):
    started(kit)                                             # the platform's list is kept
    kit.port.offline = True
    kit.at(MONDAY_0930 + dt.timedelta(minutes=25))
    numbers = [offline_ticket(kit) for _ in range(3)]
    assert numbers == ["Z001", "Z002", "Z003"]
    assert kit.flow.offline and kit.flow.age_minutes() == 25
    assert kit.flow.ticket.waiting_before is None             # the calling screen says: not known offline
    sent = kit.tickets_in_outbox()
    assert [t["number"] for t in sent] == numbers and all(t["offline"] for t in sent)
    assert sent[0]["issued_at"] == "2026-05-18T09:55:00+08:00"
    assert "Z001" in kit.printer.printed[0]


def test_offline_numbers_are_never_reused_across_a_restart_and_start_again_the_next_day(kit):
    started(kit)
    kit.port.offline = True
    assert offline_ticket(kit) == "Z001"
    kit.flow = kit.make_flow()                               # the UI restarted: a new book over the same database
    assert [offline_ticket(kit), offline_ticket(kit)] == ["Z002", "Z003"]
    kit.at(dt.datetime(2026, 5, 19, 9, 0, tzinfo=ZONE))
    assert offline_ticket(kit) == "Z001"                     # a new day of the hall


def test_an_offline_block_used_up_says_so_and_issues_nothing_more(tmp_path):
    kit = Kit(tmp_path / "var", start=7, end=8)
    started(kit)
    kit.port.offline = True
    assert [offline_ticket(kit), offline_ticket(kit)] == ["Z007", "Z008"]
    kit.flow.begin()
    kit.flow.choose("social")
    kit.flow.without_card()
    assert (kit.flow.step, kit.flow.notice) == (Step.CHOOSE, Notice.BLOCK_USED_UP)
    assert len(kit.tickets_in_outbox()) == 2


def test_offline_the_kept_opening_hours_say_when_the_hall_opens(kit):
    started(kit)
    kit.port.offline = True
    kit.at(dt.datetime(2026, 5, 18, 12, 30, tzinfo=ZONE))    # lunch: every business closed
    kit.flow.begin()
    assert kit.flow.step is Step.CLOSED and kit.flow.opens_at == dt.datetime(2026, 5, 18, 13, 30, tzinfo=ZONE)


def test_offline_without_any_kept_list_the_service_is_unavailable(kit):
    kit.port.offline = True
    kit.flow.begin()
    assert kit.flow.step is Step.UNAVAILABLE
    kit.port.offline = False
    kit.flow.refresh()
    assert kit.flow.step is Step.CHOOSE


def test_the_offline_block_is_configured_with_a_clear_error(tmp_path):
    path = write_config(tmp_path, **{r"^offline_start = 1$": "offline_start = 300", r"^offline_end = 499$":
                                     "offline_end = 200"})
    with pytest.raises(config.ConfigError, match=r"tickets\.offline_end: the offline block ends before it starts"):
        config.load(path)
    path = write_config(tmp_path, **{r'^offline_prefix = "Z"$': 'offline_prefix = "z9"'})
    with pytest.raises(config.ConfigError, match=r"tickets\.offline_prefix"):
        config.load(path)
