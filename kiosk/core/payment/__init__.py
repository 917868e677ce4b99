"""Paying for a service at the kiosk (kiosk/core/payment/flow.py, until it is split into its parts)."""
from kiosk.core.payment.flow import *  # noqa: F401,F403
from kiosk.core.payment.flow import (  # noqa: F401  (names the star leaves out)
    FINAL, LEAVING, SLIP_STATES, CentralDemoAcquirer, CodeAnswer, CodePaymentGateway, GatewayError, PaymentFlow,
    PaymentLedger, PaymentRecovery, PaymentRow, PayState, SystemClock, new_reference, show_reference, yuan)
