"""What a newly stored `payment` or `refund` transaction changes for fee notices (缴费).

Called by `CentralDB.store_batch` for each item stored for the first time (never for a duplicate), inside
the batch's transaction, so the transaction and its record commit together:

- a `payment` whose `data.fee_notice` names a notice: a row in `fee_payments`, `received`; the desk
  (kiosk/central/fee_notices.py `FeeDesk.apply`) applies it to the notice once the batch is committed;
- a `refund` whose `data.payment_reference` is the sale of such a row: the row is marked for settling
  (its `refund_id`), which the desk turns into `refunded`.

The money was taken whatever the data says, so nothing here refuses a transaction: a `fee_notice` that is
not a notice number is recorded too, and the desk marks it `refund_due`.
"""
from __future__ import annotations

import json
import logging
import re
import sqlite3
from typing import Any

log = logging.getLogger(__name__)

_SHA256 = re.compile(r"^[0-9a-f]{64}$")


def on_stored(conn: sqlite3.Connection, kiosk_id: str, row: dict[str, Any], now: float) -> None:
    kind = row["kind"]
    if kind not in ("payment", "refund"):
        return
    data = json.loads(row["data"])
    if kind == "payment" and "fee_notice" in data:
        _payment(conn, kiosk_id, row, data, now)
    elif kind == "refund" and isinstance(data.get("payment_reference"), str):
        settled = conn.execute("UPDATE fee_payments SET refund_id = ?, updated_at = ? WHERE kiosk_id = ? AND"
                               " reference = ? AND refund_id IS NULL",
                               (row["id"], now, kiosk_id, data["payment_reference"])).rowcount
        if settled:
            log.info("kiosk %s: fee payment %s given back (refund %s)", kiosk_id, data["payment_reference"],
                     data.get("reference"))


def _payment(conn: sqlite3.Connection, kiosk_id: str, row: dict[str, Any], data: dict[str, Any], now: float) -> None:
    token = data.get("receipt_token_sha256")
    amount = data.get("amount_fen")
    reference = str(data.get("reference") or row["id"])
    if conn.execute("SELECT 1 FROM fee_payments WHERE kiosk_id = ? AND reference = ?",
                    (kiosk_id, reference)).fetchone() is not None:
        log.error("kiosk %s: a second payment transaction %s for sale %s; the first one stands", kiosk_id,
                  row["id"], reference)
        return
    values = [row["id"], kiosk_id, reference, str(data["fee_notice"])[:40],
              amount if isinstance(amount, int) and not isinstance(amount, bool) else 0,
              str(data.get("channel") or ""), row["occurred_at"],
              token if isinstance(token, str) and _SHA256.match(token) else None, now, now]
    sql = ("INSERT INTO fee_payments (transaction_id, kiosk_id, reference, fee_notice, amount_fen, channel, paid_at,"
           " token_sha256, state, received_at, updated_at) VALUES (?,?,?,?,?,?,?,?, 'received', ?, ?)")
    try:
        conn.execute(sql, values)
    except sqlite3.IntegrityError:   # a receipt token used before: the payment counts, its page does not
        log.error("kiosk %s: payment %s carries a receipt token already used; recorded without a receipt page",
                  kiosk_id, reference)
        values[7] = None
        conn.execute(sql, values)
