"""A payment-code acquirer's answer, shared by the domain's gateway port (kiosk/core/payment/gateway.py)
and the gateways that implement it (kiosk/sync/code_payments.py over the central platform's
`/api/v1/payments/code`, docs/central-api.md; a deployment's own acquirer plug-in)."""
from __future__ import annotations

from dataclasses import dataclass

# what an answer's `status` may be
CODE_STATUSES = ("approved", "declined", "pending", "reversed", "refunded", "not_found", "unknown")


class GatewayError(Exception):
    """The acquirer's answer did not arrive (network, timeout, 5xx): the outcome is NOT known."""


@dataclass(frozen=True)
class CodeAnswer:
    # approved | declined | pending (payer still confirming) | reversed | refunded | not_found | unknown
    status: str
    detail: str = ""
