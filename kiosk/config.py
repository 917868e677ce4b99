"""Settings: the kiosk's TOML file, loaded into typed, validated settings.

Every section and key is declared here; an unknown key is an error (a typo
must not pass silently). `load()` raises `ConfigError` whose message names the
file, the key and the problem, for example
`config/kiosk.toml: devices.locker.baudrate: expected an integer, got "9600x"`.
The same models validate the settings of a signed config bundle.

Hostile input is named, not crashed on (issue 24): a document nested deeper
than MAX_DEPTH, a control character (NUL included) in any string or key, a
number that is not finite (TOML `inf`, `nan`), a URL without a host or with a
port beyond 65535, a listen address that is not HOST:PORT, and non-ASCII
digits where a pattern wants digits are each refused with the file and key.
"""
from __future__ import annotations

import json
import logging
import math
import os
import tomllib
import unicodedata
from urllib.parse import urlsplit
from pathlib import Path
from typing import Annotated, Callable, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, PrivateAttr, ValidationError, model_validator
from pydantic_core import PydanticCustomError

DEFAULT_CONFIG = Path("config/kiosk.toml")
ENV_CONFIG = "KIOSK_CONFIG"


class ConfigError(Exception):
    """A settings file that cannot be used; the message is for a person."""


# the language of the messages below that a technician reads (the file's problems): English, unless the
# `kiosk` command line puts the lookup of its own catalog here (kiosk/commands/_text.py, the `cli` domain;
# this module is below the command line and cannot import it)
translate: Callable[[str], str] = str


def _t(message: str) -> str:
    return translate(message)


def N_t(message: str) -> str:
    """Marks a msgid of the `cli` catalog that is translated later, with `_t()` (a table's entries)."""
    return message


MAX_DEPTH = 32  # tables and arrays inside each other; the real config needs 5


class Section(BaseModel):
    # strict: a quoted "9600" where a number belongs is a mistake worth naming;
    # allow_inf_nan=False: TOML's inf and nan are never a timeout or an interval
    model_config = ConfigDict(extra="forbid", strict=True, frozen=True, allow_inf_nan=False)


def _port_in_range(port: str, what: str) -> int:
    if not port.isascii() or not port.isdigit() or not 1 <= int(port) <= 65535:
        raise PydanticCustomError("bad_port", f"{what}: the port must be a number 1-65535")
    return int(port)


def _http_url(value: str) -> str:
    """http(s)://HOST[:PORT][/path]: a host, a port in range, no spaces (they would reach the request line)."""
    if any(c.isspace() for c in value):
        raise PydanticCustomError("bad_url", "a URL has no space in it; write it as http(s)://HOST:PORT")
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https"):
        raise PydanticCustomError("bad_url", "expected an http:// or https:// URL, e.g. http://127.0.0.1:8700")
    if not parts.hostname:
        raise PydanticCustomError("bad_url", "the URL has no host; write it as http(s)://HOST:PORT")
    _, sep, port = parts.netloc.rpartition("@")[2].rpartition("]")[2].partition(":")
    if sep:
        _port_in_range(port, "the URL's port")
    return value


def _notice_key(value: str | None) -> str | None:
    from kiosk.wire.sealed import SealError, public_key_raw

    if value is not None:
        try:
            public_key_raw(value)
        except SealError as exc:
            raise PydanticCustomError("bad_notice_key", str(exc)) from None
    return value


NETWORK_SCHEMES = ("tcp://", "socket://", "rfc2217://")


def _device_address(value: str) -> str:
    """A device path, sim://NAME, serial:PATH, usb://..., or a network address (tcp://, socket://,
    rfc2217://) that must be HOST:PORT with a port 1-65535."""
    if value.startswith(NETWORK_SCHEMES):
        scheme, _, rest = value.partition("://")
        hostport = rest.split("/", 1)[0].split("?", 1)[0]
        if any(c.isspace() for c in value):
            raise PydanticCustomError("bad_address", f"a {scheme}:// address has no space in it; write "
                                                     f"{scheme}://HOST:PORT")
        host, sep, port = hostport.rpartition(":")
        if not sep or not host.strip("[]"):
            raise PydanticCustomError("bad_address", f"expected {scheme}://HOST:PORT, e.g. {scheme}://192.168.1.50:9100")
        _port_in_range(port, f"the {scheme}:// address's port")
    return value


DeviceAddress = Annotated[str, AfterValidator(_device_address)]


def _host_port(value: str) -> str:
    """HOST:PORT or [IPv6]:PORT, as the management API listens."""
    host, sep, port = value.rpartition(":")
    if not sep or not host.strip("[]") or any(c.isspace() for c in value):
        raise PydanticCustomError("bad_listen", "expected HOST:PORT, e.g. 127.0.0.1:8701 (or [::1]:8701)")
    _port_in_range(port, "listen")
    return value


Seconds = Annotated[float, Field(gt=0)]


class KioskSection(Section):
    id: Annotated[str, Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")]
    hall: Annotated[str, Field(min_length=1, max_length=80)]
    # the hall's name in the English UI; "" = the Chinese name in every language
    hall_en: Annotated[str, Field(max_length=120)] = ""
    data_dir: str = "var"
    language: Literal["zh_CN", "en"] = "zh_CN"
    idle_timeout_s: Annotated[int, Field(ge=15, le=3600)] = 90
    idle_warning_s: Annotated[int, Field(ge=20, le=300)] = 30
    idle_extensions: Annotated[int, Field(ge=10, le=100)] = 10
    # the number on screens and slips when a citizen needs a person: a door that did not open, money
    # to settle, the answer to "Call staff" (12345 is the government service hotline; a hall may have its
    # own duty phone)
    hotline: Annotated[str, Field(pattern=r"^[0-9+][0-9 -]{2,23}$")] = "12345"
    groups: list[str] = []  # fleet groups this kiosk belongs to (config bundle targets)
    # the demo hall: its world-known secrets, PINs and simulated devices are allowed; a kiosk that serves
    # citizens says false, and then will not start with any of them (kiosk/provisioning.py)
    demo: bool = False


class UiSection(Section):
    width: Annotated[int, Field(ge=320, le=8192)] = 1080
    height: Annotated[int, Field(ge=320, le=8192)] = 1920
    rotation: Literal[0, 90, 180, 270] = 0
    fullscreen: bool = False
    font: str | None = None  # path to a single-face CJK font; found automatically when unset
    elder_scale: Annotated[float, Field(ge=1.5, le=3.0)] = 1.6
    # edge smoothing of drawn shapes (text is unaffected). Off by default: flat shapes look the
    # same without it, and on a kiosk PC without a GPU (software GL) 2x costs 66 MB of RAM
    multisamples: Literal[0, 2, 4, 8] = 0
    # where each device sits on this kiosk model's face, for the picture that shows a citizen where to put
    # the card or take the paper (kiosk/screens/kiosk_face.py): [left, top, width, height] as fractions of
    # the face, top down. Parts not listed are not drawn; a kiosk model with its devices elsewhere says so here
    face: dict[Literal["screen", "idcard", "scanner", "payment", "receipt", "a4", "locker"],
               Annotated[list[Annotated[float, Field(ge=0, le=1)]], Field(min_length=4, max_length=4)]] = {
        "screen": [0.10, 0.04, 0.80, 0.40],
        "scanner": [0.12, 0.50, 0.30, 0.07],
        "idcard": [0.58, 0.50, 0.30, 0.07],
        "payment": [0.56, 0.61, 0.32, 0.13],
        "receipt": [0.12, 0.63, 0.30, 0.04],
        "a4": [0.20, 0.82, 0.60, 0.05],
    }

    @model_validator(mode="after")
    def _face_parts_inside(self):
        for part, (left, top, width, height) in self.face.items():
            if left + width > 1.0001 or top + height > 1.0001 or width <= 0 or height <= 0:
                raise ValidationError.from_exception_data("UiSection", [{
                    "type": PydanticCustomError(
                        "face_part", f"the part {part} = [{left}, {top}, {width}, {height}] reaches past the "
                        f"kiosk's face: left + width and top + height must be at most 1, width and height above 0"),
                    "loc": ("face", part), "input": [left, top, width, height]}])
        return self


class IdCardSection(Section):
    driver: Literal["sam"]
    port: DeviceAddress
    baudrate: int = 115200
    timeouts: dict[str, Seconds] = {}


class LockBoardSection(Section):
    address: Annotated[int, Field(ge=0, le=64)]
    doors: Annotated[int, Field(ge=1, le=64)]
    # how this board's switches read; HARDWARE.md: vendors disagree, so per board
    open_status: Annotated[int, Field(ge=0, le=255)] = 0x11
    closed_bit: Literal[0, 1] = 1
    # 8A boards: accepted first bytes of a reply (some vendors echo the 8A header)
    reply_headers: Annotated[list[Annotated[int, Field(ge=0, le=255)]], Field(min_length=1)] = [0x80, 0x8A]


# what each board type can address (HARDWARE.md): addresses, doors per board
_LOCK_BOARD_LIMITS = {"lock8a": (1, 64, 32), "kerong": (0, 15, 16)}


class LockerSection(Section):
    driver: Literal["lock8a", "kerong"]
    port: DeviceAddress
    baudrate: int | None = None  # None: the board protocol's usual rate
    boards: Annotated[list[LockBoardSection], Field(min_length=1)]
    local_echo: bool = False     # an RS-485 adapter that hears its own transmission
    timeouts: dict[str, Seconds] = {}
    # where the locker stands in the hall, in the hall's words ("一楼东侧24小时自助区"): the deposit
    # transaction carries it, and the applicant's pickup notice tells it; "" = not said
    place: Annotated[str, Field(max_length=60)] = ""

    @model_validator(mode="after")
    def _boards_fit_the_driver(self):
        low, high, most = _LOCK_BOARD_LIMITS[self.driver]
        seen = set()
        for i, board in enumerate(self.boards):
            if not low <= board.address <= high:
                raise PydanticCustomError("lock_board", f"boards[{i}].address: {self.driver} boards are "
                                          f"addressed {low}-{high}, not {board.address}")
            if board.doors > most:
                raise PydanticCustomError("lock_board", f"boards[{i}].doors: a {self.driver} board drives at "
                                          f"most {most} doors, not {board.doors}")
            if board.address in seen:
                raise PydanticCustomError("lock_board", f"boards[{i}].address: board {board.address} is listed twice")
            seen.add(board.address)
        return self


class ReceiptPrinterSection(Section):
    driver: Literal["escpos"]
    connection: DeviceAddress
    encoding: Literal["gb18030", "gbk", "big5", "utf-8"] = "gb18030"
    baudrate: int = 9600          # serial: connections
    # false only for one-way links (a capture file): status then says "status_not_reported"
    realtime_status: bool = True
    cut: Literal["full", "partial"] = "full"
    timeouts: dict[str, Seconds] = {}


class DocumentPrinterSection(Section):
    driver: Literal["cups"]
    printer: str
    # the CUPS server: None = the system's ($CUPS_SERVER, else /run/cups/cups.sock); a socket path or HOST:PORT
    server: str | None = None
    timeouts: dict[str, Seconds] = {}


class PaymentSection(Section):
    driver: Literal["concert"]
    port: DeviceAddress
    baudrate: int = 9600
    # [0-9], not \d: a pattern's \d takes any Unicode digit (٠١, １５６), which the terminal does not
    pos_number: Annotated[str, Field(pattern=r"^[0-9]{2}$")] = "01"
    currency: Annotated[str, Field(pattern=r"^[0-9]{3}$")] = "156"
    result_timeout_s: Annotated[float, Field(gt=0, le=600)] = 120
    timeouts: dict[str, Seconds] = {}


class ScannerSection(Section):
    driver: Literal["serial"]
    port: DeviceAddress
    baudrate: int = 9600
    timeouts: dict[str, Seconds] = {}


class DevicesSection(Section):
    idcard: IdCardSection | None = None
    locker: LockerSection | None = None
    receipt_printer: ReceiptPrinterSection | None = None
    document_printer: DocumentPrinterSection | None = None
    payment: PaymentSection | None = None
    scanner: ScannerSection | None = None


class CentralSection(Section):
    url: Annotated[str, AfterValidator(_http_url)] = "http://127.0.0.1:8700"
    secret: Annotated[str, Field(min_length=16)]
    ca_bundle: str | None = None  # PEM file; None = the system's trust store
    timeout_s: Annotated[float, Field(gt=0, le=120)] = 10
    lookup_timeout_s: Annotated[float, Field(gt=0, le=30)] = 3  # interactive look-ups from the UI
    # the platform notifier's public key (`kiosk central notice-key`): deposits seal the pickup code to it
    # so that only the notifier can text it to the applicant; None = codes are not sent (staff hand them on)
    notice_key: Annotated[str | None, AfterValidator(_notice_key)] = None


class SyncSection(Section):
    batch_size: Annotated[int, Field(ge=1, le=500)] = 500
    backoff_base_s: Annotated[float, Field(gt=0)] = 1.0
    backoff_cap_s: Annotated[float, Field(gt=0)] = 300.0
    start_jitter_s: Annotated[float, Field(ge=0)] = 30.0
    interval_s: Annotated[float, Field(gt=0)] = 5.0
    heartbeat_interval_s: Annotated[float, Field(gt=0)] = 60.0
    catalog_interval_s: Annotated[float, Field(gt=0)] = 600.0
    config_interval_s: Annotated[float, Field(gt=0)] = 60.0  # fleet config poll (a conditional GET)
    prune_acked_days: Annotated[int, Field(ge=1)] = 30
    outbox_alarm_items: Annotated[int, Field(ge=100)] = 100_000
    disk_alarm_free_mb: Annotated[int, Field(ge=1)] = 200  # alarm while the data dir has less free space


class ManagementSection(Section):
    listen: Annotated[str, AfterValidator(_host_port)] = "127.0.0.1:8701"
    trusted_keys: list[str] = []


class PrivacySection(Section):
    # per-deployment key of the keyed hashes (HMAC-SHA256) of ID numbers and pickup codes
    hash_key: Annotated[str, Field(min_length=16)]


class GuidesSection(Section):
    seed_file: str | None = None  # catalog imported when the kiosk has none yet


# --- certificate pickup locker and hall staff (issue 6) ---

class PickupDoorSection(Section):
    """One door (`door = 7`) or a run of doors (`first = 1, last = 6`) of the pickup locker."""

    door: Annotated[int, Field(ge=1)] | None = None
    first: Annotated[int, Field(ge=1)] | None = None
    last: Annotated[int, Field(ge=1)] | None = None
    size: Literal["small", "medium", "large"] = "medium"
    height: Literal["standard", "low"] = "standard"   # low: within reach from a wheelchair
    in_service: bool = True                            # false: never given out (a broken door)

    @model_validator(mode="after")
    def _one_door_or_a_run(self):
        if (self.door is None) == (self.first is None and self.last is None):
            raise PydanticCustomError("pickup_door", "give either door = N or first = N, last = M")
        if self.door is None and (self.first is None or self.last is None or self.first > self.last):
            raise PydanticCustomError("pickup_door", "a run of doors needs first <= last")
        return self

    def numbers(self) -> range:
        return range(self.door, self.door + 1) if self.door is not None else range(self.first, self.last + 1)


class PickupSection(Section):
    code_length: Annotated[int, Field(ge=6, le=8)] = 6
    hold_days: Annotated[int, Field(ge=1, le=365)] = 7           # then the item is overdue
    collect_when_overdue: bool = True                             # overdue items stay collectable until recalled
    wrong_codes_before_lockout: Annotated[int, Field(ge=3, le=20)] = 5
    lockout_base_s: Annotated[float, Field(ge=10, le=3600)] = 60  # doubles with each further wrong code
    lockout_max_s: Annotated[float, Field(ge=60, le=86400)] = 3600   # the doubling stops here
    door_close_timeout_s: Annotated[float, Field(ge=10, le=600)] = 60   # then "door left open"
    id_card_timeout_s: Annotated[float, Field(ge=10, le=300)] = 45
    # the locker's face as a citizen sees it: doors numbered down each column, or across each row
    columns: Annotated[int, Field(ge=1, le=64)] = 4
    rows: Annotated[int, Field(ge=1, le=64)] = 6
    numbering: Literal["down", "across"] = "down"
    doors: list[PickupDoorSection] = []   # doors not listed are medium, standard height, in service

    @model_validator(mode="after")
    def _cap_not_below_the_first_lockout(self):
        if self.lockout_max_s < self.lockout_base_s:
            # reported at the key itself (pickup.lockout_max_s), not as the whole section
            raise ValidationError.from_exception_data("PickupSection", [{
                "type": PydanticCustomError(
                    "pickup_lockout", f"the longest lockout is shorter than the first (lockout_base_s = "
                    f"{self.lockout_base_s:g} s): set lockout_max_s to at least lockout_base_s"),
                "loc": ("lockout_max_s",), "input": self.lockout_max_s}])
        return self


class StaffMemberSection(Section):
    id: Annotated[str, Field(pattern=r"^[A-Za-z0-9]{2,16}$")]
    pin_hash: Annotated[str, Field(pattern=r"^scrypt\$")]        # from `kiosk staff hash-pin`


class StaffSection(Section):
    members: list[StaffMemberSection] = []
    wrong_pins_before_lockout: Annotated[int, Field(ge=3, le=20)] = 5
    pin_lockout_s: Annotated[float, Field(ge=30, le=86400)] = 300


# --- end of issue 6 ---


# --- technician mode (issue 7) ---

class TechnicianSection(Section):
    # PIN hashes from `kiosk staff hash-pin` (scrypt); empty: the technician mode cannot be entered
    pin_hashes: list[Annotated[str, Field(pattern=r"^scrypt\$")]] = []
    hold_s: Annotated[float, Field(ge=2, le=30)] = 5                  # press on the top-left corner this long
    wrong_pins_before_lockout: Annotated[int, Field(ge=3, le=20)] = 5
    pin_lockout_s: Annotated[float, Field(ge=30, le=86400)] = 300
    idle_timeout_s: Annotated[float, Field(ge=30, le=3600)] = 300     # back to the citizen home screen
    # where a USB stick is mounted (the diagnostics bundle goes there; else to the data dir)
    usb_mounts: list[str] = ["/media/*/*", "/run/media/*/*"]


# --- end of issue 7 ---


# --- document printing, payment and ratings (issue 5) ---

Fen = Annotated[int, Field(ge=0, le=1_000_000)]   # 1 yuan = 100 fen; at most 10,000 yuan


class FeeRule(Section):
    """What one printing service costs: per document plus per printed page, in fen; 0 + 0 = free."""

    per_document_fen: Fen = 0
    per_page_fen: Fen = 0

    def price(self, pages: int, copies: int = 1) -> int:
        return (self.per_document_fen + self.per_page_fen * max(0, pages)) * max(1, copies)


class FeesSection(Section):
    """Fees by service; an operator changes them here or in a signed config bundle (`[settings.fees]`)."""

    documents: FeeRule = FeeRule()     # documents released to a card holder
    blank_forms: FeeRule = FeeRule()   # blank forms attached to guides
    guides: FeeRule = FeeRule()        # a guide printed on A4
    forms: FeeRule = FeeRule()         # a form filled in at the kiosk (自助填表), printed on A4


def _plugin_name(value: str) -> str:
    """`package.module:callable` (a plug-in the composition root loads by name), or "" for none."""
    module, sep, attr = value.partition(":")
    if value and not (sep and attr.isidentifier() and all(p.isidentifier() for p in module.split("."))):
        raise PydanticCustomError("bad_plugin", "expected a plug-in as package.module:callable, e.g. "
                                                "kiosk.sim.acquirer:central_demo, or \"\" for none")
    return value


class PaymentsSection(Section):
    methods: list[Literal["card", "code"]] = ["card", "code"]   # offered when a fee applies and the device is there
    code_scan_timeout_s: Annotated[float, Field(ge=10, le=300)] = 60     # waiting for the citizen to show a code
    code_confirm_timeout_s: Annotated[float, Field(ge=5, le=120)] = 45   # the payer confirming on the phone
    code_poll_s: Annotated[float, Field(gt=0, le=10)] = 2.0
    # the payment-code acquirer: a plug-in `module:callable` (kiosk/app/visit.py: code_gateway);
    # "" = none, and payment codes are not offered. The default config names the demo one.
    acquirer: Annotated[str, AfterValidator(_plugin_name)] = ""


class DocumentsSection(Section):
    id_card_timeout_s: Annotated[float, Field(ge=10, le=300)] = 45
    # blank forms: PDFs cached under <data_dir>/forms/ (a deployment fills the cache); sample_forms names
    # a plug-in `module:callable` that renders a missing form as a marked sample (the demo config names
    # kiosk.sim.forms:write_demo_form, so the demo works without a forms server); "" = none
    forms_dir: str = "forms"
    sample_forms: Annotated[str, AfterValidator(_plugin_name)] = ""
    print_timeout_s: Annotated[float, Field(ge=10, le=1800)] = 180


class RatingsSection(Section):
    # reasons offered after 不满意 / 非常不满意 (English msgids, translated on screen; any text works)
    low_reasons: Annotated[list[Annotated[str, Field(min_length=1, max_length=60)]], Field(min_length=1, max_length=12)] = [
        "It took too long", "The steps were hard to follow", "The machine did not work well",
        "The printout was poor", "The fee was unclear", "Something else"]


# --- end of issue 5 (printing, payment, ratings) ---


class TicketsSection(Section):
    """Queue tickets and appointment check-in (取号 / 预约签到; docs/services.md)."""

    # the hall's code on the platform (GET /api/v1/halls/{hall}/queues); "" = not set up: the service says so
    hall: Annotated[str, Field(pattern=r"^$|^[a-z0-9][a-z0-9-]{0,39}$")] = ""
    # the kiosk's own block of numbers, for tickets issued while the platform cannot be reached: the prefix
    # is one the hall keeps for its kiosks (never a business's), and each kiosk of a hall has its own range
    offline_prefix: Annotated[str, Field(pattern=r"^[A-Z]{1,3}$")] = "Z"
    offline_start: Annotated[int, Field(ge=1, le=9999)] = 1
    offline_end: Annotated[int, Field(ge=1, le=9999)] = 999
    id_card_timeout_s: Annotated[float, Field(ge=10, le=300)] = 30

    @model_validator(mode="after")
    def _block_not_empty(self):
        if self.offline_end < self.offline_start:
            raise ValidationError.from_exception_data("TicketsSection", [{
                "type": PydanticCustomError(
                    "tickets_block", f"the offline block ends before it starts (offline_start = "
                    f"{self.offline_start}): set offline_end to at least offline_start"),
                "loc": ("offline_end",), "input": self.offline_end}])
        return self

    @property
    def offline_width(self) -> int:
        """Digits of an offline number (Z001 ... Z999): as many as the block's last number has, at least 3."""
        return max(3, len(str(self.offline_end)))


# --- the citizen services switched on and off (issue 18, item 4) ---

# Every citizen service a kiosk may have, by the key of its tile (kiosk/app/root.py CITIZEN_SERVICES,
# where each is built; tests/test_config.py keeps the two lists together). Named here rather than
# imported, since the settings never import the app; a key here that this software does not build
# yet (a service still to come) switches off nothing.
SERVICE_KEYS = ("pickup", "handin", "guides", "documents", "forms", "progress", "fees", "tickets")


def _service_key(value: str) -> str:
    if value not in SERVICE_KEYS:
        raise PydanticCustomError("unknown_service", "unknown service; the services are "
                                  + ", ".join(SERVICE_KEYS))
    return value


class ServicesSection(Section):
    # citizen services switched off: no tile on the home screen. Applied live, also from a signed
    # config bundle ([settings.services]); a visit under way in a service switched off finishes.
    disabled: list[Annotated[str, AfterValidator(_service_key)]] = []


# --- end of issue 18, item 4 ---


class VoiceSection(Section):
    """Voice guidance (kiosk/core/voice.py): each screen speaks its title and what to do next."""

    # "espeak-ng" (Debian's espeak-ng, offline), or a plug-in `package.module:Class` with the same
    # interface (kiosk/hardware/speech.py SpeechEngine), made with rate_wpm= and record_dir=
    engine: Annotated[str, Field(pattern=r"^(espeak-ng|[A-Za-z_][\w.]*:[A-Za-z_]\w*)$")] = "espeak-ng"
    on_by_default: bool = False     # voice on at the start of every visit (else the citizen turns it on)
    volume: Annotated[int, Field(ge=10, le=100)] = 60   # percent; every visit starts at it (ADA 707.5)
    rate_wpm: Annotated[int, Field(ge=80, le=300)] = 150
    # write what is said to numbered WAV files with their text under this folder instead of playing it
    # (a kiosk without speakers, the tests); "" = play on the sound card
    record_dir: str = ""
    # the sound card's headphone jack as an input event device (kiosk/hardware/headset.py): voice on
    # while a headset is plugged in; e.g. "/dev/input/by-path/pci-0000:00:1f.3-platform-...-event";
    # "" = the kiosk has no jack that reports it
    headset_jack: str = ""


class Settings(Section):
    kiosk: KioskSection
    ui: UiSection = UiSection()
    devices: DevicesSection = DevicesSection()
    central: CentralSection
    sync: SyncSection = SyncSection()
    management: ManagementSection = ManagementSection()
    privacy: PrivacySection
    guides: GuidesSection = GuidesSection()
    pickup: PickupSection = PickupSection()
    staff: StaffSection = StaffSection()
    technician: TechnicianSection = TechnicianSection()
    fees: FeesSection = FeesSection()
    payments: PaymentsSection = PaymentsSection()
    documents: DocumentsSection = DocumentsSection()
    ratings: RatingsSection = RatingsSection()
    tickets: TicketsSection = TicketsSection()
    services: ServicesSection = ServicesSection()
    voice: VoiceSection = VoiceSection()

    # where the file was read from; not a key of the file
    _source: Path = PrivateAttr(default=DEFAULT_CONFIG)

    @property
    def source(self) -> Path:
        return self._source

    def resolve(self, path: str | os.PathLike) -> Path:
        """A path from the file, taken relative to the file's own folder."""
        p = Path(path)
        return p if p.is_absolute() else (self.source.parent / p)

    @property
    def data_path(self) -> Path:
        return self.resolve(self.kiosk.data_dir)


_EXPECTED = {
    "int_type": N_t("expected an integer"),
    "int_parsing": N_t("expected an integer"),
    "int_from_float": N_t("expected an integer"),
    "float_type": N_t("expected a number"),
    "float_parsing": N_t("expected a number"),
    "string_type": N_t("expected a string"),
    "bool_type": N_t("expected true or false"),
    "bool_parsing": N_t("expected true or false"),
    "list_type": N_t("expected a list"),
    "dict_type": N_t("expected a table"),
    "model_type": N_t("expected a table"),
    "model_attributes_type": N_t("expected a table"),
}


def _describe(err: dict) -> tuple[str, str]:
    loc = ".".join(str(p) for p in err["loc"] if not (isinstance(p, str) and p.endswith("Section")))
    kind = err["type"]
    got = err.get("input")
    shown = json.dumps(got, ensure_ascii=False, default=str) if got is not None else None
    if kind == "extra_forbidden":
        return loc, _t("unknown key (check the spelling; see config/kiosk.toml for the keys there are)")
    if kind == "missing":
        return loc, _t("required key is missing")
    if kind in _EXPECTED:
        return loc, _t("{expected}, got {value}").format(expected=_t(_EXPECTED[kind]), value=shown)
    if kind == "literal_error":
        return loc, _t("expected one of {choices}, got {value}").format(choices=err['ctx']['expected'], value=shown)
    if kind == "string_pattern_mismatch":
        return loc, _t("{value} does not have the expected form ({pattern})").format(
            value=shown, pattern=err['ctx']['pattern'])
    # pydantic's own text, and this module's validators' (PydanticCustomError), stay English
    return loc, _t("{problem}, got {value}").format(problem=f"{err['msg'][0].lower()}{err['msg'][1:]}", value=shown)


def validation_messages(exc: ValidationError, where: str) -> list[str]:
    out = []
    for err in exc.errors(include_url=False):
        loc, problem = _describe(err)
        out.append(f"{where}: {loc}: {problem}" if loc else f"{where}: {problem}")
    return out


def document_problems(doc: object, path: str = "", depth: int = 0) -> list[str]:
    """What no schema check names well: nesting deeper than MAX_DEPTH, control characters in a
    string or key, numbers that are not finite. Each as `key: problem`."""
    at = path or "(top level)"
    if depth > MAX_DEPTH:
        outer = path.split("[")[0] or at
        return [_t("{key}: nested more than {depth} deep; a config has tables and lists a few levels deep").format(
            key=outer, depth=MAX_DEPTH)]
    if isinstance(doc, dict):
        out = []
        for k, v in doc.items():
            key = str(k)
            sub = f"{path}.{key}" if path else key
            bad = _control_char(key)
            if bad:
                out.append(_t("{key}: the key holds a control character ({char}); retype the key").format(
                    key=sub, char=bad))
            out.extend(document_problems(v, sub, depth + 1))
        return out
    if isinstance(doc, list):
        out = []
        for i, v in enumerate(doc):
            out.extend(document_problems(v, f"{path}[{i}]", depth + 1))
        return out
    if isinstance(doc, str):
        bad = _control_char(doc)
        return [_t("{key}: holds a control character ({char}); a NUL or other control character is never part "
                   "of a name, path or URL: retype the value").format(key=at, char=bad)] if bad else []
    if isinstance(doc, float) and not math.isfinite(doc):
        return [_t("{key}: expected a finite number, got {value} (inf and nan are not a time or a size)").format(
            key=at, value=doc)]
    return []


def _control_char(text: str) -> str | None:
    for c in text:
        if unicodedata.category(c) == "Cc":
            return f"U+{ord(c):04X}"
    return None


def parse(data: dict, source: Path, where: str | None = None) -> Settings:
    """Validate an already-parsed document (the file, or a bundle's merged settings)."""
    where = where or str(source)
    problems = document_problems(data)
    if problems:
        raise ConfigError("\n".join(f"{where}: {p}" for p in problems[:20]))
    try:
        settings = Settings.model_validate(data)
    except ValidationError as exc:
        raise ConfigError("\n".join(validation_messages(exc, where))) from None
    settings._source = source
    return settings


def config_path(explicit: str | os.PathLike | None = None) -> Path:
    if explicit:
        return Path(explicit)
    return Path(os.environ.get(ENV_CONFIG) or DEFAULT_CONFIG)


def read_document(path: Path) -> dict:
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        raise ConfigError(_t("{path}: config file not found (pass --config PATH or set {variable})").format(
            path=path, variable=ENV_CONFIG)) from None
    except OSError as exc:
        raise ConfigError(_t("{path}: cannot be read: {reason}").format(path=path, reason=exc.strerror)) from None
    try:
        return tomllib.loads(raw.decode("utf-8"))
    except RecursionError:  # tomllib recurses per level: a 3,000-deep array must be named, not crash
        raise ConfigError(_t("{path}: tables or arrays nested more than {depth} deep (far deeper: the reader "
                             "gave up); a config has tables and lists a few levels deep").format(
                                 path=path, depth=MAX_DEPTH)) from None
    except UnicodeDecodeError as exc:
        raise ConfigError(_t("{path}: not UTF-8 text (byte {byte}); save the file as UTF-8").format(
            path=path, byte=exc.start)) from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(_t("{path}: not valid TOML: {problem}").format(path=path, problem=exc)) from None


# the remote settings a verified config bundle applied (written atomically by
# kiosk/sync/config_apply.py), merged over the file so every process sees one config
OVERLAY = Path("config") / "applied.json"


def overlay_path(doc: dict, source: Path) -> Path:
    kiosk = doc.get("kiosk") if isinstance(doc.get("kiosk"), dict) else {}
    data_dir = Path(str(kiosk.get("data_dir", "var")))
    return (data_dir if data_dir.is_absolute() else source.parent / data_dir) / OVERLAY


def applied_version(settings: "Settings") -> int | None:
    """The version of the applied config bundle (None: kiosk.toml alone); a cheap read, without
    the signature machinery of kiosk/sync (the UI polls it)."""
    try:
        doc = json.loads((settings.data_path / OVERLAY).read_bytes())
    except (ValueError, OSError):
        return None
    v = doc.get("version") if isinstance(doc, dict) else None
    return v if isinstance(v, int) else None


def merged(base: dict, over: dict) -> dict:
    out = dict(base)
    for k, v in over.items():
        out[k] = merged(out[k], v) if isinstance(v, dict) and isinstance(out.get(k), dict) else v
    return out


def load(path: str | os.PathLike | None = None, *, overlay: bool = True) -> Settings:
    p = config_path(path)
    doc = read_document(p)
    if overlay:
        remote = overlay_path(doc, p)
        try:
            return parse(merged(doc, json.loads(remote.read_bytes())["settings"]), p, where=f"{p} + {remote}")
        except FileNotFoundError:
            pass
        except (OSError, ValueError, KeyError, TypeError, ConfigError) as exc:
            # the remote layer must never stop the kiosk: the local file alone still runs it
            logging.getLogger(__name__).error("%s: ignored, running on %s alone: %s", remote, p, exc)
    return parse(doc, p)
