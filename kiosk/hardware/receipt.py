"""The 80 mm ESC/POS receipt printer (driver `escpos`): a receipt model, its bytes, and real-time status.

Built on python-escpos (import `escpos`) for QR codes, cuts and styles, with
our own Chinese text path: python-escpos sends GB18030 only for strings that
contain an ideograph and turns lone Chinese punctuation into `?`, so here
`FS &` (1C 26) follows init (1B 40) once, and every string, punctuation
included, is encoded with the printer's configured encoding.

Status is the printer's own real-time answer to `DLE EOT n` (10 04 n, n=1..4),
decoded to ok / paper_near_end / paper_out / cover_open / offline / unknown.
No answer is never "ok". Printing refuses to start on paper out, cover open,
offline or an unknown status, with a typed DeviceError.

Connections: `serial:PATH` (or serial:URL), `tcp://HOST:PORT`, `usb://VID:PID`,
`file:PATH`, and `sim://receipt`.
"""
from __future__ import annotations

import logging
import os
import select
import threading
from dataclasses import dataclass, field
from enum import Enum
from typing import Mapping


def _escpos_capabilities_cache() -> str | None:
    """python-escpos parses its printer capabilities (YAML) at import and keeps them as a pickle in
    $ESCPOS_CAPABILITIES_PICKLE_DIR, by default a new temporary directory each time: every start of
    the UI parsed the YAML again (3 MB more resident for the life of the process) and left a
    directory behind. A private cache directory of this user (0700: a pickle is code) is used once it
    holds a complete pickle, newer than the capabilities; python-escpos writes its pickle in place, so
    it is never pointed at a directory it would write to while another process reads: a process that
    finds none parses as before and then publishes its pickle there whole (write beside, rename).
    Returns where to publish, or None."""
    if "ESCPOS_CAPABILITIES_PICKLE_DIR" in os.environ or "ESCPOS_CAPABILITIES_FILE" in os.environ:
        return None
    import importlib.util
    import platform

    spec = importlib.util.find_spec("escpos")
    if spec is None or not spec.submodule_search_locations:
        return None
    capabilities = os.path.join(list(spec.submodule_search_locations)[0], "capabilities.json")
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    cache = os.path.join(base, "kiosk", "escpos")
    target = os.path.join(cache, f"{platform.python_version()}.capabilities.pickle")
    try:
        os.makedirs(cache, mode=0o700, exist_ok=True)
        st = os.stat(cache)
        if st.st_uid != os.getuid() or st.st_mode & 0o077:
            return None
        if os.path.getsize(target) > 0 and os.path.getmtime(target) >= os.path.getmtime(capabilities):
            os.environ["ESCPOS_CAPABILITIES_PICKLE_DIR"] = cache
            return None
    except OSError:
        pass
    return target


def _publish_escpos_capabilities(target: str) -> None:
    """The pickle python-escpos just wrote to its temporary directory, renamed whole into the cache; the
    temporary directory removed."""
    import shutil

    from escpos import capabilities

    made = getattr(capabilities, "pickle_path", None)
    if not made:
        return
    tmp = f"{target}.{os.getpid()}.part"
    try:
        shutil.copyfile(made, tmp)
        os.replace(tmp, target)
    except OSError:
        pass
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)
        shutil.rmtree(os.path.dirname(made), ignore_errors=True)


_publish_to = _escpos_capabilities_cache()

from escpos.escpos import Escpos  # noqa: E402  (after its cache directory is chosen)

if _publish_to is not None:
    _publish_escpos_capabilities(_publish_to)

from kiosk.hardware.device import (SYSTEM_CLOCK, DeviceClock, Completion, Device, DeviceError, ProtocolError, SelfTest,
                                   State, Status, Timeouts)
from kiosk.hardware.transport import Port, claim_port, open_port, release_port, wire

log = logging.getLogger(__name__)

TIMEOUTS = {
    "status": 0.5,   # one DLE EOT answer
    "write": 10.0,   # sending a whole receipt
}

INIT = b"\x1b\x40"
KANJI_ON = b"\x1c\x26"          # FS &: Chinese (double-byte) mode
ENCODINGS = ("gb18030", "gbk", "big5", "utf-8")


# --- the receipt model -----------------------------------------------------------------------------

@dataclass(frozen=True)
class Text:
    text: str
    bold: bool = False
    large: bool = False
    align: str = "left"        # left | center | right


@dataclass(frozen=True)
class Qr:
    data: str
    size: int = 6              # module size in dots, 1-16
    align: str = "center"


@dataclass(frozen=True)
class Feed:
    lines: int = 1


@dataclass(frozen=True)
class Cut:
    partial: bool = False


@dataclass
class Receipt:
    """A receipt as later flows build it: lines (bold, large, centered), QR codes, a cut."""

    blocks: list = field(default_factory=list)
    width: int = 48            # characters of font A on 80 mm paper; a Chinese character takes two

    def line(self, text: str = "", bold: bool = False, large: bool = False, align: str = "left") -> "Receipt":
        if align not in ("left", "center", "right"):
            raise ValueError(f"align must be left, center or right, not {align!r}")
        for part in str(text).split("\n"):
            self.blocks.append(Text(part, bold, large, align))
        return self

    def title(self, text: str) -> "Receipt":
        return self.line(text, bold=True, large=True, align="center")

    def centered(self, text: str, bold: bool = False) -> "Receipt":
        return self.line(text, bold=bold, align="center")

    def rule(self, char: str = "-") -> "Receipt":
        return self.line(char * self.width)

    def qr(self, data: str, size: int = 6) -> "Receipt":
        if not data:
            raise ValueError("a QR code needs data")
        if not 1 <= size <= 16:
            raise ValueError("QR module size must be 1-16")
        self.blocks.append(Qr(data, size))
        return self

    def feed(self, lines: int = 1) -> "Receipt":
        self.blocks.append(Feed(lines))
        return self

    def cut(self, partial: bool = False) -> "Receipt":
        self.blocks.append(Cut(partial))
        return self

    def plain_text(self) -> str:
        """A preview for screens and logs."""
        out = []
        for b in self.blocks:
            if isinstance(b, Text):
                out.append(b.text.center(self.width).rstrip() if b.align == "center" else b.text)
            elif isinstance(b, Qr):
                out.append(f"[QR {b.data}]")
            elif isinstance(b, Cut):
                out.append("-- cut --")
        return "\n".join(out)


# The technician's test receipt: every kind of block, Chinese punctuation included.
TEST_RECEIPT_TITLE = "打印测试"
TEST_RECEIPT_LINES = (
    "自助服务终端 收据打印机测试",
    "中文：政务服务，一网通办。",
    "标点：，。：；！？、“”‘’（）《》【】—…",
    "ASCII: 0123456789 ABC xyz",
)
TEST_RECEIPT_QR = "KIOSK-PRINT-TEST-0001"


def diagnostic_receipt(cut: str = "full") -> Receipt:
    r = Receipt().title(TEST_RECEIPT_TITLE)
    for line in TEST_RECEIPT_LINES:
        r.line(line)
    r.line("粗体 BOLD", bold=True).centered("居中 CENTER").qr(TEST_RECEIPT_QR)
    return r.cut(partial=cut == "partial")


class _Bytes(Escpos):
    """python-escpos writing into a buffer: its QR, cut and style commands, our bytes."""

    def __init__(self):
        super().__init__(profile="default")
        self.out = bytearray()

    def _raw(self, msg: bytes) -> None:
        self.out += msg

    def close(self) -> None:
        pass


def render(receipt: Receipt, encoding: str = "gb18030") -> bytes:
    """The bytes that print `receipt`: init, FS &, then every string in `encoding`."""
    if encoding not in ENCODINGS:
        raise ValueError(f"receipt printer encoding {encoding!r}: use one of {', '.join(ENCODINGS)}")
    p = _Bytes()
    p._raw(INIT + KANJI_ON)
    bold = large = False
    align = "left"
    for block in receipt.blocks:
        if isinstance(block, Text):
            if block.align != align:
                p.set(align=block.align)
                align = block.align
            if block.bold != bold:
                p.set(bold=block.bold)
                bold = block.bold
            if block.large != large:
                if block.large:
                    p.set(double_width=True, double_height=True)
                    p._raw(b"\x1d\x21\x11\x1c\x21\x0c")   # GS ! and FS ! for Chinese characters too
                else:
                    p.set(normal_textsize=True)
                    p._raw(b"\x1d\x21\x00\x1c\x21\x00")
                large = block.large
            encoded = block.text.encode(encoding, errors="replace")
            if b"?" in encoded and "?" not in block.text:
                log.warning("receipt: some characters have no %s code and print as '?'", encoding)
            p._raw(encoded + b"\n")
        elif isinstance(block, Qr):
            if block.align != align:
                p.set(align=block.align)
                align = block.align
            p.qr(block.data, size=block.size, native=True)
            p._raw(b"\n")
        elif isinstance(block, Feed):
            p.print_and_feed(block.lines)
        elif isinstance(block, Cut):
            p.cut(mode="PART" if block.partial else "FULL")
    return bytes(p.out)


# --- real-time status ------------------------------------------------------------------------------

class Condition(str, Enum):
    OK = "ok"
    PAPER_NEAR_END = "paper_near_end"
    PAPER_OUT = "paper_out"
    COVER_OPEN = "cover_open"
    OFFLINE = "offline"
    HARDWARE_ERROR = "hardware_error"
    UNKNOWN = "unknown"


def status_request(n: int) -> bytes:
    if n not in (1, 2, 3, 4):
        raise ValueError("DLE EOT n is 1-4")
    return bytes([0x10, 0x04, n])


# DLE EOT n: which bits of the reply byte mean what (HARDWARE.md, ESC/POS real-time status)
STATUS_BITS: dict[int, tuple[tuple[int, str], ...]] = {
    1: ((0x08, "offline"),),
    2: ((0x04, "cover_open"), (0x20, "paper_out"), (0x40, "error")),
    3: ((0x08, "cutter_error"), (0x20, "unrecoverable_error"), (0x40, "error")),
    4: ((0x0C, "paper_near_end"), (0x60, "paper_out")),
}


def decode_status_byte(n: int, byte: int) -> set[str]:
    """One DLE EOT reply byte -> the flags it raises. A byte outside the fixed-bit pattern is ProtocolError."""
    if not 0 <= byte <= 255 or (byte & 0x93) != 0x12:
        raise ProtocolError(f"DLE EOT {n} reply {byte:#04x} is not a status byte (fixed bits 0x93 must read 0x12)")
    if n not in STATUS_BITS:
        raise ProtocolError(f"DLE EOT n must be 1-4, not {n}")
    return {flag for mask, flag in STATUS_BITS[n] if byte & mask}


@dataclass(frozen=True)
class PrinterStatus:
    condition: Condition
    detail: str           # snake case, for `kiosk diag`
    replies: Mapping[int, int | None]

    def as_status(self) -> Status:
        state = {Condition.OK: State.ONLINE, Condition.PAPER_NEAR_END: State.ONLINE,
                 Condition.HARDWARE_ERROR: State.HARDWARE_ERROR, Condition.UNKNOWN: State.HARDWARE_ERROR
                 }.get(self.condition, State.OFFLINE)
        return Status(state, self.detail)

    @property
    def can_print(self) -> bool:
        return self.condition in (Condition.OK, Condition.PAPER_NEAR_END)


def decode_status(replies: Mapping[int, int | None]) -> PrinterStatus:
    """The answers to DLE EOT 1..4 (None = no answer) -> one condition; no answer is never ok.

    A question left out counts as unanswered: "ok" needs all four answers.
    """
    replies = {n: replies.get(n) for n in (1, 2, 3, 4)}
    answered = {n: b for n, b in replies.items() if b is not None}
    if not answered:
        return PrinterStatus(Condition.OFFLINE, "no_answer", dict(replies))
    flags: set[str] = set()
    try:
        for n, b in answered.items():
            flags |= decode_status_byte(n, b)
    except ProtocolError:
        return PrinterStatus(Condition.UNKNOWN, "bad_status_reply", dict(replies))
    if "cover_open" in flags:
        return PrinterStatus(Condition.COVER_OPEN, "cover_open", dict(replies))
    if "paper_out" in flags:
        return PrinterStatus(Condition.PAPER_OUT, "paper_out", dict(replies))
    for err in ("cutter_error", "unrecoverable_error", "error"):
        if err in flags:
            return PrinterStatus(Condition.HARDWARE_ERROR, err, dict(replies))
    if len(answered) < len(replies):
        return PrinterStatus(Condition.UNKNOWN, "no_answer", dict(replies))
    if "offline" in flags:
        return PrinterStatus(Condition.OFFLINE, "offline", dict(replies))
    if "paper_near_end" in flags:
        return PrinterStatus(Condition.PAPER_NEAR_END, "paper_near_end", dict(replies))
    return PrinterStatus(Condition.OK, "", dict(replies))


# --- connections -----------------------------------------------------------------------------------

class FileLink:
    """`file:PATH`: a device node such as /dev/usb/lp0 (read back when it can) or a capture file."""

    def __init__(self, path: str, owner: str):
        self.url = f"file:{path}"
        self.owner = owner
        claim_port(self.url, owner)
        try:
            try:
                self._fd = os.open(path, os.O_RDWR | os.O_APPEND | os.O_CREAT | os.O_NONBLOCK, 0o644)
                self._readable = True
            except OSError:
                self._fd = os.open(path, os.O_WRONLY | os.O_APPEND)
                self._readable = False
        except OSError as exc:
            release_port(self.url)
            raise DeviceError(owner, Completion.DEVICE_NOT_READY, f"cannot open {path}: {exc.strerror}",
                              "no_device") from None

    def write(self, data: bytes) -> None:
        wire.debug("%s > %s", self.owner, data.hex(" "))
        view = memoryview(data)
        try:
            while view:
                try:
                    n = os.write(self._fd, view)
                except BlockingIOError:
                    select.select([], [self._fd], [], 1.0)
                    continue
                view = view[n:]
        except OSError as exc:
            raise DeviceError(self.owner, Completion.HARDWARE_ERROR, f"write to {self.url} failed: {exc.strerror}",
                              "no_answer") from None

    def read(self, size: int, timeout: float) -> bytes:
        if not self._readable:
            return b""
        try:
            ready, _, _ = select.select([self._fd], [], [], max(0.0, timeout))
            data = os.read(self._fd, size) if ready else b""
        except (BlockingIOError, OSError):
            return b""
        if data:
            wire.debug("%s < %s", self.owner, data.hex(" "))
        return data

    def flush_input(self) -> None:
        while self.read(256, 0):
            pass

    def close(self) -> None:
        try:
            os.close(self._fd)
        finally:
            release_port(self.url)


class UsbLink:
    """`usb://VID:PID` through python-escpos's USB printer (pyusb): it finds the endpoints and
    detaches the kernel's usblp driver. A printer held by usblp or CUPS gives "Resource busy"."""

    def __init__(self, vid: int, pid: int, owner: str):
        from escpos.printer import Usb

        self.url = f"usb://{vid:04x}:{pid:04x}"
        self.owner = owner
        claim_port(self.url, owner)
        try:
            self._usb = Usb(vid, pid, timeout=2000)
            self._usb.open()
        except Exception as exc:  # pyusb and escpos raise several unrelated types
            release_port(self.url)
            raise DeviceError(owner, Completion.DEVICE_NOT_READY, f"cannot open {self.url}: {exc}",
                              "no_device") from None

    def write(self, data: bytes) -> None:
        wire.debug("%s > %s", self.owner, data.hex(" "))
        try:
            self._usb._raw(data)
        except Exception as exc:
            raise DeviceError(self.owner, Completion.HARDWARE_ERROR, f"write to {self.url} failed: {exc}",
                              "no_answer") from None

    def read(self, size: int, timeout: float) -> bytes:
        try:
            data = bytes(self._usb.device.read(self._usb.in_ep, size, int(max(1, timeout * 1000))))
        except Exception:
            return b""
        if data:
            wire.debug("%s < %s", self.owner, data.hex(" "))
        return data

    def flush_input(self) -> None:
        while self.read(64, 0.01):
            pass

    def close(self) -> None:
        try:
            self._usb.close()
        except Exception:
            pass
        finally:
            release_port(self.url)


def open_connection(connection: str, owner: str, baudrate: int = 9600, clock: DeviceClock = SYSTEM_CLOCK) -> Port:
    """`serial:PATH`, `tcp://HOST:PORT`, `usb://VID:PID`, `file:PATH` or `sim://NAME` -> a Port."""
    if connection.startswith("sim://"):
        return open_port(connection, baudrate, owner, clock)
    if connection.startswith("serial:"):
        return open_port(connection.removeprefix("serial:"), baudrate, owner, clock)
    if connection.startswith("tcp://"):
        return open_port("socket://" + connection.removeprefix("tcp://"), baudrate, owner, clock)
    if connection.startswith("socket://"):
        return open_port(connection, baudrate, owner, clock)
    if connection.startswith("usb://"):
        try:
            vid, pid = (int(x, 16) for x in connection.removeprefix("usb://").split(":"))
        except ValueError:
            raise DeviceError(owner, Completion.USER_ERROR,
                              f"connection {connection!r}: write usb://VID:PID in hex, e.g. usb://0416:5011",
                              "bad_connection") from None
        return UsbLink(vid, pid, owner)
    if connection.startswith("file:"):
        return FileLink(connection.removeprefix("file:"), owner)
    raise DeviceError(owner, Completion.USER_ERROR,
                      f"connection {connection!r}: use serial:PATH, tcp://HOST:PORT, usb://VID:PID or file:PATH",
                      "bad_connection")


# --- the driver ------------------------------------------------------------------------------------

class ReceiptPrinter(Device):
    kind = "receipt_printer"
    capabilities = frozenset({"text", "chinese", "qr", "cut", "status"})

    def __init__(self, name: str, connection: str, encoding: str = "gb18030", baudrate: int = 9600,
                 timeouts: Mapping[str, float] | None = None, clock: DeviceClock = SYSTEM_CLOCK,
                 realtime_status: bool = True, cut: str = "full", transport: Port | None = None):
        super().__init__(name, "escpos", connection)
        if encoding not in ENCODINGS:
            raise ValueError(f"{name}: encoding {encoding!r}: use one of {', '.join(ENCODINGS)}")
        self.encoding = encoding
        self.timeouts = Timeouts(name, TIMEOUTS, timeouts)
        self.clock = clock
        self.realtime_status = realtime_status
        self.cut_mode = cut
        self._lock = threading.Lock()
        self._port = transport or open_connection(connection, name, baudrate, clock)
        if not realtime_status:
            self.capabilities = self.capabilities - {"status"}

    def read_status(self) -> PrinterStatus:
        """Ask DLE EOT 1..4 now; each question waits at most the `status` timeout."""
        if not self.realtime_status:
            return PrinterStatus(Condition.OK, "status_not_reported", {})
        replies: dict[int, int | None] = {}
        with self._lock:
            for n in (1, 2, 3, 4):
                self._port.flush_input()
                self._port.write(status_request(n))
                got = self._port.read(1, self.timeouts.status)
                replies[n] = got[0] if got else None
                if n == 1 and not got:
                    # a printer that does not answer n=1 will not answer the rest: do not wait 4 times
                    replies.update({2: None, 3: None, 4: None})
                    break
        status = decode_status(replies)
        if status.condition is not Condition.OK:
            log.info("%s: status %s %s", self.name, status.condition.value, status.detail)
        return status

    def status(self) -> Status:
        return self.read_status().as_status()

    def print_receipt(self, receipt: Receipt) -> PrinterStatus:
        """Check the printer, send the receipt, check again; DeviceError when it cannot or did not print."""
        before = self.read_status()
        if not before.can_print:
            raise self._failed(Completion.DEVICE_NOT_READY, _WHY[before.detail] if before.detail in _WHY
                               else f"the printer cannot print ({before.detail})", before.detail)
        data = render(receipt, self.encoding)
        with self._lock:
            self._port.write(data)
        after = self.read_status()
        if after.condition in (Condition.PAPER_OUT, Condition.COVER_OPEN, Condition.HARDWARE_ERROR):
            raise self._failed(Completion.HARDWARE_ERROR,
                               f"the receipt may be incomplete: {_WHY.get(after.detail, after.detail)}", after.detail)
        return after

    def self_test(self) -> SelfTest:
        s = self.read_status()
        if s.can_print:
            return SelfTest(True, "printer answers its status: " + (s.detail or "ready"))
        return SelfTest(False, _WHY.get(s.detail, f"printer status {s.condition.value} ({s.detail})"))

    def describe(self) -> dict:
        return {**super().describe(), "encoding": self.encoding, "timeouts": self.timeouts.as_dict()}

    def close(self) -> None:
        self._port.close()


# what a technician reads when printing is refused
_WHY = {
    "no_answer": "the printer does not answer its status request (check power, cable and connection setting)",
    "paper_out": "the printer is out of paper: load a new roll",
    "cover_open": "the printer cover is open: close it",
    "offline": "the printer reports itself offline (feed button held, or an error it has not named)",
    "bad_status_reply": "the printer answered its status request with something unreadable (check baud rate)",
    "cutter_error": "the cutter is jammed: clear it and close the cover",
    "unrecoverable_error": "the printer reports an unrecoverable error: power-cycle it",
    "error": "the printer reports an error",
}
