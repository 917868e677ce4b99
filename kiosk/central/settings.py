"""The platform's own settings: `central.toml` beside its database (or `--settings PATH`), optional.

`[central]` names the database (`database = "postgresql://…"`) and the sealing key's file (`key_file`), both
only read from a file given with `--settings` (the default file is found beside the database), and how
many days of heartbeats the platform keeps (`heartbeat_history_days`, 30).

`[console]` pins the operator keys the console checks uploaded config bundles against (`trusted_keys`).

`[queues]` (optional) names a hall's own queue system (kiosk/central/queues.py). `[fees]`: the fee-notice
system the platform asks (its plug-in, `issuer`, and the public address of the e-receipt pages;
docs/services.md); keys this module does not know are the issuer's own. `[notify]`: the SMS gateway and
how the notifier sends (docs/pickup.md). The whole
table is the gateway's spec too (kiosk/central/sms/, docs/sms.md): keys this module does not know are the
gateway's own (`path`, `url`, `secret`, …) and pass through unchecked here; the gateway checks them. A bad value is refused with
the file, the key and the problem.
"""
from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import urlsplit

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, ValidationError

SETTINGS_NAME = "central.toml"


class SettingsError(Exception):
    """central.toml cannot be used; the message names the file, the key and the problem."""


def _base_url(value: str) -> str:
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.netloc or parts.query or parts.fragment:
        raise ValueError("expected the pickup page's public address, http(s)://host[:port][/path], no query")
    return value.rstrip("/")


class NotifySettings(BaseModel):
    """`[notify]`: the gateway and the notifier's rules. Other keys are the gateway's own."""

    model_config = ConfigDict(extra="allow", strict=True, frozen=True, allow_inf_nan=False)
    gateway: Annotated[str, Field(min_length=1, description="file | webhook | tencent | aliyun, or "
                                                            "package.module:Class (docs/sms.md)")]
    page_base_url: Annotated[str, AfterValidator(_base_url)]
    phone_retention_days: Annotated[int, Field(ge=0, le=3650)] = 30
    reminders: bool = True
    reminder_before_h: Annotated[float, Field(gt=0, le=24 * 90)] = 24
    max_attempts: Annotated[int, Field(ge=1, le=100)] = 8
    backoff_s: Annotated[float, Field(gt=0, le=86400)] = 30
    backoff_max_s: Annotated[float, Field(gt=0, le=7 * 86400)] = 3600
    lease_s: Annotated[float, Field(ge=5, le=3600)] = 300   # longer than the gateway's slowest answer
    poll_s: Annotated[float, Field(gt=0, le=600)] = 2

    def backoff(self, attempts: int) -> float:
        """The wait before attempt `attempts + 1`: backoff_s, doubling, at most backoff_max_s."""
        return min(self.backoff_max_s, self.backoff_s * 2 ** min(max(attempts - 1, 0), 40))

    def gateway_spec(self) -> dict[str, Any]:
        return self.model_dump()


class QueuesSettings(BaseModel):
    """`[queues]`: the hall's own queue system instead of the demo queue (docs/services.md). Other keys are the
    system's own, passed to it as keyword arguments."""

    model_config = ConfigDict(extra="allow", strict=True, frozen=True)
    system: Annotated[str, Field(pattern=r"^[A-Za-z_][\w.]*:[A-Za-z_]\w*$",
                                 description="package.module:callable, called with the platform's database")]


def _receipt_base(value: str) -> str:
    _base_url(value)
    return value if value.endswith("/") else value + "/"


class FeeSettings(BaseModel):
    """`[fees]`: the fee-notice issuer (kiosk/central/fee_notices.py) and where the e-receipts are read.
    Other keys are the issuer's own."""

    model_config = ConfigDict(extra="allow", strict=True, frozen=True, allow_inf_nan=False)
    issuer: Annotated[str, Field(pattern=r"^[A-Za-z_][\w.]*:[A-Za-z_]\w*$",
                                 description="package.module:callable")] = "kiosk.central.fee_issuer:demo"
    receipt_base_url: Annotated[str, AfterValidator(_receipt_base)] | None = None

    def issuer_spec(self) -> dict[str, Any]:
        return self.model_dump()


class CentralSettings(BaseModel):
    """`[central]`: where the platform's data is, when the command line and the environment do not say
    (`--db` and `--key-file`, `$KIOSK_CENTRAL_DB` and `$KIOSK_CENTRAL_KEY_FILE` come first)."""

    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)
    database: Annotated[str, Field(min_length=1, description="a SQLite file, sqlite:///PATH or "
                                                             "postgresql://user@host[:port]/name")] | None = None
    key_file: Annotated[str, Field(min_length=1)] | None = None
    # a kiosk's heartbeat every minute is 1,440 rows a day: a province of 20,000 kiosks keeps ~29 million
    # a day, so it may keep fewer days than a hall
    heartbeat_history_days: Annotated[int, Field(ge=1, le=3650)] = 30


class ConsoleSettings(BaseModel):
    """`[console]`: the operator keys whose signatures the console checks before it stores an uploaded config
    bundle (the `.pub` files `kiosk config keygen` writes; a path is relative to this file). The console holds
    no signing key: bundles are signed on the operator's machine."""

    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)
    trusted_keys: list[Annotated[str, Field(min_length=1)]] = []
    threshold: Annotated[int, Field(ge=1, le=16)] = 1   # signatures of distinct trusted keys a bundle needs


class PlatformSettings(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)
    central: CentralSettings = CentralSettings()
    console: ConsoleSettings = ConsoleSettings()
    notify: NotifySettings | None = None
    queues: QueuesSettings | None = None
    fees: FeeSettings = FeeSettings()


def settings_path(db_path: Path | str, explicit: Path | str | None = None) -> Path:
    return Path(explicit) if explicit else Path(db_path).parent / SETTINGS_NAME


def load(path: Path, *, required: bool = False) -> PlatformSettings:
    """The settings in `path`; none (no `[notify]`) when the file does not exist and was not asked for."""
    try:
        doc = tomllib.loads(path.read_bytes().decode("utf-8"))
    except FileNotFoundError:
        if required:
            raise SettingsError(f"{path}: settings file not found") from None
        return PlatformSettings()
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError, RecursionError) as exc:
        raise SettingsError(f"{path}: not readable as TOML ({exc})") from None
    try:
        return PlatformSettings.model_validate(doc)
    except ValidationError as exc:
        lines = []
        for err in exc.errors(include_url=False):
            loc = [str(p) for p in err["loc"]]
            where = f"[{loc[0]}] {'.'.join(loc[1:])}" if len(loc) > 1 else (f"[{loc[0]}]" if loc else "")
            lines.append(f"{path}: {where.strip()}: {err['msg']}")
        raise SettingsError("\n".join(lines)) from None
