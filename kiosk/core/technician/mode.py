"""The technician mode's way in and out: a hidden press, a PIN, a lockout, and the way back to the citizens.

    CLOSED --corner held hold_s--> PIN --right PIN--> OPEN --leave() / idle_timeout_s--> CLOSED
    PIN --cancel / idle--> CLOSED;  wrong PINs x N --> entry locked for pin_lockout_s

Nothing shows a citizen that the mode exists: the press has no visible
target and a short press does nothing. PINs are checked against every
configured scrypt hash (kiosk/core/staff.py), all of them each time, so the
time taken says nothing about which one matched. The wrong-PIN count and the
lockout are kept in the store (`StoredLockout`, table tech_lockout), so a
restart of the UI does not reopen entry. Plain Python with an injected clock;
the screens render `phase` and forward touches.
"""
from __future__ import annotations

import enum
import logging
import math
import threading
import time
from dataclasses import dataclass
from typing import Callable, Iterable, Protocol

from kiosk.core.staff import PinError, check_pin_hash, verify_pin

log = logging.getLogger(__name__)


class Phase(enum.Enum):
    CLOSED = "closed"   # the citizens' kiosk
    PIN = "pin"         # the PIN pad is showing
    OPEN = "open"       # technician mode


PANELS = ("devices", "system")
EVENTS = ("pin", "open", "close", "panel")


@dataclass(frozen=True)
class PinResult:
    ok: bool
    locked_for_s: int = 0   # > 0: entry is locked this many more seconds
    tries_left: int = 0     # wrong PINs left before the lockout
    configured: bool = True  # False: no PIN hash in [technician] pin_hashes


class LockoutBook(Protocol):
    def load(self) -> tuple[int, float]:
        """(wrong PINs in a row, locked until: unix seconds, 0 = not locked)."""

    def save(self, wrong: int, locked_until: float) -> None: ...


class StoredLockout:
    """The lockout in the store's tech_lockout table; each call opens its own connection (any thread)."""

    def __init__(self, connect: Callable[[], object], scope: str = "technician"):
        self.connect = connect
        self.scope = scope

    def load(self) -> tuple[int, float]:
        conn = self.connect()
        try:
            row = conn.execute("SELECT wrong, locked_until FROM tech_lockout WHERE scope=?", (self.scope,)).fetchone()
        finally:
            conn.close()
        return (int(row[0]), float(row[1])) if row else (0, 0.0)

    def save(self, wrong: int, locked_until: float) -> None:
        conn = self.connect()
        try:
            conn.execute("INSERT INTO tech_lockout (scope, wrong, locked_until) VALUES (?, ?, ?) "
                         "ON CONFLICT(scope) DO UPDATE SET wrong=excluded.wrong, locked_until=excluded.locked_until",
                         (self.scope, wrong, locked_until))
        finally:
            conn.close()


class TechnicianMode:
    def __init__(self, pin_hashes: Iterable[str], *, hold_s: float = 5.0, wrong_before_lockout: int = 5,
                 lockout_s: float = 300.0, idle_timeout_s: float = 300.0, pin_idle_s: float = 60.0,
                 clock: Callable[[], float] = time.monotonic, lockout_book: LockoutBook | None = None,
                 wall: Callable[[], float] = time.time):
        self.pin_hashes = [check_pin_hash(h) for h in pin_hashes]  # a bad hash: say so at start, not at 3 a.m.
        self.hold_s = hold_s
        self.wrong_before_lockout = wrong_before_lockout
        self.lockout_s = lockout_s
        self.idle_timeout_s = idle_timeout_s
        self.pin_idle_s = pin_idle_s
        self.clock = clock
        self.phase = Phase.CLOSED
        self.panel = PANELS[0]
        self.wrong = 0
        self.locked_until = 0.0
        self._pressed_at: float | None = None
        self._last_activity = clock()
        self._lock = threading.Lock()
        self._listeners: dict[str, list[Callable[..., None]]] = {e: [] for e in EVENTS}
        self.book = lockout_book
        self.wall = wall
        self._load_lockout()

    @classmethod
    def from_settings(cls, tech, clock: Callable[[], float] = time.monotonic,
                      lockout_book: LockoutBook | None = None) -> "TechnicianMode":
        return cls(tech.pin_hashes, hold_s=tech.hold_s, wrong_before_lockout=tech.wrong_pins_before_lockout,
                   lockout_s=tech.pin_lockout_s, idle_timeout_s=tech.idle_timeout_s, clock=clock,
                   lockout_book=lockout_book)

    # -- the lockout, kept across restarts ----------------------------------------------------------
    def _load_lockout(self) -> None:
        if self.book is None:
            return
        try:
            wrong, until = self.book.load()
        except Exception:   # an unreadable store must not keep the technician out: start unlocked, say so
            log.exception("technician: the stored PIN lockout could not be read; starting without it")
            return
        self.wrong = max(0, min(wrong, self.wrong_before_lockout - 1))
        # the wall clock carries the lockout over the restart; capped, so a clock set back cannot lock for longer
        left = min(self.lockout_s, until - self.wall())
        if left > 0:
            self.locked_until = self.clock() + left
            log.warning("technician entry still locked for %d s (from before the restart)", math.ceil(left))

    def _save_lockout(self) -> None:
        if self.book is None:
            return
        left = self.locked_until - self.clock()
        try:
            self.book.save(self.wrong, self.wall() + left if left > 0 else 0.0)
        except Exception:   # the lockout still holds in memory; only a restart would forget it
            log.exception("technician: the PIN lockout could not be stored")

    def clear_lockout(self) -> None:
        """Forget wrong PINs and any lockout (a fresh start: tests, a hall's supervisor)."""
        with self._lock:
            self.wrong, self.locked_until = 0, 0.0
            self._save_lockout()

    def on(self, event: str, fn: Callable[..., None]) -> None:
        """pin(), open(), close(reason), panel(name)."""
        if event not in self._listeners:
            raise ValueError(f"unknown technician event {event!r}; one of {', '.join(EVENTS)}")
        self._listeners[event].append(fn)

    def _emit(self, event: str, *args) -> None:
        for fn in list(self._listeners[event]):
            try:
                fn(*args)
            except Exception:
                log.exception("technician %s listener failed", event)

    # -- the hidden press ----------------------------------------------------------------------
    def press(self) -> None:
        """A finger went down on the corner."""
        if self.phase is Phase.CLOSED:
            self._pressed_at = self.clock()

    def poll(self) -> bool:
        """While the finger stays down: True (once) when it has been held long enough; the PIN pad opens."""
        if self._pressed_at is None or self.phase is not Phase.CLOSED:
            return False
        if self.clock() - self._pressed_at < self.hold_s:
            return False
        self._pressed_at = None
        self.phase = Phase.PIN
        self._last_activity = self.clock()
        log.info("technician: PIN pad opened")
        self._emit("pin")
        return True

    def release(self) -> bool:
        """The finger came up (or slid off the corner): a short press does nothing."""
        opened = self.poll()
        self._pressed_at = None
        return opened

    @property
    def pressing(self) -> bool:
        return self._pressed_at is not None

    # -- the PIN -------------------------------------------------------------------------------
    def locked_for(self) -> int:
        return max(0, math.ceil(self.locked_until - self.clock()))

    @property
    def configured(self) -> bool:
        return bool(self.pin_hashes)

    def check_pin(self, pin: str) -> PinResult:
        """Checks one PIN (slow: scrypt; call it off the UI thread). Opens the mode when it matches."""
        with self._lock:
            self._last_activity = self.clock()
            if self.phase is not Phase.PIN:
                return PinResult(False, locked_for_s=self.locked_for(), tries_left=self._left())
            left = self.locked_for()
            if left:
                return PinResult(False, locked_for_s=left)
            if not self.pin_hashes:
                return PinResult(False, configured=False)
            ok = False
            for stored in self.pin_hashes:
                try:
                    ok = verify_pin(pin, stored) or ok   # every hash, every time: no timing hint
                except (PinError, ValueError):
                    pass
            if ok:
                if self.wrong:
                    self.wrong = 0
                    self._save_lockout()
                self.phase = Phase.OPEN
                self.panel = PANELS[0]
                log.warning("technician mode entered")   # a warning: it belongs in the recent-log and the journal
                result = PinResult(True)
            else:
                self.wrong += 1
                log.warning("technician PIN refused (%d wrong in a row)", self.wrong)
                if self.wrong >= self.wrong_before_lockout:
                    self.wrong = 0
                    self.locked_until = self.clock() + self.lockout_s
                    log.warning("technician entry locked for %g s after %d wrong PINs", self.lockout_s,
                                self.wrong_before_lockout)
                    result = PinResult(False, locked_for_s=self.locked_for())
                else:
                    result = PinResult(False, tries_left=self._left())
                self._save_lockout()
        if result.ok:
            self._emit("open")
        return result

    def _left(self) -> int:
        return self.wrong_before_lockout - self.wrong

    # -- inside --------------------------------------------------------------------------------
    def show(self, panel: str) -> None:
        if panel not in PANELS:
            raise ValueError(f"unknown panel {panel!r}; one of {', '.join(PANELS)}")
        self.touch()
        if self.phase is Phase.OPEN and panel != self.panel:
            self.panel = panel
            self._emit("panel", panel)

    def touch(self) -> None:
        """Any touch while the PIN pad or the mode shows."""
        self._last_activity = self.clock()

    def leave(self, reason: str = "done") -> None:
        """Back to the citizens' home screen (done, cancel, idle)."""
        if self.phase is Phase.CLOSED:
            return
        was_open = self.phase is Phase.OPEN
        self.phase = Phase.CLOSED
        self._pressed_at = None
        if was_open:
            log.warning("technician mode left (%s)", reason)
        self._emit("close", reason)

    def tick(self) -> Phase:
        """Called a few times a second: idle in the mode or on the PIN pad returns to the citizens."""
        if self.phase is Phase.CLOSED:
            self.poll()
            return self.phase
        idle = self.clock() - self._last_activity
        limit = self.idle_timeout_s if self.phase is Phase.OPEN else self.pin_idle_s
        if idle >= limit:
            self.leave("idle")
        return self.phase
