"""Queue tickets and appointment check-in (取号 / 预约签到): TicketFlow, its receipt, its port and its book.

    LOADING --the hall's list (the platform's, else the one kept from its last answer)--> CHOOSE
            --every business closed--> CLOSED (when to come back)    --no list at all--> UNAVAILABLE
    CHOOSE --a business--> ID_CARD (optional: the window sees the holder) --a card, or "without"--> ISSUING
           --"I have an appointment"--> CHECK_IN
    CHECK_IN --the ID card read, or the appointment code typed or scanned--> CHECKING
    CHECKING --one appointment today--> ISSUING (a priority ticket)   --several--> APPOINTMENTS --one--> ISSUING
             --none, unknown, too early, missed, offline--> CHECK_IN with the reason
    ISSUING --the printer checked, a number issued and recorded--> PRINTING --> DONE
            --the printer cannot print--> PRINTER_DOWN (no number taken)
            --the business closed meanwhile--> CLOSED          --another refusal--> CHOOSE / CHECK_IN with it

Numbers come from the hall's queue system through the platform (`QueuePort`, the central client injected).
When the platform cannot answer, the kiosk issues the next number of its own block (`[tickets]
offline_prefix`, `offline_start`, `offline_end`, numbers starting again each day of the hall): the block's
counter, the ticket's row and its `ticket` transaction are written in one commit (`TicketBook`), so a crash or
a restart never gives a number twice, and the platform puts it into the queue when the transaction arrives
(kiosk/central/queues.py). An appointment cannot be checked in offline (nothing can verify it): the citizen
is told to take an ordinary number and show the appointment at the window.

The list of business types is kept from the platform's last answer (`ticket_queues`), with the time it came:
offline it is shown with its age, and its opening hours say whether a business is open and when it opens.
The hall's time is the kiosk's clock corrected by the difference to the queue system's clock it last saw.

The ID card is read only for the keyed hash of its number (DESIGN.md section 7): the window sees who the
ticket is for, and the hash goes with the ticket request and in the `ticket` transaction; nothing else of the
card is kept. The ticket prints the number, the business, how many wait before it, the time and a QR code the
window's scanner reads (what the queue system gives, else kiosk/wire/queues.py `ticket_qr`); nothing of the
citizen. A ticket that does not print stays on screen until the citizen taps Finish.

A ticket is a step towards the service at the window, not a service of its own: no rating is asked after it
(the window's service is what a citizen rates, on the window's own device), so the visit ends at DONE.

Leaving the visit (kiosk/core/flow.py): a number being issued and the ticket being printed finish first; a
ticket that did not print keeps its number on screen until the citizen taps Finish (not for the idle
timeout: the number is issued, and nobody is there to read it).
"""
from __future__ import annotations

import datetime as dt
import enum
import json
import logging
import re
import time
import uuid
from dataclasses import dataclass
from typing import Callable, Protocol

from kiosk.core import privacy
from kiosk.core.background import Executor
from kiosk.core.flow import FREE, Clock, Flow, Leave, Leaving
from kiosk.core.guides.printout import wrap
from kiosk.core.scanning import ScannerListening
from kiosk.core.steps import Steps, device_wait
from kiosk.hardware.device import CancelToken, Completion, DeviceError
from kiosk.hardware.receipt import TIMEOUTS as RECEIPT_TIMEOUTS, Receipt
from kiosk.i18n import N_, _, format_clock, format_date
from kiosk.store import PerThread, transaction
from kiosk.wire.errors import PlatformUnavailable
from kiosk.wire.queues import (APPOINTMENT_PATTERN, Appointment, BusinessQueue, HallQueues, TicketRefused,
                               TicketRequest, hall_zone, is_open, next_opening, normalise_appointment, ticket_qr)

log = logging.getLogger(__name__)

SERVICE = "tickets"
NEEDS = ("receipt_printer",)          # without it no ticket; the card reader and the scanner are optional
APPOINTMENT_QR_PREFIX = "KIOSK-APPOINTMENT:"   # an appointment's QR code: the prefix, then the code
DEFAULT_OFFSET = "+08:00"             # the hall's clock before any list came


# --- the port: the hall's queue system, through the platform ---------------------------------------------

class QueuePort(Protocol):
    """What the flow asks the platform (kiosk/sync/client.py implements it). A refusal is a
    `TicketRefused`; no answer is a `PlatformUnavailable`."""

    def hall_queues(self, hall: str, timeout: float | None = None) -> HallQueues: ...

    def take_ticket(self, hall: str, request: TicketRequest, timeout: float | None = None): ...

    def find_appointment(self, hall: str, code: str, timeout: float | None = None) -> Appointment | None: ...

    def holder_appointments(self, hall: str, holder_hash: str, timeout: float | None = None) -> list[Appointment]: ...


# --- the book: what the kiosk keeps ------------------------------------------------------------------------

class BlockUsedUp(Exception):
    """Every number of the kiosk's offline block has been issued today."""


@dataclass(frozen=True)
class IssuedTicket:
    """A ticket as the citizen gets it (the screen and the paper)."""

    number: str
    business: str
    business_name: str
    issued_at: dt.datetime              # in the hall's time
    priority: bool
    offline: bool
    request_id: str
    waiting_before: int | None          # None offline: the hall's calling screen says
    estimated_wait_min: int | None
    qr: str
    appointment: str | None = None
    again: bool = False                 # this appointment was checked in before: the same ticket again


class TicketBook:
    """The kiosk's tickets in SQLite (migration 0070): the offline block's counter, the tickets issued, the
    list kept from the platform. One connection per thread (`store.connect`)."""

    def __init__(self, store, outbox, hall: str, *, prefix: str, start: int, end: int, width: int = 3):
        self.outbox = outbox            # kiosk.sync.outbox (the module): enqueue(conn, kind, data)
        self.hall = hall
        self.prefix, self.start, self.end, self.width = prefix, start, end, width
        self._conn = PerThread(store.connect)

    def keep_queues(self, queues: HallQueues, fetched_at: dt.datetime) -> None:
        conn = self._conn()
        with transaction(conn):
            conn.execute("INSERT INTO ticket_queues (hall, body, fetched_at) VALUES (?,?,?) ON CONFLICT (hall)"
                         " DO UPDATE SET body = excluded.body, fetched_at = excluded.fetched_at",
                         (self.hall, queues.model_dump_json(), fetched_at.isoformat()))

    def kept_queues(self) -> tuple[HallQueues, dt.datetime] | None:
        row = self._conn().execute("SELECT body, fetched_at FROM ticket_queues WHERE hall = ?",
                                   (self.hall,)).fetchone()
        if row is None:
            return None
        return HallQueues.model_validate_json(row["body"]), dt.datetime.fromisoformat(row["fetched_at"])

    def record(self, ticket: IssuedTicket, holder: str | None) -> str:
        """The platform's ticket, with its `ticket` transaction, in one commit; the transaction's id."""
        conn = self._conn()
        with transaction(conn):
            return self._store(conn, ticket, holder)

    def issue_offline(self, business: BusinessQueue, request_id: str, at: dt.datetime,
                      holder: str | None) -> tuple[IssuedTicket, str]:
        """The next number of the block, its ticket and its `ticket` transaction, in one commit."""
        conn = self._conn()
        day = at.date().isoformat()
        with transaction(conn):
            row = conn.execute("SELECT next_number FROM ticket_block WHERE day = ? AND prefix = ?",
                               (day, self.prefix)).fetchone()
            n = max(self.start, row["next_number"] if row else self.start)
            while n <= self.end and conn.execute("SELECT 1 FROM tickets WHERE day = ? AND number = ?",
                                                 (day, self._number(n))).fetchone():
                n += 1          # a number this kiosk issued today (the block changed meanwhile) is never again
            if n > self.end:
                raise BlockUsedUp(f"{self.prefix}{self.start}-{self.end} all issued on {day}")
            conn.execute("INSERT INTO ticket_block (day, prefix, next_number) VALUES (?,?,?) ON CONFLICT"
                         " (day, prefix) DO UPDATE SET next_number = excluded.next_number", (day, self.prefix, n + 1))
            ticket = IssuedTicket(number=self._number(n), business=business.code, business_name=business.name,
                                  issued_at=at, priority=False, offline=True, request_id=request_id,
                                  waiting_before=None, estimated_wait_min=None,
                                  qr=ticket_qr(self.hall, at.date(), self._number(n), request_id))
            return ticket, self._store(conn, ticket, holder)

    def _number(self, n: int) -> str:
        return f"{self.prefix}{n:0{self.width}d}"

    def _store(self, conn, ticket: IssuedTicket, holder: str | None) -> str:
        data = {"hall": self.hall, "business": ticket.business, "number": ticket.number,
                "request_id": ticket.request_id, "issued_at": ticket.issued_at.isoformat(),
                "priority": ticket.priority, "offline": ticket.offline, "holder_hash": holder,
                "appointment": ticket.appointment, "waiting_before": ticket.waiting_before, "again": ticket.again}
        entry = self.outbox.enqueue(conn, "ticket", data)
        # a ticket printed again (an appointment checked in before: the same number) keeps its first row
        conn.execute("INSERT INTO tickets (request_id, day, number, business, priority, offline, issued_at, outbox_id)"
                     " VALUES (?,?,?,?,?,?,?,?) ON CONFLICT DO NOTHING",
                     (ticket.request_id, ticket.issued_at.date().isoformat(), ticket.number, ticket.business,
                      int(ticket.priority), int(ticket.offline), ticket.issued_at.isoformat(), entry.id))
        return entry.id


# --- the ticket on paper -----------------------------------------------------------------------------------

TICKET_TITLE = N_("Queue ticket")
TICKET_PRIORITY = N_("Appointment · priority")
TICKET_NOTE = N_("Please wait in the hall and watch the calling screen for your number. If you miss your "
                 "call, please ask at the service desk.")
TICKET_OFFLINE_NOTE = N_("Issued by this kiosk while the queue system could not be reached: your number is "
                         "called in the order it was taken.")


def ticket_receipt(ticket: IssuedTicket, *, hall: str, kiosk_id: str, width: int = 48) -> Receipt:
    """The ticket: the number large, the business, how many wait before it, the time, a QR code for the
    window's scanner. Nothing of the citizen is on it (DESIGN.md section 7)."""
    r = Receipt(width=width)
    r.title(_(TICKET_TITLE))
    for line in wrap(hall, width):
        r.centered(line)
    r.rule()
    r.line(ticket.number, bold=True, large=True, align="center")
    r.line(ticket.business_name, bold=True, align="center")
    if ticket.priority:
        r.centered(_(TICKET_PRIORITY))
    r.rule()
    if ticket.waiting_before is not None:
        r.line(_("Waiting before you: {n}").format(n=ticket.waiting_before))
        if ticket.estimated_wait_min:
            r.line(_("Estimated wait: about {m} minutes").format(m=ticket.estimated_wait_min))
    r.line(_("Time") + "：" + ticket.issued_at.strftime("%Y-%m-%d %H:%M"))
    r.line(_("Kiosk") + "：" + kiosk_id)
    r.qr(ticket.qr, size=5)
    for line in wrap(_(TICKET_NOTE), width):
        r.line(line)
    if ticket.offline:
        for line in wrap(_(TICKET_OFFLINE_NOTE), width):
            r.line(line)
    r.feed(2)
    r.cut()
    return r


# --- the flow ------------------------------------------------------------------------------------------------

class Step(str, enum.Enum):
    LOADING = "loading"
    CHOOSE = "choose"
    CLOSED = "closed"                 # every business closed now: when to come back
    UNAVAILABLE = "unavailable"       # no list: the platform cannot be reached and none was kept, or no hall
    ID_CARD = "id_card"
    ISSUING = "issuing"
    PRINTING = "printing"
    DONE = "done"
    PRINTER_DOWN = "printer_down"
    CHECK_IN = "check_in"
    CHECKING = "checking"
    APPOINTMENTS = "appointments"


class Notice(str, enum.Enum):
    BUSINESS_CLOSED = "business_closed"           # the one chosen is closed (opens_at says when it opens)
    NO_CARD = "no_card"
    CARD_NOT_READ = "card_not_read"
    BAD_CODE = "bad_code"
    NOT_AN_APPOINTMENT_CODE = "not_an_appointment_code"   # a pickup or payment code on the scanner
    APPOINTMENT_UNKNOWN = "appointment_unknown"
    APPOINTMENT_OTHER_DAY = "appointment_other_day"
    TOO_EARLY = "too_early"
    APPOINTMENT_MISSED = "appointment_missed"
    NO_APPOINTMENT_TODAY = "no_appointment_today"
    CHECK_IN_OFFLINE = "check_in_offline"
    BLOCK_USED_UP = "block_used_up"
    REFUSED = "refused"                           # any other refusal of the queue system


REFUSAL_NOTICES = {"closed": Notice.BUSINESS_CLOSED, "appointment_unknown": Notice.APPOINTMENT_UNKNOWN,
                   "appointment_other_day": Notice.APPOINTMENT_OTHER_DAY, "too_early": Notice.TOO_EARLY,
                   "appointment_missed": Notice.APPOINTMENT_MISSED}

# the steps the citizen is told of: the business chosen (the list loading before it), who they are (the
# optional ID card, or the appointment checked in), the ticket issued and printed. Without a card reader
# a plain ticket skips the second (known once a business is chosen)
STEPS = Steps(("choose", "identify", "ticket"), {
    Step.LOADING: "choose", Step.CHOOSE: "choose",
    Step.ID_CARD: "identify", Step.CHECK_IN: "identify", Step.CHECKING: "identify", Step.APPOINTMENTS: "identify",
    Step.ISSUING: "ticket", Step.PRINTING: "ticket",
    Step.DONE: None, Step.CLOSED: None, Step.UNAVAILABLE: None, Step.PRINTER_DOWN: None,
}, optional=("identify",))

LEAVING = {
    Step.ISSUING: Leaving(Leave.FINISH, "ticket_issuing"),
    Step.PRINTING: Leaving(Leave.FINISH, "receipt_printing"),
}
_APPOINTMENT = re.compile(APPOINTMENT_PATTERN)


class TicketFlow(ScannerListening, Flow[Step]):
    name = SERVICE
    steps = STEPS
    waits = {Step.LOADING: "lookup_timeout_s", Step.ID_CARD: "card_timeout_s", Step.CHECKING: "lookup_timeout_s",
             Step.ISSUING: "lookup_timeout_s", Step.PRINTING: "receipt_printing_s"}
    transitions = {
        Step.LOADING: {Step.CHOOSE, Step.CLOSED, Step.UNAVAILABLE},
        Step.CHOOSE: {Step.ID_CARD, Step.ISSUING, Step.CHECK_IN, Step.LOADING},
        Step.ID_CARD: {Step.ISSUING, Step.CHOOSE},
        Step.CHECK_IN: {Step.CHECKING, Step.CHOOSE},
        Step.CHECKING: {Step.CHECK_IN, Step.APPOINTMENTS, Step.ISSUING},
        Step.APPOINTMENTS: {Step.ISSUING, Step.CHECK_IN, Step.CHOOSE},
        Step.ISSUING: {Step.PRINTING, Step.PRINTER_DOWN, Step.CLOSED, Step.CHOOSE, Step.CHECK_IN},
        Step.PRINTING: {Step.DONE},
        Step.UNAVAILABLE: {Step.LOADING},
        # DONE, CLOSED and PRINTER_DOWN end the visit: the next one starts from LOADING (begin)
    }

    def __init__(self, book: TicketBook, port: QueuePort | None, *, hall: str, hall_name: str, kiosk_id: str,
                 hash_key: str, printer=None, idcard=None, scanner=None, executor: Executor | None = None,
                 card_executor: Executor | None = None, scan_executor: Executor | None = None,
                 now: Callable[[], dt.datetime] = dt.datetime.now, clock: Clock = time.monotonic,
                 card_timeout_s: float = 30, lookup_timeout_s: float = 3):
        super().__init__(Step.LOADING, executor=executor, clock=clock)
        self.book = book
        self.port = port
        self.hall, self.hall_name, self.kiosk_id = hall, hall_name, kiosk_id
        self.key = hash_key
        self.printer, self.idcard, self.scanner = printer, idcard, scanner
        self.card_executor = card_executor or self.executor
        self.scan_executor = scan_executor
        self.now = now
        self.card_timeout_s, self.lookup_timeout_s = card_timeout_s, lookup_timeout_s
        self._skew = dt.timedelta(0)   # the queue system's clock minus the kiosk's, when last seen
        self._reset_fields()

    @property
    def receipt_printing_s(self) -> float:
        """Sending the receipt: the receipt printer driver's write timeout."""
        return device_wait(self.printer, RECEIPT_TIMEOUTS, "write")

    def _reset_fields(self) -> None:
        self.notice: Notice | None = None
        self.queues: HallQueues | None = None
        self.kept_at: dt.datetime | None = None    # the list is the one kept from this time (offline)
        self.chosen: BusinessQueue | None = None
        self.opens_at: dt.datetime | None = None   # CLOSED, BUSINESS_CLOSED, TOO_EARLY: when to come back
        self.holder: str | None = None
        self.reading_card = False
        self._card_token: CancelToken | None = None
        self.typed = ""
        self.appointments: list[Appointment] = []
        self.checking_in = False                   # the visit took the appointment's way
        self.ticket: IssuedTicket | None = None
        self.transaction_id: str | None = None
        self.printed: bool | None = None
        self.number_noted = False

    def skipped_steps(self) -> set[str]:
        if self.chosen is not None and not self.checking_in and not self.can_read_cards:
            return {"identify"}
        return set()

    # --- what the screens read --------------------------------------------------------------------------
    @property
    def step(self) -> Step:
        return self.state

    @property
    def zone(self) -> dt.timezone:
        return hall_zone(self.queues.utc_offset if self.queues else DEFAULT_OFFSET)

    def hall_now(self) -> dt.datetime:
        """The hall's time: the kiosk's clock (naive: it shows the hall's time), corrected by the difference
        to the queue system's clock it last saw."""
        now = self.now()
        if now.tzinfo is None:
            now = now.replace(tzinfo=self.zone)
        return (now + self._skew).astimezone(self.zone)

    @property
    def offline(self) -> bool:
        return self.kept_at is not None

    def age_minutes(self) -> int:
        """How old the kept list is, in whole minutes."""
        if self.kept_at is None:
            return 0
        now = self.now()
        kept = self.kept_at if now.tzinfo is not None else self.kept_at.replace(tzinfo=None)
        return max(0, int((now - kept).total_seconds() // 60))

    def open_now(self, business: BusinessQueue) -> bool:
        """Open now: the platform's word while online, the business's hours offline."""
        if not self.offline:
            return business.open_now
        return is_open(business.hours, business.closed_dates, self.zone, self.hall_now())

    def opening(self, business: BusinessQueue) -> dt.datetime | None:
        if not self.offline:
            return business.opens_at.astimezone(self.zone) if business.opens_at else None
        return next_opening(business.hours, business.closed_dates, self.zone, self.hall_now())

    @property
    def can_read_cards(self) -> bool:
        return self.idcard is not None

    # --- leaving the visit (kiosk/core/flow.py) ----------------------------------------------------------
    def leaving(self, idle: bool) -> Leaving:
        if self.step is Step.DONE and self.printed is False and not self.number_noted and not idle:
            return Leaving(Leave.CONFIRM, "ticket_number")
        return LEAVING.get(self.step, FREE)

    def cancel_in_flight(self) -> None:
        """Nothing to call back: a number being issued is printed, a ticket printing finishes."""

    def number_seen(self) -> None:
        """The citizen tapped Finish with the number on screen (the ticket did not print): leaving is free."""
        self.number_noted = True

    # --- visits ------------------------------------------------------------------------------------------------
    def _show(self, step: Step | None = None, notice: Notice | None | bool = False) -> None:
        if step is not None:
            self.go(step, tell=False)
        if notice is not False:
            self.notice = notice
        self.changed()

    def _report(self, step: Step | None, notice: Notice | None | bool = False, visit: int | None = None) -> None:
        """From the work: the change, on the flow's own thread, while the visit lasts."""
        self.deliver(lambda: self._show(step, notice), visit)

    def end_visit(self) -> None:
        """The visit ended (the session's wipe): a card read or the scanner stops, nothing of it stays."""
        self._stop_card()
        self.stop_scanning()
        self.new_visit()
        self._reset_fields()
        self.changed()

    reset = end_visit

    def begin(self) -> None:
        """A new citizen: the hall's list, from the platform, else the one kept."""
        self.end_visit()
        self.run(self._load, self._loaded)

    def refresh(self) -> None:
        if self.step in (Step.CHOOSE, Step.UNAVAILABLE):
            self._show(Step.LOADING, None)
            self.run(self._load, self._loaded)

    def _load(self) -> tuple[HallQueues | None, dt.datetime | None]:
        queues, kept_at = None, None
        if self.port is not None and self.hall:
            try:
                queues = self.port.hall_queues(self.hall, timeout=self.lookup_timeout_s)
                fetched = self._aware_now()
                self._skew = queues.now - fetched
                try:
                    self.book.keep_queues(queues, fetched)
                except Exception:   # shown all the same; only the offline copy is older
                    log.exception("tickets: the hall's list could not be kept for offline use")
            except PlatformUnavailable as exc:
                log.info("tickets: the hall's queues not reached (%s): the kept list is shown", exc)
            except TicketRefused as exc:
                log.error("tickets: the platform refused the hall %r (%s): check [tickets] hall and the hall's "
                          "kiosks on the platform", self.hall, exc)
            except Exception:   # an answer that is not a list is the platform's problem
                log.exception("tickets: the hall's queues could not be read; the kept list is shown")
        if queues is None and self.hall:
            kept = self.book.kept_queues()
            if kept is not None:
                queues, kept_at = kept
                self._skew = queues.now - kept_at
        return queues, kept_at

    def _aware_now(self) -> dt.datetime:
        now = self.now()
        return now.replace(tzinfo=self.zone) if now.tzinfo is None else now

    def _loaded(self, result, error) -> None:
        if error is not None:
            log.error("tickets: the hall's list: %s: %s", type(error).__name__, error)
        queues, kept_at = result if error is None else (None, None)
        self.queues, self.kept_at = queues, kept_at
        if queues is None or not queues.businesses:
            self._show(Step.UNAVAILABLE, None)
            return
        if not any(self.open_now(b) for b in queues.businesses):
            openings = [t for t in (self.opening(b) for b in queues.businesses) if t is not None]
            self.opens_at = min(openings) if openings else None
            self._show(Step.CLOSED, None)
            return
        self._show(Step.CHOOSE, None)

    # --- an ordinary ticket ------------------------------------------------------------------------------------
    def choose(self, code: str) -> None:
        """CHOOSE: a business; closed now, it says when it opens; else the optional ID card, then the number."""
        if self.step is not Step.CHOOSE or self.queues is None:
            return
        business = self.queues.business(code)
        if business is None:
            return
        self.chosen, self.holder = business, None
        if not self.open_now(business):
            self.opens_at = self.opening(business)
            self._show(notice=Notice.BUSINESS_CLOSED)
            return
        self.opens_at = None
        if self.can_read_cards:
            self._show(Step.ID_CARD, None)
        else:
            self._issue()

    def without_card(self) -> None:
        """ID_CARD: no card; the number is issued at once."""
        if self.step is Step.ID_CARD:
            self._stop_card()
            self._issue()

    def back(self) -> None:
        """Back to the list (from the card, the check-in and the appointments)."""
        if self.step in (Step.ID_CARD, Step.CHECK_IN, Step.APPOINTMENTS):
            self._stop_card()
            self.stop_scanning()
            self.typed, self.appointments, self.holder = "", [], None
            self.checking_in = False
            self._show(Step.CHOOSE, None)

    # --- the ID card ----------------------------------------------------------------------------------------------
    def read_card(self) -> None:
        """ID_CARD or CHECK_IN: wait for the card on the card executor (the keypad stays usable meanwhile)."""
        if self.step not in (Step.ID_CARD, Step.CHECK_IN) or self.reading_card or self.idcard is None:
            return
        self.reading_card = True
        token = self._card_token = CancelToken()
        at, visit, reader, timeout = self.step, self.visit, self.idcard, self.card_timeout_s

        def work():
            return reader.read_card(timeout, token)

        def read(card, error) -> None:
            self.reading_card = False
            if self._card_token is token:
                self._card_token = None
            if visit != self.visit or self.step is not at:
                return
            if error is not None:
                if getattr(error, "completion", None) is Completion.CANCELED:
                    return
                detail = getattr(error, "detail", "")
                self._show(notice=Notice.NO_CARD if detail == "no_card" else Notice.CARD_NOT_READ)
                return
            privacy.remember_person(card.name, card.id_number)
            self.holder = privacy.holder_hash(self.key, card.id_number)
            del card     # nothing of the card but the keyed hash is kept
            if at is Step.ID_CARD:
                self._issue()
            else:
                self._by_holder()
        self.card_executor.run(work, read)

    def _stop_card(self) -> None:
        if self._card_token is not None:
            self._card_token.cancel()
            self._card_token = None

    # --- checking an appointment in ------------------------------------------------------------------------------
    def check_in(self) -> None:
        if self.step is Step.CHOOSE:
            self.typed, self.holder, self.appointments = "", None, []
            self.checking_in = True
            self._show(Step.CHECK_IN, None)

    def press(self, key: str) -> None:
        if self.step is Step.CHECK_IN and len(key) == 1 and key.isalnum() and len(self.typed) < 16:
            self.typed += key.upper()
            self._show(notice=None)

    def backspace(self) -> None:
        self.typed = self.typed[:-1]
        self._show(notice=None)

    def clear(self) -> None:
        self.typed = ""
        self._show(notice=None)

    def submit(self) -> None:
        """CHECK_IN: the code typed (or scanned) is looked up, then checked in."""
        if self.step is not Step.CHECK_IN:
            return
        code = normalise_appointment(self.typed)
        if not _APPOINTMENT.fullmatch(code):
            self._show(notice=Notice.BAD_CODE)
            return
        self._stop_card()
        self.typed = code
        self._look_up(lambda: self.port.find_appointment(self.hall, code, timeout=self.lookup_timeout_s),
                      self._code_found)

    def _code_found(self, found: Appointment | None) -> None:
        if found is None:
            self._show(Step.CHECK_IN, Notice.APPOINTMENT_UNKNOWN)
        elif found.state == "missed":
            self._show(Step.CHECK_IN, Notice.APPOINTMENT_MISSED)
        else:
            self._check_in_appointment(found)

    def scanned(self, code) -> None:
        """A code from the scanner, at CHECK_IN: an appointment's QR code. A pickup or payment code is the
        citizen's secret and is never sent as an appointment."""
        if self.step is not Step.CHECK_IN:
            return
        if getattr(getattr(code, "kind", None), "value", None) != "other":
            self._show(notice=Notice.NOT_AN_APPOINTMENT_CODE)
            return
        self.typed = normalise_appointment(code.value.removeprefix(APPOINTMENT_QR_PREFIX))
        self.submit()

    def _by_holder(self) -> None:
        self.stop_scanning()
        holder = self.holder
        self._look_up(lambda: self.port.holder_appointments(self.hall, holder, timeout=self.lookup_timeout_s),
                      self._holder_found)

    def _look_up(self, ask: Callable[[], object], answered: Callable[[object], None]) -> None:
        """CHECKING: `ask` the platform on the executor, `answered(what it said)` back on the flow's thread;
        offline or refused, back to CHECK_IN with the reason."""
        self._show(Step.CHECKING, None)
        visit = self.visit

        def work() -> None:
            try:
                found = ask()
            except PlatformUnavailable as exc:
                log.info("tickets: the appointment not looked up (%s)", exc)
                self._report(Step.CHECK_IN, Notice.CHECK_IN_OFFLINE, visit)
                return
            except TicketRefused as exc:
                self._report(Step.CHECK_IN, REFUSAL_NOTICES.get(exc.code, Notice.REFUSED), visit)
                return
            self.deliver(lambda: answered(found), visit)
        self.run(work, self._check_failed)

    def _check_failed(self, _result, error) -> None:
        if error is not None and self.step is Step.CHECKING:   # a broken answer: the citizen may try again
            log.error("tickets: the appointment look-up failed: %s: %s", type(error).__name__, error)
            self._show(Step.CHECK_IN, Notice.REFUSED)

    def _holder_found(self, found: list[Appointment]) -> None:
        if not found:
            self._show(Step.CHECK_IN, Notice.NO_APPOINTMENT_TODAY)
        elif len(found) == 1:
            self._check_in_appointment(found[0])
        else:
            self.appointments = list(found)
            self._show(Step.APPOINTMENTS, None)

    def choose_appointment(self, code: str) -> None:
        if self.step is Step.APPOINTMENTS:
            found = next((a for a in self.appointments if a.code == code), None)
            if found is not None:
                self._check_in_appointment(found)

    def _check_in_appointment(self, appointment: Appointment) -> None:
        business = self.queues.business(appointment.business) if self.queues else None
        self.chosen = business or BusinessQueue(code=appointment.business, name=appointment.business_name, prefix="A",
                                                windows=0, waiting=0, estimated_wait_min=0, open_now=True)
        self._issue(appointment=appointment.code)

    # --- issuing, recording and printing (in the work) --------------------------------------------------------
    def _issue(self, appointment: str | None = None) -> None:
        business, holder, visit = self.chosen, self.holder, self.visit
        back = Step.CHECK_IN if appointment else Step.CHOOSE
        self._show(Step.ISSUING, None)
        request = TicketRequest(request_id=str(uuid.uuid4()), business=None if appointment else business.code,
                                holder_hash=holder, appointment=appointment)

        def failed(_result, error) -> None:
            if error is not None:   # nothing was recorded: the citizen may try again, or ask
                log.error("tickets: no ticket issued: %s: %s", type(error).__name__, error)
                self._show(back, Notice.REFUSED)
        self.run(lambda: self._issue_work(request, business, back, visit), failed)

    def _issue_work(self, request: TicketRequest, business: BusinessQueue, back: Step, visit: int) -> None:
        printer = self.printer
        try:
            usable = printer is not None and printer.status().usable
        except Exception as exc:  # the printer did not answer: it cannot print either
            log.warning("tickets: the receipt printer's status: %s", getattr(exc, "message", exc))
            usable = False
        if not usable:
            log.warning("tickets: no number taken, the receipt printer cannot print")
            self._report(Step.PRINTER_DOWN, None, visit)
            return
        try:
            ticket = self._take(request, business)
            transaction_id = self.book.record(ticket, request.holder_hash)
        except TicketRefused as exc:
            log.info("tickets: refused: %s (%s)", exc.code, exc)
            self.opens_at = exc.opens_at.astimezone(self.zone) if exc.opens_at else None
            if exc.code == "closed" and back is Step.CHOOSE:
                self._report(Step.CHOOSE, Notice.BUSINESS_CLOSED, visit)
            else:
                self._report(back, REFUSAL_NOTICES.get(exc.code, Notice.REFUSED), visit)
            return
        except PlatformUnavailable as exc:
            if request.appointment is not None:
                log.info("tickets: appointment %s not checked in (%s)", request.appointment, exc)
                self._report(Step.CHECK_IN, Notice.CHECK_IN_OFFLINE, visit)
                return
            log.info("tickets: the queue system not reached (%s): a number of the kiosk's block", exc)
            at = self.hall_now()
            if business.hours and not is_open(business.hours, business.closed_dates, self.zone, at):
                self.opens_at = next_opening(business.hours, business.closed_dates, self.zone, at)
                self._report(Step.CHOOSE, Notice.BUSINESS_CLOSED, visit)
                return
            try:
                ticket, transaction_id = self.book.issue_offline(business, request.request_id, at,
                                                                 request.holder_hash)
            except BlockUsedUp as exc:
                log.error("tickets: the kiosk's offline block is used up (%s): widen [tickets] offline_end", exc)
                self._report(Step.CHOOSE, Notice.BLOCK_USED_UP, visit)
                return
        log.info("tickets: %s for %s%s%s", ticket.number, ticket.business, " (appointment)" if ticket.priority else "",
                 " offline" if ticket.offline else "")
        self.ticket, self.transaction_id = ticket, transaction_id
        self._report(Step.PRINTING, None, visit)
        self.printed = self._print(ticket)
        self._report(Step.DONE, None, visit)

    def _take(self, request: TicketRequest, business: BusinessQueue) -> IssuedTicket:
        answer = self.port.take_ticket(self.hall, request, timeout=self.lookup_timeout_s) if self.port else None
        if answer is None:
            raise _NoPort()
        issued = answer.issued_at.astimezone(self.zone)
        return IssuedTicket(number=answer.number, business=answer.business,
                            business_name=answer.business_name or business.name, issued_at=issued,
                            priority=answer.priority, offline=False, request_id=request.request_id,
                            waiting_before=answer.waiting_before, estimated_wait_min=answer.estimated_wait_min,
                            qr=answer.qr or ticket_qr(self.hall, issued.date(), answer.number, request.request_id),
                            appointment=answer.appointment, again=answer.again)

    def _print(self, ticket: IssuedTicket) -> bool:
        try:
            self.printer.print_receipt(ticket_receipt(ticket, hall=self.hall_name, kiosk_id=self.kiosk_id))
        except Exception as exc:  # paper out, cover open, no answer: the screen keeps the number
            log.warning("tickets: ticket %s not printed: %s", ticket.number, getattr(exc, "message", exc))
            return False
        return True


class _NoPort(PlatformUnavailable):
    """No platform configured for this kiosk: every ticket comes from the block."""


def when_text(moment: dt.datetime | None, today: dt.date) -> str:
    """'08:30' today, '明天 08:30' / 'tomorrow 08:30', else the full date and time, in the current language."""
    if moment is None:
        return ""
    if moment.date() == today:
        return format_clock(moment)
    if moment.date() == today + dt.timedelta(days=1):
        return _("tomorrow {time}").format(time=format_clock(moment))
    return f"{format_date(moment.date())} {format_clock(moment)}"


__all__ = ["BlockUsedUp", "IssuedTicket", "Notice", "QueuePort", "Step", "TicketBook", "TicketFlow", "NEEDS",
           "SERVICE", "ticket_receipt", "when_text"]
