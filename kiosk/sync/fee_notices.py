"""The platform's fee notices for the kiosk's fee flow (kiosk/core/fees.py `FeeNotices`), over the central client.

`find` is the client's look-up. `report_payment` sends a sale's `payment` transaction at once, read from
the outbox where the payments ledger committed it with the sale's outcome, so that the item the platform
gets now is byte for byte the one the relay sends again later (stored once, by its id).
"""
from __future__ import annotations

from kiosk.store import PerThread
from kiosk.sync.client import CentralClient
from kiosk.sync.outbox import Outbox
from kiosk.wire.fees import FeeNoticeView, FeePaymentAnswer, FeeRefusal


class CentralFeeNotices:
    def __init__(self, central: CentralClient, store):
        self.central = central
        self._conn = PerThread(store.connect)   # the worker's own connection

    def find(self, number: str, timeout: float) -> FeeNoticeView | FeeRefusal:
        return self.central.find_fee_notice(number, timeout=timeout)

    def report_payment(self, transaction_id: str, timeout: float) -> FeePaymentAnswer:
        entry = Outbox(self._conn()).get(transaction_id)
        if entry is None:
            raise LookupError(f"transaction {transaction_id} is not in the outbox")
        return self.central.report_fee_payment(entry.wire(), timeout=timeout)
