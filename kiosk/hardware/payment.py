"""Payment terminal on Ingenico Concert protocol E (serial): link, frames, sale, refund, and never a guessed outcome.

Link (HARDWARE.md): host ENQ -> terminal ACK -> host frame -> ACK -> host EOT;
the result comes back the same way with the roles swapped, after the
cardholder is done (up to `result_timeout_s`). Frame = STX + ASCII payload +
ETX + LRC, LRC = XOR of payload and ETX. A frame answered with NAK is sent
again, three tries in all.

The rule that matters: once a request may have reached the terminal, the only
outcomes are what the terminal said (`approved`, `declined`) or `unknown`
(no answer in time, link lost, garbled or mismatched answer, wait canceled).
A caller first gets a `PendingSale` from `prepare_sale()` and persists it,
then calls `send()`; after a restart it calls `reconcile(pending)`. Protocol E
has no query of a past transaction: reconcile can only catch an answer the
terminal is still trying to deliver; otherwise the outcome stays unknown and
must be settled from the terminal's journal (`needs_manual_check`).

Customer-presented payment codes (WeChat/Alipay QR shown to the scanner) go
through an acquirer's back-end, not this terminal: the domain's one gateway port
(`CodePaymentGateway`, kiosk/core/payment/gateway.py) is what such a plug-in implements.
"""
from __future__ import annotations

import datetime as dt
import logging
import secrets
import string
import threading
from dataclasses import asdict, dataclass
from enum import Enum
from typing import Mapping

from kiosk.hardware.device import (
    SYSTEM_CLOCK, CancelToken, DeviceClock, Completion, Device, DeviceError, ProtocolError, SelfTest, State, Status,
    Timeouts,
)
from kiosk.hardware.transport import Port, ReopeningPort

log = logging.getLogger(__name__)

ENQ, ACK, NAK, EOT, STX, ETX = 0x05, 0x06, 0x15, 0x04, 0x02, 0x03

REQUEST_SIZE = 34
RESPONSE_SIZE = 25
MAX_AMOUNT = 99_999_999  # 8 digits of minor units
REFERENCE_SIZE = 10
MAX_PAYLOAD = 512        # longer than any Concert answer: a runaway stream is garbage, not a frame


# --- codec -------------------------------------------------------------------------------------

def lrc(data: bytes) -> int:
    out = 0
    for b in data:
        out ^= b
    return out


def encode_frame(payload: str) -> bytes:
    body = payload.encode("ascii") + bytes([ETX])
    return bytes([STX]) + body + bytes([lrc(body)])


def decode_frame(frame: bytes) -> str:
    """The ASCII payload of one whole frame (STX ... ETX LRC), its LRC verified."""
    if len(frame) < 3 or frame[0] != STX:
        raise ProtocolError("frame does not start with STX")
    if frame[-2] != ETX:
        raise ProtocolError("frame does not end with ETX + LRC")
    body, got = frame[1:-1], frame[-1]
    if lrc(body) != got:
        raise ProtocolError(f"bad LRC: got {got:02X}, expected {lrc(body):02X}")
    payload = body[:-1]
    if any(b < 0x20 or b > 0x7E for b in payload):
        raise ProtocolError("payload holds bytes that are not printable ASCII")
    return payload.decode("ascii")


class TransactionType(str, Enum):
    DEBIT = "0"
    CREDIT = "1"
    REFUND = "2"


@dataclass(frozen=True)
class Request:
    pos_number: str
    amount_fen: int
    transaction_type: str
    currency: str
    reference: str
    answer_flag: str = "0"     # short answer
    payment_mode: str = "1"    # card
    delay: str = "A010"        # answer at the end of the transaction
    authorization: str = "B010"


def encode_request(req: Request) -> str:
    if not (len(req.pos_number) == 2 and req.pos_number.isdigit()):
        raise ProtocolError(f"pos number {req.pos_number!r} is not 2 digits")
    if not 0 < req.amount_fen <= MAX_AMOUNT:
        raise ProtocolError(f"amount {req.amount_fen} fen is outside 1..{MAX_AMOUNT}")
    if not (len(req.currency) == 3 and req.currency.isdigit()):
        raise ProtocolError(f"currency {req.currency!r} is not an ISO 4217 numeric code")
    if len(req.reference) != REFERENCE_SIZE or not req.reference.isascii() or not req.reference.isprintable():
        raise ProtocolError(f"reference {req.reference!r} is not {REFERENCE_SIZE} printable ASCII characters")
    payload = (req.pos_number + f"{req.amount_fen:08d}" + req.answer_flag + req.payment_mode
               + req.transaction_type + req.currency + req.reference + req.delay + req.authorization)
    assert len(payload) == REQUEST_SIZE
    return payload


def decode_request(payload: str) -> Request:
    if len(payload) != REQUEST_SIZE:
        raise ProtocolError(f"request payload is {len(payload)} characters, expected {REQUEST_SIZE}")
    if not (payload.isascii() and payload.isprintable()):
        raise ProtocolError("request payload is not printable ASCII")
    if not payload[2:10].isdigit():
        raise ProtocolError(f"amount {payload[2:10]!r} is not 8 digits")
    return Request(pos_number=payload[0:2], amount_fen=int(payload[2:10]), answer_flag=payload[10],
                   payment_mode=payload[11], transaction_type=payload[12], currency=payload[13:16],
                   reference=payload[16:26], delay=payload[26:30], authorization=payload[30:34])


@dataclass(frozen=True)
class Response:
    pos_number: str
    result: str          # 0 success, 7 rejected, 9 not verified
    amount_fen: int
    payment_mode: str
    currency: str
    reference: str
    rest: str = ""       # terminals with a longer answer append fields we do not use


RESULT_CODES = {"0": "approved", "7": "rejected", "9": "not_verified"}


def decode_response(payload: str) -> Response:
    if len(payload) < RESPONSE_SIZE:
        raise ProtocolError(f"response payload is {len(payload)} characters, expected at least {RESPONSE_SIZE}")
    if not (payload.isascii() and payload.isprintable()):
        raise ProtocolError("response payload is not printable ASCII")
    if not payload[0:2].isdigit():
        raise ProtocolError(f"pos number {payload[0:2]!r} is not 2 digits")
    if payload[2] not in RESULT_CODES:
        raise ProtocolError(f"result code {payload[2]!r} is not one of 0, 7, 9")
    if not payload[3:11].isdigit():
        raise ProtocolError(f"amount {payload[3:11]!r} is not 8 digits")
    return Response(pos_number=payload[0:2], result=payload[2], amount_fen=int(payload[3:11]),
                    payment_mode=payload[11], currency=payload[12:15], reference=payload[15:25],
                    rest=payload[25:])


def encode_response(resp: Response) -> str:
    return (resp.pos_number + resp.result + f"{resp.amount_fen:08d}" + resp.payment_mode + resp.currency
            + resp.reference + resp.rest)


# --- outcomes ----------------------------------------------------------------------------------

class Result(str, Enum):
    APPROVED = "approved"
    DECLINED = "declined"
    UNKNOWN = "unknown"


@dataclass(frozen=True)
class PendingSale:
    """What the caller persists BEFORE `send()`: enough to reconcile after a crash or restart."""

    reference: str
    amount_fen: int
    kind: str                 # sale | refund
    currency: str
    pos_number: str
    created_at: str           # wall-clock time, ISO 8601 UTC

    def as_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: Mapping) -> "PendingSale":
        return cls(**{k: data[k] for k in cls.__dataclass_fields__})


@dataclass(frozen=True)
class PaymentOutcome:
    result: Result
    amount_fen: int
    reference: str
    kind: str
    detail: str               # approved | rejected | not_verified | no_result | link_lost | garbled_answer | ...
    sent: bool = True         # False: the request never reached the terminal (nothing to reconcile)

    def as_dict(self) -> dict:
        return {"result": self.result.value, "amount_fen": self.amount_fen, "reference": self.reference,
                "kind": self.kind, "detail": self.detail, "sent": self.sent}


def new_reference() -> str:
    """10 characters for the private field; random so two kiosks or a restarted one never collide."""
    alphabet = string.digits + string.ascii_uppercase
    return "".join(secrets.choice(alphabet) for _ in range(REFERENCE_SIZE))


DEFAULT_TIMEOUTS = {
    "ack": 2.0,          # the terminal's ACK to our ENQ or frame
    "frame": 3.0,        # a whole result frame after we ACKed its ENQ
    "eot": 1.0,          # the closing EOT (its absence does not change a known outcome)
    "abort_grace": 5.0,  # after abort(), how long an answer already on its way is still caught
    "reconcile": 10.0,   # reconcile(): how long to listen for an answer the terminal still holds
}


class ConcertTerminal(Device):
    """Card payment terminal (Ingenico Concert protocol E). One transaction at a time."""

    kind = "payment"
    capabilities = frozenset({"sale", "refund", "abort_wait", "reconcile_late_answer"})

    def __init__(self, name: str, port: str, baudrate: int = 9600, pos_number: str = "01", currency: str = "156",
                 result_timeout_s: float = 120.0, timeouts: Mapping[str, float] | None = None,
                 clock: DeviceClock = SYSTEM_CLOCK, refund_type: str = TransactionType.REFUND.value,
                 driver: str = "concert", transport: Port | None = None):
        super().__init__(name, driver, port)
        self.clock = clock
        self.pos_number = pos_number
        self.currency = currency
        self.result_timeout_s = result_timeout_s
        self.refund_type = refund_type   # HARDWARE.md says 2; some terminals credit with 1
        self.timeouts = Timeouts(name, DEFAULT_TIMEOUTS, timeouts)
        self._lock = threading.Lock()
        self._cancel = CancelToken()
        self._port = transport or ReopeningPort(port, baudrate, name, clock)

    # -- preparing ---------------------------------------------------------------------------------

    def prepare_sale(self, amount_fen: int, reference: str | None = None) -> PendingSale:
        return self._prepare(amount_fen, "sale", reference)

    def prepare_refund(self, amount_fen: int, reference: str | None = None) -> PendingSale:
        return self._prepare(amount_fen, "refund", reference)

    def _prepare(self, amount_fen: int, kind: str, reference: str | None) -> PendingSale:
        if not isinstance(amount_fen, int) or not 0 < amount_fen <= MAX_AMOUNT:
            raise self._failed(Completion.USER_ERROR, f"amount {amount_fen!r} fen is outside 1..{MAX_AMOUNT}",
                               "bad_amount")
        ref = reference or new_reference()
        if len(ref) != REFERENCE_SIZE or not ref.isascii() or not ref.isprintable():
            raise self._failed(Completion.USER_ERROR,
                               f"reference must be {REFERENCE_SIZE} printable ASCII characters", "bad_reference")
        now = dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds")
        return PendingSale(ref, amount_fen, kind, self.currency, self.pos_number, now)

    # -- link primitives ---------------------------------------------------------------------------

    def _read_byte(self, timeout: float) -> int | None:
        data = self._port.read(1, timeout)
        return data[0] if data else None

    def _wait_for(self, wanted: set[int], timeout: float, tokens=()) -> int | None:
        """The first byte in `wanted` within `timeout`, skipping others; checks cancel every 0.5 s."""
        deadline = self.clock.monotonic() + timeout
        while True:
            for token in tokens:
                if token.canceled:
                    return None
            left = deadline - self.clock.monotonic()
            if left <= 0:
                return None
            b = self._read_byte(min(left, 0.5))
            if b is not None and b in wanted:
                return b

    def _read_frame(self) -> bytes | None:
        """STX ... ETX LRC within the frame timeout; None when it does not come whole."""
        deadline = self.clock.monotonic() + self.timeouts.frame
        buf = bytearray()
        while True:
            left = deadline - self.clock.monotonic()
            if left <= 0:
                return None
            if not buf:
                b = self._read_byte(left)
                if b == STX:
                    buf.append(b)
                continue
            chunk = self._port.read(1, left)
            if not chunk:
                continue
            buf += chunk
            if len(buf) >= 3 and buf[-2] == ETX:
                return bytes(buf)
            if len(buf) > MAX_PAYLOAD:
                return bytes(buf)

    def _send_request(self, payload: str) -> None:
        """ENQ/ACK, frame/ACK, EOT. DeviceError(sent=False) when nothing reached the terminal.

        Raises `_MaybeSent` when the frame went out but was not acknowledged."""
        self._port.flush_input()
        for _ in range(3):
            self._port.write(bytes([ENQ]))
            if self._wait_for({ACK, NAK}, self.timeouts.ack) == ACK:
                break
        else:
            raise self._failed(Completion.DEVICE_NOT_READY,
                               "terminal did not acknowledge ENQ: is it on, connected, and idle?", "no_answer")
        frame = encode_frame(payload)
        for _ in range(3):
            self._port.write(frame)
            answer = self._wait_for({ACK, NAK}, self.timeouts.ack)
            if answer == ACK:
                self._port.write(bytes([EOT]))
                return
            if answer is None:
                raise _MaybeSent("terminal did not acknowledge the request frame")
        self._port.write(bytes([EOT]))
        raise self._failed(Completion.HARDWARE_ERROR, "terminal refused our frame three times (NAK): "
                           "check the line settings (9600 7E1 on some terminals)", "frame_refused")

    def _receive_result(self, wait: float, tokens=()) -> tuple[str | None, str]:
        """(payload, detail): the terminal's ENQ within `wait`, then its frame; payload None when unknown."""
        if self._wait_for({ENQ}, wait, tokens) is None:
            return None, ("canceled" if any(t.canceled for t in tokens) else "no_result")
        self._port.write(bytes([ACK]))
        for _ in range(3):
            frame = self._read_frame()
            if frame is None:
                return None, "link_lost"
            try:
                payload = decode_frame(frame)
            except ProtocolError as exc:
                log.warning("%s: bad result frame (%s); asking again", self.name, exc)
                self._port.write(bytes([NAK]))
                continue
            self._port.write(bytes([ACK]))
            self._wait_for({EOT}, self.timeouts.eot)
            return payload, "ok"
        return None, "garbled_answer"

    # -- transactions ------------------------------------------------------------------------------

    def send(self, pending: PendingSale, cancel: CancelToken | None = None) -> PaymentOutcome:
        """Send a prepared (and persisted) sale or refund; wait for the cardholder; never guess."""
        ttype = TransactionType.DEBIT.value if pending.kind == "sale" else self.refund_type
        payload = encode_request(Request(pending.pos_number, pending.amount_fen, ttype, pending.currency,
                                         pending.reference))
        self._cancel = CancelToken()
        tokens = tuple(t for t in (cancel, self._cancel) if t is not None)
        with self._lock:
            try:
                self._send_request(payload)
            except _MaybeSent as exc:
                log.warning("%s: %s; outcome unknown", self.name, exc)
                return self._outcome(pending, Result.UNKNOWN, "link_lost")
            except DeviceError as exc:
                return self._outcome(pending, Result.DECLINED, exc.detail, sent=False)
            payload, detail = self._receive_result(self.result_timeout_s, tokens)
            if payload is None and detail == "canceled":
                # protocol E cannot call a transaction back: catch an answer already on its way
                payload, detail = self._receive_result(self.timeouts.abort_grace)
                detail = "canceled" if payload is None else detail
        return self._judge(pending, payload, detail)

    send_sale = send
    send_refund = send

    def reconcile(self, pending: PendingSale, listen_s: float | None = None) -> PaymentOutcome:
        """After a restart: catch the answer to `pending` if the terminal still holds it.

        Protocol E has no transaction query, so when no answer comes the
        outcome stays unknown (`needs_manual_check`: compare with the
        terminal's journal or the acquirer's statement before any retry).
        """
        with self._lock:
            payload, detail = self._receive_result(self.timeouts.reconcile if listen_s is None else listen_s)
        if payload is None and detail == "no_result":
            detail = "needs_manual_check"
        return self._judge(pending, payload, detail)

    def abort(self) -> None:
        """Stop waiting for the cardholder. The terminal itself keeps its own timeout (protocol E)."""
        self._cancel.cancel()

    cancel = abort

    def _judge(self, pending: PendingSale, payload: str | None, detail: str) -> PaymentOutcome:
        if payload is None:
            return self._outcome(pending, Result.UNKNOWN, detail)
        try:
            resp = decode_response(payload)
        except ProtocolError as exc:
            log.warning("%s: answer does not decode (%s); outcome unknown", self.name, exc)
            return self._outcome(pending, Result.UNKNOWN, "garbled_answer")
        if resp.reference != pending.reference:
            log.warning("%s: answer is for another transaction; outcome unknown", self.name)
            return self._outcome(pending, Result.UNKNOWN, "mismatched_answer")
        if resp.result == "0":
            if resp.amount_fen != pending.amount_fen:
                return self._outcome(pending, Result.UNKNOWN, "amount_mismatch")
            return self._outcome(pending, Result.APPROVED, "approved")
        return self._outcome(pending, Result.DECLINED, RESULT_CODES[resp.result])

    def _outcome(self, pending: PendingSale, result: Result, detail: str, sent: bool = True) -> PaymentOutcome:
        if result is Result.UNKNOWN:
            self.last_error = f"outcome of {pending.kind} {pending.reference} unknown: {detail}"
            self.last_problem = ("hardware_error", detail)
        return PaymentOutcome(result, pending.amount_fen, pending.reference, pending.kind, detail, sent)

    # -- device model ------------------------------------------------------------------------------

    def status(self) -> Status:
        """ENQ then EOT: the terminal acknowledges and goes back to idle; no frame, no transaction."""
        if not self._lock.acquire(blocking=False):
            return Status(State.BUSY, "transaction_in_progress")
        try:
            self._port.flush_input()
            self._port.write(bytes([ENQ]))
            answer = self._wait_for({ACK, NAK}, self.timeouts.ack)
            if answer is not None:
                self._port.write(bytes([EOT]))
        except DeviceError as exc:
            if exc.detail == "no_device":
                return Status(State.NO_DEVICE, "no_device")
            return Status(State.OFFLINE, exc.detail or "no_answer")
        finally:
            self._lock.release()
        if answer == ACK:
            return Status(State.ONLINE)
        if answer == NAK:
            return Status(State.BUSY, "terminal_busy")
        return Status(State.OFFLINE, "no_answer")

    def self_test(self) -> SelfTest:
        status = self.status()
        if status.state is State.ONLINE:
            return SelfTest(True, "terminal acknowledges the link (ENQ/ACK)")
        return SelfTest(False, f"terminal: {status.state.value} {status.detail}".strip())

    def close(self) -> None:
        self._port.close()


class _MaybeSent(Exception):
    """The request frame went out and its fate is unknown."""
