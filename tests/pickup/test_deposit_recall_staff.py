"""Staff at the locker: sign-in with hashed PINs and its lockout, deposit, recall, and the door reconciliation."""
from __future__ import annotations

import pytest

from kiosk.core.locker import model as locker_mod
from kiosk.core.locker.deposit import Notice, Step
from kiosk.core.locker.model import DoorPlan, LockerRuleError, check_case_number
from kiosk.core.locker.recall import Step as RecallStep
from kiosk.core.staff import PinError, StaffSignIn, hash_pin, verify_pin
from kiosk.sim.idcard import demo_resident
from tests.conftest import run_kiosk
from tests.pickup.conftest import ScriptedClock

HOLDER = demo_resident().id_number


# --- PINs and sign-in ------------------------------------------------------------------------------

def test_a_pin_is_stored_salted_and_checked_in_constant_time():
    a, b = hash_pin("246810"), hash_pin("246810")
    assert a != b and a.startswith("scrypt$n=16384,r=8,p=1$") and "246810" not in a
    assert verify_pin("246810", a) and not verify_pin("246811", a)
    with pytest.raises(PinError, match="4 to 12 digits"):
        hash_pin("12a4")
    with pytest.raises(PinError, match="kiosk staff hash-pin"):
        verify_pin("1234", "md5$abc")


def test_five_wrong_pins_lock_sign_in_for_the_configured_period():
    clock = ScriptedClock()
    desk = StaffSignIn([("1001", hash_pin("246810"))], wrong_before_lockout=5, lockout_s=300, clock=clock)
    for left in (4, 3, 2, 1):
        r = desk.sign_in("1001", "000000")
        assert not r.ok and r.tries_left == left
    r = desk.sign_in("9999", "246810")   # an unknown id counts like a wrong PIN
    assert not r.ok and r.locked_for_s == 300
    assert desk.sign_in("1001", "246810").locked_for_s == 300   # even the right PIN waits
    clock.advance(299)
    assert desk.sign_in("1001", "246810").locked_for_s == 1
    clock.advance(1)
    r = desk.sign_in("1001", "246810")
    assert r.ok and r.staff_id == "1001"


def test_a_bad_pin_hash_in_the_config_is_named_at_start():
    with pytest.raises(PinError):
        StaffSignIn([("1001", "scrypt$nonsense")])


def test_hash_pin_command_reads_the_pin_from_stdin_and_prints_a_usable_hash(kiosk_config):
    r = run_kiosk("staff", "hash-pin", config=kiosk_config, input="135790\n")
    assert r.returncode == 0, r.stderr
    assert verify_pin("135790", r.stdout.strip())
    bad = run_kiosk("staff", "hash-pin", config=kiosk_config, input="12\n")
    assert bad.returncode == 2 and "4 to 12 digits" in bad.stderr


# --- deposit ---------------------------------------------------------------------------------------

def test_the_kiosk_picks_a_free_door_of_a_fitting_size_and_low_doors_only_when_asked(kit):
    plan = kit.service.plan
    assert plan.choose("small", False, set()) == 1
    assert plan.choose("small", False, {1, 7, 13, 19}) == 2          # next size up when no small is free
    assert plan.choose("large", False, set()) == 6
    assert plan.choose("medium", True, set()) == 5                    # a low medium door when asked
    assert not plan.doors[plan.choose("medium", False, set())].low    # kept free otherwise
    assert plan.choose("large", False, {6, 12, 18, 24}) is None


def test_deposit_with_the_holders_id_card_read_on_the_reader(kit):
    flow = kit.deposit
    flow.begin("1001")
    assert flow.set_case("bj2026-0009")
    assert flow.case_number == "BJ2026-0009"
    flow.choose(size="large", require_id=True, prefer_low=True)
    flow.confirm_options()
    assert flow.step is Step.HOLDER
    kit.card_sim.insert_card(demo_resident())
    flow.listeners.append(lambda f: f.step is Step.DOOR_OPEN and kit.clock.at(10, lambda: kit.close(f.door)))
    assert flow.read_holder_card()
    assert flow.step is Step.CODE and kit.service.plan.doors[flow.door].low
    [deposit] = kit.outbox("deposit")
    from kiosk.core.privacy import holder_hash
    assert deposit["holder_hash"] == holder_hash(kit.service.settings.privacy.hash_key, HOLDER)


def test_a_case_number_can_be_scanned(kit):
    flow = kit.deposit
    flow.begin("1001")
    kit.scan_sim.scan("SZ20260518-3321")
    assert flow.scan_case(5) and flow.case_number == "SZ20260518-3321" and flow.step is Step.OPTIONS


def test_a_case_number_that_looks_like_an_id_number_is_refused_before_it_can_reach_the_outbox(kit):
    flow = kit.deposit
    flow.begin("1001")
    assert not flow.set_case(HOLDER)
    assert flow.notice is Notice.CASE_NUMBER_LOOKS_LIKE_ID and flow.step is Step.CASE
    with pytest.raises(LockerRuleError):
        check_case_number("ab")


def test_a_typed_holder_id_number_with_a_wrong_check_digit_is_refused(kit):
    flow = kit.deposit
    flow.begin("1001")
    flow.set_case("BJ-1")
    flow.choose(require_id=True)
    flow.confirm_options()
    wrong = HOLDER[:-1] + ("0" if HOLDER[-1] != "0" else "1")
    assert not flow.set_holder_number(wrong) and flow.notice is Notice.BAD_ID_NUMBER
    assert kit.sim.unlocked == []


def test_pickup_codes_are_unique_among_live_codes(kit, monkeypatch):
    door, code = kit.deposit_item("BJ-1")
    draws = iter([int(code), int(code), 424242])
    monkeypatch.setattr(locker_mod.secrets, "randbelow", lambda n: next(draws))
    door2, code2 = kit.deposit_item("BJ-2")
    assert code2 == "424242" and door2 != door


def test_a_door_that_does_not_open_for_a_deposit_raises_an_alarm_and_another_door_can_be_tried(kit):
    kit.sim.jam(1)
    flow = kit.deposit
    flow.begin("1001")
    flow.set_case("BJ-3")
    flow.choose(size="small", require_id=False)
    flow.confirm_options()
    assert flow.step is Step.DOOR_FAILED and "door_not_opened:1" in kit.alarms()
    flow.listeners.append(lambda f: f.step is Step.DOOR_OPEN and kit.clock.at(2, lambda: kit.close(f.door)))
    flow.another_door()
    assert flow.step is Step.CODE and flow.door == 7


def test_no_code_is_issued_while_the_door_stands_open(kit):
    flow = kit.deposit
    flow.begin("1001")
    flow.set_case("BJ-4")
    flow.choose(require_id=False)
    steps = []
    flow.listeners.append(lambda f: steps.append(f.step))
    flow.listeners.append(lambda f: f.step is Step.DOOR_LEFT_OPEN and len(steps) < 6
                          and kit.clock.at(100, lambda: kit.close(f.door)))
    flow.confirm_options()
    assert Step.DOOR_LEFT_OPEN in steps and steps.index(Step.DOOR_LEFT_OPEN) < steps.index(Step.CODE)


def test_an_empty_door_after_a_deposit_issues_no_code_on_a_board_with_item_sensors(kerong_kit):
    kit = kerong_kit
    flow = kit.deposit
    flow.begin("1001")
    flow.set_case("BJ-5")
    flow.choose(require_id=False)
    flow.listeners.append(lambda f: f.step is Step.DOOR_OPEN and kit.clock.at(2, lambda: kit.close(f.door)))
    flow.confirm_options()
    assert flow.step is Step.EMPTY and kit.outbox("deposit") == []
    flow.listeners.clear()
    flow.listeners.append(lambda f: f.step is Step.DOOR_OPEN and kit.clock.at(
        2, lambda: (kit.sim.set_item(f.door, True), kit.close(f.door))))
    flow.open_again()
    assert flow.step is Step.CODE and len(kit.outbox("deposit")) == 1


def test_a_full_locker_says_no_door_is_free(kit):
    flow = kit.deposit
    for n in range(4):
        kit.deposit_item(f"BJ-L{n}", size="large")
    flow.begin("1001")
    flow.set_case("BJ-L9")
    flow.choose(size="large", require_id=False)
    flow.confirm_options()
    assert flow.step is Step.NO_FREE_DOOR


def test_canceling_a_deposit_frees_the_reserved_door(kit):
    flow = kit.deposit
    flow.begin("1001")
    flow.set_case("BJ-6")
    flow.choose(require_id=False)
    flow.listeners.append(lambda f: f.step is Step.DOOR_OPEN and kit.clock.at(2, flow.cancel))
    flow.confirm_options()
    flow.abandon_item()
    assert kit.model().occupied() == {} and kit.outbox("deposit") == []


def test_a_deposit_cut_short_by_a_restart_becomes_an_interrupted_item_for_recall(kit):
    model = kit.model()
    item = model.reserve(case_number="BJ-7", size="small", holder_hash=None, staff_id="1001")
    kit.service.start()
    assert model.item(item.id).state == "interrupted"
    assert f"deposit_interrupted:{item.door}" in kit.alarms()
    assert [i.id for i in model.recallable()] == [item.id]


# --- recall ----------------------------------------------------------------------------------------

def test_recall_opens_each_overdue_door_and_records_a_recall_when_staff_confirm(kit):
    d1, _ = kit.deposit_item("BJ-R1")
    d2, _ = kit.deposit_item("BJ-R2")
    kit.clock.advance(3 * 86400)
    d3, c3 = kit.deposit_item("BJ-R3")           # not overdue yet
    kit.clock.advance(5 * 86400)
    flow = kit.recall
    flow.begin("1001")
    assert [i.door for i in flow.items] == sorted([d1, d2])
    flow.open()
    assert flow.step is RecallStep.DOOR_OPEN and kit.sim.unlocked[-1] == flow.current.door
    flow.removed()
    flow.open()
    flow.not_there()
    assert flow.step is RecallStep.LIST and flow.recalled == 1
    [recall] = kit.outbox("recall")
    assert recall["staff_id"] == "1001" and recall["reason"] == "overdue" and recall["unconfirmed"] is False
    assert any(a.startswith("item_missing:") for a in kit.alarms())
    assert kit.model().find_by_code(c3) is not None


def test_a_recalled_items_code_no_longer_opens_anything(kit):
    door, code = kit.deposit_item("BJ-R4")
    kit.clock.advance(8 * 86400)
    flow = kit.recall
    flow.begin("1001")
    flow.open()
    flow.removed()
    assert kit.model().find_by_code(code) is None


def test_recall_door_that_does_not_open_goes_back_to_the_list_with_an_alarm(kit):
    door, _ = kit.deposit_item("BJ-R5")
    kit.clock.advance(8 * 86400)
    kit.sim.jam(door)
    flow = kit.recall
    flow.begin("1001")
    flow.open()
    assert flow.step is RecallStep.DOOR_FAILED and f"door_not_opened:{door}" in kit.alarms()
    flow.back()
    assert flow.step is RecallStep.LIST and len(flow.items) == 1


# --- the board against the model -------------------------------------------------------------------

def test_a_door_found_open_that_should_be_closed_raises_an_alarm_until_it_closes(kit):
    door, _ = kit.deposit_item("BJ-O1")
    kit.sim.open_door(door)
    kit.service.check_doors()
    assert f"door_left_open:{door}" in kit.alarms()
    kit.sim.close_door(door)
    kit.service.check_doors()
    assert not kit.alarms()


def test_the_health_poll_status_detail_drives_the_reconciliation(kit):
    from kiosk.hardware.device import HealthPoller

    poller = HealthPoller(kit.service.locker, listeners=[lambda dev, st: kit.service.on_status(st)])
    kit.sim.open_door(9)
    poller.poll_once()
    assert "door_left_open:9" in kit.alarms()
    kit.sim.close_door(9)
    poller.poll_once()
    assert not kit.alarms()


def test_item_sensors_that_disagree_with_the_model_raise_alarms(kerong_kit):
    kit = kerong_kit
    kit.sim.set_item(4, True)
    kit.service.check_doors()
    assert "unexpected_item:4" in kit.alarms()


def test_the_door_plan_refuses_doors_the_boards_do_not_have():
    class Run:
        def numbers(self):
            return range(20, 31)
        size, height, in_service = "small", "standard", True
    with pytest.raises(ValueError, match="door 25 does not exist"):
        DoorPlan(24, doors=[Run()])
    with pytest.raises(ValueError, match="columns and rows"):
        DoorPlan(24, columns=2, rows=6)
