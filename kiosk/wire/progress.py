"""Case progress (办件进度) on the wire (issue 18; docs/services.md), shared by the kiosk and the platform.

- `CaseEventUpload`: what the approval system posts to `POST /api/v1/cases/{case_number}/events`, one step
  of a case done or under way, idempotent on its `event_id`;
- `CaseProgress`: how far a case is, as the platform answers a kiosk
  (`GET /api/v1/kiosks/{kiosk_id}/cases/{case_number}/progress`) and lists a holder's cases
  (`HolderCases`, `GET /api/v1/kiosks/{kiosk_id}/cases?holder=H`): the item, the department, the steps
  with their dates, the promised date and whether it was missed, the pickup loop's item and the materials
  handed in, and `next`, what the citizen does now;
- `NEXT_ACTIONS`: the values of `next.action`. The kiosk says each in its own language from the fields
  beside it; `next.text` is the platform's own Chinese sentence, for other clients and for an action the
  kiosk does not know yet.

The answers are read leniently (a newer platform may say more) and hold nothing personal: no ID number,
no name, no phone number (DESIGN.md section 7). The approval system's free text (a step, a department, a
note) is refused when it looks like it holds an ID number or a mobile number.
"""
from __future__ import annotations

import datetime as dt
import re
from typing import Annotated, Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, field_validator

from kiosk.hardware.masking import ID_NUMBER, MOBILE_NUMBER

EVENT_ID_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9._:-]{0,63}$"
HOLDER_PATTERN = r"^[0-9a-f]{64}$"
EVENT_STATUSES = ("done", "current")
# what the citizen does now (`next.action`):
#   wait                 the case is being handled: nothing to do but wait (and call when it is late)
#   wait_for_locker      the case is concluded; its item is not in a locker yet: the code comes by SMS
#   collect_from_locker  the item is in `door` of the locker at `kiosk_id` (`hall`, `place`) until `due_at`;
#                        the code went by SMS (`overdue`: past that date, the code still works)
#   collected            the item was collected (`at`): nothing more to do
#   go_to_window         staff took the item back from the locker (`at`): collect it at the hall's window
NEXT_ACTIONS = ("wait", "wait_for_locker", "collect_from_locker", "collected", "go_to_window")
HOLDER_CASES_MAX = 50
HOLDER_CASES_DEFAULT = 20


def personal_data_in(text: str) -> str | None:
    """'an ID number' or 'a mobile number' when free text from the approval system looks like it holds one."""
    if ID_NUMBER.search(text):
        return "an ID number"
    if MOBILE_NUMBER.search(re.sub(r"[\s-]", "", text)):
        return "a mobile number"
    return None


class CaseEventUpload(BaseModel):
    """One step of a case, as the approval system reports it. The same `event_id` again is a retry and
    changes nothing; another body under a stored id is refused (a new event needs a new id)."""

    model_config = ConfigDict(extra="forbid", strict=True)
    event_id: Annotated[str, Field(pattern=EVENT_ID_PATTERN, description="the approval system's own id of "
                                   "this event: 1-64 of letters, digits, '.', '_', ':', '-'")]
    step: Annotated[str, Field(min_length=1, max_length=40, description="the step's name as the citizen "
                               "reads it, e.g. 受理, 审查, 决定, 制证")]
    status: Literal["done", "current"] = Field(description="done: the step is finished (at `at`); current: the "
                                                           "case is at this step since `at`")
    at: AwareDatetime = Field(description="RFC 3339 with the hall's UTC offset, e.g. 2026-11-20T09:12:00+08:00")
    department: Annotated[str, Field(min_length=1, max_length=100)] | None = None
    note: Annotated[str, Field(max_length=200, description="a short public note for the citizen, e.g. "
                               "需现场勘验; never personal data")] | None = None
    final: bool = Field(False, description="this step concludes the case (办结): with status done, the case is "
                                           "finished and its promised date is met or missed then")

    @field_validator("step", "department", "note")
    @classmethod
    def _nothing_personal(cls, v: str | None) -> str | None:
        if v is not None:
            v = v.strip()
            found = personal_data_in(v)
            if found:
                raise ValueError(f"this looks like it holds {found}: progress is public to whoever has the "
                                 "case number, so it carries no personal data")
        return v


class _Lenient(BaseModel):
    # a platform newer than the kiosk may say more: ignored here
    model_config = ConfigDict(extra="ignore", frozen=True)


class ProgressStep(_Lenient):
    step: str
    status: str = Field(description="done | current")
    at: AwareDatetime = Field(description="when it was done, or since when the case is at it")
    department: str | None = None
    note: str | None = None


class LockerItem(_Lenient):
    """The case's latest item in a locker (the pickup loop, docs/pickup.md)."""

    state: str = Field(description="held | collected | recalled")
    kiosk_id: str
    door: int
    hall: str | None = None
    place: str = ""
    deposited_at: AwareDatetime
    due_at: AwareDatetime | None = None
    ended_at: AwareDatetime | None = None
    overdue: bool = Field(False, description="held past due_at, by the platform's clock")


class HandedIn(_Lenient):
    """Materials handed in for the case through a locker door (补交材料)."""

    handed_in_at: AwareDatetime
    state: str = Field(description="in_locker | collected (by the case's staff)")
    collected_at: AwareDatetime | None = None


class NextStep(_Lenient):
    action: str = Field(description=" | ".join(NEXT_ACTIONS))
    text: str = Field(description="the platform's sentence for the citizen, in Chinese")
    door: int | None = None
    kiosk_id: str | None = None
    hall: str | None = None
    place: str | None = None
    due_at: AwareDatetime | None = None
    overdue: bool = False
    needs_id_card: bool = Field(False, description="the item is handed over only with the holder's ID card")
    at: AwareDatetime | None = Field(None, description="collected or recalled at")


class CaseProgress(_Lenient):
    case_number: str
    item_name: str
    department: str | None = None
    accepted_at: AwareDatetime | None = None
    promised_by: dt.date | None = Field(None, description="the promised date (YYYY-MM-DD), in the hall's calendar")
    late: bool = Field(False, description="the promised date has passed before the case was finished, by the "
                                          "platform's clock")
    finished: bool = Field(False, description="concluded (a final step done) or its item reached a locker")
    finished_at: AwareDatetime | None = None
    current_step: str | None = None
    steps: list[ProgressStep] = Field(default_factory=list, description="in the order they were reached")
    locker: LockerItem | None = None
    handins: list[HandedIn] = Field(default_factory=list)
    next: NextStep


class HolderCases(_Lenient):
    cases: list[CaseProgress] = Field(description="the holder's cases, newest first")
    more: bool = Field(False, description="the holder has more cases than the limit")
