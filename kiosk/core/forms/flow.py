"""Filling in a form at the kiosk (自助填表), as a state machine on the one flow base.

    choose --choose(i)--> start --read_card()--> read_card --card--> fill | card_problem
                          start --type_it()----------------------> fill
    fill --next() (the field checks)--> fill (the next field) | review
    review --edit(key)--> fill
    review --print()--> preparing (drawn, pages counted, printer asked) --free--> printing --> done | failed
                        preparing --a price ([fees] forms)--> paying --approved--> printing
                        paying --canceled--> review;  paying --not known--> payment_unknown
    done --finish()--> the rating (kiosk/core/visit.py)

The citizen picks a form (from the list of every form the catalog fills in, or
the forms of the guide they came from), may read the ID card, whose name, sex,
nation, birth date, address and ID number fill their fields, and types the
rest one field at a time: each field is checked when the citizen moves on
(kiosk/core/forms/validate.py), and the review lists every answer before
printing. Printing renders the A4 form with its QR code in a child process
(reportlab never stays in the UI), checks its pages, and follows the CUPS job
to its end on the worker.

Fees: free unless `[fees] forms` sets a price (per form plus per page, as the
other printing services). Then the price of the drawn form is asked through the
shared payment flow before the job is sent (nothing is printed unpaid, and a
printer found down is found before anyone pays); a job that fails after the
payment is refunded, or the refund is owed with the reference shown, and a
payment whose outcome is not known prints nothing. The `print` transaction then
carries the amount and the payment's reference, and the sale is marked
delivered with it.

Chinese input: `candidates(letters)` asks the pinyin index (kiosk/core/input/
pinyin.py) in the context of the field being filled (a name favours names, an
address places), `recognise(strokes)` the handwriting model (kiosk/core/input/
handwriting.py). Both open when first used in a visit and close with it, so the
UI holds neither between visitors; what the citizen picked ranks first again
for the rest of the visit only.

Privacy (DESIGN.md section 7): the values live in this flow until the visit
ends, and `reset()` drops them; they go to the child that draws the PDF on its
standard input and are printed on the citizen's own form, never logged. The
outbox gets a `form` transaction naming the template, never a value. The PDF
is deleted once the job has ended.
"""
from __future__ import annotations

import datetime as dt
import enum
import logging
import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Sequence

from kiosk.core import privacy
from kiosk.core.flow import FREE, Flow, Leave, Leaving
from kiosk.core.forms import validate
from kiosk.core.forms.template import FillableForm, FormField
from kiosk.core.payment import PayState
from kiosk.core.printing.job import A4Job, Stopped
from kiosk.core.printing.record import PrintRecord
from kiosk.core.steps import Steps, device_wait
from kiosk.hardware.cups import TIMEOUTS as CUPS_TIMEOUTS
from kiosk.store import PerThread, transaction

log = logging.getLogger(__name__)

SERVICE = "forms"
MAX_PAGES = 10          # a filled form longer than this is a template defect, not something to print


class FormState(str, enum.Enum):
    CHOOSE = "choose"            # the forms on offer
    START = "start"              # the chosen form: read the ID card, or type everything
    READ_CARD = "read_card"      # place the ID card on the reader
    CARD_PROBLEM = "card_problem"
    FILL = "fill"                # one field at a time
    REVIEW = "review"            # every answer, before printing
    PREPARING = "preparing"      # the form drawn, its pages counted, the printer asked (before any money)
    PAYING = "paying"            # a priced form: the payment flow is on screen
    PAYMENT_UNKNOWN = "payment_unknown"  # the payment's outcome is not known: reference shown, nothing printed
    PRINTING = "printing"
    DONE = "done"
    FAILED = "failed"            # not printed; `problem` says why


_S = FormState
TRANSITIONS = {
    _S.CHOOSE: {_S.START},
    _S.START: {_S.CHOOSE, _S.READ_CARD, _S.FILL},
    _S.READ_CARD: {_S.START, _S.FILL, _S.CARD_PROBLEM},
    _S.CARD_PROBLEM: {_S.START, _S.READ_CARD, _S.FILL},
    _S.FILL: {_S.START, _S.REVIEW},
    _S.REVIEW: {_S.FILL, _S.PREPARING, _S.FAILED},
    _S.PREPARING: {_S.PAYING, _S.PRINTING, _S.FAILED},
    # a payment declined and then canceled goes back to the review; an outcome not known stops here
    _S.PAYING: {_S.PRINTING, _S.REVIEW, _S.PAYMENT_UNKNOWN},
    _S.PAYMENT_UNKNOWN: set(),
    _S.PRINTING: {_S.DONE, _S.FAILED},
    _S.FAILED: {_S.REVIEW, _S.PREPARING},
    _S.DONE: set(),
}

# the steps the citizen is told of, once a form is chosen: the ID card (or typing it all instead), the
# fields one at a time (the screen keeps its own "field 6/11"), the review, the print (and its payment,
# where a form has a price)
STEPS = Steps(("card", "fields", "review", "print"), {
    _S.CHOOSE: None,
    _S.START: "card", _S.READ_CARD: "card", _S.CARD_PROBLEM: "card",
    _S.FILL: "fields",
    _S.REVIEW: "review",
    _S.PREPARING: "print", _S.PAYING: "print", _S.PAYMENT_UNKNOWN: "print", _S.PRINTING: "print",
    _S.FAILED: "print",
    _S.DONE: None,
})


class PrintFailed(RuntimeError):
    def __init__(self, detail: str, message: str):
        super().__init__(message)
        self.detail = detail


@dataclass(frozen=True)
class InputCandidate:
    """One thing the keyboard or the pad offers: `text`, and how many typed letters it stands for."""
    text: str
    consumed: int = 0


class FormRecorder:
    """The `form` and `print` transactions of a printed form, into the outbox (one connection per thread)."""

    def __init__(self, store, outbox_for: Callable[[Any], Any]):
        self._parts = PerThread(lambda: self._open(store, outbox_for))

    @staticmethod
    def _open(store, outbox_for):
        conn = store.connect()
        return conn, outbox_for(conn)

    def printed(self, form: dict, record: PrintRecord, delivered: Callable[[Any], None] | None = None) -> str:
        """Both transactions or neither, and with them `delivered(conn)` (the paid sale marked delivered);
        the `form` one's id (the rating links to it)."""
        conn, outbox = self._parts()
        with transaction(conn):
            outbox.enqueue(conn, "print", record.to_data())
            if delivered is not None:
                delivered(conn)
            return outbox.enqueue(conn, "form", form).id


class FormFlow(Flow[FormState]):
    name = SERVICE
    transitions = TRANSITIONS
    steps = STEPS
    waits = {_S.READ_CARD: "card_timeout_s", _S.PRINTING: "printing_s"}

    def __init__(self, forms: Callable[[str | None], list[FillableForm]], *, executor=None,
                 clock: Callable[[], float] = time.monotonic, today: Callable[[], dt.date] = dt.date.today,
                 reader=None, printer=None, recorder: FormRecorder | None = None,
                 blank_pdf: Callable[[FillableForm], Path | None] = lambda _f: None,
                 spool_dir: Path | None = None, card_timeout_s: float = 30.0,
                 pinyin_index: Path | None = None, handwriting_model: Path | None = None,
                 render: Callable[..., dict] | None = None, payment=None, fee=None):
        Flow.__init__(self, _S.CHOOSE, executor=executor, clock=clock)
        self._forms = forms                  # item code (or None: all) -> the forms the catalog fills in
        self.today = today
        self.reader = reader                 # kiosk.hardware.idcard.SamReader, when the kiosk has one
        self.printer = printer               # the document printer (CUPS queue), when up
        self.recorder = recorder
        self.blank_pdf = blank_pdf
        self.spool_dir = spool_dir
        self.card_timeout_s = card_timeout_s
        self.pinyin_index = pinyin_index
        self.handwriting_model = handwriting_model
        self._render = render or _render_apart
        self.payment = payment               # kiosk.core.payment.PaymentFlow, shared with the other services
        self.fee = fee                       # kiosk.config.FeeRule ([fees] forms); None: free
        if payment is not None:
            payment.on_change(self._payment_changed)
        self._pdf: Path | None = None        # the drawn form while it is being paid for
        self._index = None                   # kiosk.core.input.pinyin.PinyinIndex, open during a visit
        self._learned = None
        self._recogniser = None
        self._card_token = None
        self._item_code: str | None = None
        self._clear()

    @property
    def printing_s(self) -> float:
        """The job followed to its end: the printer driver's job timeout."""
        return device_wait(self.printer, CUPS_TIMEOUTS, "job")

    def _clear(self) -> None:
        self.listing = False                 # the forms on offer are being read from the catalog
        self.offered: list[FillableForm] = []
        self.form: FillableForm | None = None
        self.values: dict[str, str | bool] = {}
        self.from_card: set[str] = set()
        self.at = 0
        self.problem = ""                    # the sentence beside the field, or the reason for failed/card_problem
        self.pages = 0
        self.price_fen = 0
        self.transaction_id: str | None = None
        self.greeting_name = ""

    # -- what the screen reads --------------------------------------------------------------------------
    @property
    def fields(self) -> list[FormField]:
        return list(self.form.template.fields) if self.form else []

    @property
    def field(self) -> FormField | None:
        f = self.fields
        return f[self.at] if self.state is _S.FILL and 0 <= self.at < len(f) else None

    @property
    def can_read_cards(self) -> bool:
        return self.reader is not None and self.form is not None and any(
            f.card_field for f in self.form.template.fields)

    def value(self, key: str) -> str | bool:
        return self.values.get(key, False if self._kind(key) == "checkbox" else "")

    def shown(self, f: FormField) -> str:
        """A value as the screen shows it: an ID number and a name read from the card masked (DESIGN.md
        section 7); what the citizen typed as typed, so they can check it, ID numbers masked."""
        v = self.value(f.key)
        if isinstance(v, bool) or not v:
            return ""
        if f.kind == "id_number":
            return privacy.mask_id_number(v) if len(v) >= 8 else v
        if f.kind == "name" and f.key in self.from_card:
            return privacy.mask_name(v)
        return v

    def _kind(self, key: str) -> str:
        return next((f.kind for f in self.fields if f.key == key), "text")

    # -- choosing ---------------------------------------------------------------------------------------
    def for_item(self, item_code: str) -> None:
        """The citizen comes from guide `item_code`: the next `enter()` offers its forms only."""
        self._item_code = item_code

    def enter(self, item_code: str | None = None) -> None:
        """Open the service: every form on offer, or those of guide `item_code` (or the one `for_item`
        named); a guide's one form opens at once."""
        if self.state is not _S.CHOOSE:
            return
        item_code = item_code or self._item_code
        self.listing = True
        self.changed()

        def done(offered, error) -> None:   # the catalog is read on the worker: a large one takes a while
            self.listing = False
            if error is not None:
                log.error("forms: the forms of the catalog could not be listed: %s: %s", type(error).__name__, error)
            self.offered = list(offered or [])
            self.changed()
            if item_code and len(self.offered) == 1:
                self.choose(0)

        self.run(lambda: self._forms(item_code), done)

    def choose(self, index: int) -> bool:
        if self.state is not _S.CHOOSE or not 0 <= index < len(self.offered):
            return False
        self.form = self.offered[index]
        self.values, self.from_card, self.at, self.problem = {}, set(), 0, ""
        self.go(_S.START)
        return True

    def back_to_list(self) -> None:
        if self.state is _S.START:
            self.form = None
            self.go(_S.CHOOSE)

    # -- the ID card ------------------------------------------------------------------------------------
    def read_card(self) -> bool:
        if self.state not in (_S.START, _S.CARD_PROBLEM) or not self.can_read_cards:
            return False
        from kiosk.hardware.device import CancelToken  # the reader driver's cancel token

        token = self._card_token = CancelToken()
        self.problem = ""
        self.go(_S.READ_CARD)
        reader, timeout = self.reader, self.card_timeout_s
        self.run(lambda: reader.read_card(timeout, cancel=token), self._card_read)
        return True

    def _card_read(self, card, error) -> None:
        if self.state is not _S.READ_CARD:
            return
        if error is not None:
            detail = getattr(error, "detail", "") or type(error).__name__
            if detail == "canceled":
                self.go(_S.START)
                return
            self.problem = "no_card" if detail == "no_card" else "card_unreadable"
            self.go(_S.CARD_PROBLEM)
            return
        privacy.remember_person(card.name, card.id_number)  # scrubbed from every log line until the wipe
        if "expired" in card.problems(self.today()):
            self.problem = "card_expired"
            self.go(_S.CARD_PROBLEM)
            return
        filled = validate.fill_from_card(self.form.template, card, today=self.today())
        self.greeting_name = privacy.mask_name(card.name)
        del card
        self.values.update(filled)
        self.from_card = set(filled)
        self.at = self._first_open()
        self.go(_S.FILL)

    def stop_card(self) -> None:
        """The citizen would rather type: the reader stops waiting."""
        if self._card_token is not None:
            self._card_token.cancel()
        if self.state in (_S.READ_CARD, _S.CARD_PROBLEM):
            self.go(_S.START)

    def type_it(self) -> None:
        """Fill every field by hand."""
        if self.state in (_S.START, _S.CARD_PROBLEM):
            self.at = 0
            self.go(_S.FILL)

    def _first_open(self) -> int:
        for i, f in enumerate(self.fields):
            if f.key not in self.from_card:
                return i
        return 0

    # -- filling --------------------------------------------------------------------------------------
    def set_value(self, value: str | bool) -> None:
        """What the field being filled holds now (each key press, each candidate picked)."""
        f = self.field
        if f is None:
            return
        self.values[f.key] = value
        self.from_card.discard(f.key)
        if self.problem:
            self.problem = ""
        self.changed("value")

    def next(self) -> bool:
        """Check the field being filled and move on (to the review after the last); False, with
        `problem` said, when the value must change first."""
        f = self.field
        if f is None:
            return False
        value = validate.normalise(f, self.values.get(f.key))
        problem = validate.check(f, value, today=self.today())
        if problem:
            self.problem = problem
            self.changed("problem")
            return False
        if value is not None:
            self.values[f.key] = value
        self.problem = ""
        if self.at + 1 < len(self.fields):
            self.at += 1
            self._skip_filled()
            self.changed("field")
        else:
            self.go(_S.REVIEW)
        return True

    def _skip_filled(self) -> None:
        """Fields the card filled are passed over going forward (the review shows them)."""
        while self.at + 1 < len(self.fields) and self.fields[self.at].key in self.from_card:
            self.at += 1

    def previous(self) -> None:
        if self.state is not _S.FILL:
            return
        self.problem = ""
        if self.at == 0:
            self.go(_S.START)
            return
        self.at -= 1
        self.changed("field")

    def edit(self, key: str) -> None:
        """From the review: change one answer (then back through the fields after it to the review)."""
        if self.state is not _S.REVIEW:
            return
        for i, f in enumerate(self.fields):
            if f.key == key:
                self.at, self.problem = i, ""
                self.go(_S.FILL)
                return

    def problems(self) -> dict[str, str]:
        """Every answer's problem (the review refuses to print while there is one)."""
        return validate.check_all(self.form.template, self.values, today=self.today()) if self.form else {}

    # -- Chinese input ----------------------------------------------------------------------------------
    def _context(self) -> str:
        f = self.field
        return {"name": "name", "address": "address"}.get(f.kind if f else "", "text")

    def candidates(self, letters: str, offset: int = 0, limit: int = 8) -> list[InputCandidate]:
        """What the pinyin keyboard offers for `letters`, best first; [] when there is no index."""
        if not letters:
            return []
        index = self._open_index()
        if index is None:
            return []
        try:
            found = index.candidates(letters, limit=limit, offset=offset, context=self._context(),
                                     learned=self._learned)
        except ValueError:
            return []
        return [InputCandidate(c.text, c.consumed) for c in found]

    def picked(self, letters: str, candidate: InputCandidate) -> None:
        """The citizen took `candidate` for `letters`: it ranks first for them for the rest of the visit."""
        if self._learned is not None:
            from kiosk.core.input.pinyin import Candidate

            self._learned.pick(letters, Candidate(candidate.text, candidate.consumed))

    def _open_index(self):
        if self._index is None:
            from kiosk.core.input.pinyin import IndexMissing, Learned, PinyinIndex

            try:
                self._index = PinyinIndex.open(self.pinyin_index)
            except IndexMissing as exc:
                log.error("forms: pinyin input is not available: %s", exc)
                return None
            self._learned = Learned()
        return self._index

    def recognise(self, strokes: Sequence[Sequence[tuple[float, float]]], width: float, height: float,
                  limit: int = 8) -> list[InputCandidate]:
        """The characters a drawing on the writing pad may be, best first; [] when nothing is drawn or
        the kiosk has no handwriting model (the reason is in the log)."""
        from kiosk.core.input.handwriting import EmptyDrawing, HandwritingError, Recogniser

        if self._recogniser is None:
            try:
                self._recogniser = Recogniser.open(self.handwriting_model)
            except HandwritingError as exc:
                log.error("forms: handwriting input is not available: %s", exc)
                return []
        try:
            return [InputCandidate(c.text) for c in self._recogniser.recognise(strokes, width, height, limit=limit)]
        except EmptyDrawing:
            return []

    @property
    def handwriting_available(self) -> bool:
        from kiosk.core.input.handwriting import HandwritingError, find_model

        try:
            find_model(self.handwriting_model)
            return True
        except HandwritingError:
            return False

    def _close_input(self) -> None:
        if self._index is not None:
            self._index.close()
        if self._recogniser is not None:
            self._recogniser.close()
        if self._learned is not None:
            self._learned.clear()
        self._index = self._learned = self._recogniser = None

    # -- printing -------------------------------------------------------------------------------------
    @property
    def charges(self) -> bool:
        """True when printing a form costs something ([fees] forms)."""
        return self.fee is not None and self.fee.price(1) > 0

    @property
    def paid_reference(self) -> str | None:
        """The sale that paid for this form, while it stands (not refunded)."""
        p = self.payment
        return p.reference if self.price_fen and p is not None and p.state is PayState.APPROVED else None

    def print(self) -> bool:
        """Draw the form, count its pages and ask the printer; then the payment when it has a price, and
        the job."""
        if self.state not in (_S.REVIEW, _S.FAILED) or self.form is None or self.problems():
            return False
        if self.printer is None:
            self.problem = "printer_offline"
            self.go(_S.FAILED)
            return False
        form, values, printer = self.form, dict(self.values), self.printer
        template = form.template
        spool = Path(self.spool_dir) if self.spool_dir else None
        self._discard_pdf()
        self.problem, self.pages, self.price_fen = "", 0, 0
        self.go(_S.PREPARING)

        def work() -> tuple[Path, int]:
            if spool is None:
                raise PrintFailed("not_configured", "filled forms need a spool folder")
            spool.mkdir(parents=True, exist_ok=True)
            pdf = spool / f"form-{uuid.uuid4().hex[:12]}.pdf"
            try:
                blank = self.blank_pdf(form) if template.layout.blank is not None else None
                if template.layout.blank is not None and blank is None:
                    raise PrintFailed("form_not_here", f"the blank PDF of {template.id} is not in the forms cache")
                done = self._render(template=template.model_dump(mode="json"), values=values,
                                    item_name=form.item_name, out_pdf=str(pdf),
                                    blank_pdf=str(blank) if blank else None)
                if "error" in done:
                    raise PrintFailed("form_unprintable", done["error"])
                pages = int(done["pages"])
                if not 1 <= pages <= MAX_PAGES:
                    raise PrintFailed("form_unprintable", f"the filled form has {pages} pages")
                status = printer.status()   # before anyone pays
                if not status.usable:
                    raise PrintFailed(status.detail or status.state.value,
                                      f"queue cannot print now ({status.state.value}: {status.detail})")
            except BaseException:
                pdf.unlink(missing_ok=True)
                raise
            return pdf, pages

        visit = self.visit

        def prepared(result, error) -> None:
            if visit != self.visit:      # the visit ended meanwhile: its drawn form goes at once
                if error is None:
                    result[0].unlink(missing_ok=True)
                return
            if error is not None:
                self._not_printed(template.id, error)
                return
            self._pdf, self.pages = result
            self.price_fen = self.fee.price(self.pages) if self.fee is not None else 0
            if not self.price_fen:
                self._submit()
            elif self.payment is None or not self.payment.start(SERVICE, self.price_fen,
                                                                 step=self.steps.of(_S.PAYING)):
                self._discard_pdf()
                self.problem = "payment_unavailable"
                self.go(_S.FAILED)
            else:
                self.go(_S.PAYING)

        self.executor.run(work, prepared)
        return True

    def _payment_changed(self, payment) -> None:
        if self.state is _S.FAILED and payment.service == SERVICE:
            self.changed()      # the refund's progress shows on this screen
        if self.state is not _S.PAYING or payment.service != SERVICE:
            return
        if payment.state is PayState.APPROVED:
            self._submit()
        elif payment.state is PayState.UNKNOWN:
            self._discard_pdf()
            self.problem = "payment_unknown"
            self.go(_S.PAYMENT_UNKNOWN)
        elif payment.state is PayState.CANCELED:
            self._discard_pdf()
            self.go(_S.REVIEW)

    def _submit(self) -> None:
        """Send the drawn form to the printer and follow the job to its end; record it once printed."""
        form, printer, pdf, pages = self.form, self.printer, self._pdf, self.pages
        self._pdf = None        # the job's own from here: deleted once CUPS has it or it failed
        template = form.template
        paid = self.paid_reference
        ledger = self.payment.ledger if paid else None
        record_form = {"template": template.id, "version": template.version, "item_code": form.item_code,
                       "fields": len(template.fields),
                       "filled": sum(1 for f in template.fields if self.values.get(f.key) not in (None, "", False)),
                       "from_card": bool(self.from_card), "pages": pages}
        record = PrintRecord(service=SERVICE, source="filled_form", pages=pages, printer="a4",
                             item_code=form.item_code, amount_fen=self.price_fen, payment_reference=paid)
        self.go(_S.PRINTING)

        def work() -> str | None:
            try:
                job = A4Job.submit(printer, pdf, title=f"kiosk form {template.id}", timeout_s=printer.timeouts.job,
                                   clock=printer.clock.monotonic)
                end = job.follow(printer.clock.sleep, printer.timeouts.poll_interval)
                if isinstance(end, Stopped):
                    raise PrintFailed(end.cause, end.detail)
            finally:
                pdf.unlink(missing_ok=True)
            if self.recorder is None:
                return None
            try:
                return self.recorder.printed(
                    record_form, record, (lambda conn: ledger.mark_delivered(conn, paid)) if paid else None)
            except Exception:
                log.exception("forms: the printed form %s could not be recorded", template.id)
                return None

        def done(tid, error) -> None:
            if error is None:
                self.transaction_id = tid
                log.info("form %s printed: %d pages, %d fen", template.id, pages, record.amount_fen,
                         extra={"flow": SERVICE, "transaction_id": tid})
                self.go(_S.DONE)
                return
            self._not_printed(template.id, error)
            if paid:
                self.payment.refund(f"form not printed: {self.problem}")

        self.run(work, done)

    def _not_printed(self, template_id: str, error: BaseException) -> None:
        detail = getattr(error, "detail", "") or "print_failed"
        if not isinstance(error, PrintFailed) and not hasattr(error, "detail"):
            log.error("forms: printing %s failed unexpectedly: %s: %s", template_id, type(error).__name__, error)
        else:
            log.warning("forms: %s not printed: %s (%s)", template_id, detail, error)
        self.problem = detail
        self.go(_S.FAILED)

    def _discard_pdf(self) -> None:
        if self._pdf is not None:
            self._pdf.unlink(missing_ok=True)
            self._pdf = None

    def back_to_review(self) -> None:
        if self.state is _S.FAILED:
            self.problem = ""
            self.go(_S.REVIEW)

    # -- leaving, the end of the visit ------------------------------------------------------------------
    def leaving(self, idle: bool) -> Leaving:
        if self.state is _S.PRINTING:
            return Leaving(Leave.FINISH, "printing")
        return FREE

    def cancel_in_flight(self) -> None:
        pass

    def reset(self) -> None:
        """The visit ended: every value, the card's, the typed, the learned, is dropped; the input data
        closes; a form drawn and not printed is deleted."""
        self._discard_pdf()
        if self.payment is not None and self.payment.service == SERVICE and self.payment.state is not PayState.IDLE:
            self.payment.reset()
        if self._card_token is not None:
            self._card_token.cancel()
            self._card_token = None
        self._close_input()
        self.values.clear()
        self._item_code = None
        self._clear()
        self.new_visit()
        self.changed()


def _render_apart(**kwargs) -> dict:
    from kiosk.core.apart import call_apart  # reportlab and pypdf stay out of the UI

    return call_apart("kiosk.core.forms.render:render_apart", **kwargs)


__all__ = ["FormFlow", "FormRecorder", "FormState", "InputCandidate", "MAX_PAGES", "PrintFailed", "SERVICE"]
