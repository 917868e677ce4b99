"""The hall's queue system behind the ticket API (issue 18; docs/services.md): its interface, and the demo.

`QueueSystem` is what the routes (kiosk/central/routes/queues.py) and the transaction intake need of a
hall's queue: which hall a kiosk stands in, the business types with their waiting counts and estimated
waits, issuing a ticket (idempotent on the kiosk's request id), appointments by code and by holder, and
putting a kiosk's offline ticket into the queue (`reconcile`). A real hall plugs in its own queue system
(`[queues] system` in central.toml names a `module:callable` that returns one); the reference platform
runs `DemoQueue`.

`DemoQueue` keeps everything in the platform's database (migration 0007): halls and their kiosks,
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
"""
from __future__ import annotations

import datetime as dt
import json
import logging
import math
import sqlite3
from typing import Annotated, Any, Callable, Protocol

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from kiosk import store
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
        happened (inserted, known, superseded, clash, ignored) for the log."""


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


class DemoQueue:
    """The reference platform's queue system (see the module's docstring), on the platform's connection."""

    def __init__(self, conn: sqlite3.Connection, clock: Callable[[], float]):
        self.conn = conn
        self.base_clock = clock

    # -- the clock -------------------------------------------------------------------------------------
    def offset(self) -> float:
        row = self.conn.execute("SELECT offset_s FROM queue_clock WHERE id = 1").fetchone()
        return row["offset_s"] if row else 0.0

    def clock(self) -> float:
        return self.base_clock() + self.offset()

    def set_clock(self, at: dt.datetime | None) -> float:
        """The demo queue's now is `at` from this moment on (None: the platform's own clock again)."""
        offset = 0.0 if at is None else at.timestamp() - self.base_clock()
        with store.transaction(self.conn):
            self.conn.execute("INSERT INTO queue_clock (id, offset_s) VALUES (1, ?) ON CONFLICT (id) DO UPDATE"
                              " SET offset_s = excluded.offset_s", (offset,))
        return offset

    def advance_clock(self, seconds: float) -> float:
        with store.transaction(self.conn):
            self.conn.execute("INSERT INTO queue_clock (id, offset_s) VALUES (1, ?) ON CONFLICT (id) DO UPDATE"
                              " SET offset_s = offset_s + excluded.offset_s", (seconds,))
        return self.offset()

    # -- halls -----------------------------------------------------------------------------------------
    def define_hall(self, hall: str, definition: HallDefinition) -> dict[str, Any]:
        """Create or replace a hall's definition (its business types, kiosks, offline prefixes); the
        tickets and appointments stay. A kiosk listed here leaves any other hall."""
        now = self.base_clock()
        with store.transaction(self.conn):
            self.conn.execute(
                "INSERT INTO halls (hall, name, utc_offset, checkin_early_min, checkin_late_min, offline_prefixes,"
                " updated_at) VALUES (?,?,?,?,?,?,?) ON CONFLICT (hall) DO UPDATE SET name = excluded.name,"
                " utc_offset = excluded.utc_offset, checkin_early_min = excluded.checkin_early_min,"
                " checkin_late_min = excluded.checkin_late_min, offline_prefixes = excluded.offline_prefixes,"
                " updated_at = excluded.updated_at",
                (hall, definition.name, definition.utc_offset, definition.checkin_early_min,
                 definition.checkin_late_min, json.dumps(definition.offline_prefixes), now))
            self.conn.execute("DELETE FROM businesses WHERE hall = ?", (hall,))
            for i, b in enumerate(definition.businesses):
                self.conn.execute(
                    "INSERT INTO businesses (hall, code, name, prefix, windows, minutes_per_ticket, hours,"
                    " closed_dates, position) VALUES (?,?,?,?,?,?,?,?,?)",
                    (hall, b.code, b.name, b.prefix, b.windows, b.minutes_per_ticket, json.dumps(b.hours),
                     json.dumps([d.isoformat() for d in b.closed_dates]), i))
            self.conn.execute("DELETE FROM hall_kiosks WHERE hall = ?", (hall,))
            for kiosk_id in dict.fromkeys(definition.kiosks):
                self.conn.execute("INSERT INTO hall_kiosks (kiosk_id, hall) VALUES (?, ?) ON CONFLICT (kiosk_id)"
                                  " DO UPDATE SET hall = excluded.hall", (kiosk_id, hall))
        return {"hall": hall, "businesses": len(definition.businesses), "kiosks": sorted(set(definition.kiosks))}

    def add_kiosk(self, hall: str, kiosk_id: str) -> None:
        with store.transaction(self.conn):
            self.conn.execute("INSERT INTO hall_kiosks (kiosk_id, hall) VALUES (?, ?) ON CONFLICT (kiosk_id)"
                              " DO UPDATE SET hall = excluded.hall", (kiosk_id, hall))

    def hall_of(self, kiosk_id: str) -> str | None:
        row = self.conn.execute("SELECT hall FROM hall_kiosks WHERE kiosk_id = ?", (kiosk_id,)).fetchone()
        return row["hall"] if row else None

    def hall_exists(self, hall: str) -> bool:
        return self.conn.execute("SELECT 1 FROM halls WHERE hall = ?", (hall,)).fetchone() is not None

    def _hall(self, hall: str) -> sqlite3.Row:
        row = self.conn.execute("SELECT * FROM halls WHERE hall = ?", (hall,)).fetchone()
        if row is None:
            raise TicketRefused("unknown_hall", f"no hall {hall!r} on the platform")
        return row

    def _businesses(self, hall: str) -> list[dict[str, Any]]:
        rows = self.conn.execute("SELECT * FROM businesses WHERE hall = ? ORDER BY position", (hall,)).fetchall()
        out = []
        for r in rows:
            b = dict(r)
            b["hours"] = json.loads(b["hours"])
            b["closed_dates"] = [dt.date.fromisoformat(d) for d in json.loads(b["closed_dates"])]
            out.append(b)
        return out

    # -- the queue -------------------------------------------------------------------------------------
    def _now(self, zone: dt.tzinfo) -> dt.datetime:
        return dt.datetime.fromtimestamp(self.clock(), zone)

    def _advance(self, hall: str, b: dict[str, Any], zone: dt.tzinfo, now: dt.datetime) -> None:
        """The windows call what waits, up to `now` (see the module's docstring)."""
        today = now.date().isoformat()
        self.conn.execute("UPDATE tickets SET state = 'lapsed' WHERE hall = ? AND business = ? AND day < ?"
                          " AND state = 'waiting'", (hall, b["code"], today))
        if b["windows"] <= 0:
            return
        interval = b["minutes_per_ticket"] * 60 / b["windows"]
        row = self.conn.execute("SELECT next_free_at FROM queue_days WHERE hall = ? AND business = ? AND day = ?",
                                (hall, b["code"], today)).fetchone()
        free_at = row["next_free_at"] if row and row["next_free_at"] is not None else None
        moved = False
        while True:
            waiting = self.conn.execute(
                "SELECT number, priority, issued_at FROM tickets WHERE hall = ? AND business = ? AND day = ?"
                " AND state = 'waiting' ORDER BY issued_at, number", (hall, b["code"], today)).fetchall()
            if not waiting:
                break
            first = max(waiting[0]["issued_at"], free_at if free_at is not None else -math.inf)
            at = next_opening(b["hours"], b["closed_dates"], zone, dt.datetime.fromtimestamp(first, zone))
            if at is None or at.date() != now.date() or at > now:
                break
            t = at.timestamp()
            eligible = [w for w in waiting if w["issued_at"] <= t]
            called = min(eligible, key=lambda w: (not w["priority"], w["issued_at"], w["number"]))
            self.conn.execute("UPDATE tickets SET state = 'called', called_at = ? WHERE hall = ? AND day = ?"
                              " AND number = ?", (t, hall, today, called["number"]))
            free_at, moved = t + interval, True
        if moved:
            self.conn.execute(
                "INSERT INTO queue_days (hall, business, day, next_number, next_free_at) VALUES (?,?,?,1,?)"
                " ON CONFLICT (hall, business, day) DO UPDATE SET next_free_at = excluded.next_free_at",
                (hall, b["code"], today, free_at))

    def _waiting(self, hall: str, business: str, day: str, priority_only: bool = False) -> int:
        sql = ("SELECT count(*) FROM tickets WHERE hall = ? AND business = ? AND day = ? AND state = 'waiting'"
               + (" AND priority = 1" if priority_only else ""))
        return self.conn.execute(sql, (hall, business, day)).fetchone()[0]

    @staticmethod
    def _estimate(waiting: int, b: dict[str, Any]) -> int:
        return math.ceil(waiting * b["minutes_per_ticket"] / max(1, b["windows"]))

    def queues(self, hall: str) -> dict[str, Any]:
        h = self._hall(hall)
        zone = hall_zone(h["utc_offset"])
        now = self._now(zone)
        day = now.date().isoformat()
        out = []
        with store.transaction(self.conn):
            for b in self._businesses(hall):
                self._advance(hall, b, zone, now)
                period = open_period(b["hours"], b["closed_dates"], zone, now)
                waiting = self._waiting(hall, b["code"], day)
                serving = self.conn.execute(
                    "SELECT number FROM tickets WHERE hall = ? AND business = ? AND day = ? AND state = 'called'"
                    " ORDER BY called_at DESC, number DESC LIMIT 1", (hall, b["code"], day)).fetchone()
                opens = None if period else next_opening(b["hours"], b["closed_dates"], zone, now)
                out.append({"code": b["code"], "name": b["name"], "prefix": b["prefix"], "windows": b["windows"],
                            "waiting": waiting, "estimated_wait_min": self._estimate(waiting, b),
                            "now_serving": serving["number"] if serving else None, "open_now": period is not None,
                            "opens_at": opens.isoformat() if opens else None,
                            "closes_at": period[1].isoformat() if period else None,
                            "hours": b["hours"], "closed_dates": [d.isoformat() for d in b["closed_dates"]
                                                                  if d >= now.date()]})
        return {"hall": hall, "name": h["name"], "utc_offset": h["utc_offset"], "now": now.isoformat(),
                "businesses": out, "offline_prefixes": json.loads(h["offline_prefixes"])}

    # -- tickets ---------------------------------------------------------------------------------------
    def _ticket_answer(self, row: sqlite3.Row, names: dict[str, str], zone: dt.tzinfo, again: bool) -> dict[str, Any]:
        day = dt.date.fromisoformat(row["day"])
        return {"number": row["number"], "business": row["business"], "business_name": names.get(row["business"], ""),
                "waiting_before": row["waiting_before"], "estimated_wait_min": row["estimated_wait_min"],
                "issued_at": dt.datetime.fromtimestamp(row["issued_at"], zone).isoformat(),
                "priority": bool(row["priority"]), "request_id": row["request_id"], "appointment": row["appointment"],
                "qr": ticket_qr(row["hall"], day, row["number"], row["request_id"]), "again": again}

    def issue(self, hall: str, kiosk_id: str, request: TicketRequest) -> dict[str, Any]:
        h = self._hall(hall)
        zone = hall_zone(h["utc_offset"])
        now = self._now(zone)
        businesses = {b["code"]: b for b in self._businesses(hall)}
        names = {code: b["name"] for code, b in businesses.items()}
        with store.transaction(self.conn):
            old = self.conn.execute("SELECT * FROM tickets WHERE kiosk_id = ? AND request_id = ?"
                                    " AND state != 'superseded'", (kiosk_id, request.request_id)).fetchone()
            if old is not None:
                if ((request.business not in (None, old["business"])) or request.appointment != old["appointment"]
                        or request.holder_hash != old["holder_hash"]):
                    raise TicketRefused("request_conflict", f"request {request.request_id} was made before with "
                                                            "another business, holder or appointment")
                return self._ticket_answer(old, names, zone, again=True)
            appointment = None
            if request.appointment is not None:
                appointment = self._checkable(h, request.appointment, zone, now)
                if appointment["ticket"] is not None:   # checked in before: the same ticket again
                    row = self.conn.execute("SELECT * FROM tickets WHERE hall = ? AND day = ? AND number = ?",
                                            (hall, appointment["day"], appointment["ticket"])).fetchone()
                    if row is not None:
                        return self._ticket_answer(row, names, zone, again=True)
                code = appointment["business"]
            else:
                code = request.business
            b = businesses.get(code or "")
            if b is None:
                raise TicketRefused("unknown_business", f"hall {hall!r} has no business {code!r}")
            if open_period(b["hours"], b["closed_dates"], zone, now) is None:
                raise TicketRefused("closed", f"{b['name']} is closed now",
                                    opens_at=next_opening(b["hours"], b["closed_dates"], zone, now))
            self._advance(hall, b, zone, now)
            day = now.date().isoformat()
            priority = appointment is not None
            waiting_before = self._waiting(hall, code, day, priority_only=priority)
            row = self.conn.execute("SELECT next_number FROM queue_days WHERE hall = ? AND business = ? AND day = ?",
                                    (hall, code, day)).fetchone()
            n = row["next_number"] if row else 1
            while self.conn.execute("SELECT 1 FROM tickets WHERE hall = ? AND day = ? AND number = ?",
                                    (hall, day, _number(b["prefix"], n))).fetchone():
                n += 1   # never a number the day already has
            number = _number(b["prefix"], n)
            self.conn.execute(
                "INSERT INTO queue_days (hall, business, day, next_number) VALUES (?,?,?,?) ON CONFLICT"
                " (hall, business, day) DO UPDATE SET next_number = excluded.next_number", (hall, code, day, n + 1))
            self.conn.execute(
                "INSERT INTO tickets (hall, day, number, business, kiosk_id, request_id, priority, offline,"
                " holder_hash, appointment, waiting_before, estimated_wait_min, issued_at, state)"
                " VALUES (?,?,?,?,?,?,?,0,?,?,?,?,?,'waiting')",
                (hall, day, number, code, kiosk_id, request.request_id, int(priority), request.holder_hash,
                 request.appointment, waiting_before, self._estimate(waiting_before, b), now.timestamp()))
            if appointment is not None:
                self.conn.execute("UPDATE appointments SET ticket = ?, checked_in_at = ? WHERE code = ?",
                                  (number, now.timestamp(), appointment["code"]))
            stored = self.conn.execute("SELECT * FROM tickets WHERE hall = ? AND day = ? AND number = ?",
                                       (hall, day, number)).fetchone()
        log.info("hall %s: ticket %s (%s%s) for kiosk %s", hall, number, code, ", appointment" if priority else "",
                 kiosk_id)
        return self._ticket_answer(stored, names, zone, again=False)

    # -- appointments ----------------------------------------------------------------------------------
    def add_appointment(self, hall: str, a: AppointmentDefinition) -> bool:
        """Book (or move, while not checked in) an appointment; False when it was checked in already."""
        self._hall(hall)
        start, end = a.slot.split("-")
        with store.transaction(self.conn):
            old = self.conn.execute("SELECT ticket FROM appointments WHERE code = ?", (a.code,)).fetchone()
            if old is not None and old["ticket"] is not None:
                return False
            self.conn.execute(
                "INSERT INTO appointments (code, hall, business, holder_hash, day, slot_start, slot_end)"
                " VALUES (?,?,?,?,?,?,?) ON CONFLICT (code) DO UPDATE SET hall = excluded.hall,"
                " business = excluded.business, holder_hash = excluded.holder_hash, day = excluded.day,"
                " slot_start = excluded.slot_start, slot_end = excluded.slot_end",
                (a.code, hall, a.business, a.holder_hash, a.day.isoformat(), start, end))
        return True

    def _appointment(self, h: sqlite3.Row, row: sqlite3.Row, zone: dt.tzinfo, now: dt.datetime) -> dict[str, Any]:
        day = dt.date.fromisoformat(row["day"])
        start = dt.datetime.combine(day, dt.time.fromisoformat(row["slot_start"]), zone)
        end = dt.datetime.combine(day, dt.time.fromisoformat(row["slot_end"]), zone)
        until = end + dt.timedelta(minutes=h["checkin_late_min"])
        name = self.conn.execute("SELECT name FROM businesses WHERE hall = ? AND code = ?",
                                 (row["hall"], row["business"])).fetchone()
        state = "checked_in" if row["ticket"] else ("missed" if now > until else "booked")
        return {"code": row["code"], "business": row["business"], "business_name": name["name"] if name else "",
                "day": row["day"], "slot": f"{row['slot_start']}-{row['slot_end']}", "state": state,
                "ticket": row["ticket"],
                "checkin_from": (start - dt.timedelta(minutes=h["checkin_early_min"])).isoformat(),
                "checkin_until": until.isoformat()}

    def appointment(self, hall: str, code: str) -> dict[str, Any] | None:
        h = self._hall(hall)
        zone = hall_zone(h["utc_offset"])
        row = self.conn.execute("SELECT * FROM appointments WHERE code = ? AND hall = ?", (code, hall)).fetchone()
        return None if row is None else self._appointment(h, row, zone, self._now(zone))

    def appointments_for(self, hall: str, holder_hash: str) -> list[dict[str, Any]]:
        h = self._hall(hall)
        zone = hall_zone(h["utc_offset"])
        now = self._now(zone)
        rows = self.conn.execute("SELECT * FROM appointments WHERE hall = ? AND holder_hash = ? AND day = ?"
                                 " ORDER BY slot_start, code", (hall, holder_hash, now.date().isoformat()))
        found = [self._appointment(h, r, zone, now) for r in rows]
        return [a for a in found if a["state"] != "missed"]

    def _checkable(self, h: sqlite3.Row, code: str, zone: dt.tzinfo, now: dt.datetime) -> dict[str, Any]:
        row = self.conn.execute("SELECT * FROM appointments WHERE code = ? AND hall = ?", (code, h["hall"])).fetchone()
        if row is None:
            raise TicketRefused("appointment_unknown", f"no appointment {code!r} in this hall")
        a = self._appointment(h, row, zone, now)
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
        """Called inside the batch's database transaction (kiosk/central/db.py): see the module's docstring."""
        hall = self.hall_of(kiosk_id)
        if hall != data.hall:
            log.warning("ticket %s of kiosk %s is for hall %r, the kiosk stands in %r: not queued", data.number,
                        kiosk_id, data.hall, hall)
            return "ignored"
        h = self._hall(hall)
        zone = hall_zone(h["utc_offset"])
        issued = data.issued_at.astimezone(zone)
        day = issued.date().isoformat()
        old = self.conn.execute("SELECT * FROM tickets WHERE kiosk_id = ? AND request_id = ? AND state != 'superseded'",
                                (kiosk_id, data.request_id)).fetchone()
        if old is not None and old["number"] == data.number:
            self.conn.execute("UPDATE tickets SET transaction_id = ? WHERE hall = ? AND day = ? AND number = ?",
                              (transaction_id, old["hall"], old["day"], old["number"]))
            return "known"
        if not data.offline:
            known = self.conn.execute("SELECT 1 FROM tickets WHERE hall = ? AND day = ? AND number = ?"
                                      " AND state != 'superseded'", (hall, day, data.number)).fetchone()
            if known:   # printed again for its appointment, under another request of the kiosk
                return "known"
            log.warning("ticket %s of kiosk %s: an online ticket the queue never issued", data.number, kiosk_id)
            return "ignored"
        if self.conn.execute("SELECT 1 FROM tickets WHERE hall = ? AND day = ? AND number = ?",
                             (hall, day, data.number)).fetchone():
            self.conn.execute("INSERT OR IGNORE INTO ticket_clashes (transaction_id, kiosk_id, hall, day, number,"
                              " received_at) VALUES (?,?,?,?,?,?)",
                              (transaction_id, kiosk_id, hall, day, data.number, self.base_clock()))
            log.warning("hall %s: kiosk %s issued %s offline on %s, a number the hall already had: check the kiosks'"
                        " [tickets] offline blocks (they overlap)", hall, kiosk_id, data.number, day)
            return "clash"
        at, how = issued.timestamp(), "inserted"
        if old is not None:   # issued here, the answer lost: the kiosk's number takes its place
            self.conn.execute("UPDATE tickets SET state = 'superseded' WHERE hall = ? AND day = ? AND number = ?",
                              (old["hall"], old["day"], old["number"]))
            at, how = min(at, old["issued_at"]), "superseded"
        state = "waiting" if day == self._now(zone).date().isoformat() else "lapsed"
        waiting = self._waiting(hall, data.business, day)
        self.conn.execute(
            "INSERT INTO tickets (hall, day, number, business, kiosk_id, request_id, priority, offline, holder_hash,"
            " appointment, waiting_before, estimated_wait_min, issued_at, state, transaction_id)"
            " VALUES (?,?,?,?,?,?,?,1,?,?,?,0,?,?,?)",
            (hall, day, data.number, data.business, kiosk_id, data.request_id, int(data.priority), data.holder_hash,
             data.appointment, waiting, at, state, transaction_id))
        log.info("hall %s: offline ticket %s of kiosk %s %s into the queue of %s", hall, data.number, kiosk_id, how,
                 day)
        return how

    # -- what the platform holds (operators, tests) -----------------------------------------------------
    def tickets(self, hall: str, day: str | None = None) -> list[dict[str, Any]]:
        """The tickets of `day` (every day: None) in queue order, the queue advanced to now first."""
        self.queues(hall)
        sql, params = "SELECT * FROM tickets WHERE hall = ?", [hall]
        if day:
            sql += " AND day = ?"
            params.append(day)
        return [dict(r) for r in self.conn.execute(sql + " ORDER BY day, issued_at, number", params)]

    def clashes(self, hall: str) -> list[dict[str, Any]]:
        return [dict(r) for r in self.conn.execute("SELECT * FROM ticket_clashes WHERE hall = ? ORDER BY day, number",
                                                   (hall,))]


def ticket_intake(system: QueueSystem) -> Callable[[sqlite3.Connection, str, dict[str, Any], float], None]:
    """The transaction intake's hook (kiosk/central/db.py `intake_hooks`): each newly stored `ticket` goes
    to `system.reconcile`, inside the batch's database transaction. What goes wrong there is logged and
    undone, and never refuses the transaction (a real queue system's adapter queues what it must forward
    rather than call out from here)."""
    def on_stored(conn: sqlite3.Connection, kiosk_id: str, row: dict[str, Any], _now: float) -> None:
        if row["kind"] != "ticket":
            return
        try:
            data = TicketData.model_validate_json(row["data"])
        except ValidationError as exc:
            log.warning("kiosk %s: ticket transaction %s does not fit: %s", kiosk_id, row["id"],
                        exc.errors(include_url=False)[0]["msg"])
            return
        conn.execute("SAVEPOINT ticket_reconcile")
        try:
            system.reconcile(kiosk_id, data, row["id"])
        except Exception as exc:  # the transaction is stored whatever the queue makes of it
            conn.execute("ROLLBACK TO ticket_reconcile")
            log.error("kiosk %s: ticket %s could not be put into the queue: %s: %s", kiosk_id, data.number,
                      type(exc).__name__, exc)
        conn.execute("RELEASE ticket_reconcile")
    return on_stored


def load_system(name: str, db, options: dict[str, Any]) -> QueueSystem:
    """The queue system `[queues] system` names (`module:callable`, called with the platform's database and
    the other keys of `[queues]`)."""
    import importlib

    module, _, attr = name.partition(":")
    return getattr(importlib.import_module(module), attr)(db, **options)


__all__ = ["AppointmentDefinition", "BusinessDefinition", "DemoQueue", "HallDefinition", "QueueSystem",
           "load_system", "ticket_intake"]
