"""Materials handed in through the locker (补交材料): the citizen's HandinFlow and the staff's recall of them,
against the real locker, ID card reader, scanner and receipt printer drivers on their simulators, in virtual time."""
from __future__ import annotations

import json
import re

import pytest

from kiosk.core.flow import Leave
from kiosk.core.locker.handin import Notice, Step
from kiosk.core.locker.recall import Step as RecallStep
from kiosk.core.privacy import holder_hash, mask_id_number, mask_name
from kiosk.hardware.scanner import classify
from kiosk.sim.idcard import demo_resident, long_term_resident
from kiosk.wire.cases import HandinData, KioskCase
from kiosk.wire.errors import PlatformUnavailable
from tests.pickup.conftest import HASH_KEY

CASE = "SZ20260518-3321"
HOLDER = demo_resident()
OTHER = long_term_resident()
RFC3339_WITH_OFFSET = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d[+-]\d\d:\d\d")


class Cases:
    """The platform's case look-up (kiosk.core.locker.handin.CaseLookup), answering as told."""

    def __init__(self, answer=None, error: Exception | None = None):
        self.answer, self.error, self.asked = answer, error, []

    def find_case(self, case_number):
        self.asked.append(case_number)
        if self.error is not None:
            raise self.error
        return self.answer


def case_info(needs_id_card: bool, holder_hash: str | None = None) -> KioskCase:
    """The platform's answer for CASE, as the central client reads it (kiosk/wire/cases.py)."""
    return KioskCase(case_number=CASE, item_name="营业执照变更登记", needs_id_card=needs_id_card, hold_days=7,
                     holder_hash=holder_hash, phone_masked="138****1234", state="held", handins=0)


def type_case(flow, case: str = CASE) -> None:
    for ch in case:
        flow.press(ch)
    flow.submit()


def close_when_open(kit, after_s: float = 5.0, papers: bool | None = None) -> None:
    """The citizen puts the papers in and closes the door `after_s` after it opened (each time it opens)."""
    def on_change(f):
        if f.step is Step.DOOR_OPEN and f.door and not getattr(f, "_closing", False):
            f._closing = True
            door = f.door

            def close():
                f._closing = False
                if papers is not None:
                    kit.sim.set_item(door, papers)
                kit.close(door)
            kit.clock.at(after_s, close)
    kit.handin.listeners.append(on_change)


def to_size(kit, card=HOLDER) -> None:
    flow = kit.handin
    flow.begin()
    type_case(flow)
    assert flow.step is Step.ID_CARD, (flow.step, flow.notice)
    kit.card_sim.insert_card(card)
    flow.read_card()
    assert flow.step is Step.SIZE, (flow.step, flow.notice)


def hand_in(kit, size: str | None = None) -> None:
    to_size(kit)
    if size:
        kit.handin.choose_size(size)
    close_when_open(kit)
    kit.handin.open_door()


def receipt_text(kit) -> str:
    [receipt] = kit.receipt_sim.receipts()
    return receipt.text


# --- the hand-in ----------------------------------------------------------------------------------------

def test_a_typed_case_with_the_id_card_read_opens_a_small_door_records_one_handin_and_prints_a_receipt(kit):
    flow = kit.handin
    hand_in(kit)
    assert flow.step is Step.DONE and flow.door == 1 and flow.printed is True   # door 1: the first small door
    assert kit.sim.unlocked == [1] and not kit.sim.is_open(1)
    [handin] = kit.outbox("handin")
    assert set(handin) - {"kind"} == {"case_number", "door", "handed_in_at", "receipt_no", "holder_hash", "size",
                                      "hall", "unconfirmed"}
    assert handin["hall"] == kit.service.settings.kiosk.hall
    # as the platform reads it (strictly, from the JSON it stores)
    read = HandinData.model_validate_json(json.dumps({k: v for k, v in handin.items() if k != "kind"}), strict=True)
    assert (read.case_number, read.door, read.receipt_no) == (CASE, 1, handin["receipt_no"])
    assert read.handed_in_at.utcoffset() is not None
    assert handin["case_number"] == CASE and handin["door"] == 1 and handin["size"] == "small"
    assert handin["holder_hash"] == holder_hash(HASH_KEY, HOLDER.id_number) and handin["unconfirmed"] is False
    assert RFC3339_WITH_OFFSET.fullmatch(handin["handed_in_at"])
    assert re.fullmatch(r"[0-9A-HJ-NP-Z]{5}-[0-9A-HJ-NP-Z]{5}", handin["receipt_no"])
    assert handin["receipt_no"] == flow.receipt_no
    item = kit.model().occupied()[1]
    assert item.handed_in and item.state == "held" and item.staff_id is None and item.receipt_no == flow.receipt_no


def test_the_receipt_has_the_case_door_time_receipt_number_and_hall_and_nothing_of_the_citizen(kit):
    hand_in(kit)
    flow, text = kit.handin, receipt_text(kit)
    when = flow.handed_in_at.strftime("%Y-%m-%d %H:%M")
    for shown in (CASE, flow.receipt_no, "1", when, kit.service.settings.kiosk.hall[:10],
                  kit.service.settings.kiosk.hotline):
        assert shown in text, (shown, text)
    for private in (HOLDER.id_number, mask_id_number(HOLDER.id_number), HOLDER.name, mask_name(HOLDER.name),
                    HOLDER.id_number[-4:] + "\n", HOLDER.address):
        assert private not in text
    assert kit.receipt_sim.receipts()[0].cut == "full"


def test_a_scanned_acceptance_slip_is_taken_as_the_case_number(kit):
    flow = kit.handin
    flow.begin()
    kit.scan_sim.scan(CASE)
    flow.scanned(kit.service.handin.scanner.read_code(5))
    assert flow.step is Step.ID_CARD and flow.case_number == CASE


@pytest.mark.parametrize("code", ["KIOSK-PICKUP:482913", "482913", "134567890123456789"])
def test_a_pickup_or_payment_code_on_the_scanner_is_never_taken_for_a_case_number(kit, code):
    flow = kit.handin
    flow.begin()
    flow.scanned(classify(code))
    assert flow.step is Step.CASE and flow.notice is Notice.NOT_A_CASE_NUMBER and flow.case_number == ""


def test_a_case_number_that_looks_like_an_id_number_is_refused(kit):
    flow = kit.handin
    flow.begin()
    type_case(flow, HOLDER.id_number)
    assert flow.step is Step.CASE and flow.notice is Notice.CASE_NUMBER_LOOKS_LIKE_ID
    flow.clear()
    type_case(flow, "12")
    assert flow.notice is Notice.BAD_CASE_NUMBER


def test_the_citizen_can_ask_for_a_larger_door(kit):
    hand_in(kit, size="large")
    [handin] = kit.outbox("handin")
    assert handin["size"] == "large" and kit.service.plan.doors[handin["door"]].size == "large"


def test_a_full_locker_says_no_door_is_free_and_opens_nothing(kit):
    model = kit.model()
    while model.reserve(case_number="BJ-FULL", size="small", holder_hash=None, staff_id="1001"):
        pass
    assert len(model.occupied()) == len(kit.service.plan.doors)
    to_size(kit)
    kit.handin.open_door()
    assert kit.handin.step is Step.NO_FREE_DOOR and kit.sim.unlocked == []
    kit.handin.choose_size("large")       # the size can be chosen again (a larger door is taken anyway when free)
    assert kit.handin.step is Step.SIZE
    kit.handin.open_door()
    assert kit.handin.step is Step.NO_FREE_DOOR and kit.outbox("handin") == []
    assert kit.handin.leaving(False).free


# --- the case on the platform ---------------------------------------------------------------------------

def test_a_case_that_asks_for_the_id_card_takes_only_its_holders_card(kit):
    flow = kit.handin
    flow.cases = Cases(case_info(needs_id_card=True, holder_hash=holder_hash(HASH_KEY, HOLDER.id_number)))
    flow.begin()
    type_case(flow)
    assert flow.step is Step.ID_CARD and flow.cases.asked == [CASE]
    kit.card_sim.insert_card(OTHER)
    flow.read_card()
    assert flow.step is Step.ID_CARD and flow.notice is Notice.ID_MISMATCH and kit.sim.unlocked == []
    kit.card_sim.insert_card(HOLDER)
    flow.read_card()
    assert flow.step is Step.SIZE


def test_a_case_that_asks_for_no_id_card_goes_to_the_door_without_one(kit):
    flow = kit.handin
    flow.cases = Cases(case_info(needs_id_card=False))
    flow.begin()
    type_case(flow)
    assert flow.step is Step.SIZE
    close_when_open(kit)
    flow.open_door()
    assert flow.step is Step.DONE and kit.outbox("handin")[0]["holder_hash"] is None


@pytest.mark.parametrize("answer", ["offline", "unknown", "broken"])
def test_offline_or_for_an_unknown_case_the_handin_is_taken_with_the_card_read(kit, answer):
    flow = kit.handin
    flow.cases = {"offline": Cases(error=PlatformUnavailable("no network")), "unknown": Cases(None),
                  "broken": Cases(error=ValueError("not a case"))}[answer]
    flow.begin()
    type_case(flow)
    assert flow.step is Step.ID_CARD
    kit.card_sim.insert_card(OTHER)          # no holder known: the card read is recorded as it is
    flow.read_card()
    assert flow.step is Step.SIZE
    close_when_open(kit)
    flow.open_door()
    assert kit.outbox("handin")[0]["holder_hash"] == holder_hash(HASH_KEY, OTHER.id_number)


def test_no_card_within_the_time_says_so_and_the_card_can_be_read_again(kit):
    flow = kit.handin
    flow.begin()
    type_case(flow)
    flow.read_card()
    assert flow.step is Step.ID_CARD and flow.notice is Notice.NO_CARD
    kit.card_sim.insert_card(HOLDER)
    flow.read_card()
    assert flow.step is Step.SIZE


def test_without_a_card_reader_a_case_that_needs_the_card_is_sent_to_the_service_desk(kit):
    flow = kit.handin
    flow.idcard = None
    flow.begin()
    type_case(flow)
    assert flow.step is Step.CASE and flow.notice is Notice.NO_ID_READER and kit.sim.unlocked == []


# --- the door -------------------------------------------------------------------------------------------

def test_the_intent_is_committed_before_the_door_is_unlocked(kit):
    flow, seen = kit.handin, []

    def on_opening(f):
        if f.step is Step.OPENING and not seen:
            conn = kit.store.connect()
            seen.append(([tuple(r) for r in conn.execute("SELECT kind, door FROM locker_intents")],
                         list(kit.sim.unlocked)))
            conn.close()
    to_size(kit)
    flow.listeners.append(on_opening)
    close_when_open(kit)
    flow.open_door()
    assert seen == [([("handin", 1)], [])]
    conn = kit.store.connect()
    assert conn.execute("SELECT COUNT(*) FROM locker_intents").fetchone()[0] == 0   # gone with the record


def test_a_power_cut_with_the_door_open_is_recorded_once_on_restart_as_the_intent_says(kit):
    from kiosk.app.pickup import PickupService

    flow = kit.handin
    to_size(kit)
    # the power fails 5 s after the door opened: the process is gone, its wait with it
    flow.listeners.append(lambda f: f.step is Step.DOOR_OPEN and kit.clock.at(5, flow.cancel))
    flow.open_door()
    door = flow.door
    assert kit.sim.is_open(door) and kit.outbox("handin") == []
    # the kiosk starts again: a new service on the same store and locker
    restarted = PickupService(kit.service.settings, kit.store, kit.service.locker, clock=kit.clock, monotonic=kit.clock)
    recovered = restarted.start()
    assert [(r.kind, r.item.door) for r in recovered] == [("handin", door)]
    [handin] = kit.outbox("handin")
    assert handin["unconfirmed"] is True and handin["case_number"] == CASE and handin["receipt_no"]
    assert f"handin_unconfirmed:{door}" in kit.alarms()
    assert restarted.start() == [] and len(kit.outbox("handin")) == 1        # never twice
    assert [(i.door, i.kind) for i in kit.model().recallable()] == [(door, "handin")]


def test_a_door_left_open_records_the_handin_prints_the_receipt_and_alarms_until_it_is_closed(kit):
    flow, steps = kit.handin, []
    to_size(kit)
    flow.listeners.append(lambda f: steps.append(f.step))
    flow.listeners.append(lambda f: f.step is Step.DOOR_LEFT_OPEN and kit.clock.at(200, lambda: kit.close(f.door)))
    flow.open_door()
    assert Step.DOOR_LEFT_OPEN in steps and flow.step is Step.DONE
    [handin] = kit.outbox("handin")
    assert handin["door_left_open"] is True and len(kit.receipt_sim.receipts()) == 1
    alarms = [(a["code"], a["state"]) for a in kit.outbox("alarm")]
    assert ("door_left_open:1", "raised") in alarms and ("door_left_open:1", "cleared") in alarms


def test_finish_with_the_door_still_open_asks_to_close_it_and_records_once_it_is(kit):
    flow = kit.handin
    to_size(kit)
    flow.listeners.append(lambda f: f.step is Step.DOOR_OPEN and kit.clock.at(2, flow.finish_open))
    flow.listeners.append(lambda f: f.notice is Notice.CLOSE_THE_DOOR and kit.clock.at(3, lambda: kit.close(f.door)))
    flow.open_door()
    assert flow.step is Step.DONE and len(kit.outbox("handin")) == 1


def test_a_door_that_does_not_open_raises_an_alarm_and_another_door_is_tried(kit):
    kit.sim.jam(1)
    flow = kit.handin
    to_size(kit)
    flow.open_door()
    assert flow.step is Step.DOOR_FAILED and "door_not_opened:1" in kit.alarms()
    assert kit.model().occupied() == {} and kit.outbox("handin") == []
    close_when_open(kit)
    flow.another_door()
    assert flow.step is Step.DONE and flow.door == 7 and kit.outbox("handin")[0]["door"] == 7


def test_a_door_the_citizen_says_did_not_open_is_opened_once_more_then_staff_are_called(kit):
    flow = kit.handin
    to_size(kit)
    flow.listeners.append(lambda f: f.step is Step.DOOR_OPEN and kit.clock.at(2, flow.door_did_not_open))
    flow.open_door()
    assert flow.step is Step.HELP and flow.help_asked == 2 and kit.sim.unlocked == [1, 1]
    assert "door_stuck:1" in kit.alarms() and kit.outbox("handin") == []
    assert kit.model().occupied() == {}           # nothing went in: the door is not held


def to_empty_door(kit):
    """On a board with item sensors, the door is closed with nothing put in."""
    flow = kit.handin
    to_size(kit)
    close_when_open(kit, papers=False)
    flow.open_door()
    assert flow.step is Step.EMPTY and kit.outbox("handin") == []
    flow.listeners.clear()
    return flow


def test_an_empty_door_records_nothing_and_opens_again_for_the_papers(kerong_kit):
    kit = kerong_kit
    flow = to_empty_door(kit)
    close_when_open(kit, papers=True)
    flow.open_again()
    assert flow.step is Step.DONE and len(kit.outbox("handin")) == 1


def test_leaving_at_an_empty_door_lets_it_go(kerong_kit):
    kit = kerong_kit
    flow = to_empty_door(kit)
    assert flow.leaving(False).free
    flow.end_visit()
    assert kit.model().occupied() == {} and kit.outbox("handin") == [] and flow.step is Step.CASE


def test_a_receipt_that_did_not_print_keeps_its_number_on_screen_until_the_citizen_finishes(kit):
    kit.receipt_sim.set_paper("out")
    flow = kit.handin
    hand_in(kit)
    assert flow.step is Step.DONE and flow.printed is False and flow.receipt_no
    assert flow.leaving(False).rule is Leave.CONFIRM and flow.leaving(True).free
    flow.receipt_number_noted()                 # the citizen taps on from the number
    assert flow.leaving(False).free and len(kit.outbox("handin")) == 1


def test_leaving_while_the_door_opens_or_stands_open_finishes_first(kit):
    flow, rules = kit.handin, {}
    to_size(kit)
    flow.listeners.append(lambda f: rules.setdefault(f.step, (f.leaving(False).rule, f.leaving(True).rule)))
    close_when_open(kit)
    flow.open_door()
    assert rules[Step.OPENING] == (Leave.FINISH, Leave.FINISH)
    assert rules[Step.DOOR_OPEN] == (Leave.FINISH, Leave.FINISH)
    assert rules[Step.PRINTING] == (Leave.FINISH, Leave.FINISH)
    assert flow.leaving(False).free


def test_a_handed_in_item_is_never_offered_to_pickup_by_a_code(kit):
    hand_in(kit)
    conn = kit.store.connect()
    assert conn.execute("SELECT code_hash FROM locker_items WHERE kind='handin'").fetchall()[0][0] is None
    door, code = kit.deposit_item("BJ2026-0001")
    assert door != 1 and kit.model().find_by_code(code).kind == "certificate"
    pickup = kit.pickup
    pickup.begin()
    for d in code:
        pickup.press(d)
    kit.close_after(2)
    pickup.submit()
    assert pickup.door == door                    # the certificate's door, never the hand-in's


def test_a_new_visit_starts_empty(kit):
    hand_in(kit)
    flow = kit.handin
    flow.end_visit()
    flow.begin()
    assert (flow.step, flow.case_number, flow.item, flow.holder, flow.receipt_no) == (Step.CASE, "", None, None, "")


# --- staff collect them -----------------------------------------------------------------------------------

def test_staff_collect_handed_in_materials_with_recall_beside_overdue_certificates(kit):
    door_cert, _code = kit.deposit_item("BJ-OVERDUE")
    hand_in(kit)
    handin_door = kit.handin.door
    kit.clock.advance(8 * 86400)
    flow = kit.recall
    flow.begin("1001")
    assert sorted((i.door, i.kind) for i in flow.items) == sorted([(door_cert, "certificate"),
                                                                   (handin_door, "handin")])
    flow.open(next(i.id for i in flow.items if i.handed_in))
    assert flow.step is RecallStep.DOOR_OPEN and kit.sim.unlocked[-1] == handin_door
    flow.removed()
    flow.open()
    flow.removed()
    assert flow.items == [] and flow.recalled == 2
    recalls = {r["what"]: r for r in kit.outbox("recall")}
    assert recalls["handin"] == {"kind": "recall", "case_number": CASE, "door": handin_door, "unconfirmed": False,
                                 "staff_id": "1001", "what": "handin", "reason": "handed_in",
                                 "receipt_no": kit.outbox("handin")[0]["receipt_no"]}
    assert recalls["certificate"]["reason"] == "overdue"
    assert kit.model().occupied() == {}


def test_a_handin_waits_for_staff_from_the_moment_it_is_in(kit):
    hand_in(kit)
    assert [i.kind for i in kit.model().recallable()] == ["handin"]    # no hold time: staff take it at once
    assert kit.model().site.moment(kit.model().recallable()[0].deposited_at) == kit.handin.handed_in_at


def test_the_home_tile_needs_the_devices_the_flow_declares():
    from kiosk.app.root import CITIZEN_SERVICES, HANDIN, PICKUP
    from kiosk.core.locker import handin

    assert HANDIN in CITIZEN_SERVICES and HANDIN.key == handin.SERVICE
    assert HANDIN.title == "Hand in materials" and HANDIN.needs == handin.NEEDS
    assert HANDIN.make_flow is PICKUP.make_flow          # one locker service for both
    assert set(handin.NEEDS) < set(handin.DEVICES)     # the scanner is used where there is one


def test_the_pickup_and_the_handin_are_made_over_one_locker_service_per_device_runtime(kit):
    """Two citizen services over one locker: one service (one recovery, one owner of the doors) for both."""
    import datetime as dt

    from kiosk.app.root import HANDIN, PICKUP
    from kiosk.app.services import Background, Parts
    from kiosk.core.session import SteerableClock, VisitorSession

    class Runtime:   # the device runtime, as far as the locker service asks it
        def on_ready(self, fn):
            self.ready = fn

        def add_listener(self, fn):
            pass

    def parts(runtime):
        return Parts(settings=kit.service.settings, store=kit.store, runtime=runtime, clock=kit.clock,
                     session=VisitorSession(idle_timeout_s=90, warning_s=30, extensions=1, clock=SteerableClock(False)),
                     now=dt.datetime.now, font=None, problems=None, central=Central(), visit=None, help=None,
                     background=Background())

    class Central:   # the central client, as far as the case look-up goes (CentralClient.find_case)
        def find_case(self, case_number):
            return None

    here, there = parts(Runtime()), parts(Runtime())
    try:
        service = HANDIN.make_flow(here)
        assert PICKUP.make_flow(here) is service and service.handin in service.flows
        assert service.handin.cases is here.central and service.deposit.cases is here.central
        assert PICKUP.make_flow(there) is not service
    finally:
        here.background.stop()
        there.background.stop()
