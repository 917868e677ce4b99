"""Payloads of the central platform's kiosk API (DESIGN.md section 5), shared by both sides."""
from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field

from kiosk.wire.numbers import INT64_MAX, json_int  # INT64_MAX: what an integer column stores

Kind = Literal["pickup", "deposit", "recall", "print", "payment", "refund", "rating", "alarm", "probe", "handin",
               "ticket", "form", "help"]
KINDS: tuple[str, ...] = Kind.__args__
MAX_BATCH = 500


class Model(BaseModel):
    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)


class TransactionItem(Model):
    id: UUID                                   # the idempotency key
    seq: json_int(ge=1, le=INT64_MAX)          # per-kiosk, monotonic
    kind: Kind
    occurred_at: datetime                      # RFC 3339, the kiosk's local clock
    data: dict[str, Any]
    # kiosk clocks drift: the boot and the uptime let the platform order events of one boot
    boot_id: str | None = None
    uptime_s: float | None = None


class TransactionBatch(Model):
    kiosk_id: Annotated[str, Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")]
    items: Annotated[list[TransactionItem], Field(max_length=MAX_BATCH)]


class ItemResult(Model):
    id: str
    status: Literal["accepted", "duplicate", "rejected"]
    reason: str | None = None


class BatchResult(Model):
    results: list[ItemResult]


class Heartbeat(Model):
    kiosk_id: str
    db_uuid: str | None = None
    sent_at: datetime
    software_version: str
    config_version: json_int(ge=0, le=INT64_MAX) | None = None
    queue_depth: json_int(ge=0, le=INT64_MAX)
    oldest_pending_age_s: float | None = None
    devices: list[dict[str, Any]] = []         # {"name","driver","state","detail"}
    alarms: list[dict[str, Any]] = []          # alarms raised and not yet cleared


class HeartbeatAck(Model):
    received_at: datetime
    config_version: int | None = None          # the newest bundle the platform holds for this kiosk


class ReleasedDocument(Model):
    id: str
    title: str
    pages: int
    released_at: datetime


class DocumentList(Model):
    documents: list[ReleasedDocument]


class ConfigStored(Model):
    version: int
    targets: list[str]
