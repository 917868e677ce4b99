"""The payment screen, shared by every service that charges: a view of `PaymentFlow`.

The amount in large type, the ways to pay, and what to do at the terminal or
the scanner. Cancel is offered only while nothing has been sent; once the
terminal or the acquirer has the request, the citizen finishes there. The
service that asked for the payment watches the flow and takes the screen back
when the payment is over.
"""
from __future__ import annotations

from pathlib import Path

from kivy.clock import Clock
from kivy.lang import Builder
from kivy.properties import BooleanProperty, ListProperty, ObjectProperty, StringProperty

from kiosk.core.payment.flow import PayState
from kiosk.core.payment.money import yuan
from kiosk.i18n import N_, _
from kiosk.screens import kiosk_face  # noqa: F401  (KioskFace in payment.kv)
from kiosk.screens.lifetime import VisitScreen
from kiosk.screens.steps import ShowsSteps  # and WaitLine, of payment.kv
from kiosk.screens.documents import draw_actions  # and its FlowButton, of payment.kv

TITLES = {
    PayState.CHOOSE: N_("Payment"),
    PayState.WAIT_CARD: N_("Pay on the card terminal"),
    PayState.WAIT_CODE: N_("Show your payment code"),
    PayState.CODE_CONFIRM: N_("Paying…"),
    PayState.APPROVED: N_("Payment received"),
    PayState.DECLINED: N_("The payment did not go through"),
    PayState.UNKNOWN: N_("We could not confirm your payment"),
    PayState.CANCELED: N_("Payment canceled"),
}
MESSAGES = {
    PayState.CHOOSE: N_("Choose how to pay."),
    PayState.WAIT_CARD: N_("Insert, swipe or tap your bank card on the card terminal and follow its instructions. "
                           "To stop, press Cancel on the terminal."),
    PayState.WAIT_CODE: N_("Open WeChat or Alipay, show your payment code and hold it under the scanner."),
    PayState.CODE_CONFIRM: N_("If your phone asks you to confirm the payment, please confirm it there. To stop, "
                              "tap \"Cancel the payment\"."),
    PayState.DECLINED: N_("Nothing was charged. You can try again or choose another way to pay."),
    PayState.CANCELED: N_("Nothing was charged."),
}
NOTICES = {
    "no_code": N_("No payment code was shown in time. Choose how to pay."),
    "scanner_failed": N_("The code scanner is not working. Please pay by card."),
    "not_a_payment_code": N_("That was not a payment code. Please show the payment code from WeChat or Alipay."),
}
CANCELING = N_("Canceling…")
CANCELING_CODE = N_("The payment request is being called back. Nothing will be charged once it is canceled.")
METHODS = {"card": N_("Pay by bank card"), "code": N_("Pay with a WeChat or Alipay code")}


class PaymentScreen(ShowsSteps, VisitScreen):
    flow = ObjectProperty()
    title = StringProperty()
    amount = StringProperty()
    message = StringProperty()
    notice = StringProperty()
    waiting = BooleanProperty(False)
    device = StringProperty("")   # the part of the kiosk the citizen uses now (kiosk/screens/kiosk_face.py)
    actions = ListProperty()

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self._redraw = Clock.create_trigger(self.render, 0)
        self.hold(self.flow.on_change(lambda _flow: self._redraw()))
        from kiosk import i18n
        self.hold(i18n.on_language_change(lambda _lang: self._redraw()))
        self.render()

    def on_pre_enter(self, *_args):
        self.render()

    def render(self, *_args) -> None:
        f = self.flow
        self.title = _(CANCELING if f.canceling else TITLES.get(f.state, TITLES[PayState.CHOOSE]))
        self.amount = yuan(f.amount_fen) if f.amount_fen else ""
        self.message = _(CANCELING_CODE if f.canceling else MESSAGES[f.state]) if f.state in MESSAGES else ""
        self.notice = _(NOTICES[f.notice]) if f.notice in NOTICES else ""
        self.show_step(f)
        if f.canceling:
            self.wait_s = 0
        self.waiting = f.state in (PayState.WAIT_CARD, PayState.CODE_CONFIRM, PayState.REFUNDING)
        self.device = {PayState.WAIT_CARD: "payment", PayState.WAIT_CODE: "scanner"}.get(f.state, "")
        if f.state is PayState.CHOOSE:
            self.actions = [(METHODS[m], f"pay_by_{m}", "choice") for m in f.methods] + [(N_("Cancel"), "cancel", "plain")]
        elif f.state is PayState.WAIT_CODE:
            self.actions = [(N_("Cancel"), "cancel", "plain")]
        elif f.state is PayState.CODE_CONFIRM and not f.canceling:
            self.actions = [(N_("Cancel the payment"), "cancel_in_flight", "plain")]
        elif f.state is PayState.DECLINED:
            self.actions = [(N_("Try again"), "retry", "main"), (N_("Cancel"), "cancel", "plain")]
        else:
            self.actions = []
        draw_actions(self.ids.actions, self.actions, choices=self.ids.options)

    def act(self, name: str) -> None:
        getattr(self.flow, name)()


Builder.load_file(str(Path(__file__).with_name("payment.kv")))
