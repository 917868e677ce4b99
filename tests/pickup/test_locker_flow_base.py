"""The locker flows on the one flow base (kiosk/core/flow.py): declared transitions, the blocking steps
on the injected executor, and late reports of an ended visit dropped."""
from __future__ import annotations

import pytest

from kiosk.app.pickup import PickupService
from kiosk.core.background import Held
from kiosk.core.flow import FlowError
from kiosk.core.locker.deposit import Step as DepositStep
from kiosk.core.locker.pickup import Notice, Step


def held_service(kit) -> tuple[PickupService, Held]:
    held = Held()
    service = PickupService(kit.service.settings, kit.store, kit.service.locker, clock=kit.clock, monotonic=kit.clock,
                            executor_for=lambda _name: held)
    return service, held


def test_a_change_the_flow_does_not_declare_is_refused(kit):
    flow = kit.pickup
    flow.begin()
    with pytest.raises(FlowError, match="pickup: code -> done"):
        flow.go(Step.DONE)
    assert flow.step is Step.CODE


def test_the_blocking_steps_wait_on_the_executor_and_the_flow_changes_when_they_report(kit):
    door, code = kit.deposit_item()
    service, held = held_service(kit)
    flow = service.pickup
    flow.begin()
    assert held.pending == 1 and flow.step is Step.CODE
    held.release()
    for d in code:
        flow.press(d)
    flow.submit()
    assert held.pending == 1 and flow.step is Step.CODE and kit.sim.unlocked == [door]   # nothing opened yet
    flow.listeners.append(lambda f: f.step is Step.DOOR_OPEN and kit.clock.at(2, lambda: kit.close(f.door)))
    held.release()
    assert flow.step is Step.DONE and kit.sim.unlocked == [door, door] and len(kit.outbox("pickup")) == 1


def test_a_late_report_of_an_ended_visit_is_dropped_but_what_it_wrote_stays(kit):
    service, held = held_service(kit)
    flow = service.pickup
    flow.begin()
    held.release()
    for d in "000000":
        flow.press(d)
    flow.submit()            # a wrong code, still being checked when the visit ends
    flow.begin()             # the next citizen
    held.release()
    assert flow.step is Step.CODE and flow.notice is not Notice.WRONG_CODE
    assert flow.tries_left == kit.service.settings.pickup.wrong_codes_before_lockout   # the new visit's count
    assert service.model().locked_for() == 0
    wrong = kit.store.connect().execute("SELECT wrong FROM locker_lockout WHERE scope='pickup'").fetchone()
    assert wrong["wrong"] == 1   # the store counted it: the write ran in the step, not in the report


def test_a_deposit_door_opens_on_the_executor_and_the_code_comes_after_it_closed(kit):
    service, held = held_service(kit)
    flow = service.deposit
    flow.begin("1001")
    assert flow.set_case("BJ-HELD")
    flow.choose(size="small", require_id=False)
    flow.confirm_options()
    assert flow.step is DepositStep.OPTIONS and kit.sim.unlocked == []
    flow.listeners.append(lambda f: f.step is DepositStep.DOOR_OPEN and kit.clock.at(2, lambda: kit.close(f.door)))
    held.release()
    assert flow.step is DepositStep.CODE and flow.code and len(kit.outbox("deposit")) == 1


def test_a_device_that_could_not_be_opened_never_reaches_the_locker_flows():
    """The composition gives the flows a device only when it was opened; the stand-in for one that
    could not be (it still shows in diagnostics, with why) is told apart by its type."""
    from kiosk.app.pickup import _usable
    from kiosk.hardware.device import Completion, DeviceError, UnavailableDevice

    stand_in = UnavailableDevice("idcard", "sam", "/dev/ttyUSB9",
                                 DeviceError("idcard", Completion.DEVICE_NOT_READY, "no such port", "no_device"))
    opened = object()
    assert _usable(stand_in) is None and _usable(None) is None and _usable(opened) is opened


def test_the_flow_listens_to_the_scanner_until_told_to_stop_and_a_code_of_an_ended_visit_is_dropped():
    """The code step's scanner loop runs on the flow's scan executor (the screen never touches the
    scanner): codes come back through the flow's thread; after the visit ends they are dropped."""
    import threading

    from kiosk.core.background import Held
    from kiosk.core.locker.pickup import PickupFlow

    class Scanner:
        def __init__(self):
            self.codes, self.discarded, self.drained = [], 0, threading.Event()

        def discard_pending(self):
            self.discarded += 1

        def read_code(self, timeout):
            if not self.codes:
                return None
            code = self.codes.pop(0)
            if not self.codes:
                self.drained.set()
            return code

    class Rules:
        wrong_codes_before_lockout = 5

    class Threadless:   # runs the loop on a thread of its own; delivery is held for the test
        def __init__(self):
            self.threads = []

        def run(self, work, done=None):
            t = threading.Thread(target=work, daemon=True)
            self.threads.append(t)
            t.start()

    scanner, loop, flow_side = Scanner(), Threadless(), Held()   # Held delivers at once, on the loop's thread
    flow = PickupFlow(lambda: None, None, rules=Rules(), hash_key="k", scanner=scanner,
                      executor=flow_side, scan_executor=loop)
    seen, got = [], threading.Event()
    flow.scanned = lambda code: (seen.append(code), got.set())
    scanner.codes.append("A")
    assert flow.start_scanning(poll_s=0.01) and not flow.start_scanning(poll_s=0.01)   # one loop at a time
    assert got.wait(5) and seen == ["A"]
    scanner.drained.clear()
    flow.new_visit()                     # the visit ends: what is read now is not shown to the next one
    scanner.codes.append("B")
    assert scanner.drained.wait(5)
    flow.stop_scanning()
    loop.threads[0].join(5)
    assert not loop.threads[0].is_alive() and scanner.discarded == 1
    assert seen == ["A"]                 # "B" was read for the ended visit: dropped


def test_a_scanner_loop_of_the_last_visit_ends_when_the_next_one_starts_listening():
    """On one scan thread, the next visit's loop waits for the last visit's to end: stopping must end
    that one even if listening starts again before it notices."""
    import threading

    from kiosk.core.background import Inline
    from kiosk.core.locker.pickup import PickupFlow

    class Scanner:
        def __init__(self):
            self.reading = threading.Event()
            self.release = threading.Event()

        def discard_pending(self):
            pass

        def read_code(self, timeout):
            self.reading.set()
            self.release.wait(5)
            return None

    class Rules:
        wrong_codes_before_lockout = 5

    class OneThread:
        def __init__(self):
            self.threads = []

        def run(self, work, done=None):
            t = threading.Thread(target=work, daemon=True)
            self.threads.append(t)
            t.start()

    scanner, loop = Scanner(), OneThread()
    flow = PickupFlow(lambda: None, None, rules=Rules(), hash_key="k", scanner=scanner,
                      executor=Inline(), scan_executor=loop)
    assert flow.start_scanning(poll_s=0.01)
    assert scanner.reading.wait(5)      # the first loop is inside a read
    flow.stop_scanning()
    flow.new_visit()
    assert flow.start_scanning(poll_s=0.01)   # the next visit listens before the first loop noticed
    scanner.release.set()
    loop.threads[0].join(5)
    assert not loop.threads[0].is_alive()     # its own switch is off: it ended
    flow.stop_scanning()
    loop.threads[1].join(5)
    assert not loop.threads[1].is_alive()


def test_the_composition_gives_the_pickup_a_scan_executor_even_before_the_scanner_is_up(kit):
    """Devices bind into the flows once they are up: the scanner arrives after the flows are made, so
    the executor its loop runs on must be there from the start (Inline, which cannot host the loop,
    is the one case without)."""
    from kiosk.app.pickup import PickupService
    from kiosk.core.background import Held

    made = []

    def executor_for(name):
        made.append(name)
        return Held()

    service = PickupService(kit.service.settings, kit.store, None, scanner=None, executor_for=executor_for)
    assert "scan" in made and service.pickup.scan_executor is not None
    assert kit.service.pickup.scan_executor is None     # the tests' default, Inline: no loop
