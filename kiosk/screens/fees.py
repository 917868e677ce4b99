"""The fee screen (缴费): a view of `FeeFlow` (kiosk/core/fees.py).

One screen, built once, in the manner of the other citizen screens: a title, one calm sentence, and
what the step needs: the keypad and the number being typed (the scanner is listened to by the flow),
the notice to check (department, payer masked, items, total), a reference to quote, the e-receipt's
QR code; and at most three buttons. The visit's chain (kiosk/core/visit.py) shows the shared payment
screen while the flow is paying and brings the citizen back here; Finish hands over to the rating.
Flow changes arrive on the main thread and are coalesced into one redraw per frame.
"""
from __future__ import annotations

from pathlib import Path

from kivy.clock import Clock
from kivy.lang import Builder
from kivy.properties import BooleanProperty, ListProperty, ObjectProperty, StringProperty

from kiosk.core.fees import IN_DOUBT, PAID_HERE, PAYMENT_UNAVAILABLE, FeeState
from kiosk.core.payment.flow import PayState
from kiosk.core.payment.money import yuan
from kiosk.i18n import N_, _
from kiosk.screens.lifetime import VisitScreen
from kiosk.screens.steps import ShowsSteps  # and StepLine, for the .kv
from kiosk.screens.documents import NOTHING_CHARGED, REFUND_WORDS, SLIP_WORDS, FlowButton, draw_actions  # noqa: F401
from kiosk.screens.locker_widgets import StepPanels, to_flow  # and the Keypad of the .kv

S = FeeState
MAX_ITEM_ROWS = 6

TITLES = {
    S.IDLE: N_("Pay a fee notice"),
    S.ENTER: N_("Pay a fee notice"),
    S.LOOKING: N_("Looking up your notice…"),
    S.NOTICE: N_("Check before paying"),
    S.OFFLINE: N_("The fee service is offline"),
    S.PAYING: N_("Payment"),
    S.PAYMENT_UNKNOWN: N_("We could not confirm your payment"),
    S.CONFIRMING: N_("Registering your payment…"),
    S.RETURNING: N_("This notice could not be paid"),
    S.PRINTING: N_("Printing your receipt…"),
    S.DONE: N_("Paid"),
}
MESSAGES = {
    S.PAYMENT_UNKNOWN: N_("This notice will not be charged again at this kiosk. If money was taken, the staff "
                          "will sort it out: please show this reference number at the service desk:"),
    S.CONFIRMING: N_("The issuing department is being told of your payment."),
}
ENTER_HINT = N_("Enter the 20-digit notice number (缴款码) printed on your fee notice, or show the notice's QR "
                "code to the scanner.")
ENTER_HINT_TYPED = N_("Enter the 20-digit notice number (缴款码) printed on your fee notice.")
HINTS = {
    "number_incomplete": N_("A notice number has 20 digits. Please check it against your notice."),
    "not_a_notice_number": N_("That is not the number of a fee notice. Please show the QR code on the notice, or "
                              "type its number."),
    "payment_code_too_early": N_("That is a code for paying. First enter or scan the number of your notice; you "
                                 "pay in the next step."),
}
# why a notice is not paid here: (title, sentence); {date}, {hall} from the platform's details
REFUSED = {
    "notice_unknown": (N_("No notice has this number"),
                       N_("Please check the number against your notice and try again.")),
    "notice_malformed": (N_("This number is not right"),
                         N_("One of the digits seems to be mistyped. Please check each digit against your notice.")),
    "notice_paid": (N_("This notice is paid already"),
                    N_("It was paid on {date}. There is nothing more to pay.")),
    "notice_expired": (N_("This notice is past its due date"),
                       N_("It was due by {date} and can no longer be paid at the kiosk. Please contact the "
                          "department that issued it.")),
    "notice_other_hall": (N_("This notice is paid at another hall"),
                          N_("It was issued for {hall} and cannot be paid at this kiosk.")),
    PAID_HERE: (N_("This notice was paid at this kiosk"),
                N_("A payment of this notice at this kiosk went through, so it cannot be paid again. If you need "
                   "help, show this reference number at the service desk:")),
    IN_DOUBT: (N_("A payment of this notice is being checked"),
               N_("An earlier payment of this notice at this kiosk could not be confirmed, so it cannot be paid "
                  "again here until the staff have checked it. Please show this reference number at the "
                  "service desk:")),
    PAYMENT_UNAVAILABLE: (N_("Payment is not possible right now"),
                          N_("The kiosk cannot take payments at the moment. Please try again later or ask at the "
                             "service desk.")),
}
PAID_NO_DATE = N_("It has been paid already. There is nothing more to pay.")
OFFLINE = N_("The kiosk cannot reach the fee system right now, so your notice cannot be looked up. Please try "
             "again later, or call {hotline}.")
RETURNED = {
    "notice_paid": N_("The issuing department says the notice was paid by another payment just before yours."),
    "notice_expired": N_("The notice passed its due date before your payment reached the issuing department."),
}
RETURNED_OTHER = N_("The issuing department did not accept the payment.")
DONE = N_("Your fee notice has been paid.")
DONE_PENDING = N_("Your payment went through. The issuing department is being told, which can take a little "
                  "while; your receipt is your proof of payment.")
RECEIPT_PRINTED = N_("Please take your receipt from the receipt slot.")
RECEIPT_NOT_PRINTED = N_("The receipt could not be printed. Please note the reference number, or scan the QR code "
                         "for the electronic receipt.")
QR_CAPTION = N_("Scan for the electronic receipt")


class FeesScreen(ShowsSteps, VisitScreen):
    flow = ObjectProperty()
    path = ObjectProperty()             # kiosk.core.visit.VisitPath: the payment and rating steps
    panel = StringProperty("enter")     # enter | notice | message | done: which part of the page shows
    title = StringProperty()
    message = StringProperty()
    hint = StringProperty()             # under the keypad, in the caution colour
    typed = StringProperty()
    detail = StringProperty()           # a second sentence: the slip, the refund, the receipt
    reference = StringProperty()        # shown large when it is to be quoted
    facts = ListProperty()              # [(label, value)] of the notice
    total = StringProperty()
    receipt_url = StringProperty()
    busy = BooleanProperty(False)
    printed = BooleanProperty(True)     # the receipt came out (DONE)
    can_submit = BooleanProperty(False)
    has_scanner = BooleanProperty(False)
    actions = ListProperty()            # [(msgid, callback name, style)]

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self._redraw = Clock.create_trigger(self.render, 0)
        self._qr_for = ""
        self.panels = StepPanels.of(self, "enter")
        self.hold(self.flow.on_change(lambda _flow: self._redraw()))
        from kiosk import i18n
        self.hold(i18n.on_language_change(lambda _lang: self._redraw()))
        self.render()

    @property
    def worker(self):
        """The flow's executor: its `pending` counts the steps under way (the UI tests and the tour wait on it)."""
        return self.flow.executor

    def on_pre_enter(self, *_args):
        if not self.path.returned(self.flow.SERVICE) and self.flow.state is not FeeState.ENTER:
            self.flow.begin()   # a new visit starts from the keypad
        self.render()

    def on_leave(self, *_args):
        if self.flow.state is FeeState.ENTER:
            self.flow.stop_scanning()

    # -- drawing the flow's state ------------------------------------------------------------------
    def render(self, *_args) -> None:
        f = self.flow
        self.show_step(f)
        state = f.state
        self.has_scanner = f.scanner is not None
        self.typed = f.typed
        self.can_submit = f.can_submit
        self.hint = _(HINTS[f.hint]) if f.hint in HINTS else ""
        self.panel = {S.IDLE: "enter", S.ENTER: "enter", S.NOTICE: "notice", S.DONE: "done"}.get(state, "message")
        self.panels.show(self.panel)
        self.printed = f.printed is not False
        self.title, self.message = self._words(f, state)
        self.detail = self._detail(f, state)
        self.reference = self._reference(f, state)
        notice = f.notice
        if notice is not None and state in (S.NOTICE, S.DONE):
            self.facts = self._facts(f, state)
            self.total = yuan(notice.total_fen)
        else:
            self.facts, self.total = [], ""
        self.receipt_url = f.receipt_url if state is S.DONE else ""
        self._draw_qr()
        self.busy = state in (S.LOOKING, S.CONFIRMING, S.PRINTING) or (
            state is S.RETURNING and f.payment.state is PayState.REFUNDING)
        self.actions = self._actions(f, state)
        self._draw_items(f, state)
        self._draw_actions()

    def _words(self, f, state) -> tuple[str, str]:
        if state is S.REFUSED:
            title, sentence = REFUSED.get(f.problem, REFUSED["notice_unknown"])
            d = f.problem_detail
            if f.problem == "notice_paid" and not d.get("paid_on"):
                sentence = PAID_NO_DATE
            text = _(sentence).format(date=d.get("paid_on") or d.get("due_date") or "", hall=d.get("hall_name", ""))
            if f.problem not in (PAID_HERE, IN_DOUBT):
                text = self._join(text, _(NOTHING_CHARGED))
            return _(title), text
        if state is S.OFFLINE:
            return _(TITLES[state]), self._join(_(OFFLINE).format(hotline=f.hotline), _(NOTHING_CHARGED))
        if state is S.ENTER:
            return _(TITLES[state]), _(ENTER_HINT if f.scanner is not None else ENTER_HINT_TYPED)
        if state is S.RETURNING:
            return _(TITLES[state]), _(RETURNED.get(f.problem, RETURNED_OTHER))
        if state is S.DONE:
            done = DONE if f.confirmed == "paid" else DONE_PENDING
            return _(TITLES[state]), _(done)
        return _(TITLES.get(state, TITLES[S.ENTER])), _(MESSAGES[state]) if state in MESSAGES else ""

    @staticmethod
    def _join(*sentences: str) -> str:
        from kiosk import i18n
        return ("" if i18n.language().startswith("zh") else " ").join(s for s in sentences if s)

    def _detail(self, f, state) -> str:
        pay = f.payment
        if state is S.RETURNING and pay.state in REFUND_WORDS:
            slip = SLIP_WORDS.get(pay.slip) if pay.state is not PayState.REFUNDING else None
            return _(REFUND_WORDS[pay.state]) + ("\n" + _(slip) if slip else "")
        if state is S.PAYMENT_UNKNOWN and pay.slip in SLIP_WORDS:
            return _(SLIP_WORDS[pay.slip])
        if state is S.DONE:
            return _(RECEIPT_PRINTED if f.printed else RECEIPT_NOT_PRINTED)
        return ""

    @staticmethod
    def _reference(f, state) -> str:
        if state is S.REFUSED and f.problem in (PAID_HERE, IN_DOUBT):
            return f.shown_reference
        if state is S.PAYMENT_UNKNOWN or (state is S.RETURNING and f.payment.state in (PayState.REFUND_OWED,
                                                                                      PayState.REFUNDED)):
            return f.payment.shown_reference
        return ""

    @staticmethod
    def _facts(f, state) -> list[tuple[str, str]]:
        n = f.notice
        facts = [(_("Notice number"), " ".join(n.number[i:i + 4] for i in range(0, len(n.number), 4))),
                 (_("Issued by"), n.department), (_("Payer"), n.payer_masked)]
        if state is S.DONE:
            facts.append((_("Reference"), f.shown_reference))
        else:
            facts.append((_("Pay by"), n.due_date))
        return facts

    def _draw_items(self, f, state) -> None:
        rows = list(reversed(self.ids.item_rows.children))
        items = f.notice.items if f.notice is not None and state is S.NOTICE else []
        shown = items if len(items) <= MAX_ITEM_ROWS else items[:MAX_ITEM_ROWS - 1]
        for i, row in enumerate(rows):
            if i < len(shown):
                row.name, row.amount, row.shown = shown[i].name, yuan(shown[i].amount_fen), True
            elif i == len(shown) and len(items) > len(shown):
                rest = items[len(shown):]
                row.name = _("{count} more items").format(count=len(rest))
                row.amount, row.shown = yuan(sum(i.amount_fen for i in rest)), True
            else:
                row.name, row.amount, row.shown = "", "", False

    def _draw_qr(self) -> None:
        image = self.ids.qr
        if self.receipt_url == self._qr_for:
            return
        self._qr_for = self.receipt_url
        if self.receipt_url:
            from kiosk.screens.guides_detail import qr_texture
            image.texture = qr_texture(self.receipt_url)
        else:
            image.texture = None

    def _actions(self, f, state) -> list[tuple[str, str, str]]:
        home = (N_("Back to home"), "home", "plain")
        if state is S.ENTER:
            return [(N_("Next"), "submit", "main"), (N_("Cancel"), "home", "plain")]
        if state is S.NOTICE:
            return [(N_("Pay now"), "pay", "main"), (N_("Another notice"), "again", "plain")]
        if state is S.REFUSED:
            if f.problem in (PAID_HERE, IN_DOUBT):
                return [(N_("Finish"), "home", "main")]
            return [(N_("Another notice"), "again", "main"), home]
        if state is S.OFFLINE:
            return [(N_("Try again"), "retry", "main"), home]
        if state is S.PAYMENT_UNKNOWN and f.payment.slip != "printing":
            return [(N_("Finish"), "finish", "main")]
        if state is S.RETURNING and f.payment.state is not PayState.REFUNDING and f.payment.slip != "printing":
            return [(N_("Finish"), "finish", "main")]
        if state is S.DONE:
            return [(N_("Finish"), "rate", "main")]
        return []

    def _draw_actions(self) -> None:
        draw_actions(self.ids.actions, self.actions, disabled=() if self.can_submit else ("submit",))

    def typed_text(self, typed: str) -> str:
        """The number in groups of four as it is typed, with the places still to fill."""
        padded = typed + "_" * max(0, 20 - len(typed))
        return " ".join(padded[i:i + 4] for i in range(0, 20, 4))

    # -- what the citizen touches ------------------------------------------------------------------
    @staticmethod
    def _app():
        from kivy.app import App
        return App.get_running_app()

    def key(self, key: str) -> None:
        to_flow(self.flow, key)

    def act(self, name: str) -> None:
        f, app = self.flow, self._app()
        if name == "home":
            app.end_visit("home")
        elif name == "finish":
            f.payment.acknowledge()   # the citizen has the reference (slip or screen)
            app.end_visit("done")
        elif name == "rate":
            f.receipt_noted()
            self.path.rate(f.SERVICE, f.transaction_id)
        else:
            getattr(f, name)()


Builder.load_file(str(Path(__file__).with_name("fees.kv")))
