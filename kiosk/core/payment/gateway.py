"""The port for payment codes: what the domain needs of an acquirer's back-end (one interface).

The citizen shows a WeChat/Alipay payment code to the scanner; the acquirer
charges it. This project has no acquirer: the composition root loads the one
`[payments] acquirer` names (kiosk/app/visit.py). The default config names
the demo plug-in (kiosk/sim/acquirer.py: the reference central platform's demo
endpoints, spoken by kiosk/sync/code_payments.py); a deployment names its
acquirer's. The answer and the error are wire types (kiosk/wire/payments.py)
so that a gateway outside the domain can return and raise them.
"""
from __future__ import annotations

from typing import Protocol, runtime_checkable

from kiosk.wire.payments import CODE_STATUSES, CodeAnswer, GatewayError

__all__ = ["CODE_STATUSES", "CodeAnswer", "CodePaymentGateway", "GatewayError"]


@runtime_checkable
class CodePaymentGateway(Protocol):
    """Pay with a WeChat/Alipay payment code the citizen shows to the scanner (an acquirer's back-end).

    Every call is idempotent on `reference`: paying the same reference twice charges once. A call
    whose answer does not arrive raises `GatewayError`; the caller then queries, never pays again.
    """

    def pay(self, reference: str, amount_fen: int, code: str, channel: str, service: str) -> CodeAnswer: ...

    def query(self, reference: str) -> CodeAnswer: ...

    def reverse(self, reference: str) -> CodeAnswer:
        """Call back a payment whose outcome is pending or unknown: `reversed` when it will never be charged."""
        ...

    def refund(self, reference: str, refund_reference: str, amount_fen: int) -> CodeAnswer: ...
