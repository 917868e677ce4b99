"""Deposit with the case: the platform is asked about the case number (through the real central client, to
a loopback stand-in of its route: tests/sync/caseplatform.py) while staff choose the size; the locker, the
card reader and the scanner are the real drivers on their simulators, in virtual time."""
from __future__ import annotations

import time

import pytest

from kiosk.core.background import Held, Threads
from kiosk.core.locker.deposit import Handover, Lookup, Step
from kiosk.core.locker.model import DAY_S
from kiosk.core.locker.pickup import Step as PickupStep
from kiosk.core.privacy import holder_hash
from kiosk.sim.idcard import demo_resident
from kiosk.sync.client import CentralClient
from kiosk.wire import sealed
from tests.pickup.conftest import HASH_KEY, make_kit, notice_config
from tests.sync.caseplatform import CasePlatform, closed_port_url, demo_case

KIOSK, SECRET = "demo-hall-k01", "demo-secret-demo-hall-k01-0000000000"   # the default config's
HOLDER = demo_resident().id_number
HOLDER_HASH = holder_hash(HASH_KEY, HOLDER)


@pytest.fixture
def platform():
    p = CasePlatform(KIOSK, SECRET, {
        "BJ2026-0001": demo_case("BJ2026-0001", holder_hash=HOLDER_HASH, hold_days=5),
        "BJ2026-0002": demo_case("BJ2026-0002", item_name="营业执照", needs_id_card=False, hold_days=10,
                                 phone_masked=None),
        "BJ2026-0003": demo_case("BJ2026-0003", state="collected"),
        "BJ2026-0004": demo_case("BJ2026-0004", holder_hash=None),   # needs the card, holder not on the platform
    })
    yield p
    p.close()


@pytest.fixture
def kits(tmp_path):
    made = []

    def make(url: str, key: str | None = None, *, timeout_s: float = 1, lookup_executor=None):
        k = make_kit(tmp_path / f"k{len(made)}", cases=CentralClient(url, KIOSK, SECRET, lookup_timeout_s=timeout_s),
                     edit=notice_config(key))
        if lookup_executor is not None:
            k.deposit.lookup_executor = lookup_executor
        made.append(k)
        return k
    yield make
    for k in made:
        for dev in k.closers:
            dev.close()
        k.deposit.cases.close()


def close_when_open(kit, after_s: float = 5) -> None:
    flow = kit.deposit
    flow.listeners.append(lambda f: f.step is Step.DOOR_OPEN and kit.clock.at(after_s, lambda: kit.close(f.door)))


def test_a_found_case_fills_the_holder_and_rules_and_its_item_opens_only_for_that_card(kits, platform):
    kit = kits(platform.url)
    flow = kit.deposit
    flow.begin("1001")
    assert flow.set_case("bj2026-0001")
    assert flow.step is Step.OPTIONS and flow.lookup is Lookup.FOUND
    assert flow.item_name == "不动产权证书" and flow.phone_masked == "138****1234"
    assert flow.require_id and flow.holder == HOLDER_HASH and flow.holder_from_case
    flow.choose(size="small", require_id=False)     # the case's rule stands
    assert flow.require_id
    close_when_open(kit)
    flow.confirm_options()                          # no holder step: the platform gave the holder
    assert flow.step is Step.CODE, (flow.step, flow.notice)
    code, door = flow.code, flow.door
    [deposit] = kit.outbox("deposit")
    assert deposit["holder_hash"] == HOLDER_HASH and deposit["item_name"] == "不动产权证书"
    item = kit.model().occupied()[door]
    assert item.hold_days == 5 and item.due_at - item.deposited_at == pytest.approx(5 * DAY_S)
    flow.code_seen()
    # the applicant collects it with the card whose number the platform holds as a keyed hash
    pickup = kit.collect_with_card(code, demo_resident())
    assert pickup.step is PickupStep.DONE and pickup.id_checked


def test_a_found_case_without_the_id_card_rule_needs_no_holder_and_keeps_its_hold_time(kits, platform):
    kit = kits(platform.url)
    flow = kit.deposit
    flow.begin("1001")
    assert flow.set_case("BJ2026-0002") and flow.lookup is Lookup.FOUND
    assert not flow.require_id and flow.holder is None and flow.phone_masked is None
    close_when_open(kit)
    flow.confirm_options()
    assert flow.step is Step.CODE
    [deposit] = kit.outbox("deposit")
    assert deposit["holder_hash"] is None and deposit["item_name"] == "营业执照"
    assert kit.model().occupied()[flow.door].hold_days == 10


def test_a_case_needing_the_card_whose_holder_the_platform_lacks_asks_staff_for_the_holder(kits, platform):
    kit = kits(platform.url)
    flow = kit.deposit
    flow.begin("1001")
    assert flow.set_case("BJ2026-0004") and flow.lookup is Lookup.FOUND
    flow.confirm_options()
    assert flow.step is Step.HOLDER
    close_when_open(kit)
    assert flow.set_holder_number(HOLDER)
    assert flow.step is Step.CODE and kit.outbox("deposit")[0]["holder_hash"] == HOLDER_HASH


@pytest.mark.parametrize("where", ["unknown case", "platform down"])
def test_an_unknown_case_or_a_platform_down_leaves_the_deposit_as_without_a_platform(kits, platform, where):
    kit = kits(platform.url if where == "unknown case" else closed_port_url())
    flow = kit.deposit
    flow.begin("1001")
    assert flow.set_case("BJ2026-0099")
    assert flow.lookup is (Lookup.NOT_FOUND if where == "unknown case" else Lookup.UNREACHABLE)
    assert flow.case is None and flow.holder is None and flow.item_name is None
    flow.choose(size="small", require_id=True)
    flow.confirm_options()
    assert flow.step is Step.HOLDER              # staff read or type the holder, as today
    close_when_open(kit)
    assert flow.set_holder_number(HOLDER)
    assert flow.step is Step.CODE
    [deposit] = kit.outbox("deposit")
    assert deposit["holder_hash"] == HOLDER_HASH and deposit["item_name"] is None
    assert kit.model().occupied()[flow.door].hold_days is None     # [pickup] hold_days


def test_the_platform_saying_the_item_has_left_already_is_told_to_staff(kits, platform):
    kit = kits(platform.url)
    flow = kit.deposit
    flow.begin("1001")
    assert flow.set_case("BJ2026-0003")
    assert flow.lookup is Lookup.FOUND and flow.case.ended == "collected"


def test_while_the_platform_is_asked_staff_go_on_and_the_deposit_never_waits_for_the_answer(kits, platform):
    platform.delay_s = 30                            # held until released
    looked_up = []
    lookup = Threads(lambda fn: (fn(), looked_up.append(1)), workers=1, name="test-lookup")
    kit = kits(platform.url, timeout_s=20, lookup_executor=lookup)
    flow = kit.deposit
    try:
        flow.begin("1001")
        assert flow.set_case("BJ2026-0001")
        assert flow.step is Step.OPTIONS and flow.lookup is Lookup.LOOKING
        flow.choose(size="small", require_id=False)
        close_when_open(kit)
        start = time.monotonic()
        flow.confirm_options()
        assert flow.step is Step.CODE and time.monotonic() - start < 5
        assert flow.lookup is Lookup.NONE and not looked_up   # the platform has not answered yet
        platform.release.set()
        end = time.monotonic() + 10
        while not looked_up and time.monotonic() < end:
            time.sleep(0.02)
        assert looked_up
        # the late answer changed nothing: the deposit is the one staff made
        assert flow.step is Step.CODE and flow.case is None and flow.lookup is Lookup.NONE
        [deposit] = kit.outbox("deposit")
        assert deposit["holder_hash"] is None and deposit["item_name"] is None
    finally:
        lookup.shutdown()


def test_the_answer_is_used_only_for_the_case_it_was_asked_for(kits, platform):
    held = Held()
    flow = kits(platform.url, lookup_executor=held).deposit
    flow.begin("1001")
    assert flow.set_case("BJ2026-0001") and flow.lookup is Lookup.LOOKING
    flow.begin("1001")                      # staff start over (back to the menu, a new deposit)
    assert flow.set_case("BJ2026-0002")
    held.release(1)                         # the first case's answer arrives: not this item's
    assert flow.case is None and flow.lookup is Lookup.LOOKING
    held.release()
    assert flow.lookup is Lookup.FOUND and flow.case.case_number == "BJ2026-0002"


def test_a_scanned_case_barcode_is_looked_up_like_a_typed_number(kits, platform):
    kit = kits(platform.url)
    flow = kit.deposit
    flow.begin("1001")
    kit.scan_sim.scan("BJ2026-0002")
    assert flow.scan_case(5) and flow.case_number == "BJ2026-0002"
    assert flow.lookup is Lookup.FOUND and flow.item_name == "营业执照"


@pytest.mark.parametrize("with_key", [True, False])
def test_the_code_screen_knows_whether_the_platform_will_text_the_code(kits, platform, with_key):
    key = sealed.public_key_text(sealed.new_private_key().public_key()) if with_key else None
    kit = kits(platform.url, key)
    flow = kit.deposit
    flow.begin("1001")
    assert flow.set_case("BJ2026-0002")
    close_when_open(kit)
    flow.confirm_options()
    assert flow.step is Step.CODE and flow.texted is with_key
    # the case has no mobile number on the platform: staff hand the code on, with a key or without
    assert flow.handover is (Handover.NO_PHONE if with_key else Handover.STAFF)
    assert (kit.outbox("deposit")[0]["sealed_code"] is not None) is with_key
    flow.code_seen()
    assert not flow.texted and flow.case is None and flow.lookup is Lookup.NONE
