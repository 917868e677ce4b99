"""The form filling screen (自助填表): a view of `FormFlow` (kiosk/core/forms/flow.py).

One panel per flow state (forms.kv), one field at a time, large; the field's kind decides the input
it opens with: a name, an address or free text on the pinyin keyboard (the writing pad one tap away),
an ID number, a phone or a date on the digit keys, a choice as buttons, a check box as one toggle.
Digits and Latin letters are always one tap away on the mode row.

The pinyin keyboard keeps what is typed but not yet turned into characters (`letters`) here, asks the
flow for candidates after each key, and a tapped candidate replaces the letters it stands for; the
candidates are drawn as one row of keys (kiosk/screens/keys.py), paged with ‹ and ›. The writing pad
(`WritingPad`) collects the finger's strokes and asks the flow after each stroke; a tapped candidate
is added and the pad cleared. Neither touches the pinyin index or the model: the flow owns them.

The screen is given back after the visit (kiosk/screens/lifetime.py), with what was typed.
"""
from __future__ import annotations

from pathlib import Path

from kivy.clock import Clock
from kivy.graphics import Color, Line
from kivy.lang import Builder
from kivy.properties import BooleanProperty, DictProperty, ListProperty, NumericProperty, ObjectProperty, StringProperty
from kivy.uix.boxlayout import BoxLayout
from kivy.uix.widget import Widget

from kiosk import i18n
from kiosk.core.forms.flow import FormState as S, InputCandidate
from kiosk.core.payment.flow import PayState
from kiosk.core.payment.money import yuan
from kiosk.i18n import N_, _
from kiosk.screens import locker_widgets  # noqa: F401  (the titles, texts and calm buttons load first)
from kiosk.screens import theme
from kiosk.screens.documents import NOTHING_CHARGED, REFUND_WORDS, SLIP_WORDS
from kiosk.screens.keys import KeyGrid
from kiosk.screens.lifetime import VisitScreen
from kiosk.screens.steps import ShowsSteps  # and StepLine, for the .kv
from kiosk.screens.locker_widgets import StepPanels
from kiosk.screens.widgets import BigButton, RoundButton

PINYIN, HANDWRITING, DIGITS, LATIN = "pinyin", "handwriting", "digits", "latin"
LETTER_ROWS = ("qwertyuiop", "asdfghjkl", "zxcvbnm")
PAGE_CHARS = {False: 12, True: 7}   # the characters a row of candidates holds, normal and elder mode
ASK = 12                            # candidates asked for at a time, a page taken from them

PROBLEMS = {
    "no_card": N_("No ID card was found on the reader. Please place it flat on the reader and try again."),
    "card_unreadable": N_("The card could not be read. Please place it flat on the reader and try again."),
    "card_expired": N_("This ID card has expired. You can still type everything in yourself."),
    "printer_offline": N_("The A4 printer cannot print just now. Please ask the staff, or try again later."),
    "paper_out": N_("The A4 printer is out of paper. Please ask the staff, or try again later."),
    "form_not_here": N_("This kiosk does not have the blank of this form. Please ask at the service desk."),
    "form_unprintable": N_("Some answers are too long to print on this form. Please shorten them."),
    "payment_unavailable": N_("Payment is not possible at this kiosk just now, so the form cannot be printed. "
                              "Please ask the staff."),
}
OTHER_PROBLEM = N_("The form could not be printed. Please ask the staff, or try again later.")


def default_mode(kind: str) -> str:
    return DIGITS if kind in ("id_number", "phone", "date") else PINYIN


def digit_rows(kind: str) -> list[list[str]]:
    last = {"id_number": "X", "date": "-", "phone": "-"}.get(kind, "")
    return [list("123"), list("456"), list("789"), [last or " ", "0", "back"]]


class FormRow(BigButton):
    """One of the forms on offer."""
    index = NumericProperty(0)
    screen = ObjectProperty(None, allownone=True, force_dispatch=True)


class ChoiceButton(RoundButton):
    """One choice of a choice field; the one chosen is filled."""
    choice = StringProperty("")
    selected = BooleanProperty(False)
    screen = ObjectProperty(None, allownone=True)


class AnswerRow(BoxLayout):
    """One answer in the review: its label, the answer as shown, and Change."""
    key = StringProperty("")
    label = StringProperty("")
    answer = StringProperty("")
    problem = StringProperty("")
    screen = ObjectProperty(None, allownone=True)


class LetterKeys(KeyGrid):
    rows = ListProperty([list(LETTER_ROWS[0]), list(LETTER_ROWS[1]), list(LETTER_ROWS[2]) + ["'", "back"]])
    widths = DictProperty({"back": 1.6})
    edit_keys = ListProperty(["back"])


class DigitKeys(KeyGrid):
    widths = DictProperty({"back": 1.0})
    edit_keys = ListProperty(["back"])


class CandidateRow(KeyGrid):
    """The candidates of what is typed or drawn, as one row of keys; ‹ › page them."""
    edit_keys = ListProperty(["prev", "next"])


class WritingPad(Widget):
    """Where a character is written with a finger. `strokes` in pad coordinates, y downwards (as the
    recogniser takes them); `on_stroke` after each stroke ends."""

    __events__ = ("on_stroke",)
    strokes = ListProperty()
    ink = ListProperty(theme.HEADER)

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self._lines: list[Line] = []
        self.fbind("pos", self._redraw)
        self.fbind("size", self._redraw)

    def on_touch_down(self, touch):
        if not self.collide_point(*touch.pos) or self.disabled:
            return False
        touch.grab(self)
        self.strokes.append([self._local(touch.pos)])
        with self.canvas:
            Color(*self.ink)
            self._lines.append(Line(points=list(touch.pos), width=max(2.0, self.width / 90)))
        return True

    def on_touch_move(self, touch):
        if touch.grab_current is not self:
            return False
        self.strokes[-1].append(self._local(touch.pos))
        self._lines[-1].points += list(touch.pos)
        return True

    def on_touch_up(self, touch):
        if touch.grab_current is not self:
            return False
        touch.ungrab(self)
        self.dispatch("on_stroke")
        return True

    def on_stroke(self):
        pass

    def _local(self, pos) -> tuple[float, float]:
        return pos[0] - self.x, self.top - pos[1]

    def clear(self) -> None:
        self.strokes = []
        self._lines = []
        self.canvas.clear()

    def _redraw(self, *_a) -> None:
        """Drawn again from the strokes when the pad moves (elder mode, a new layout)."""
        self.canvas.clear()
        self._lines = []
        with self.canvas:
            Color(*self.ink)
            for stroke in self.strokes:
                pts = [c for x, y in stroke for c in (self.x + x, self.top - y)]
                self._lines.append(Line(points=pts, width=max(2.0, self.width / 90)))


class FormsScreen(ShowsSteps, VisitScreen):
    flow = ObjectProperty()
    path = ObjectProperty()                 # kiosk.core.visit.VisitPath: on to the rating
    state = StringProperty(S.CHOOSE.value)
    rows = ListProperty()
    listing = BooleanProperty(False)
    title = StringProperty("")
    item_name = StringProperty("")
    can_read_cards = BooleanProperty(False)
    handwriting = BooleanProperty(False)
    # the field being filled
    label = StringProperty("")
    hint = StringProperty("")
    kind = StringProperty("text")
    required = BooleanProperty(False)
    value = StringProperty("")
    ticked = BooleanProperty(False)
    choices = ListProperty()
    position = StringProperty("")
    problem = StringProperty("")
    charges = BooleanProperty(False)        # printing costs something ([fees] forms)
    price_note = StringProperty("")         # on the review: what printing costs, paid before it prints
    money_note = StringProperty("")         # when not printed: nothing charged, or the refund
    reference = StringProperty("")          # shown large when staff must settle a payment
    mode = StringProperty(PINYIN)
    letters = StringProperty("")
    candidates = ListProperty()             # [InputCandidate] of the page shown
    page = NumericProperty(0)
    more = BooleanProperty(False)
    pages = NumericProperty(0)

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.panels = StepPanels.of(self, S.CHOOSE.value)
        # the inputs, held here: only those the field and the mode need are in input_box at a time
        self._inputs = {name: getattr(self.ids[name], "__self__", self.ids[name])
                        for name in ("choice_box", "tick", "mode_row", "candidates", "pad", "rewrite", "letters",
                                     "digits")}
        for w in self._inputs.values():
            w.parent.remove_widget(w)
        self._arranged: tuple = ()
        self._redraw = Clock.create_trigger(self.render, 0)
        self._field_key: str | None = None
        self.hold(self.flow.on_change(lambda _flow: self._redraw()))
        self.hold(i18n.on_language_change(lambda _lang: self._redraw()))

    @property
    def worker(self):
        """The flow's executor: its `pending` counts the steps under way (the UI tests and the tour wait on it)."""
        return self.flow.executor

    def on_pre_enter(self, *_a) -> None:
        self.flow.enter()
        self.handwriting = self.flow.handwriting_available
        self.render()

    # -- taps -----------------------------------------------------------------------------------------
    def choose_row(self, index: int) -> None:
        self.flow.choose(index)

    def act(self, name: str) -> None:
        flow = self.flow
        if name == "home":
            self._app().end_visit("home")
        elif name == "finish":
            if flow.state is S.DONE:
                self.path.rate(flow.name, flow.transaction_id)
            else:
                self._app().end_visit("done")
        elif name == "next":
            self._commit_letters()
            flow.next()
        elif name == "tick":
            flow.set_value(not bool(flow.value(flow.field.key)))
        else:
            getattr(flow, name)()

    def pick_choice(self, choice: str) -> None:
        self.flow.set_value(choice)

    def edit(self, key: str) -> None:
        self.flow.edit(key)

    def set_mode(self, mode: str) -> None:
        self._commit_letters()
        self.mode = mode
        self._clear_pad()
        self._set_candidates([])
        self._arrange()

    def _arrange(self) -> None:
        """Put in input_box what answers this field in this mode, nothing else."""
        if self.kind == "choice":
            names = ("choice_box",)
        elif self.kind == "checkbox":
            names = ("tick",)
        else:
            names = ("mode_row", "candidates") + {PINYIN: ("letters",), LATIN: ("letters",), DIGITS: ("digits",),
                                                  HANDWRITING: ("pad", "rewrite")}[self.mode]
        if names == self._arranged:
            return
        box = self.ids.input_box
        box.clear_widgets()
        for name in names:
            box.add_widget(self._inputs[name])
        self._arranged = names

    # -- typing ---------------------------------------------------------------------------------------
    def _fits(self, text: str) -> bool:
        f = self.flow.field
        return f is None or f.max_length is None or len(text) <= f.max_length

    def _type(self, text: str) -> None:
        if self._fits(self.value + text):
            self.flow.set_value(self.value + text)

    def _backspace(self) -> None:
        if self.value:
            self.flow.set_value(self.value[:-1])

    def letter_key(self, key: str) -> None:
        if key == "back":
            if self.letters:
                self.letters = self.letters[:-1]
            else:
                self._backspace()
        elif self.mode == LATIN:
            self._type(key.upper() if self.kind == "id_number" else key)
            return
        else:
            self.letters += key
        self._ask_pinyin(0)

    def digit_key(self, key: str) -> None:
        if key == "back":
            self._backspace()
        elif key.strip():
            self._type(key)

    def candidate_key(self, key: str) -> None:
        if key == "prev":
            self._page(self.page - 1)
        elif key == "next":
            self._page(self.page + 1)
        elif key.startswith("c") and key[1:].isdigit() and int(key[1:]) < len(self.candidates):
            self.take(self.candidates[int(key[1:])])

    def take(self, candidate: InputCandidate) -> None:
        """A candidate tapped: it replaces the letters it stands for (pinyin) or is added (handwriting)."""
        if self.mode == HANDWRITING:
            self._type(candidate.text)
            self._clear_pad()
            self._set_candidates([])
            return
        self.flow.picked(self.letters, candidate)
        rest = self.letters[candidate.consumed:] if candidate.consumed else ""
        self.letters = rest
        self._type(candidate.text)
        self._ask_pinyin(0)

    def _commit_letters(self) -> None:
        """Letters left when the citizen moves on are dropped, never typed as Latin text by surprise."""
        self.letters = ""

    def _fit(self, found: list) -> int:
        """How many of `found` one row holds: as many as their characters allow (at least one)."""
        budget, n, used = PAGE_CHARS[bool(getattr(self._app(), "elder", False))], 0, 0
        for c in found:
            used += max(1, len(c.text))
            if n and used > budget:
                break
            n += 1
        return n

    def _show_page(self, start: int, found: list, more_after: bool) -> None:
        """Show the candidates from `start` (`found` begins there); ‹ goes back to where the page before began."""
        n = self._fit(found)
        if start == 0:
            self._starts = [0]
        elif not self._starts or start > self._starts[-1]:
            self._starts.append(start)
        self.page = len(self._starts) - 1
        self._next_start = start + n
        self._set_candidates(found[:n], more=n < len(found) or more_after)

    def _ask_pinyin(self, start: int) -> None:
        found = self.flow.candidates(self.letters, offset=start, limit=ASK + 1) if self.letters else []
        self._show_page(start, found[:ASK], more_after=len(found) > ASK)

    def _page(self, page: int) -> None:
        if page < 0 or (page > self.page and not self.more):
            return
        if page < self.page:
            del self._starts[page + 1:]
            start = self._starts[page]
        else:
            start = self._next_start
        if self.mode == HANDWRITING:
            self._show_page(start, self._drawn[start:], more_after=False)
        else:
            self._ask_pinyin(start)

    def drawn(self, pad: WritingPad) -> None:
        """A stroke ended on the pad: what it may be so far."""
        self._drawn = self.flow.recognise(pad.strokes, pad.width, pad.height, limit=ASK)
        self._show_page(0, self._drawn, more_after=False)

    _drawn: list = []
    _starts: list = []
    _next_start = 0

    def rewrite(self) -> None:
        self._clear_pad()
        self._set_candidates([])

    def _clear_pad(self) -> None:
        self._inputs["pad"].clear()
        self._drawn = []

    def _set_candidates(self, found: list, more: bool = False) -> None:
        self.candidates = list(found)
        self.more = more
        row = self._inputs["candidates"]
        keys = [f"c{i}" for i in range(len(found))]
        row.captions = {**{f"c{i}": c.text for i, c in enumerate(found)}, "prev": "‹", "next": "›"}
        row.widths = {**{f"c{i}": max(1.0, len(c.text) * 0.9) for i, c in enumerate(found)}, "prev": 0.6, "next": 0.6}
        row.rows = [keys + ["prev", "next"]] if keys else []

    def give_back(self) -> None:
        """Nothing typed stays in a widget, a text texture or a caption once the visit is over, even for
        the moment before the screen is collected (DESIGN.md section 7)."""
        self._render_off = True
        self.value = self.letters = ""
        self._drawn = []
        self._set_candidates([])
        self._inputs["candidates"].captions = {}
        self._inputs["pad"].clear()
        for label in (self.ids.value_shown,):
            label.text = ""
            label.texture_update()
        for row in list(self.ids.answers.children):
            row.answer = ""
        self.ids.answers.clear_widgets()
        super().give_back()

    _render_off = False

    # -- drawing the flow's state -----------------------------------------------------------------------
    def render(self, *_a) -> None:
        if self._render_off:
            return
        f = self.flow
        self.show_step(f)
        self.state = f.state.value
        self.listing = f.listing
        self.rows = [{"text": f"{o.template.title}\n{o.item_name}", "index": i, "screen": self.proxy_ref}
                     for i, o in enumerate(f.offered)] if f.state is S.CHOOSE else []
        self.title = f.form.template.title if f.form else ""
        self.item_name = f.form.item_name if f.form else ""
        self.can_read_cards = f.can_read_cards
        self.problem = f.problem
        self.pages = f.pages
        self.charges = f.charges
        self.price_note = self._price_note(f) if f.charges and f.state is S.REVIEW else ""
        self.money_note = self._money_note(f) if f.state in (S.FAILED, S.PAYMENT_UNKNOWN) else ""
        pay = f.payment
        self.reference = (pay.shown_reference if pay is not None and f.price_fen and (
            f.state is S.PAYMENT_UNKNOWN or pay.state in (PayState.REFUND_OWED, PayState.REFUNDED)) else "")
        field = f.field
        if field is not None:
            if field.key != self._field_key:      # a new field: its own input, nothing half typed
                self._field_key = field.key
                self.letters = ""
                self.mode = default_mode(field.kind)
                self._clear_pad()
                self._set_candidates([])
                self._inputs["digits"].rows = digit_rows(field.kind)
                self.kind = field.kind
                self._show_choices(field)
                self._arrange()
            self.label, self.hint, self.kind = field.label, field.hint or "", field.kind
            self.required = field.required
            self.choices = list(field.choices or ())
            raw = f.value(field.key)
            self.ticked = raw is True
            self.value = raw if isinstance(raw, str) else ""
            for b in self._inputs["choice_box"].children:
                b.selected = b.choice == self.value
            self.position = _("{n} of {total}").format(n=f.at + 1, total=len(f.fields))
        else:
            self._field_key = None
        if f.state is S.REVIEW:
            self._show_answers()
        if self.panels.current != f.state.value:
            self.panels.show(f.state.value)
            scroll = self.ids.get("scroll")
            if scroll is not None:
                scroll.scroll_y = 1

    @staticmethod
    def _price_note(f) -> str:
        rule = f.fee
        per_page = _("%(amount)s a page") % {"amount": yuan(rule.per_page_fen)} if rule.per_page_fen else ""
        per_form = _("%(amount)s a form") % {"amount": yuan(rule.per_document_fen)} if rule.per_document_fen else ""
        return _("Printing costs %(price)s, paid before it prints.") % {
            "price": _(" plus ").join(p for p in (per_form, per_page) if p)}

    @staticmethod
    def _money_note(f) -> str:
        pay = f.payment
        if f.state is S.PAYMENT_UNKNOWN:
            return _(SLIP_WORDS[pay.slip]) if pay is not None and pay.slip in SLIP_WORDS else ""
        if f.price_fen and pay is not None and pay.state in REFUND_WORDS:
            slip = SLIP_WORDS.get(pay.slip) if pay.state is not PayState.REFUNDING else None
            return _(REFUND_WORDS[pay.state]) + ("\n" + _(slip) if slip else "")
        return _(NOTHING_CHARGED) if f.charges else ""

    def _show_choices(self, field) -> None:
        box = self._inputs["choice_box"]
        box.clear_widgets()
        for choice in field.choices or () if field.kind == "choice" else ():
            box.add_widget(ChoiceButton(text=choice, choice=choice, screen=self.proxy_ref))

    def shown_value(self, value: str, kind: str, *_a) -> str:
        """The value as the field shows it (an ID number masked, DESIGN.md section 7)."""
        f = self.flow.field
        return self.flow.shown(f) if f is not None else value

    def _show_answers(self) -> None:
        f, box = self.flow, self.ids.answers
        problems = f.problems()
        box.clear_widgets()
        for fld in f.fields:
            raw = f.value(fld.key)
            answer = (_("Yes") if raw else _("No")) if fld.kind == "checkbox" else f.shown(fld)
            box.add_widget(AnswerRow(key=fld.key, label=fld.label, answer=answer or "—",
                                     problem=problems.get(fld.key, ""), screen=self.proxy_ref))

    def problem_text(self, problem: str, *_lang) -> str:
        if not problem:
            return ""
        if self.state in (S.CARD_PROBLEM.value, S.FAILED.value):
            return _(PROBLEMS.get(problem, OTHER_PROBLEM))
        return problem     # a field's check says it in the citizen's language already

    @staticmethod
    def _app():
        from kivy.app import App
        return App.get_running_app()


Builder.load_file(str(Path(__file__).with_name("forms.kv")))
