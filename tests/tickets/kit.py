"""A kit for the ticket tests: a hall's list as the platform answers it, a queue port answering as told, a
receipt printer and a card reader standing in for the devices, and the flow over a store of its own."""
from __future__ import annotations

import datetime as dt
import json
import types
from pathlib import Path

from kiosk.core.background import Inline
from kiosk.core.tickets import TicketBook, TicketFlow
from kiosk.hardware.device import Completion, DeviceError, State, Status
from kiosk.store import Store
from kiosk.sync import outbox
from kiosk.wire.errors import PlatformUnavailable
from kiosk.wire.queues import Appointment, HallQueues, Ticket, TicketRefused

HASH_KEY = "demo-deployment-key-change-me-000000"
ZONE = dt.timezone(dt.timedelta(hours=8))
MONDAY_0930 = dt.datetime(2026, 5, 18, 9, 30, tzinfo=ZONE)
WEEKDAYS = {d: ["08:30-12:00", "13:30-17:30"] for d in ("mon", "tue", "wed", "thu", "fri")}
ID_NUMBER = "110105199003071239"     # synthetic (the simulator's demo card)


def hall_list(now: dt.datetime, **overrides) -> HallQueues:
    """The demo hall's answer at `now`: social (A, 4 waiting) and property (C, closed on weekends)."""
    def business(code, name, prefix, waiting, hours):
        from kiosk.wire.queues import is_open, next_opening, open_period

        period = open_period(hours, [], ZONE, now)
        opens = None if period else next_opening(hours, [], ZONE, now)
        return {"code": code, "name": name, "prefix": prefix, "windows": 2, "waiting": waiting,
                "estimated_wait_min": waiting * 5, "now_serving": None, "open_now": is_open(hours, [], ZONE, now),
                "opens_at": opens.isoformat() if opens else None,
                "closes_at": period[1].isoformat() if period else None, "hours": hours, "closed_dates": []}
    doc = {"hall": "demo-hall", "name": "示例政务服务中心", "utc_offset": "+08:00", "now": now.isoformat(),
           "offline_prefixes": ["Z"],
           "businesses": [business("social", "社保医保", "A", 4, {**WEEKDAYS, "sat": ["09:00-12:00"]}),
                          business("property", "不动产登记", "C", 0, WEEKDAYS)]}
    doc.update(overrides)
    return HallQueues.model_validate(doc)


class Port:
    """The platform as the flow's QueuePort, answering as told; `offline` makes every call unanswered."""

    def __init__(self, now):
        self.now = now
        self.offline = False
        self.refuse: TicketRefused | None = None
        self.appointments: dict[str, Appointment] = {}
        self.by_holder: dict[str, list[Appointment]] = {}
        self.requests = []
        self.numbers = 0

    def _check(self):
        if self.offline:
            raise PlatformUnavailable("GET /api/v1/halls/demo-hall/queues: cannot reach the platform")

    def hall_queues(self, hall, timeout=None):
        self._check()
        return hall_list(self.now())

    def take_ticket(self, hall, request, timeout=None):
        self._check()
        self.requests.append(request)
        if self.refuse is not None:
            raise self.refuse
        self.numbers += 1
        appointment = self.appointments.get(request.appointment) if request.appointment else None
        business = appointment.business if appointment else request.business
        return Ticket(number=f"{'C' if business == 'property' else 'A'}{self.numbers:03d}", business=business,
                      business_name="不动产登记" if business == "property" else "社保医保",
                      waiting_before=0 if appointment else 4, estimated_wait_min=0 if appointment else 20,
                      issued_at=self.now(), priority=appointment is not None, request_id=request.request_id,
                      appointment=request.appointment)

    def find_appointment(self, hall, code, timeout=None):
        self._check()
        return self.appointments.get(code)

    def holder_appointments(self, hall, holder_hash, timeout=None):
        self._check()
        found = self.by_holder.get(holder_hash, [])
        self.appointments.update({a.code: a for a in found})
        return found


def appointment(code: str, business: str = "social", state: str = "booked", day: dt.date = MONDAY_0930.date(),
                slot: str = "10:00-10:30") -> Appointment:
    start = dt.datetime.combine(day, dt.time.fromisoformat(slot[:5]), ZONE)
    return Appointment(code=code, business=business, business_name="社保医保" if business == "social" else "不动产登记",
                       day=day, slot=slot, state=state, checkin_from=start - dt.timedelta(hours=1),
                       checkin_until=start + dt.timedelta(minutes=45))


class Printer:
    """The receipt printer: `paper` False makes it unusable before printing; `jam` fails the print itself."""

    def __init__(self):
        self.paper, self.jam, self.printed = True, False, []

    def status(self):
        return Status(State.ONLINE) if self.paper else Status(State.OFFLINE, "paper_out")

    def print_receipt(self, receipt):
        if self.jam:
            raise DeviceError("receipt_printer", Completion.HARDWARE_ERROR, "paper jam", "paper_jam")
        self.printed.append(receipt.plain_text())


class Reader:
    """The ID card reader: the next read gives `card`, or fails with `detail`."""

    def __init__(self):
        self.card = types.SimpleNamespace(name="张三", id_number=ID_NUMBER)
        self.detail: str | None = None
        self.reads = 0

    def read_card(self, timeout, cancel=None):
        self.reads += 1
        if self.detail == "canceled":
            raise DeviceError("idcard", Completion.CANCELED, "canceled", "canceled")
        if self.detail:
            raise DeviceError("idcard", Completion.TIMEOUT, self.detail, self.detail)
        return self.card


class Kit:
    def __init__(self, data: Path, *, now: dt.datetime = MONDAY_0930, executor=None, reader: bool = True,
                 start: int = 1, end: int = 499):
        self.data = data
        self.moment = [now]
        self.store = Store(data, "test-hall-k07")
        self.port = Port(lambda: self.moment[0])
        self.printer = Printer()
        self.reader = Reader() if reader else None
        self.start, self.end = start, end
        self.flow = self.make_flow(executor)

    def make_flow(self, executor=None) -> TicketFlow:
        """The flow as after a start of the kiosk: a new book and flow over the same database."""
        book = TicketBook(self.store, outbox, "demo-hall", prefix="Z", start=self.start, end=self.end)
        return TicketFlow(book, self.port, hall="demo-hall", hall_name="示例政务服务中心", kiosk_id="test-hall-k07",
                          hash_key=HASH_KEY, printer=self.printer, idcard=self.reader,
                          executor=executor or Inline(), now=lambda: self.moment[0])

    def at(self, moment: dt.datetime) -> None:
        self.moment[0] = moment

    def tickets_in_outbox(self) -> list[dict]:
        conn = self.store.connect()
        try:
            return [json.loads(r[0]) for r in conn.execute("SELECT body FROM outbox WHERE kind = 'ticket' ORDER BY seq")]
        finally:
            conn.close()
