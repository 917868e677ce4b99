"""The certificate pickup locker: lock-control boards on one RS-485 bus, doors numbered 1..N.

Board protocols are plug-ins (`BoardProtocol`): the "8A" board (`lock8a`,
kiosk/hardware/locker_8a.py) and the Kerong KR-CU (`kerong`,
kiosk/hardware/locker_kerong.py). A plug-in encodes requests, decodes replies
and knows its checksum, its usual baud rate and its address range; the
`Locker` driver owns the bus and does everything else:

- several boards on one bus; doors are numbered 1..N across the boards in the
  order of the config (board 1 doors 1..24, board 2 doors 25..48, ...);
- one command on the bus at a time (half duplex, one master): flush input,
  send, wait for the reply or a timeout, then the next frame;
- an unlock counts only when the door reports open within `open_confirm`
  seconds; a board that does not answer is `offline` with `no_answer`;
- how a board's switches read (`open_status`, `closed_bit`) and which reply
  headers it uses are per-board settings, because vendors disagree.
"""
from __future__ import annotations

import importlib
import logging
import threading
from abc import ABC, abstractmethod
from dataclasses import dataclass
from typing import Iterable, Mapping

from kiosk.hardware.device import (SYSTEM_CLOCK, CancelToken, DeviceClock, Completion, Device, DeviceError, ProtocolError,
                                   SelfTest, State, Status, Timeouts)
from kiosk.hardware.transport import Port, open_port

log = logging.getLogger(__name__)

TIMEOUTS = {
    "reply": 0.5,          # a query's answer
    "unlock_reply": 3.0,   # an unlock's answer comes after the lock pulse, about 1 s
    "open_confirm": 3.0,   # after the unlock answer, how long the door has to report open
    "poll_interval": 0.2,  # between door queries while waiting for open / closed
    "bus_reply": 1.0,      # a whole-bus query: every board's answer
}


@dataclass(frozen=True)
class LockBoard:
    """One board on the bus and how its switches read (HARDWARE.md: vendors disagree, so per board)."""

    address: int
    doors: int
    open_status: int = 0x11                       # 8A single-door replies: this status byte = open
    closed_bit: int = 1                           # bitmap replies: this bit value = closed
    reply_headers: tuple[int, ...] = (0x80, 0x8A)  # 8A: first byte of a reply

    def closed_from_bit(self, bit: int) -> bool:
        return bit == self.closed_bit


@dataclass(frozen=True)
class BoardReport:
    """What one reply frame says: lock number (1-based on the board) -> (closed, item present or None)."""

    address: int
    locks: Mapping[int, tuple[bool, bool | None]]


@dataclass(frozen=True)
class DoorState:
    door: int
    closed: bool
    item_present: bool | None

    def as_dict(self) -> dict:
        return {"door": self.door, "closed": self.closed, "item_present": self.item_present}


@dataclass(frozen=True)
class Exchange:
    """One request and the kind of reply that answers it ("door", "board" or "bus")."""

    request: bytes
    expect: str


class BoardProtocol(ABC):
    """A lock-board protocol plug-in: pure encoding and decoding, no I/O."""

    driver: str = ""
    baudrate: int = 9600
    addresses: range = range(0)
    max_doors: int = 0
    item_sensor: bool = False

    @abstractmethod
    def unlock(self, board: LockBoard, lock: int) -> Exchange: ...

    @abstractmethod
    def query_board(self, board: LockBoard) -> Exchange: ...

    def query_door(self, board: LockBoard, lock: int) -> Exchange:
        return self.query_board(board)

    def query_bus(self) -> Exchange | None:
        """One request every board answers (Kerong), or None when the boards are asked one by one."""
        return None

    @abstractmethod
    def reply_length(self, expect: str) -> int: ...

    @abstractmethod
    def is_reply_start(self, byte: int, boards: Mapping[int, LockBoard]) -> bool: ...

    @abstractmethod
    def decode_reply(self, frame: bytes, expect: str, boards: Mapping[int, LockBoard]) -> BoardReport:
        """Exactly one reply frame -> what it says; anything else raises ProtocolError."""

    def check_board(self, board: LockBoard) -> None:
        if board.address not in self.addresses:
            raise ValueError(f"{self.driver}: board address {board.address} is outside "
                             f"{self.addresses.start}-{self.addresses.stop - 1}")
        if not 1 <= board.doors <= self.max_doors:
            raise ValueError(f"{self.driver}: board {board.address} has {board.doors} doors; "
                             f"this board type drives 1-{self.max_doors}")

    def find_reply(self, buf: bytes, expect: str, boards: Mapping[int, LockBoard]) -> tuple[BoardReport | None, int]:
        """The first valid reply in `buf`, skipping noise: (report, bytes used), or (None, bytes that can go).

        A partial frame at the end is kept (it may complete with the next read).
        """
        size = self.reply_length(expect)
        for i in range(len(buf)):
            if not self.is_reply_start(buf[i], boards):
                continue
            if len(buf) - i < size:
                return None, i
            try:
                return self.decode_reply(bytes(buf[i:i + size]), expect, boards), i + size
            except ProtocolError:
                continue
        return None, len(buf)


_PLUGINS = {"lock8a": "kiosk.hardware.locker_8a", "kerong": "kiosk.hardware.locker_kerong"}
_protocols: dict[str, type[BoardProtocol]] = {}


def register_protocol(cls: type[BoardProtocol]) -> type[BoardProtocol]:
    _protocols[cls.driver] = cls
    return cls


def protocol_for(driver: str) -> BoardProtocol:
    if driver not in _protocols and driver in _PLUGINS:
        importlib.import_module(_PLUGINS[driver])
    try:
        return _protocols[driver]()
    except KeyError:
        raise ValueError(f"unknown lock board driver {driver!r}; known: {', '.join(sorted(_PLUGINS))}") from None


class Locker(Device):
    """The locker on one bus: open a door, read door states, report health."""

    kind = "locker"

    def __init__(self, name: str, port: str, boards: Iterable[LockBoard], protocol: BoardProtocol | str,
                 baudrate: int | None = None, timeouts: Mapping[str, float] | None = None,
                 clock: DeviceClock = SYSTEM_CLOCK, local_echo: bool = False, transport: Port | None = None):
        self.protocol = protocol_for(protocol) if isinstance(protocol, str) else protocol
        super().__init__(name, self.protocol.driver, port)
        self.boards = list(boards)
        if not self.boards:
            raise ValueError(f"{name}: a locker needs at least one board")
        seen = set()
        for board in self.boards:
            self.protocol.check_board(board)
            if board.address in seen:
                raise ValueError(f"{name}: board address {board.address} is listed twice")
            seen.add(board.address)
        self.capabilities = frozenset({"unlock", "door_state"} | ({"item_sensor"} if self.protocol.item_sensor else set()))
        self.timeouts = Timeouts(name, TIMEOUTS, timeouts)
        self.clock = clock
        self.local_echo = local_echo
        self.baudrate = baudrate or self.protocol.baudrate
        self._bus = threading.Lock()
        self._cancel = CancelToken()
        self._port = transport or open_port(port, self.baudrate, name, clock)
        # door number -> (board, lock on that board), in board order
        self._doors: list[tuple[LockBoard, int]] = [(b, n) for b in self.boards for n in range(1, b.doors + 1)]

    # --- numbering -------------------------------------------------------------------------------

    @property
    def door_count(self) -> int:
        return len(self._doors)

    def locate(self, door: int) -> tuple[LockBoard, int]:
        if not 1 <= door <= self.door_count:
            raise DeviceError(self.name, Completion.USER_ERROR,
                              f"door {door} does not exist: the locker has doors 1-{self.door_count}", "no_such_door")
        return self._doors[door - 1]

    def door_number(self, board: LockBoard, lock: int) -> int:
        first = 1
        for b in self.boards:
            if b.address == board.address:
                return first + lock - 1
            first += b.doors
        raise KeyError(board.address)

    # --- the bus ---------------------------------------------------------------------------------

    def _exchange(self, exchange: Exchange, boards: list[LockBoard], timeout: float) -> dict[int, BoardReport]:
        """Send one request and collect the replies of `boards` until all answered or `timeout` passes.

        Half duplex: the bus lock is held from the flush to the last reply, so
        no other frame can interleave.
        """
        wanted = {b.address: b for b in boards}
        got: dict[int, BoardReport] = {}
        noise = 0
        with self._bus:
            self._port.flush_input()
            self._port.write(exchange.request)
            deadline = self.clock.monotonic() + timeout
            buf = bytearray()
            if self.local_echo:
                buf += self._drop_echo(exchange.request, deadline)
            while len(got) < len(wanted):
                left = deadline - self.clock.monotonic()
                if left <= 0:
                    break
                chunk = self._port.read(64, left)
                if not chunk:
                    continue
                buf += chunk
                while buf:
                    report, used = self.protocol.find_reply(bytes(buf), exchange.expect, wanted)
                    if report is None:
                        noise += used
                        del buf[:used]
                        break
                    noise += used - self.protocol.reply_length(exchange.expect)
                    del buf[:used]
                    got.setdefault(report.address, report)
        if noise:
            log.warning("%s: %d stray byte(s) on the bus around %s", self.name, noise, exchange.request.hex(" "))
        return got

    def _drop_echo(self, request: bytes, deadline: float) -> bytes:
        """Adapters that hear their own transmission: the first bytes back are our request."""
        buf = bytearray()
        while len(buf) < len(request):
            left = deadline - self.clock.monotonic()
            if left <= 0:
                break
            buf += self._port.read(len(request) - len(buf), left)
        return bytes(buf[len(request):]) if bytes(buf[:len(request)]) == request else bytes(buf)

    def _ask(self, exchange: Exchange, board: LockBoard, timeout: float) -> BoardReport:
        replies = self._exchange(exchange, [board], timeout)
        if board.address not in replies:
            raise self._failed(Completion.TIMEOUT,
                               f"lock board {board.address} did not answer within {timeout:g} s "
                               f"(check its power, the RS-485 wiring A/B and its address switches)", "no_answer")
        return replies[board.address]

    def _board_states(self, board: LockBoard, report: BoardReport) -> list[DoorState]:
        out = []
        for lock in range(1, board.doors + 1):
            if lock not in report.locks:
                raise self._failed(Completion.INVALID_DATA,
                                   f"lock board {board.address} reported no state for lock {lock}", "bad_reply")
            closed, item = report.locks[lock]
            out.append(DoorState(self.door_number(board, lock), closed, item))
        return out

    # --- commands --------------------------------------------------------------------------------

    def door_states(self) -> list[DoorState]:
        """Every door, in door order. A silent board raises `no_answer` naming it."""
        bus = self.protocol.query_bus()
        if bus is not None:
            replies = self._exchange(bus, self.boards, self.timeouts.bus_reply)
        else:
            replies = {}
            for board in self.boards:
                replies.update(self._exchange(self.protocol.query_board(board), [board], self.timeouts.reply))
        silent = [b.address for b in self.boards if b.address not in replies]
        if silent:
            raise self._failed(Completion.TIMEOUT,
                               f"lock board(s) {', '.join(map(str, silent))} did not answer "
                               f"(check power, RS-485 wiring and address switches)", "no_answer")
        states: list[DoorState] = []
        for board in self.boards:
            states += self._board_states(board, replies[board.address])
        return states

    def door_state(self, door: int) -> DoorState:
        board, lock = self.locate(door)
        report = self._ask(self.protocol.query_door(board, lock), board, self.timeouts.reply)
        if lock not in report.locks:
            raise self._failed(Completion.INVALID_DATA,
                               f"lock board {board.address} answered without lock {lock}", "bad_reply")
        closed, item = report.locks[lock]
        return DoorState(door, closed, item)

    def open_door(self, door: int, cancel: CancelToken | None = None) -> DoorState:
        """Pulse the lock and wait until the door reports open; DeviceError when it does not."""
        board, lock = self.locate(door)
        cancel = cancel or self._cancel
        cancel.check(self.name)
        log.info("%s: unlock door %d (board %d lock %d)", self.name, door, board.address, lock)
        replies = self._exchange(self.protocol.unlock(board, lock), [board], self.timeouts.unlock_reply)
        report = replies.get(board.address)
        if report is not None and lock in report.locks and not report.locks[lock][0]:
            return DoorState(door, False, report.locks[lock][1])
        # no answer, or the answer still says closed: the door may open late (slow lock pulse)
        deadline = self.clock.monotonic() + self.timeouts.open_confirm
        answered = report is not None
        while True:
            cancel.check(self.name)
            try:
                state = self.door_state(door)
                answered = True
                if not state.closed:
                    return state
            except DeviceError as exc:
                if exc.detail != "no_answer":
                    raise
            if self.clock.monotonic() >= deadline:
                break
            self.clock.sleep(self.timeouts.poll_interval)
        if not answered:
            raise self._failed(Completion.TIMEOUT,
                               f"lock board {board.address} did not answer the unlock of door {door} "
                               f"(check power, RS-485 wiring and address switches)", "no_answer")
        raise self._failed(Completion.HARDWARE_ERROR,
                           f"door {door} did not report open within {self.timeouts.open_confirm:g} s after the "
                           f"unlock (jammed lock, or board {board.address} open_status/closed_bit set wrong)",
                           f"door_not_opened:{door}")

    def wait_closed(self, door: int, timeout: float, cancel: CancelToken | None = None) -> bool:
        """True once the door reports closed, False when `timeout` passes first."""
        cancel = cancel or self._cancel
        deadline = self.clock.monotonic() + timeout
        while True:
            cancel.check(self.name)
            if self.door_state(door).closed:
                return True
            if self.clock.monotonic() >= deadline:
                return False
            self.clock.sleep(self.timeouts.poll_interval)

    def cancel(self) -> None:
        self._cancel.cancel()
        self._cancel = CancelToken()

    # --- health ----------------------------------------------------------------------------------

    def status(self) -> Status:
        try:
            states = self.door_states()
        except DeviceError as exc:
            if exc.detail == "no_answer":
                return Status(State.OFFLINE, "no_answer")
            return Status(State.HARDWARE_ERROR, exc.detail or "bad_reply")
        open_doors = [s.door for s in states if not s.closed]
        if open_doors:
            return Status(State.ONLINE, "door_open:" + ",".join(map(str, open_doors)))
        return Status(State.ONLINE, "")

    def self_test(self) -> SelfTest:
        try:
            states = self.door_states()
        except DeviceError as exc:
            return SelfTest(False, exc.message)
        open_doors = [s.door for s in states if not s.closed]
        boards = ", ".join(f"{b.address} ({b.doors} doors)" for b in self.boards)
        msg = f"{len(self.boards)} board(s) answered: {boards}"
        if open_doors:
            msg += f"; open: {', '.join(map(str, open_doors))}"
        return SelfTest(True, msg)

    def describe(self) -> dict:
        return {**super().describe(), "doors": self.door_count, "baudrate": self.baudrate,
                "boards": [{"address": b.address, "doors": b.doors} for b in self.boards],
                "timeouts": self.timeouts.as_dict()}

    def close(self) -> None:
        self._port.close()


def bits_lsb_first(data: bytes) -> list[int]:
    """Bit i (LSB first) of each byte, byte by byte: lock 1 is bit 0 of data[0]."""
    return [(byte >> i) & 1 for byte in data for i in range(8)]


__all__ = ["BoardProtocol", "BoardReport", "DoorState", "Exchange", "LockBoard", "Locker", "TIMEOUTS",
           "bits_lsb_first", "protocol_for", "register_protocol"]
