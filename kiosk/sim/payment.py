"""Simulated Ingenico Concert (protocol E) terminal behind `sim://payment`, speaking the real link.

Control interface: `set_outcome(...)` with `approve` (default), `decline`,
`not_verified`, `no_answer` (takes the request, never answers), `offline`
(does not acknowledge ENQ), `garbled` (answers with a bad LRC every time),
`wrong_reference` (answers for another transaction); `answer_delay` is how
long the simulated cardholder takes (set it to 90 for "answer after 90 s").
`requests` holds every request the terminal accepted.
"""
from __future__ import annotations

from kiosk.hardware.device import SYSTEM_CLOCK, DeviceClock, ProtocolError
from kiosk.hardware.payment import (
    ACK, ENQ, EOT, ETX, NAK, STX, Request, Response, decode_frame, decode_request, encode_frame, encode_response,
)
from kiosk.sim.base import Simulator

OUTCOMES = ("approve", "decline", "not_verified", "no_answer", "offline", "garbled", "wrong_reference")


class ConcertSimulator(Simulator):
    def __init__(self, clock: DeviceClock = SYSTEM_CLOCK):
        super().__init__(clock)
        self.outcome = "approve"
        self.answer_delay = 0.5
        self.requests: list[Request] = []
        self._state = "idle"
        self._frame = bytearray()
        self._request: Request | None = None
        self._response = b""
        self._resends = 0

    # -- control interface -------------------------------------------------------------------------

    def set_outcome(self, outcome: str, answer_delay: float | None = None) -> None:
        if outcome not in OUTCOMES:
            raise ValueError(f"unknown payment outcome {outcome!r}; known: {', '.join(OUTCOMES)}")
        self.outcome = outcome
        if answer_delay is not None:
            self.answer_delay = answer_delay

    # -- wire --------------------------------------------------------------------------------------

    def receive(self, data: bytes) -> None:
        for b in data:
            self._byte(b)

    def _byte(self, b: int) -> None:
        state = self._state
        if b == ENQ and state in ("await_ack", "await_frame_ack"):
            # the host has moved on (it timed out, or restarted): give up delivering the old answer
            self.discard_output()
            state = "idle"
        # an ENQ between frames starts over; inside a frame it is just a byte (an LRC can be 05)
        if state == "idle" or (b == ENQ and (state == "eot" or (state == "frame" and not self._frame))):
            if b == ENQ and self.outcome != "offline":
                self._state, self._frame = "frame", bytearray()
                self.emit(bytes([ACK]))
        elif state == "frame":
            if not self._frame and b != STX:
                if b == EOT:          # a status probe: ENQ, ACK, EOT
                    self._state = "idle"
                return
            self._frame.append(b)
            if len(self._frame) >= 3 and self._frame[-2] == ETX:
                frame, self._frame = bytes(self._frame), bytearray()
                try:
                    self._request = decode_request(decode_frame(frame))
                except ProtocolError:
                    self.emit(bytes([NAK]))
                    return
                self.requests.append(self._request)
                self.emit(bytes([ACK]))
                self._state = "eot"
            elif len(self._frame) > 256:
                self._frame = bytearray()
        elif state == "eot":
            if b == EOT:
                self._start_answer()
        elif state == "await_ack":
            if b == ACK:
                self._resends = 0
                self.emit(self._response)
                self._state = "await_frame_ack"
        elif state == "await_frame_ack":
            if b == ACK:
                self.emit(bytes([EOT]))
                self._state = "idle"
            elif b == NAK:
                self._resends += 1
                if self._resends >= 3:
                    self.emit(bytes([EOT]))
                    self._state = "idle"
                else:
                    self.emit(self._response)

    def _start_answer(self) -> None:
        req = self._request
        if req is None or self.outcome == "no_answer":
            self._state = "idle"
            return
        result = {"approve": "0", "decline": "7", "not_verified": "9"}.get(self.outcome, "0")
        reference = req.reference if self.outcome != "wrong_reference" else "OTHER00000"
        amount = req.amount_fen if result == "0" else 0
        frame = encode_frame(encode_response(Response(req.pos_number, result, amount, req.payment_mode,
                                                      req.currency, reference)))
        if self.outcome == "garbled":
            frame = frame[:-1] + bytes([frame[-1] ^ 0x5A])
        self._response = frame
        self._state = "await_ack"
        self.emit(bytes([ENQ]), self.answer_delay)
