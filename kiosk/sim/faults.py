"""The simulators' fault controls, as the technician mode offers them: so the mode can be shown and tested.

Only a device on `sim://NAME` has them. Each control is a toggle (on: the
fault is injected; off: cleared) or a one-shot (a code scanned, a card put on
the reader). Labels are msgids; the screen translates them. Locker controls act
on the door the technician has selected.

The product never builds them: the technician's device panel
(kiosk/core/tech_bench.py) takes any `FaultControls`, and a `SimFaults` is
handed to the composition root (kiosk/app/root.py `build(faults=...)`) by the
tour, the UI tests and `kiosk ui` on a config whose devices are simulators.
Tour steps and tests switch faults with `apply` below, through the same
simulators (those of this process, kiosk/sim/registry.py). Controls use only
the simulators' public control methods.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Iterable

from kiosk.core.tech_bench import Target
from kiosk.i18n import N_

# a made-up WeChat-shaped payment code and a pickup code: what the scanner test shows, masked
DEMO_PAYMENT_CODE = "134567890123456789"
DEMO_PICKUP_CODE = "KIOSK-PICKUP:482913"


@dataclass(frozen=True)
class SimControl:
    key: str
    label: str                                   # msgid
    sim: str                                     # simulator name, as in sim://NAME
    is_on: Callable[[object, Target], bool] | None   # None: a one-shot
    set: Callable[[object, bool, Target], None]

    @property
    def one_shot(self) -> bool:
        return self.is_on is None


def _paper(state):
    return SimControl(f"paper_{state}", N_("Paper near end") if state == "near_end" else N_("Paper out"), "receipt",
                      lambda s, t: s.paper == state, lambda s, on, t: s.set_paper(state if on else "ok"))


def _outcome(key: str, label: str, outcome: str, delay: float | None = None):
    def is_on(s, t):
        return s.outcome == outcome and (delay is None or s.answer_delay == delay)

    def set_(s, on, t):
        if on:
            s.set_outcome(outcome, delay if delay is not None else 0.5)
        else:
            s.set_outcome("approve", 0.5)
    return SimControl(key, label, "payment", is_on, set_)


def _reader_fault(key: str, label: str, fault: str):
    return SimControl(key, label, "idcard", lambda s, t: s.fault == fault,
                      lambda s, on, t: s.set_fault(fault if on else None))


def _card(key: str, label: str, card: str):
    return SimControl(key, label, "idcard", None, lambda s, on, t: s.insert_card(card))


CONTROLS: tuple[SimControl, ...] = (
    # receipt printer
    _paper("near_end"),
    _paper("out"),
    SimControl("cover_open", N_("Cover open"), "receipt", lambda s, t: s.cover_open,
               lambda s, on, t: s.set_cover_open(on)),
    SimControl("printer_offline", N_("Printer offline"), "receipt", lambda s, t: s.offline,
               lambda s, on, t: s.set_offline(on)),
    # locker: the selected door, the first board
    SimControl("door_jammed", N_("Selected door does not open"), "locker",
               lambda s, t: s.is_jammed(t.door), lambda s, on, t: s.jam(t.door, on)),
    SimControl("door_left_open", N_("Selected door left open"), "locker",
               lambda s, t: s.is_open(t.door), lambda s, on, t: s.open_door(t.door) if on else s.close_door(t.door)),
    SimControl("board_silent", N_("Lock board silent"), "locker", lambda s, t: s.board(t.board).silent,
               lambda s, on, t: s.silence(t.board, on)),
    SimControl("close_all", N_("Close every door (by hand)"), "locker", None, lambda s, on, t: s.close_all()),
    # ID card reader
    SimControl("no_card", N_("No card on the reader"), "idcard", lambda s, t: s.card is None,
               lambda s, on, t: s.remove_card() if on else s.insert_card("resident")),
    _reader_fault("reader_garbage", N_("Reader answers garbage"), "garbage"),
    _reader_fault("reader_silent", N_("Reader silent"), "silent"),
    _card("card_expired", N_("Put an expired card"), "expired"),
    _card("card_wrong_digit", N_("Put a card with a wrong check digit"), "wrong_check_digit"),
    # payment terminal
    _outcome("payment_declined", N_("Payment declined"), "decline"),
    _outcome("payment_no_answer", N_("Payment: no answer"), "no_answer"),
    _outcome("payment_offline", N_("Terminal offline"), "offline"),
    _outcome("payment_slow", N_("Answer after 90 s"), "approve", 90.0),
    # scanner
    SimControl("scan_pickup", N_("Scan a pickup code"), "scanner", None,
               lambda s, on, t: s.scan(DEMO_PICKUP_CODE, delay=0.2)),
    SimControl("scan_payment", N_("Scan a payment code"), "scanner", None,
               lambda s, on, t: s.scan(DEMO_PAYMENT_CODE, delay=0.2)),
)


def sim_name(port: str) -> str | None:
    return port.removeprefix("sim://") if port.startswith("sim://") else None


def _this_process(name: str):
    from kiosk.sim.registry import simulator

    return simulator(name)


class SimFaults:
    """The fault controls over the simulators `lookup(name)` returns (by default this process's,
    kiosk.sim.registry.simulator); a `FaultControls` for the technician's device panel."""

    def __init__(self, lookup: Callable[[str], object] = _this_process, controls: Iterable[SimControl] = CONTROLS):
        self.lookup = lookup
        self.controls = tuple(controls)

    def controls_for(self, port: str) -> list[SimControl]:
        """The controls of the device on `port`; none unless it is a built-in simulator."""
        name = sim_name(port or "")
        return [c for c in self.controls if c.sim == name] if name else []

    def state(self, control: SimControl, target: Target) -> bool:
        return bool(control.is_on and control.is_on(self.lookup(control.sim), target))

    def apply(self, control: SimControl, on: bool, target: Target) -> None:
        control.set(self.lookup(control.sim), on, target)


def state(control: SimControl, target: Target) -> bool:
    return SimFaults().state(control, target)


def apply(control: SimControl, on: bool, target: Target) -> None:
    """Switch a fault (a tour step, a test) on this process's simulators, as the technician's panel would."""
    SimFaults().apply(control, on, target)
