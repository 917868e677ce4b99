"""`sim://receipt`: an ESC/POS receipt printer that keeps every byte it is sent and answers DLE EOT.

It reads the host's bytes as a printer does (kiosk.hardware.escpos_stream),
so `DLE EOT n` is answered at a command boundary and never mistaken inside a
QR code's data. Status replies follow the injected faults:

    set_paper("near_end" | "out" | "ok")   paper sensor
    set_cover_open(True)                   cover open
    set_offline(True)                      no answer at all (unplugged, powered off)
    set_cutter_error(True)                 cutter jammed

`received` is everything the host sent; `receipts()` decodes it back.
"""
from __future__ import annotations

import threading

from kiosk.hardware.device import SYSTEM_CLOCK, DeviceClock
from kiosk.hardware.escpos_stream import EscPosStream, PrintedReceipt, decode_receipts
from kiosk.sim.base import Simulator

BASE = 0x12   # the fixed bits of every DLE EOT reply


class ReceiptSimulator(Simulator):
    reply_delay = 0.005

    def __init__(self, clock: DeviceClock = SYSTEM_CLOCK):
        super().__init__(clock)
        self.received = bytearray()
        self.status_requests: list[int] = []
        self.paper = "ok"
        self.cover_open = False
        self.offline = False
        self.cutter_error = False
        self._stream = EscPosStream(strict=False)
        self._lock = threading.Lock()

    # --- control ---------------------------------------------------------------------------------

    def set_paper(self, state: str) -> None:
        if state not in ("ok", "near_end", "out"):
            raise ValueError("paper is ok, near_end or out")
        self.paper = state

    def set_cover_open(self, open_: bool = True) -> None:
        self.cover_open = open_

    def set_offline(self, offline: bool = True) -> None:
        self.offline = offline

    def set_cutter_error(self, error: bool = True) -> None:
        self.cutter_error = error

    def clear(self) -> None:
        with self._lock:
            self.received.clear()
            self.status_requests.clear()

    def printed(self) -> bytes:
        """What the host sent, without its status requests."""
        with self._lock:
            return bytes(self.received).replace(b"\x10\x04\x01", b"").replace(b"\x10\x04\x02", b"") \
                .replace(b"\x10\x04\x03", b"").replace(b"\x10\x04\x04", b"")

    def receipts(self, encoding: str = "gb18030") -> list[PrintedReceipt]:
        return decode_receipts(self.printed(), encoding)

    # --- the wire --------------------------------------------------------------------------------

    def status_byte(self, n: int) -> int:
        out = self.paper == "out"
        stopped = out or self.cover_open or self.cutter_error
        if n == 1:
            return BASE | (0x08 if stopped else 0)
        if n == 2:
            return BASE | (0x04 if self.cover_open else 0) | (0x20 if out else 0) | (0x40 if self.cutter_error else 0)
        if n == 3:
            return BASE | (0x08 if self.cutter_error else 0)
        return BASE | (0x0C if self.paper in ("near_end", "out") else 0) | (0x60 if out else 0)

    def receive(self, data: bytes) -> None:
        with self._lock:
            if self.offline:
                return          # a printer that is off hears nothing
            self.received += data
            events = self._stream.feed(data)
        for ev in events:
            if ev.kind == "status" and ev.value in (1, 2, 3, 4):
                self.status_requests.append(ev.value)
                self.emit(bytes([self.status_byte(ev.value)]), self.reply_delay)
