"""The hall's queue system behind the ticket API (issue 18; docs/services.md): its interface, and the demo.

`QueueSystem` is what the routes (kiosk/central/routes/queues.py) and the transaction intake need of a
hall's queue: which hall a kiosk stands in, the business types with their waiting counts and estimated
waits, issuing a ticket (idempotent on the kiosk's request id), appointments by code and by holder, and
putting a kiosk's offline ticket into the queue (`reconcile`). A real hall plugs in its own queue system
(`[queues] system` in central.toml names a `module:callable` that returns one); the reference platform
runs `DemoQueue`.

`DemoQueue` keeps everything in the platform's database (kiosk/central/schema.py): halls and their kiosks,
business types (a number prefix, windows, minutes per ticket, opening hours per weekday, holidays),
each business's numbers per day (A001, A002, ...), the tickets, the appointments. It advances with its
clock: the windows call the waiting tickets in order (appointments first, then by the time each was
issued), one every `minutes_per_ticket / windows`, only while the business is open; what is still
waiting when the day's hours are over lapses. Its clock is the platform's plus an offset a demo or a
test sets (`kiosk central queue-clock`), so a queue can be opened on a Monday morning at any hour.

Offline tickets: a kiosk that cannot reach the platform issues numbers from its own block (its config's
`[tickets] offline_prefix`, `offline_start`, `offline_end`); the hall lists the prefixes its kiosks use
offline (`offline_prefixes`) and no business may number with one of them, so the platform never issues
a number a kiosk could. Their `ticket` transactions are put into the queue by the time they were issued.
A request whose number was issued here but whose answer never reached the kiosk (which then printed an
offline number) keeps its place under the kiosk's number; the number issued here is `superseded`, never
called. An offline number the hall already had that day (two kiosks given overlapping blocks) is kept in
`ticket_clashes` and logged.

On PostgreSQL several workers serve at once: a business's queue is moved and its numbers issued under a lock
of its row, each number is taken in one statement (`queue_days.next_number`), an appointment is checked in
under a lock of its row, and the same request id of a kiosk meets the unique index `tickets_by_request`, so
no two tickets ever get one number and a request answered twice gets the same ticket. (SQLite lets one
writer in at a time anyway.)
"""
from __future__ import annotations

import datetime as dt
import json
import logging
import math
from typing import Annotated, Any, Callable, Protocol

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator
from sqlalchemy import Connection, RowMapping, select, text
from sqlalchemy.exc import IntegrityError

from kiosk.central import schema
from kiosk.wire.queues import (APPOINTMENT_PATTERN, BUSINESS_PATTERN, HALL_PATTERN, HOLDER_PATTERN, PERIOD,
                               Hours, TicketData, TicketRefused, TicketRequest, hall_zone, next_opening,
                               open_period, ticket_qr)

log = logging.getLogger(__name__)


# --- the interface --------------------------------------------------------------------------------------

class QueueSystem(Protocol):
    """A hall's queue system as the platform uses it. Times are aware datetimes; answers are the wire
    shapes of kiosk/wire/queues.py as dicts. A refusal the citizen is told of is a `TicketRefused`."""

    def hall_of(self, kiosk_id: str) -> str | None:
        """The hall the kiosk stands in (None: none)."""

    def queues(self, hall: str) -> dict[str, Any]:
        """`HallQueues`: the business types, open or closed, with their waiting counts."""

    def issue(self, hall: str, kiosk_id: str, request: TicketRequest) -> dict[str, Any]:
        """`Ticket`; the same request (kiosk, request id) again gives the same ticket (`again`)."""

    def appointment(self, hall: str, code: str) -> dict[str, Any] | None:
        """`Appointment` by its code; None when the hall has none such."""

    def appointments_for(self, hall: str, holder_hash: str) -> list[dict[str, Any]]:
        """Today's appointments of the holder (keyed hash), booked or checked in."""

    def reconcile(self, kiosk_id: str, data: TicketData, transaction_id: str) -> str:
        """A kiosk's `ticket` transaction arrived: an offline one goes into the queue. Returns what
        happened (inserted, known, superseded, clash, ignored) for the log. A system that keeps its queue in
        the platform's database may also have `reconcile_in(conn, kiosk_id, data, transaction_id)`, which the
        intake calls instead, on the batch's connection inside its transaction (DemoQueue does)."""


# --- what an operator (or the seed) defines a hall with -----------------------------------------------

class BusinessDefinition(BaseModel):
    model_config = ConfigDict(extra="forbid")
    code: Annotated[str, Field(pattern=BUSINESS_PATTERN)]
    name: Annotated[str, Field(min_length=1, max_length=40)]
    prefix: Annotated[str, Field(pattern=r"^[A-Z]{1,3}$")]
    windows: Annotated[int, Field(ge=0, le=200)]
    minutes_per_ticket: Annotated[float, Field(gt=0, le=600)]
    hours: Hours
    closed_dates: list[dt.date] = []


class HallDefinition(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: Annotated[str, Field(min_length=1, max_length=80)]
    utc_offset: Annotated[str, Field(pattern=r"^[+-](0[0-9]|1[0-4]):[0-5][0-9]$")] = "+08:00"
    kiosks: list[Annotated[str, Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")]] = []
    offline_prefixes: list[Annotated[str, Field(pattern=r"^[A-Z]{1,3}$")]] = []
    checkin_early_min: Annotated[int, Field(ge=0, le=720)] = 60
    checkin_late_min: Annotated[int, Field(ge=0, le=720)] = 15
    businesses: Annotated[list[BusinessDefinition], Field(min_length=1, max_length=40)]

    @model_validator(mode="after")
    def _distinct(self) -> "HallDefinition":
        codes = [b.code for b in self.businesses]
        prefixes = [b.prefix for b in self.businesses]
        if len(set(codes)) != len(codes):
            raise ValueError("businesses: each code once")
        if len(set(prefixes)) != len(prefixes):
            raise ValueError("businesses: each prefix once")
        for b in self.businesses:
            for p in self.offline_prefixes:
                if b.prefix.startswith(p) or p.startswith(b.prefix):
                    raise ValueError(f"businesses: prefix {b.prefix!r} of {b.code!r} and the kiosks' offline prefix "
                                     f"{p!r} could make the same number: keep them apart")
        return self


class AppointmentDefinition(BaseModel):
    model_config = ConfigDict(extra="forbid")
    code: Annotated[str, Field(pattern=APPOINTMENT_PATTERN)]
    business: Annotated[str, Field(pattern=BUSINESS_PATTERN)]
    day: dt.date
    slot: Annotated[str, Field(pattern=PERIOD.pattern, description="HH:MM-HH:MM")]
    holder_hash: Annotated[str, Field(pattern=HOLDER_PATTERN)] | None = None


# --- the demo queue -----------------------------------------------------------------------------------

def _number(prefix: str, n: int) -> str:
    return f"{prefix}{n:03d}"


class _Clash(Exception):
    """An offline number another batch put into the queue first (inside reconcile's savepoint)."""


class DemoQueue:
    """The reference platform's queue system (see the module's docstring), over the platform's database
    (kiosk/central/db.py `CentralDB`): each call is one database transaction of its own, except `reconcile_in`,
    which runs inside the batch's."""

    def __init__(self, db, clock: Callable[[], float] | None = None):
        self.db = db
        self.base_clock = clock if clock is not None else db.clock

    # -- the clock -------------------------------------------------------------------------------------
    @staticmethod
    def _offset(conn: Connection) -> float:
        value = conn.execute(text("SELECT offset_s FROM queue_clock WHERE id = 1")).scalar_one_or_none()
        return value if value is not None else 0.0

    def offset(self) -> float:
        with self.db.reading() as conn:
            return self._offset(conn)

    def _clock(self, conn: Connection) -> float:
        return self.base_clock() + self._offset(conn)

    def clock(self) -> float:
        with self.db.reading() as conn:
            return self._clock(conn)

    def set_clock(self, at: dt.datetime | None) -> float:
        """The demo queue's now is `at` from this moment on (None: the platform's own clock again)."""
        offset = 0.0 if at is None else at.timestamp() - self.base_clock()
        with self.db.begin() as conn:
            conn.execute(text("INSERT INTO queue_clock (id, offset_s) VALUES (1, :offset) ON CONFLICT (id) DO UPDATE"
                              " SET offset_s = excluded.offset_s"), {"offset": offset})
        return offset

    def advance_clock(self, seconds: float) -> float:
        with self.db.begin() as conn:
            return conn.execute(text(
                "INSERT INTO queue_clock (id, offset_s) VALUES (1, :seconds) ON CONFLICT (id) DO UPDATE"
                " SET offset_s = queue_clock.offset_s + excluded.offset_s RETURNING offset_s"),
                {"seconds": float(seconds)}).scalar_one()

    # -- halls -----------------------------------------------------------------------------------------
    def define_hall(self, hall: str, definition: HallDefinition) -> dict[str, Any]:
        """Create or replace a hall's definition (its business types, kiosks, offline prefixes); the
        tickets and appointments stay. A kiosk listed here leaves any other hall."""
        now = self.base_clock()
        with self.db.begin() as conn:
            # the hall's row first: a second definition of the same hall waits here for the first to commit
            conn.execute(text(
                "INSERT INTO halls (hall, name, utc_offset, checkin_early_min, checkin_late_min, offline_prefixes,"
                " updated_at) VALUES (:hall, :name, :utc_offset, :early, :late, :offline, :now)"
                " ON CONFLICT (hall) DO UPDATE SET name = excluded.name,"
                " utc_offset = excluded.utc_offset, checkin_early_min = excluded.checkin_early_min,"
                " checkin_late_min = excluded.checkin_late_min, offline_prefixes = excluded.offline_prefixes,"
                " updated_at = excluded.updated_at"),
                {"hall": hall, "name": definition.name, "utc_offset": definition.utc_offset,
                 "early": definition.checkin_early_min, "late": definition.checkin_late_min,
                 "offline": json.dumps(definition.offline_prefixes), "now": now})
            conn.execute(text("DELETE FROM businesses WHERE hall = :hall"), {"hall": hall})
            for i, b in enumerate(definition.businesses):
                conn.execute(text(
                    "INSERT INTO businesses (hall, code, name, prefix, windows, minutes_per_ticket, hours,"
                    " closed_dates, position) VALUES (:hall, :code, :name, :prefix, :windows, :minutes, :hours,"
                    " :closed, :position)"),
                    {"hall": hall, "code": b.code, "name": b.name, "prefix": b.prefix, "windows": b.windows,
                     "minutes": float(b.minutes_per_ticket), "hours": json.dumps(b.hours),
                     "closed": json.dumps([d.isoformat() for d in b.closed_dates]), "position": i})
            conn.execute(text("DELETE FROM hall_kiosks WHERE hall = :hall"), {"hall": hall})
            for kiosk_id in dict.fromkeys(definition.kiosks):
                self._place(conn, hall, kiosk_id)
        return {"hall": hall, "businesses": len(definition.businesses), "kiosks": sorted(set(definition.kiosks))}

    @staticmethod
    def _place(conn: Connection, hall: str, kiosk_id: str) -> None:
        conn.execute(text("INSERT INTO hall_kiosks (kiosk_id, hall) VALUES (:kiosk_id, :hall) ON CONFLICT (kiosk_id)"
                          " DO UPDATE SET hall = excluded.hall"), {"kiosk_id": kiosk_id, "hall": hall})

    def add_kiosk(self, hall: str, kiosk_id: str) -> None:
        with self.db.begin() as conn:
            self._place(conn, hall, kiosk_id)

    @staticmethod
    def _hall_of(conn: Connection, kiosk_id: str) -> str | None:
        return conn.execute(text("SELECT hall FROM hall_kiosks WHERE kiosk_id = :kiosk_id"),
                            {"kiosk_id": kiosk_id}).scalar_one_or_none()

    def hall_of(self, kiosk_id: str) -> str | None:
        with self.db.reading() as conn:
            return self._hall_of(conn, kiosk_id)

    def hall_exists(self, hall: str) -> bool:
        with self.db.reading() as conn:
            return conn.execute(text("SELECT 1 FROM halls WHERE hall = :hall"), {"hall": hall}).first() is not None

    @staticmethod
    def _hall(conn: Connection, hall: str, share: bool = False) -> RowMapping:
        """The hall's row; with `share`, locked against a new definition until the transaction ends (PostgreSQL's
        FOR SHARE: the queue moves on the business types it read, and `define_hall` waits)."""
        query = select(schema.halls).where(schema.halls.c.hall == hall)
        row = conn.execute(query.with_for_update(read=True) if share else query).mappings().fetchone()
        if row is None:
            raise TicketRefused("unknown_hall", f"no hall {hall!r} on the platform")
        return row

    @staticmethod
    def _businesses(conn: Connection, hall: str) -> list[dict[str, Any]]:
        rows = conn.execute(text("SELECT * FROM businesses WHERE hall = :hall ORDER BY position"),
                            {"hall": hall}).mappings().all()
        out = []
        for r in rows:
            b = dict(r)
            b["hours"] = json.loads(b["hours"])
            b["closed_dates"] = [dt.date.fromisoformat(d) for d in json.loads(b["closed_dates"])]
            out.append(b)
        return out

    # -- the queue -------------------------------------------------------------------------------------
    def _now(self, conn: Connection, zone: dt.tzinfo) -> dt.datetime:
        return dt.datetime.fromtimestamp(self._clock(conn), zone)

    def _advance(self, conn: Connection, hall: str, b: dict[str, Any], zone: dt.tzinfo, now: dt.datetime) -> None:
        """The windows call what waits, up to `now` (see the module's docstring). The business's row is locked
        first (PostgreSQL; SQLite's write transaction holds the whole database): one worker at a time moves a
        business's queue and issues its numbers, until its transaction ends."""
        conn.execute(select(schema.businesses.c.code)
                     .where(schema.businesses.c.hall == hall, schema.businesses.c.code == b["code"])
                     .with_for_update())
        today = now.date().isoformat()
        params = {"hall": hall, "business": b["code"], "day": today}
        conn.execute(text("UPDATE tickets SET state = 'lapsed' WHERE hall = :hall AND business = :business"
                          " AND day < :day AND state = 'waiting'"), params)
        if b["windows"] <= 0:
            return
        interval = b["minutes_per_ticket"] * 60 / b["windows"]
        free_at = conn.execute(text("SELECT next_free_at FROM queue_days WHERE hall = :hall AND business = :business"
                                    " AND day = :day"), params).scalar_one_or_none()
        moved = False
        while True:
            waiting = conn.execute(text(
                "SELECT number, priority, issued_at FROM tickets WHERE hall = :hall AND business = :business"
                " AND day = :day AND state = 'waiting' ORDER BY issued_at, number"), params).mappings().all()
            if not waiting:
                break
            first = max(waiting[0]["issued_at"], free_at if free_at is not None else -math.inf)
            at = next_opening(b["hours"], b["closed_dates"], zone, dt.datetime.fromtimestamp(first, zone))
            if at is None or at.date() != now.date() or at > now:
                break
            t = at.timestamp()
            eligible = [w for w in waiting if w["issued_at"] <= t]
            called = min(eligible, key=lambda w: (not w["priority"], w["issued_at"], w["number"]))
            conn.execute(text("UPDATE tickets SET state = 'called', called_at = :t WHERE hall = :hall AND day = :day"
                              " AND number = :number"),
                         {"t": t, "hall": hall, "day": today, "number": called["number"]})
            free_at, moved = t + interval, True
        if moved:
            conn.execute(text(
                "INSERT INTO queue_days (hall, business, day, next_number, next_free_at)"
                " VALUES (:hall, :business, :day, 1, :free_at)"
                " ON CONFLICT (hall, business, day) DO UPDATE SET next_free_at = excluded.next_free_at"),
                {**params, "free_at": free_at})

    @staticmethod
    def _waiting(conn: Connection, hall: str, business: str, day: str, priority_only: bool = False) -> int:
        sql = ("SELECT count(*) FROM tickets WHERE hall = :hall AND business = :business AND day = :day"
               " AND state = 'waiting'" + (" AND priority = 1" if priority_only else ""))
        return conn.execute(text(sql), {"hall": hall, "business": business, "day": day}).scalar_one()

    @staticmethod
    def _estimate(waiting: int, b: dict[str, Any]) -> int:
        return math.ceil(waiting * b["minutes_per_ticket"] / max(1, b["windows"]))

    def queues(self, hall: str) -> dict[str, Any]:
        out = []
        with self.db.begin() as conn:
            h = self._hall(conn, hall, share=True)
            zone = hall_zone(h["utc_offset"])
            now = self._now(conn, zone)
            day = now.date().isoformat()
            for b in self._businesses(conn, hall):
                self._advance(conn, hall, b, zone, now)
                period = open_period(b["hours"], b["closed_dates"], zone, now)
                waiting = self._waiting(conn, hall, b["code"], day)
                serving = conn.execute(text(
                    "SELECT number FROM tickets WHERE hall = :hall AND business = :business AND day = :day"
                    " AND state = 'called' ORDER BY called_at DESC, number DESC LIMIT 1"),
                    {"hall": hall, "business": b["code"], "day": day}).scalar_one_or_none()
                opens = None if period else next_opening(b["hours"], b["closed_dates"], zone, now)
                out.append({"code": b["code"], "name": b["name"], "prefix": b["prefix"], "windows": b["windows"],
                            "waiting": waiting, "estimated_wait_min": self._estimate(waiting, b),
                            "now_serving": serving, "open_now": period is not None,
                            "opens_at": opens.isoformat() if opens else None,
                            "closes_at": period[1].isoformat() if period else None,
                            "hours": b["hours"], "closed_dates": [d.isoformat() for d in b["closed_dates"]
                                                                  if d >= now.date()]})
        return {"hall": hall, "name": h["name"], "utc_offset": h["utc_offset"], "now": now.isoformat(),
                "businesses": out, "offline_prefixes": json.loads(h["offline_prefixes"])}

    # -- tickets ---------------------------------------------------------------------------------------
    def _ticket_answer(self, row: RowMapping, names: dict[str, str], zone: dt.tzinfo, again: bool) -> dict[str, Any]:
        day = dt.date.fromisoformat(row["day"])
        return {"number": row["number"], "business": row["business"], "business_name": names.get(row["business"], ""),
                "waiting_before": row["waiting_before"], "estimated_wait_min": row["estimated_wait_min"],
                "issued_at": dt.datetime.fromtimestamp(row["issued_at"], zone).isoformat(),
                "priority": bool(row["priority"]), "request_id": row["request_id"], "appointment": row["appointment"],
                "qr": ticket_qr(row["hall"], day, row["number"], row["request_id"]), "again": again}

    @staticmethod
    def _ticket(conn: Connection, hall: str, day: str, number: str) -> RowMapping | None:
        return conn.execute(text("SELECT * FROM tickets WHERE hall = :hall AND day = :day AND number = :number"),
                            {"hall": hall, "day": day, "number": number}).mappings().fetchone()

    @staticmethod
    def _by_request(conn: Connection, kiosk_id: str, request_id: str) -> RowMapping | None:
        return conn.execute(text("SELECT * FROM tickets WHERE kiosk_id = :kiosk_id AND request_id = :request_id"
                                 " AND state != 'superseded'"),
                            {"kiosk_id": kiosk_id, "request_id": request_id}).mappings().fetchone()

    @staticmethod
    def _next_number(conn: Connection, hall: str, business: str, day: str) -> int:
        """The business's next number of the day, taken in one statement: two workers never get the same one
        (PostgreSQL makes the second wait for the first's row, then counts on from it)."""
        following = conn.execute(text(
            "INSERT INTO queue_days (hall, business, day, next_number) VALUES (:hall, :business, :day, 2)"
            " ON CONFLICT (hall, business, day) DO UPDATE SET next_number = queue_days.next_number + 1"
            " RETURNING next_number"), {"hall": hall, "business": business, "day": day}).scalar_one()
        return following - 1

    def issue(self, hall: str, kiosk_id: str, request: TicketRequest) -> dict[str, Any]:
        # the same request sent twice at once (a kiosk's retry racing its first try): the second one's ticket
        # meets the first's in the unique index tickets_by_request; its transaction is undone, and tried again
        # it finds the first's ticket and answers it again
        for attempt in (1, 2):
            try:
                with self.db.begin() as conn:
                    answer, fresh = self._issue(conn, hall, kiosk_id, request)
                break
            except IntegrityError:
                if attempt == 2:
                    raise
                log.info("hall %s: request %s of kiosk %s was being answered at the same time: asked again", hall,
                         request.request_id, kiosk_id)
        if fresh:
            log.info("hall %s: ticket %s (%s%s) for kiosk %s", hall, answer["number"], answer["business"],
                     ", appointment" if answer["priority"] else "", kiosk_id)
        return answer

    def _issue(self, conn: Connection, hall: str, kiosk_id: str, request: TicketRequest) -> tuple[dict[str, Any], bool]:
        h = self._hall(conn, hall, share=True)
        zone = hall_zone(h["utc_offset"])
        now = self._now(conn, zone)
        businesses = {b["code"]: b for b in self._businesses(conn, hall)}
        names = {code: b["name"] for code, b in businesses.items()}
        old = self._by_request(conn, kiosk_id, request.request_id)
        if old is not None:
            if ((request.business not in (None, old["business"])) or request.appointment != old["appointment"]
                    or request.holder_hash != old["holder_hash"]):
                raise TicketRefused("request_conflict", f"request {request.request_id} was made before with "
                                                        "another business, holder or appointment")
            return self._ticket_answer(old, names, zone, again=True), False
        appointment = None
        if request.appointment is not None:
            appointment = self._checkable(conn, h, request.appointment, zone, now, lock=True)
            if appointment["ticket"] is not None:   # checked in before: the same ticket again
                row = self._ticket(conn, hall, appointment["day"], appointment["ticket"])
                if row is not None:
                    return self._ticket_answer(row, names, zone, again=True), False
            code = appointment["business"]
        else:
            code = request.business
        b = businesses.get(code or "")
        if b is None:
            raise TicketRefused("unknown_business", f"hall {hall!r} has no business {code!r}")
        if open_period(b["hours"], b["closed_dates"], zone, now) is None:
            raise TicketRefused("closed", f"{b['name']} is closed now",
                                opens_at=next_opening(b["hours"], b["closed_dates"], zone, now))
        self._advance(conn, hall, b, zone, now)
        day = now.date().isoformat()
        priority = appointment is not None
        waiting_before = self._waiting(conn, hall, code, day, priority_only=priority)
        number = _number(b["prefix"], self._next_number(conn, hall, code, day))
        while self._ticket(conn, hall, day, number) is not None:
            number = _number(b["prefix"], self._next_number(conn, hall, code, day))  # never a number the day has
        conn.execute(text(
            "INSERT INTO tickets (hall, day, number, business, kiosk_id, request_id, priority, offline,"
            " holder_hash, appointment, waiting_before, estimated_wait_min, issued_at, state)"
            " VALUES (:hall, :day, :number, :business, :kiosk_id, :request_id, :priority, 0, :holder_hash,"
            " :appointment, :waiting_before, :estimate, :issued_at, 'waiting')"),
            {"hall": hall, "day": day, "number": number, "business": code, "kiosk_id": kiosk_id,
             "request_id": request.request_id, "priority": int(priority), "holder_hash": request.holder_hash,
             "appointment": request.appointment, "waiting_before": waiting_before,
             "estimate": self._estimate(waiting_before, b), "issued_at": now.timestamp()})
        if appointment is not None:
            conn.execute(text("UPDATE appointments SET ticket = :number, checked_in_at = :at WHERE code = :code"),
                         {"number": number, "at": now.timestamp(), "code": appointment["code"]})
        return self._ticket_answer(self._ticket(conn, hall, day, number), names, zone, again=False), True

    # -- appointments ----------------------------------------------------------------------------------
    def add_appointment(self, hall: str, a: AppointmentDefinition) -> bool:
        """Book (or move, while not checked in) an appointment; False when it was checked in already."""
        start, end = a.slot.split("-")
        with self.db.begin() as conn:
            self._hall(conn, hall)
            # one statement: a check-in at the same moment either comes first (and this changes nothing) or after
            return conn.execute(text(
                "INSERT INTO appointments (code, hall, business, holder_hash, day, slot_start, slot_end)"
                " VALUES (:code, :hall, :business, :holder_hash, :day, :start, :end) ON CONFLICT (code) DO UPDATE"
                " SET hall = excluded.hall, business = excluded.business, holder_hash = excluded.holder_hash,"
                " day = excluded.day, slot_start = excluded.slot_start, slot_end = excluded.slot_end"
                " WHERE appointments.ticket IS NULL"),
                {"code": a.code, "hall": hall, "business": a.business, "holder_hash": a.holder_hash,
                 "day": a.day.isoformat(), "start": start, "end": end}).rowcount == 1

    @staticmethod
    def _appointment(conn: Connection, h: RowMapping, row: RowMapping, zone: dt.tzinfo,
                     now: dt.datetime) -> dict[str, Any]:
        day = dt.date.fromisoformat(row["day"])
        start = dt.datetime.combine(day, dt.time.fromisoformat(row["slot_start"]), zone)
        end = dt.datetime.combine(day, dt.time.fromisoformat(row["slot_end"]), zone)
        until = end + dt.timedelta(minutes=h["checkin_late_min"])
        name = conn.execute(text("SELECT name FROM businesses WHERE hall = :hall AND code = :code"),
                            {"hall": row["hall"], "code": row["business"]}).scalar_one_or_none()
        state = "checked_in" if row["ticket"] else ("missed" if now > until else "booked")
        return {"code": row["code"], "business": row["business"], "business_name": name or "",
                "day": row["day"], "slot": f"{row['slot_start']}-{row['slot_end']}", "state": state,
                "ticket": row["ticket"],
                "checkin_from": (start - dt.timedelta(minutes=h["checkin_early_min"])).isoformat(),
                "checkin_until": until.isoformat()}

    def appointment(self, hall: str, code: str) -> dict[str, Any] | None:
        with self.db.reading() as conn:
            h = self._hall(conn, hall)
            zone = hall_zone(h["utc_offset"])
            row = conn.execute(text("SELECT * FROM appointments WHERE code = :code AND hall = :hall"),
                               {"code": code, "hall": hall}).mappings().fetchone()
            return None if row is None else self._appointment(conn, h, row, zone, self._now(conn, zone))

    def appointments_for(self, hall: str, holder_hash: str) -> list[dict[str, Any]]:
        with self.db.reading() as conn:
            h = self._hall(conn, hall)
            zone = hall_zone(h["utc_offset"])
            now = self._now(conn, zone)
            rows = conn.execute(text("SELECT * FROM appointments WHERE hall = :hall AND holder_hash = :holder"
                                     " AND day = :day ORDER BY slot_start, code"),
                                {"hall": hall, "holder": holder_hash, "day": now.date().isoformat()}).mappings().all()
            found = [self._appointment(conn, h, r, zone, now) for r in rows]
        return [a for a in found if a["state"] != "missed"]

    def _checkable(self, conn: Connection, h: RowMapping, code: str, zone: dt.tzinfo, now: dt.datetime,
                   lock: bool = False) -> dict[str, Any]:
        """The appointment `code` if it may check in now (or did); with `lock`, its row stays locked until the
        transaction ends, so that two kiosks checking it in at once give one ticket."""
        a_ = schema.appointments
        query = select(a_).where(a_.c.code == code, a_.c.hall == h["hall"])
        row = conn.execute(query.with_for_update() if lock else query).mappings().fetchone()
        if row is None:
            raise TicketRefused("appointment_unknown", f"no appointment {code!r} in this hall")
        a = self._appointment(conn, h, row, zone, now)
        if a["ticket"] is not None:
            return a
        if a["day"] != now.date().isoformat():
            raise TicketRefused("appointment_other_day", f"appointment {code} is for {a['day']}",
                                opens_at=dt.datetime.fromisoformat(a["checkin_from"]))
        if now < dt.datetime.fromisoformat(a["checkin_from"]):
            raise TicketRefused("too_early", f"appointment {code} checks in from {a['checkin_from']}",
                                opens_at=dt.datetime.fromisoformat(a["checkin_from"]))
        if a["state"] == "missed":
            raise TicketRefused("appointment_missed", f"appointment {code} could be checked in until "
                                                      f"{a['checkin_until']}")
        return a

    # -- a kiosk's ticket transaction ------------------------------------------------------------------
    def reconcile(self, kiosk_id: str, data: TicketData, transaction_id: str) -> str:
        """`reconcile_in` in a database transaction of its own."""
        with self.db.begin() as conn:
            return self.reconcile_in(conn, kiosk_id, data, transaction_id)

    def reconcile_in(self, conn: Connection, kiosk_id: str, data: TicketData, transaction_id: str) -> str:
        """Called inside the batch's database transaction (kiosk/central/db.py, through `ticket_intake`), on its
        connection: see the module's docstring."""
        hall = self._hall_of(conn, kiosk_id)
        if hall != data.hall:
            log.warning("ticket %s of kiosk %s is for hall %r, the kiosk stands in %r: not queued", data.number,
                        kiosk_id, data.hall, hall)
            return "ignored"
        h = self._hall(conn, hall)
        zone = hall_zone(h["utc_offset"])
        issued = data.issued_at.astimezone(zone)
        day = issued.date().isoformat()
        old = self._by_request(conn, kiosk_id, data.request_id)
        if old is not None and old["number"] == data.number:
            conn.execute(text("UPDATE tickets SET transaction_id = :tx WHERE hall = :hall AND day = :day"
                              " AND number = :number"),
                         {"tx": transaction_id, "hall": old["hall"], "day": old["day"], "number": old["number"]})
            return "known"
        if not data.offline:
            known = conn.execute(text("SELECT 1 FROM tickets WHERE hall = :hall AND day = :day AND number = :number"
                                      " AND state != 'superseded'"),
                                 {"hall": hall, "day": day, "number": data.number}).first()
            if known:   # printed again for its appointment, under another request of the kiosk
                return "known"
            log.warning("ticket %s of kiosk %s: an online ticket the queue never issued", data.number, kiosk_id)
            return "ignored"
        if self._ticket(conn, hall, day, data.number) is not None:
            return self._clash(conn, hall, day, kiosk_id, data, transaction_id)
        at, how = issued.timestamp(), "inserted"
        state = "waiting" if day == self._now(conn, zone).date().isoformat() else "lapsed"
        waiting = self._waiting(conn, hall, data.business, day)
        try:
            with conn.begin_nested():
                if old is not None:   # issued here, the answer lost: the kiosk's number takes its place
                    conn.execute(text("UPDATE tickets SET state = 'superseded' WHERE hall = :hall AND day = :day"
                                      " AND number = :number"),
                                 {"hall": old["hall"], "day": old["day"], "number": old["number"]})
                    at, how = min(at, old["issued_at"]), "superseded"
                # another batch may have put the same number in since the look above (PostgreSQL: this waits
                # for it to commit): then nothing is inserted, the superseding is undone, and it is a clash
                inserted = conn.execute(text(
                    "INSERT INTO tickets (hall, day, number, business, kiosk_id, request_id, priority, offline,"
                    " holder_hash, appointment, waiting_before, estimated_wait_min, issued_at, state, transaction_id)"
                    " VALUES (:hall, :day, :number, :business, :kiosk_id, :request_id, :priority, 1, :holder_hash,"
                    " :appointment, :waiting, 0, :at, :state, :tx) ON CONFLICT (hall, day, number) DO NOTHING"),
                    {"hall": hall, "day": day, "number": data.number, "business": data.business, "kiosk_id": kiosk_id,
                     "request_id": data.request_id, "priority": int(data.priority), "holder_hash": data.holder_hash,
                     "appointment": data.appointment, "waiting": waiting, "at": at, "state": state,
                     "tx": transaction_id}).rowcount
                if not inserted:
                    raise _Clash()
        except _Clash:
            return self._clash(conn, hall, day, kiosk_id, data, transaction_id)
        log.info("hall %s: offline ticket %s of kiosk %s %s into the queue of %s", hall, data.number, kiosk_id, how,
                 day)
        return how

    def _clash(self, conn: Connection, hall: str, day: str, kiosk_id: str, data: TicketData,
               transaction_id: str) -> str:
        conn.execute(text("INSERT INTO ticket_clashes (transaction_id, kiosk_id, hall, day, number, received_at)"
                          " VALUES (:tx, :kiosk_id, :hall, :day, :number, :now) ON CONFLICT (transaction_id)"
                          " DO NOTHING"),
                     {"tx": transaction_id, "kiosk_id": kiosk_id, "hall": hall, "day": day, "number": data.number,
                      "now": self.base_clock()})
        log.warning("hall %s: kiosk %s issued %s offline on %s, a number the hall already had: check the kiosks'"
                    " [tickets] offline blocks (they overlap)", hall, kiosk_id, data.number, day)
        return "clash"

    # -- what the platform holds (operators, tests) -----------------------------------------------------
    def tickets(self, hall: str, day: str | None = None) -> list[dict[str, Any]]:
        """The tickets of `day` (every day: None) in queue order, the queue advanced to now first."""
        self.queues(hall)
        sql, params = "SELECT * FROM tickets WHERE hall = :hall", {"hall": hall}
        if day:
            sql += " AND day = :day"
            params["day"] = day
        with self.db.reading() as conn:
            return [dict(r) for r in conn.execute(text(sql + " ORDER BY day, issued_at, number"), params).mappings()]

    def clashes(self, hall: str) -> list[dict[str, Any]]:
        with self.db.reading() as conn:
            return [dict(r) for r in conn.execute(text("SELECT * FROM ticket_clashes WHERE hall = :hall"
                                                       " ORDER BY day, number"), {"hall": hall}).mappings()]


def ticket_intake(system: QueueSystem) -> Callable[[Connection, str, dict[str, Any], float], None]:
    """The transaction intake's hook (kiosk/central/db.py `intake_hooks`): each newly stored `ticket` goes
    to the queue system inside the batch's database transaction (`reconcile_in(conn, ...)` where the system
    has it, as DemoQueue, else `reconcile`), in a savepoint: what goes wrong there is logged and undone, and
    never refuses the transaction (a real queue system's adapter queues what it must forward rather than
    call out from here)."""
    in_batch = getattr(system, "reconcile_in", None)

    def on_stored(conn: Connection, kiosk_id: str, row: dict[str, Any], _now: float) -> None:
        if row["kind"] != "ticket":
            return
        try:
            data = TicketData.model_validate_json(row["data"])
        except ValidationError as exc:
            log.warning("kiosk %s: ticket transaction %s does not fit: %s", kiosk_id, row["id"],
                        exc.errors(include_url=False)[0]["msg"])
            return
        try:
            with conn.begin_nested():
                if in_batch is not None:
                    in_batch(conn, kiosk_id, data, row["id"])
                else:
                    system.reconcile(kiosk_id, data, row["id"])
        except Exception as exc:  # the transaction is stored whatever the queue makes of it
            log.error("kiosk %s: ticket %s could not be put into the queue: %s: %s", kiosk_id, data.number,
                      type(exc).__name__, exc)
    return on_stored


def load_system(name: str, db, options: dict[str, Any]) -> QueueSystem:
    """The queue system `[queues] system` names (`module:callable`, called with the platform's database and
    the other keys of `[queues]`)."""
    import importlib

    module, _, attr = name.partition(":")
    return getattr(importlib.import_module(module), attr)(db, **options)


__all__ = ["AppointmentDefinition", "BusinessDefinition", "DemoQueue", "HallDefinition", "QueueSystem",
           "load_system", "ticket_intake"]
