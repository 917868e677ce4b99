"""Listening to the scanner while a flow asks for a code: a part of any flow (kiosk/core/flow.py) that takes
codes from the QR/barcode scanner as well as from its keypad (the locker's pickup and hand-in, the case
progress, the appointment code of the queue tickets).

The listening is a loop that lasts as long as the step asking for a code is on screen, so it runs on an
executor of its own (`scan_executor`); without one, or without a scanner, nothing is listened to and the
flow's `scanned()` still takes codes (tests, the tour's simulators). Each code read comes back to the
flow's thread as `scanned(code)` while the visit it was read in lasts; the flow checks its own step.
"""
from __future__ import annotations

import logging
import threading

log = logging.getLogger(__name__)

SCAN_POLL_S = 0.5   # the scanner is asked this often while a code is asked for


class ScannerListening:
    """Mixed into a `Flow`: `scanner` (kiosk.hardware.scanner.SerialScanner or None) and `scan_executor` are
    set by the flow; `scanned(code)` is the flow's own."""

    scanner = None
    scan_executor = None
    _listening: threading.Event | None = None   # the current loop's own switch

    def scanned(self, code) -> None:
        """A code from the scanner (kiosk.hardware.scanner.ScannedCode), on the flow's thread."""
        raise NotImplementedError

    def start_scanning(self, poll_s: float = SCAN_POLL_S) -> bool:
        """Listen to the scanner until `stop_scanning()`: each code read comes back to the flow's thread
        as `scanned(code)` while the visit it was read in lasts (the flow checks its step). A scanner
        fault is logged and listened past (the keypad still works). False when there is nothing to
        listen to."""
        if self.scanner is None or self.scan_executor is None or (
                self._listening is not None and self._listening.is_set()):
            return False
        # each loop has a switch of its own: a loop of an earlier visit, still in its last read when the
        # next one starts, sees its own switch off and ends, instead of listening on for the wrong visit
        listening = self._listening = threading.Event()
        listening.set()
        scanner, visit = self.scanner, self.visit
        # a code shown before the code was asked for is not this visit's: dropped now, before the step
        # is on screen for anyone to scan at (a buffer flush, not a wait), not later in the loop, which
        # would race a code scanned the moment the screen shows
        scanner.discard_pending()

        def listen() -> None:
            while listening.is_set():
                try:
                    code = scanner.read_code(poll_s)
                except Exception as exc:
                    log.warning("%s: scanner: %s", self.name, exc)
                    listening.wait(2.0)
                    continue
                if code is not None and listening.is_set():
                    self.deliver(lambda code=code: self.scanned(code), visit)
        self.scan_executor.run(listen)
        return True

    @property
    def listening(self) -> bool:
        """A loop is listening to the scanner now."""
        return self._listening is not None and self._listening.is_set()

    def stop_scanning(self) -> None:
        if self._listening is not None:
            self._listening.clear()
