"""A code whose item has left the locker (collected, or recalled by staff) is told apart from a wrong code:
the citizen reads where the item went, and the wrong-code lockout comes no nearer. A held item with the
same code always wins. The real locker driver on its simulator, in virtual time."""
from __future__ import annotations

from kiosk.core.locker import model as locker_model
from kiosk.core.locker.pickup import Notice, Step
from tests.pickup.test_pickup_flow import type_code


def collect(kit, code: str) -> None:
    flow = kit.pickup
    flow.begin()
    kit.close_after(3)
    type_code(flow, code)
    assert flow.step is Step.DONE


def recall(kit, door: int) -> None:
    model = kit.model()
    item = model.occupied()[door]
    model.begin(item, "recall", staff_id="1001")
    assert model.finish(item)


def test_the_code_of_a_collected_item_says_when_it_was_collected_and_never_locks_pickup(kit):
    door, code = kit.deposit_item()
    kit.clock.advance(3600)
    collect(kit, code)
    collected_at = kit.model().item(1).ended_at
    kit.clock.advance(86400)
    flow = kit.pickup
    for _ in range(2 * kit.service.settings.pickup.wrong_codes_before_lockout):
        flow.begin()
        type_code(flow, code)
        assert flow.step is Step.CODE and flow.notice is Notice.ALREADY_COLLECTED
        assert flow.ended_at == collected_at
    assert flow.tries_left == kit.service.settings.pickup.wrong_codes_before_lockout
    assert kit.model().locked_for() == 0
    assert kit.sim.unlocked.count(door) == 2          # the deposit's and the pickup's: never again
    assert len(kit.outbox("pickup")) == 1


def test_the_code_of_an_item_recalled_by_staff_says_it_went_back_to_the_window(kit):
    door, code = kit.deposit_item()
    recall(kit, door)
    flow = kit.pickup
    flow.begin()
    type_code(flow, code)
    assert flow.step is Step.CODE and flow.notice is Notice.RECALLED
    assert kit.model().locked_for() == 0 and flow.tries_left == 5


def test_the_qr_code_of_a_collected_item_is_refused_with_the_same_message(kit):
    door, code = kit.deposit_item()
    collect(kit, code)
    flow = kit.pickup
    flow.begin()
    kit.scan_sim.scan(f"KIOSK-PICKUP:{code}")
    flow.scanned(kit.service.pickup.scanner.read_code(5))
    assert flow.step is Step.CODE and flow.notice is Notice.ALREADY_COLLECTED
    assert kit.sim.unlocked.count(door) == 2


def test_a_held_item_with_the_same_code_always_wins(kit, monkeypatch):
    drawn = iter([123456, 123456])   # the second deposit draws the first one's code again
    monkeypatch.setattr(locker_model.secrets, "randbelow", lambda _n: next(drawn))
    first_door, code = kit.deposit_item("BJ2026-0001")
    collect(kit, code)
    second_door, again = kit.deposit_item("BJ2026-0002")
    assert again == code == "123456" and second_door == first_door   # the freed small door, the same code
    flow = kit.pickup
    flow.begin()
    kit.close_after(3)
    type_code(flow, code)
    assert flow.step is Step.DONE and flow.item.case_number == "BJ2026-0002"


def test_a_code_no_item_ever_had_is_still_a_wrong_code(kit):
    _door, code = kit.deposit_item()
    flow = kit.pickup
    flow.begin()
    type_code(flow, "000000" if code != "000000" else "111111")
    assert flow.notice is Notice.WRONG_CODE and flow.tries_left == 4
