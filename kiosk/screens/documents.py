"""The document printing screen: a view of `DocumentPrintFlow` (kiosk/core/printing/documents.py).

One screen, built once, renders every state of the flow: a title, one calm
sentence, the preview or the list to choose from, the print progress, and at
most three buttons. The preview shows the facts (title, pages, price) and one
page at a time, the width of the screen, in a view that pans in both
directions; keys turn the pages and zoom. Only the shown page's image is
loaded (never into Kivy's shared cache); the flow draws each page on its
worker, for the width this view reports. The visit's chain
(kiosk/core/visit.py) shows the shared payment screen while the flow waits for
payment and brings the citizen back here after it; "rate" hands over to the
shared rating screen. Flow changes arrive on the main thread and are coalesced into
one redraw per frame.
"""
from __future__ import annotations

from pathlib import Path

from kivy.clock import Clock
from kivy.lang import Builder
from kivy.properties import BooleanProperty, ListProperty, NumericProperty, ObjectProperty, StringProperty

from kiosk.core.printing.documents import ZOOMS, DocState
from kiosk.core.payment.flow import PayState
from kiosk.core.payment.money import yuan
from kiosk.i18n import N_, _
from kiosk.screens.lifetime import VisitScreen
from kiosk.screens.steps import ShowsSteps  # and StepLine, for the .kv
from kiosk.screens import kiosk_face  # noqa: F401  (KioskFace in documents.kv)
from kiosk.screens import widgets  # noqa: F401  (the shared rules must load first)
from kiosk.screens.widgets import BigButton, RoundButton

TITLES = {
    DocState.IDLE: N_("Print documents"),
    DocState.READ_CARD: N_("Place your ID card on the reader"),
    DocState.CARD_PROBLEM: N_("This ID card cannot be used here"),
    DocState.LOOKUP: N_("Looking for your documents…"),
    DocState.OFFLINE: N_("The document service is offline"),
    DocState.NO_DOCUMENTS: N_("No documents to print"),
    DocState.LIST: N_("Your documents"),
    DocState.FORMS: N_("Blank forms"),
    DocState.FETCHING: N_("Preparing the preview…"),
    DocState.FETCH_FAILED: N_("This document cannot be shown"),
    DocState.PREVIEW: N_("Check before printing"),
    DocState.CHECKING: N_("Checking the printer…"),
    DocState.PRINTER_DOWN: N_("The printer is not available"),
    DocState.PAYING: N_("Payment"),
    DocState.PAYMENT_UNKNOWN: N_("We could not confirm your payment"),
    DocState.PRINTING: N_("Printing…"),
    DocState.DONE: N_("Printed"),
    DocState.FAILED: N_("Printing stopped"),
}

MESSAGES = {
    DocState.IDLE: N_("What would you like to print?"),
    DocState.READ_CARD: N_("Put your resident ID card on the card reader and leave it there until it has been read."),
    DocState.OFFLINE: N_("The kiosk cannot reach the government service platform right now, so your documents "
                         "cannot be looked up. Please try again later or ask the staff at the service desk."),
    DocState.NO_DOCUMENTS: N_("No documents have been released for printing to this ID card. If you expected "
                              "one, please ask the department that issues it."),
    DocState.FORMS: N_("Touch a form to see it before printing."),
    DocState.PRINTER_DOWN: N_("The A4 printer cannot print right now. Nothing was charged. The staff have been told."),
    DocState.PAYMENT_UNKNOWN: N_("Nothing will be printed. If money was taken, the staff will return it. Please "
                                 "show this reference number at the service desk:"),
    DocState.PRINTING: N_("Please wait: printing cannot be stopped halfway. Take your document from the A4 "
                          "paper tray when it is done."),
    DocState.DONE: N_("Please take your document from the A4 paper tray."),
}
TAKE_CARD_TOO = N_("Please take your document from the A4 paper tray, and your ID card from the card reader.")
SLIP_WORDS = {
    "printing": N_("Printing a slip with this reference for you…"),
    "printed": N_("Please take the slip with this reference from the receipt slot."),
    "failed": N_("The slip printer is not working: please note this reference number before you tap Finish."),
}

PROBLEMS = {
    "no_card": N_("No ID card was found on the reader. Please place it flat on the reader and try again."),
    "card_unreadable": N_("The card could not be read. Please place it flat on the reader and try again."),
    "card_expired": N_("This ID card has expired. Please ask the staff at the service desk for help."),
    "card_invalid": N_("This ID card could not be verified. Please ask the staff at the service desk for help."),
    "central_offline": N_("The kiosk cannot reach the government service platform right now. Please try again later."),
    "form_not_here": N_("This form is not available at this kiosk. Please ask the staff at the service desk."),
    "document_unreadable": N_("This document cannot be printed here. Please ask the staff at the service desk."),
    "forms_unavailable": N_("The list of forms is not available right now."),
}

JOB_WORDS = {
    "queued": N_("Waiting for the printer"), "held": N_("Waiting for the printer"),
    "printing": N_("Printing"), "stopped": N_("The printer has stopped"), "completed": N_("Printed"),
}

PAPER = N_("The printer has run out of paper.")
FAULT = N_("The printer has a problem.")
STAFF_TOLD = N_("The staff have been told.")
REFUND_WORDS = {
    PayState.REFUNDING: N_("Your payment is being returned. If the card terminal asks for your card, please "
                           "present it again."),
    PayState.REFUNDED: N_("Your payment has been returned."),
    PayState.REFUND_OWED: N_("Your payment could not be returned here. The staff will return it: please show "
                             "this reference number at the service desk:"),
}
NOTHING_CHARGED = N_("Nothing was charged.")
FACES = {DocState.READ_CARD: "idcard", DocState.PRINTING: "a4", DocState.DONE: "a4"}


class FlowButton(BigButton):
    """One of the screen's (at most three) buttons; hidden and folded away when not needed."""

    action = StringProperty()
    height_factor = NumericProperty(1)


def draw_actions(box, actions: list[tuple[str, str, str]], disabled: tuple[str, ...] = (),
                 choices=None) -> None:
    """The FlowButtons of `box` (the page's action bar, PageActions) show `actions` ([(msgid, callback name, "main" |
    "plain" | "choice")], in order); the rest are hidden and folded away. The "choice" ones (what the step
    offers: 我的文书 / 空白表格, a way to pay) go to the FlowButtons of `choices`, the box right under the
    instruction, filled; the bar keeps the step's navigation (Back, Cancel, Finish, Next). A button whose
    callback is in `disabled` is shown but cannot be tapped."""
    if choices is not None:
        _fill_buttons(choices, [a for a in actions if a[2] == "choice"], disabled)
        actions = [a for a in actions if a[2] != "choice"]
    _fill_buttons(box, actions, disabled)


def flow_buttons(screen) -> list:
    """The FlowButtons of `screen`: its choices (under the instruction, where it has them) and its action
    bar, top down."""
    boxes = [screen.ids[k] for k in ("options", "actions") if k in screen.ids]
    return [b for box in boxes for b in reversed(box.children)]


def _fill_buttons(box, actions, disabled) -> None:
    for i, button in enumerate(reversed(box.children)):
        if i < len(actions):
            msgid, name, style = actions[i]
            button.text = _(msgid)
            button.action = name
            button.opacity, button.disabled = 1, name in disabled
            button.height_factor = 1
            main = style in ("main", "choice")
            button.bg_color = widgets.theme.ACCENT if main else widgets.theme.SURFACE
            button.fg_color = widgets.theme.ON_HEADER if main else widgets.theme.ACCENT
            button.pressed_color = widgets.theme.ACCENT_PRESSED if main else widgets.theme.ACCENT_SOFT
            button.outline = not main
        else:
            button.text, button.action = "", ""
            button.opacity, button.disabled = 0, True
            button.height_factor = 0


class PageKey(RoundButton):
    """A key of the preview: turn a page, zoom in or out."""


class DocumentRow(BigButton):
    """One document or form in the list (a RecycleView row, reused as the list scrolls)."""

    index = NumericProperty(0)
    screen = ObjectProperty(None, allownone=True, force_dispatch=True)   # a weak proxy: it may be gone


class DocumentsScreen(ShowsSteps, VisitScreen):
    flow = ObjectProperty()
    path = ObjectProperty()            # kiosk.core.visit.VisitPath: the payment and rating steps
    title = StringProperty()
    message = StringProperty()
    detail = StringProperty()          # the preview's facts, the progress line, the refund sentence
    reference = StringProperty()       # shown large when staff must settle a payment
    page_source = StringProperty()     # the shown page's image file ("" while none is drawn)
    page_label = StringProperty()      # 第 1 页 / 共 2 页
    page_note = StringProperty()       # 正在准备第 2 页… / the page cannot be shown
    page_aspect = NumericProperty(1.414)
    zoom = NumericProperty(1)
    page_no = NumericProperty(1)
    pages = NumericProperty(1)
    can_zoom_in = BooleanProperty(False)
    can_zoom_out = BooleanProperty(False)
    showing_list = BooleanProperty(False)
    showing_preview = BooleanProperty(False)
    busy = BooleanProperty(False)      # no way back while a request or a print is under way
    rows = ListProperty()
    actions = ListProperty()           # [(msgid, callback name, style)]
    face = StringProperty("")          # the part of the kiosk the step uses (kiosk/screens/kiosk_face.py)

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self._redraw = Clock.create_trigger(self.render, 0)
        self.hold(self.flow.on_change(lambda _flow: self._redraw()))
        from kiosk import i18n
        self.hold(i18n.on_language_change(lambda _lang: self._redraw()))
        self._shown_page = (None, 0)       # (document, page) the image widget holds
        # the page view's width, told to the flow, which draws the pages for it
        self._tell_width = Clock.create_trigger(lambda _dt: self.flow.set_page_width(int(self.ids.page_view.width)), 0)
        self.ids.page_view.fbind("width", lambda *_a: self._tell_width())
        self.render()

    def on_pre_enter(self, *_args):
        if not self.path.returned(self.flow.SERVICE) and self.flow.state in (DocState.DONE, DocState.FAILED, DocState.PAYMENT_UNKNOWN, DocState.PRINTER_DOWN,
                               DocState.CARD_PROBLEM, DocState.OFFLINE, DocState.NO_DOCUMENTS):
            self.flow.reset()  # a new visit starts from the beginning
        self.render()

    # -- drawing the flow's state ------------------------------------------------------------------
    def render(self, *_args) -> None:
        f = self.flow
        self.show_step(f)
        state = f.state
        self.title = _(TITLES[state])
        self.message = self._message(f, state)
        self.detail = self._detail(f, state)
        self.reference = (f.payment.shown_reference if state is DocState.PAYMENT_UNKNOWN or (
            state is DocState.FAILED and f.payment.state in (PayState.REFUND_OWED, PayState.REFUNDED)) else "")
        self.showing_preview = state is DocState.PREVIEW and f.preview is not None
        self._render_page(f)
        items = f.documents if state is DocState.LIST else f.forms if state is DocState.FORMS else []
        self.showing_list = bool(items)
        # a weak reference: Kivy keeps reused rows, with their last data, in a cache of its own (the
        # screen is given back after the visit, kiosk/screens/lifetime.py)
        self.rows = [{"text": d.title, "index": i, "screen": self.proxy_ref} for i, d in enumerate(items)]
        self.busy = state in (DocState.READ_CARD, DocState.LOOKUP, DocState.FETCHING, DocState.CHECKING,
                              DocState.PRINTING, DocState.PAYING) or (
            state is DocState.FAILED and f.payment.state is PayState.REFUNDING)
        # where to put the ID card; where the A4 paper comes out (and, once done, the card to take back)
        self.face = FACES.get(state, "")
        self.actions = self._actions(f, state)
        self._draw_actions()

    def _render_page(self, f) -> None:
        """The shown page: its image once drawn at the size shown; while a larger one is being drawn the
        smaller one of the same page stays, enlarged; a page turned to shows nothing until it is drawn."""
        if not self.showing_preview:
            self.page_source, self.page_note, self.page_label = "", "", ""
            self._shown_page = (None, 0)
            return
        page, image = f.page, f.page_image
        shown = (f.chosen, page)
        if image is not None:
            self.page_source = str(image)
        elif shown != self._shown_page or f.page_problem:
            self.page_source = ""
        if shown != self._shown_page:
            view = self.ids.page_view
            view.scroll_x, view.scroll_y = 0, 1   # a page is read from its top left
        self._shown_page = shown
        self.page_no, self.pages, self.zoom = page, f.pages, f.zoom
        self.page_aspect = f.page_size.aspect if f.page_size else 1.414
        self.can_zoom_in, self.can_zoom_out = f.zoom < ZOOMS[-1], f.zoom > ZOOMS[0]
        # one string: the separator never parts from its numbers
        self.page_label = _("Page %(page)d of %(pages)d") % {"page": page, "pages": f.pages}
        if f.page_problem:
            self.page_note = _("Page %(n)d cannot be shown here. You can still print the document.") % {"n": page}
        elif f.page_making:
            self.page_note = _("Preparing page %(n)d…") % {"n": page}
        else:
            self.page_note = ""

    def _message(self, f, state) -> str:
        if state is DocState.LIST:
            return _("Documents released for printing to %(name)s. Touch one to see it before printing.") % {
                "name": f.greeting_name}
        if state in (DocState.CARD_PROBLEM, DocState.FETCH_FAILED):
            return _(PROBLEMS.get(f.problem, PROBLEMS["document_unreadable"]))
        if state is DocState.FAILED:
            from kiosk import i18n
            gap = "" if i18n.language().startswith("zh") else " "
            return gap.join([_(PAPER if f.paper_problem else FAULT), _(STAFF_TOLD)])
        if state is DocState.DONE and f.chosen is not None and f.chosen.source == "released":
            return _(TAKE_CARD_TOO)
        return _(MESSAGES[state]) if state in MESSAGES else ""

    def _detail(self, f, state) -> str:
        if state is DocState.PREVIEW and f.preview:
            pages = _("Pages: %(n)d · A4 · one copy") % {"n": f.pages}
            price = _("Price: %(amount)s") % {"amount": yuan(f.price_fen)} if f.price_fen else _("Free of charge")
            return f"{f.chosen.title}\n{pages} · {price}"
        if state is DocState.PRINTING:
            word = _(JOB_WORDS.get(f.job_word, JOB_WORDS["printing"]))
            if f.pages:
                return word + " · " + _("Printed page %(done)d of %(total)d") % {
                    "done": f.pages_done or 0, "total": f.pages}
            return word
        if state is DocState.FAILED:
            if f.price_fen and f.payment.state in REFUND_WORDS:
                words = _(REFUND_WORDS[f.payment.state])
                slip = SLIP_WORDS.get(f.payment.slip) if f.payment.state is not PayState.REFUNDING else None
                return words + ("\n" + _(slip) if slip else "")
            return _(NOTHING_CHARGED) if not f.price_fen or f.payment.state is not PayState.APPROVED else ""
        if state is DocState.PAYMENT_UNKNOWN and f.payment.slip in SLIP_WORDS:
            return _(SLIP_WORDS[f.payment.slip])
        return ""

    def _actions(self, f, state) -> list[tuple[str, str, str]]:
        home = (N_("Back to home"), "home", "plain")
        if state is DocState.IDLE:
            out = []
            if f.can_read_cards:
                out.append((N_("My documents (read ID card)"), "released", "choice"))
            if f.forms_library is not None:
                out.append((N_("A blank form"), "forms", "choice"))
            return out + [home]
        if state is DocState.READ_CARD:
            return [(N_("Cancel"), "cancel_card", "plain")]
        if state in (DocState.LOOKUP, DocState.FETCHING, DocState.CHECKING):
            return [(N_("Cancel"), "start_over", "plain")]
        if state in (DocState.CARD_PROBLEM, DocState.OFFLINE):
            return [(N_("Try again"), "released", "main"), home]
        if state in (DocState.LIST, DocState.FORMS, DocState.NO_DOCUMENTS):
            return [(N_("Back"), "start_over", "plain")]
        if state is DocState.FETCH_FAILED:
            return [(N_("Back"), "back_to_list", "plain")]
        if state is DocState.PREVIEW:
            label = N_("Pay and print") if f.price_fen else N_("Print")
            return [(label, "confirm", "main"), (N_("Back"), "back_to_list", "plain")]
        if state in (DocState.PRINTER_DOWN, DocState.PAYMENT_UNKNOWN):
            if state is DocState.PAYMENT_UNKNOWN and f.payment.slip == "printing":
                return []   # the slip first: Finish appears once it is out (or could not be printed)
            return [(N_("Finish"), "finish", "main")]
        if state is DocState.DONE:
            return [(N_("Finish"), "rate", "main")]
        if state is DocState.FAILED and f.payment.state is not PayState.REFUNDING and f.payment.slip != "printing":
            return [(N_("Finish"), "finish", "main")]
        return []

    def _draw_actions(self) -> None:
        draw_actions(self.ids.actions, self.actions, choices=self.ids.options)

    @staticmethod
    def _app():
        from kivy.app import App
        return App.get_running_app()

    # -- what the citizen touches ------------------------------------------------------------------
    def act(self, name: str) -> None:
        f, app = self.flow, self._app()
        if name == "home":
            app.end_visit("home")
        elif name == "finish":
            f.payment.acknowledge()   # the citizen has the reference (slip or screen)
            app.end_visit("done")
        elif name == "rate":
            self.path.rate(f.SERVICE, f.print_transaction_id)
        elif name == "start_over":
            f.reset()
        elif name == "forms":
            f.blank_forms()
        else:
            getattr(f, name)()

    def choose(self, index: int) -> None:
        items = self.flow.documents if self.flow.state is DocState.LIST else self.flow.forms
        if 0 <= index < len(items):
            self.flow.choose(items[index])


Builder.load_file(str(Path(__file__).with_name("documents.kv")))
