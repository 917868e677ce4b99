"""The one device model every driver follows (after CEN/XFS, XFS4IoT and UnifiedPOS).

Status is a state from a closed set plus a device-specific detail in snake
case (`paper_near_end`, `cover_open`, `door_open:7`); capabilities are separate
from status; every command completes with a typed completion code; timeouts
are named and configurable; a command can be canceled; one health poller per
device publishes status changes only when the status changes.
"""
from __future__ import annotations

import logging
import threading
import time
from abc import ABC, abstractmethod
from dataclasses import dataclass
from enum import Enum
from typing import Callable, Iterable, Mapping

log = logging.getLogger(__name__)


class State(str, Enum):
    ONLINE = "online"
    OFFLINE = "offline"
    BUSY = "busy"
    HARDWARE_ERROR = "hardware_error"
    NO_DEVICE = "no_device"


class Completion(str, Enum):
    SUCCESS = "success"
    CANCELED = "canceled"
    TIMEOUT = "timeout"
    DEVICE_NOT_READY = "device_not_ready"
    HARDWARE_ERROR = "hardware_error"
    USER_ERROR = "user_error"
    INVALID_DATA = "invalid_data"


@dataclass(frozen=True)
class Status:
    state: State
    detail: str = ""

    def as_dict(self) -> dict:
        return {"state": self.state.value, "detail": self.detail}

    @property
    def usable(self) -> bool:
        return self.state in (State.ONLINE, State.BUSY)


@dataclass(frozen=True)
class SelfTest:
    ok: bool
    message: str

    def as_dict(self) -> dict:
        return {"ok": self.ok, "message": self.message}


class DeviceError(Exception):
    """A command that did not succeed: which device, the completion code, and what happened."""

    def __init__(self, device: str, completion: Completion, message: str, detail: str = ""):
        super().__init__(f"{device}: {message}")
        self.device = device
        self.completion = completion
        self.message = message
        self.detail = detail


class ProtocolError(Exception):
    """A frame that does not decode: wrong preamble, length, checksum or field. Codecs raise only this."""


class DeviceClock:
    """Time as drivers see it. Injected so tests run in virtual time without sleeping."""

    def monotonic(self) -> float:
        return time.monotonic()

    def sleep(self, seconds: float) -> None:
        if seconds > 0:
            time.sleep(seconds)


class VirtualClock(DeviceClock):
    """A clock that only moves when told to (or when something sleeps on it)."""

    def __init__(self, start: float = 1000.0):
        self._now = start
        self._lock = threading.Lock()

    def monotonic(self) -> float:
        with self._lock:
            return self._now

    def advance(self, seconds: float) -> None:
        with self._lock:
            self._now += max(0.0, seconds)

    def sleep(self, seconds: float) -> None:
        self.advance(seconds)


SYSTEM_CLOCK = DeviceClock()


class Timeouts:
    """Named timeouts with defaults, overridden by the device's `timeouts` table in the config.

    An unknown name in the config is a mistake, so it is refused with the names there are.
    """

    def __init__(self, device: str, defaults: Mapping[str, float], overrides: Mapping[str, float] | None = None):
        unknown = set(overrides or {}) - set(defaults)
        if unknown:
            raise ValueError(
                f"{device}: unknown timeout {', '.join(sorted(unknown))}; known: {', '.join(sorted(defaults))}"
            )
        self._values = {**defaults, **(overrides or {})}

    def __getattr__(self, name: str) -> float:
        try:
            return self._values[name]
        except KeyError:
            raise AttributeError(name) from None

    def as_dict(self) -> dict[str, float]:
        return dict(self._values)


class CancelToken:
    """Set from any thread to stop a waiting command at its next check."""

    def __init__(self):
        self._event = threading.Event()

    def cancel(self) -> None:
        self._event.set()

    @property
    def canceled(self) -> bool:
        return self._event.is_set()

    def check(self, device: str) -> None:
        if self._event.is_set():
            raise DeviceError(device, Completion.CANCELED, "canceled")


class Device(ABC):
    """What every driver offers the rest of the kiosk."""

    kind: str = "device"                      # idcard, locker, receipt_printer, ...
    capabilities: frozenset[str] = frozenset()

    def __init__(self, name: str, driver: str, port: str):
        self.name = name
        self.driver = driver
        self.port = port
        self.last_error: str | None = None
        # the same failure as codes (completion, detail), for whoever shows it in a language: drivers speak none
        self.last_problem: tuple[str, str] | None = None

    @abstractmethod
    def status(self) -> Status:
        """Ask the device now; never blocks longer than the driver's status timeout."""

    @abstractmethod
    def self_test(self) -> SelfTest:
        """A harmless exercise of the device that proves it answers and works."""

    def cancel(self) -> None:
        """Stop the command in progress, if any."""

    def close(self) -> None:
        """Release the port."""

    def _failed(self, completion: Completion, message: str, detail: str = "") -> DeviceError:
        self.last_error = message
        self.last_problem = (completion.value, detail)
        return DeviceError(self.name, completion, message, detail)

    def describe(self) -> dict:
        return {"name": self.name, "driver": self.driver, "port": self.port,
                "capabilities": sorted(self.capabilities), "last_error": self.last_error}


StatusListener = Callable[[Device, Status], None]


class HealthPoller:
    """One poller per device: asks for status every `interval` s and tells listeners only on change.

    Runs in its own thread so device I/O never blocks the UI; a status call
    that raises counts as `offline` with the error as detail.
    """

    def __init__(self, device: Device, interval: float = 5.0, listeners: Iterable[StatusListener] = ()):
        self.device = device
        self.interval = interval
        self.listeners = list(listeners)
        self.current: Status | None = None
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def poll_once(self) -> Status:
        try:
            status = self.device.status()
        except DeviceError as exc:
            status = Status(State.OFFLINE, exc.detail or "no_answer")
        except Exception as exc:  # a driver bug must not kill the poller
            log.exception("%s: status failed", self.device.name)
            status = Status(State.HARDWARE_ERROR, type(exc).__name__.lower())
        if status != self.current:
            self.current = status
            for listener in self.listeners:
                try:
                    listener(self.device, status)
                except Exception:
                    log.exception("%s: status listener failed", self.device.name)
        return status

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name=f"health-{self.device.name}", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.is_set():
            self.poll_once()
            self._stop.wait(self.interval)

    def stop(self, timeout: float = 5.0) -> None:
        self._stop.set()
        if self._thread:
            self._thread.join(timeout)


class UnavailableDevice(Device):
    """Stands in for a configured device that could not be opened, so it still shows, with why."""

    def __init__(self, name: str, driver: str, port: str, error: DeviceError):
        super().__init__(name, driver, port)
        self.error = error
        self.last_error = error.message
        self.last_problem = (error.completion.value, error.detail)

    def status(self) -> Status:
        return Status(State.NO_DEVICE, self.error.detail or "not_opened")

    def self_test(self) -> SelfTest:
        return SelfTest(False, self.error.message)
