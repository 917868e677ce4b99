"""Paying for a service at the kiosk: the card terminal or a payment code, and never a guessed outcome.

    money.py     references and amounts as the citizen and staff read them
    gateway.py   the port for payment codes (an acquirer's back-end), injected
    ledger.py    the `payments` table: written before a request is sent, settled with its outbox record
    flow.py      `PaymentFlow`: one citizen paying
    recovery.py  `PaymentRecovery`: what a restart left in flight, settled before any new payment

The names below are re-exported for the callers of the former single module.
"""
from kiosk.core.payment.flow import FINAL, LEAVING, SLIP_STATES, PaymentFlow, PayState
from kiosk.core.payment.gateway import CodeAnswer, CodePaymentGateway, GatewayError
from kiosk.core.payment.ledger import PaymentLedger, PaymentRow
from kiosk.core.payment.money import new_reference, show_reference, yuan
from kiosk.core.payment.recovery import PaymentRecovery

__all__ = ["FINAL", "LEAVING", "SLIP_STATES", "CodeAnswer", "CodePaymentGateway", "GatewayError", "PayState",
           "PaymentFlow", "PaymentLedger", "PaymentRecovery", "PaymentRow", "new_reference",
           "show_reference", "yuan"]
