"""The pickup locker as the hall sees it: which door is where, what each door holds, and the rules.

- `DoorPlan`: every door's size class (small, medium, large), height (low doors
  for wheelchair users), whether it is in service, and its place on the
  locker's face (column, row, "upper left"), from `[pickup]` of the config.
- `LockerModel`: what each door holds, in the store (`locker_items`), with the
  operations that change it, each committed together with its outbox
  transaction: reserve a door, issue a code (`deposit`), record a `pickup`, a
  `handin` or a `recall`. Pickup codes and holders are kept only as keyed hashes; the
  `deposit` carries the code sealed to the platform's notifier (`LockerSite`,
  kiosk/wire/sealed.py), which alone can open it and text it to the applicant.
  A door holds a certificate (`kind` 'certificate', deposited by staff, collected
  by its code) or materials a citizen handed in (`kind` 'handin', 补交材料: no
  code, no staff depositor, collected by staff with Recall).
- Intents: before a door is unlocked for a pickup, a hand-in or a recall a row is
  committed in `locker_intents`; the outcome removes it in the transaction that
  records it. `recover()` on start turns an intent left by a power cut into a
  recorded pickup (hand-in, recall) flagged `unconfirmed`, with an alarm: never
  lost, never twice.
- `reconcile_open_doors()`: the board's door states against the model; a door
  found open that should be closed raises an alarm, cleared when it closes.
- The wrong-code lockout of pickup on this kiosk (`locker_lockout`): doubling, capped at
  `lockout_max_s`, with the `pickup:wrong_codes` alarm while it stays at the cap.

Plain Python; the connection, outbox, alarms and clock are injected.
"""
from __future__ import annotations

import base64
import logging
import math
import re
import secrets
import sqlite3
import threading
import time
from dataclasses import dataclass
from datetime import datetime, tzinfo
from typing import Callable, Iterable

from kiosk.core.privacy import ID_NUMBER, keyed_hash
from kiosk.store import explain, transaction
from kiosk.wire import sealed

log = logging.getLogger(__name__)

SIZES = ("small", "medium", "large")
CASE_NUMBER = re.compile(r"[A-Za-z0-9][A-Za-z0-9-]{3,39}")
DAY_S = 86400.0
DEVICE = "pickup"   # alarms about what the doors hold (the locker device's own are kiosk/core/device_alarms.py's)
WRONG_CODES_ALARM = "wrong_codes"   # pickup:wrong_codes, raised while the lockout is at its cap
BOARD = "locker"    # the device: a door that did not open is its event alarm, as in device_alarms


class LockerRuleError(ValueError):
    """An input the locker refuses; `code` says which rule, for the screen to explain."""

    def __init__(self, code: str, message: str):
        super().__init__(message)
        self.code = code


def lockout_seconds(wrong: int, limit: int, base_s: float, max_s: float) -> float:
    """How long pickup locks after the `wrong`-th wrong code in a row: none before `limit`, then
    `base_s` doubling with each further wrong code, never more than `max_s`.

    The doubling stops at the first power of two that reaches the cap, so no number ever grows
    with the count (2 ** 1030 as a float overflows: the lockout would stop working)."""
    if wrong < limit:
        return 0.0
    if base_s >= max_s:
        return float(max_s)
    doublings = min(wrong - limit, math.ceil(math.log2(max_s / base_s)))
    return float(min(max_s, base_s * 2 ** doublings))


def code_hash(key: str, code: str) -> str:
    return keyed_hash(key, code.strip(), "pickup_code")


def check_case_number(value: str) -> str:
    v = (value or "").strip().upper()
    if not CASE_NUMBER.fullmatch(v):
        raise LockerRuleError("bad_case_number", "a case number is 4-40 letters, digits or '-'")
    if ID_NUMBER.fullmatch(v):
        # an ID number typed or scanned into the wrong field must never reach the outbox
        raise LockerRuleError("case_number_looks_like_id", "this looks like an ID number, not a case number")
    return v


# --- the plan of the doors -------------------------------------------------------------------------

@dataclass(frozen=True)
class Door:
    number: int
    size: str
    low: bool
    in_service: bool
    column: int   # 1 = leftmost
    row: int      # 1 = top

    def position(self, columns: int, rows: int) -> tuple[str, str]:
        """(vertical, horizontal) words for the screen: ('upper'|'middle'|'lower', 'left'|'centre'|'right'|'')."""
        def third(i: int, n: int, words: tuple[str, str, str]) -> str:
            if n <= 1:
                return ""
            f = (i - 1) / (n - 1)
            return words[0] if f < 1 / 3 else (words[2] if f > 2 / 3 else words[1])
        return third(self.row, rows, ("upper", "middle", "lower")), third(self.column, columns, ("left", "centre", "right"))


class DoorPlan:
    """The doors of the locker from `[pickup]`: sizes, heights and places."""

    def __init__(self, door_count: int, *, columns: int = 4, rows: int = 6, numbering: str = "down",
                 doors: Iterable = ()):
        if door_count < 1:
            raise ValueError("the locker has no doors")
        self.columns, self.rows, self.numbering = columns, rows, numbering
        if columns * rows < door_count:
            raise ValueError(f"pickup.columns x pickup.rows = {columns * rows} places, but the locker has "
                             f"{door_count} doors: set [pickup] columns and rows to the locker's face")
        spec: dict[int, tuple[str, bool, bool]] = {}
        for i, d in enumerate(doors):
            for n in d.numbers():
                if n > door_count:
                    raise ValueError(f"pickup.doors[{i}]: door {n} does not exist; the locker's boards have "
                                     f"doors 1-{door_count}")
                spec[n] = (d.size, d.height == "low", d.in_service)
        self.doors: dict[int, Door] = {}
        for n in range(1, door_count + 1):
            size, low, ok = spec.get(n, ("medium", False, True))
            col, row = self._place(n)
            self.doors[n] = Door(n, size, low, ok, col, row)

    @classmethod
    def from_settings(cls, pickup, door_count: int) -> "DoorPlan":
        return cls(door_count, columns=pickup.columns, rows=pickup.rows, numbering=pickup.numbering,
                   doors=pickup.doors)

    def _place(self, n: int) -> tuple[int, int]:
        i = n - 1
        if self.numbering == "down":
            return i // self.rows + 1, i % self.rows + 1
        return i % self.columns + 1, i // self.columns + 1

    def position(self, door: int) -> tuple[str, str]:
        return self.doors[door].position(self.columns, self.rows)

    def choose(self, size: str, prefer_low: bool, taken: set[int], avoid: set[int] = frozenset()) -> int | None:
        """A free door for an item of `size`: the same size first, else the next larger; low doors
        first only when asked (they are kept for those who need them), otherwise last."""
        if size not in SIZES:
            raise LockerRuleError("bad_size", f"size must be one of {', '.join(SIZES)}")
        fitting = [d for d in self.doors.values()
                   if d.in_service and d.number not in taken and d.number not in avoid
                   and SIZES.index(d.size) >= SIZES.index(size)]
        if not fitting:
            return None
        fitting.sort(key=lambda d: (SIZES.index(d.size) - SIZES.index(size), d.low != prefer_low, d.number))
        return fitting[0].number


# --- what the doors hold -----------------------------------------------------------------------------

@dataclass(frozen=True)
class Item:
    id: int
    door: int
    case_number: str
    size: str
    state: str
    holder_hash: str | None
    staff_id: str | None             # None for materials handed in
    deposited_at: float | None
    due_at: float | None
    ended_at: float | None = None
    item_name: str | None = None     # from the case on the platform, when it was found at the deposit
    hold_days: int | None = None     # the case's own hold time; None: [pickup] hold_days
    kind: str = "certificate"        # certificate | handin
    receipt_no: str | None = None    # a hand-in's receipt number

    @property
    def needs_id_card(self) -> bool:
        return self.holder_hash is not None

    @property
    def handed_in(self) -> bool:
        return self.kind == "handin"

    def overdue(self, now: float) -> bool:
        return self.state == "held" and self.due_at is not None and now >= self.due_at


def _item(row: sqlite3.Row) -> Item:
    return Item(row["id"], row["door"], row["case_number"], row["size"], row["state"], row["holder_hash"],
                row["staff_id"], row["deposited_at"], row["due_at"], row["ended_at"], row["item_name"],
                row["hold_days"], row["kind"], row["receipt_no"])


@dataclass(frozen=True)
class LockerSite:
    """Where the locker stands and who may read its codes, as a `deposit` tells the platform.

    `notice_key` is the platform notifier's public key (`[central] notice_key`): with it each
    deposit carries its code sealed to the notifier (in a child process: the UI never loads the
    cryptography library), and the platform texts it to the applicant;
    without it no notice can be sent, and staff hand the code on themselves. `zone` is the zone of
    the times written (None: the kiosk's own)."""
    kiosk_id: str = ""
    hall: str = ""
    place: str = ""
    notice_key: str | None = None      # its `x25519:` text, checked when the config was loaded
    zone: tzinfo | None = None

    @property
    def sends_notices(self) -> bool:
        return self.notice_key is not None

    def seal(self, code: str, case_number: str, hashed: str) -> str | None:
        """The code for the notifier's eyes only, bound to this deposit; None without a notice key."""
        if self.notice_key is None:
            return None
        from kiosk.core.apart import call_apart  # cryptography is loaded by the child, never by the UI

        bound = base64.urlsafe_b64encode(sealed.binding(self.kiosk_id, case_number, hashed)).decode("ascii")
        return call_apart("kiosk.wire.sealed:seal_job", key=self.notice_key, code=code, bound_to=bound.rstrip("="),
                          timeout_s=30)

    def moment(self, ts: float) -> datetime:
        """Unix seconds as a time in the kiosk's zone (what a receipt prints)."""
        return datetime.fromtimestamp(ts, self.zone) if self.zone else datetime.fromtimestamp(ts).astimezone()

    def time(self, ts: float) -> str:
        """RFC 3339 with the offset of the kiosk's zone (`2026-05-18T09:30:00+08:00`)."""
        return self.moment(ts).isoformat(timespec="seconds")


@dataclass(frozen=True)
class Recovered:
    item: Item
    kind: str


class DoorsInUse:
    """Doors a flow has open on purpose right now, shared by every thread of the process, so the
    health reconciliation does not call a door being used 'left open'."""

    def __init__(self):
        self._doors: set[int] = set()
        self._lock = threading.Lock()

    def add(self, door: int) -> None:
        with self._lock:
            self._doors.add(door)

    def discard(self, door: int) -> None:
        with self._lock:
            self._doors.discard(door)

    def __contains__(self, door: int) -> bool:
        with self._lock:
            return door in self._doors


class LockerModel:
    """The store's view of the locker, on one connection (one per thread)."""

    def __init__(self, conn: sqlite3.Connection, plan: DoorPlan, *, outbox, alarms, hash_key: str, rules,
                 clock: Callable[[], float] = time.time, in_use: DoorsInUse | None = None,
                 site: LockerSite = LockerSite()):
        self.conn = conn
        self.plan = plan
        self.outbox = outbox
        self.alarms = alarms
        self.key = hash_key
        self.rules = rules       # the [pickup] section
        self.clock = clock
        self.in_use = in_use or DoorsInUse()
        self.site = site

    def _write(self, fn):
        try:
            with transaction(self.conn):
                return fn()
        except sqlite3.Error as exc:
            raise explain(exc, "kiosk database") from None

    # --- reading ---------------------------------------------------------------------------------

    def item(self, item_id: int) -> Item | None:
        row = self.conn.execute("SELECT * FROM locker_items WHERE id=?", (item_id,)).fetchone()
        return _item(row) if row else None

    def occupied(self) -> dict[int, Item]:
        rows = self.conn.execute(
            "SELECT * FROM locker_items WHERE state IN ('depositing','held','interrupted')").fetchall()
        return {r["door"]: _item(r) for r in rows}

    def find_by_code(self, code: str) -> Item | None:
        """The certificate a pickup code opens; handed-in materials are never offered by a code."""
        row = self.conn.execute("SELECT * FROM locker_items WHERE kind='certificate' AND state='held' AND code_hash=?",
                                (code_hash(self.key, code),)).fetchone()
        return _item(row) if row else None

    def ended_by_code(self, code: str) -> Item | None:
        """The item this code opened before, since collected or recalled (the latest, if the code was
        drawn again since); only asked when no held item has the code."""
        row = self.conn.execute(
            "SELECT * FROM locker_items WHERE state IN ('collected','recalled') AND code_hash=? "
            "ORDER BY ended_at DESC, id DESC LIMIT 1", (code_hash(self.key, code),)).fetchone()
        return _item(row) if row else None

    def recallable(self) -> list[Item]:
        """What staff should take out: overdue certificates, deposits a restart interrupted, and the
        materials citizens handed in."""
        now = self.clock()
        rows = self.conn.execute(
            "SELECT * FROM locker_items WHERE (state='held' AND kind='certificate' AND due_at <= ?) "
            "OR state='interrupted' OR (state='held' AND kind='handin') ORDER BY door", (now,)).fetchall()
        return [_item(r) for r in rows]

    # --- deposit ---------------------------------------------------------------------------------

    def reserve(self, *, case_number: str, size: str, holder_hash: str | None, staff_id: str,
                prefer_low: bool = False, avoid: set[int] = frozenset(), item_name: str | None = None,
                hold_days: int | None = None) -> Item | None:
        """Pick a free door for the item and hold it ('depositing'); None when no door fits.
        `item_name` and `hold_days` come from the case on the platform, when it was found."""
        if hold_days is not None and not 1 <= hold_days <= 365:
            raise LockerRuleError("bad_hold_days", f"an item is held 1 to 365 days, not {hold_days}")
        return self._reserve(case_number, size, prefer_low, avoid, holder_hash=holder_hash, staff_id=staff_id,
                             item_name=item_name, hold_days=hold_days)

    def reserve_handin(self, *, case_number: str, size: str, holder_hash: str | None, receipt_no: str,
                       prefer_low: bool = False, avoid: set[int] = frozenset()) -> Item | None:
        """Pick a free door for materials a citizen hands in and hold it ('depositing') together with
        the intent to open it, in one commit, before the unlock; None when no door fits."""
        item = self._reserve(case_number, size, prefer_low, avoid, intent="handin", kind="handin",
                             holder_hash=holder_hash, receipt_no=receipt_no)
        if item is not None:
            self.in_use.add(item.door)
        return item

    def _reserve(self, case_number: str, size: str, prefer_low: bool, avoid, *, intent: str | None = None,
                 **columns) -> Item | None:
        case_number = check_case_number(case_number)

        def apply():
            taken = set(self.occupied())
            door = self.plan.choose(size, prefer_low, taken, set(avoid))
            if door is None:
                return None
            now = self.clock()
            row = dict(columns, door=door, case_number=case_number, size=size, state="depositing", created_at=now)
            cur = self.conn.execute(f"INSERT INTO locker_items ({', '.join(row)}) VALUES "
                                    f"({', '.join('?' * len(row))})", tuple(row.values()))
            if intent is not None:
                self.conn.execute("INSERT INTO locker_intents (item_id, kind, door, created_at) VALUES (?,?,?,?)",
                                  (cur.lastrowid, intent, door, now))
            return cur.lastrowid

        item_id = self._write(apply)
        return self.item(item_id) if item_id else None

    def release(self, item_id: int) -> None:
        """A deposit that did not happen (the door did not open, staff canceled before it opened)."""
        def apply():
            self.conn.execute("DELETE FROM locker_intents WHERE item_id=? AND item_id IN "
                              "(SELECT id FROM locker_items WHERE state='depositing')", (item_id,))
            self.conn.execute("DELETE FROM locker_items WHERE id=? AND state='depositing'", (item_id,))
        self._write(apply)

    def complete_deposit(self, item_id: int) -> tuple[Item, str]:
        """The door closed on the item: issue its pickup code and record the `deposit`, in one commit.

        Returns the item and the code. The plain code exists only in the return value: the store
        keeps its keyed hash, the `deposit` its keyed hash and the code sealed to the notifier."""
        length = self.rules.code_length

        def apply():
            row = self.conn.execute("SELECT * FROM locker_items WHERE id=?", (item_id,)).fetchone()
            if row is None or row["state"] != "depositing":
                raise LockerRuleError("not_depositing", f"item {item_id} is not being deposited")
            for _ in range(100):
                code = f"{secrets.randbelow(10 ** length):0{length}d}"
                hashed = code_hash(self.key, code)
                clash = self.conn.execute("SELECT 1 FROM locker_items WHERE state='held' AND code_hash=?",
                                          (hashed,)).fetchone()
                if not clash:
                    break
            else:  # a locker never holds enough items for this; it means the random source is broken
                raise LockerRuleError("no_free_code", "could not draw an unused pickup code")
            now = self.clock()
            due = now + (row["hold_days"] or self.rules.hold_days) * DAY_S
            self.conn.execute(
                "UPDATE locker_items SET state='held', code_hash=?, deposited_at=?, due_at=? WHERE id=?",
                (hashed, now, due, item_id))
            site = self.site
            self.outbox.enqueue(self.conn, "deposit", {
                "case_number": row["case_number"], "door": row["door"], "code_hash": hashed,
                "holder_hash": row["holder_hash"],
                "sealed_code": site.seal(code, row["case_number"], hashed),
                "deposited_at": site.time(now), "due_at": site.time(due),
                "hall": site.hall, "place": site.place, "item_name": row["item_name"]})
            return code

        code = self._write(apply)
        log.info("deposit: case %s in door %d", self.item(item_id).case_number, self.item(item_id).door)
        return self.item(item_id), code

    # --- pickup and recall -------------------------------------------------------------------------

    def begin(self, item: Item, kind: str, *, via: str | None = None, id_checked: bool = False,
              staff_id: str | None = None) -> None:
        """Commit the intent to open `item`'s door, before the unlock frame is sent."""
        self._write(lambda: self.conn.execute(
            "INSERT OR REPLACE INTO locker_intents (item_id, kind, door, via, id_checked, staff_id, created_at) "
            "VALUES (?,?,?,?,?,?,?)", (item.id, kind, item.door, via, int(id_checked), staff_id, self.clock())))
        self.in_use.add(item.door)

    def abandon(self, item: Item) -> None:
        """The door did not open (or nothing went in): nothing happened. A pickup's code stays valid;
        the door held for a hand-in is free again."""
        def apply():
            self.conn.execute("DELETE FROM locker_intents WHERE item_id=?", (item.id,))
            self.conn.execute("DELETE FROM locker_items WHERE id=? AND kind='handin' AND state='depositing'",
                              (item.id,))
        self._write(apply)
        self.in_use.discard(item.door)

    def finish(self, item: Item, *, unconfirmed: bool = False, **flags) -> str | None:
        """Record the pickup, hand-in or recall of `item` from its intent: the item moved on, the intent
        gone, the transaction enqueued, one commit. Returns the transaction id; None when it was
        already recorded (never twice)."""
        def apply():
            intent = self.conn.execute("SELECT * FROM locker_intents WHERE item_id=?", (item.id,)).fetchone()
            row = self.conn.execute("SELECT * FROM locker_items WHERE id=?", (item.id,)).fetchone()
            if intent is None or row is None:
                return None
            kind = intent["kind"]
            if row["state"] not in (("depositing",) if kind == "handin" else ("held", "interrupted")):
                return None
            now = self.clock()
            self.conn.execute("DELETE FROM locker_intents WHERE item_id=?", (item.id,))
            if kind == "handin":   # the materials are in: held for the staff of the case
                self.conn.execute("UPDATE locker_items SET state='held', deposited_at=?, unconfirmed=? WHERE id=?",
                                  (now, int(unconfirmed), item.id))
                data = {"case_number": row["case_number"], "door": row["door"], "handed_in_at": self.site.time(now),
                        "receipt_no": row["receipt_no"], "holder_hash": row["holder_hash"], "size": row["size"],
                        "hall": self.site.hall or None, "unconfirmed": unconfirmed}
                return self.outbox.enqueue(self.conn, kind, dict(data, **flags)).id
            self.conn.execute("UPDATE locker_items SET state=?, ended_at=?, unconfirmed=? WHERE id=?",
                              ("collected" if kind == "pickup" else "recalled", now, int(unconfirmed), item.id))
            data = {"case_number": row["case_number"], "door": row["door"], "unconfirmed": unconfirmed}
            if kind == "pickup":
                data.update(via=intent["via"], id_checked=bool(intent["id_checked"]),
                            overdue=row["due_at"] is not None and now >= row["due_at"])
            elif row["kind"] == "handin":
                data.update(staff_id=intent["staff_id"], what="handin", reason="handed_in",
                            receipt_no=row["receipt_no"])
            else:
                data.update(staff_id=intent["staff_id"], what="certificate",
                            reason="interrupted" if row["state"] == "interrupted" else "overdue")
            data.update(flags)
            return self.outbox.enqueue(self.conn, kind, data).id

        done = self._write(apply)
        self.in_use.discard(item.door)
        return done

    # --- after a restart ----------------------------------------------------------------------------

    def recover(self) -> list[Recovered]:
        """On start: intents a power cut left behind become recorded pickups/recalls flagged
        `unconfirmed` (with an alarm); deposits cut short become 'interrupted' items for staff."""
        out = []
        for intent in self.conn.execute("SELECT * FROM locker_intents ORDER BY created_at").fetchall():
            item = self.item(intent["item_id"])
            if item is None:
                continue
            if self.finish(item, unconfirmed=True):
                out.append(Recovered(item, intent["kind"]))
                what = "materials handed in" if intent["kind"] == "handin" else f"a {intent['kind']}"
                then = ": check the door, and collect them with Recall" if intent["kind"] == "handin" \
                    else ": check the door"
                self.alarms.raise_alarm(DEVICE, f"{intent['kind']}_unconfirmed:{item.door}",
                                        f"door {item.door} was opened for {what} (case {item.case_number}) when "
                                        f"the kiosk stopped; recorded as unconfirmed{then}")
        rows = self.conn.execute("SELECT * FROM locker_items WHERE state='depositing'").fetchall()
        for row in rows:
            self._write(lambda: self.conn.execute(
                "UPDATE locker_items SET state='interrupted' WHERE id=? AND state='depositing'", (row["id"],)))
            self.alarms.raise_alarm(DEVICE, f"deposit_interrupted:{row['door']}",
                                    f"a deposit into door {row['door']} (case {row['case_number']}) was cut short; "
                                    "no code was issued: take the item out with Recall and deposit it again")
            out.append(Recovered(self.item(row["id"]), "deposit"))
        return out

    # --- the board against the model ------------------------------------------------------------------

    def reconcile_open_doors(self, open_doors: Iterable[int]) -> None:
        """A door seen open that no flow is using raises `pickup:door_left_open:N`; closed, it clears."""
        open_now = {d for d in open_doors if d not in self.in_use}
        active = {a.code for a in self.alarms.active() if a.device == DEVICE}
        for door in sorted(open_now):
            occupied = self.occupied().get(door)
            what = f" (holding case {occupied.case_number})" if occupied else ""
            self.alarms.raise_alarm(DEVICE, f"door_left_open:{door}", f"door {door} is open{what}; close it")
        for code in active:
            m = re.fullmatch(r"door_left_open:(\d+)", code)
            if m and int(m.group(1)) not in open_now and int(m.group(1)) not in self.in_use:
                self.alarms.clear(DEVICE, code)

    def reconcile_items(self, present: dict[int, bool | None]) -> None:
        """Item sensors (where the board has them) against what the doors should hold."""
        occupied = self.occupied()
        for door, seen in present.items():
            if seen is None or door in self.in_use:
                continue
            item = occupied.get(door)
            if item is not None and item.state == "held" and not seen:
                self.alarms.raise_alarm(DEVICE, f"item_missing:{door}",
                                        f"door {door} should hold case {item.case_number} but its sensor sees nothing")
            else:
                self.alarms.clear(DEVICE, f"item_missing:{door}")
            if item is None and seen:
                self.alarms.raise_alarm(DEVICE, f"unexpected_item:{door}",
                                        f"door {door} should be empty but its sensor sees an item")
            else:
                self.alarms.clear(DEVICE, f"unexpected_item:{door}")

    # --- wrong codes ----------------------------------------------------------------------------------

    def locked_for(self) -> int:
        row = self.conn.execute("SELECT locked_until FROM locker_lockout WHERE scope='pickup'").fetchone()
        # rounded first: epoch seconds leave a float residue, and ceil(60.0000002) would show 61
        return max(0, math.ceil(round((row["locked_until"] if row else 0) - self.clock(), 3)))

    def wrong_code(self) -> tuple[int, int]:
        """Count a wrong code. Returns (seconds locked now, 0 if not locked; wrong codes left before a lockout).

        The count goes on past the cap of the lockout; from the cap on, each wrong code keeps the
        `pickup:wrong_codes` alarm raised (someone may be trying codes), cleared by a right code."""
        limit = self.rules.wrong_codes_before_lockout
        cap = self.rules.lockout_max_s

        def apply():
            row = self.conn.execute("SELECT wrong FROM locker_lockout WHERE scope='pickup'").fetchone()
            wrong = (row["wrong"] if row else 0) + 1
            seconds = lockout_seconds(wrong, limit, self.rules.lockout_base_s, cap)
            until = self.clock() + seconds if seconds else 0.0
            self.conn.execute("INSERT INTO locker_lockout (scope, wrong, locked_until) VALUES ('pickup', ?, ?) "
                              "ON CONFLICT(scope) DO UPDATE SET wrong=excluded.wrong, "
                              "locked_until=MAX(locked_until, excluded.locked_until)", (wrong, until))
            return wrong, seconds

        wrong, seconds = self._write(apply)
        if wrong < limit:
            return 0, limit - wrong
        log.warning("pickup locked for %d s after %d wrong codes", math.ceil(seconds), wrong)
        if seconds >= cap:
            self.alarms.raise_alarm(DEVICE, WRONG_CODES_ALARM,
                                    f"{wrong} wrong pickup codes in a row; pickup is locked for the longest "
                                    f"lockout ({cap:g} s, [pickup] lockout_max_s) after each one: someone may be "
                                    "trying codes; check the hall")
        return self.locked_for(), 0

    def good_code(self) -> None:
        self._write(lambda: self.conn.execute("DELETE FROM locker_lockout WHERE scope='pickup'"))
        self.alarms.clear(DEVICE, WRONG_CODES_ALARM, "a right code was entered")
