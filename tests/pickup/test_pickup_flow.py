"""Citizen pickup against the real locker, ID reader and scanner drivers on their simulators, in virtual time."""
from __future__ import annotations

import sqlite3

from kiosk.core.locker.model import code_hash
from kiosk.core.locker.pickup import Notice, Step
from kiosk.hardware.scanner import classify
from kiosk.sim.idcard import demo_resident, long_term_resident
from kiosk.store import PerThread
from tests.pickup.conftest import HASH_KEY, make_kit

HOLDER = demo_resident().id_number


def type_code(flow, code: str) -> None:
    for d in code[:-1]:
        assert not flow.press(d)
    if flow.press(code[-1]):
        flow.submit()


def test_deposit_records_only_the_hashes_the_case_number_and_the_door(kit):
    door, code = kit.deposit_item("BJ2026-0001", holder=HOLDER)
    assert len(code) == 6 and code.isdigit()
    [deposit] = kit.outbox("deposit")
    assert set(deposit) - {"kind"} == {"case_number", "door", "code_hash", "holder_hash", "sealed_code",
                                       "deposited_at", "due_at", "hall", "place", "item_name"}
    # the default config has the demo notice key: the code travels sealed to it, never in clear
    assert deposit["sealed_code"].startswith("hpke1:") and code not in deposit["sealed_code"]
    assert deposit["case_number"] == "BJ2026-0001" and deposit["door"] == door
    assert deposit["code_hash"] == code_hash(HASH_KEY, code) and deposit["holder_hash"] != HOLDER
    conn = kit.store.connect()
    stored = {str(v) for r in conn.execute("SELECT * FROM locker_items") for v in tuple(r)}
    stored |= {str(v) for v in deposit.values()}
    assert code not in stored and HOLDER not in stored
    assert HOLDER not in "\n".join(conn.iterdump())


def test_a_code_opens_its_door_records_the_pickup_and_works_only_once(kit):
    door, code = kit.deposit_item()
    flow = kit.pickup
    flow.begin()
    kit.close_after(8)
    type_code(flow, code)
    assert flow.step is Step.DONE and flow.door == door
    assert kit.sim.unlocked[-1] == door
    [pickup] = kit.outbox("pickup")
    assert pickup == {"kind": "pickup", "case_number": "BJ2026-0001", "door": door, "via": "keypad",
                      "id_checked": False, "overdue": False, "unconfirmed": False}
    flow.begin()
    type_code(flow, code)     # spent: said so, not a wrong code (tests/pickup/test_spent_codes.py)
    assert flow.step is Step.CODE and flow.notice is Notice.ALREADY_COLLECTED
    assert len(kit.outbox("pickup")) == 1 and kit.sim.unlocked.count(door) == 2   # the deposit's, the pickup's


def test_the_door_shown_is_its_number_and_place_on_the_locker(kit):
    # default plan: 4 columns of 6, numbered down; small doors are the top row (1, 7, 13, 19)
    door, code = kit.deposit_item(size="small")
    assert door == 1
    flow = kit.pickup
    flow.begin()
    seen = []
    flow.listeners.append(lambda f: f.step is Step.DOOR_OPEN and seen.append((f.door, f.column, f.row, f.position)))
    kit.close_after(3)
    type_code(flow, code)
    assert seen == [(1, 1, 1, ("upper", "left"))]


def test_a_qr_code_on_the_scanner_picks_up_like_the_typed_code(kit):
    door, code = kit.deposit_item()
    flow = kit.pickup
    flow.begin()
    kit.close_after(4)
    kit.scan_sim.scan(f"KIOSK-PICKUP:{code}")
    flow.scanned(kit.service.pickup.scanner.read_code(5))
    assert flow.step is Step.DONE
    assert kit.outbox("pickup")[0]["via"] == "qr"


def test_a_payment_code_on_the_scanner_is_not_taken_for_a_pickup_code(kit):
    flow = kit.pickup
    flow.begin()
    flow.scanned(classify("134567890123456789"))
    assert flow.step is Step.CODE and flow.notice is Notice.NOT_A_PICKUP_CODE
    assert kit.sim.unlocked == []


def test_an_item_for_the_holder_only_opens_with_the_holders_id_card(kit):
    door, code = kit.deposit_item(holder=HOLDER)
    flow = kit.pickup
    flow.begin()
    type_code(flow, code)
    assert flow.step is Step.ID_CARD and kit.sim.unlocked == [door]  # only the deposit's unlock so far
    kit.card_sim.insert_card(long_term_resident())      # someone else's card
    flow.read_card()
    assert flow.step is Step.ID_CARD and flow.notice is Notice.ID_MISMATCH and kit.sim.unlocked == [door]
    kit.card_sim.insert_card(demo_resident())
    kit.close_after(5)
    flow.read_card()
    assert flow.step is Step.DONE and kit.outbox("pickup")[0]["id_checked"] is True


def test_no_card_within_the_time_says_so_and_keeps_waiting_possible(kit):
    door, code = kit.deposit_item(holder=HOLDER)
    flow = kit.pickup
    flow.begin()
    type_code(flow, code)
    flow.read_card()
    assert flow.step is Step.ID_CARD and flow.notice is Notice.NO_CARD


def test_five_wrong_codes_lock_pickup_for_60_s_then_doubling_with_each_further_wrong_code(kit):
    door, code = kit.deposit_item()
    flow = kit.pickup
    flow.begin()
    for n in range(4):
        type_code(flow, "000000" if code != "000000" else "111111")
        assert flow.step is Step.CODE and flow.tries_left == 4 - n
    type_code(flow, "000000" if code != "000000" else "111111")
    assert flow.step is Step.LOCKED and flow.seconds_locked() == 60
    assert not flow.press("1")             # the keypad is dead while locked
    kit.clock.advance(59)
    assert not flow.unlock_if_due() and flow.seconds_locked() == 1
    kit.clock.advance(1)
    assert flow.unlock_if_due() and flow.step is Step.CODE
    type_code(flow, "000000" if code != "000000" else "111111")
    assert flow.step is Step.LOCKED and flow.seconds_locked() == 120
    kit.clock.advance(120)
    flow.unlock_if_due()
    type_code(flow, "000000" if code != "000000" else "111111")
    assert flow.seconds_locked() == 240
    kit.clock.advance(240)
    flow.unlock_if_due()
    kit.close_after(2)
    type_code(flow, code)                  # the right code still works, and resets the count
    assert flow.step is Step.DONE
    flow.begin()
    type_code(flow, "000000" if code != "000000" else "111111")
    assert flow.step is Step.CODE and flow.tries_left == 4


def test_the_lockout_survives_a_restart_of_the_kiosk(tmp_path, kit):
    flow = kit.pickup
    flow.begin()
    for _ in range(5):
        type_code(flow, "123456")
    assert flow.step is Step.LOCKED
    kit.service.pickup._model = PerThread(kit.service.open_model)   # a fresh connection, as after a restart
    fresh = kit.service.pickup
    fresh.begin()
    assert fresh.step is Step.LOCKED and 0 < fresh.seconds_locked() <= 60


def test_a_door_left_open_raises_an_alarm_records_the_pickup_and_clears_when_closed(kit):
    door, code = kit.deposit_item()
    flow = kit.pickup
    flow.begin()
    steps = []
    flow.listeners.append(lambda f: steps.append(f.step))
    # nobody closes it within door_close_timeout_s; 200 s later someone does
    flow.listeners.append(lambda f: f.step is Step.DOOR_LEFT_OPEN and kit.clock.at(200, lambda: kit.close(door)))
    type_code(flow, code)
    assert Step.DOOR_LEFT_OPEN in steps and flow.step is Step.DONE
    [pickup] = kit.outbox("pickup")
    assert pickup["door_left_open"] is True
    alarms = [(a["code"], a["state"]) for a in kit.outbox("alarm")]
    assert (f"door_left_open:{door}", "raised") in alarms and (f"door_left_open:{door}", "cleared") in alarms
    assert not kit.alarms()


def test_leaving_while_the_door_is_open_still_records_the_pickup(kit):
    door, code = kit.deposit_item()
    flow = kit.pickup
    flow.begin()
    flow.listeners.append(lambda f: f.step is Step.DOOR_OPEN and kit.clock.at(3, flow.leave))
    type_code(flow, code)
    assert kit.outbox("pickup")[0]["door_left_open"] is True


def test_a_door_that_does_not_open_is_tried_twice_then_apologised_for_and_the_code_stays_valid(kit):
    door, code = kit.deposit_item()
    kit.sim.jam(door)
    flow = kit.pickup
    flow.begin()
    type_code(flow, code)
    assert flow.step is Step.DOOR_FAILED
    assert kit.sim.unlocked.count(door) == 3   # the deposit's, then two tries
    assert f"door_not_opened:{door}" in kit.alarms()
    assert kit.outbox("pickup") == []
    kit.sim.jam(door, False)
    flow.begin()
    kit.close_after(2)
    type_code(flow, code)
    assert flow.step is Step.DONE and len(kit.outbox("pickup")) == 1


def test_a_silent_lock_board_fails_the_pickup_without_losing_the_code(kit):
    door, code = kit.deposit_item()
    kit.sim.silence(1)
    flow = kit.pickup
    flow.begin()
    type_code(flow, code)
    assert flow.step is Step.DOOR_FAILED and kit.outbox("pickup") == []
    assert kit.model().find_by_code(code) is not None


def test_a_power_cut_between_unlock_and_record_is_recorded_once_as_unconfirmed_with_an_alarm(kit, tmp_path):
    door, code = kit.deposit_item()
    model = kit.model()
    item = model.find_by_code(code)
    model.begin(item, "pickup", via="keypad")
    kit.sim.open_door(door)   # the unlock went out; then the power failed
    recovered = kit.service.start()
    assert [(r.kind, r.item.door) for r in recovered] == [("pickup", door)]
    [pickup] = kit.outbox("pickup")
    assert pickup["unconfirmed"] is True
    assert f"pickup_unconfirmed:{door}" in kit.alarms()
    assert kit.service.start() == []          # a second restart records nothing more
    assert len(kit.outbox("pickup")) == 1
    assert kit.model().find_by_code(code) is None


def test_a_recorded_pickup_is_never_recorded_again_even_if_its_intent_is_replayed(kit):
    door, code = kit.deposit_item()
    model = kit.model()
    item = model.find_by_code(code)
    model.begin(item, "pickup")
    assert model.finish(item)
    model.begin(item, "pickup")
    assert model.finish(item) is None
    assert len(kit.outbox("pickup")) == 1


def test_an_overdue_item_stays_collectable_and_is_flagged_overdue(kit):
    door, code = kit.deposit_item()
    kit.clock.advance(8 * 86400)
    assert [i.door for i in kit.model().recallable()] == [door]
    flow = kit.pickup
    flow.begin()
    kit.close_after(2)
    type_code(flow, code)
    assert flow.step is Step.DONE and kit.outbox("pickup")[0]["overdue"] is True


def test_an_overdue_item_is_refused_when_the_hall_wants_it_back_first(kit):
    kit.service.pickup.rules = kit.service.settings.pickup.model_copy(update={"collect_when_overdue": False})
    door, code = kit.deposit_item()
    kit.clock.advance(8 * 86400)
    flow = kit.pickup
    flow.begin()
    type_code(flow, code)
    assert flow.step is Step.CODE and flow.notice is Notice.OVERDUE
    assert kit.sim.unlocked == [door] and flow.tries_left == 5   # not counted as a wrong code


def test_the_sensor_seeing_the_certificate_after_the_door_closed_offers_to_open_again(kerong_kit):
    kit = kerong_kit
    flow = kit.deposit
    flow.begin("1001")
    flow.set_case("BJ-77")
    flow.choose(size="medium", require_id=False)
    flow.listeners.append(lambda f: f.step.value == "door_open" and kit.clock.at(
        3, lambda: (kit.sim.set_item(f.door, True), kit.close(f.door))))
    flow.confirm_options()
    door, code = flow.door, flow.code
    assert flow.step.value == "code"
    flow.listeners.clear()
    p = kit.pickup
    p.begin()
    # the citizen closes the door without taking the certificate
    p.listeners.append(lambda f: f.step is Step.DOOR_OPEN and kit.clock.at(3, lambda: kit.close(door)))
    type_code(p, code)
    assert p.step is Step.ITEM_LEFT and kit.outbox("pickup") == []
    p.listeners.clear()
    p.listeners.append(lambda f: f.step is Step.DOOR_OPEN and kit.clock.at(
        3, lambda: (kit.sim.set_item(door, False), kit.close(door))))
    p.open_again()
    assert p.step is Step.DONE and len(kit.outbox("pickup")) == 1


def test_walking_away_with_the_certificate_left_inside_records_it_and_tells_staff(kerong_kit):
    kit = kerong_kit
    flow = kit.deposit
    flow.begin("1001")
    flow.set_case("BJ-78")
    flow.choose(require_id=False)
    flow.listeners.append(lambda f: f.step.value == "door_open" and kit.clock.at(
        3, lambda: (kit.sim.set_item(f.door, True), kit.close(f.door))))
    flow.confirm_options()
    door, code = flow.door, flow.code
    flow.listeners.clear()
    p = kit.pickup
    p.begin()
    p.listeners.append(lambda f: f.step is Step.DOOR_OPEN and kit.clock.at(3, lambda: kit.close(door)))
    type_code(p, code)
    assert p.step is Step.ITEM_LEFT
    p.leave()
    assert kit.outbox("pickup")[0]["item_left"] is True
    assert f"item_left:{door}" in kit.alarms()


def test_pickup_works_with_the_central_platform_stopped(kit):
    # nothing here talks to the network: the pickup is recorded in the outbox, pending
    door, code = kit.deposit_item()
    flow = kit.pickup
    flow.begin()
    kit.close_after(2)
    type_code(flow, code)
    conn = kit.store.connect()
    assert {r[0] for r in conn.execute("SELECT state FROM outbox")} == {"pending"}
    assert isinstance(conn, sqlite3.Connection)

