"""QR/barcode scanner in serial (CDC/virtual COM) mode: reads CR/LF-terminated codes and classifies them.

Classes (HARDWARE.md): a pickup code (6-8 digits, or the pickup QR payload
`KIOSK-PICKUP:<6-8 digits>` that the hall prints on pickup notices), a WeChat
payment code (18 digits, prefix 10-15), an Alipay payment code (16-24 digits,
prefix 25-30), or other. Pickup and payment codes are secrets of the citizen:
`str()`/`repr()` of a `ScannedCode` and every log line show them masked.
A serial scanner cannot be asked whether it is there, so its status is the
state of its port.
"""
from __future__ import annotations

import logging
import re
import threading
from dataclasses import dataclass
from enum import Enum
from typing import Mapping

from kiosk.hardware.device import (
    SYSTEM_CLOCK, CancelToken, DeviceClock, Completion, Device, DeviceError, ProtocolError, SelfTest, State, Status,
    Timeouts,
)
from kiosk.hardware.transport import Port, ReopeningPort

log = logging.getLogger(__name__)

PICKUP_QR_PREFIX = "KIOSK-PICKUP:"   # as the platform's pickup page writes it (kiosk/wire/cases.py; a test compares)
MAX_CODE = 4096   # a QR code holds at most ~4 kB; a longer "line" is a runaway stream


class CodeKind(str, Enum):
    PICKUP = "pickup_code"
    WECHAT_PAY = "wechat_pay"
    ALIPAY = "alipay"
    OTHER = "other"


# [0-9], not \d: \d also matches other scripts' digits
_PICKUP = re.compile(r"[0-9]{6,8}")
_PICKUP_QR = re.compile(re.escape(PICKUP_QR_PREFIX) + r"([0-9]{6,8})")
_WECHAT = re.compile(r"1[0-5][0-9]{16}")
_ALIPAY = re.compile(r"(2[5-9]|30)[0-9]{14,22}")


def mask_code(value: str) -> str:
    """Enough to recognise a code on a technician's screen, never enough to use it."""
    if len(value) <= 4:
        return "*" * len(value)
    if len(value) <= 8:
        return value[:1] + "*" * (len(value) - 2) + value[-1:]
    return value[:4] + "*" * (len(value) - 8) + value[-4:]


@dataclass(frozen=True, repr=False)
class ScannedCode:
    kind: CodeKind
    value: str        # the code itself: the pickup digits, the payment code, or the raw text

    @property
    def masked(self) -> str:
        if self.kind is CodeKind.OTHER:
            return self.value[:24] + ("…" if len(self.value) > 24 else "")
        return mask_code(self.value)

    def as_dict(self) -> dict:
        return {"kind": self.kind.value, "code": self.masked, "length": len(self.value)}

    def __repr__(self) -> str:
        return f"ScannedCode({self.kind.value}, {self.masked!r})"

    __str__ = __repr__


def classify(text: str) -> ScannedCode:
    code = text.strip()
    if m := _PICKUP_QR.fullmatch(code):
        return ScannedCode(CodeKind.PICKUP, m.group(1))
    if _PICKUP.fullmatch(code):
        return ScannedCode(CodeKind.PICKUP, code)
    if _WECHAT.fullmatch(code):
        return ScannedCode(CodeKind.WECHAT_PAY, code)
    if _ALIPAY.fullmatch(code):
        return ScannedCode(CodeKind.ALIPAY, code)
    return ScannedCode(CodeKind.OTHER, code)


class LineSplitter:
    """Bytes in, whole lines out: CR, LF or CR LF end a line; empty lines are dropped.

    A line that is not text, or longer than any QR code, is dropped and its problem kept in
    `rejected` (a ProtocolError each) for the driver to report: it never takes the good lines
    read with it, before or after it. A runaway line (no line end within MAX_CODE bytes) is
    skipped up to its line end, so its tail never comes out as a code of its own.
    """

    def __init__(self, encoding: str = "utf-8"):
        self.encoding = encoding
        self.buffer = bytearray()
        self.rejected: list[ProtocolError] = []
        self._skipping = False   # inside a runaway line: drop bytes up to the next line end

    def clear(self) -> None:
        self.buffer.clear()
        self.rejected.clear()
        self._skipping = False

    def take_rejected(self) -> list[ProtocolError]:
        out, self.rejected = self.rejected, []
        return out

    def feed(self, data: bytes) -> list[str]:
        self.buffer += data
        lines = []
        while True:
            ends = [i for i in (self.buffer.find(b"\r"), self.buffer.find(b"\n")) if i >= 0]
            if not ends:
                if len(self.buffer) > MAX_CODE:
                    self.buffer.clear()
                    if not self._skipping:
                        self._skipping = True
                        self.rejected.append(ProtocolError(
                            f"no line end within {MAX_CODE} bytes: is the scanner set to add CR/LF?"))
                return lines
            end = min(ends)
            raw = bytes(self.buffer[:end])
            del self.buffer[:end + 1]
            if self._skipping:
                self._skipping = False
                continue
            if not raw.strip():
                continue
            if len(raw) > MAX_CODE:
                self.rejected.append(ProtocolError(f"a code of {len(raw)} bytes is longer than any QR code"))
                continue
            try:
                lines.append(raw.decode(self.encoding))
            except UnicodeDecodeError:
                # GBK-configured scanners send Chinese QR text as GBK
                try:
                    lines.append(raw.decode("gb18030"))
                except UnicodeDecodeError:
                    self.rejected.append(ProtocolError("scanned bytes are neither UTF-8 nor GB18030 text"))


DEFAULT_TIMEOUTS = {"poll": 0.5}   # how often a waiting read checks for cancel


class SerialScanner(Device):
    kind = "scanner"
    capabilities = frozenset({"qr", "barcode", "classify_payment_codes"})

    def __init__(self, name: str, port: str, baudrate: int = 9600, timeouts: Mapping[str, float] | None = None,
                 clock: DeviceClock = SYSTEM_CLOCK, encoding: str = "utf-8", driver: str = "serial",
                 transport: Port | None = None):
        super().__init__(name, driver, port)
        self.clock = clock
        self.timeouts = Timeouts(name, DEFAULT_TIMEOUTS, timeouts)
        self._lines = LineSplitter(encoding)
        self._pending: list[str] = []
        self._lock = threading.Lock()
        self._cancel = CancelToken()
        self._failure: DeviceError | None = None
        self._port = transport or ReopeningPort(port, baudrate, name, clock)
        self._port.private = True  # every byte is a code someone scanned: pickup and payment codes are secrets

    def read_code(self, timeout: float, cancel: CancelToken | None = None) -> ScannedCode | None:
        """The next code scanned within `timeout` s, classified; None when nothing was scanned."""
        self._cancel = CancelToken()
        tokens = [t for t in (cancel, self._cancel) if t is not None]
        deadline = self.clock.monotonic() + timeout
        with self._lock:
            while not self._pending:
                for token in tokens:
                    token.check(self.name)
                rejected = self._lines.take_rejected()
                if rejected:   # a bad scan is reported in its turn, after the good codes read before it
                    raise self._failed(Completion.INVALID_DATA, str(rejected[-1]), "bad_scan")
                left = deadline - self.clock.monotonic()
                if left <= 0:
                    return None
                try:
                    data = self._port.read(256, min(left, self.timeouts.poll))
                    self._failure = None
                except DeviceError as exc:
                    self._failure = exc
                    raise
                if data:
                    self._pending += self._lines.feed(data)
            code = classify(self._pending.pop(0))
        log.info("%s: scanned %s", self.name, code)
        return code

    def discard_pending(self) -> None:
        """Forget codes scanned while nobody was asking (a flow starts fresh)."""
        with self._lock:
            self._pending.clear()
            self._lines.clear()
            try:
                self._port.flush_input()
            except DeviceError as exc:   # a scanner that is gone has nothing to discard; status() says so
                self._failure = exc

    def cancel(self) -> None:
        self._cancel.cancel()

    def status(self) -> Status:
        """The port's state, found by reading what is waiting (kept for the next `read_code`)."""
        if not self._lock.acquire(blocking=False):
            return Status(State.BUSY, "waiting_for_scan")
        try:
            data = self._port.read(256, 0)
            self._failure = None
            if data:   # a bad line stays in `rejected` for read_code: the scanner's setup, not its presence
                self._pending += self._lines.feed(data)
        except DeviceError as exc:
            self._failure = exc
        finally:
            self._lock.release()
        if self._failure is not None:
            if self._failure.detail == "no_device":
                return Status(State.NO_DEVICE, "no_device")
            return Status(State.OFFLINE, self._failure.detail or "no_answer")
        return Status(State.ONLINE)

    def self_test(self) -> SelfTest:
        status = self.status()
        if status.state is State.OFFLINE:
            return SelfTest(False, f"port {self.port}: {status.detail}")
        return SelfTest(True, f"port {self.port} open (a serial scanner cannot be queried: "
                              "scan a code with `kiosk diag scan` to test it)")

    def close(self) -> None:
        self._port.close()
