"""Device faults become alarms: the one place that maps device status, and failed device commands, to alarm codes.

Status-derived alarms follow the health pollers (a listener on each
`HealthPoller`): the status a device reports is mapped to a set of faults
(`paper_out`, `printer_offline`, `board_offline`, `door_left_open:7`, ...);
new faults are raised, faults that are gone are cleared. `kiosk/alarms.py`
makes each a single `alarm` transaction when raised and one when cleared, so a
sensor stuck on "paper out" costs two transactions, however often it is polled.

Event alarms come from commands, not from status: a door that did not open
(`door_not_opened:N`, cleared when that door next opens) and a payment whose
outcome is unknown (`payment_unknown:REFERENCE`, cleared when it is reconciled
or a technician marks it checked). Status changes never clear them.

The outbox cap (`outbox:over_cap`) is the agent's (kiosk/sync/agent.py Capacity).
Where the pickup locker runs (kiosk/core/locker/model.py), it raises
`pickup:door_left_open:N` itself, knowing which doors a citizen is using; the
timer here is then off (`door_left_open_s=None`), so one open door is one alarm.

`DeviceAlarms` is plain and synchronous (tests drive it directly); `AlarmDesk`
runs it on one thread with its own SQLite connection, since pollers call
listeners from their own threads and a connection stays in its thread.
"""
from __future__ import annotations

import logging
import queue
import threading
import time
from typing import Callable

from kiosk.alarms import Alarms

log = logging.getLogger(__name__)

# event alarms: raised by a failed command, never cleared by a status. The payment ledger's own
# (kiosk/core/payment/ledger.py: an outcome not known, a refund owed) carry money staff must settle; a door
# that a citizen says did not open (kiosk/core/locker/pickup.py) needs a person at the locker.
EVENT_PREFIXES = ("door_not_opened:", "payment_unknown:", "outcome_unknown_", "refund_owed_", "door_stuck:")
DOOR_LEFT_OPEN = "door_left_open:"

# per device kind: what an offline / missing device is called, and a hardware error
_OFFLINE = {"receipt_printer": "printer_offline", "document_printer": "printer_offline", "locker": "board_offline",
            "idcard": "reader_offline", "payment": "terminal_offline", "scanner": "scanner_offline"}
_HARDWARE = {"idcard": "reader_fault", "locker": "board_fault", "payment": "terminal_fault"}
# details a printer reports that are alarms of their own (the rest is "offline" / "hardware_error")
_PRINTER_DETAILS = {"paper_near_end": "paper_near_end", "paper_out": "paper_out", "cover_open": "cover_open",
                    "paper_jam": "paper_jam", "toner_low": "toner_low", "toner_out": "toner_out",
                    "cutter_error": "cutter_error"}
WARNINGS = frozenset({"paper_near_end", "toner_low"})


def status_faults(kind: str, state: str, detail: str) -> dict[str, str | None]:
    """The faults (code -> detail for the technician) that one status of one device kind means.

    `door_open:N` is not a fault by itself (a citizen is taking an item out):
    `DeviceAlarms` turns it into `door_left_open:N` once it lasts too long.
    """
    detail = detail or ""
    if state == "busy":
        return {}
    if kind in ("receipt_printer", "document_printer"):
        code = _PRINTER_DETAILS.get(detail)
        if code:
            return {code: detail}
    if state == "online":
        return {}
    if state in ("offline", "no_device"):
        return {_OFFLINE.get(kind, "offline"): f"{state}: {detail}" if detail else state}
    return {_HARDWARE.get(kind, "hardware_error"): detail or state}


def open_doors(detail: str) -> list[int]:
    """`door_open:3,7` -> [3, 7]."""
    if not detail or not detail.startswith("door_open:"):
        return []
    out = []
    for part in detail.removeprefix("door_open:").split(","):
        if part.strip().isdigit():
            out.append(int(part))
    return out


def is_event_code(code: str) -> bool:
    return code.startswith(EVENT_PREFIXES)


class DeviceAlarms:
    """Keeps the `alarms` table in step with what the devices report (one connection, one thread)."""

    def __init__(self, alarms: Alarms, *, door_left_open_s: float | None = 60.0,
                 clock: Callable[[], float] = time.monotonic):
        self.alarms = alarms
        self.door_left_open_s = door_left_open_s
        self.clock = clock
        self._faults: dict[str, dict[str, str | None]] = {}   # device -> status faults now
        self._open_since: dict[str, dict[int, float]] = {}   # device -> door -> when first seen open

    # -- status --------------------------------------------------------------------------------
    def observe(self, device: str, kind: str, state: str, detail: str) -> None:
        """A device's status changed (or was read for the first time)."""
        if state == "busy":
            return  # a busy device is working: it says nothing about faults
        self._faults[device] = status_faults(kind, state, detail)
        doors = open_doors(detail) if state == "online" else list(self._open_since.get(device, {}))
        now = self.clock()
        since = self._open_since.setdefault(device, {})
        for door in list(since):
            if door not in doors:
                del since[door]
        for door in doors:
            since.setdefault(door, now)
        self._apply(device)

    def check_timers(self) -> None:
        """Doors open for longer than `door_left_open_s` become alarms (called every few seconds)."""
        for device in list(self._open_since):
            self._apply(device)

    def _apply(self, device: str) -> None:
        wanted = dict(self._faults.get(device, {}))
        now = self.clock()
        for door, since in self._open_since.get(device, {}).items():
            if self.door_left_open_s is not None and now - since >= self.door_left_open_s:
                wanted[f"{DOOR_LEFT_OPEN}{door}"] = f"door {door} open for more than {self.door_left_open_s:g} s"
        for code, detail in wanted.items():
            if self.alarms.raise_alarm(device, code, detail, "warning" if code in WARNINGS else "fault"):
                log.warning("alarm raised: %s:%s (%s)", device, code, detail, extra={"device": device})
        for alarm in self.alarms.active():
            if alarm.device == device and not is_event_code(alarm.code) and alarm.code not in wanted:
                if self.alarms.clear(device, alarm.code):
                    log.info("alarm cleared: %s:%s", device, alarm.code, extra={"device": device})

    # -- events --------------------------------------------------------------------------------
    def door_failed(self, device: str, door: int, message: str) -> None:
        if self.alarms.raise_alarm(device, f"door_not_opened:{door}", message, "fault"):
            log.warning("alarm raised: %s:door_not_opened:%d (%s)", device, door, message, extra={"device": device})

    def door_opened(self, device: str, door: int) -> None:
        """A technician opened the door from the diagnostics bench: its door alarms are dealt with."""
        for code in (f"door_not_opened:{door}", f"door_stuck:{door}"):
            if self.alarms.clear(device, code, f"door {door} opened"):
                log.info("alarm cleared: %s:%s", device, code, extra={"device": device})

    def payment_unknown(self, device: str, reference: str, detail: str) -> None:
        if self.alarms.raise_alarm(device, f"payment_unknown:{reference}",
                                   f"outcome of {reference} unknown ({detail}): check the terminal's journal", "fault"):
            log.warning("alarm raised: %s:payment_unknown:%s (%s)", device, reference, detail, extra={"device": device})

    def payment_resolved(self, device: str, reference: str, detail: str = "") -> None:
        self.alarms.clear(device, f"payment_unknown:{reference}", detail or None)

    def resolve(self, device: str, code: str, detail: str = "checked by a technician") -> bool:
        """A technician marks an event alarm as dealt with. Status alarms clear only when the device recovers."""
        if not is_event_code(code):
            return False
        return self.alarms.clear(device, code, detail)

    def active(self) -> list[dict]:
        return [a.as_dict() for a in self.alarms.active()]


class AlarmDesk:
    """`DeviceAlarms` on a thread of its own: listeners from any thread queue their news here.

    `open_alarms` is called on that thread and returns the `Alarms` of a
    connection it opened there (kiosk/app/root.py composes it from the store and
    the outbox). The door timers are checked every `interval_s`.
    """

    def __init__(self, open_alarms: Callable[[], Alarms], *, door_left_open_s: float | None = 60.0,
                 interval_s: float = 2.0, clock: Callable[[], float] = time.monotonic):
        self.open_alarms = open_alarms
        self.door_left_open_s = door_left_open_s
        self.interval_s = interval_s
        self.clock = clock
        self._queue: queue.Queue = queue.Queue()
        self._thread: threading.Thread | None = None
        self._active: list[dict] = []
        self._listeners: list[Callable[[list[dict]], None]] = []

    # -- what other threads call ---------------------------------------------------------------
    def on_status(self, device, status) -> None:
        """A `HealthPoller` listener: (device, status)."""
        self._put("observe", device.name, getattr(device, "kind", device.name), status.state.value, status.detail)

    def door_failed(self, device: str, door: int, message: str) -> None:
        self._put("door_failed", device, door, message)

    def door_opened(self, device: str, door: int) -> None:
        self._put("door_opened", device, door)

    def payment_unknown(self, device: str, reference: str, detail: str) -> None:
        self._put("payment_unknown", device, reference, detail)

    def payment_resolved(self, device: str, reference: str, detail: str = "") -> None:
        self._put("payment_resolved", device, reference, detail)

    def resolve(self, device: str, code: str) -> None:
        self._put("resolve", device, code)

    def on_change(self, fn: Callable[[list[dict]], None]) -> None:
        """`fn(active alarms)` after each change, on the desk's thread."""
        self._listeners.append(fn)

    @property
    def active(self) -> list[dict]:
        return list(self._active)

    def _put(self, *item) -> None:
        self._queue.put(item)

    # -- the thread ----------------------------------------------------------------------------
    def start(self) -> None:
        if self._thread is None:
            self._thread = threading.Thread(target=self._run, name="alarm-desk", daemon=True)
            self._thread.start()

    def stop(self, timeout: float = 5.0) -> None:
        if self._thread is not None:
            self._queue.put(("stop",))
            self._thread.join(timeout)
            self._thread = None

    def flush(self, timeout: float = 5.0) -> bool:
        """Wait until everything queued so far is written (tests, and before a diagnostics bundle)."""
        done = threading.Event()
        self._queue.put(("flush", done))
        return done.wait(timeout)

    def _run(self) -> None:
        alarms = self.open_alarms()
        desk = DeviceAlarms(alarms, door_left_open_s=self.door_left_open_s, clock=self.clock)
        self._publish(desk)
        try:
            while True:
                try:
                    item = self._queue.get(timeout=self.interval_s)
                except queue.Empty:
                    item = ("timers",)
                if item[0] == "stop":
                    return
                if item[0] == "flush":
                    item[1].set()
                    continue
                try:
                    if item[0] == "timers":
                        desk.check_timers()
                    else:
                        getattr(desk, item[0])(*item[1:])
                except Exception:  # a locked database now must not end alarms for good
                    log.exception("alarms: %s failed", item[0])
                    continue
                self._publish(desk)
        finally:
            try:
                alarms.conn.close()
            except Exception:
                pass

    def _publish(self, desk: DeviceAlarms) -> None:
        try:
            active = desk.active()
        except Exception:
            log.exception("alarms: reading the active alarms failed")
            return
        if active != self._active:
            self._active = active
            for fn in list(self._listeners):
                try:
                    fn(active)
                except Exception:
                    log.exception("alarm listener failed")
