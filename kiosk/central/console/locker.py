"""The locker page, `/console/locker`: what is in the kiosks' doors now and what someone must do about it.

For a hall manager's morning round: the items waiting for their applicants (`notices` held), the overdue
ones first, since those are to be recalled or chased; whether each applicant's text went out or why it
did not (`sms_queue`); and the materials citizens handed in that staff have not collected yet
(`handins`), the longest waiting first. Read from the tables the pickup loop keeps
(kiosk/central/pickup_intake.py, kiosk/central/sms_queue.py); nothing here changes them.

Scoped like every page: staff see the kiosks of their hall (`queries.hall_scope`), and no page shows a
phone number, masked or not, a holder hash, a pickup code or a page token: none of those columns is read,
and a failure's stored reason is cut of anything that looks like a phone number.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from fastapi import APIRouter, Request
from sqlalchemy import Connection, and_, bindparam, case, func, or_, select

from kiosk.central import schema as T
from kiosk.central.alarm_intake import moment
from kiosk.central.console import queries
from kiosk.central.console.accounts import Person
from kiosk.central.console.views import Signed, _db, page
from kiosk.hardware.masking import MOBILE_NUMBER

router = APIRouter(prefix="/console", include_in_schema=False)

SHOWN = 500   # rows of each table; the counts on top are of all
TEMPLATES = ("pickup_ready", "pickup_reminder", "pickup_overdue")   # an applicant's texts about a held item
# a number a gateway echoed back, as the notifier masks it (`139****0001`): kept off the page all the same
MASKED_PHONE = re.compile(r"(?:\+?86)?1[3-9][0-9]\*{4}[0-9]{4}")


@dataclass(frozen=True)
class Message:
    """One text to an applicant about a held item, as the queue has it."""

    template: str
    state: str          # sms_queue.STATES
    attempts: int
    reason: str | None

    @property
    def failing(self) -> bool:
        """Dead, or pending again after a failed attempt: the applicant may not know their item is there."""
        return self.state == "dead" or (self.state == "pending" and self.attempts > 0)


@dataclass
class HeldItem:
    deposit_id: str
    kiosk_id: str
    hall_name: str | None
    door: int
    case_number: str
    item_name: str | None
    deposited_at: float
    due_at: float | None
    overdue: bool
    messages: list[Message] = field(default_factory=list)


@dataclass(frozen=True)
class Handin:
    kiosk_id: str
    hall_name: str | None
    door: int
    case_number: str
    handed_in_at: float
    waited_s: float


@dataclass(frozen=True)
class Counts:
    held: int
    overdue: int
    failing: int
    handins: int


def _scope(person: Person, hall: str | None, kiosk_col) -> list:
    scope = queries.hall_scope(person, kiosk_col, hall)
    return [] if scope is None else [scope]


def _failing(q):
    """`Message.failing` in SQL."""
    return or_(q.c.state == "dead", and_(q.c.state == "pending", q.c.attempts > 0))


def counts(conn: Connection, person: Person, now: float, hall: str | None = None) -> Counts:
    """The numbers on top of the page, in one round trip."""
    n, q, h = T.notices, T.sms_queue, T.handins
    held = [n.c.state == "held", *_scope(person, hall, n.c.kiosk_id)]
    failing = (select(func.count()).select_from(q.join(n, n.c.deposit_id == q.c.transaction_id))
               .where(*held, q.c.template.in_(TEMPLATES), _failing(q)))
    row = conn.execute(select(
        select(func.count()).select_from(n).where(*held).scalar_subquery().label("held"),
        select(func.count()).select_from(n).where(*held, n.c.due_at < now).scalar_subquery().label("overdue"),
        failing.scalar_subquery().label("failing"),
        select(func.count()).select_from(h).where(h.c.state == "in_locker", *_scope(person, hall, h.c.kiosk_id))
        .scalar_subquery().label("handins"))).one()
    return Counts(row.held, row.overdue, row.failing, row.handins)


def held_items(conn: Connection, person: Person, now: float, hall: str | None = None) -> list[HeldItem]:
    """The items held now, overdue ones first, then by hall, kiosk and door, each with its texts."""
    n, hk, h = T.notices, T.hall_kiosks, T.halls
    overdue = and_(n.c.due_at.is_not(None), n.c.due_at < now)
    stmt = (select(n.c.deposit_id, n.c.kiosk_id, h.c.name.label("hall_name"), n.c.door, n.c.case_number,
                   n.c.item_name, n.c.deposited_at, n.c.due_at)
            .select_from(n.outerjoin(hk, hk.c.kiosk_id == n.c.kiosk_id).outerjoin(h, h.c.hall == hk.c.hall))
            .where(n.c.state == "held", *_scope(person, hall, n.c.kiosk_id))
            .order_by(case((overdue, 0), else_=1), hk.c.hall.nulls_last(), n.c.kiosk_id, n.c.door, n.c.deposited_at)
            .limit(SHOWN))
    items = [HeldItem(**r, overdue=r["due_at"] is not None and r["due_at"] < now)
             for r in conn.execute(stmt).mappings()]
    by_deposit = {i.deposit_id: i for i in items}
    for deposit_id, message in _messages(conn, list(by_deposit)):
        by_deposit[deposit_id].messages.append(message)
    return items


def _messages(conn: Connection, deposit_ids: list[str]) -> list[tuple[str, Message]]:
    """The texts about these deposits, in the order they go out (first notice, reminder, overdue)."""
    if not deposit_ids:
        return []
    q = T.sms_queue
    order = case({t: i for i, t in enumerate(TEMPLATES)}, value=q.c.template)
    rows = conn.execute(select(q.c.transaction_id, q.c.template, q.c.state, q.c.attempts, q.c.last_error)
                        .where(q.c.transaction_id.in_(bindparam("ids", expanding=True)), q.c.template.in_(TEMPLATES))
                        .order_by(q.c.transaction_id, order), {"ids": deposit_ids})
    return [(r.transaction_id, Message(r.template, r.state, r.attempts, shown_reason(r.last_error))) for r in rows]


def shown_reason(reason: str | None) -> str | None:
    """A stored failure reason as the page may show it: the notifier keeps numbers out of it, masked at
    most, and the page shows not even a masked one."""
    if not reason:
        return None
    return MOBILE_NUMBER.sub("…", MASKED_PHONE.sub("…", reason))


def waiting_handins(conn: Connection, person: Person, now: float, hall: str | None = None) -> list[Handin]:
    """Materials handed in and not collected by staff yet, the longest waiting first."""
    hi, hk, h = T.handins, T.hall_kiosks, T.halls
    rows = conn.execute(
        select(hi.c.kiosk_id, h.c.name.label("hall_name"), hi.c.door, hi.c.case_number, hi.c.handed_in_at)
        .select_from(hi.outerjoin(hk, hk.c.kiosk_id == hi.c.kiosk_id).outerjoin(h, h.c.hall == hk.c.hall))
        .where(hi.c.state == "in_locker", *_scope(person, hall, hi.c.kiosk_id))
        .order_by(hi.c.handed_in_at).limit(SHOWN)).mappings()
    found = []
    for r in rows:
        at = moment(r["handed_in_at"], now)   # the kiosk's RFC 3339 text
        found.append(Handin(r["kiosk_id"], r["hall_name"], r["door"], r["case_number"], at, max(0.0, now - at)))
    # by the moment each names: the texts' order is not that when kiosks write different offsets
    return sorted(found, key=lambda x: x.handed_in_at)


@router.get("/locker")
def locker_page(request: Request, session: Signed, hall: str | None = None):
    person = session.person
    hall = (hall or None) if person.sees_all_halls else person.hall
    db = _db(request)
    with db.reading() as conn:
        now = db.clock()
        top, held = counts(conn, person, now, hall), held_items(conn, person, now, hall)
        handins, halls = waiting_handins(conn, person, now, hall), queries.halls(conn, person)
    return page(request, session, "locker.html", counts=top, held=held, handins=handins, halls=halls,
                hall=hall or "")
