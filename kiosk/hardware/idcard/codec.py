"""Resident ID card reader (SAM module on a serial line), the wire codec: frames, checksums, card contents.

Pure functions and value types, no I/O and no threads: the driver
(`kiosk.hardware.idcard.driver`) and the simulator (`kiosk.sim.idcard`)
both speak through them.

Wire format (HARDWARE.md): `AA AA AA 96 69` + LEN (2 bytes BE, every byte
after LEN including CHK) + body + CHK, CHK = XOR of LEN and body. Host bodies
are CMD PARA [data]; reader bodies are SW1 SW2 SW3 [data].

The text block of a card is 256 bytes of UCS-2 LE; the flag at byte 248 says
which layout it has. Layouts of the foreign permanent resident cards (`I`,
and the 2023 edition `Y`) follow the public reader SDK headers (structures
`IDForeigner` and `IDCardInfor2023` as published with several vendors' SDKs;
read in the Johann356/readinfo repository): see `parse_text`.

The photo (WLT) and fingerprint blocks stay opaque bytes; decoding the photo
needs a vendor library, and neither ever leaves the session.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from enum import Enum
from typing import Callable

from stdnum.cn import ric
from stdnum.exceptions import ValidationError as StdnumError

from kiosk.hardware.device import ProtocolError
from kiosk.hardware.masking import mask_card_number, mask_name_initial

# --- frame codec --------------------------------------------------------------------------------

PREAMBLE = bytes.fromhex("AAAAAA9669")
HEADER_SIZE = len(PREAMBLE) + 2
# the longest reply is text + photo + fingerprint (256 + 1024 + 1024) plus a little; beyond it a
# LEN field is corrupt, and waiting for that many bytes would only stall the reader
MAX_LEN = 4096

# commands (CMD, PARA)
RESET_SAM = (0x10, 0xFF)
SAM_STATUS = (0x11, 0xFF)
SAM_ID = (0x12, 0xFF)
FIND_CARD = (0x20, 0x01)
SELECT_CARD = (0x20, 0x02)
READ_TEXT_PHOTO = (0x30, 0x01)
READ_ADDRESS = (0x30, 0x03)
READ_TEXT_PHOTO_FINGERPRINT = (0x30, 0x10)

# SW3 result codes -> (snake-case detail, what it means)
SW3 = {
    0x90: ("success", "success"),
    0x9F: ("card_found", "card found"),
    0x91: ("no_content", "no content (e.g. no appended address)"),
    0x80: ("no_card", "no card on the reader"),
    0x81: ("select_failed", "card select failed"),
    0x41: ("read_failed", "card read failed"),
    0x10: ("checksum_error", "the reader saw a bad checksum in our frame"),
    0x11: ("length_error", "the reader saw a bad length in our frame"),
    0x21: ("bad_command", "the reader does not know this command"),
    0x23: ("unauthorised", "operation not authorised"),
    0x24: ("unknown_error", "unknown error"),
    0x31: ("card_auth_failed", "card authentication of the SAM failed"),
    0x32: ("sam_auth_failed", "SAM authentication of the card failed"),
    0x33: ("auth_failed", "authentication failed"),
    0x40: ("unknown_card_type", "unknown card type"),
    0x47: ("random_failed", "random number generation failed"),
    0x60: ("sam_self_test_failed", "SAM self-test failed"),
    0x66: ("sam_not_authorised", "SAM not authorised"),
}


def sw3_detail(code: int) -> str:
    return SW3.get(code, (f"sw3_{code:02x}", ""))[0]


def xor(data: bytes) -> int:
    out = 0
    for b in data:
        out ^= b
    return out


def encode_frame(body: bytes) -> bytes:
    """A whole frame around `body` (CMD PARA [data] from the host, SW1 SW2 SW3 [data] from the reader)."""
    if len(body) + 1 > 0xFFFF:
        raise ProtocolError(f"body of {len(body)} bytes does not fit a frame")
    length = (len(body) + 1).to_bytes(2, "big")
    return PREAMBLE + length + body + bytes([xor(length + body)])


def encode_request(command: tuple[int, int], data: bytes = b"") -> bytes:
    return encode_frame(bytes(command) + data)


@dataclass(frozen=True)
class Reply:
    sw1: int
    sw2: int
    sw3: int
    data: bytes = b""

    @property
    def detail(self) -> str:
        return sw3_detail(self.sw3)


def frame_length(header: bytes) -> int:
    """Total size of the frame whose first 7 bytes are `header`; ProtocolError when LEN is impossible."""
    if len(header) < HEADER_SIZE or header[:5] != PREAMBLE:
        raise ProtocolError("frame does not start with the preamble AA AA AA 96 69")
    n = int.from_bytes(header[5:7], "big")
    if n < 1 or n > MAX_LEN:
        raise ProtocolError(f"frame length {n} is outside 1..{MAX_LEN}")
    return HEADER_SIZE + n


def decode_body(frame: bytes) -> bytes:
    """The body of one whole frame, its length and checksum verified."""
    total = frame_length(frame[:HEADER_SIZE])
    if len(frame) != total:
        raise ProtocolError(f"frame is {len(frame)} bytes, its LEN says {total}")
    body, chk = frame[HEADER_SIZE:-1], frame[-1]
    if xor(frame[5:-1]) != chk:
        raise ProtocolError(f"bad checksum: got {chk:02X}, expected {xor(frame[5:-1]):02X}")
    return body


def decode_reply(frame: bytes) -> Reply:
    body = decode_body(frame)
    if len(body) < 3:
        raise ProtocolError(f"reply body of {len(body)} bytes has no SW1 SW2 SW3")
    return Reply(body[0], body[1], body[2], body[3:])


def decode_request(frame: bytes) -> tuple[tuple[int, int], bytes]:
    body = decode_body(frame)
    if len(body) < 2:
        raise ProtocolError(f"request body of {len(body)} bytes has no CMD PARA")
    return (body[0], body[1]), body[2:]


class FrameScanner:
    """Finds whole frames in a byte stream: skips garbage before the preamble, waits for LEN bytes.

    Shared by the driver (reader -> host) and the simulator (host -> reader).
    `feed()` returns the whole frames now complete; a frame with an impossible
    LEN makes the scanner drop its first byte and hunt for the next preamble,
    so one corrupt byte never swallows the next good frame.
    """

    def __init__(self):
        self.buffer = bytearray()
        self.skipped = 0   # garbage bytes thrown away since the last reset

    def reset(self) -> None:
        self.buffer.clear()
        self.skipped = 0

    def needed(self) -> int:
        """How many more bytes the frame in progress needs (at least 1)."""
        if len(self.buffer) < HEADER_SIZE:
            return HEADER_SIZE - len(self.buffer)
        try:
            return max(1, frame_length(bytes(self.buffer[:HEADER_SIZE])) - len(self.buffer))
        except ProtocolError:
            return 1

    def feed(self, data: bytes) -> list[bytes]:
        self.buffer += data
        frames = []
        while True:
            start = self.buffer.find(PREAMBLE)
            if start < 0:
                # keep a tail that could be the start of a preamble split across reads
                keep = 0
                for k in range(min(len(PREAMBLE) - 1, len(self.buffer)), 0, -1):
                    if self.buffer.endswith(PREAMBLE[:k]):
                        keep = k
                        break
                self.skipped += len(self.buffer) - keep
                del self.buffer[:len(self.buffer) - keep]
                return frames
            if start:
                self.skipped += start
                del self.buffer[:start]
            if len(self.buffer) < HEADER_SIZE:
                return frames
            try:
                total = frame_length(bytes(self.buffer[:HEADER_SIZE]))
            except ProtocolError:
                self.skipped += 1
                del self.buffer[:1]
                continue
            if len(self.buffer) < total:
                return frames
            frames.append(bytes(self.buffer[:total]))
            del self.buffer[:total]


# --- card contents -----------------------------------------------------------------------------

TEXT_SIZE = 256
PHOTO_SIZE = 1024


class CardType(str, Enum):
    RESIDENT = "resident"
    HK_MO_TW_RESIDENCE = "hk_mo_tw_residence"
    FOREIGN_PERMANENT = "foreign_permanent"
    FOREIGN_PERMANENT_2023 = "foreign_permanent_2023"


CARD_TYPE_FLAGS = {" ": CardType.RESIDENT, "\x00": CardType.RESIDENT, "J": CardType.HK_MO_TW_RESIDENCE,
                   "I": CardType.FOREIGN_PERMANENT, "Y": CardType.FOREIGN_PERMANENT_2023}

SEXES = {"0": "unknown", "1": "male", "2": "female", "9": "unstated"}

# GB 3304 (names of the nationalities of China in romanization, with codes): all 58 entries
NATIONS = {
    "01": "汉", "02": "蒙古", "03": "回", "04": "藏", "05": "维吾尔", "06": "苗", "07": "彝", "08": "壮",
    "09": "布依", "10": "朝鲜", "11": "满", "12": "侗", "13": "瑶", "14": "白", "15": "土家", "16": "哈尼",
    "17": "哈萨克", "18": "傣", "19": "黎", "20": "傈僳", "21": "佤", "22": "畲", "23": "高山", "24": "拉祜",
    "25": "水", "26": "东乡", "27": "纳西", "28": "景颇", "29": "柯尔克孜", "30": "土", "31": "达斡尔",
    "32": "仫佬", "33": "羌", "34": "布朗", "35": "撒拉", "36": "毛南", "37": "仡佬", "38": "锡伯", "39": "阿昌",
    "40": "普米", "41": "塔吉克", "42": "怒", "43": "乌孜别克", "44": "俄罗斯", "45": "鄂温克", "46": "德昂",
    "47": "保安", "48": "裕固", "49": "京", "50": "塔塔尔", "51": "独龙", "52": "鄂伦春", "53": "赫哲",
    "54": "门巴", "55": "珞巴", "56": "基诺", "97": "其他", "98": "外国血统中国籍人士",
}

LONG_TERM = "长期"


def _text(block: bytes, offset: int, size: int, what: str) -> str:
    raw = block[offset:offset + size]
    try:
        value = raw.decode("utf-16-le")
    except UnicodeDecodeError:
        raise ProtocolError(f"{what} (bytes {offset}..{offset + size}) is not UCS-2 text") from None
    return value.replace("\x00", " ").strip()


def _digits(value: str) -> bool:
    """ASCII digits only: str.isdigit() also accepts '²' and other characters int() refuses."""
    return value.isascii() and value.isdigit()


def _date(value: str, what: str, optional: bool = False) -> dt.date | None:
    if optional and not value:
        return None
    if len(value) != 8 or not _digits(value):
        raise ProtocolError(f"{what} {value!r} is not YYYYMMDD")
    try:
        return dt.date(int(value[:4]), int(value[4:6]), int(value[6:]))
    except ValueError:
        raise ProtocolError(f"{what} {value!r} is not a calendar date") from None


def _valid_to(value: str) -> dt.date | None:
    """None means long-term (长期)."""
    if value == LONG_TERM:
        return None
    return _date(value, "valid-to date")


def _sex(value: str) -> str:
    try:
        return SEXES[value]
    except KeyError:
        raise ProtocolError(f"sex code {value!r} is not one of 0, 1, 2, 9") from None


def check_id_number(number: str, card_type: CardType, birth: dt.date | None) -> tuple[bool | None, bool]:
    """(check digit correct, birth date in the number valid and equal to the card's birth field).

    18-character numbers (resident, `J` and `Y` cards) carry the ISO 7064 MOD 11-2
    check digit of GB 11643 and the birth date at characters 7-14; python-stdnum
    computes both. Its full `validate()` also looks the region code up, which
    `J` (81/82/83) and `Y` (9xxxxx) numbers do not have, so the parts are used
    one by one. The old `I` card number (`[A-Z]{3}` + 12 digits) has no public
    check-digit rule: its check is None, and its YYMMDD birth date is compared.
    """
    if card_type is CardType.FOREIGN_PERMANENT:
        ok_form = (len(number) == 15 and number[:3].isascii() and number[:3].isalpha() and number[:3].isupper()
                   and _digits(number[3:]))
        if not ok_form or birth is None:
            return None, False
        return None, number[5:11] == birth.strftime("%y%m%d")
    if len(number) != 18 or not _digits(number[:17]) or number[17] not in "0123456789X":
        return False, False
    checksum_ok = ric.calc_check_digit(number) == number[17]
    try:
        in_number = ric.get_birth_date(number)
    except StdnumError:
        return checksum_ok, False
    return checksum_ok, birth is None or in_number == birth


def _iso(d: dt.date | None) -> str | None:
    return d.isoformat() if d else None


@dataclass(frozen=True, repr=False, eq=False)
class Card:
    """What one card says. Its repr and str never show the full name or number."""

    card_type: CardType
    name: str                       # Chinese name (resident, J, Y); the English name on an `I` card
    sex: str                        # male | female | unknown | unstated
    birth: dt.date | None
    id_number: str
    valid_from: dt.date | None
    valid_to: dt.date | None        # None: long-term (长期)
    nation: str | None = None       # GB 3304 name, resident cards only
    address: str = ""
    issuer: str = ""                # authority name; `I` cards carry an authority code
    name_en: str = ""               # `I` and `Y` cards
    name_zh: str = ""               # `I` cards: the Chinese name, when there is one
    nationality: str = ""           # `I` and `Y` cards: ISO 3166 country code
    pass_number: str = ""           # `J` cards: the HK/Macao/Taiwan travel pass number
    issue_count: int | None = None  # `J`: times issued; `Y`: times renewed
    card_version: str = ""          # `I` cards
    previous_number_link: str = ""  # `Y` cards: the link to an earlier `I` card number
    photo: bytes = b""
    fingerprint: bytes | None = None
    id_checksum_ok: bool | None = None
    birth_date_ok: bool = False

    def expired(self, today: dt.date) -> bool:
        return self.valid_to is not None and self.valid_to < today

    @property
    def long_term(self) -> bool:
        return self.valid_to is None

    def problems(self, today: dt.date) -> list[str]:
        out = []
        if self.id_checksum_ok is False:
            out.append("id_check_digit_wrong")
        if not self.birth_date_ok:
            out.append("id_birth_date_mismatch")
        if self.expired(today):
            out.append("expired")
        if self.valid_from and self.valid_from > today:
            out.append("not_yet_valid")
        return out

    def masked(self, today: dt.date | None = None,
               mask_name: Callable[[str], str] = mask_name_initial,
               mask_number: Callable[[str], str] = mask_card_number) -> dict:
        """The card as `kiosk diag read-card` shows it: name and number masked, no photo bytes.

        The default masks are the plain ones of `kiosk.hardware.masking`; screens and `kiosk diag` pass the
        surname-aware `mask_name` and `mask_id_number`."""
        today = today or dt.date.today()
        return {
            "name": mask_name(self.name), "id_number": mask_number(self.id_number), "sex": self.sex,
            "nation": self.nation, "birth": _iso(self.birth), "valid_from": _iso(self.valid_from),
            "valid_to": "long-term" if self.valid_to is None else self.valid_to.isoformat(),
            "card_type": self.card_type.value, "id_checksum_ok": self.id_checksum_ok,
            "photo_bytes": len(self.photo),
            "fingerprint_bytes": None if self.fingerprint is None else len(self.fingerprint),
            "nationality": self.nationality or None, "birth_date_ok": self.birth_date_ok,
            "expired": self.expired(today), "problems": self.problems(today),
        }

    def __repr__(self) -> str:
        return (f"Card({self.card_type.value}, name={mask_name_initial(self.name)!r}, "
                f"id_number={mask_card_number(self.id_number)!r}, valid_to={_iso(self.valid_to) or 'long-term'})")

    __str__ = __repr__


def parse_text(block: bytes) -> dict:
    """The fields of a 256-byte text block, by the layout its type flag (byte 248) names.

    Offsets in bytes. Resident (flag space) and `J`, from HARDWARE.md:
    name 0/30, sex 30/2, nation 32/4, birth 36/16, address 52/70, number 122/36,
    issuer 158/30, valid from 188/16, valid to 204/16; `J` then has the pass
    number 220/18 and the issue count 238/4 (its nation field is blank).
    `I` (old foreign permanent resident card): English name 0/120, sex 120/2,
    number 122/30 (15 chars), nationality 152/6, Chinese name 158/30, valid
    from 188/16, valid to 204/16, birth 220/16, card version 236/4, authority
    code 240/8. `Y` (2023 edition): Chinese name 0/30, sex 30/2, renewal count
    32/4, birth 36/16, English name 52/70 (characters 1-35), number 122/36,
    reserved 158/30, valid from 188/16, valid to 204/16, English name 220/22
    (characters 36-46), nationality 242/6, link to an earlier number 250/6.
    """
    if len(block) != TEXT_SIZE:
        raise ProtocolError(f"text block is {len(block)} bytes, expected {TEXT_SIZE}")
    flag = _text(block, 248, 2, "card type flag") or " "
    if flag not in CARD_TYPE_FLAGS:
        raise ProtocolError(f"unknown card type flag {flag!r} at byte 248")
    card_type = CARD_TYPE_FLAGS[flag]
    t = lambda off, size, what: _text(block, off, size, what)  # noqa: E731
    if card_type is CardType.FOREIGN_PERMANENT:
        name_en = t(0, 120, "English name")
        fields = dict(
            card_type=card_type, name=name_en, name_en=name_en, sex=_sex(t(120, 2, "sex code")),
            id_number=t(122, 30, "card number").upper(), nationality=t(152, 6, "nationality"),
            name_zh=t(158, 30, "Chinese name"), valid_from=_date(t(188, 16, "valid-from"), "valid-from date"),
            valid_to=_valid_to(t(204, 16, "valid-to")), birth=_date(t(220, 16, "birth"), "birth date"),
            card_version=t(236, 4, "card version"), issuer=t(240, 8, "authority code"),
        )
    elif card_type is CardType.FOREIGN_PERMANENT_2023:
        count = t(32, 4, "renewal count")
        fields = dict(
            card_type=card_type, name=t(0, 30, "Chinese name"), sex=_sex(t(30, 2, "sex code")),
            issue_count=int(count) if _digits(count) else None,
            birth=_date(t(36, 16, "birth"), "birth date"),
            name_en=_text(block[52:122] + block[220:242], 0, 92, "English name"),
            id_number=t(122, 36, "card number").upper(),
            valid_from=_date(t(188, 16, "valid-from"), "valid-from date"), valid_to=_valid_to(t(204, 16, "valid-to")),
            nationality=t(242, 6, "nationality"), previous_number_link=t(250, 6, "previous number link"),
        )
    else:
        nation = None
        if card_type is CardType.RESIDENT:
            code = t(32, 4, "nation code")
            if code not in NATIONS:
                raise ProtocolError(f"nation code {code!r} is not in GB 3304")
            nation = NATIONS[code]
        fields = dict(
            card_type=card_type, name=t(0, 30, "name"), sex=_sex(t(30, 2, "sex code")), nation=nation,
            birth=_date(t(36, 16, "birth"), "birth date"), address=t(52, 70, "address"),
            id_number=t(122, 36, "ID number").upper(), issuer=t(158, 30, "issuing authority"),
            valid_from=_date(t(188, 16, "valid-from"), "valid-from date"), valid_to=_valid_to(t(204, 16, "valid-to")),
        )
        if card_type is CardType.HK_MO_TW_RESIDENCE:
            count = t(238, 4, "issue count")
            fields.update(pass_number=t(220, 18, "pass number"), issue_count=int(count) if _digits(count) else None)
    if not fields["name"]:
        raise ProtocolError("the card's name field is empty")
    return fields


def parse_card(text: bytes, photo: bytes, fingerprint: bytes | None = None) -> Card:
    fields = parse_text(text)
    checksum_ok, birth_ok = check_id_number(fields["id_number"], fields["card_type"], fields["birth"])
    return Card(**fields, photo=bytes(photo), fingerprint=fingerprint, id_checksum_ok=checksum_ok,
                birth_date_ok=birth_ok)


def parse_read_reply(data: bytes, with_fingerprint: bool) -> Card:
    """The data of a `30 01` / `30 10` reply: lengths (2 or 3 x 2 bytes BE), then the blocks."""
    n_lengths = 3 if with_fingerprint else 2
    if len(data) < 2 * n_lengths:
        raise ProtocolError(f"read reply of {len(data)} bytes has no block lengths")
    lengths = [int.from_bytes(data[2 * i:2 * i + 2], "big") for i in range(n_lengths)]
    if lengths[0] != TEXT_SIZE:
        raise ProtocolError(f"text block length {lengths[0]}, expected {TEXT_SIZE}")
    if sum(lengths) != len(data) - 2 * n_lengths:
        raise ProtocolError(f"block lengths {lengths} do not add up to the {len(data) - 2 * n_lengths} bytes sent")
    pos = 2 * n_lengths
    text = data[pos:pos + lengths[0]]
    photo = data[pos + lengths[0]:pos + lengths[0] + lengths[1]]
    fingerprint = data[pos + lengths[0] + lengths[1]:] if with_fingerprint else None
    return parse_card(text, photo, fingerprint)
