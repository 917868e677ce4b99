"""The Kerong KR-CU lock-control board protocol (driver `kerong`): `02 ADDR CMD [data] 03 SUM` frames.

HARDWARE.md, byte by byte: 19200 8N1 by default (sources also say 9600 or
115200: the locker's `baudrate` setting). SUM = low byte of the sum of every
byte from 02 through 03. ADDR high nibble = board (0-15), low nibble = lock-1.

    unlock        02 ADDR 31 03 SUM  ->  02 ADDR 35 D1 D2 D3 D4 03 SUM
    board status  02 B0   30 03 SUM  ->  02 ADDR 35 D1 D2 D3 D4 03 SUM
    whole bus     02 F0   32 03 27   ->  one 02 ADDR 36 D1 D2 D3 D4 03 SUM per board

D1/D2: locks 1-8 / 9-16, LSB = lock 1, a bit equal to the board's
`closed_bit` (default 1) = closed. D3/D4: infrared item sensors, 1 = item.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Mapping

from kiosk.hardware.device import ProtocolError
from kiosk.hardware.locker import (BoardProtocol, BoardReport, Exchange, LockBoard, bits_lsb_first,
                                   register_protocol)

STX, ETX = 0x02, 0x03
CMD_STATUS, CMD_UNLOCK, CMD_BUS = 0x30, 0x31, 0x32
REPLY_STATUS, REPLY_BUS = 0x35, 0x36
BUS_ADDRESS = 0xF0


def checksum(data: bytes) -> int:
    return sum(data) & 0xFF


def frame(address: int, cmd: int, data: bytes = b"") -> bytes:
    body = bytes([STX, address, cmd]) + data + bytes([ETX])
    return body + bytes([checksum(body)])


def address_of(board: int, lock: int = 1) -> int:
    return (board << 4) | (lock - 1)


def encode_unlock(board: int, lock: int) -> bytes:
    return frame(address_of(board, lock), CMD_UNLOCK)


def encode_status(board: int) -> bytes:
    return frame(address_of(board, 1), CMD_STATUS)


def encode_bus_query() -> bytes:
    return frame(BUS_ADDRESS, CMD_BUS)


def _check(data: bytes, size: int) -> None:
    if len(data) != size:
        raise ProtocolError(f"Kerong frame must be {size} bytes, got {len(data)}")
    if data[0] != STX or data[-2] != ETX:
        raise ProtocolError(f"Kerong frame {data.hex(' ')}: no 02 ... 03 framing")
    if checksum(data[:-1]) != data[-1]:
        raise ProtocolError(f"Kerong frame {data.hex(' ')}: sum {data[-1]:02x}, expected {checksum(data[:-1]):02x}")


@dataclass(frozen=True)
class Request:
    """A request as a board reads it (used by the simulator): op "unlock", "query_board" or "query_bus"."""

    op: str
    board: int
    lock: int


def decode_request(data: bytes) -> Request:
    _check(data, 5)
    address, cmd = data[1], data[2]
    if cmd == CMD_UNLOCK:
        return Request("unlock", address >> 4, (address & 0x0F) + 1)
    if cmd == CMD_STATUS:
        return Request("query_board", address >> 4, 0)
    if cmd == CMD_BUS and address == BUS_ADDRESS:
        return Request("query_bus", -1, 0)
    raise ProtocolError(f"Kerong frame {data.hex(' ')} is not an unlock or status request")


@dataclass(frozen=True)
class StatusFrame:
    board: int
    cmd: int
    lock_bits: list[int]   # locks 1..16, raw bits
    item_bits: list[int]   # locks 1..16, 1 = item present


def decode_status(data: bytes) -> StatusFrame:
    """`02 ADDR 35|36 D1 D2 D3 D4 03 SUM` -> the board and its raw lock and item bits."""
    _check(data, 9)
    if data[2] not in (REPLY_STATUS, REPLY_BUS):
        raise ProtocolError(f"Kerong frame {data.hex(' ')} is not a status reply (35 or 36)")
    return StatusFrame(data[1] >> 4, data[2], bits_lsb_first(data[3:5]), bits_lsb_first(data[5:7]))


def encode_status_reply(board: int, closed: list[bool], items: list[bool], closed_bit: int = 1,
                        cmd: int = REPLY_STATUS, lock: int = 1) -> bytes:
    """The simulator's side: closed[i] / items[i] are lock i+1 (up to 16)."""
    locks = sum(1 << i for i, c in enumerate(closed[:16]) if (closed_bit if c else 1 - closed_bit))
    present = sum(1 << i for i, p in enumerate(items[:16]) if p)
    data = bytes([locks & 0xFF, locks >> 8, present & 0xFF, present >> 8])
    return frame(address_of(board, lock), cmd, data)


@register_protocol
class BoardKerong(BoardProtocol):
    driver = "kerong"
    baudrate = 19200
    addresses = range(0, 16)
    max_doors = 16
    item_sensor = True

    def unlock(self, board: LockBoard, lock: int) -> Exchange:
        return Exchange(encode_unlock(board.address, lock), "door")

    def query_board(self, board: LockBoard) -> Exchange:
        return Exchange(encode_status(board.address), "board")

    def query_bus(self) -> Exchange:
        return Exchange(encode_bus_query(), "bus")

    def reply_length(self, expect: str) -> int:
        return 9

    def is_reply_start(self, byte: int, boards: Mapping[int, LockBoard]) -> bool:
        return byte == STX

    def decode_reply(self, frame_: bytes, expect: str, boards: Mapping[int, LockBoard]) -> BoardReport:
        status = decode_status(frame_)
        if status.cmd != (REPLY_BUS if expect == "bus" else REPLY_STATUS):
            raise ProtocolError(f"Kerong reply {status.cmd:02x} does not answer a {expect} request")
        board = boards.get(status.board)
        if board is None:
            raise ProtocolError(f"Kerong reply from board {status.board}, which was not asked")
        return BoardReport(status.board, {
            n: (board.closed_from_bit(status.lock_bits[n - 1]), bool(status.item_bits[n - 1]))
            for n in range(1, board.doors + 1)})
