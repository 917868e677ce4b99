"""The activity page, `/console/activity`: how much the kiosks served, by day, kind, service, kiosk and hour.

For whoever plans a hall's kiosks and staff: is use growing, what do citizens come for, which kiosks
carry the hall and which stand idle, and when the hall is busiest. The last 7, 30 or 90 days, for every
hall the reader sees or one of them (staff: always their own).

Read from the counts kept as transactions are stored (kiosk/central/activity_intake.py), never from the
transactions themselves: the days, kinds and services from `activity_halls` (counted in the hall the kiosk
stood in as each transaction arrived, like the busy hours of `activity_hourly`), the busiest kiosks from
`activity_kiosks` (the kiosks of the hall as they stand now): a few thousand rows where it would be
millions of transactions. What a kiosk reports on itself (alarms, probes) serves no one and is left out.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from fastapi import APIRouter, Request
from sqlalchemy import Connection, func, select

from kiosk.central import schema as T
from kiosk.central.activity_intake import MACHINE_KINDS
from kiosk.central.console import queries
from kiosk.central.console.accounts import Person
from kiosk.central.console.views import DISPLAY_TZ, Signed, _db, page
from kiosk.wire.queues import hall_zone

router = APIRouter(prefix="/console", include_in_schema=False)

PERIODS = (7, 30, 90)
DEFAULT_PERIOD = 30
TOP_KIOSKS = 20


@dataclass
class KindCount:
    kind: str
    n: int = 0
    services: list[tuple[str, int]] = field(default_factory=list)   # most used first; '' names no service


@dataclass
class Activity:
    days: list[tuple[date, int]]        # every day of the period, oldest first, with its transactions
    kinds: list[KindCount]              # the busiest kind first
    kiosks: list[dict[str, Any]]        # the busiest TOP_KIOSKS: kiosk_id, hall_name, n
    kiosks_active: int                  # kiosks with any transaction in the period
    hours: list[int]                    # transactions per hour of the day (0-23), summed over the period

    @property
    def total(self) -> int:
        return sum(n for _day, n in self.days)

    @property
    def peak_day(self) -> int:
        return max(n for _day, n in self.days)

    @property
    def busiest_hour(self) -> int | None:
        return max(range(24), key=lambda h: self.hours[h]) if any(self.hours) else None


def period(value: str) -> int:
    """The period asked for in the address, or the default for anything else (no error page for a typo)."""
    return next((p for p in PERIODS if value == str(p)), DEFAULT_PERIOD)


def today(conn: Connection, hall: str | None, now: float) -> date:
    """Today on the clock of the hall shown, or China's when several are."""
    offset = conn.execute(select(T.halls.c.utc_offset).where(T.halls.c.hall == hall)).scalar() if hall else None
    return datetime.fromtimestamp(now, hall_zone(offset) if offset else DISPLAY_TZ).date()


def activity(conn: Connection, person: Person, last: date, days: int, hall: str | None = None) -> Activity:
    """The `days` days up to `last`, for the kiosks the person sees (of `hall`, when one is picked)."""
    shown_days = [last - timedelta(days=i) for i in range(days - 1, -1, -1)]
    # the days one by one, not as a range: PostgreSQL then reads a hall's rows through the primary key
    # (day, kiosk_id, …) day by day and kiosk by kiosk, where a range reads the rows of every kiosk
    named = [day.isoformat() for day in shown_days]
    d = T.activity_halls
    served = [d.c.day.in_(named), d.c.kind.not_in(MACHINE_KINDS)]
    shown = hall if person.sees_all_halls else person.hall
    if shown:
        served.append(d.c.hall == shown)
    per_day: dict[str, int] = {}
    kinds: dict[str, KindCount] = {}
    for r in conn.execute(select(d.c.day, d.c.kind, d.c.service, func.sum(d.c.n).label("n"))
                          .where(*served).group_by(d.c.day, d.c.kind, d.c.service)):
        n = int(r.n)   # PostgreSQL sums a bigint as numeric
        per_day[r.day] = per_day.get(r.day, 0) + n
        kind = kinds.setdefault(r.kind, KindCount(r.kind))
        kind.n += n
        kind.services.append((r.service, n))
    for kind in kinds.values():
        kind.services = _merged(kind.services)
    kiosks, active = _busiest_kiosks(conn, person, named, hall)
    return Activity(
        days=[(day, per_day.get(day.isoformat(), 0)) for day in shown_days],
        kinds=sorted(kinds.values(), key=lambda k: (-k.n, k.kind)), kiosks=kiosks, kiosks_active=active,
        hours=_hours(conn, person, named, hall))


def _merged(counts: list[tuple[str, int]]) -> list[tuple[str, int]]:
    """Per-day counts of one kind summed per service, the most used first."""
    total: dict[str, int] = {}
    for service, n in counts:
        total[service] = total.get(service, 0) + n
    return sorted(total.items(), key=lambda s: (-s[1], s[0]))


def _busiest_kiosks(conn: Connection, person: Person, days: list[str],
                    hall: str | None) -> tuple[list[dict[str, Any]], int]:
    """The TOP_KIOSKS kiosks that served the most people, and how many served any (counted with them, in one
    query); the kiosks of the hall (or that the person sees) as they stand now."""
    d, hk, h = T.activity_kiosks, T.hall_kiosks, T.halls
    where = [d.c.day.in_(days)]
    scope = queries.hall_scope(person, d.c.kiosk_id, hall)
    if scope is not None:
        where.append(scope)
    per_kiosk = (select(d.c.kiosk_id, func.sum(d.c.n).label("n")).where(*where).group_by(d.c.kiosk_id)
                 .subquery())
    rows = conn.execute(
        select(per_kiosk.c.kiosk_id, per_kiosk.c.n, h.c.name.label("hall_name"), func.count().over().label("active"))
        .select_from(per_kiosk.outerjoin(hk, hk.c.kiosk_id == per_kiosk.c.kiosk_id).outerjoin(h, h.c.hall == hk.c.hall))
        .order_by(per_kiosk.c.n.desc(), per_kiosk.c.kiosk_id).limit(TOP_KIOSKS)).mappings().all()
    return ([{"kiosk_id": r["kiosk_id"], "hall_name": r["hall_name"], "n": int(r["n"])} for r in rows],
            rows[0]["active"] if rows else 0)


def _hours(conn: Connection, person: Person, days: list[str], hall: str | None) -> list[int]:
    """Per hour of the day; counted per hall as the transactions arrived, so a hall is picked by its column."""
    a = T.activity_hourly
    stmt = select(a.c.hour, func.sum(a.c.n).label("n")).where(a.c.day.in_(days)).group_by(a.c.hour)
    shown = hall if person.sees_all_halls else person.hall
    if shown:
        stmt = stmt.where(a.c.hall == shown)
    hours = [0] * 24
    for r in conn.execute(stmt):
        hours[r.hour] = int(r.n)
    return hours


@router.get("/activity")
def activity_page(request: Request, session: Signed, days: str = "", hall: str | None = None):
    person = session.person
    n_days = period(days)
    hall = (hall or None) if person.sees_all_halls else person.hall
    db = _db(request)
    with db.reading() as conn:
        last = today(conn, hall, db.clock())
        shown = activity(conn, person, last, n_days, hall)
        halls = queries.halls(conn, person)
    return page(request, session, "activity.html", a=shown, days=n_days, periods=PERIODS, hall=hall or "",
                halls=halls)
