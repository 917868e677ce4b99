"""Payment codes over the central platform's `/api/v1/payments/code` (docs/central-api.md): a gateway.

`CentralCodePayments` implements the domain's gateway port
(kiosk/core/payment/gateway.py) with signed requests through the central
client. The reference platform answers these paths with its demo acquirer
(kiosk/central/code_payments.py); the default config names that plug-in
(kiosk/sim/acquirer.py). A platform that offers the same API for real can
be named the same way; a hall with its own acquirer names that gateway instead.

Answers are `kiosk.wire.payments.CodeAnswer`; a call whose answer did not
arrive (offline, timeout, 5xx, an answer that is not a payment status) raises
`GatewayError`, so the domain queries and never pays twice. A 404 is an answer:
`not_found` (the payment never reached the acquirer).
"""
from __future__ import annotations

from typing import Any

from kiosk.sync.client import CentralClient, CentralError, CentralNotFound
from kiosk.wire.payments import CodeAnswer, GatewayError

BASE = "/api/v1/payments/code"


class CentralCodePayments:
    """Pay, query, reverse and refund payment codes at the central platform (idempotent on the reference)."""

    def __init__(self, central: CentralClient, timeout_s: float | None = None):
        self.central = central
        self.timeout_s = timeout_s or central.lookup_timeout_s * 2

    def _call(self, method: str, path: str, body: dict[str, Any] | None = None) -> CodeAnswer:
        try:
            doc = self.central.request_json(method, path, body=body, timeout=self.timeout_s)
        except CentralNotFound:
            return CodeAnswer("not_found", "not_found")
        except CentralError as exc:
            raise GatewayError(str(exc)) from None
        try:
            return CodeAnswer(str(doc["status"]), str(doc.get("detail") or ""))
        except (KeyError, TypeError, AttributeError):
            raise GatewayError(f"{method} {path}: the answer is not a payment status") from None

    def pay(self, reference: str, amount_fen: int, code: str, channel: str, service: str) -> CodeAnswer:
        return self._call("POST", BASE, {
            "reference": reference, "amount_fen": amount_fen, "code": code, "channel": channel,
            "service": service})

    def query(self, reference: str) -> CodeAnswer:
        return self._call("GET", f"{BASE}/{reference}")

    def reverse(self, reference: str) -> CodeAnswer:
        return self._call("POST", f"{BASE}/{reference}/reverse", {})

    def refund(self, reference: str, refund_reference: str, amount_fen: int) -> CodeAnswer:
        return self._call("POST", f"{BASE}/{reference}/refund",
                          {"refund_reference": refund_reference, "amount_fen": amount_fen})
