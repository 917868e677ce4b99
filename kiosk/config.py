"""Settings: the kiosk's TOML file, loaded into typed, validated settings.

Every section and key is declared here; an unknown key is an error (a typo
must not pass silently). `load()` raises `ConfigError` whose message names the
file, the key and the problem, for example
`config/kiosk.toml: devices.locker.baudrate: expected an integer, got "9600x"`.
The same models validate the settings of a signed config bundle.
"""
from __future__ import annotations

import json
import os
import tomllib
from pathlib import Path
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, PrivateAttr, ValidationError

DEFAULT_CONFIG = Path("config/kiosk.toml")
ENV_CONFIG = "KIOSK_CONFIG"


class ConfigError(Exception):
    """A settings file that cannot be used; the message is for a person."""


class Section(BaseModel):
    # strict: a quoted "9600" where a number belongs is a mistake worth naming
    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)


Seconds = Annotated[float, Field(gt=0)]


class KioskSection(Section):
    id: Annotated[str, Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")]
    hall: Annotated[str, Field(min_length=1, max_length=80)]
    data_dir: str = "var"
    language: Literal["zh_CN", "en"] = "zh_CN"
    idle_timeout_s: Annotated[int, Field(ge=15, le=3600)] = 90
    idle_warning_s: Annotated[int, Field(ge=20, le=300)] = 30
    idle_extensions: Annotated[int, Field(ge=10, le=100)] = 10
    groups: list[str] = []  # fleet groups this kiosk belongs to (config bundle targets)


class UiSection(Section):
    width: Annotated[int, Field(ge=320, le=8192)] = 1080
    height: Annotated[int, Field(ge=320, le=8192)] = 1920
    rotation: Literal[0, 90, 180, 270] = 0
    fullscreen: bool = False
    font: str | None = None  # path to a single-face CJK font; found automatically when unset
    elder_scale: Annotated[float, Field(ge=1.5, le=3.0)] = 1.6


class IdCardSection(Section):
    driver: Literal["sam"]
    port: str
    baudrate: int = 115200
    timeouts: dict[str, Seconds] = {}


class LockBoardSection(Section):
    address: Annotated[int, Field(ge=0, le=64)]
    doors: Annotated[int, Field(ge=1, le=64)]
    # how this board's switches read; HARDWARE.md: vendors disagree, so per board
    open_status: Annotated[int, Field(ge=0, le=255)] = 0x11
    closed_bit: Literal[0, 1] = 1


class LockerSection(Section):
    driver: Literal["lock8a", "kerong"]
    port: str
    baudrate: int | None = None  # None: the board protocol's usual rate
    boards: Annotated[list[LockBoardSection], Field(min_length=1)]
    timeouts: dict[str, Seconds] = {}


class ReceiptPrinterSection(Section):
    driver: Literal["escpos"]
    connection: str
    encoding: Literal["gb18030", "gbk", "big5", "utf-8"] = "gb18030"
    timeouts: dict[str, Seconds] = {}


class DocumentPrinterSection(Section):
    driver: Literal["cups"]
    printer: str
    timeouts: dict[str, Seconds] = {}


class PaymentSection(Section):
    driver: Literal["concert"]
    port: str
    baudrate: int = 9600
    pos_number: Annotated[str, Field(pattern=r"^\d{2}$")] = "01"
    currency: Annotated[str, Field(pattern=r"^\d{3}$")] = "156"
    result_timeout_s: Annotated[float, Field(gt=0, le=600)] = 120
    timeouts: dict[str, Seconds] = {}


class ScannerSection(Section):
    driver: Literal["serial"]
    port: str
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
    url: Annotated[str, Field(pattern=r"^https?://")] = "http://127.0.0.1:8700"
    secret: Annotated[str, Field(min_length=16)]
    ca_bundle: str | None = None  # PEM file; None = the system's trust store
    timeout_s: Annotated[float, Field(gt=0, le=120)] = 10
    lookup_timeout_s: Annotated[float, Field(gt=0, le=30)] = 3  # interactive look-ups from the UI


class SyncSection(Section):
    batch_size: Annotated[int, Field(ge=1, le=500)] = 500
    backoff_base_s: Annotated[float, Field(gt=0)] = 1.0
    backoff_cap_s: Annotated[float, Field(gt=0)] = 300.0
    start_jitter_s: Annotated[float, Field(ge=0)] = 30.0
    interval_s: Annotated[float, Field(gt=0)] = 5.0
    heartbeat_interval_s: Annotated[float, Field(gt=0)] = 60.0
    catalog_interval_s: Annotated[float, Field(gt=0)] = 600.0
    prune_acked_days: Annotated[int, Field(ge=1)] = 30
    outbox_alarm_items: Annotated[int, Field(ge=100)] = 100_000


class ManagementSection(Section):
    listen: str = "127.0.0.1:8701"
    trusted_keys: list[str] = []


class PrivacySection(Section):
    # per-deployment key of the keyed hashes (HMAC-SHA256) of ID numbers and pickup codes
    hash_key: Annotated[str, Field(min_length=16)]


class GuidesSection(Section):
    seed_file: str | None = None  # catalog imported when the kiosk has none yet


class Settings(Section):
    kiosk: KioskSection
    ui: UiSection = UiSection()
    devices: DevicesSection = DevicesSection()
    central: CentralSection
    sync: SyncSection = SyncSection()
    management: ManagementSection = ManagementSection()
    privacy: PrivacySection
    guides: GuidesSection = GuidesSection()

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
    "int_type": "expected an integer",
    "int_parsing": "expected an integer",
    "int_from_float": "expected an integer",
    "float_type": "expected a number",
    "float_parsing": "expected a number",
    "string_type": "expected a string",
    "bool_type": "expected true or false",
    "bool_parsing": "expected true or false",
    "list_type": "expected a list",
    "dict_type": "expected a table",
    "model_type": "expected a table",
    "model_attributes_type": "expected a table",
}


def _describe(err: dict) -> tuple[str, str]:
    loc = ".".join(str(p) for p in err["loc"] if not (isinstance(p, str) and p.endswith("Section")))
    kind = err["type"]
    got = err.get("input")
    shown = json.dumps(got, ensure_ascii=False, default=str) if got is not None else None
    if kind == "extra_forbidden":
        return loc, "unknown key (check the spelling; see config/kiosk.toml for the keys there are)"
    if kind == "missing":
        return loc, "required key is missing"
    if kind in _EXPECTED:
        return loc, f"{_EXPECTED[kind]}, got {shown}"
    if kind == "literal_error":
        return loc, f"expected one of {err['ctx']['expected']}, got {shown}"
    if kind == "string_pattern_mismatch":
        return loc, f"{shown} does not have the expected form ({err['ctx']['pattern']})"
    return loc, f"{err['msg'][0].lower()}{err['msg'][1:]}, got {shown}"


def validation_messages(exc: ValidationError, where: str) -> list[str]:
    out = []
    for err in exc.errors(include_url=False):
        loc, problem = _describe(err)
        out.append(f"{where}: {loc}: {problem}" if loc else f"{where}: {problem}")
    return out


def parse(data: dict, source: Path, where: str | None = None) -> Settings:
    """Validate an already-parsed document (the file, or a bundle's merged settings)."""
    where = where or str(source)
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
        raise ConfigError(f"{path}: config file not found (pass --config PATH or set {ENV_CONFIG})") from None
    except OSError as exc:
        raise ConfigError(f"{path}: cannot be read: {exc.strerror}") from None
    try:
        return tomllib.loads(raw.decode("utf-8"))
    except UnicodeDecodeError as exc:
        raise ConfigError(f"{path}: not UTF-8 text (byte {exc.start}); save the file as UTF-8") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: not valid TOML: {exc}") from None


def load(path: str | os.PathLike | None = None) -> Settings:
    p = config_path(path)
    return parse(read_document(p), p)
