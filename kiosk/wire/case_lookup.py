"""A case as the platform tells a kiosk about it during a deposit, part of the wire.

`GET /api/v1/kiosks/{kiosk_id}/cases/{case_number}` answers 200 with a `KioskCase`, or 404
(`{"error": "not_found", ...}`) for a case the platform does not know. The kiosk reads what it
needs and ignores fields it does not know yet (the platform may add some). No personal data in
the clear: the holder as the keyed hash of the ID number, the mobile number masked
(`138****1234`); a number that comes unmasked is masked here, so the kiosk never shows one whole.
"""
from __future__ import annotations

import re
from typing import Annotated

from pydantic import AfterValidator, BaseModel, ConfigDict, Field

# the platform's states of a case that mean its item has already left a locker
ENDED_STATES = ("collected", "recalled")


def _masked_phone(value: str | None) -> str | None:
    """`138****1234`; an unmasked number (a platform's mistake) keeps its first 3 and last 4 digits."""
    if value is None:
        return None
    digits = re.sub(r"[\s-]", "", value)
    if re.fullmatch(r"\+?[0-9]{7,15}", digits):
        return digits[:3] + "****" + digits[-4:]
    return value


class KioskCase(BaseModel):
    model_config = ConfigDict(extra="ignore", strict=True, allow_inf_nan=False, frozen=True)

    case_number: Annotated[str, Field(min_length=1, max_length=40)]
    item_name: Annotated[str, Field(min_length=1, max_length=120)]
    needs_id_card: bool
    hold_days: Annotated[int, Field(ge=1, le=365)] | None = None       # None: the kiosk's [pickup] hold_days
    holder_hash: Annotated[str, Field(pattern=r"^[0-9a-f]{64}$")] | None = None
    phone_masked: Annotated[Annotated[str, Field(max_length=32), AfterValidator(_masked_phone)] | None,
                            Field(default=None)]
    # awaiting_deposit | held | collected | recalled, of the case's latest item; any other is taken as it comes
    state: str = ""
    # (the platform also says how often materials were handed in, `handins`: not needed for a deposit)

    @property
    def ended(self) -> str | None:
        """'collected' or 'recalled' when the platform says the case's item has left a locker already."""
        return self.state if self.state in ENDED_STATES else None
