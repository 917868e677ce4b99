"""Cases from the approval system: the posted case checked and stored, and what kiosks and operators read.

The approval system posts a finished case (`POST /api/v1/cases`, `CaseUpload`). The ID number is checked
(GB 11643 check digit) and turned into the deployment's keyed holder hash at once: it is never stored. The
mobile numbers are stored sealed (kiosk/central/sealing.py) in the `cases` table only, and shown masked
(`138****1234`). Posting the same case again changes nothing; a changed case (a corrected phone number) is
updated while its item is not collected or recalled, and a corrected number gets the notice of an item
still held again; after that the case is closed.

A case's state is that of its latest item in a locker (table `notices`, kiosk/central/pickup_intake.py),
`awaiting_deposit` before the first deposit. `delete_expired_phones` deletes the applicant's number a
retention time after the case's items are all collected or recalled; the notifier runs it.
"""
from __future__ import annotations

import json
import re
from datetime import date
from typing import TYPE_CHECKING, Annotated, Any, Callable

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, field_validator
from sqlalchemy import Connection, text
from stdnum.cn import ric

from kiosk.central import sms_queue
from kiosk.central.sealing import SecretSeal
from kiosk.central.sms import mask_phone
from kiosk.hardware.masking import ID_NUMBER, normalise_id_number
from kiosk.wire.cases import CASE_NUMBER_PATTERN, normalise_case_number
from kiosk.wire.hashing import holder_hash, keyed_hash
from kiosk.wire.numbers import json_int

if TYPE_CHECKING:
    from kiosk.central.db import CentralDB

MOBILE_PATTERN = r"^(\+?86)?1[3-9][0-9]{9}$"
MOBILE = re.compile(MOBILE_PATTERN)
CLOSED = ("collected", "recalled")
LIST_STATES = ("awaiting_deposit", "held", "overdue", "collected", "recalled")
ID_FORMS = r"^(?:[0-9]{17}[0-9Xx]|[0-9]{15}|[A-Z]{3}[0-9]{12})$"


class CaseClosed(Exception):
    """The case's item was collected or recalled: the case can no longer change."""


class NoHashKey(Exception):
    """The platform was started without the deployment's holder hash key: it cannot take a case."""


def normalise_mobile(value: str) -> str:
    """11 digits: a +86 or 86 in front is dropped."""
    digits = value.strip()
    return digits[-11:] if digits.startswith(("+86", "86")) and len(digits) > 11 else digits


class CaseUpload(BaseModel):
    """A finished case, as the approval system posts it. Neither the ID number nor the mobile numbers are
    ever answered back, logged or stored in clear."""

    model_config = ConfigDict(extra="forbid", strict=True)
    case_number: Annotated[str, Field(pattern=CASE_NUMBER_PATTERN, description="4-40 letters, digits or '-'; "
                                      "matched whatever its case; never an ID number")]
    item_name: Annotated[str, Field(min_length=1, max_length=100, description="what goes into the locker, "
                                                                              "e.g. 营业执照（副本）")]
    applicant_id_number: Annotated[str, Field(pattern=ID_FORMS, description="the applicant's ID number; an "
                                              "18-character one must pass the GB 11643 check digit. Stored only "
                                              "as the deployment's keyed hash")]
    applicant_mobile: Annotated[str, Field(pattern=MOBILE_PATTERN, description="a mainland mobile number, "
                                           "11 digits, +86 allowed; shown only masked (138****1234)")]
    needs_id_card: bool = Field(description="the pickup asks for the applicant's ID card at the kiosk")
    hold_days: json_int(ge=1, le=90)
    staff_mobile: Annotated[str, Field(pattern=MOBILE_PATTERN, description="the case's staff, told when "
                                       "materials are handed in for it")] | None = None
    department: Annotated[str, Field(min_length=1, max_length=100)] | None = None
    # for the case's progress (kiosk/central/progress.py): both optional, and a case posted without them
    # is stored and answered as before
    promised_by: date | None = Field(None, description="the promised date of completion (承诺办结日期), "
                                     "YYYY-MM-DD in the hall's calendar")
    accepted_at: AwareDatetime | None = Field(None, description="when the case was accepted (受理), RFC 3339 "
                                              "with the hall's UTC offset")

    @field_validator("case_number")
    @classmethod
    def _not_an_id_number(cls, v: str) -> str:
        if ID_NUMBER.fullmatch(v.strip()):
            raise ValueError("this looks like an ID number, not a case number")
        return normalise_case_number(v)

    @field_validator("applicant_id_number")
    @classmethod
    def _valid_id_number(cls, v: str) -> str:
        v = normalise_id_number(v)
        if len(v) == 18 and not ric.is_valid(v):
            raise ValueError("not a valid ID number (GB 11643 check digit or birth date)")
        return v


class CaseView(BaseModel):
    """A case as operators see it: masked."""

    case_number: str
    item_name: str
    needs_id_card: bool
    hold_days: int
    holder_hash: str
    phone_masked: str | None = Field(description="138****1234; null once the number is deleted")
    staff_phone_masked: str | None
    department: str | None
    state: str = Field(description="of its latest item: awaiting_deposit | held | collected | recalled")


class CaseStored(CaseView):
    """The answer to a posted case: what the platform holds now."""

    status: str = Field(description="created | updated | unchanged")


# the state of a case's latest item, from its row `c`: one indexed look-up (notices_by_case)
ITEM_STATE = ("coalesce((SELECT n.state FROM notices n WHERE n.case_number = c.case_number"
              " ORDER BY n.deposited_at DESC, n.deposit_id DESC LIMIT 1), 'awaiting_deposit')")


def _for_update(conn: Connection) -> str:
    """` FOR UPDATE` on PostgreSQL, where workers write side by side; SQLite has one writer at a time."""
    return " FOR UPDATE" if conn.dialect.name == "postgresql" else ""


class CaseBook:
    """The cases of the platform's database (`CentralDB`: one transaction per change, `db.begin()`), with the
    deployment's hash key and the platform's seal."""

    def __init__(self, db: CentralDB, seal: SecretSeal | None = None, hash_key: str | None = None,
                 clock: Callable[[], float] | None = None):
        self.db, self.hash_key = db, hash_key
        self.seal = seal if seal is not None else db.seal
        self.clock = clock if clock is not None else db.clock

    def post(self, upload: CaseUpload, operator: str) -> dict[str, Any]:
        """Store a case: `status` created, updated or unchanged. CaseClosed when it differs from the stored
        one and its item was already collected or recalled. The case's row is locked while it changes (two
        posts of one case at once, on two workers, are one after the other)."""
        if not self.hash_key:
            raise NoHashKey("the platform has no holder hash key: start it with --hash-key or $KIOSK_HASH_KEY "
                            "(the kiosks' [privacy] hash_key); cases cannot be taken until then")
        case = upload.case_number
        holder = holder_hash(self.hash_key, upload.applicant_id_number)
        phone = normalise_mobile(upload.applicant_mobile)
        staff = normalise_mobile(upload.staff_mobile) if upload.staff_mobile else None
        fields = {"item_name": upload.item_name, "holder_hash": holder, "needs_id_card": int(upload.needs_id_card),
                  "hold_days": upload.hold_days, "department": upload.department}
        # the progress's fields count only when given: a case posted as before hashes as before (unchanged)
        progress = {k: v for k, v in (("promised_by", upload.promised_by and upload.promised_by.isoformat()),
                                      ("accepted_at", upload.accepted_at and upload.accepted_at.timestamp()))
                    if v is not None}
        canonical = json.dumps({**fields, **progress, "case_number": case, "phone": phone, "staff": staff},
                               sort_keys=True)
        fields.update(progress)   # not given: what is stored stays (a case posted again the pickup loop's way)
        body_hash = keyed_hash(self.hash_key, canonical, "case")
        now = self.clock()
        sealed = {"phone": self.seal.seal(phone, f"case:{case}:phone"), "phone_masked": mask_phone(phone),
                  "staff_mobile": self.seal.seal(staff, f"case:{case}:staff") if staff else None,
                  "body_hash": body_hash, "updated_at": now, "phone_deleted_at": None}
        with self.db.begin() as conn:
            def stored():
                return conn.execute(text(f"SELECT c.body_hash, {ITEM_STATE} AS state FROM cases c"
                                         f" WHERE c.case_number = :case{_for_update(conn)}"),
                                    {"case": case}).mappings().first()
            old = stored()
            status = None
            if old is None:
                cols = {"case_number": case, **fields, **sealed, "posted_by": operator, "created_at": now}
                created = conn.execute(text(
                    f"INSERT INTO cases ({', '.join(cols)}) VALUES ({', '.join(':' + k for k in cols)})"
                    " ON CONFLICT (case_number) DO NOTHING RETURNING case_number"), cols).first()
                if created is not None:
                    status = "created"
                else:   # posted by another worker a moment ago: this post is a second post of the case
                    old = stored()
            if status is None:
                if old["body_hash"] == body_hash:
                    status = "unchanged"
                elif old["state"] in CLOSED:
                    raise CaseClosed(f"case {case}: its item was {old['state']}; a closed case does not change")
                else:
                    before = self._phone_of(conn, case)
                    cols = {**fields, **sealed, "posted_by": operator}
                    conn.execute(text(f"UPDATE cases SET {', '.join(f'{k} = :{k}' for k in cols)}"
                                      " WHERE case_number = :case_number"), {**cols, "case_number": case})
                    if before is not None and before != phone:
                        sms_queue.send_again(conn, case, now)
                    status = "updated"
            if status != "unchanged":
                sms_queue.release_waiting(conn, case, now)
                if upload.accepted_at is not None:   # the hall's clock, until an event says otherwise
                    offset = upload.accepted_at.utcoffset()
                    conn.execute(text("UPDATE cases SET utc_offset_s = coalesce(utc_offset_s, :offset)"
                                      " WHERE case_number = :case"),
                                 {"offset": int(offset.total_seconds()) if offset is not None else 0, "case": case})
        view = self.for_operator(case)
        return {"case_number": case, "status": status, **{k: view[k] for k in (
            "item_name", "needs_id_card", "hold_days", "holder_hash", "phone_masked", "staff_phone_masked",
            "department", "state")}}

    def for_kiosk(self, case_number: str) -> dict[str, Any] | None:
        """`CaseInfo` (kiosk.wire.cases) of a case, in one query; None when the platform does not know it."""
        with self.db.reading() as conn:
            row = conn.execute(text(
                f"SELECT c.case_number, c.item_name, c.needs_id_card, c.hold_days, c.holder_hash, c.phone_masked,"
                f" {ITEM_STATE} AS state,"
                f" (SELECT count(*) FROM handins h WHERE h.case_number = c.case_number) AS handins"
                f" FROM cases c WHERE c.case_number = :case"),
                {"case": normalise_case_number(case_number)}).mappings().first()
        if row is None:
            return None
        return {**dict(row), "needs_id_card": bool(row["needs_id_card"])}

    def for_operator(self, case_number: str) -> dict[str, Any] | None:
        """A case with its items, handed-in materials and messages: masked, for operators."""
        case = normalise_case_number(case_number)
        with self.db.reading() as conn:
            row = conn.execute(text(
                f"SELECT c.case_number, c.item_name, c.needs_id_card, c.hold_days, c.holder_hash, c.phone_masked,"
                f" c.staff_mobile, c.department, c.promised_by, c.posted_by, c.created_at, c.updated_at,"
                f" c.phone_deleted_at,"
                f" {ITEM_STATE} AS state FROM cases c WHERE c.case_number = :case"), {"case": case}).mappings().first()
            if row is None:
                return None
            doc = dict(row)
            doc["items"] = [dict(r) for r in conn.execute(text(
                "SELECT deposit_id, kiosk_id, door, hall, place, state, deposited_at, due_at, ended_at FROM notices"
                " WHERE case_number = :case ORDER BY deposited_at, deposit_id"), {"case": case}).mappings()]
            doc["handins"] = [dict(r) for r in conn.execute(text(
                "SELECT handin_id, kiosk_id, door, handed_in_at, receipt_no, state, collected_at FROM handins"
                " WHERE case_number = :case ORDER BY handed_in_at, handin_id"), {"case": case}).mappings()]
            doc["messages"] = [dict(r) for r in conn.execute(text(
                "SELECT id, transaction_id, template, state, attempts, last_error, phone_masked, sent_at FROM"
                " sms_queue WHERE case_number = :case ORDER BY created_at, template, id"), {"case": case}).mappings()]
        staff = doc.pop("staff_mobile")
        doc["staff_phone_masked"] = mask_phone(self.seal.unseal(staff, f"case:{case}:staff")) if staff else None
        doc["needs_id_card"] = bool(doc["needs_id_card"])
        return doc

    def listing(self, state: str, now: float, kiosk_id: str | None = None, limit: int = 500) -> list[dict[str, Any]]:
        """Items by state, for operators; `overdue`: held past the deadline; `awaiting_deposit`: cases
        without an item in a locker yet. Oldest deadline (or case) first; an item without a deadline first."""
        if state == "awaiting_deposit":
            with self.db.reading() as conn:
                rows = conn.execute(text(
                    "SELECT c.case_number, c.item_name, 'awaiting_deposit' AS state, c.phone_masked, c.hold_days,"
                    " c.created_at FROM cases c WHERE NOT EXISTS (SELECT 1 FROM notices n"
                    " WHERE n.case_number = c.case_number) ORDER BY c.created_at, c.case_number LIMIT :limit"),
                    {"limit": limit}).mappings().all()
            return [dict(r) for r in rows]
        where, params = (("n.state = 'held' AND n.due_at <= :now", {"now": now}) if state == "overdue"
                         else ("n.state = :state", {"state": state}))
        if kiosk_id is not None:
            where += " AND n.kiosk_id = :kiosk"
            params["kiosk"] = kiosk_id
        with self.db.reading() as conn:
            rows = conn.execute(text(
                "SELECT n.case_number, coalesce(c.item_name, n.item_name) AS item_name, n.state, n.kiosk_id, n.door,"
                " n.hall, n.place, n.deposited_at, n.due_at, n.ended_at, c.phone_masked, c.case_number IS NOT NULL"
                f" AS case_known FROM notices n LEFT JOIN cases c ON c.case_number = n.case_number WHERE {where}"
                " ORDER BY n.due_at NULLS FIRST, n.deposited_at, n.deposit_id LIMIT :limit"),
                {**params, "limit": limit}).mappings().all()
        return [{**dict(r), "case_known": bool(r["case_known"])} for r in rows]

    def delete_expired_phones(self, now: float, retention_s: float) -> list[str]:
        """Delete the applicant's number (and its mask, and the hash that held it) of every case whose items
        were all collected or recalled at least `retention_s` ago. Returns the cases. One `UPDATE`: a case
        is judged and its number deleted in the same statement."""
        with self.db.begin() as conn:
            cases = conn.execute(text(
                "UPDATE cases SET phone = NULL, phone_masked = NULL, body_hash = NULL, phone_deleted_at = :now,"
                " updated_at = :now WHERE phone IS NOT NULL"
                " AND NOT EXISTS (SELECT 1 FROM notices n WHERE n.case_number = cases.case_number"
                " AND n.state = 'held')"
                " AND (SELECT max(n.ended_at) FROM notices n WHERE n.case_number = cases.case_number) <= :before"
                " RETURNING case_number"), {"now": now, "before": now - retention_s}).scalars().all()
        return sorted(cases)

    def phone_of(self, case_number: str, staff: bool = False, *, conn: Connection | None = None) -> str | None:
        """The applicant's (or the staff's) number in clear, for the notifier only (on `conn` when given)."""
        if conn is not None:
            return self._phone_of(conn, case_number, staff)
        with self.db.reading() as conn:
            return self._phone_of(conn, case_number, staff)

    def _phone_of(self, conn: Connection, case_number: str, staff: bool = False) -> str | None:
        col = "staff_mobile" if staff else "phone"
        sealed = conn.execute(text(f"SELECT {col} FROM cases WHERE case_number = :case"),
                              {"case": case_number}).scalar()
        if sealed is None:
            return None
        return self.seal.unseal(sealed, f"case:{case_number}:{'staff' if staff else 'phone'}")
