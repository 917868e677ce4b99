"""The step line 「第 n 步 / 共 m 步」 of every multi-step citizen flow, counted by the flow's core (kiosk/core/steps.py)."""
from __future__ import annotations

import pytest

from kiosk.core import fees, progress, tickets
from kiosk.core.forms import flow as forms
from kiosk.core.locker import handin, pickup
from kiosk.core.printing import documents
from kiosk.core.steps import StepOf, Steps
from kiosk.sim.idcard import demo_resident
from tests.pickup.conftest import make_kit

FLOWS = {
    "pickup": (pickup.PickupFlow, pickup.Step),
    "handin": (handin.HandinFlow, handin.Step),
    "documents": (documents.DocumentPrintFlow, documents.DocState),
    "forms": (forms.FormFlow, forms.FormState),
    "tickets": (tickets.TicketFlow, tickets.Step),
    "fees": (fees.FeeFlow, fees.FeeState),
    "progress": (progress.ProgressFlow, progress.ProgressState),
}


@pytest.mark.parametrize("name", sorted(FLOWS))
def test_every_state_of_a_multi_step_flow_has_a_step_or_is_declared_to_have_none(name):
    cls, states = FLOWS[name]
    assert cls.steps is not None, f"{name} declares no steps"
    assert cls.steps.undeclared(states) == [], f"{name}: states without a place in STEPS"
    assert set(cls.steps.states) <= set(states)
    # every stage is reached by some state, and every flow has two steps at least
    assert {s for s in cls.steps.states.values() if s} == set(cls.steps.stages)
    assert len(cls.steps.stages) - len(cls.steps.optional) >= 2


@pytest.mark.parametrize("name", sorted(FLOWS))
def test_a_flow_starts_at_its_first_step_or_before_any(name):
    cls, states = FLOWS[name]
    first = [s for s in states if cls.steps.of(s) == StepOf(1, len(cls.steps.stages))]
    assert first, f"{name}: no state is step 1"


def test_an_optional_stage_skipped_shrinks_the_count_and_is_no_step():
    steps = Steps(("a", "b", "c"), {1: "a", 2: "b", 3: "c", 4: None}, optional=("b",))
    assert [steps.of(s) for s in (1, 2, 3, 4)] == [StepOf(1, 3), StepOf(2, 3), StepOf(3, 3), None]
    assert [steps.of(s, {"b"}) for s in (1, 2, 3)] == [StepOf(1, 2), None, StepOf(2, 2)]
    assert steps.of(1, {"a"}) == StepOf(1, 3)     # only optional stages may be skipped
    with pytest.raises(ValueError):
        Steps(("a",), {1: "z"})


def test_documents_count_card_choose_preview_pay_print_and_skip_what_a_visit_does_not_take():
    S, steps = documents.DocState, documents.STEPS
    assert [steps.of(s) for s in (S.READ_CARD, S.LIST, S.PREVIEW, S.PAYING, S.PRINTING)] == \
        [StepOf(n, 5) for n in range(1, 6)]
    assert steps.of(S.PRINTING, {"card", "pay"}) == StepOf(3, 3)   # a free blank form
    assert steps.of(S.IDLE) is None and steps.of(S.DONE) is None


def test_forms_count_card_fields_review_print():
    S, steps = forms.FormState, forms.STEPS
    assert [steps.of(s) for s in (S.START, S.FILL, S.REVIEW, S.PRINTING)] == [StepOf(n, 4) for n in range(1, 5)]
    assert steps.of(S.CHOOSE) is None and steps.of(S.DONE) is None


def test_a_pickup_with_the_holders_card_is_three_steps_and_without_it_two(tmp_path):
    kit = make_kit(tmp_path)
    card = demo_resident()
    flow = kit.pickup
    flow.begin()
    assert flow.step_of() == StepOf(1, 3)     # the code's item not known yet: the card may come
    _door, code = kit.deposit_item("BJ2026-0002", holder=card.id_number)
    flow = kit.pickup
    flow.begin()
    for d in code:
        flow.press(d)
    flow.submit()
    assert flow.step is pickup.Step.ID_CARD and flow.step_of() == StepOf(2, 3)
    seen = []
    flow.on_change(lambda f: seen.append((f.step, f.step_of())))
    kit.card_sim.insert_card(card)
    kit.close_after(5)
    flow.read_card()
    assert (pickup.Step.DOOR_OPEN, StepOf(3, 3)) in seen
    assert flow.step is pickup.Step.DONE and flow.step_of() is None

    _door, code = kit.deposit_item("BJ2026-0003")
    flow.begin()
    seen.clear()
    kit.close_after(5)
    for d in code:
        flow.press(d)
    flow.submit()
    assert (pickup.Step.DOOR_OPEN, StepOf(2, 2)) in seen


def test_the_waits_are_the_configured_and_the_drivers_timeouts(tmp_path):
    from kiosk.core.steps import device_wait
    from kiosk.hardware.device import Timeouts
    from kiosk.hardware.locker import TIMEOUTS

    class Board:
        timeouts = Timeouts("locker", TIMEOUTS, {"open_confirm": 5.0})

    # an unlock's answer and the door reporting open, tried twice; a device that does not say: the driver's
    assert 2 * device_wait(Board(), TIMEOUTS, "unlock_reply", "open_confirm") == 2 * (TIMEOUTS["unlock_reply"] + 5.0)
    assert device_wait(None, TIMEOUTS, "unlock_reply") == TIMEOUTS["unlock_reply"]

    kit = make_kit(tmp_path)
    card = demo_resident()
    _door, code = kit.deposit_item("BJ2026-0004", holder=card.id_number)
    flow = kit.pickup
    flow.begin()
    assert flow.wait_s() == 0                     # typing a code is no wait
    for d in code:
        flow.press(d)
    flow.submit()
    assert flow.step is pickup.Step.ID_CARD
    assert flow.wait_s() == kit.pickup.rules.id_card_timeout_s
    waits = []
    flow.on_change(lambda f: waits.append((f.step, f.wait_s())))
    kit.card_sim.insert_card(card)
    kit.close_after(5)
    flow.read_card()
    [opening] = {w for s, w in waits if s is pickup.Step.OPENING}
    assert opening == flow.door_opening_s > 1


@pytest.mark.parametrize("name", sorted(FLOWS))
def test_every_wait_is_a_state_of_the_flow(name):
    cls, states = FLOWS[name]
    assert cls.waits and set(cls.waits) <= set(states)
    assert all(cls.steps.states.get(s) is not None for s in cls.waits), "a wait outside the counted steps"
