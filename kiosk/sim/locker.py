"""`sim://locker`: lock-control boards on a bus, speaking the 8A or the Kerong protocol on the wire.

The protocol is taken from the first frame the host sends (80/8A header: 8A,
02: Kerong) unless `configure(protocol=...)` fixes it; the layout defaults to
the default config's (8A: board 1 with 24 doors; Kerong: board 0 with 16).
Boards not in the layout never answer, like an empty bus address.

Control (tests and the technician screen), doors numbered 1..N across the
layout like the driver numbers them:
    jam(3)            door 3 does not open when unlocked
    open_door(5)      door 5 is open (left open, or opened by hand)
    close_door(3)     door 3 is shut (a door opened by an unlock stays open until this)
    set_item(4, True) the infrared sensor of door 4 sees an item (Kerong only reports it)
    close_all()       every door shut;  is_open(5), is_jammed(3)  what a control shows
    silence(1)        board 1 stops answering; silence(1, False) brings it back
"""
from __future__ import annotations

import threading
from dataclasses import dataclass, field

from kiosk.hardware import locker_8a as p8a
from kiosk.hardware import locker_kerong as pkr
from kiosk.hardware.device import SYSTEM_CLOCK, DeviceClock, ProtocolError
from kiosk.sim.base import Simulator

DEFAULT_LAYOUT = {"lock8a": [(1, 24)], "kerong": [(0, 16)]}


@dataclass
class SimBoard:
    address: int
    doors: int
    open_status: int = 0x11
    closed_bit: int = 1
    reply_header: int = p8a.QUERY
    silent: bool = False
    opened: set[int] = field(default_factory=set)   # locks, 1-based on the board
    jammed: set[int] = field(default_factory=set)
    items: set[int] = field(default_factory=set)

    def closed_list(self) -> list[bool]:
        return [n not in self.opened for n in range(1, self.doors + 1)]

    def item_list(self) -> list[bool]:
        return [n in self.items for n in range(1, self.doors + 1)]


class LockerSimulator(Simulator):
    unlock_delay = 1.0    # the lock pulse: an unlock is answered about 1 s later
    reply_delay = 0.01

    def __init__(self, clock: DeviceClock = SYSTEM_CLOCK):
        super().__init__(clock)
        self.protocol: str | None = None
        self.boards: list[SimBoard] = []
        self.unlocked: list[int] = []          # door numbers, in the order they were unlocked
        self.requests: list[bytes] = []        # every well-formed request frame, for tests
        self._buf = bytearray()
        self._lock = threading.RLock()

    # --- control ---------------------------------------------------------------------------------

    def configure(self, protocol: str, boards: list[tuple[int, int]] | None = None, **wiring) -> None:
        """Fix the protocol and the layout; `wiring` (open_status, closed_bit, reply_header) applies to every board."""
        with self._lock:
            if protocol not in DEFAULT_LAYOUT:
                raise ValueError(f"unknown locker protocol {protocol!r}; known: {', '.join(DEFAULT_LAYOUT)}")
            self.protocol = protocol
            self.boards = [SimBoard(a, d, **wiring) for a, d in (boards or DEFAULT_LAYOUT[protocol])]

    def board(self, address: int) -> SimBoard:
        with self._lock:
            self._ensure_layout()
            for b in self.boards:
                if b.address == address:
                    return b
        raise KeyError(f"no board {address} in the simulated layout")

    def _where(self, door: int) -> tuple[SimBoard, int]:
        self._ensure_layout()
        first = 1
        for b in self.boards:
            if first <= door < first + b.doors:
                return b, door - first + 1
            first += b.doors
        raise ValueError(f"door {door} is not in the simulated layout ({first - 1} doors)")

    def jam(self, door: int, jammed: bool = True) -> None:
        with self._lock:
            b, n = self._where(door)
            (b.jammed.add if jammed else b.jammed.discard)(n)

    def open_door(self, door: int) -> None:
        with self._lock:
            b, n = self._where(door)
            b.opened.add(n)

    def close_door(self, door: int) -> None:
        with self._lock:
            b, n = self._where(door)
            b.opened.discard(n)

    def set_item(self, door: int, present: bool) -> None:
        with self._lock:
            b, n = self._where(door)
            (b.items.add if present else b.items.discard)(n)

    def silence(self, address: int, silent: bool = True) -> None:
        with self._lock:
            self.board(address).silent = silent

    def is_open(self, door: int) -> bool:
        with self._lock:
            b, n = self._where(door)
            return n in b.opened

    def is_jammed(self, door: int) -> bool:
        with self._lock:
            b, n = self._where(door)
            return n in b.jammed

    def close_all(self) -> None:
        """Every door shut (by hand)."""
        with self._lock:
            for b in self.boards:
                b.opened.clear()

    def _ensure_layout(self) -> None:
        if not self.boards:
            self.configure(self.protocol or "lock8a")

    # --- the wire --------------------------------------------------------------------------------

    def receive(self, data: bytes) -> None:
        with self._lock:
            self._buf += data
            while len(self._buf) >= 5:
                if self.protocol is None:
                    if self._buf[0] in (p8a.UNLOCK, p8a.QUERY):
                        self.configure("lock8a")
                    elif self._buf[0] == pkr.STX:
                        self.configure("kerong")
                    else:
                        del self._buf[0]
                        continue
                try:
                    self._handle(bytes(self._buf[:5]))
                except ProtocolError:
                    del self._buf[0]     # a board ignores what it cannot read and resynchronises
                    continue
                self.requests.append(bytes(self._buf[:5]))
                del self._buf[:5]

    def _find(self, address: int) -> SimBoard | None:
        for b in self.boards:
            if b.address == address and not b.silent:
                return b
        return None

    def _global(self, board: SimBoard, lock: int) -> int:
        first = 1
        for b in self.boards:
            if b is board:
                return first + lock - 1
            first += b.doors
        raise ValueError(board)

    def _unlock(self, board: SimBoard, lock: int) -> None:
        self.unlocked.append(self._global(board, lock))
        if lock not in board.jammed:
            board.opened.add(lock)

    def _handle(self, frame: bytes) -> None:
        if self.protocol == "lock8a":
            req = p8a.decode_request(frame)
            board = self._find(req.address)
            if board is None or req.lock > board.doors:
                return
            if req.op == "unlock":
                self._unlock(board, req.lock)
                self.emit(p8a.encode_door_reply(board.address, req.lock, req.lock in board.opened,
                                                board.open_status, board.reply_header), self.unlock_delay)
            elif req.op == "query_door":
                self.emit(p8a.encode_door_reply(board.address, req.lock, req.lock in board.opened,
                                                board.open_status, board.reply_header), self.reply_delay)
            else:
                self.emit(p8a.encode_board_reply(board.address, board.closed_list(), board.closed_bit,
                                                 board.reply_header), self.reply_delay)
            return
        req = pkr.decode_request(frame)
        if req.op == "query_bus":
            for i, board in enumerate(b for b in self.boards if not b.silent):
                self.emit(pkr.encode_status_reply(board.address, board.closed_list(), board.item_list(),
                                                  board.closed_bit, pkr.REPLY_BUS), self.reply_delay * (i + 1))
            return
        board = self._find(req.board)
        if board is None:
            return
        if req.op == "unlock":
            if req.lock > board.doors:
                return
            self._unlock(board, req.lock)
            self.emit(pkr.encode_status_reply(board.address, board.closed_list(), board.item_list(),
                                              board.closed_bit, lock=req.lock), self.unlock_delay)
        else:
            self.emit(pkr.encode_status_reply(board.address, board.closed_list(), board.item_list(),
                                              board.closed_bit), self.reply_delay)
