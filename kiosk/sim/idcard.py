"""Simulated SAM ID card reader behind `sim://idcard`: answers the real frame protocol.

Control interface (tests, the technician screen, `kiosk sim serve idcard --card ...`):
`insert_card(SimCard)`, `remove_card()`, `set_fault(...)` for a reader that
answers garbage, slowly, not at all, with bad checksums, fragments or noise,
and `set_sam_fault(sw3)`. Default: the synthetic demo resident card is on the
reader. Every identity here is made up, with a valid check digit unless the
card is meant to have a wrong one; none is a real person.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, replace

from stdnum.cn import ric

from kiosk.hardware.device import SYSTEM_CLOCK, DeviceClock, ProtocolError
from kiosk.hardware.idcard.codec import (
    FIND_CARD, PHOTO_SIZE, READ_ADDRESS, READ_TEXT_PHOTO, READ_TEXT_PHOTO_FINGERPRINT, RESET_SAM, SAM_ID,
    SAM_STATUS, SELECT_CARD, TEXT_SIZE, FrameScanner, decode_request, encode_frame,
)
from kiosk.sim.base import Simulator

SAM_ID_BYTES = bytes.fromhex("05010000202301010000004200000017")


def _put(block: bytearray, offset: int, size: int, text: str) -> None:
    raw = text.encode("utf-16-le")
    if len(raw) > size:
        raise ValueError(f"{text!r} does not fit {size} bytes at {offset}")
    block[offset:offset + size] = raw + " ".encode("utf-16-le") * ((size - len(raw)) // 2)


def _date(d: dt.date | str) -> str:
    return d if isinstance(d, str) else d.strftime("%Y%m%d")


def with_check_digit(first17: str) -> str:
    return first17 + ric.calc_check_digit(first17 + "0")


@dataclass(frozen=True)
class SimCard:
    """A made-up card; `text_block()` lays it out as the reader sends it."""

    flag: str = " "                 # " " resident, "J", "I", "Y"
    name: str = "张示例"
    sex: str = "1"
    nation: str = "01"
    birth: str = "19900307"
    address: str = "北京市朝阳区示例路1号"
    id_number: str = with_check_digit("11010519900307123")
    issuer: str = "北京市公安局朝阳分局"
    valid_from: str = "20200101"
    valid_to: str = "20400101"
    pass_number: str = ""           # J
    count: str = "00"               # J issue count, Y renewal count
    name_en: str = ""               # I, Y
    nationality: str = ""           # I, Y
    card_version: str = "01"        # I
    previous_link: str = ""         # Y
    photo: bytes = bytes(range(256)) * (PHOTO_SIZE // 256)
    fingerprint: bytes = bytes(1024)

    def text_block(self) -> bytes:
        b = bytearray(" ".encode("utf-16-le") * (TEXT_SIZE // 2))
        if self.flag == "I":
            _put(b, 0, 120, self.name_en)
            _put(b, 120, 2, self.sex)
            _put(b, 122, 30, self.id_number)
            _put(b, 152, 6, self.nationality)
            _put(b, 158, 30, self.name)
            _put(b, 188, 16, self.valid_from)
            _put(b, 204, 16, self.valid_to)
            _put(b, 220, 16, self.birth)
            _put(b, 236, 4, self.card_version)
            _put(b, 240, 8, self.issuer)
        elif self.flag == "Y":
            en = self.name_en.encode("utf-16-le")
            _put(b, 0, 30, self.name)
            _put(b, 30, 2, self.sex)
            _put(b, 32, 4, self.count)
            _put(b, 36, 16, self.birth)
            _put(b, 52, 70, en[:70].decode("utf-16-le"))
            _put(b, 122, 36, self.id_number)
            _put(b, 188, 16, self.valid_from)
            _put(b, 204, 16, self.valid_to)
            _put(b, 220, 22, en[70:92].decode("utf-16-le"))
            _put(b, 242, 6, self.nationality)
            _put(b, 250, 6, self.previous_link)
        else:
            _put(b, 0, 30, self.name)
            _put(b, 30, 2, self.sex)
            _put(b, 32, 4, "" if self.flag == "J" else self.nation)
            _put(b, 36, 16, self.birth)
            _put(b, 52, 70, self.address)
            _put(b, 122, 36, self.id_number)
            _put(b, 158, 30, self.issuer)
            _put(b, 188, 16, self.valid_from)
            _put(b, 204, 16, self.valid_to)
            if self.flag == "J":
                _put(b, 220, 18, self.pass_number)
                _put(b, 238, 4, self.count)
        _put(b, 248, 2, self.flag)
        return bytes(b)


def demo_resident() -> SimCard:
    return SimCard()


def wrong_check_digit() -> SimCard:
    good = demo_resident().id_number
    wrong = "0" if good[-1] != "0" else "1"
    return replace(demo_resident(), id_number=good[:-1] + wrong)


def expired_resident() -> SimCard:
    return replace(demo_resident(), valid_from="20000101", valid_to="20200101")


def long_term_resident() -> SimCard:
    return replace(demo_resident(), name="欧阳示例", birth="19500101", sex="2",
                   id_number=with_check_digit("11010519500101124"), valid_from="20100101", valid_to="长期")


def demo_hk_mo_tw() -> SimCard:
    return SimCard(flag="J", name="陈示例", sex="2", birth="19920611", address="广东省深圳市福田区示例街2号",
                   id_number=with_check_digit("81000019920611002"), issuer="深圳市公安局",
                   valid_from="20230101", valid_to="20280101", pass_number="H00000001", count="01")


def demo_foreign_old() -> SimCard:
    return SimCard(flag="I", name="约翰", name_en="SAMPLE JOHN", sex="1", birth="19850101",
                   id_number="USA118501010010", nationality="USA", valid_from="20180101", valid_to="20280101",
                   issuer="1100", address="", nation="")


def demo_foreign_2023() -> SimCard:
    return SimCard(flag="Y", name="安示例", name_en="SAMPLE ANNA MARIA", sex="2", birth="19880215",
                   id_number=with_check_digit("91184019880215002"), nationality="USA",
                   valid_from="20240101", valid_to="20340101", count="00", address="", nation="", issuer="")


CARDS = {
    "resident": demo_resident, "wrong_check_digit": wrong_check_digit, "expired": expired_resident,
    "long_term": long_term_resident, "hk_mo_tw": demo_hk_mo_tw, "foreign_old": demo_foreign_old,
    "foreign_2023": demo_foreign_2023,
}

FAULTS = ("garbage", "slow", "silent", "bad_checksum", "noise", "fragmented", "bad_length")


class SamSimulator(Simulator):
    """A reader with a SAM and, by default, the demo card on it."""

    def __init__(self, clock: DeviceClock = SYSTEM_CLOCK):
        super().__init__(clock)
        self.card: SimCard | None = demo_resident()
        self.selected = False
        self.fault: str | None = None
        self.fault_count: int | None = None   # None: every answer; n: the next n answers
        self.slow_delay = 5.0
        self.sam_fault: int | None = None
        self.answer_delay = 0.0
        self.appended_address = ""
        self.requests: list[tuple[int, int]] = []
        self._scanner = FrameScanner()

    # -- control interface -------------------------------------------------------------------------

    def insert_card(self, card: SimCard | str | None = None) -> None:
        self.card = CARDS[card]() if isinstance(card, str) else (card or demo_resident())
        self.selected = False

    def remove_card(self) -> None:
        self.card = None
        self.selected = False

    def set_fault(self, fault: str | None, count: int | None = None, delay: float = 5.0) -> None:
        """`garbage` (bytes with no frame), `slow` (answers after `delay` s), `silent`, `bad_checksum`,
        `noise` (garbage before each good frame), `fragmented` (good frames in small pieces),
        `bad_length` (an impossible LEN); for `count` answers, or until cleared with None."""
        if fault is not None and fault not in FAULTS:
            raise ValueError(f"unknown reader fault {fault!r}; known: {', '.join(FAULTS)}")
        self.fault, self.fault_count, self.slow_delay = fault, count, delay

    def set_sam_fault(self, sw3: int | None) -> None:
        """SAM status answers this SW3 (e.g. 0x60 self-test failed) until cleared with None."""
        self.sam_fault = sw3

    # -- wire --------------------------------------------------------------------------------------

    def receive(self, data: bytes) -> None:
        for frame in self._scanner.feed(data):
            try:
                command, _ = decode_request(frame)
            except ProtocolError:
                self._answer(0x10)
                continue
            self.requests.append(command)
            self._handle(command)

    def _handle(self, command: tuple[int, int]) -> None:
        if command == FIND_CARD:
            self._answer(0x9F, bytes(4)) if self.card else self._answer(0x80)
        elif command == SELECT_CARD:
            self.selected = self.card is not None
            self._answer(0x90, bytes(8)) if self.selected else self._answer(0x81)
        elif command in (READ_TEXT_PHOTO, READ_TEXT_PHOTO_FINGERPRINT):
            if not (self.card and self.selected):
                self._answer(0x41)
                return
            self.selected = False  # a card left on the reader needs find + select again
            card = self.card
            text, photo = card.text_block(), card.photo
            lengths = len(text).to_bytes(2, "big") + len(photo).to_bytes(2, "big")
            blocks = text + photo
            if command == READ_TEXT_PHOTO_FINGERPRINT:
                lengths += len(card.fingerprint).to_bytes(2, "big")
                blocks += card.fingerprint
            self._answer(0x90, lengths + blocks)
        elif command == READ_ADDRESS:
            if not self.card:
                self._answer(0x80)
            elif self.appended_address:
                self._answer(0x90, self.appended_address.encode("utf-16-le"))
            else:
                self._answer(0x91)
        elif command == SAM_STATUS:
            self._answer(self.sam_fault or 0x90)
        elif command == RESET_SAM:
            self._answer(0x90)
        elif command == SAM_ID:
            self._answer(0x90, SAM_ID_BYTES)
        else:
            self._answer(0x21)

    def _answer(self, sw3: int, data: bytes = b"") -> None:
        frame = encode_frame(bytes([0, 0, sw3]) + data)
        fault = self.fault
        if fault and self.fault_count is not None:
            self.fault_count -= 1
            if self.fault_count <= 0:
                self.fault, self.fault_count = None, None
        delay = self.answer_delay
        if fault == "silent":
            return
        if fault == "slow":
            self.emit(frame, self.slow_delay)
        elif fault == "garbage":
            self.emit(bytes((0x5A + 7 * i) & 0xFF for i in range(len(frame) % 64 + 8)), delay)
        elif fault == "bad_checksum":
            self.emit(frame[:-1] + bytes([frame[-1] ^ 0xFF]), delay)
        elif fault == "bad_length":
            self.emit(frame[:5] + b"\xFF\xFF" + frame[7:], delay)
        elif fault == "noise":
            self.emit(b"\x00\xAA\x13\xAA\xAA\x96" + frame, delay)
        elif fault == "fragmented":
            for i in range(0, len(frame), 5):
                self.emit(frame[i:i + 5], delay + 0.001 * (i // 5))
        else:
            self.emit(frame, delay)
