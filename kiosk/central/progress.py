"""Case progress (办件进度, issue 18): the approval system's events stored, and how far a case is.

The approval system reports each step of a case (`POST /api/v1/cases/{case_number}/events`,
kiosk.wire.progress `CaseEventUpload`): stored once per event id, a retry changes nothing, another body
under a stored id is refused. A kiosk, or an operator, asks how far a case is (`progress`), or lists the
cases of an ID card's holder by the keyed hash of the number (`of_holder`, newest first, bounded).

How far a case is comes from what the platform knows, computed at the time of the injected clock:

- the steps, in the order they were first reported, each with its latest status; the case is at the step
  of its latest event when that one is `current` (an earlier step reported `current` and never `done`
  is shown done: the case has moved on);
- finished: a step reported `done` with `final`, or the case's item reached a locker (the pickup loop,
  kiosk/central/pickup_intake.py), whichever came first;
- late: a promised date was given and it ended (midnight after it, in the hall's offset: the latest one
  the approval system sent, else UTC+8) before the case was finished, or before now while it is not;
- next: what the citizen does now, from the pickup loop's latest item of the case (held in door N at
  kiosk K: collect it, the code went by SMS; collected; recalled: go to the window) or else from the
  steps (wait; concluded: wait for the SMS with the code).

Nothing personal is answered: the case's holder is known by a keyed hash that is never sent back here,
and its phone numbers stay in the `cases` table.
"""
from __future__ import annotations

import hashlib
import json
from datetime import date, datetime, time, timedelta, timezone
from typing import TYPE_CHECKING, Any, Callable, Mapping

from sqlalchemy import Connection, text

from kiosk.central.messages import local, short_date
from kiosk.wire.cases import normalise_case_number
from kiosk.wire.progress import HOLDER_CASES_DEFAULT, CaseEventUpload

if TYPE_CHECKING:
    from kiosk.central.db import CentralDB

HALL_OFFSET_S = 8 * 3600   # China Standard Time, until the approval system sends a time with its own offset


class UnknownCase(Exception):
    """An event for a case the platform was never sent: the case is posted first."""


class EventConflict(Exception):
    """An event id already stored with another body."""


def _rfc3339(t: float | None, offset_s: int) -> str | None:
    return None if t is None else local(t, offset_s).isoformat()


def _offset_of(moment: datetime) -> int:
    off = moment.utcoffset()
    return int(off.total_seconds()) if off is not None else 0


# a case's events in the order they happened; received order (then the id) within the same time
EVENT_ORDER = "ORDER BY at, received_at, event_id"


class CaseProgressBook:
    """The progress of the cases of the platform's database (`CentralDB`), at the time of `clock` (unix
    seconds; the database's clock when not given)."""

    def __init__(self, db: CentralDB, clock: Callable[[], float] | None = None):
        self.db = db
        self.clock = clock if clock is not None else db.clock

    # -- the approval system's events ---------------------------------------------------------------
    def add_event(self, case_number: str, event: CaseEventUpload, operator: str) -> str:
        """Store one event of a case: 'created', or 'duplicate' for the same body again. UnknownCase,
        EventConflict. The case's row is locked while its event is stored: two events of one case posted at
        once, on two workers, are one after the other, and the same event twice is stored once."""
        case = normalise_case_number(case_number)
        body = {"step": event.step, "status": event.status, "at": event.at.timestamp(),
                "offset": _offset_of(event.at), "department": event.department, "note": event.note,
                "final": event.final}
        body_hash = hashlib.sha256(json.dumps(body, sort_keys=True, ensure_ascii=False).encode()).hexdigest()
        with self.db.begin() as conn:
            lock = " FOR UPDATE" if conn.dialect.name == "postgresql" else ""   # SQLite: one writer at a time
            if conn.execute(text(f"SELECT 1 FROM cases WHERE case_number = :case{lock}"),
                            {"case": case}).first() is None:
                raise UnknownCase(f"no case {case!r} on the platform: post the case (POST /api/v1/cases) before "
                                  "its events")
            stored = conn.execute(text(
                "INSERT INTO case_events (case_number, event_id, step, status, at, utc_offset_s, department, note,"
                " final, body_hash, posted_by, received_at) VALUES (:case, :event_id, :step, :status, :at, :offset,"
                " :department, :note, :final, :body_hash, :posted_by, :received_at)"
                " ON CONFLICT (case_number, event_id) DO NOTHING RETURNING event_id"),
                {"case": case, "event_id": event.event_id, "step": event.step, "status": event.status,
                 "at": body["at"], "offset": body["offset"], "department": event.department, "note": event.note,
                 "final": int(event.final), "body_hash": body_hash, "posted_by": operator,
                 "received_at": self.clock()}).first()
            if stored is None:
                old = conn.execute(text("SELECT body_hash FROM case_events WHERE case_number = :case"
                                        " AND event_id = :event_id"),
                                   {"case": case, "event_id": event.event_id}).scalar_one()
                if old == body_hash:
                    return "duplicate"
                raise EventConflict(f"event {event.event_id!r} of case {case} is stored with another body: an event "
                                    "id is posted once; report a change as a new event")
            # the hall's clock, for the day a promised date ends on: the latest the approval system sent
            conn.execute(text("UPDATE cases SET utc_offset_s = :offset WHERE case_number = :case AND NOT EXISTS ("
                              " SELECT 1 FROM case_events e WHERE e.case_number = :case AND e.at > :at)"),
                         {"offset": body["offset"], "case": case, "at": body["at"]})
        return "created"

    # -- how far a case is ----------------------------------------------------------------------------
    def progress(self, case_number: str) -> dict[str, Any] | None:
        """`CaseProgress` (kiosk.wire.progress) of a case; None when the platform does not know it."""
        with self.db.reading() as conn:
            row = conn.execute(text(f"SELECT {CASE_COLUMNS} FROM cases WHERE case_number = :case"),
                               {"case": normalise_case_number(case_number)}).mappings().first()
            return None if row is None else self._progress(conn, row, self.clock())

    def of_holder(self, holder_hash: str, limit: int = HOLDER_CASES_DEFAULT) -> tuple[list[dict[str, Any]], bool]:
        """The progress of every case of the holder with this keyed hash, newest first: (at most `limit`,
        whether there are more)."""
        with self.db.reading() as conn:
            rows = conn.execute(text(
                f"SELECT {CASE_COLUMNS} FROM cases WHERE holder_hash = :holder"
                " ORDER BY coalesce(accepted_at, created_at) DESC, case_number DESC LIMIT :limit"),
                {"holder": holder_hash, "limit": limit + 1}).mappings().all()
            now = self.clock()
            return [self._progress(conn, r, now) for r in rows[:limit]], len(rows) > limit

    def events(self, case_number: str) -> list[dict[str, Any]]:
        """The events of a case as stored, for operators (received order within the same time)."""
        with self.db.reading() as conn:
            rows = conn.execute(text(
                "SELECT event_id, step, status, at, utc_offset_s, department, note, final, posted_by FROM"
                f" case_events WHERE case_number = :case {EVENT_ORDER}"),
                {"case": normalise_case_number(case_number)}).mappings().all()
        return [{**{k: r[k] for k in r.keys() if k != "utc_offset_s"}, "final": bool(r["final"]),
                 "at": _rfc3339(r["at"], r["utc_offset_s"])} for r in rows]

    def _progress(self, conn: Connection, case: Mapping[str, Any], now: float) -> dict[str, Any]:
        number = case["case_number"]
        offset = case["utc_offset_s"] if case["utc_offset_s"] is not None else HALL_OFFSET_S
        events = conn.execute(text(
            "SELECT step, status, at, utc_offset_s, department, note, final FROM case_events"
            f" WHERE case_number = :case {EVENT_ORDER}"), {"case": number}).mappings().all()
        items = conn.execute(text(
            "SELECT kiosk_id, door, hall, place, state, deposited_at, due_at, ended_at, utc_offset_s FROM notices"
            " WHERE case_number = :case ORDER BY deposited_at, deposit_id"), {"case": number}).mappings().all()
        handins = conn.execute(text(
            "SELECT handed_in_at, state, collected_at FROM handins WHERE case_number = :case"
            " ORDER BY handed_in_at, handin_id"), {"case": number}).mappings().all()

        # finished: the first final step done, or the first item deposited
        ends = [e["at"] for e in events if e["final"] and e["status"] == "done"] + [i["deposited_at"] for i in items]
        finished_at = min(ends) if ends else None
        latest: dict[str, Mapping[str, Any]] = {}
        for e in events:   # by time: each step's latest event wins, in the order steps were first reached
            latest[e["step"]] = e
        last = events[-1] if events else None
        current = last["step"] if last is not None and last["status"] == "current" and finished_at is None else None
        steps = [{"step": name, "status": "current" if name == current else "done",
                  "at": _rfc3339(e["at"], e["utc_offset_s"]), "department": e["department"], "note": e["note"]}
                 for name, e in latest.items()]

        promised = date.fromisoformat(case["promised_by"]) if case["promised_by"] else None
        late = False
        if promised is not None:
            deadline = datetime.combine(promised + timedelta(days=1), time(0),
                                        timezone(timedelta(seconds=offset))).timestamp()
            late = (finished_at if finished_at is not None else now) >= deadline

        item = items[-1] if items else None
        locker = None
        if item is not None:
            o = item["utc_offset_s"]
            locker = {"state": item["state"], "kiosk_id": item["kiosk_id"], "door": item["door"], "hall": item["hall"],
                      "place": item["place"], "deposited_at": _rfc3339(item["deposited_at"], o),
                      "due_at": _rfc3339(item["due_at"], o), "ended_at": _rfc3339(item["ended_at"], o),
                      "overdue": item["state"] == "held" and item["due_at"] is not None and item["due_at"] <= now}
        return {
            "case_number": number, "item_name": case["item_name"], "department": case["department"],
            "accepted_at": _rfc3339(case["accepted_at"], offset),
            "promised_by": case["promised_by"], "late": late, "finished": finished_at is not None,
            "finished_at": _rfc3339(finished_at, offset), "current_step": current, "steps": steps,
            "locker": locker,
            "handins": [{"handed_in_at": h["handed_in_at"], "state": h["state"],
                         "collected_at": _rfc3339(h["collected_at"], offset)} for h in handins],
            "next": next_step(item, current=current, finished=finished_at is not None, late=late,
                              needs_id_card=bool(case["needs_id_card"]), now=now),
        }


CASE_COLUMNS = ("case_number, item_name, department, needs_id_card, promised_by, accepted_at, utc_offset_s,"
                " created_at")


def next_step(item: Mapping[str, Any] | None, *, current: str | None, finished: bool, late: bool,
              needs_id_card: bool, now: float) -> dict[str, Any]:
    """What the citizen does now (`NextStep`): from the pickup loop's latest item of the case when there
    is one, else from the steps. `text` is the platform's sentence, in the hall's language."""
    id_note = "，领取时请携带本人身份证" if needs_id_card else ""
    if item is not None:
        o = item["utc_offset_s"]
        where = {"door": item["door"], "kiosk_id": item["kiosk_id"], "hall": item["hall"], "place": item["place"],
                 "needs_id_card": needs_id_card}
        if item["state"] == "held":
            overdue = item["due_at"] is not None and item["due_at"] <= now
            hall = item["hall"] or f"自助终端{item['kiosk_id']}"
            place = f"（{item['place']}）" if item["place"] else ""
            text = f"请到{hall}{place}的自助取件柜{item['door']}号柜门领取，取件码已通过短信发送给您"
            if overdue:
                text += "。已超过保管期限，取件码仍可使用，请尽快领取；工作人员取回后请到服务窗口领取。"
            elif item["due_at"] is not None:
                text += f"，请于{short_date(item['due_at'], o)}前领取{id_note}。"
            else:
                text += f"{id_note}。"
            return {"action": "collect_from_locker", "text": text, **where, "due_at": _rfc3339(item["due_at"], o),
                    "overdue": overdue}
        if item["state"] == "collected":
            return {"action": "collected", "at": _rfc3339(item["ended_at"], o),
                    "text": f"已于{short_date(item['ended_at'], o)}领取，办件已完成。" if item["ended_at"] else
                            "已领取，办件已完成。"}
        return {"action": "go_to_window", "at": _rfc3339(item["ended_at"], o), "needs_id_card": needs_id_card,
                "text": f"证件已由工作人员从自助取件柜取回，请到服务窗口领取{id_note}。"}
    if finished:
        return {"action": "wait_for_locker",
                "text": "已办结。证件存入自助取件柜后，取件码将通过短信发送给您。"}
    text = f"正在办理，当前环节：{current}。请耐心等待。" if current else "已受理，正在办理。请耐心等待。"
    if late:
        text += "已超过承诺办结日期，如有疑问请咨询服务窗口。"
    return {"action": "wait", "text": text}
