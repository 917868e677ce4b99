"""Resident ID card reader (SAM module on a serial line), the driver: `SamReader`.

It owns the port (one command at a time), retries garbled exchanges, and
polls find -> select -> read while waiting for a card. Frames and card
contents are encoded and decoded by `kiosk.hardware.idcard.codec`.
"""
from __future__ import annotations

import logging
import threading
from typing import Mapping

from kiosk.hardware.device import (
    SYSTEM_CLOCK, CancelToken, DeviceClock, Completion, Device, DeviceError, ProtocolError, SelfTest, State, Status,
    Timeouts,
)
from kiosk.hardware.idcard.codec import (
    FIND_CARD, READ_ADDRESS, READ_TEXT_PHOTO, READ_TEXT_PHOTO_FINGERPRINT, RESET_SAM, SAM_ID, SAM_STATUS,
    SELECT_CARD, SW3, Card, FrameScanner, Reply, decode_reply, encode_request, parse_read_reply,
)
from kiosk.hardware.transport import Port, ReopeningPort

log = logging.getLogger("kiosk.hardware.idcard")   # one logger for the whole reader package

DEFAULT_TIMEOUTS = {
    "command": 1.0,        # a short command (find, select, SAM status) answered
    "read": 3.0,           # text + photo (+ fingerprint) answered; ~1.3-2.3 kB at 115200 plus the card read
    "find_interval": 0.25,  # pause between two find attempts while waiting for a card
    "reset": 3.0,          # SAM reset answered
}


class SamReader(Device):
    """Resident-ID reader speaking the SAM frame protocol; one command at a time on its port."""

    kind = "idcard"
    capabilities = frozenset({"read_text", "read_photo", "read_fingerprint", "read_address", "sam_id",
                              "resident", "hk_mo_tw_residence", "foreign_permanent", "foreign_permanent_2023"})

    def __init__(self, name: str, port: str, baudrate: int = 115200, timeouts: Mapping[str, float] | None = None,
                 clock: DeviceClock = SYSTEM_CLOCK, retries: int = 2, driver: str = "sam", transport: Port | None = None):
        super().__init__(name, driver, port)
        self.clock = clock
        self.timeouts = Timeouts(name, DEFAULT_TIMEOUTS, timeouts)
        self.retries = retries
        self._lock = threading.Lock()     # one command at a time on the port
        self._cancel = CancelToken()
        self._scanner = FrameScanner()
        self._port = transport or ReopeningPort(port, baudrate, name, clock)

    # -- link --------------------------------------------------------------------------------------

    def _read_frame(self, timeout: float) -> bytes:
        """One whole frame within `timeout`; DeviceError when none comes."""
        deadline = self.clock.monotonic() + timeout
        got_any = False
        while True:
            left = deadline - self.clock.monotonic()
            if left <= 0:
                detail = "garbled_reply" if got_any else "no_answer"
                what = "answered with bytes that are not a frame" if got_any else "did not answer"
                raise self._failed(Completion.TIMEOUT, f"reader {what} within {timeout:g} s", detail)
            chunk = self._port.read(self._scanner.needed(), left)
            if not chunk:
                continue
            got_any = True
            frames = self._scanner.feed(chunk)
            if frames:
                return frames[0]

    def _transact(self, command: tuple[int, int], timeout: float | None = None, data: bytes = b"") -> Reply:
        """Send one command and return the reply, retrying a garbled or checksum-failed exchange.
        The caller holds the lock."""
        timeout = self.timeouts.command if timeout is None else timeout
        request = encode_request(command, data)
        problem = ""
        for attempt in range(self.retries + 1):
            self._port.flush_input()
            self._scanner.reset()
            self._port.write(request)
            try:
                frame = self._read_frame(timeout)
                reply = decode_reply(frame)
            except ProtocolError as exc:
                problem = str(exc)
                log.warning("%s: bad frame from the reader (%s), try %d of %d", self.name, problem, attempt + 1,
                            self.retries + 1)
                continue
            except DeviceError as exc:
                if exc.detail == "garbled_reply":
                    problem = exc.message
                    continue
                raise
            if reply.sw3 in (0x10, 0x11):  # the reader got our frame damaged: send it again
                problem = f"reader reports {reply.detail}"
                continue
            return reply
        raise self._failed(Completion.HARDWARE_ERROR,
                           f"no good frame from the reader after {self.retries + 1} tries: {problem}; "
                           "check the cable and the baud rate", "bad_frames")

    def _transact_private(self, command: tuple[int, int]) -> Reply:
        """A read whose reply holds card data: the wire log shows its size, never its bytes."""
        self._port.private = True
        try:
            return self._transact(command, self.timeouts.read)
        finally:
            self._port.private = False

    def _expect(self, reply: Reply, ok: int, what: str) -> Reply:
        if reply.sw3 != ok:
            completion = Completion.HARDWARE_ERROR if reply.sw3 in (0x60, 0x66, 0x47, 0x24) else Completion.INVALID_DATA
            raise self._failed(completion, f"{what}: {SW3.get(reply.sw3, ('', 'code %02X' % reply.sw3))[1]}",
                               reply.detail)
        return reply

    # -- commands ----------------------------------------------------------------------------------

    def find(self) -> bool:
        with self._lock:
            return self._find()

    def _find(self) -> bool:
        reply = self._transact(FIND_CARD)
        if reply.sw3 == 0x9F:
            return True
        if reply.sw3 == 0x80:
            return False
        self._expect(reply, 0x9F, "find card")
        return False

    def select(self) -> bool:
        with self._lock:
            return self._select()

    def _select(self) -> bool:
        reply = self._transact(SELECT_CARD)
        if reply.sw3 == 0x90:
            return True
        if reply.sw3 in (0x81, 0x80):
            return False
        self._expect(reply, 0x90, "select card")
        return False

    def read(self, fingerprint: bool = False) -> Card:
        """Read the selected card (text + photo, and the fingerprint when asked)."""
        with self._lock:
            return self._read(fingerprint)

    def _read(self, fingerprint: bool) -> Card:
        command = READ_TEXT_PHOTO_FINGERPRINT if fingerprint else READ_TEXT_PHOTO
        problem = ""
        for _ in range(self.retries + 1):
            reply = self._expect(self._transact_private(command), 0x90, "read card")
            try:
                return parse_read_reply(reply.data, fingerprint)
            except ProtocolError as exc:
                problem = str(exc)
                log.warning("%s: card data does not parse (%s)", self.name, problem)
                # a reread needs the card found and selected again
                if not (self._find() and self._select()):
                    break
        raise self._failed(Completion.INVALID_DATA, f"card data does not parse: {problem}", "invalid_card_data")

    def read_address(self) -> str:
        """The appended address (written by the police after a move), '' when there is none."""
        with self._lock:
            reply = self._transact_private(READ_ADDRESS)
            if reply.sw3 == 0x91:
                return ""
            self._expect(reply, 0x90, "read appended address")
            try:
                return reply.data.decode("utf-16-le").replace("\x00", " ").strip()
            except UnicodeDecodeError:
                raise self._failed(Completion.INVALID_DATA, "appended address is not UCS-2 text",
                                   "invalid_card_data") from None

    def reset_sam(self) -> None:
        with self._lock:
            self._expect(self._transact(RESET_SAM, self.timeouts.reset), 0x90, "reset SAM")

    def sam_status(self) -> Reply:
        with self._lock:
            return self._transact(SAM_STATUS)

    def sam_id(self) -> str:
        """The SAM module's id as hex (vendors print it in differing dotted forms)."""
        with self._lock:
            reply = self._expect(self._transact(SAM_ID), 0x90, "read SAM id")
        if not reply.data:
            raise self._failed(Completion.INVALID_DATA, "SAM id reply carries no id", "invalid_reply")
        return reply.data.hex().upper()

    def read_card(self, timeout: float, cancel: CancelToken | None = None, fingerprint: bool = False) -> Card:
        """Wait up to `timeout` s for a card, then find -> select -> read it.

        DeviceError TIMEOUT (detail `no_card`) when no card is read in time,
        CANCELED when `cancel` (or `self.cancel()`) fires.
        """
        self._cancel = CancelToken()
        tokens = [t for t in (cancel, self._cancel) if t is not None]
        deadline = self.clock.monotonic() + timeout
        with self._lock:
            while True:
                for token in tokens:
                    token.check(self.name)
                if self._find() and self._select():
                    return self._read(fingerprint)
                if self.clock.monotonic() + self.timeouts.find_interval > deadline:
                    raise self._failed(Completion.TIMEOUT, f"no card read within {timeout:g} s", "no_card")
                self.clock.sleep(self.timeouts.find_interval)

    def cancel(self) -> None:
        self._cancel.cancel()

    # -- device model ------------------------------------------------------------------------------

    def status(self) -> Status:
        if not self._lock.acquire(blocking=False):
            return Status(State.BUSY, "reading")
        try:
            reply = self._transact(SAM_STATUS)
        except DeviceError as exc:
            if exc.detail == "bad_frames":
                return Status(State.HARDWARE_ERROR, "bad_frames")
            if exc.detail == "no_device":
                return Status(State.NO_DEVICE, "no_device")
            return Status(State.OFFLINE, exc.detail or "no_answer")
        finally:
            self._lock.release()
        if reply.sw3 == 0x90:
            return Status(State.ONLINE)
        return Status(State.HARDWARE_ERROR, reply.detail)

    def self_test(self) -> SelfTest:
        status = self.status()
        if status.state is not State.ONLINE:
            return SelfTest(False, f"SAM status: {status.state.value} {status.detail}".strip())
        try:
            sam = self.sam_id()
        except DeviceError as exc:
            return SelfTest(False, exc.message)
        return SelfTest(True, f"SAM ok, id {sam}")

    def close(self) -> None:
        self._port.close()
