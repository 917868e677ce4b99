"""Printing documents on A4: documents released to a card holder, and blank forms attached to guides.

`DocumentPrintFlow` is a plain state machine (the screens only render it):

    idle --released()--> read_card --card--> lookup --> list | no_documents | offline | card_problem
    idle --forms()-----> forms
    list/forms --choose(doc)--> fetching --> preview (page count, price, one page shown) | fetch_failed
    preview --confirm()--> checking printer --> paying (PaymentFlow) --approved--> printing | printer_down
    printing (job state, pages done) --> done (a `print` transaction) | failed (calm words, staff alarm,
                                                                       no charge: refunded or owed)

In the preview the citizen turns the pages and zooms (`next_page`, `previous_page`, `zoom_in`,
`zoom_out`; `changed("page")`): each page is drawn when first shown, at the pixel width the screen
shows it at (`set_page_width`, times the zoom; pages.py), on the executor, into the visit's spool
folder, which goes with the visit (a released document is personal). The screen loads only the page
shown. A page that cannot be drawn is said so (`page_problem`); printing stays possible.

Leaving the visit (kiosk/core/flow.py): a job that is printing must finish
(the paper is moving; a refund follows a failure), the payment declares its
own steps; everything else ends with the visit's reset, which stops a card
read and drops the answers of requests still under way. The job is an `A4Job`
(job.py), polled step by step on the executor so the screen follows it. Its
completion is recorded (the `print` transaction of record.py, the sale
delivered) by the worker that sees it, so it is recorded even when it arrives
after the visit ended.

The ID card is read only to compute the holder's keyed hash (privacy.holder_hash)
and a masked name to greet with; both are forgotten with the visit. The central
platform is asked with a short timeout on a worker; when it cannot be reached the
citizen is told plainly that the service is offline.

Blank forms: a form's canonical address is the material's `blank_form_url` in the
catalog. The kiosk never fetches it from the internet while a citizen waits: it
prints the copy in its forms cache (`<data_dir>/<[documents] forms_dir>/`, one
file per URL named by its SHA-256, placed there by the deployment's provisioning
or the agent). Where `[documents] sample_forms` names a plug-in (the demo config
names kiosk/sim/forms.py), a form missing from the cache is rendered once by it,
in a child process, as a clearly marked sample, so the demo works without a
forms server.
"""
from __future__ import annotations

import datetime as dt
import enum
import hashlib
import logging
import shutil
import tempfile
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from kiosk.core import privacy
from kiosk.alarms import Alarms
from kiosk.core.background import Executor
from kiosk.core.flow import FREE, Flow, Leave, Leaving
from kiosk.core.payment import PaymentFlow, PayState
from kiosk.core.printing.job import A4Job, Printed, Printing, Stopped
from kiosk.core.printing.pages import (PageSize, PdfError, drawn_width, pdf_page_sizes, pdf_pages,  # noqa: F401
                                       render_page)
from kiosk.core.printing.record import PrintRecord
from kiosk.core.steps import Steps, device_wait
from kiosk.hardware.cups import TIMEOUTS as CUPS_TIMEOUTS, JobState
from kiosk.hardware.device import SYSTEM_CLOCK
from kiosk.store import PerThread, transaction
from kiosk.wire.errors import PlatformUnavailable

log = logging.getLogger(__name__)

FAULTS_SHOWN_AS_PAPER = ("paper_out", "paper_jam")
ZOOMS = (1, 2, 3)                   # the preview's sizes: the page the width of the screen, twice, three times
PAGE_WIDTH_PX = 984                 # the page view's width until the screen says (1080 px less its margins)


# --- what can be printed ----------------------------------------------------------------------------

@dataclass(frozen=True)
class Printable:
    source: str        # released | blank_form
    key: str           # the platform's document id, or the form's URL
    title: str         # the document's title, or "<material> (<item name>)"
    pages_hint: int    # what the list says; the PDF's own count wins
    item_code: str = ""


@dataclass(frozen=True)
class Preview:
    pdf: Path
    pages: int
    sizes: tuple[PageSize, ...]   # each page as shown, for its resolution and its height on screen
    folder: Path                  # the visit's spool folder of this document: its page images go there


# --- blank forms --------------------------------------------------------------------------------------

class FormLibrary:
    """Blank forms of the guide catalog, printed from the kiosk's forms cache (see the module docstring)."""

    def __init__(self, catalog, cache_dir: Path, *, sample_forms: str = ""):
        self.catalog = catalog        # kiosk.core.guides.catalog.GuideCatalog
        self.cache_dir = Path(cache_dir)
        # `module:callable(title, item_name, url, out)` writing a sample PDF, run apart; "" = none
        self.sample_forms = sample_forms
        self._lock = threading.Lock()
        self._listed: tuple[str | None, list[Printable]] = (None, [])

    @staticmethod
    def file_name(url: str) -> str:
        return hashlib.sha256(url.encode()).hexdigest()[:32] + ".pdf"

    def forms(self) -> list[Printable]:
        """Every blank form of an enabled guide, in catalog order (kept until the catalog changes)."""
        stamp = self.catalog.stamp()
        with self._lock:
            if self._listed[0] == stamp and stamp is not None:
                return self._listed[1]
        out, seen = [], set()
        for summary in self.catalog.items():
            item = self.catalog.get(summary.code)
            for m in item.materials if item else ():
                if m.blank_form_url and m.blank_form_url not in seen:
                    seen.add(m.blank_form_url)
                    out.append(Printable("blank_form", m.blank_form_url, m.name, 1, item.code))
        with self._lock:
            self._listed = (stamp, out)
        return out

    def item_name(self, code: str) -> str:
        item = self.catalog.get(code)
        return item.name if item else ""

    def pdf(self, form: Printable) -> Path | None:
        """The cached PDF of a form; the sample plug-in's rendering where one is named; None when this
        kiosk has none."""
        path = self.cache_dir / self.file_name(form.key)
        if path.exists():
            return path
        if not self.sample_forms:
            return None
        self.cache_dir.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(".tmp")
        from kiosk.core.apart import call_apart  # reportlab and the font stay out of the UI

        call_apart(self.sample_forms, title=form.title,
                   item_name=self.item_name(form.item_code), url=form.key, out=str(tmp))
        tmp.replace(path)
        return path


# --- the flow ---------------------------------------------------------------------------------------

class DocState(str, enum.Enum):
    IDLE = "idle"
    READ_CARD = "read_card"          # place the ID card on the reader
    CARD_PROBLEM = "card_problem"    # unreadable, expired, or its number does not check
    LOOKUP = "lookup"                # asking the central platform
    OFFLINE = "offline"              # the platform cannot be reached: say so plainly
    NO_DOCUMENTS = "no_documents"
    LIST = "list"                    # released documents to choose from
    FORMS = "forms"                  # blank forms to choose from
    FETCHING = "fetching"
    FETCH_FAILED = "fetch_failed"
    PREVIEW = "preview"              # one page at a time (turned, zoomed), page count, price
    CHECKING = "checking"            # is the printer ready? (before any money is asked)
    PRINTER_DOWN = "printer_down"    # nothing paid, nothing printed
    PAYING = "paying"                # the PaymentFlow is on screen
    PAYMENT_UNKNOWN = "payment_unknown"  # the payment's outcome is not known: reference, nothing printed
    PRINTING = "printing"            # job state and pages on screen
    DONE = "done"
    FAILED = "failed"                # the printer failed mid-job: calm words, alarm, money back


@dataclass(frozen=True)
class _JobWatch:
    """One A4 job being followed: the job, what its `print` record will say and the sale it delivers,
    for which visit."""

    job: A4Job
    record: tuple[PrintRecord, str | None]
    gen: int


# what the citizen reads of a job state (the screen translates the word)
JOB_WORDS = {JobState.PENDING: "queued", JobState.HELD: "held", JobState.PROCESSING: "printing",
             JobState.STOPPED: "stopped", JobState.CANCELED: "canceled", JobState.ABORTED: "aborted",
             JobState.COMPLETED: "completed"}


_S = DocState
_ANY_TO_START = {_S.IDLE}   # start over / cancel: from any state

# the steps the citizen is told of: the ID card (released documents only), the document chosen (and
# fetched), its preview (and the printer checked before any money), the payment where it has a price,
# the print
STEPS = Steps(("card", "choose", "preview", "pay", "print"), {
    _S.IDLE: None,
    _S.READ_CARD: "card", _S.CARD_PROBLEM: "card", _S.LOOKUP: "card", _S.OFFLINE: "card",
    _S.NO_DOCUMENTS: "card",
    _S.LIST: "choose", _S.FORMS: "choose", _S.FETCHING: "choose", _S.FETCH_FAILED: "choose",
    _S.PREVIEW: "preview", _S.CHECKING: "preview", _S.PRINTER_DOWN: "preview",
    _S.PAYING: "pay", _S.PAYMENT_UNKNOWN: "pay",
    _S.PRINTING: "print", _S.FAILED: "print",
    _S.DONE: None,
}, optional=("card", "pay"))


class DocumentPrintFlow(Flow[DocState]):
    SERVICE = "documents"
    LEAVING = {DocState.PRINTING: Leaving(Leave.FINISH, "printing")}

    name = "documents"
    steps = STEPS
    waits = {_S.READ_CARD: "card_timeout_s", _S.LOOKUP: "lookup_timeout_s", _S.FETCHING: "fetch_timeout_s",
             _S.CHECKING: "printer_asking_s", _S.PRINTING: "print_timeout_s"}
    transitions = {
        _S.IDLE: {_S.READ_CARD, _S.FETCHING},
        _S.READ_CARD: {_S.CARD_PROBLEM, _S.LOOKUP} | _ANY_TO_START,
        _S.CARD_PROBLEM: {_S.READ_CARD} | _ANY_TO_START,
        _S.LOOKUP: {_S.OFFLINE, _S.LIST, _S.NO_DOCUMENTS} | _ANY_TO_START,
        _S.OFFLINE: {_S.READ_CARD} | _ANY_TO_START,
        _S.NO_DOCUMENTS: {_S.READ_CARD} | _ANY_TO_START,
        _S.LIST: {_S.FETCHING} | _ANY_TO_START,
        _S.FORMS: {_S.FETCHING} | _ANY_TO_START,
        _S.FETCHING: {_S.PREVIEW, _S.FETCH_FAILED, _S.FORMS} | _ANY_TO_START,
        _S.FETCH_FAILED: {_S.FETCHING, _S.LIST, _S.FORMS} | _ANY_TO_START,
        _S.PREVIEW: {_S.FETCHING, _S.CHECKING, _S.LIST, _S.FORMS} | _ANY_TO_START,
        _S.CHECKING: {_S.PRINTER_DOWN, _S.PAYING, _S.PRINTING} | _ANY_TO_START,
        _S.PRINTER_DOWN: {_S.LIST, _S.FORMS, _S.FETCHING} | _ANY_TO_START,
        # a payment declined or canceled goes back to the preview; an outcome not known stops here
        _S.PAYING: {_S.PRINTING, _S.PREVIEW, _S.PAYMENT_UNKNOWN} | _ANY_TO_START,
        _S.PAYMENT_UNKNOWN: _ANY_TO_START,
        _S.PRINTING: {_S.DONE, _S.FAILED} | _ANY_TO_START,
        _S.DONE: _ANY_TO_START,
        _S.FAILED: _ANY_TO_START,
    }

    def __init__(self, *, printer, executor: Executor, payment: PaymentFlow, store, outbox,
                 fees, hash_key: str, central=None, reader=None, forms: FormLibrary | None = None,
                 spool_dir: Path | None = None, clock=None, today: Callable[[], dt.date] = dt.date.today,
                 card_timeout_s: float = 45, lookup_timeout_s: float = 3, fetch_timeout_s: float = 15,
                 print_timeout_s: float = 180, poll_s: float = 1.0):
        timer = clock or SYSTEM_CLOCK   # monotonic() and sleep(): the driver's clock (a VirtualClock in tests)
        super().__init__(DocState.IDLE, executor=executor, clock=timer.monotonic)
        self.sleep = timer.sleep
        self.printer = printer          # kiosk.hardware.cups.CupsPrinter (submit, job, status, cancel_job)
        self.payment = payment
        self.store = store
        self.outbox = outbox
        self.fees = fees                # kiosk.config.FeesSection
        self.hash_key = hash_key
        self.central = central          # kiosk.sync.client.CentralClient
        self.reader = reader            # kiosk.hardware.idcard.SamReader
        self.forms_library = forms
        self.spool_dir = Path(spool_dir or tempfile.gettempdir()) / "documents"
        self.today = today
        self.card_timeout_s = card_timeout_s
        self.lookup_timeout_s = lookup_timeout_s
        self.fetch_timeout_s = fetch_timeout_s
        self.print_timeout_s = print_timeout_s
        self.poll_s = poll_s
        self._conn = PerThread(store.connect)
        self.page_width_px = PAGE_WIDTH_PX
        self.payment.on_change(self._payment_changed)
        self.reset()

    # -- state the screens read --------------------------------------------------------------------
    def reset(self) -> None:
        """Forget the visit: the holder's hash and masked name, the lists, the spooled PDFs; late results
        of it are dropped from now on (the flow base), a job under way is followed alone."""
        self.new_visit()
        token = getattr(self, "_card_token", None)
        if token is not None:
            token.cancel()
        self._card_token = None
        self.holder: str | None = None        # keyed hash; never the number
        self.greeting_name = ""               # masked: 张*
        self.documents: list[Printable] = []
        self.forms: list[Printable] = []
        self.chosen: Printable | None = None
        self.preview: Preview | None = None
        self.price_fen = 0
        self.job_id: int | None = None
        self.job_word = ""
        self.pages_done: int | None = None
        self.problem = ""                     # snake-case cause, for the calm sentence and the alarm
        self.print_transaction_id: str | None = None
        self.path = ""                        # "released" (by the ID card) or "blank" (blank forms)
        self._forget_pages()
        if getattr(self, "payment", None) is not None and self.payment.state is not PayState.IDLE:
            self.payment.reset()
        shutil.rmtree(self.spool_dir, ignore_errors=True)
        self.changed()

    def leaving(self, idle: bool) -> Leaving:
        return self.LEAVING.get(self.state, FREE)

    def skipped_steps(self) -> set[str]:
        skipped = set()
        if self.path == "blank" or not self.can_read_cards:
            skipped.add("card")
        # the price is known once the pages are counted; before, a rule that charges nothing is free
        rule = self.fees.documents if self.path != "blank" else self.fees.blank_forms
        free = self.price_fen == 0 if self.preview is not None else rule.price(0) == rule.price(1) == 0
        if free:
            skipped.add("pay")
        return skipped

    def cancel_in_flight(self) -> None:
        """Nothing of this flow is CANCEL: a card read stops with the reset, a job must finish."""

    def _set(self, state: DocState, problem: str | None = None) -> None:
        self.go(state, tell=False)
        if problem is not None:
            self.problem = problem
        self.changed()

    @property
    def can_read_cards(self) -> bool:
        return self.reader is not None and self.central is not None

    @property
    def printer_asking_s(self) -> float:
        """Asking CUPS whether the printer is ready: one command of the driver."""
        return device_wait(self.printer, CUPS_TIMEOUTS, "command")

    @property
    def pages(self) -> int:
        return self.preview.pages if self.preview else 0

    # -- released documents ------------------------------------------------------------------------
    def released(self) -> bool:
        """Start: ask for the ID card."""
        if not self.can_read_cards or self.state not in (DocState.IDLE, DocState.CARD_PROBLEM, DocState.OFFLINE,
                                                          DocState.NO_DOCUMENTS):
            return False
        self.path = "released"
        from kiosk.hardware.device import CancelToken  # the reader driver's cancel token

        token = self._card_token = CancelToken()
        self.problem = ""
        self._set(DocState.READ_CARD)
        reader, timeout = self.reader, self.card_timeout_s
        self.run(lambda: reader.read_card(timeout, cancel=token), self._card_read)
        return True

    def _card_read(self, card, error) -> None:
        if self.state is not DocState.READ_CARD:
            return
        if error is not None:
            detail = getattr(error, "detail", "") or type(error).__name__
            self._set(DocState.CARD_PROBLEM if detail != "canceled" else DocState.IDLE,
                      "no_card" if detail == "no_card" else "card_unreadable")
            return
        privacy.remember_person(card.name, card.id_number)  # scrubbed from every log line until the wipe
        problems = card.problems(self.today())
        if "id_check_digit_wrong" in problems or "expired" in problems:
            self._set(DocState.CARD_PROBLEM, "card_expired" if "expired" in problems else "card_invalid")
            return
        self.holder = privacy.holder_hash(self.hash_key, card.id_number)
        self.greeting_name = privacy.mask_name(card.name)
        del card  # nothing of the card beyond the hash and the masked name is kept
        self._set(DocState.LOOKUP)
        central, holder, timeout = self.central, self.holder, self.lookup_timeout_s
        self.run(lambda: central.documents_for_holder(holder, timeout=timeout), self._listed)

    def _listed(self, docs, error) -> None:
        if error is not None:
            # the technician's detail goes to the log; the citizen hears that the service is offline
            log.warning("documents look-up failed: %s: %s", type(error).__name__, error)
            self._set(DocState.OFFLINE, "central_offline")
            return
        self.documents = [Printable("released", str(d["id"]), str(d.get("title") or d["id"]),
                                    int(d.get("pages") or 1)) for d in docs]
        self._set(DocState.LIST if self.documents else DocState.NO_DOCUMENTS)

    def cancel_card(self) -> None:
        if self.state is DocState.READ_CARD and self._card_token is not None:
            self._card_token.cancel()
        self.new_visit()   # the read under way answers nobody
        self.problem = ""
        self.changed()

    # -- blank forms ------------------------------------------------------------------------------
    def blank_forms(self) -> bool:
        if self.forms_library is None:
            return False
        self.path = "blank"
        self._set(DocState.FETCHING)
        self.run(self.forms_library.forms, self._forms_listed)
        return True

    def _forms_listed(self, forms, error) -> None:
        if error is not None:
            log.error("blank forms could not be listed: %s", error)
            self._set(DocState.FETCH_FAILED, "forms_unavailable")
            return
        self.forms = list(forms)
        self._set(DocState.FORMS)

    def choose_form_by_url(self, url: str, title: str, item_code: str = "") -> bool:
        """Entry for the guide screens: print the blank form of one material."""
        if self.forms_library is None:
            return False
        self.reset()
        self.path = "blank"
        return self.choose(Printable("blank_form", url, title, 1, item_code))

    # -- choosing, preview -------------------------------------------------------------------------
    def choose(self, doc: Printable) -> bool:
        if self.state not in (DocState.LIST, DocState.FORMS, DocState.IDLE, DocState.FETCH_FAILED,
                              DocState.PREVIEW):
            return False
        self.chosen = doc
        self.preview = None
        self._forget_pages()
        self._set(DocState.FETCHING, "")
        spool = self.spool_dir / f"{self.visit}-{hashlib.sha256(doc.key.encode()).hexdigest()[:12]}"
        visit, width = self.visit, self.page_width_px

        def work() -> Preview:
            spool.mkdir(parents=True, exist_ok=True)
            if doc.source == "released":
                data = self.central.get_document(doc.key, holder_hash=self.holder, timeout=self.fetch_timeout_s)
                pdf = spool / "document.pdf"
                pdf.write_bytes(data)
            else:
                pdf = self.forms_library.pdf(doc)
                if pdf is None:
                    raise FileNotFoundError(f"blank form {doc.key} is not in the forms cache")
            sizes = tuple(pdf_page_sizes(pdf))
            preview = Preview(pdf, len(sizes), sizes, spool)
            # page 1 comes with the preview, drawn for the screen as it is now
            first = self._draw_page(preview, 1, drawn_width(width, sizes[0]), visit)
            if not self.current(visit):   # the visit ended meanwhile: what was just spooled goes too
                shutil.rmtree(spool, ignore_errors=True)
            return preview, first

        self.run(work, self._fetched)
        return True

    def _fetched(self, result: tuple[Preview, tuple] | None, error) -> None:
        if error is not None:
            log.warning("document %s could not be fetched: %s: %s", self.chosen.key if self.chosen else "?",
                        type(error).__name__, error)
            offline = isinstance(error, PlatformUnavailable)
            self._set(DocState.FETCH_FAILED, "central_offline" if offline else (
                "form_not_here" if isinstance(error, FileNotFoundError) else "document_unreadable"))
            return
        preview, (key, page, problem) = result
        self.preview = preview
        self._page_drawn(key, page, problem, tell=False)
        rule = self.fees.documents if self.chosen.source == "released" else self.fees.blank_forms
        self.price_fen = rule.price(preview.pages)
        self._set(DocState.PREVIEW)

    # -- the pages of the preview -------------------------------------------------------------------
    def _forget_pages(self) -> None:
        self.page = 1                             # the page shown, 1-based
        self.zoom = ZOOMS[0]
        self._pages: dict[tuple[int, int], Path] = {}      # (page, drawn width) -> its image
        self._page_failed: set[tuple[int, int]] = set()
        self._page_making: set[tuple[int, int]] = set()

    @property
    def page_size(self) -> PageSize | None:
        """The shown page's size (its height on screen follows from it)."""
        return self.preview.sizes[self.page - 1] if self.preview else None

    @property
    def page_shown_px(self) -> int:
        """How wide the screen shows the page: its page view, times the zoom."""
        return self.page_width_px * self.zoom

    def _page_key(self) -> tuple[int, int] | None:
        size = self.page_size
        return (self.page, drawn_width(self.page_shown_px, size)) if size else None

    @property
    def page_image(self) -> Path | None:
        """The shown page's image, once drawn at the size it is shown."""
        key = self._page_key()
        return self._pages.get(key) if key else None

    @property
    def page_making(self) -> bool:
        """The shown page is being drawn ("preparing page 2")."""
        return self._page_key() in self._page_making

    @property
    def page_problem(self) -> bool:
        """The shown page could not be drawn (the document can still be printed)."""
        return self._page_key() in self._page_failed

    def set_page_width(self, width_px: int) -> None:
        """The screen's page view is `width_px` wide (at zoom 1); the shown page is drawn for it."""
        width_px = max(1, int(width_px))
        if width_px != self.page_width_px:
            self.page_width_px = width_px
            self._want_page()

    def next_page(self) -> bool:
        return self._turn(self.page + 1)

    def previous_page(self) -> bool:
        return self._turn(self.page - 1)

    def _turn(self, page: int) -> bool:
        if self.state is not DocState.PREVIEW or not 1 <= page <= self.pages or page == self.page:
            return False
        self.page = page
        self._want_page()
        return True

    def zoom_in(self) -> bool:
        return self._zoom(+1)

    def zoom_out(self) -> bool:
        return self._zoom(-1)

    def _zoom(self, step: int) -> bool:
        i = ZOOMS.index(self.zoom) + step
        if self.state is not DocState.PREVIEW or not 0 <= i < len(ZOOMS):
            return False
        self.zoom = ZOOMS[i]
        self._want_page()
        return True

    def _want_page(self) -> None:
        """The shown page drawn at the size shown, unless it is (or is being) already; the screen told."""
        key = self._page_key()
        if self.state is DocState.PREVIEW and key is not None and key not in self._pages \
                and key not in self._page_failed and key not in self._page_making:
            self._page_making.add(key)
            preview, visit = self.preview, self.visit
            self.run(lambda: self._draw_page(preview, key[0], key[1], visit),
                     lambda drawn, error: self._page_drawn(*drawn) if error is None else
                     self._page_drawn(key, None, f"{type(error).__name__}: {error}"))
        self.changed("page")

    def _draw_page(self, preview: Preview, page: int, width_px: int, visit: int):
        """On the executor: ((page, width), image or None, problem). An image made after its visit ended
        is deleted at once: the spool folder went with the visit."""
        key, out = (page, width_px), preview.folder / f"page-{page}-{width_px}.png"
        try:
            image = render_page(preview.pdf, page, out, width_px, preview.sizes[page - 1])
        except PdfError as exc:
            return key, None, str(exc)
        if not self.current(visit):
            image.unlink(missing_ok=True)
        return key, image, ""

    def _page_drawn(self, key: tuple[int, int], image: Path | None, problem: str, tell: bool = True) -> None:
        self._page_making.discard(key)
        if image is None:
            log.warning("page %d of %s could not be shown: %s", key[0], self.chosen.key if self.chosen else "?",
                        problem)
            self._page_failed.add(key)
        else:
            self._pages[key] = image
        if tell:
            self.changed("page")

    def back_to_list(self) -> None:
        if self.state in (DocState.PREVIEW, DocState.FETCH_FAILED, DocState.PRINTER_DOWN):
            self._set(DocState.LIST if self.chosen and self.chosen.source == "released" and self.documents
                      else DocState.FORMS if self.forms else DocState.IDLE, "")

    # -- paying and printing ----------------------------------------------------------------------
    def confirm(self) -> bool:
        """Print what the preview shows: first the printer is checked, so nobody pays for a dead printer."""
        if self.state is not DocState.PREVIEW:
            return False
        self._set(DocState.CHECKING)
        self.run(self.printer.status, self._checked)
        return True

    def _checked(self, status, error) -> None:
        if error is not None or not status.usable:
            detail = (getattr(status, "detail", "") if error is None else "") or "printer_unavailable"
            self._alarm(detail, f"before printing: {error or status.state.value}")
            self._set(DocState.PRINTER_DOWN, detail)
            return
        if self.price_fen > 0:
            step = self.steps.of(DocState.PAYING, self.skipped_steps())
            if not self.payment.start(self.SERVICE, self.price_fen, step=step):
                self._set(DocState.PRINTER_DOWN, "payment_unavailable")
                return
            self._set(DocState.PAYING)
        else:
            self._print()

    def _payment_changed(self, payment: PaymentFlow) -> None:
        if self.state is DocState.PAYING:
            if payment.state is PayState.APPROVED:
                self._print()
            elif payment.state is PayState.UNKNOWN:
                self._set(DocState.PAYMENT_UNKNOWN, "payment_unknown")
            elif payment.state is PayState.CANCELED:
                self._set(DocState.PREVIEW, "")
        elif self.state in (DocState.FAILED, DocState.PAYMENT_UNKNOWN):
            self.changed()  # the refund's progress and the slip show on this screen

    def _print(self) -> None:
        self.job_id, self.pages_done, self.job_word = None, 0, "queued"
        self._set(DocState.PRINTING, "")
        doc, pdf, gen = self.chosen, self.preview.pdf, self.visit
        title = f"kiosk {doc.source} {doc.key[-24:]}"
        record = self._print_record()
        printer, timeout, clock = self.printer, self.print_timeout_s, self.clock
        # not dropped with the visit: a job submitted is followed to its end and recorded
        self.executor.run(lambda: A4Job.submit(printer, pdf, title=title, timeout_s=timeout, clock=clock),
                          lambda job, error: self._submitted(gen, record, job, error))

    def _submitted(self, gen: int, record, job: A4Job | None, error) -> None:
        ours = gen == self.visit
        if error is not None:
            if ours:
                self._failed(getattr(error, "detail", "") or "submit_failed", str(error))
            return
        if ours:
            self.job_id = job.job_id
        self._poll(_JobWatch(job, record, gen), first=True)

    def _poll(self, watch: _JobWatch, first: bool = False) -> None:
        wait = 0 if first else self.poll_s

        def work():
            if wait:
                self.sleep(wait)
            outcome = watch.job.poll()
            if isinstance(outcome, Printed):
                # recorded here, on the worker, so a job finishing after its visit ended is still recorded
                return outcome, self._record_print(*watch.record)
            return outcome, None

        self.executor.run(work, lambda result, error: self._polled(watch, result, error))

    def _print_record(self) -> tuple[PrintRecord, str | None]:
        """What the `print` transaction of the job under way will say, and the sale it delivers."""
        doc = self.chosen
        record = PrintRecord(
            service=self.SERVICE, source=doc.source, pages=self.pages, printer="a4",
            item_code=doc.item_code or None,
            document=doc.key if doc.source == "released" else None,
            form_url=doc.key if doc.source == "blank_form" else None,
            amount_fen=self.price_fen, payment_reference=self.payment.reference if self.price_fen else None)
        paid = self.payment.reference if self.price_fen and self.payment.state is PayState.APPROVED else None
        return record, paid

    def _record_print(self, record: PrintRecord, paid: str | None) -> str:
        conn = self._conn()
        with transaction(conn):
            entry = self.outbox.enqueue(conn, "print", record.to_data())
            if paid:
                self.payment.ledger.mark_delivered(conn, paid)
        log.info("printed %s %s: %d pages, %d fen", record.source, record.document or record.form_url,
                 record.pages, record.amount_fen)
        return entry.id

    def _polled(self, watch: _JobWatch, result, error) -> None:
        if error is None:
            outcome, transaction_id = result
        else:   # the completion could not be recorded: asked again with the next poll, as a poll unanswered
            log.warning("the completion of job %s could not be recorded: %s: %s", watch.job.job_id,
                        type(error).__name__, error)
            outcome, transaction_id = watch.job.missed(error), None
        if isinstance(outcome, Stopped) and outcome.live:
            # so a job that stopped here never prints later, after the citizen has been refunded
            self.executor.run(watch.job.cancel)
        if watch.gen != self.visit or self.state is not DocState.PRINTING:
            # a job whose visit ended (a forced end): followed by the same rules, shown to nobody; a
            # completion was recorded by the worker
            if isinstance(outcome, Printing):
                self._poll(watch)
            elif isinstance(outcome, Stopped):
                log.warning("job %s of an ended visit did not complete: %s (%s)", watch.job.job_id, outcome.cause,
                            outcome.detail)
            return
        info = outcome.info
        if info is not None:
            self.job_word = JOB_WORDS.get(info.state, "printing")
            if info.pages is not None:
                self.pages_done = min(info.pages, self.pages)
        if isinstance(outcome, Printed):
            self.print_transaction_id = transaction_id
            self.pages_done = self.pages
            self._set(DocState.DONE)
        elif isinstance(outcome, Stopped):
            self._failed(outcome.cause, outcome.detail)
        else:
            if info is not None:
                self.changed()
            self._poll(watch)

    def _failed(self, cause: str, detail: str) -> None:
        log.warning("printing failed: %s (%s)", cause, detail)
        self._alarm(cause, detail)
        self._set(DocState.FAILED, cause)
        if self.price_fen and self.payment.state is PayState.APPROVED:
            self.payment.refund(f"print failed: {cause}")

    def _alarm(self, cause: str, detail: str) -> None:
        """The printer alarm for staff, written on the executor (never on the UI thread)."""
        def write() -> None:
            try:
                Alarms(self._conn(), self.outbox).raise_alarm("document_printer", cause, detail)
            except Exception:
                log.exception("the printer alarm could not be recorded")
        self.executor.run(write)

    @property
    def paper_problem(self) -> bool:
        return self.problem in FAULTS_SHOWN_AS_PAPER
