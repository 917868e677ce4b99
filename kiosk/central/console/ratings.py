"""The ratings page (好差评), `/console/ratings`: how satisfied citizens were, with what and where, and the
follow-up of every poor rating.

The counts cover a period of 7, 30 or 90 whole days on the halls' clock (today included): per level, the
satisfaction rate (满意 and 非常满意 over all ratings), per service, per hall, and per day (per week over 90
days). They are counted by the database with the indexes of `ratings` (kiosk/central/schema.py), never by
reading a year of ratings into Python; the lists are cut at `LIST_LIMIT` rows, with a link to the next.

A poor rating (levels 1 and 2, kiosk/central/rating_intake.py) is followed up as the national 好差评
rules ask: `open` (待处理) → `callback` (回访: the citizen was called back) → `rectify` (整改) → `review`
(复核) → `closed` (办结). A step moves forward only, and may skip steps (a call back that found nothing to
rectify closes it); each step is written with its note to `rating_followups` and to the audit log, in the
transaction that moves the rating. Operators and staff follow up (staff their own hall's ratings), an
auditor reads.

A staff account sees the ratings given in its hall by kiosks that are still there: a rating belongs to the
hall that gave the service, and, as everywhere in the console, a page never names another hall's kiosk.
A rating that arrived while its kiosk was in no hall is the operators' to follow up.

A rating carries no personal data; the pages show its kiosk, hall, service, time, level, reasons and
follow-up, nothing else of its transaction.
"""
from __future__ import annotations

import gettext
import json
from dataclasses import dataclass
from datetime import date, datetime, time
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import RedirectResponse
from sqlalchemy import Connection, case, func, insert, select, update

from kiosk import i18n
from kiosk.central import schema as T
from kiosk.central.console.accounts import Person, audit
from kiosk.central.console.queries import NotFound, _hall_scope, halls
from kiosk.central.console.views import (DISPLAY_TZ, Refused, Signed, _db, _safe_next, check_csrf, language, msg,
                                         page, render)

router = APIRouter(prefix="/console", include_in_schema=False)

PERIODS = (7, 30, 90)              # days
DEFAULT_PERIOD = 30
WEEKLY_AFTER = 30                  # a longer period is counted per week: 13 lines rather than 90
STEPS = ("open", "callback", "rectify", "review", "closed")   # a poor rating's follow-up, in order
LIST_LIMIT = 200
SERVICE_LIMIT = 50                 # a fleet offers a few dozen services; the most rated first
DAY_S = 86400


# --- what the page counts and lists ---------------------------------------------------------------------------

@dataclass(frozen=True)
class Period:
    """`days` whole days on the halls' clock, today the last: [start, end) in Unix seconds, counted in
    buckets of `bucket_s` back from `end` (so the newest week of 90 days is whole, the oldest 6 days)."""
    days: int
    start: float
    end: float
    bucket_s: int

    @classmethod
    def ending_today(cls, now: float, days: int) -> Period:
        offset = DISPLAY_TZ.utcoffset(None).total_seconds()
        end = ((now + offset) // DAY_S + 1) * DAY_S - offset
        return cls(days, end - days * DAY_S, end, DAY_S if days <= WEEKLY_AFTER else 7 * DAY_S)

    @property
    def first_day(self) -> str:
        """The period's first day, YYYY-MM-DD on the halls' clock (`rating_counts.day`)."""
        return datetime.fromtimestamp(self.start, DISPLAY_TZ).date().isoformat()

    @property
    def end_day(self) -> str:
        """The day after the period (it ends at that day's midnight)."""
        return datetime.fromtimestamp(self.end, DISPLAY_TZ).date().isoformat()

    @staticmethod
    def midnight(day: str) -> float:
        """Unix seconds of a day's midnight on the halls' clock."""
        return datetime.combine(date.fromisoformat(day), time(0), DISPLAY_TZ).timestamp()

    def buckets(self) -> list[tuple[float, float]]:
        """(start, end) of each bucket, oldest first."""
        n = -(-self.days * DAY_S // self.bucket_s)
        return [(max(self.start, self.end - (i + 1) * self.bucket_s), self.end - i * self.bucket_s)
                for i in reversed(range(n))]


def _seen(person: Person) -> list:
    """The WHERE clauses of the ratings a person sees: staff those given in their hall (which the
    `ratings_by_hall` index finds) by a kiosk that is still there (`_hall_scope`, as on every page)."""
    r = T.ratings
    scope = _hall_scope(person, r.c.kiosk_id)
    return [] if scope is None else [r.c.hall == person.hall, scope]


def _where(person: Person, period: Period, hall: str | None) -> list:
    """The ratings of `period` the person sees, of `hall` only when given."""
    r = T.ratings
    where = [r.c.rated_at >= period.start, r.c.rated_at < period.end, *_seen(person)]
    if hall:
        where.append(r.c.hall == hall)
    return where


def _counted(person: Person, period: Period, hall: str | None) -> list:
    """The WHERE clauses of `rating_counts` for the period's days, the person's hall (staff: always), and
    `hall` when given. Counts are per hall: those of ratings given in the hall, whichever kiosk gave them."""
    c = T.rating_counts
    where = [c.c.day >= period.first_day, c.c.day < period.end_day]
    if not person.sees_all_halls:
        where.append(c.c.hall == person.hall)
    if hall:
        where.append(c.c.hall == hall)
    return where


def _tally():
    """The columns every count has: ratings, satisfied ones (levels 4-5), poor ones (levels 1-2)."""
    c = T.rating_counts
    return (func.sum(c.c.n).label("n"), func.sum(case((c.c.level >= 4, c.c.n), else_=0)).label("good"),
            func.sum(case((c.c.level <= 2, c.c.n), else_=0)).label("poor"))


def _rate(good: int, n: int) -> float | None:
    return good / n if n else None


def _ints(row) -> dict[str, Any]:
    return {**row, "n": int(row["n"] or 0), "good": int(row["good"] or 0), "poor": int(row["poor"] or 0)}


def levels(conn: Connection, person: Person, period: Period, hall: str | None) -> dict[int, int]:
    """Ratings per level, 5 (very satisfied) to 1, every level present."""
    c = T.rating_counts
    found = dict(conn.execute(select(c.c.level, func.sum(c.c.n)).where(*_counted(person, period, hall))
                              .group_by(c.c.level)).all())
    return {level: int(found.get(level) or 0) for level in (5, 4, 3, 2, 1)}


def by_service(conn: Connection, person: Person, period: Period, hall: str | None) -> list[dict[str, Any]]:
    """The `SERVICE_LIMIT` most rated services, each with its counts and satisfaction rate."""
    c = T.rating_counts
    n, good, poor = _tally()
    rows = conn.execute(select(c.c.service, n, good, poor).where(*_counted(person, period, hall))
                        .group_by(c.c.service).order_by(n.desc(), c.c.service).limit(SERVICE_LIMIT)).mappings()
    return [dict(row, rate=_rate(row["good"], row["n"])) for row in map(_ints, rows)]


def by_hall(conn: Connection, person: Person, period: Period, hall: str | None) -> list[dict[str, Any]]:
    """Each hall's counts and satisfaction rate (a kiosk in no hall: `hall` None), by hall code."""
    c, h = T.rating_counts, T.halls
    n, good, poor = _tally()
    counted = select(c.c.hall, n, good, poor).where(*_counted(person, period, hall)).group_by(c.c.hall).subquery()
    rows = conn.execute(select(counted, h.c.name.label("hall_name"))
                        .select_from(counted.outerjoin(h, h.c.hall == counted.c.hall))
                        .order_by(counted.c.hall == "", counted.c.hall)).mappings()
    return [dict(row, hall=row["hall"] or None, rate=_rate(row["good"], row["n"])) for row in map(_ints, rows)]


def timeline(conn: Connection, person: Person, period: Period, hall: str | None) -> list[dict[str, Any]]:
    """Each day's (or week's) counts, oldest first, every bucket present."""
    c = T.rating_counts
    n, good, poor = _tally()
    buckets = period.buckets()
    counts = [{"n": 0, "good": 0, "poor": 0} for _ in buckets]
    for row in conn.execute(select(c.c.day, n, good, poor).where(*_counted(person, period, hall))
                            .group_by(c.c.day)).mappings():
        # 0: the newest bucket; the day's last second decides, as the day lies in one bucket whole
        back = int((period.end - period.midnight(row["day"]) - 1) // period.bucket_s)
        if 0 <= back < len(buckets):
            for key in ("n", "good", "poor"):
                counts[len(buckets) - 1 - back][key] += int(row[key] or 0)
    return [{"start": start, "end": end, **k, "rate": _rate(k["good"], k["n"])}
            for (start, end), k in zip(buckets, counts)]


def _poor_where(person: Person, period: Period, hall: str | None, state: str | None) -> list:
    """Poor ratings are those with a follow-up (`followup_state` other than `none`): selected through the
    `ratings_followup` index rather than by level."""
    r = T.ratings
    return [*_where(person, period, hall), r.c.followup_state.in_([state] if state else STEPS)]


def poor_counts(conn: Connection, person: Person, period: Period, hall: str | None) -> dict[str, int]:
    """The period's poor ratings per follow-up step, every step present."""
    r = T.ratings
    found = dict(conn.execute(select(r.c.followup_state, func.count()).where(*_poor_where(person, period, hall, None))
                              .group_by(r.c.followup_state)).all())
    return {step: int(found.get(step, 0)) for step in STEPS}


def poor(conn: Connection, person: Person, period: Period, hall: str | None, state: str | None, *,
         offset: int = 0, limit: int = LIST_LIMIT) -> list[dict[str, Any]]:
    """The period's poor ratings (those at `state` only, when given): the ones nobody has followed up yet
    first, then those under way, then the closed ones; newest first within each. Up to `limit`, from
    `offset`; each with its follow-up history, oldest step first."""
    r, h = T.ratings, T.halls
    stage = case((r.c.followup_state == "open", 0), (r.c.followup_state == "closed", 2), else_=1)
    rows = [dict(row, reasons=_reasons(row["reasons"])) for row in conn.execute(
        select(r.c.transaction_id, r.c.kiosk_id, r.c.hall, h.c.name.label("hall_name"), r.c.service, r.c.level,
               r.c.reasons, r.c.rated_at, r.c.followup_state, r.c.followup_at, r.c.followup_by)
        .select_from(r.outerjoin(h, h.c.hall == r.c.hall))
        .where(*_poor_where(person, period, hall, state))
        .order_by(stage, r.c.rated_at.desc(), r.c.transaction_id).offset(offset).limit(limit)).mappings()]
    history = histories(conn, [row["transaction_id"] for row in rows])
    for row in rows:
        row["history"] = history.get(row["transaction_id"], [])
    return rows


def _reasons(stored: str) -> list[str]:
    """The reasons of a row (a JSON list of text, as kiosk/central/rating_intake.py writes it)."""
    reasons = json.loads(stored or "[]")
    return [r for r in reasons if isinstance(r, str)] if isinstance(reasons, list) else []


def histories(conn: Connection, transaction_ids: list[str]) -> dict[str, list[dict[str, Any]]]:
    """The follow-up steps of these ratings, oldest first, per rating."""
    if not transaction_ids:
        return {}
    f = T.rating_followups
    out: dict[str, list[dict[str, Any]]] = {}
    for row in conn.execute(select(f.c.transaction_id, f.c.at, f.c.user_name, f.c.state, f.c.note)
                            .where(f.c.transaction_id.in_(transaction_ids)).order_by(f.c.at, f.c.rowid)).mappings():
        out.setdefault(row["transaction_id"], []).append(dict(row))
    return out


def follow_up(conn: Connection, person: Person, now: float, transaction_id: str, state: str, note: str) -> None:
    """Move a poor rating's follow-up to `state` with `note`: its step in `rating_followups`, the rating's
    state, and an audit row, all in `conn`'s transaction. NotFound when the person does not see the rating;
    Refused (nothing written) when it needs no follow-up or `state` is not later than where it is."""
    r = T.ratings
    found = conn.execute(select(r.c.followup_state)
                         .where(r.c.transaction_id == transaction_id, *_seen(person))).first()
    if found is None:
        raise NotFound(transaction_id)
    if found.followup_state not in STEPS:
        raise Refused(msg("Only a poor rating (dissatisfied or very dissatisfied) is followed up."))
    if STEPS.index(state) <= STEPS.index(found.followup_state):
        raise Refused(msg("A follow-up moves forward only: the rating is already at that step or a later one. "
                          "Reload the page to see where it is."))
    moved = conn.execute(update(r).where(r.c.transaction_id == transaction_id,
                                         r.c.followup_state == found.followup_state)
                         .values(followup_state=state, followup_at=now, followup_by=person.name)).rowcount
    if moved == 0:   # someone else moved it since it was read: their step stands
        raise Refused(msg("Someone else followed up this rating a moment ago: reload the page to see their step."))
    conn.execute(insert(T.rating_followups).values(transaction_id=transaction_id, at=now, user_name=person.name,
                                                   state=state, note=note))
    audit(conn, now, person.name, "rating.follow_up", transaction_id, state=state, note=note)


# --- the page and its form ------------------------------------------------------------------------------------

_kiosk_catalogs: dict[str, gettext.NullTranslations] = {}


def _reason_text(lang: str):
    """A reason in the reader's language: a kiosk writes the msgid of a reason of its own catalog
    (kiosk/core/rating.py), or a reason an operator configured, which is shown as written."""
    if lang not in _kiosk_catalogs:
        with i18n.checked_mo(lang).open("rb") as f:
            _kiosk_catalogs[lang] = gettext.GNUTranslations(f)
    catalog = _kiosk_catalogs[lang]
    return lambda reason: catalog.gettext(reason) if reason else reason


def _link(days: int, hall: str, state: str, offset: int = 0) -> str:
    query = {"days": days, "hall": hall, "state": state, "offset": offset}
    return "/console/ratings?" + urlencode({k: v for k, v in query.items() if v})


@router.get("/ratings")
def ratings_page(request: Request, session: Signed, days: int = DEFAULT_PERIOD, hall: str = "", state: str = "",
                 offset: Annotated[int, Query(ge=0, le=1_000_000)] = 0):
    person = session.person
    days = days if days in PERIODS else DEFAULT_PERIOD
    state = state if state in STEPS else ""
    db = _db(request)
    with db.reading() as conn:
        period = Period.ending_today(db.clock(), days)
        known = halls(conn, person)
        # staff see their own hall whatever the address asks; others one hall or all
        hall = hall if person.sees_all_halls and hall in {h["hall"] for h in known} else ""
        counted = levels(conn, person, period, hall or None)
        total = sum(counted.values())
        listed = poor(conn, person, period, hall or None, state or None, offset=offset, limit=LIST_LIMIT + 1)
        context = dict(
            counted=counted, total=total, rate=_rate(counted[5] + counted[4], total),
            services=by_service(conn, person, period, hall or None),
            hall_rows=by_hall(conn, person, period, hall or None),
            timeline=timeline(conn, person, period, hall or None),
            steps_counted=poor_counts(conn, person, period, hall or None))
    more = len(listed) > LIST_LIMIT
    return page(request, session, "ratings.html", period=period, periods=PERIODS, halls=known, hall=hall,
                state=state, steps=STEPS, rows=listed[:LIST_LIMIT],
                more=_link(days, hall, state, offset + LIST_LIMIT) if more else None,
                link=lambda **change: _link(**{"days": days, "hall": hall, "state": state, **change}),
                reason=_reason_text(language(request)), **context)


@router.post("/ratings/{transaction_id}/followup")
def follow_up_form(request: Request, session: Signed, transaction_id: str,
                   state: Annotated[str, Form(max_length=20)] = "", note: Annotated[str, Form(max_length=500)] = "",
                   csrf: Annotated[str, Form(max_length=100)] = "", next: Annotated[str, Form(max_length=2000)] = ""):
    check_csrf(session, csrf)
    if not session.person.may("follow_up"):
        raise Refused(msg("An auditor's account reads the console and changes nothing."))
    if state not in STEPS[1:]:
        raise Refused(msg("Choose the step the follow-up has reached: called back, rectifying, under review or "
                          "concluded."))
    if not note.strip():
        raise Refused(msg("Write a note for the step: who was called, what was found or done."))
    db = _db(request)
    try:
        with db.begin() as conn:
            follow_up(conn, session.person, db.clock(), transaction_id, state, note.strip())
    except NotFound:
        return render(request, "not_found.html", status=404, person=session.person, csrf=session.csrf,
                      what=transaction_id)
    return RedirectResponse(_safe_next(next or "/console/ratings"), status_code=303)
