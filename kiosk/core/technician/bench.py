"""The technician's device panel: every configured device, its live status, a self-test and its own checks.

Each device shows its driver, port, state and detail, the last error and the
last self-test. Checks: read a card (shown masked), open one door or every door
in turn (door states follow live), print a test receipt, print an A4 test
page, a test sale and its refund, a scanner test (payment codes masked). On a
simulated kiosk the simulators' fault controls are here too, when the composition
hands them in (`faults`, a `FaultControls`: kiosk/sim/faults.py, composed in by
the tour, the UI tests and `kiosk ui` on simulated devices, never built here).

Every device command runs on the injected executor (kiosk/core/background.py),
one at a time per device; `on_change(name)` is called from its thread after each step, and the
screen redraws through a trigger. A door that does not open and a payment
whose outcome is unknown go to the alarms (kiosk/core/device_alarms.py).
Plain Python, devices injected: tested without a display. What core may
not build itself comes from the composition (kiosk/app/tech.py): the
simulator controls (`faults`, None on a real kiosk), the test receipt
(`test_receipt(cut)`) and the A4 test page (`test_page(path, hall)`).
"""
from __future__ import annotations

import logging
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Mapping, Protocol, Sequence

from kiosk.core.background import Executor, Inline
from kiosk.core.privacy import mask_id_number, mask_name
from kiosk.core.technician import wording
from kiosk.core.technician.wording import Said, said
from kiosk.hardware.device import Device, DeviceError, State, Status
from kiosk.i18n import N_

log = logging.getLogger(__name__)

# msgids of the checks, by key; which device offers which comes from `checks_for`
CHECKS = {
    "self_test": N_("Self-test"),
    "read_card": N_("Read a card"),
    "open_door": N_("Open selected door"),
    "open_all": N_("Open every door in turn"),
    "door_states": N_("Read door states"),
    "print_receipt": N_("Print a test receipt"),
    "print_a4": N_("Print an A4 test page"),
    "test_sale": N_("Test sale and refund"),
    "scan": N_("Scanner test"),
}
_BY_KIND = {
    "idcard": ("read_card",),
    "locker": ("open_door", "open_all", "door_states"),
    "receipt_printer": ("print_receipt",),
    "document_printer": ("print_a4",),
    "payment": ("test_sale",),
    "scanner": ("scan",),
}


@dataclass(frozen=True)
class Target:
    """What a fault control acts on besides its simulator: the selected door and the locker's first board."""
    door: int = 1
    board: int = 1


class FaultControl(Protocol):
    key: str
    label: str                   # msgid
    sim: str                     # the simulator's name, as in sim://NAME

    @property
    def one_shot(self) -> bool: ...


class FaultControls(Protocol):
    """Fault injection on the devices that are simulators (kiosk/sim/faults.py `SimFaults`)."""

    def controls_for(self, port: str) -> Sequence[FaultControl]: ...

    def state(self, control: FaultControl, target: Target) -> bool: ...

    def apply(self, control: FaultControl, on: bool, target: Target) -> None: ...


@dataclass
class Result:
    """The last check run on one device; each line a msgid with its fields, translated where it is shown."""
    check: str
    running: bool = True
    ok: bool | None = None
    lines: list[Said] = field(default_factory=list)
    stopped: bool = False    # the technician pressed Stop
    at: float = 0.0          # wall clock when it started (the panel shows it: an old result is not news)


@dataclass
class Row:
    name: str
    kind: str
    driver: str
    port: str
    state: str = "unknown"
    detail: str = ""
    last_error: str | None = None       # the driver's own words (the diagnostics bundle, the log)
    last_problem: Said | None = None    # the same failure from its codes, for the panel
    self_test_ok: bool | None = None
    self_test: str = ""


class DeviceBench:
    def __init__(self, devices: Mapping[str, Device], *, alarms=None, executor: Executor | None = None,
                 faults: FaultControls | None = None, test_receipt: Callable[[str], Any] | None = None,
                 test_page: Callable[[Path, str], Any] | None = None,
                 on_change: Callable[[str], None] | None = None, card_timeout_s: float = 15.0,
                 scan_timeout_s: float = 15.0, test_amount_fen: int = 1, hall: str = "",
                 clock: Callable[[], float] = time.monotonic, wall: Callable[[], float] = time.time):
        self.devices = dict(devices)
        self.alarms = alarms
        self.faults = faults
        self.test_receipt = test_receipt
        self.test_page = test_page
        # who else hears a status the panel read itself (the alarm desk: a fault injected or fixed while the
        # technician watches raises or clears its alarm now, not at the next health poll)
        self.status_listeners: list[Callable[[Device, Status], None]] = []
        self.executor: Executor = executor if executor is not None else Inline()
        self.on_change = on_change or (lambda name: None)
        self.card_timeout_s = card_timeout_s
        self.scan_timeout_s = scan_timeout_s
        self.test_amount_fen = test_amount_fen
        self.hall = hall
        self.clock = clock
        self.wall = wall
        self.rows: dict[str, Row] = {n: _row(n, d) for n, d in self.devices.items()}
        self.results: dict[str, Result] = {}
        self.selected: str | None = next(iter(self.devices), None)
        self.selected_door = 1
        self.doors: list[dict] = []          # the locker's doors as last read: {door, closed, item_present}
        self._busy: set[str] = set()
        self._stop: dict[str, threading.Event] = {}
        self._lock = threading.Lock()

    def set_devices(self, devices: Mapping[str, Device]) -> None:
        """The devices once they are built (device bring-up runs off the main thread)."""
        for n, d in devices.items():
            if n not in self.rows:
                self.devices[n] = d
                self.rows[n] = _row(n, d)
        if self.selected is None:
            self.selected = next(iter(self.devices), None)

    def reset(self) -> None:
        """A new technician visit: no results of the last one, the first device selected."""
        for name in list(self._busy):
            self.stop(name)
        self.results.clear()
        self.selected = next(iter(self.devices), None)
        self.selected_door = 1

    # -- reading -------------------------------------------------------------------------------
    def names(self) -> list[str]:
        return list(self.devices)

    def checks_for(self, name: str) -> list[str]:
        kind = self.rows[name].kind
        missing = {"print_receipt": self.test_receipt, "print_a4": self.test_page}
        return ["self_test", *(c for c in _BY_KIND.get(kind, ()) if missing.get(c, True) is not None)]

    def busy(self, name: str) -> bool:
        return name in self._busy

    def controls(self, name: str) -> list[tuple[FaultControl, bool]]:
        """The simulator's fault controls for this device, each with whether it is on now."""
        if self.faults is None:
            return []
        target = self._target()
        out = []
        for c in self.faults.controls_for(self.devices[name].port):
            try:
                on = self.faults.state(c, target)
            except Exception:   # a simulator without that layout: show the control as off
                on = False
            out.append((c, on))
        return out

    @property
    def locker(self) -> str | None:
        return next((n for n, r in self.rows.items() if r.kind == "locker"), None)

    def door_count(self) -> int:
        name = self.locker
        return getattr(self.devices[name], "door_count", 0) if name else 0

    # -- live status (a HealthPoller listener) ---------------------------------------------------
    def on_status(self, device: Device, status: Status) -> None:
        row = self.rows.get(device.name)
        if row is None:
            return
        row.state, row.detail = status.state.value, status.detail
        _note_error(row, device)
        if row.kind == "locker" and status.state is State.ONLINE and self.doors:
            from kiosk.core.device_alarms import open_doors

            opened = set(open_doors(status.detail))
            for d in self.doors:
                d["closed"] = d["door"] not in opened
        self.on_change(device.name)

    def refresh(self, names: list[str] | None = None) -> None:
        """Ask each device for its status now (on workers), as the panel opens."""
        for name in names or self.names():
            if name not in self._busy:
                self.executor.run(lambda n=name: self._poll(n))
        if self.locker and (names is None or self.locker in names):
            self.run(self.locker, "door_states")

    def _poll(self, name: str) -> None:
        device = self.devices[name]
        try:
            status = device.status()
        except DeviceError as exc:
            status = Status(State.OFFLINE, exc.detail or "no_answer")
        except Exception as exc:
            log.exception("%s: status failed", name)
            status = Status(State.HARDWARE_ERROR, type(exc).__name__.lower())
        self.on_status(device, status)
        for fn in list(self.status_listeners):
            try:
                fn(device, status)
            except Exception:
                log.exception("%s: status listener failed", name)

    def poll_doors(self) -> None:
        """Read the door states again (the panel's live view), without replacing the last check's result."""
        name = self.locker
        if name is None or name in self._busy:
            return
        with self._lock:
            self._busy.add(name)

        def run():
            try:
                self._door_states(self.devices[name])
            except DeviceError as exc:
                log.info("technician: door states: %s", exc.message)
            finally:
                with self._lock:
                    self._busy.discard(name)
                self.on_change(name)
        self.executor.run(run)

    # -- choosing ------------------------------------------------------------------------------
    def select(self, name: str) -> None:
        if name not in self.devices:
            raise KeyError(name)
        self.selected = name
        self.on_change(name)

    def select_door(self, door: int) -> None:
        if 1 <= door <= max(1, self.door_count()):
            self.selected_door = door
            if self.locker:
                self.on_change(self.locker)

    def _target(self) -> Target:
        name = self.locker
        board = self.devices[name].boards[0].address if name and hasattr(self.devices[name], "boards") else 1
        return Target(door=self.selected_door, board=board)

    # -- acting --------------------------------------------------------------------------------
    def toggle(self, name: str, key: str) -> bool:
        """Switch a simulator fault on or off (or fire a one-shot). Returns the new state."""
        target = self._target()
        for control, on in self.controls(name):
            if control.key == key:
                new = True if control.one_shot else not on
                self.faults.apply(control, new, target)
                log.warning("technician: simulator %s: %s %s", control.sim, key, "on" if new else "off")
                self.refresh([name])
                self.on_change(name)
                return new
        raise KeyError(f"{name} has no simulator control {key!r}")

    def run(self, name: str, check: str, **kwargs) -> bool:
        """Start a check on its worker; False when the device is busy with another."""
        if check not in self.checks_for(name):
            raise ValueError(f"{name} has no check {check!r}; it has {', '.join(self.checks_for(name))}")
        with self._lock:
            if name in self._busy:
                return False
            self._busy.add(name)
            self._stop[name] = threading.Event()
        self.results[name] = Result(check, at=self.wall())
        self.on_change(name)
        self.executor.run(lambda: self._run(name, check, kwargs))
        return True

    def stop(self, name: str) -> None:
        """Stop the running check (every-door run, card wait, payment wait, scan wait)."""
        ev = self._stop.get(name)
        if ev:
            ev.set()
        if name in self.results and self.results[name].running:
            self.results[name].stopped = True
        try:
            self.devices[name].cancel()
        except Exception:
            log.exception("%s: cancel failed", name)

    def _run(self, name: str, check: str, kwargs: dict) -> None:
        result = self.results[name]
        device = self.devices[name]
        try:
            ok = getattr(self, f"_check_{check}")(device, result, **kwargs)
            result.ok = bool(ok)
        except DeviceError as exc:
            log.info("technician check %s on %s: %s (%s)", check, name, exc.message, exc.detail)
            result.ok = False
            result.lines.append(wording.problem(exc.completion.value, exc.detail))
        except Exception as exc:   # a driver bug shows as a failed check, never as a dead panel
            log.exception("technician check %s on %s failed", check, name)
            result.ok = False
            result.lines.append(said(N_("the driver failed: {error}"), error=f"{type(exc).__name__}: {exc}"))
        finally:
            result.running = False
            _note_error(self.rows[name], device)
            with self._lock:
                self._busy.discard(name)
            if check != "self_test":   # the row shows the device as it is after the check, not as before
                self._poll(name)
            self.on_change(name)

    # -- the checks (on the worker) ----------------------------------------------------------------
    def _check_self_test(self, device: Device, result: Result) -> bool:
        test = device.self_test()
        row = self.rows[device.name]
        row.self_test_ok, row.self_test = test.ok, test.message
        log.info("technician: self-test of %s: %s", device.name, test.message)
        self._poll(device.name)
        # the driver's message is English prose: the panel says what the device's state and detail say
        result.lines.append(said(N_("self-test passed: {status}") if test.ok else N_("self-test failed: {status}"),
                                 status=wording.status(row.state, row.detail)))
        return test.ok

    def _check_read_card(self, device, result: Result) -> bool:
        result.lines.append(said(N_("waiting up to {seconds} s for a card"), seconds=f"{self.card_timeout_s:g}"))
        self.on_change(device.name)
        card = device.read_card(self.card_timeout_s)
        shown = card.masked(mask_name=mask_name, mask_number=mask_id_number)
        del card   # card data lives no longer than needed (DESIGN.md section 7)
        result.lines[:] = wording.card_lines(shown)
        return not shown.get("problems")

    def _door_states(self, device) -> None:
        self.doors = [s.as_dict() for s in device.door_states()]
        self.on_change(device.name)

    def _check_door_states(self, device, result: Result) -> bool:
        self._door_states(device)
        opened = [d["door"] for d in self.doors if not d["closed"]]
        result.lines.append(said(N_("{count} doors; open: {doors}"), count=len(self.doors),
                                 doors=", ".join(map(str, opened))) if opened
                            else said(N_("{count} doors; none open"), count=len(self.doors)))
        return True

    def _open(self, device, door: int, result: Result) -> bool:
        try:
            state = device.open_door(door)
        except DeviceError as exc:
            log.info("technician: door %d: %s", door, exc.message)
            why = wording.problem(exc.completion.value, exc.detail)
            # "door 3 did not open" names its door already
            result.lines.append(why if exc.detail.startswith("door_not_opened") else
                                said(N_("door {door}: {problem}"), door=door, problem=why))
            if self.alarms is not None and exc.detail.startswith(("door_not_opened", "no_answer")):
                self.alarms.door_failed(device.name, door, exc.message)
            return False
        if self.alarms is not None:
            self.alarms.door_opened(device.name, door)
        result.lines.append(said(N_("door {door}: open"), door=door))
        for d in self.doors:
            if d["door"] == door:
                d["closed"] = state.closed
        self.on_change(device.name)
        return True

    def _check_open_door(self, device, result: Result, door: int | None = None) -> bool:
        door = door or self.selected_door
        log.warning("technician: open door %d", door)
        ok = self._open(device, door, result)
        self._door_states(device)
        return ok

    def _check_open_all(self, device, result: Result) -> bool:
        log.warning("technician: open every door in turn")
        stop = self._stop[device.name]
        failed = []
        total, tried = device.door_count, 0
        for door in range(1, total + 1):
            if stop.is_set():
                break
            self.selected_door = door
            # one line per door would push the door grid off the screen: the failures, then where the run is
            del result.lines[len(failed):]
            if not self._open(device, door, result):
                failed.append(door)
            tried = door
            try:
                self._door_states(device)
            except DeviceError as exc:
                result.lines.append(said(N_("door states: {problem}"),
                                         problem=wording.problem(exc.completion.value, exc.detail)))
        del result.lines[len(failed):]
        done = said(N_("{tried} of {total} doors tried"), tried=tried, total=total)
        if stop.is_set():
            done = said(N_("stopped after door {door}: {done}"), door=tried, done=done)
        result.lines.insert(0, said(N_("{done}; did not open: {doors}"), done=done, doors=", ".join(map(str, failed)))
                            if failed else said(N_("{done}; every one opened"), done=done))
        return not failed and not stop.is_set()

    def _check_print_receipt(self, device, result: Result) -> bool:
        after = device.print_receipt(self.test_receipt(getattr(device, "cut_mode", "full")))
        result.lines.append(said(N_("test receipt printed ({detail})"), detail=wording.cause(after.detail))
                            if after.detail else said(N_("test receipt printed")))
        return True

    def _check_print_a4(self, device, result: Result) -> bool:
        with tempfile.TemporaryDirectory(prefix="kiosk-a4-") as tmp:
            pdf = Path(tmp) / "a4-test.pdf"
            self.test_page(pdf, self.hall or "kiosk")
            job = device.print_pdf(pdf, title="kiosk A4 test")
        info = job.as_dict()
        state = str(info.get("state_name"))
        result.lines.append(said(N_("job {job}: {state}"), job=info.get("job_id"),
                                 state=said(wording.JOB_STATES.get(state, state))))
        return info.get("state_name") == "completed"

    def _check_test_sale(self, device, result: Result) -> bool:
        amount = self.test_amount_fen
        sale = device.prepare_sale(amount)
        # a test sale is a real sale on real hardware: the reference is logged before it is sent
        log.warning("technician: test sale %s of %d fen sent to the terminal", sale.reference, amount)
        result.lines.append(said(N_("sale {reference}: {amount} fen, waiting for the card"),
                                 reference=sale.reference, amount=amount))
        self.on_change(device.name)
        out = device.send(sale)
        result.lines[-1] = said(N_("sale {reference} ({amount} fen): {outcome}"), reference=sale.reference,
                                amount=amount, outcome=wording.outcome(out.result.value, out.detail))
        if out.result.value == "unknown":
            if self.alarms is not None and out.sent:
                self.alarms.payment_unknown(device.name, sale.reference, out.detail)
            return False
        if out.result.value != "approved":
            return False
        refund = device.prepare_refund(amount)
        log.warning("technician: refund %s of %d fen for test sale %s", refund.reference, amount, sale.reference)
        result.lines.append(said(N_("refund {reference}: waiting"), reference=refund.reference))
        self.on_change(device.name)
        back = device.send(refund)
        result.lines[-1] = said(N_("refund {reference} ({amount} fen): {outcome}"), reference=refund.reference,
                                amount=amount, outcome=wording.outcome(back.result.value, back.detail))
        if back.result.value == "unknown" and self.alarms is not None and back.sent:
            self.alarms.payment_unknown(device.name, refund.reference, back.detail)
        return back.result.value == "approved"

    def _check_scan(self, device, result: Result) -> bool:
        seconds = f"{self.scan_timeout_s:g}"
        result.lines.append(said(N_("scan a code (waiting up to {seconds} s)"), seconds=seconds))
        self.on_change(device.name)
        code = device.read_code(self.scan_timeout_s)
        if code is None:
            result.lines[-1] = said(N_("nothing scanned within {seconds} s"), seconds=seconds)
            return False
        d = code.as_dict()
        result.lines[-1] = said(N_("{kind}: {code} ({length} characters)"), code=d["code"], length=d["length"],
                                kind=said(wording.CODE_KINDS.get(d["kind"], d["kind"])))
        return True

    def describe(self) -> list[dict]:
        """The rows as the diagnostics bundle carries them (in the drivers' own words)."""
        return [{k: v for k, v in vars(r).items() if k != "last_problem"} for r in self.rows.values()]


def _row(name: str, device: Device) -> Row:
    row = Row(name, getattr(device, "kind", name), device.driver, device.port)
    _note_error(row, device)
    return row


def _note_error(row: Row, device: Device) -> None:
    """The device's last failure, in its own words and from its codes."""
    row.last_error = device.last_error
    codes = getattr(device, "last_problem", None)
    row.last_problem = wording.problem(*codes) if codes else None
