"""What a newly stored `deposit`, `pickup`, `recall` or `handin` transaction changes in the pickup loop.

Called by `CentralDB.store_batch` for each item stored for the first time (never for a duplicate), inside
the batch's transaction, so the transaction and its consequences commit together:

- `deposit`: the item is followed in `notices` (held, with its door, hall, place and deadline) and its
  notice `pickup_ready` is queued: at once when the case is on the platform, else it waits for the case.
  A deposit that cannot give a notice (no sealed code: the kiosk has no notice key; data that does not fit
  `DepositData`) still gets its queue row, dead, with the reason for operators.
- `pickup` / `recall`: the held item in that kiosk's door for that case is collected / recalled. A
  `recall` with `"what": "handin"` is staff collecting handed-in materials instead.
- `handin`: the materials are listed for the case, and `handin_received` is queued for the case's staff.

Transactions are stored whatever happens here; nothing here refuses one. Each change is one statement
that is right with other workers storing at the same moment (PostgreSQL at READ COMMITTED): rows are
added with `ON CONFLICT DO NOTHING`, and an item is ended only while it is still held.
"""
from __future__ import annotations

import json
import logging
from datetime import datetime
from typing import Any

from pydantic import BaseModel, ValidationError
from sqlalchemy import Connection, text

from kiosk.central import sms_queue
from kiosk.wire.cases import DepositData, HandinData, normalise_case_number

log = logging.getLogger(__name__)


def _fit(conn: Connection, model: type[BaseModel], template: str, kiosk_id: str, tx_id: str, data: dict[str, Any],
         now: float) -> Any:
    """`data` as `model`; None when it does not fit, and then its message is queued dead with the reason."""
    try:
        return model.model_validate_json(json.dumps(data), strict=True)
    except ValidationError as exc:
        first = exc.errors(include_url=False)[0]
        problem = f"data.{'.'.join(str(p) for p in first['loc'])}: {first['msg']}"
    sms_queue.enqueue(conn, tx_id, template, kiosk_id, _case_of(data), now,
                      dead_reason=f"the transaction's data does not fit: {problem}")
    log.warning("kiosk %s: transaction %s gives no %s: %s", kiosk_id, tx_id, template, problem)
    return None


def _case_of(data: dict[str, Any]) -> str | None:
    value = data.get("case_number")
    return normalise_case_number(value) if isinstance(value, str) and value.strip() else None


def on_stored(conn: Connection, kiosk_id: str, row: dict[str, Any], now: float) -> None:
    kind = row["kind"]
    if kind not in ("deposit", "pickup", "recall", "handin"):
        return
    data = json.loads(row["data"])
    occurred = datetime.fromisoformat(row["occurred_at"])
    if kind == "deposit":
        _deposit(conn, kiosk_id, row["id"], data, occurred, now)
    elif kind == "handin":
        _handin(conn, kiosk_id, row["id"], data, now)
    elif kind == "recall" and data.get("what") == "handin":
        _handin_collected(conn, kiosk_id, row["id"], data, occurred)
    else:
        _item_ended(conn, kiosk_id, row["id"], data, occurred, "collected" if kind == "pickup" else "recalled")


def _deposit(conn: Connection, kiosk_id: str, tx_id: str, data: dict, occurred: datetime, now: float) -> None:
    deposit = _fit(conn, DepositData, "pickup_ready", kiosk_id, tx_id, data, now)
    if deposit is None:
        return
    case = normalise_case_number(deposit.case_number)
    deposited = deposit.deposited_at or occurred
    offset = (deposit.due_at or deposited).utcoffset()
    conn.execute(text(
        "INSERT INTO notices (deposit_id, kiosk_id, case_number, door, hall, place, item_name, deposited_at, due_at,"
        " utc_offset_s, state) VALUES (:id, :kiosk, :case, :door, :hall, :place, :item, :deposited, :due, :offset,"
        " 'held') ON CONFLICT (deposit_id) DO NOTHING"),
        {"id": tx_id, "kiosk": kiosk_id, "case": case, "door": deposit.door, "hall": deposit.hall,
         "place": deposit.place, "item": deposit.item_name, "deposited": deposited.timestamp(),
         "due": deposit.due_at.timestamp() if deposit.due_at else None,
         "offset": int(offset.total_seconds()) if offset is not None else 0})
    dead = None
    if deposit.sealed_code is None:
        dead = (f"the deposit carries no sealed code: kiosk {kiosk_id} has no [central] notice_key (print it with "
                "`kiosk central notice-key`); the applicant must be given the code another way")
    sms_queue.enqueue(conn, tx_id, "pickup_ready", kiosk_id, case, now, dead_reason=dead)
    log.info("kiosk %s: case %s deposited in door %d; notice %s", kiosk_id, case, deposit.door,
             "not possible (no sealed code)" if dead else "queued")


def _item_ended(conn: Connection, kiosk_id: str, tx_id: str, data: dict, occurred: datetime, state: str) -> None:
    case, door = _case_of(data), data.get("door")
    if case is None or not isinstance(door, int):
        return
    # the latest held item in the door; `state = 'held'` again outside: a pickup stored by another worker at
    # the same moment ends it once
    ended = conn.execute(text(
        "UPDATE notices SET state = :state, ended_at = :at, ended_by = :tx WHERE state = 'held' AND deposit_id ="
        " (SELECT deposit_id FROM notices WHERE kiosk_id = :kiosk AND case_number = :case AND door = :door"
        " AND state = 'held' ORDER BY deposited_at DESC, deposit_id DESC LIMIT 1)"),
        {"state": state, "at": occurred.timestamp(), "tx": tx_id, "kiosk": kiosk_id, "case": case,
         "door": door}).rowcount
    if not ended:
        log.info("kiosk %s: %s of case %s from door %s matches no held item on the platform", kiosk_id,
                 "pickup" if state == "collected" else "recall", case, door)


def _handin(conn: Connection, kiosk_id: str, tx_id: str, data: dict, now: float) -> None:
    handin = _fit(conn, HandinData, "handin_received", kiosk_id, tx_id, data, now)
    if handin is None:
        return
    case = normalise_case_number(handin.case_number)
    conn.execute(text("INSERT INTO handins (handin_id, kiosk_id, case_number, door, handed_in_at, receipt_no, hall,"
                      " state) VALUES (:id, :kiosk, :case, :door, :at, :receipt, :hall, 'in_locker')"
                      " ON CONFLICT (handin_id) DO NOTHING"),
                 {"id": tx_id, "kiosk": kiosk_id, "case": case, "door": handin.door,
                  "at": handin.handed_in_at.isoformat(), "receipt": handin.receipt_no, "hall": handin.hall})
    sms_queue.enqueue(conn, tx_id, "handin_received", kiosk_id, case, now)
    log.info("kiosk %s: materials for case %s handed in, door %d", kiosk_id, case, handin.door)


def _handin_collected(conn: Connection, kiosk_id: str, tx_id: str, data: dict, occurred: datetime) -> None:
    case, door = _case_of(data), data.get("door")
    if case is None or not isinstance(door, int):
        return
    conn.execute(text(
        "UPDATE handins SET state = 'collected', collected_at = :at, collected_by = :tx WHERE state = 'in_locker'"
        " AND handin_id = (SELECT handin_id FROM handins WHERE kiosk_id = :kiosk AND case_number = :case"
        " AND door = :door AND state = 'in_locker' ORDER BY handed_in_at DESC, handin_id DESC LIMIT 1)"),
        {"at": occurred.timestamp(), "tx": tx_id, "kiosk": kiosk_id, "case": case, "door": door})
