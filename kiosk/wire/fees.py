"""Fee notices (缴费, issue 18 item 2) on the wire, shared by the kiosk and the platform.

- the form of a notice number (缴款码): 20 digits, as a non-tax revenue notice prints it; how a typed or
  scanned text becomes one (`notice_number_in`);
- `FeeNoticeView`: what `GET /api/v1/kiosks/{kiosk_id}/fee-notices/{number}` answers a kiosk for a
  notice it may take payment for: the payer masked only, the items and the total in fen;
- `REFUSALS`: the stable codes of a notice the kiosk must not take payment for, each a refusal body
  (`{"error", "message", "details"}`) of its own, which the kiosk reads as a `FeeRefusal`;
- `FeePaymentAnswer`: what the platform says of a `payment` transaction that pays a notice
  (`POST /api/v1/kiosks/{kiosk_id}/fee-payments`);
- the e-receipt's token: the kiosk makes it, prints it in the receipt's QR code and sends only its
  SHA-256 (`receipt_token_sha256` in the `payment` data); the platform opens `GET /r/{token}` by it;
- `mask_payer`: how a payer is shown anywhere (`张*`, `示例*****有限公司`).
"""
from __future__ import annotations

import hashlib
import re
import secrets
from dataclasses import dataclass, field
from typing import Any, Literal
from uuid import UUID

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from kiosk.hardware.masking import mask_name
from kiosk.wire.numbers import INT64_MAX, json_int

NOTICE_NUMBER_SIZE = 20
NOTICE_NUMBER_PATTERN = r"^[0-9]{20}$"
NOTICE_NUMBER = re.compile(NOTICE_NUMBER_PATTERN)
# a run of exactly 20 digits inside a scanned text (a URL on the notice's QR code), [0-9] not \d
_NUMBER_IN_TEXT = re.compile(r"(?<![0-9])[0-9]{20}(?![0-9])")
_SEPARATORS = re.compile(r"[\s-]")

RECEIPT_TOKEN = re.compile(r"^[A-Za-z0-9_-]{22,64}$")
SHA256_HEX = r"^[0-9a-f]{64}$"

# why the platform refuses a notice (the `error` of the refusal), and the HTTP status it answers with
Refusal = Literal["notice_unknown", "notice_malformed", "notice_paid", "notice_expired", "notice_other_hall"]
REFUSALS: tuple[str, ...] = Refusal.__args__
# 404: there is no such notice (a number of the wrong form cannot name one); 409: there is, but not to pay here
REFUSAL_STATUS = {"notice_unknown": 404, "notice_malformed": 404, "notice_paid": 409, "notice_expired": 409,
                  "notice_other_hall": 409}

NoticeState = Literal["unpaid", "paid", "expired"]
# what became of a payment the platform was told of: applied to its notice, to be given back, or (the
# issuer could not be asked yet) received and applied later; refunded once the kiosk's refund arrived
PaymentStatus = Literal["received", "paid", "refund_due", "refunded"]
PAYMENT_STATUSES: tuple[str, ...] = PaymentStatus.__args__


def notice_number_in(text: str) -> str | None:
    """The notice number in what was typed or scanned: 20 digits, spaces and dashes ignored, or the one
    run of 20 digits in a longer scanned text (a link on the notice's QR code); None when there is none."""
    plain = _SEPARATORS.sub("", text.strip())
    if NOTICE_NUMBER.match(plain):
        return plain
    runs = _NUMBER_IN_TEXT.findall(text)
    return runs[0] if len(runs) == 1 else None


def new_receipt_token() -> str:
    """128 random bits, URL-safe: the key to one e-receipt page."""
    return secrets.token_urlsafe(16)


def receipt_token_digest(token: str) -> str:
    return hashlib.sha256(token.encode("ascii")).hexdigest()


def mask_payer(name: str, kind: str = "person") -> str:
    """A person as `张*` (DESIGN.md section 7); a company or body by its first two and last four
    characters (`示例*****有限公司`), so that staff and the payer recognise it and nobody else learns it."""
    v = name.strip()
    if kind == "person":
        return mask_name(v)
    if len(v) <= 4:
        return v[:1] + "*" * (len(v) - 1)
    keep_end = 4 if len(v) > 8 else 2
    return v[:2] + "*" * (len(v) - 2 - keep_end) + v[-keep_end:]


class FeeItem(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str = Field(min_length=1, max_length=100)
    amount_fen: json_int(ge=1, le=99_999_999)


class FeeNoticeView(BaseModel):
    """A notice a kiosk may take payment for. Read leniently by the kiosk (a newer platform may say more)."""

    model_config = ConfigDict(extra="ignore")
    number: str = Field(pattern=NOTICE_NUMBER_PATTERN)
    department: str = Field(description="the issuing department (执收单位)")
    hall: str = Field(description="the issuing hall's code: a fleet group of the kiosks that may take payment")
    hall_name: str
    payer_masked: str = Field(description="张* for a person, 示例*****有限公司 for a company; never the whole name")
    items: list[FeeItem] = Field(min_length=1)
    total_fen: json_int(ge=1, le=99_999_999)
    currency: Literal["CNY"] = "CNY"
    due_date: str = Field(description="YYYY-MM-DD, the last day it may be paid (the hall's local date)")
    state: NoticeState = "unpaid"
    receipt_base_url: str = Field(description="the e-receipt page's address without its token: "
                                              "https://host/r/ (the kiosk appends the token it made)")


class FeePaymentData(BaseModel):
    """The `data` of a `payment` transaction that pays a notice: the payment's usual fields and the notice's."""

    model_config = ConfigDict(extra="forbid")
    reference: str = Field(pattern=r"^[0-9A-Z]{10}$", description="the kiosk's sale reference")
    method: Literal["card", "code"]
    channel: Literal["card", "wechat_pay", "alipay"]
    amount_fen: json_int(ge=1, le=99_999_999)
    currency: Literal["CNY"]
    service: Literal["fees"]
    result: Literal["approved"]
    fee_notice: str = Field(pattern=NOTICE_NUMBER_PATTERN)
    receipt_token_sha256: str = Field(pattern=SHA256_HEX, description="SHA-256 of the e-receipt link's token")


class FeePaymentItem(BaseModel):
    """`POST /api/v1/kiosks/{kiosk_id}/fee-payments`: one transaction item as a batch carries it (kind payment)."""

    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)
    id: UUID
    seq: json_int(ge=1, le=INT64_MAX)
    kind: Literal["payment"]
    occurred_at: AwareDatetime
    data: FeePaymentData
    boot_id: str | None = None
    uptime_s: float | None = None


@dataclass(frozen=True)
class FeeRefusal:
    """Why a notice must not be paid at this kiosk: one of `REFUSALS` as the platform answered it (its
    `error`, `message` and `details`: `paid_on`, `due_date`, `hall_name`), or the kiosk's own reason, with
    the reference of an earlier sale to quote."""

    reason: str
    message: str = ""
    details: list[dict[str, Any]] = field(default_factory=list)
    reference: str | None = None


class FeePaymentAnswer(BaseModel):
    """What the platform made of a `payment` transaction that pays a notice."""

    model_config = ConfigDict(extra="ignore")
    reference: str
    fee_notice: str
    transaction: Literal["accepted", "duplicate"]
    status: PaymentStatus
    reason: str | None = Field(None, description="refund_due: why the notice was not paid by it "
                                                 "(notice_paid, notice_expired, notice_unknown, amount_differs, ...)")
