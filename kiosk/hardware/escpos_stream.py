"""Reading an ESC/POS byte stream back into what it prints: text lines, QR codes, cuts, status requests.

The receipt simulator feeds the host's bytes through `EscPosStream` (in
fragments, as they arrive) to answer `DLE EOT n` at command boundaries the way
a printer does; tests and the technician screen turn captured bytes back into
receipts with `decode_receipts`. Text runs are kept as bytes and decoded per
line with the printer's encoding, so a multi-byte character split across two
writes still reads back whole.

Known commands are the ones a receipt printer is sent by kiosk/hardware/receipt.py
and python-escpos; in strict mode anything else raises ProtocolError.
"""
from __future__ import annotations

from dataclasses import dataclass, field

from kiosk.hardware.device import ProtocolError

DLE, EOT, ESC, FS, GS = 0x10, 0x04, 0x1B, 0x1C, 0x1D


@dataclass(frozen=True)
class Event:
    kind: str         # init, kanji_on, kanji_off, text, newline, bold, align, size, kanji_size, feed, qr, cut, status, other
    value: object = None


# fixed-size commands: (prefix, second byte) -> parameter bytes after the two command bytes
_FIXED = {
    (ESC, ord("@")): 0, (ESC, ord("E")): 1, (ESC, ord("a")): 1, (ESC, ord("!")): 1, (ESC, ord("-")): 1,
    (ESC, ord("M")): 1, (ESC, ord("d")): 1, (ESC, ord("{")): 1, (ESC, ord("G")): 1, (ESC, ord("2")): 0,
    (ESC, ord("3")): 1, (ESC, ord("+")): 1, (ESC, ord("A")): 1, (ESC, ord("J")): 1, (ESC, ord("t")): 1,
    (ESC, ord("R")): 1, (ESC, ord("V")): 1, (ESC, ord("p")): 3, (ESC, ord("c")): 2, (ESC, ord("=")): 1,
    (GS, ord("!")): 1, (GS, ord("B")): 1, (GS, ord("b")): 1, (GS, ord("L")): 2, (GS, ord("W")): 2,
    (GS, ord("h")): 1, (GS, ord("w")): 1, (GS, ord("H")): 1, (GS, ord("f")): 1, (GS, ord("a")): 1,
    (FS, ord("&")): 0, (FS, ord(".")): 0, (FS, ord("!")): 1, (FS, ord("C")): 1, (FS, ord("W")): 1,
    (FS, ord("S")): 2,
    (DLE, EOT): 1, (DLE, 0x05): 1, (DLE, 0x14): 3,
}


class EscPosStream:
    """Incremental reader: `feed(bytes)` returns the events of every complete command so far."""

    def __init__(self, strict: bool = False):
        self.strict = strict
        self._buf = bytearray()

    def feed(self, data: bytes) -> list[Event]:
        self._buf += data
        events: list[Event] = []
        while self._buf:
            got = self._one(self._buf)
            if got is None:
                break            # an incomplete command: wait for more bytes
            used, event = got
            del self._buf[:used]
            if event is not None:
                events.append(event)
        return events

    @property
    def pending(self) -> bytes:
        return bytes(self._buf)

    def _unknown(self, buf: bytearray) -> tuple[int, Event]:
        if self.strict:
            raise ProtocolError(f"unknown ESC/POS command {bytes(buf[:2]).hex(' ')}")
        return min(2, len(buf)), Event("other", bytes(buf[:2]))

    def _one(self, buf: bytearray) -> tuple[int, Event | None] | None:
        b0 = buf[0]
        if b0 >= 0x20:
            end = 1
            while end < len(buf) and buf[end] >= 0x20:
                end += 1
            return end, Event("text", bytes(buf[:end]))
        if b0 == 0x0A:
            return 1, Event("newline")
        if b0 in (0x0D, 0x09, 0x0C, 0x00):
            return 1, Event("other", bytes([b0]))
        if b0 not in (ESC, GS, FS, DLE):
            if self.strict:
                raise ProtocolError(f"unexpected control byte {b0:02x}")
            return 1, Event("other", bytes([b0]))
        if len(buf) < 2:
            return None
        key = (b0, buf[1])
        if key in _FIXED:
            size = 2 + _FIXED[key]
            if len(buf) < size:
                return None
            return size, _event(bytes(buf[:size]))
        if b0 == GS and buf[1] == ord("V"):
            if len(buf) < 3:
                return None
            size = 4 if buf[2] in (0x41, 0x42, 65, 66) else 3
            if len(buf) < size:
                return None
            return size, Event("cut", buf[2] in (0x01, 0x31, 0x42))
        if b0 == GS and buf[1] == ord("("):    # GS ( fn pL pH data
            if len(buf) < 5:
                return None
            size = 5 + buf[3] + 256 * buf[4]
            if len(buf) < size:
                return None
            return size, _two_d(bytes(buf[:size]))
        if b0 == GS and buf[1] == ord("v"):    # GS v 0 m xL xH yL yH raster data
            if len(buf) < 8:
                return None
            size = 8 + (buf[4] + 256 * buf[5]) * (buf[6] + 256 * buf[7])
            if len(buf) < size:
                return None
            return size, Event("other", b"raster")
        return self._unknown(buf)


def _event(cmd: bytes) -> Event | None:
    p, c = cmd[0], cmd[1]
    arg = cmd[2] if len(cmd) > 2 else None
    if (p, c) == (ESC, ord("@")):
        return Event("init")
    if (p, c) == (FS, ord("&")):
        return Event("kanji_on")
    if (p, c) == (FS, ord(".")):
        return Event("kanji_off")
    if (p, c) == (ESC, ord("E")):
        return Event("bold", bool(arg & 1))
    if (p, c) == (ESC, ord("a")):
        return Event("align", arg % 48 if arg >= 48 else arg)
    if (p, c) == (ESC, ord("!")):
        return Event("size", bool(arg & 0x30))     # double height 0x10, double width 0x20
    if (p, c) == (GS, ord("!")):
        return Event("size", bool(arg & 0x77))     # width in the high nibble, height in the low
    if (p, c) == (FS, ord("!")):
        return Event("kanji_size", arg)
    if (p, c) == (ESC, ord("d")):
        return Event("feed", arg)
    if (p, c) == (DLE, EOT):
        return Event("status", arg)
    return Event("other", cmd)


def _two_d(cmd: bytes) -> Event:
    # GS ( k pL pH cn fn [m] data: cn 49 = QR; fn 80 (0x50) stores the data, m = '0'
    if cmd[2] == ord("k") and len(cmd) >= 8 and cmd[5] == 49 and cmd[6] == 80:
        return Event("qr", cmd[8:])
    return Event("other", cmd[:7])


@dataclass
class PrintedLine:
    text: str
    bold: bool = False
    large: bool = False
    align: str = "left"


@dataclass
class PrintedReceipt:
    """What came out of the printer up to (and including) one cut."""

    lines: list[PrintedLine] = field(default_factory=list)
    qr_codes: list[str] = field(default_factory=list)
    cut: str | None = None        # "full", "partial", or None when the paper was not cut

    @property
    def text(self) -> str:
        return "\n".join(line.text for line in self.lines)


_ALIGN = {0: "left", 1: "center", 2: "right"}


def decode_receipts(data: bytes, encoding: str) -> list[PrintedReceipt]:
    """Captured printer bytes -> the receipts they print, split at cuts.

    Raises ProtocolError for bytes a printer would print wrongly: an unknown
    command, or text bytes above 0x7F sent before `FS &` (Chinese mode).
    """
    events = EscPosStream(strict=True).feed(data)
    receipts: list[PrintedReceipt] = [PrintedReceipt()]
    kanji = bold = large = False
    align = "left"
    pending = bytearray()

    def flush_line(force: bool) -> None:
        if not pending and not force:
            return
        try:
            text = bytes(pending).decode(encoding if kanji else "ascii")
        except UnicodeDecodeError as exc:
            where = "in Chinese mode" if kanji else "before FS & (Chinese mode was not on)"
            raise ProtocolError(f"text bytes {bytes(pending).hex(' ')} do not decode as "
                                f"{encoding if kanji else 'ASCII'} {where}: {exc.reason}") from None
        receipts[-1].lines.append(PrintedLine(text, bold, large, align))
        pending.clear()

    for ev in events:
        if ev.kind == "text":
            pending += ev.value
        elif ev.kind == "newline":
            flush_line(force=True)
        elif ev.kind == "init":
            flush_line(False)
            kanji = bold = large = False
            align = "left"
        elif ev.kind == "kanji_on":
            kanji = True
        elif ev.kind == "kanji_off":
            kanji = False
        elif ev.kind == "bold":
            bold = ev.value
        elif ev.kind == "align":
            align = _ALIGN.get(ev.value, "left")
        elif ev.kind == "size":
            large = ev.value
        elif ev.kind == "qr":
            try:
                receipts[-1].qr_codes.append(ev.value.decode("utf-8"))
            except UnicodeDecodeError:
                raise ProtocolError("QR data is not UTF-8") from None
        elif ev.kind == "cut":
            flush_line(False)
            receipts[-1].cut = "partial" if ev.value else "full"
            receipts.append(PrintedReceipt())
    flush_line(False)
    if not receipts[-1].lines and not receipts[-1].qr_codes and receipts[-1].cut is None and len(receipts) > 1:
        receipts.pop()
    return receipts
