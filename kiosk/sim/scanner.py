"""Simulated serial QR/barcode scanner behind `sim://scanner`: `scan(text)` sends the code as a scanner does.

Control interface: `scan(text, delay=0, terminator="\\r\\n")` queues one code
(the terminator is a scanner setting: CR, LF or CR LF); `scan_bytes(raw)`
sends raw bytes (noise, a code without a line end). Default: nothing scanned.
"""
from __future__ import annotations

from kiosk.hardware.device import SYSTEM_CLOCK, DeviceClock
from kiosk.sim.base import Simulator


class ScannerSimulator(Simulator):
    def __init__(self, clock: DeviceClock = SYSTEM_CLOCK):
        super().__init__(clock)
        self.received = bytearray()   # what the host sent (scanners in serial mode mostly ignore it)

    def scan(self, text: str, delay: float = 0.0, terminator: str = "\r\n", encoding: str = "utf-8") -> None:
        self.emit(text.encode(encoding) + terminator.encode("ascii"), delay)

    def scan_bytes(self, raw: bytes, delay: float = 0.0) -> None:
        self.emit(raw, delay)

    def receive(self, data: bytes) -> None:
        self.received += data
