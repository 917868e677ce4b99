"""After a restart: settle what a crash or power cut left open, before the kiosk takes any new payment.

`PaymentRecovery` runs when the UI starts, before any new payment: every row
still `in_flight` is queried (the card terminal's late answer, the acquirer's
query), and an approved sale whose service never happened is refunded (code) or
handed to staff (card: the cardholder has gone). The flow uses `give_back` too,
for a sale approved after its visit ended.
"""
from __future__ import annotations

import logging

from kiosk.core.payment.gateway import CodeAnswer, CodePaymentGateway, GatewayError
from kiosk.core.payment.ledger import PaymentLedger, PaymentRow
from kiosk.core.payment.money import new_reference

log = logging.getLogger(__name__)


class PaymentRecovery:
    """Settle what a crash or power cut left open, before the kiosk takes any new payment."""

    def __init__(self, ledger: PaymentLedger, *, terminal=None, gateway: CodePaymentGateway | None = None,
                 reconcile_listen_s: float | None = None):
        self.ledger = ledger
        self.terminal = terminal
        self.gateway = gateway
        self.reconcile_listen_s = reconcile_listen_s

    def run(self) -> list[tuple[str, str]]:
        """(reference, what happened) for every row it looked at; sets `ledger.recovered` at the end."""
        report: list[tuple[str, str]] = []
        try:
            for row in self.ledger.rows("state='in_flight'"):
                state, detail = self._query(row)
                self.ledger.settle(row.reference, state, detail)
                report.append((row.reference, f"{row.kind} in flight -> {state} ({detail})"))
            # a sale approved whose service never happened (the citizen left with nothing)
            for row in self.ledger.rows("kind='sale' AND state='approved' AND service_state='open'"):
                report.append((row.reference, self.give_back(row)))
        finally:
            self.ledger.recovered.set()
        for ref, what in report:
            log.warning("payment recovery: %s: %s", ref, what)
        return report

    def _query(self, row: PaymentRow) -> tuple[str, str]:
        if row.method == "card":
            if self.terminal is None:
                return "unknown", "terminal_not_configured"
            from kiosk.hardware.payment import PendingSale

            try:
                outcome = self.terminal.reconcile(PendingSale.from_dict(row.pending), self.reconcile_listen_s)
            except Exception as exc:  # a terminal that is gone: the outcome stays for staff
                return "unknown", f"reconcile_failed:{type(exc).__name__}"
            result = getattr(outcome.result, "value", str(outcome.result))
            return (result if result in ("approved", "declined") else "unknown"), outcome.detail
        if self.gateway is None:
            return "unknown", "gateway_not_configured"
        try:
            answer = self.gateway.query(row.reference if row.kind == "sale" else row.sale_reference)
        except GatewayError as exc:
            return "unknown", f"query_unanswered:{exc}"[:200]
        if row.kind == "refund":
            return ("approved", "refunded_per_query") if answer.status == "refunded" else ("unknown", answer.status)
        if answer.status in ("approved", "declined"):
            return answer.status, f"after_restart:{answer.detail or answer.status}"
        if answer.status in ("pending", "unknown"):
            try:
                back = self.gateway.reverse(row.reference)
            except GatewayError:
                return "unknown", f"{answer.status}_after_restart"
            if back.status in ("reversed", "not_found"):
                return "canceled", "reversed_after_restart"
            if back.status == "approved":
                return "approved", "approved_late"
            return "unknown", f"{answer.status}_after_restart"
        if answer.status == "not_found":
            return "canceled", "never_reached_acquirer"
        return "unknown", answer.status

    def give_back(self, row: PaymentRow, why: str = "approved while the kiosk restarted; the service did not "
                                                     "happen") -> str:
        """An approved sale whose service never happened: a code payment is refunded, a card sale (the
        refund needs the cardholder's card) is handed to staff with an alarm."""
        if row.method == "code" and self.gateway is not None:
            rref = new_reference()
            self.ledger.prepare(rref, "refund", "code", row.channel, row.amount_fen, row.service,
                                sale_reference=row.reference)
            try:
                answer = self.gateway.refund(row.reference, rref, row.amount_fen)
            except GatewayError as exc:
                answer = CodeAnswer("unknown", f"refund_unanswered:{exc}"[:200])
            state = "approved" if answer.status in ("refunded", "approved") else (
                "declined" if answer.status == "declined" else "unknown")
            self.ledger.settle(rref, state, answer.detail or answer.status)
            if state == "approved":
                return f"refunded as {rref}"
        # a card refund needs the cardholder's card: staff settle it
        self.ledger.refund_owed(row.reference, why)
        return "refund owed (alarm raised)"
