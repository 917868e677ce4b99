"""The demo acquirer of payment codes: a plug-in that the default config names.

    [payments]
    acquirer = "kiosk.sim.acquirer:central_demo"

There is no public acquirer for WeChat/Alipay payment codes. For demos, the
tour and the tests the reference central platform stands in, with outcomes
chosen by the code's last digit (kiosk/central/code_payments.py,
docs/central-api.md); this plug-in reaches it through the kiosk's central
client (kiosk/sync/code_payments.py). A deployment names its acquirer's
gateway instead: any `module:callable` that takes the central client and the
settings and returns a `CodePaymentGateway` (kiosk/core/payment/gateway.py).
"""
from __future__ import annotations

from kiosk.sync.code_payments import CentralCodePayments


class CentralDemoAcquirer(CentralCodePayments):
    """The reference central platform's demo acquirer (`/api/v1/payments/code`): demos and tests only."""


def central_demo(central, settings=None) -> CentralDemoAcquirer:
    """The plug-in: the demo acquirer of the platform at `[central] url`."""
    return CentralDemoAcquirer(central)
