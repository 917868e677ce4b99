"""The "8A" lock-control board protocol (driver `lock8a`): 5-byte frames with an XOR check byte.

HARDWARE.md, byte by byte: 9600 8N1, board addresses 1-64 by DIP switch, no
item sensor. Frames `B0 B1 B2 B3 BCC`, BCC = B0^B1^B2^B3.

    unlock        8A aa nn 11 bcc  ->  80 aa nn SS bcc   (some boards echo the 8A header)
    query door    80 aa nn 33 bcc  ->  80 aa nn SS bcc
    query board   80 aa 00 33 bcc  ->  80 aa S25-32 S17-24 S9-16 S1-8 33 bcc   (8 bytes)

SS == the board's `open_status` (default 0x11) means open; in the bitmap a bit
equal to `closed_bit` (default 1) means closed; both are per-board settings.
"""
from __future__ import annotations

from dataclasses import dataclass
from functools import reduce
from typing import Mapping

from kiosk.hardware.device import ProtocolError
from kiosk.hardware.locker import (BoardProtocol, BoardReport, Exchange, LockBoard, bits_lsb_first,
                                   register_protocol)

UNLOCK, QUERY = 0x8A, 0x80
OP_UNLOCK, OP_QUERY = 0x11, 0x33
STATUS_BYTES = (0x00, 0x11)


def bcc(data: bytes) -> int:
    return reduce(lambda a, b: a ^ b, data, 0)


def frame(*body: int) -> bytes:
    return bytes(body) + bytes([bcc(bytes(body))])


def encode_unlock(address: int, lock: int) -> bytes:
    return frame(UNLOCK, address, lock, OP_UNLOCK)


def encode_query_door(address: int, lock: int) -> bytes:
    return frame(QUERY, address, lock, OP_QUERY)


def encode_query_board(address: int) -> bytes:
    return frame(QUERY, address, 0x00, OP_QUERY)


@dataclass(frozen=True)
class Request:
    """A request as a board reads it (used by the simulator): op is "unlock", "query_door" or "query_board"."""

    op: str
    address: int
    lock: int


def _check(data: bytes, size: int) -> None:
    if len(data) != size:
        raise ProtocolError(f"8A frame must be {size} bytes, got {len(data)}")
    if bcc(data[:-1]) != data[-1]:
        raise ProtocolError(f"8A frame {data.hex(' ')}: check byte {data[-1]:02x}, expected {bcc(data[:-1]):02x}")


def decode_request(data: bytes) -> Request:
    _check(data, 5)
    head, address, lock, op = data[:4]
    if head == UNLOCK and op == OP_UNLOCK and lock:
        return Request("unlock", address, lock)
    if head == QUERY and op == OP_QUERY:
        return Request("query_board" if lock == 0 else "query_door", address, lock)
    raise ProtocolError(f"8A frame {data.hex(' ')} is not an unlock or query request")


def decode_door_reply(data: bytes, open_status: int = 0x11, headers: tuple[int, ...] = (0x80, 0x8A)) -> tuple[int, int, bool]:
    """`80 aa nn SS bcc` -> (address, lock, closed)."""
    _check(data, 5)
    head, address, lock, status = data[:4]
    if head not in headers:
        raise ProtocolError(f"8A reply header {head:02x} is not one of {' '.join(f'{h:02x}' for h in headers)}")
    if lock == 0:
        raise ProtocolError("8A single-door reply for lock 0")
    if status not in STATUS_BYTES and status != open_status:
        raise ProtocolError(f"8A door status byte {status:02x} is neither 00 nor 11")
    return address, lock, status != open_status


def decode_board_reply(data: bytes, headers: tuple[int, ...] = (0x80, 0x8A)) -> tuple[int, list[int]]:
    """`80 aa S25-32 S17-24 S9-16 S1-8 33 bcc` -> (address, bits of locks 1..32, LSB first)."""
    if len(data) != 8:
        raise ProtocolError(f"8A board reply must be 8 bytes, got {len(data)}")
    if bcc(data[:-1]) != data[-1]:
        raise ProtocolError(f"8A board reply {data.hex(' ')}: check byte {data[-1]:02x}, expected {bcc(data[:-1]):02x}")
    if data[0] not in headers or data[6] != OP_QUERY:
        raise ProtocolError(f"8A board reply {data.hex(' ')}: wrong header or op byte")
    # the last status byte holds locks 1-8, the first locks 25-32
    return data[1], bits_lsb_first(bytes(reversed(data[2:6])))


def encode_door_reply(address: int, lock: int, open_: bool, open_status: int = 0x11, header: int = QUERY) -> bytes:
    closed_status = 0x00 if open_status != 0x00 else 0x11
    return frame(header, address, lock, open_status if open_ else closed_status)


def encode_board_reply(address: int, closed: list[bool], closed_bit: int = 1, header: int = QUERY) -> bytes:
    """The simulator's side: closed[i] is lock i+1 (up to 32)."""
    bits = 0
    for i, is_closed in enumerate(closed[:32]):
        if (closed_bit if is_closed else 1 - closed_bit):
            bits |= 1 << i
    s1_8, s9_16, s17_24, s25_32 = (bits >> (8 * k) & 0xFF for k in range(4))
    body = bytes([header, address, s25_32, s17_24, s9_16, s1_8, OP_QUERY])
    return body + bytes([bcc(body)])


@register_protocol
class Board8A(BoardProtocol):
    driver = "lock8a"
    baudrate = 9600
    addresses = range(1, 65)
    max_doors = 32
    item_sensor = False

    def unlock(self, board: LockBoard, lock: int) -> Exchange:
        return Exchange(encode_unlock(board.address, lock), "door")

    def query_door(self, board: LockBoard, lock: int) -> Exchange:
        return Exchange(encode_query_door(board.address, lock), "door")

    def query_board(self, board: LockBoard) -> Exchange:
        return Exchange(encode_query_board(board.address), "board")

    def reply_length(self, expect: str) -> int:
        return 8 if expect == "board" else 5

    def is_reply_start(self, byte: int, boards: Mapping[int, LockBoard]) -> bool:
        return any(byte in b.reply_headers for b in boards.values())

    def decode_reply(self, frame_: bytes, expect: str, boards: Mapping[int, LockBoard]) -> BoardReport:
        address = frame_[1] if len(frame_) > 1 else -1
        board = boards.get(address)
        if board is None:
            raise ProtocolError(f"8A reply from board {address}, which was not asked")
        if expect == "board":
            _, bits = decode_board_reply(frame_, board.reply_headers)
            return BoardReport(address, {n: (board.closed_from_bit(bits[n - 1]), None)
                                         for n in range(1, board.doors + 1)})
        _, lock, closed = decode_door_reply(frame_, board.open_status, board.reply_headers)
        if lock > board.doors:
            raise ProtocolError(f"8A reply for lock {lock}; board {address} has {board.doors}")
        return BoardReport(address, {lock: (closed, None)})
