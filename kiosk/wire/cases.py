"""Cases and the pickup loop on the wire (issue 17; docs/pickup.md), shared by the kiosk and the platform.

- the form of a case number, and its normal form (upper case, as the kiosk stores it);
- `CaseInfo`: what `GET /api/v1/kiosks/{kiosk_id}/cases/{case_number}` answers a kiosk, and
  `KioskCase`, how a kiosk reads that answer: leniently (a newer platform may say more), and never
  showing a mobile number whole;
- `DepositData` and `HandinData`: the `data` of a `deposit` and a `handin` transaction as the
  platform's notifier reads them. The platform stores every transaction as it came; these models are
  read leniently (unknown fields are kept and ignored), and a deposit that does not fit them gets a
  notice that fails with the reason, instead of being refused;
- `PICKUP_QR_PREFIX`: what the pickup page's QR code holds before the code. The kiosk's scanner
  driver keeps its own copy (kiosk/hardware/ imports nothing else of kiosk/).
"""
from __future__ import annotations

import re
from typing import Annotated, Literal

from pydantic import AfterValidator, AwareDatetime, BaseModel, ConfigDict, Field

from kiosk.hardware.masking import mask_phone
from kiosk.wire.numbers import json_int

CASE_NUMBER_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9-]{3,39}$"
CASE_NUMBER = re.compile(CASE_NUMBER_PATTERN)
PICKUP_QR_PREFIX = "KIOSK-PICKUP:"

CaseState = Literal["awaiting_deposit", "held", "collected", "recalled"]
ENDED_STATES = ("collected", "recalled")   # the case's item has left a locker already
Template = Literal["pickup_ready", "pickup_reminder", "pickup_overdue", "handin_received"]
TEMPLATES: tuple[str, ...] = Template.__args__


def normalise_case_number(value: str) -> str:
    """Case numbers match whatever their case: the kiosk and the platform keep them in upper case."""
    return value.strip().upper()


class CaseInfo(BaseModel):
    """A case as a kiosk sees it while depositing its item (no personal data but the masked phone)."""

    model_config = ConfigDict(extra="forbid")
    case_number: str
    item_name: str
    needs_id_card: bool
    hold_days: int
    holder_hash: str = Field(description="the keyed hash of the applicant's ID number (DESIGN.md section 7)")
    phone_masked: str | None = Field(description="138****1234; null once the number is deleted")
    state: CaseState = Field(description="of the case's latest item: awaiting_deposit until a deposit arrives, "
                                         "then held, collected or recalled")
    handins: int = Field(description="how many times materials were handed in for this case through a locker")


def _masked_phone(value: str | None) -> str | None:
    """`138****1234` as the platform sends it; a number that comes whole (a platform's mistake) is masked."""
    if value is not None and re.fullmatch(r"\+?[0-9]{7,15}", re.sub(r"[\s-]", "", value)):
        return mask_phone(re.sub(r"[\s-]", "", value))
    return value


class KioskCase(CaseInfo):
    """`CaseInfo` as a kiosk reads it during a deposit: fields it does not know are ignored (a platform
    newer than the kiosk may say more), a state it does not know is taken as it comes, and a hold time
    or holder the platform leaves out falls back to the kiosk's own rules (a deployment's own
    platform may not have them)."""

    model_config = ConfigDict(extra="ignore", strict=True, frozen=True)
    case_number: Annotated[str, Field(min_length=1, max_length=40)]
    item_name: Annotated[str, Field(min_length=1, max_length=120)]
    hold_days: Annotated[int, Field(ge=1, le=365)] | None = None       # None: the kiosk's [pickup] hold_days
    holder_hash: Annotated[str, Field(pattern=r"^[0-9a-f]{64}$")] | None = None
    phone_masked: Annotated[Annotated[str, Field(max_length=32), AfterValidator(_masked_phone)] | None,
                            Field(default=None)]
    state: str = ""
    handins: int = 0

    @property
    def ended(self) -> str | None:
        """'collected' or 'recalled' when the platform says the case's item has left a locker already."""
        return self.state if self.state in ENDED_STATES else None


class _Lenient(BaseModel):
    # a kiosk newer than the platform may send more: kept in the stored transaction, ignored here
    model_config = ConfigDict(extra="ignore", strict=True)


class DepositData(_Lenient):
    """The `data` of a `deposit` transaction. The first four fields are what every kiosk sends; the rest
    came with the applicant's notice, and only a deposit that has them gets one."""

    case_number: Annotated[str, Field(min_length=1, max_length=64)]
    door: json_int(ge=1, le=10_000)
    code_hash: Annotated[str, Field(pattern=r"^[0-9a-f]{64}$")]
    holder_hash: str | None = None
    # the pickup code sealed to the notifier (kiosk/wire/sealed.py), opened with
    # sealed.binding(the transaction's kiosk_id, case_number, code_hash); null: the kiosk has no notice key
    sealed_code: str | None = None
    deposited_at: AwareDatetime | None = None
    due_at: AwareDatetime | None = None
    hall: Annotated[str, Field(max_length=200)] | None = None
    place: Annotated[str, Field(max_length=200)] = ""
    item_name: Annotated[str, Field(max_length=200)] | None = None


class HandinData(_Lenient):
    """The `data` of a `handin` transaction: materials a citizen put into a locker door for a case."""

    case_number: Annotated[str, Field(min_length=1, max_length=64)]
    door: json_int(ge=1, le=10_000)
    handed_in_at: AwareDatetime
    receipt_no: Annotated[str, Field(min_length=1, max_length=64)]
    hall: Annotated[str, Field(max_length=200)] | None = None   # the hall's name, as a deposit gives it
