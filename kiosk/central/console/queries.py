"""What the console's pages show, read from the platform's tables; plain data, no HTML.

Every function takes the reader (`Person`): a staff account sees its own hall's kiosks only, and a
kiosk outside it is "not found" rather than "forbidden", so a page never tells another hall's kiosk ids.

Nothing here returns a name, an ID number or a phone number: the tables hold none in the clear except the
sealed phones of cases, which are never read here, and a transaction's data is shown only through the
keys of `SHOWN_KEYS`.
"""
from __future__ import annotations

import json
from dataclasses import dataclass, field, replace
from typing import Any

from sqlalchemy import Connection, and_, case, func, select, update

from kiosk.central import schema as T
from kiosk.central.console.accounts import Person, audit

OFFLINE_AFTER_S = 180          # three missed heartbeats (the agent sends one a minute)
BACKLOG_AFTER_S = 15 * 60      # an outbox item older than this: the kiosk cannot reach the platform
DEVICE_OK = ("online", "busy")
# a door that is open or did not open is someone's to walk over to first: a certificate is at stake
DOOR_CODES = ("door_left_open", "door_not_opened", "door_stuck")
PROBLEMS = ("offline", "device", "alarm", "backlog", "config")
# the keys of a transaction's data the kiosk page shows: none of them can hold personal data
SHOWN_KEYS = ("service", "level", "level_key", "door", "via", "pages", "copies", "amount_fen", "channel",
              "device", "code", "state", "severity", "overdue", "what", "reason", "template", "form",
              "business", "number")


@dataclass
class KioskRow:
    kiosk_id: str
    hall: str | None
    hall_name: str | None
    seen_at: float | None
    online: bool
    devices: list[dict[str, Any]] = field(default_factory=list)
    queue_depth: int | None = None
    oldest_pending_age_s: float | None = None
    config_version: int | None = None
    config_newest: int | None = None
    software_version: str | None = None
    open_alarms: int = 0
    open_faults: int = 0
    problems: list[str] = field(default_factory=list)

    @property
    def bad_devices(self) -> list[dict[str, Any]]:
        return [d for d in self.devices if d.get("state") not in DEVICE_OK]


def _hall_scope(person: Person, kiosk_col):
    """A WHERE clause limiting kiosks to the person's hall (None: every hall)."""
    if person.sees_all_halls:
        return None
    return kiosk_col.in_(select(T.hall_kiosks.c.kiosk_id).where(T.hall_kiosks.c.hall == person.hall))


def hall_scope(person: Person, kiosk_col, hall: str | None = None):
    """`_hall_scope` for a page with a hall filter: an operator or auditor who picks `hall` sees what that
    hall's staff see; staff see their own hall whatever they pick (None: every hall)."""
    if hall and person.sees_all_halls:
        return _hall_scope(replace(person, role="staff", hall=hall), kiosk_col)
    return _hall_scope(person, kiosk_col)


def halls(conn: Connection, person: Person) -> list[dict[str, str]]:
    h = T.halls
    stmt = select(h.c.hall, h.c.name).order_by(h.c.hall)
    if not person.sees_all_halls:
        stmt = stmt.where(h.c.hall == person.hall)
    return [dict(r) for r in conn.execute(stmt).mappings()]


def _newest_versions(conn: Connection) -> list[tuple[int, frozenset[str]]]:
    b = T.config_bundles
    return [(r.version, frozenset(json.loads(r.targets)))
            for r in conn.execute(select(b.c.version, b.c.targets).order_by(b.c.version.desc()))]


def fleet(conn: Connection, person: Person, now: float, *, hall: str | None = None,
          problem: str | None = None, kiosk_id: str | None = None) -> list[KioskRow]:
    """Every kiosk the person sees, with its latest heartbeat and open alarms; those with a problem first."""
    k, s, hk, h, a = T.kiosks, T.kiosk_status, T.hall_kiosks, T.halls, T.alarms
    open_alarms = (select(a.c.kiosk_id, func.count().label("n"),
                          func.sum(case((a.c.severity == "fault", 1), else_=0)).label("faults"))
                   .where(a.c.cleared_at.is_(None)).group_by(a.c.kiosk_id).subquery())
    stmt = (select(k.c.kiosk_id, k.c.groups, hk.c.hall, h.c.name.label("hall_name"), s.c.received_at, s.c.body,
                   open_alarms.c.n, open_alarms.c.faults)
            .select_from(k.outerjoin(s, s.c.kiosk_id == k.c.kiosk_id)
                         .outerjoin(hk, hk.c.kiosk_id == k.c.kiosk_id)
                         .outerjoin(h, h.c.hall == hk.c.hall)
                         .outerjoin(open_alarms, open_alarms.c.kiosk_id == k.c.kiosk_id))
            .order_by(k.c.kiosk_id))
    scope = _hall_scope(person, k.c.kiosk_id)
    if scope is not None:
        stmt = stmt.where(scope)
    if hall:
        stmt = stmt.where(hk.c.hall == hall)
    if kiosk_id is not None:
        stmt = stmt.where(k.c.kiosk_id == kiosk_id)
    bundles = _newest_versions(conn)
    rows = []
    for r in conn.execute(stmt):
        beat = json.loads(r.body) if r.body else {}
        names = {r.kiosk_id, *json.loads(r.groups or "[]")}
        newest = next((v for v, targets in bundles if not names.isdisjoint(targets)), None)
        row = KioskRow(
            kiosk_id=r.kiosk_id, hall=r.hall, hall_name=r.hall_name, seen_at=r.received_at,
            online=r.received_at is not None and now - r.received_at <= OFFLINE_AFTER_S,
            devices=[d for d in beat.get("devices") or [] if isinstance(d, dict)],
            queue_depth=beat.get("queue_depth"), oldest_pending_age_s=beat.get("oldest_pending_age_s"),
            config_version=beat.get("config_version"), config_newest=newest,
            software_version=beat.get("software_version"), open_alarms=r.n or 0, open_faults=int(r.faults or 0))
        if not row.online:
            row.problems.append("offline")
        if row.bad_devices:
            row.problems.append("device")
        if row.open_alarms:
            row.problems.append("alarm")
        if (row.oldest_pending_age_s or 0) > BACKLOG_AFTER_S:
            row.problems.append("backlog")
        if newest is not None and (row.config_version or 0) < newest:
            row.problems.append("config")
        rows.append(row)
    if problem:
        rows = [r for r in rows if problem in r.problems]
    rows.sort(key=lambda r: (not r.problems, "offline" not in r.problems, r.kiosk_id))
    return rows


def kiosk(conn: Connection, person: Person, now: float, kiosk_id: str) -> KioskRow | None:
    found = fleet(conn, person, now, kiosk_id=kiosk_id)
    return found[0] if found else None


def availability(conn: Connection, kiosk_id: str, now: float, *, days: int = 7,
                 utc_offset_s: int = 8 * 3600) -> list[dict[str, Any]]:
    """The last `days` days (today last) on the clock `utc_offset_s` east of UTC, each
    `{"day": unix seconds of its midnight, "hours": [heartbeats that arrived in each hour, or None for an hour
    still to come]}`; a kiosk that was up sends 60 an hour."""
    hb = T.heartbeats
    midnight = ((now + utc_offset_s) // 86400) * 86400 - utc_offset_s
    start = midnight - (days - 1) * 86400
    hour = func.floor((hb.c.received_at - start) / 3600)
    counts = {int(r.hour): r.n for r in conn.execute(
        select(hour.label("hour"), func.count().label("n"))
        .where(hb.c.kiosk_id == kiosk_id, hb.c.received_at >= start).group_by(hour))}
    current = int((now - start) // 3600)
    return [{"day": start + d * 86400,
             "hours": [counts.get(d * 24 + h, 0) if d * 24 + h <= current else None for h in range(24)]}
            for d in range(days)]


def recent_transactions(conn: Connection, kiosk_id: str, limit: int = 50) -> list[dict[str, Any]]:
    t = T.transactions
    rows = conn.execute(select(t.c.seq, t.c.kind, t.c.occurred_at, t.c.received_at, t.c.data)
                        .where(t.c.kiosk_id == kiosk_id).order_by(t.c.seq.desc()).limit(limit)).mappings()
    out = []
    for r in rows:
        try:
            data = json.loads(r["data"])
        except ValueError:
            data = {}
        shown = {key: data[key] for key in SHOWN_KEYS
                 if isinstance(data, dict) and isinstance(data.get(key), (str, int, float, bool))}
        out.append({"seq": r["seq"], "kind": r["kind"], "occurred_at": r["occurred_at"],
                    "received_at": r["received_at"], "shown": shown})
    return out


def _priority(row) -> int:
    if row["code"].split(":", 1)[0] in DOOR_CODES or row["device"] == "locker" and row["code"].startswith(
            ("unlock", "door")):
        return 0
    return 1 if row["severity"] == "fault" else 2


def alarms(conn: Connection, person: Person, now: float, *, state: str = "open", kiosk_id: str | None = None,
           days: int = 7, limit: int = 500) -> list[dict[str, Any]]:
    """Open alarms, doors first, then faults, then warnings, newest first within each; or those cleared
    in the last `days` days, newest first."""
    a, hk, h = T.alarms, T.hall_kiosks, T.halls
    stmt = (select(a, hk.c.hall, h.c.name.label("hall_name"))
            .select_from(a.outerjoin(hk, hk.c.kiosk_id == a.c.kiosk_id).outerjoin(h, h.c.hall == hk.c.hall)))
    if state == "open":
        stmt = stmt.where(a.c.cleared_at.is_(None)).order_by(a.c.raised_at.desc())
    else:
        stmt = stmt.where(a.c.cleared_at >= now - days * 86400).order_by(a.c.cleared_at.desc())
    scope = _hall_scope(person, a.c.kiosk_id)
    if scope is not None:
        stmt = stmt.where(scope)
    if kiosk_id is not None:
        stmt = stmt.where(a.c.kiosk_id == kiosk_id)
    rows = [dict(r, priority=_priority(r)) for r in conn.execute(stmt.limit(limit)).mappings()]
    if state == "open":
        rows.sort(key=lambda r: r["priority"])   # stable: newest first within a priority
    return rows


class NotFound(LookupError):
    pass


def acknowledge(conn: Connection, person: Person, now: float, raised_id: str, note: str) -> None:
    """Mark an alarm acknowledged by `person` with `note` (audited); NotFound when it is not one the person
    sees. Acknowledging again replaces the note: the audit log keeps both."""
    a = T.alarms
    where = [a.c.raised_id == raised_id]
    scope = _hall_scope(person, a.c.kiosk_id)
    if scope is not None:
        where.append(scope)
    row = conn.execute(select(a.c.kiosk_id, a.c.device, a.c.code).where(and_(*where))).first()
    if row is None:
        raise NotFound(raised_id)
    conn.execute(update(a).where(a.c.raised_id == raised_id).values(acked_by=person.name, acked_at=now,
                                                                    ack_note=note))
    audit(conn, now, person.name, "alarm.acknowledge", raised_id, kiosk_id=row.kiosk_id,
          alarm=f"{row.device}:{row.code}", note=note)


def audit_log(conn: Connection, person: Person, *, limit: int = 200, before: int | None = None) -> list[dict]:
    """The newest changes first; a staff account sees its own."""
    c = T.console_audit
    stmt = select(c).order_by(c.c.rowid.desc()).limit(limit)
    if not person.sees_all_halls:
        stmt = stmt.where(c.c.user_name == person.name)
    if before is not None:
        stmt = stmt.where(c.c.rowid < before)
    return [dict(r, detail=json.loads(r["detail"] or "{}")) for r in conn.execute(stmt).mappings()]


def problem_filter(value: str | None) -> str | None:
    return value if value in PROBLEMS else None

