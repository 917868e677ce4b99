"""Byte transports the drivers talk through: real serial ports, pyserial URLs, and registered schemes.

`open_port(url, ...)` gives a `Port` for a device path (`/dev/kiosk-lockbus`),
any pyserial URL (`socket://127.0.0.1:7001`, `loop://`, `spy://...`) or a
URL of a scheme registered with `register_scheme`: `sim://NAME`, the built-in
simulator of that device, once the simulators' plug-in (kiosk/sim/registry.py)
is loaded; this module knows nothing of it. Drivers see only the `Port`
interface, so the code under test is the code that talks to hardware.

One owner per port: a port already open in this process is refused, and real
device paths are opened with `exclusive=True` so a second process is refused
too. Every byte in and out is hex-dumped to the `kiosk.wire` logger.
"""
from __future__ import annotations

import logging
import threading
from typing import Callable, Protocol

import serial

from kiosk.hardware.device import SYSTEM_CLOCK, DeviceClock, Completion, DeviceError

wire = logging.getLogger("kiosk.wire")


class Port(Protocol):
    url: str

    def write(self, data: bytes) -> None: ...

    def read(self, size: int, timeout: float) -> bytes:
        """Up to `size` bytes; returns as soon as any arrive, b"" when `timeout` passes."""

    def flush_input(self) -> None: ...

    def close(self) -> None: ...


_owners: dict[str, str] = {}
_owners_lock = threading.Lock()


def claim_port(url: str, owner: str) -> None:
    """Record `owner` as the only user of `url` in this process; refuses a second owner."""
    with _owners_lock:
        if url in _owners:
            raise DeviceError(owner, Completion.DEVICE_NOT_READY,
                              f"port {url} is already used by {_owners[url]}: one owner per port")
        _owners[url] = owner


def release_port(url: str) -> None:
    """Give up ownership of `url` (on close)."""
    with _owners_lock:
        _owners.pop(url, None)


def hex_dump(data: bytes) -> str:
    return data.hex(" ")


def shown(port, data: bytes) -> str:
    """The wire-log form of bytes read: hex, or only their size while the port carries personal data."""
    return f"<{len(data)} bytes of personal data>" if getattr(port, "private", False) else hex_dump(data)


class SerialPort:
    """A pyserial port or URL behind the `Port` interface."""

    private = False  # set by a driver while replies carry personal data (card text, scanned codes)

    def __init__(self, url: str, baudrate: int, owner: str):
        self.url = url
        self.owner = owner
        claim_port(url, owner)
        try:
            kwargs = {"baudrate": baudrate, "timeout": 0.1, "write_timeout": 2.0}
            if "://" not in url:
                kwargs["exclusive"] = True  # real device node: refuse a second process
            self._serial = serial.serial_for_url(url, **kwargs)
        except (serial.SerialException, OSError, ValueError) as exc:
            release_port(url)
            raise DeviceError(owner, Completion.DEVICE_NOT_READY, f"cannot open {url}: {exc}", "no_device") from None

    def write(self, data: bytes) -> None:
        wire.debug("%s > %s", self.owner, hex_dump(data))
        try:
            self._serial.write(data)
            self._serial.flush()
        except (serial.SerialException, OSError) as exc:
            raise DeviceError(self.owner, Completion.HARDWARE_ERROR, f"write to {self.url} failed: {exc}",
                              "no_answer") from None

    def read(self, size: int, timeout: float) -> bytes:
        try:
            self._serial.timeout = max(0.0, timeout)
            first = self._serial.read(1)
            if not first:
                return b""
            self._serial.timeout = 0
            rest = self._serial.read(max(0, size - 1)) if size > 1 else b""
        except (serial.SerialException, OSError) as exc:
            raise DeviceError(self.owner, Completion.HARDWARE_ERROR, f"read from {self.url} failed: {exc}",
                              "no_answer") from None
        data = first + rest
        wire.debug("%s < %s", self.owner, shown(self, data))
        return data

    def flush_input(self) -> None:
        try:
            self._serial.reset_input_buffer()
        except (serial.SerialException, OSError):
            pass

    def close(self) -> None:
        try:
            self._serial.close()
        finally:
            release_port(self.url)


# scheme -> how to open a URL of it; a plug-in registers its own (the simulators register sim://, in
# kiosk/sim/registry.py). Anything else is a device path or a pyserial URL.
PortOpener = Callable[[str, str, DeviceClock], Port]   # (url, owner, clock) -> Port
_schemes: dict[str, PortOpener] = {}


def register_scheme(scheme: str, opener: PortOpener) -> None:
    """`scheme://...` URLs are opened by `opener` from now on."""
    _schemes[scheme] = opener


def open_port(url: str, baudrate: int, owner: str, clock: DeviceClock = SYSTEM_CLOCK) -> Port:
    scheme, sep, _rest = url.partition("://")
    if sep and scheme in _schemes:
        return _schemes[scheme](url, owner, clock)
    return SerialPort(url, baudrate, owner)


def read_exactly(port: Port, size: int, timeout: float, clock: DeviceClock = SYSTEM_CLOCK) -> bytes:
    """Exactly `size` bytes within `timeout`, gathered from fragments; fewer if time runs out."""
    deadline = clock.monotonic() + timeout
    buf = bytearray()
    while len(buf) < size:
        left = deadline - clock.monotonic()
        if left <= 0:
            break
        buf += port.read(size - len(buf), left)
    return bytes(buf)


class ReopeningPort:
    """A port that survives its device going away: after a failed read or write (a USB-serial
    adapter reset, a replugged cable, a dropped TCP link) it closes, and the next I/O opens it
    again. Until then every call fails with `no_device`, so the driver reports the device as
    gone instead of talking to a dead handle."""

    def __init__(self, url: str, baudrate: int, owner: str, clock: DeviceClock = SYSTEM_CLOCK):
        self.url = url
        self.private = False
        self._args = (url, baudrate, owner, clock)
        self._owner = owner
        self._port: Port | None = open_port(*self._args)

    def _live(self) -> Port:
        if self._port is None:
            self._port = open_port(*self._args)   # raises DeviceError (no_device) while it is still gone
            wire.info("%s: %s opened again", self._owner, self.url)
        self._port.private = self.private
        return self._port

    def _lost(self) -> None:
        port, self._port = self._port, None
        if port is not None:
            try:
                port.close()
            except Exception:  # the handle is dead anyway; what matters is releasing the claim
                release_port(self.url)

    def _io(self, call):
        port = self._live()
        try:
            return call(port)
        except DeviceError as exc:
            if exc.completion is Completion.HARDWARE_ERROR:
                self._lost()
            raise

    def write(self, data: bytes) -> None:
        self._io(lambda p: p.write(data))

    def read(self, size: int, timeout: float) -> bytes:
        return self._io(lambda p: p.read(size, timeout))

    def flush_input(self) -> None:
        self._io(lambda p: p.flush_input())

    def close(self) -> None:
        self._lost()
