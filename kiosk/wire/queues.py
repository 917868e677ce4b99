"""Queue tickets and appointment check-in on the wire (issue 18; docs/services.md), shared by kiosk and platform.

- `HallQueues`: what `GET /api/v1/halls/{hall}/queues` answers: the hall's business types with their
  opening hours, how many wait and the estimated wait. A kiosk keeps the last answer, so that offline it
  still lists the businesses and knows, from their `hours`, whether they are open and when they open;
- `TicketRequest` and `Ticket`: the body and the answer of `POST /api/v1/halls/{hall}/tickets`;
- `Appointment`: an appointment as a kiosk checks it in;
- `TicketData`: the `data` of a `ticket` transaction (the platform reconciles the offline ones);
- `TicketRefused`: a refusal the queue system gave (closed, unknown appointment...), with its code; the
  kiosk's domain catches it without knowing the HTTP client that raised it;
- the opening hours: `is_open`, `next_opening` and `closing_at` over a business's `hours` (a list of
  "HH:MM-HH:MM" periods per weekday, `mon` to `sun`) and `closed_dates`, in the hall's own UTC offset.

Nothing here holds personal data: a card holder travels only as the keyed hash of the ID number.
"""
from __future__ import annotations

import datetime as dt
import re
from typing import Annotated, Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
HALL_PATTERN = r"^[a-z0-9][a-z0-9-]{0,39}$"
BUSINESS_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_-]{0,31}$"
APPOINTMENT_PATTERN = r"^[A-Z0-9]{6,16}$"
HOLDER_PATTERN = r"^[0-9a-f]{64}$"
PERIOD = re.compile(r"^([01][0-9]|2[0-3]):([0-5][0-9])-([01][0-9]|2[0-4]):([0-5][0-9])$")
OFFSET = re.compile(r"^[+-](0[0-9]|1[0-4]):[0-5][0-9]$")
TICKET_QR_PREFIX = "kiosk-ticket:"
LOOK_AHEAD_DAYS = 14        # how far `next_opening` looks for an open period (a long holiday included)

Refusal = Literal["closed", "unknown_business", "appointment_unknown", "appointment_other_day", "too_early",
                  "appointment_missed", "request_conflict", "not_in_hall", "unknown_hall"]


class TicketRefused(Exception):
    """The queue system refused a ticket or a check-in for a reason the citizen is told (`code`, a
    `Refusal`); `opens_at` / `checkin_from` say when to come back where the reason has a time."""

    def __init__(self, code: str, message: str = "", *, opens_at: dt.datetime | None = None):
        super().__init__(message or code)
        self.code = code
        self.opens_at = opens_at


def normalise_appointment(value: str) -> str:
    """An appointment code as typed or scanned: upper case, without spaces or dashes."""
    return re.sub(r"[\s-]", "", value).upper()


# --- opening hours ------------------------------------------------------------------------------------

def hall_zone(utc_offset: str) -> dt.timezone:
    """`+08:00` as a fixed zone (halls in one offset all year: the mainland has no summer time)."""
    if not OFFSET.match(utc_offset):
        raise ValueError(f"a UTC offset is +HH:MM or -HH:MM, not {utc_offset!r}")
    sign = 1 if utc_offset[0] == "+" else -1
    return dt.timezone(sign * dt.timedelta(hours=int(utc_offset[1:3]), minutes=int(utc_offset[4:6])))


def periods(hours: dict[str, list[str]], day: dt.date, closed_dates: list[dt.date] | tuple = ()
            ) -> list[tuple[dt.time, dt.time | None]]:
    """The open periods of `day` (None as the end: until midnight)."""
    if day in closed_dates:
        return []
    out = []
    for text in hours.get(WEEKDAYS[day.weekday()], []):
        m = PERIOD.match(text)
        if not m:
            raise ValueError(f"an opening period is HH:MM-HH:MM, not {text!r}")
        start = dt.time(int(m[1]), int(m[2]))
        end = None if m[3] == "24" else dt.time(int(m[3]), int(m[4]))
        out.append((start, end))
    return sorted(out, key=lambda p: p[0])


def _span(day: dt.date, period: tuple[dt.time, dt.time | None], zone: dt.tzinfo) -> tuple[dt.datetime, dt.datetime]:
    start = dt.datetime.combine(day, period[0], zone)
    end = (dt.datetime.combine(day + dt.timedelta(days=1), dt.time(0), zone) if period[1] is None
           else dt.datetime.combine(day, period[1], zone))
    return start, end


def open_period(hours, closed_dates, zone: dt.tzinfo, now: dt.datetime) -> tuple[dt.datetime, dt.datetime] | None:
    """The period `now` falls in (start, end), or None while closed."""
    local = now.astimezone(zone)
    for period in periods(hours, local.date(), closed_dates):
        start, end = _span(local.date(), period, zone)
        if start <= local < end:
            return start, end
    return None


def is_open(hours, closed_dates, zone: dt.tzinfo, now: dt.datetime) -> bool:
    return open_period(hours, closed_dates, zone, now) is not None


def next_opening(hours, closed_dates, zone: dt.tzinfo, now: dt.datetime) -> dt.datetime | None:
    """When the business opens next after `now` (now itself while open); None when it does not open
    within LOOK_AHEAD_DAYS."""
    current = open_period(hours, closed_dates, zone, now)
    if current is not None:
        return now.astimezone(zone)
    local = now.astimezone(zone)
    for ahead in range(LOOK_AHEAD_DAYS + 1):
        day = local.date() + dt.timedelta(days=ahead)
        for period in periods(hours, day, closed_dates):
            start, _end = _span(day, period, zone)
            if start > local:
                return start
    return None


# --- the payloads -------------------------------------------------------------------------------------

class _Lenient(BaseModel):
    # read leniently: a newer platform (or a real queue system's adapter) may say more
    model_config = ConfigDict(extra="ignore")


Hours = dict[Literal["mon", "tue", "wed", "thu", "fri", "sat", "sun"],
             list[Annotated[str, Field(pattern=PERIOD.pattern)]]]


class BusinessQueue(_Lenient):
    code: Annotated[str, Field(pattern=BUSINESS_PATTERN)]
    name: Annotated[str, Field(min_length=1, max_length=40)]
    prefix: Annotated[str, Field(pattern=r"^[A-Z]{1,3}$", description="the letters its numbers start with")]
    windows: int = Field(ge=0, description="windows serving it now")
    waiting: int = Field(ge=0, description="tickets issued and not yet called, today")
    estimated_wait_min: int = Field(ge=0, description="for a ticket taken now")
    now_serving: str | None = Field(None, description="the last number called today")
    open_now: bool
    opens_at: AwareDatetime | None = Field(None, description="while closed: when it opens next (null: not "
                                                             "within two weeks)")
    closes_at: AwareDatetime | None = Field(None, description="while open: when this period ends")
    hours: Hours = Field(default_factory=dict, description='per weekday, e.g. {"mon": ["08:30-12:00", '
                                                           '"13:30-17:30"]}; a day not listed is closed')
    closed_dates: list[dt.date] = Field(default_factory=list, description="holidays in the next weeks")


class HallQueues(_Lenient):
    hall: str
    name: str
    utc_offset: Annotated[str, Field(pattern=OFFSET.pattern)]
    now: AwareDatetime = Field(description="the queue system's clock")
    businesses: list[BusinessQueue]
    offline_prefixes: list[str] = Field(default_factory=list, description="number prefixes the hall's kiosks "
                                                                          "use offline; never the platform's")

    @property
    def zone(self) -> dt.timezone:
        return hall_zone(self.utc_offset)

    def business(self, code: str) -> BusinessQueue | None:
        return next((b for b in self.businesses if b.code == code), None)


class TicketRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    request_id: Annotated[str, Field(pattern=r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$",
                                     description="a UUID the kiosk makes per ticket: the same request is "
                                                 "answered with the same ticket")]
    business: Annotated[str, Field(pattern=BUSINESS_PATTERN)] | None = Field(
        None, description="required unless an appointment is checked in (its business is the appointment's)")
    holder_hash: Annotated[str, Field(pattern=HOLDER_PATTERN)] | None = Field(
        None, description="the keyed hash of the ID card read, so the window sees the holder")
    appointment: Annotated[str, Field(pattern=APPOINTMENT_PATTERN)] | None = Field(
        None, description="check in this appointment: a priority ticket")


class Ticket(_Lenient):
    number: str
    business: str
    business_name: str
    waiting_before: int = Field(ge=0)
    estimated_wait_min: int = Field(ge=0)
    issued_at: AwareDatetime
    priority: bool
    request_id: str
    appointment: str | None = None
    qr: str | None = Field(None, description="what the ticket's QR code holds (the window's scanner calls "
                                             "the ticket up with it)")
    again: bool = Field(False, description="this request, or this appointment, was answered before: the same "
                                           "ticket again")


class Appointment(_Lenient):
    code: str
    business: str
    business_name: str
    day: dt.date
    slot: str = Field(description="HH:MM-HH:MM")
    state: Literal["booked", "checked_in", "missed"]
    ticket: str | None = Field(None, description="the number issued at check-in")
    checkin_from: AwareDatetime
    checkin_until: AwareDatetime


class AppointmentList(_Lenient):
    appointments: list[Appointment]


class TicketData(_Lenient):
    """The `data` of a `ticket` transaction. Online tickets are already in the platform's queue; an
    offline one (`offline: true`, a number from the kiosk's own block) is put into it by the platform."""

    hall: str
    business: str
    number: str
    request_id: str
    issued_at: AwareDatetime
    priority: bool = False
    offline: bool = False
    holder_hash: Annotated[str, Field(pattern=HOLDER_PATTERN)] | None = None
    appointment: str | None = None
    again: bool = False                        # the same ticket printed again (an appointment checked in before)


def ticket_qr(hall: str, day: dt.date, number: str, request_id: str) -> str:
    """What a ticket's QR code holds when the queue system gives nothing of its own: the hall, the day,
    the number and the kiosk's request id; nothing of the citizen."""
    return f"{TICKET_QR_PREFIX}{hall}:{day.isoformat()}:{number}:{request_id}"
