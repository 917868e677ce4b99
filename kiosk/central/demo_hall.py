"""The demo hall of `kiosk central seed` for queue tickets (issue 18): its business types and appointments.

Hall `demo-hall` (示例政务服务中心, +08:00), where the default config's kiosk `demo-hall-k01` stands;
its kiosks number offline with the prefix `Z` (config/kiosk.toml `[tickets]`). Four business types,
open on weekdays (two of them on Saturday mornings too). Two appointments on the demo day: one by
its code (`DEMO_APPOINTMENT`, typed or scanned), one for the kiosk simulator's demo ID card (checked in
with the card). The demo day is the demo queue's today unless the seed is given another.
"""
from __future__ import annotations

import datetime as dt

from kiosk.central.demo import DEMO_HOLDERS
from kiosk.central.queues import AppointmentDefinition, DemoQueue, HallDefinition
from kiosk.wire.hashing import holder_hash
from kiosk.wire.queues import hall_zone

DEMO_HALL = "demo-hall"
DEMO_KIOSK = "demo-hall-k01"
DEMO_APPOINTMENT = "80000001"          # typed or scanned at the kiosk: a priority ticket for 社保医保
DEMO_CARD_APPOINTMENT = "80000002"     # the simulator's demo card holder's, for 不动产登记
WEEKDAY_HOURS = ["08:30-12:00", "13:30-17:30"]


def _hours(saturday: bool) -> dict[str, list[str]]:
    days = {d: list(WEEKDAY_HOURS) for d in ("mon", "tue", "wed", "thu", "fri")}
    if saturday:
        days["sat"] = ["09:00-12:00"]
    return days


def definition(kiosks: list[str] | tuple[str, ...] = ()) -> HallDefinition:
    return HallDefinition.model_validate({
        "name": "示例政务服务中心", "utc_offset": "+08:00", "kiosks": [DEMO_KIOSK, *kiosks],
        "offline_prefixes": ["Z"], "checkin_early_min": 60, "checkin_late_min": 15,
        "businesses": [
            {"code": "social", "name": "社保医保", "prefix": "A", "windows": 3, "minutes_per_ticket": 8,
             "hours": _hours(True)},
            {"code": "household", "name": "户籍证件", "prefix": "B", "windows": 2, "minutes_per_ticket": 10,
             "hours": _hours(True)},
            {"code": "property", "name": "不动产登记", "prefix": "C", "windows": 2, "minutes_per_ticket": 15,
             "hours": _hours(False)},
            {"code": "tax", "name": "税务发票", "prefix": "D", "windows": 2, "minutes_per_ticket": 6,
             "hours": _hours(False)},
        ]})


def seed(queue: DemoQueue, hash_key: str | None, *, day: dt.date | None = None,
         kiosks: list[str] | tuple[str, ...] = ()) -> dict:
    """Define the demo hall (with `kiosks` beside the demo kiosk) and book its two appointments on `day`
    (default: the demo queue's today); the card's appointment only where the holder hash key is known."""
    hall = definition(kiosks)
    stored = queue.define_hall(DEMO_HALL, hall)
    if day is None:
        day = dt.datetime.fromtimestamp(queue.clock(), hall_zone(hall.utc_offset)).date()
    booked = []
    plan = [(DEMO_APPOINTMENT, "social", "10:00-10:30", None)]
    if hash_key:
        plan.append((DEMO_CARD_APPOINTMENT, "property", "10:30-11:00",
                     holder_hash(hash_key, DEMO_HOLDERS[4].id_number)))
    for code, business, slot, holder in plan:
        if queue.add_appointment(DEMO_HALL, AppointmentDefinition(code=code, business=business, day=day, slot=slot,
                                                                  holder_hash=holder)):
            booked.append({"code": code, "business": business, "day": day.isoformat(), "slot": slot,
                           "holder": holder is not None})
    return {"hall": DEMO_HALL, "kiosks": stored["kiosks"], "businesses": stored["businesses"],
            "appointments": booked}
