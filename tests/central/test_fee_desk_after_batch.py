"""FeeDesk.after_batch: the payments a batch brings are applied with it, and a batch without one does not
query the payments each time, yet nothing waits longer than APPLY_EVERY_S: a payment another worker stored
and did not apply, and one the issuer could not be asked about, are applied after all (time injected)."""
from __future__ import annotations

import datetime as dt
import time
import uuid

from kiosk.central import fee_intake
from kiosk.central.db import CentralDB
from kiosk.central.fee_issuer import COMPANY, UNPAID, DemoFeeIssuer
from kiosk.central.fee_notices import APPLY_EVERY_S, FeeDesk, IssuerUnavailable
from kiosk.central.intake import check_item
from kiosk.wire.fees import new_receipt_token, receipt_token_digest


class FlakyIssuer(DemoFeeIssuer):
    """The demo issuer, unreachable while `down`."""
    down = False

    def look_up(self, number):
        if self.down:
            raise IssuerUnavailable("the issuer does not answer")
        return super().look_up(number)


def item(kind: str, seq: int, number: str | None = None, amount: int = 0) -> dict:
    data = {"service": "documents", "pages": 1}
    if kind == "payment":
        data = {"reference": uuid.uuid4().hex[:10].upper(), "method": "card", "channel": "card",
                "amount_fen": amount, "currency": "CNY", "service": "fees", "result": "approved",
                "fee_notice": number, "receipt_token_sha256": receipt_token_digest(new_receipt_token())}
    return {"id": str(uuid.uuid4()), "seq": seq, "kind": kind, "data": data,
            "occurred_at": dt.datetime.now(dt.timezone(dt.timedelta(hours=8))).isoformat(timespec="milliseconds")}


def states(db: CentralDB) -> dict[str, str]:
    from sqlalchemy import text
    with db.reading() as conn:
        return dict(conn.execute(text("SELECT fee_notice, state FROM fee_payments")).all())


def test_payments_are_applied_with_their_batch_or_within_the_interval(tmp_path):
    now = [time.time()]
    db = CentralDB(tmp_path / "central.db", key_file=tmp_path / "central.key", clock=lambda: now[0])
    issuer = FlakyIssuer(db)
    issuer.seed()
    db.add_kiosk("k1", groups=["demo-hall"])
    desk = FeeDesk(db, issuer)
    due = {number: issuer.look_up(number).total_fen for number in (UNPAID, COMPANY)}
    db.intake_hooks.append(fee_intake.on_stored)

    def batch(*items):
        checked = [check_item(i, n) for n, i in enumerate(items)]
        results = db.store_batch("k1", checked)
        kinds = {c.row["kind"] for c, r in zip(checked, results) if r["status"] == "accepted"}
        return desk.after_batch(kinds)

    assert batch(item("print", 1)) == 0              # the first batch of a worker looks once: nothing there
    # a payment stored by another worker that died before applying it: not looked for with every batch ...
    db.store_batch("k1", [check_item(item("payment", 2, UNPAID, due[UNPAID]), 0)])
    now[0] += 1
    assert batch(item("print", 3)) == 0 and states(db)[UNPAID] == "received"
    # ... and applied with the first batch after the interval
    now[0] += APPLY_EVERY_S
    assert batch(item("print", 4)) == 1 and states(db)[UNPAID] == "paid"

    # a batch with a payment applies it at once; with the issuer down it is left and asked again next batch
    issuer.down = True
    now[0] += 1
    assert batch(item("payment", 5, COMPANY, due[COMPANY])) == 0 and states(db)[COMPANY] == "received"
    issuer.down = False
    now[0] += 1
    assert batch(item("print", 6)) == 1 and states(db)[COMPANY] == "paid"
    now[0] += 1
    assert batch(item("print", 7)) == 0
    db.close()
