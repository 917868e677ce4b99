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
from typing import Any

from sqlalchemy import Connection, text
from sqlalchemy.exc import IntegrityError

log = logging.getLogger(__name__)

_SHA256 = re.compile(r"^[0-9a-f]{64}$")
_INSERT = text(
    "INSERT INTO fee_payments (transaction_id, kiosk_id, reference, fee_notice, amount_fen, channel, paid_at,"
    " token_sha256, state, received_at, updated_at) VALUES (:transaction_id, :kiosk_id, :reference, :fee_notice,"
    " :amount_fen, :channel, :paid_at, :token, 'received', :now, :now) ON CONFLICT (kiosk_id, reference) DO NOTHING")


def on_stored(conn: Connection, kiosk_id: str, row: dict[str, Any], now: float) -> None:
    kind = row["kind"]
    if kind not in ("payment", "refund"):
        return
    data = json.loads(row["data"])
    if kind == "payment" and "fee_notice" in data:
        _payment(conn, kiosk_id, row, data, now)
    elif kind == "refund" and isinstance(data.get("payment_reference"), str):
        settled = conn.execute(text("UPDATE fee_payments SET refund_id = :refund_id, updated_at = :now"
                                    " WHERE kiosk_id = :kiosk_id AND reference = :reference AND refund_id IS NULL"),
                               {"refund_id": row["id"], "now": now, "kiosk_id": kiosk_id,
                                "reference": data["payment_reference"]}).rowcount
        if settled:
            log.info("kiosk %s: fee payment %s given back (refund %s)", kiosk_id, data["payment_reference"],
                     data.get("reference"))


def _payment(conn: Connection, kiosk_id: str, row: dict[str, Any], data: dict[str, Any], now: float) -> None:
    token = data.get("receipt_token_sha256")
    amount = data.get("amount_fen")
    reference = str(data.get("reference") or row["id"])
    values = {"transaction_id": row["id"], "kiosk_id": kiosk_id, "reference": reference,
              "fee_notice": str(data["fee_notice"])[:40],
              "amount_fen": amount if isinstance(amount, int) and not isinstance(amount, bool) else 0,
              "channel": str(data.get("channel") or ""), "paid_at": row["occurred_at"],
              "token": token if isinstance(token, str) and _SHA256.match(token) else None, "now": now}
    try:
        with conn.begin_nested():   # a refused insert undoes only itself (PostgreSQL: the batch goes on)
            inserted = conn.execute(_INSERT, values).rowcount
    except IntegrityError:   # a receipt token used before: the payment counts, its page does not
        log.error("kiosk %s: payment %s carries a receipt token already used; recorded without a receipt page",
                  kiosk_id, reference)
        inserted = conn.execute(_INSERT, {**values, "token": None}).rowcount
    if not inserted:   # the sale is recorded already (in one statement: also when two batches race)
        log.error("kiosk %s: a second payment transaction %s for sale %s; the first one stands", kiosk_id,
                  row["id"], reference)
