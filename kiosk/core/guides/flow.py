"""Service guides as a citizen uses them: browse, search as you type, read one guide, print it.

`GuideBrowser` is the finding part: themes and departments of the enabled
items, the list of one theme or department, and the search box fed by the
on-screen keyboard (letters for pinyin and initials, digits), debounced on the
injected clock so a burst of key presses costs one search. `GuideFlow` is the
whole service as a state machine:

    HOME --theme/department--> LIST --item--> DETAIL --print--> PRINT (printing -> done | failed)
    HOME --search box--------> SEARCH --item--> DETAIL             PRINT --back--> DETAIL
    back() goes one step up; a wipe of the visitor session goes back to HOME with nothing kept.

Printing is gated by the printers' state: each print option says whether it
can print now and, when not, the citizen's reason, so a printer that is down
shows as unavailable instead of failing half way. `GuideFlow` is a flow on the one
base (kiosk/core/flow.py): its views are the states, with the transitions above
declared. Blocking work (searching, asking a printer, printing, writing the
outbox) runs on the injected executor (kiosk/core/background.py), which in the
UI runs it off the main thread and reports back on it; tests use `Inline` or
`Held`. A print's progress comes back through the executor's `deliver`. An A4 guide is an `A4Job`
(kiosk/core/printing/job.py) followed to its end on the worker. A completed print is one `print`
transaction (kiosk/core/printing/record.py: the guide's item code, pages, printer kind); a printer
fault mid-job gives a calm message and an alarm.
"""
from __future__ import annotations

import datetime as dt
import logging
import sqlite3
import time
import uuid
from dataclasses import dataclass, field, replace
from enum import Enum
from pathlib import Path
from typing import Any, Callable, Mapping, NamedTuple, Protocol

from kiosk.core.background import Executor, Inline

from kiosk.core.guides import printout as guide_print
from kiosk.core.guides.catalog import GuideCatalog, Group
from kiosk.core.flow import FREE, Flow, Leave, Leaving
from kiosk.core.guides.search import GuideSearch
from kiosk.core.printing.job import A4Job, Stopped
from kiosk.core.printing.record import PrintRecord
from kiosk.hardware.device import Device, DeviceError, State, Status
from kiosk.i18n import N_
from kiosk.store import PerThread
from kiosk.wire.catalog import Item

log = logging.getLogger(__name__)

SEARCH_DEBOUNCE_S = 0.25   # a search runs this long after the last key press
MAX_QUERY = 32             # characters in the search box
KEYS = frozenset("abcdefghijklmnopqrstuvwxyz0123456789")
# words offered under the search box (there is no input method for Chinese); shown when they find something
POPULAR_WORDS = ("社保", "医保", "公积金", "户口", "身份证", "驾照", "护照", "婚姻", "个税", "残疾")

RECEIPT, A4 = "receipt", "a4"
PRINTER_OF = {RECEIPT: "receipt_printer", A4: "document_printer"}

# what the citizen reads about a printer that cannot print (msgids); the detail goes to the log and alarm
REASON_PAPER_OUT = N_("Out of paper")
REASON_COVER_OPEN = N_("Printer cover open")
REASON_DOWN = N_("Temporarily out of service")
FAILED_PAPER_OUT = N_("The printer ran out of paper before your guide was finished.")
FAILED_OTHER = N_("The printer stopped before your guide was finished.")
FAILED_NEXT = N_("Staff have been told. You can read the guide on screen, try the other printer, "
                 "or ask at the service desk.")


def reason_for(detail: str) -> str:
    if detail == "paper_out":
        return REASON_PAPER_OUT
    if detail == "cover_open":
        return REASON_COVER_OPEN
    return REASON_DOWN


# -- what the flow records -------------------------------------------------------------------------

class PrintRecorder(Protocol):
    def printed(self, record: PrintRecord) -> None:
        """A completed print: one `print` transaction in the outbox."""

    def fault(self, device: str, code: str, detail: str) -> None:
        """A printer failed mid-job: an alarm for staff."""

    def recovered(self, device: str) -> None:
        """The printer printed again: the alarms this recorder raised for it clear."""


ALARM_DEVICE = "guide_print"   # a citizen's print failed: `guide_print:<printer>:<detail>`


class StorePrintRecorder:
    """Prints and faults into the kiosk's database (outbox and alarms), one connection per thread.

    A failed print is an event alarm of its own (`guide_print:receipt_printer:paper_out`), apart from the
    printer's status alarms, which follow the health pollers and clear when the status does; this one
    clears when that printer next prints a guide.
    """

    def __init__(self, store, outbox_for: Callable[[sqlite3.Connection], Any],
                 now: Callable[[], float] = time.time):
        self.store = store
        self.outbox_for = outbox_for    # the outbox (kiosk.sync.outbox.Outbox) of a connection
        self.now = now
        self._parts = PerThread(self._open)

    def _open(self):
        from kiosk.alarms import Alarms

        conn = self.store.connect()
        outbox = self.outbox_for(conn)
        return outbox, Alarms(conn, outbox, now=self.now)

    def printed(self, record: PrintRecord) -> None:
        outbox, _alarms = self._parts()
        outbox.record("print", record.to_data())

    def fault(self, device: str, code: str, detail: str) -> None:
        _outbox, alarms = self._parts()
        alarms.raise_alarm(ALARM_DEVICE, f"{device}:{code}", detail, "fault")

    def recovered(self, device: str) -> None:
        _outbox, alarms = self._parts()
        for alarm in alarms.active():
            if alarm.device == ALARM_DEVICE and alarm.code.startswith(device + ":"):
                alarms.clear(ALARM_DEVICE, alarm.code, "printed again")


# -- state --------------------------------------------------------------------------------------

class View(str, Enum):
    HOME = "home"
    LIST = "list"
    SEARCH = "search"
    DETAIL = "detail"
    PRINT = "print"


class Row(NamedTuple):
    """One line of a list of guides."""
    code: str
    name: str
    department: str


@dataclass(frozen=True)
class PrintOption:
    kind: str            # receipt | a4
    device: str          # the [devices] name
    available: bool
    reason: str = ""     # msgid when not available
    detail: str = ""     # for technicians


class PrintPhase(str, Enum):
    PRINTING = "printing"
    DONE = "done"
    FAILED = "failed"


@dataclass(frozen=True)
class PrintState:
    kind: str
    phase: PrintPhase
    job_state: str = ""        # the CUPS job state (pending, processing, completed, ...), "" for receipts
    pages_done: int = 0
    pages: int = 0             # pages of the document, once known
    message: str = ""          # msgid: why it failed
    detail: str = ""           # for technicians


@dataclass(frozen=True)
class Progress:
    job_state: str
    pages_done: int
    pages: int


class PrintFailed(Exception):
    def __init__(self, device: str, detail: str, message: str):
        super().__init__(f"{device}: {message}")
        self.device = device
        self.detail = detail
        self.message = message


# -- finding a guide ------------------------------------------------------------------------------

class GuideBrowser:
    """Themes, departments, one list at a time, and the search box."""

    def __init__(self, catalog: GuideCatalog, search: GuideSearch, *, clock: Callable[[], float],
                 executor: Executor, on_change: Callable[[str], None] = lambda aspect: None):
        self.catalog = catalog
        self.search = search
        self.clock = clock
        self.executor = executor
        self.on_change = on_change
        self.themes: list[Group] = []
        self.departments: list[Group] = []
        self.list_kind = ""          # theme | department | search
        self.list_title = ""
        self.rows: list[Row] = []
        self.query = ""
        self.searching = False       # a search is due or running
        self.popular: list[str] = []  # POPULAR_WORDS that find guides in this catalog
        self._stamp: str | None = object()  # type: ignore[assignment]
        self._due: float | None = None
        self._generation = 0

    def refresh(self) -> bool:
        """Read the themes and departments again when the catalog changed; True when it did."""
        stamp = self.catalog.stamp()
        if stamp == self._stamp:
            return False
        self._stamp = stamp
        self.themes = self.catalog.themes()
        self.departments = self.catalog.departments()
        self.on_change("groups")

        def work():   # also builds the search index before the first key press
            return [w for w in POPULAR_WORDS if self.search.search(w, limit=1).hits]

        def done(popular, error) -> None:
            if error is None and popular != self.popular:
                self.popular = popular
                self.on_change("popular")

        self.executor.run(work, done)
        return True

    def open_theme(self, theme: str) -> None:
        self._show("theme", theme, self.catalog.by_theme(theme))

    def open_department(self, department: str) -> None:
        self._show("department", department, self.catalog.by_department(department))

    def _show(self, kind: str, title: str, items) -> None:
        self._generation += 1   # a search still running must not overwrite this list
        self.list_kind, self.list_title = kind, title
        self.rows = [Row(i.code, i.name, i.department) for i in items]
        self.on_change("rows")

    def start_search(self) -> None:
        self._generation += 1
        self.list_kind, self.list_title = "search", ""
        self.query, self.rows, self.searching, self._due = "", [], False, None
        self.on_change("query")
        self.on_change("rows")

    # the on-screen keyboard
    def press(self, key: str) -> None:
        key = key.lower()
        if key not in KEYS or len(self.query) >= MAX_QUERY:
            return
        self._set_query(self.query + key)

    def backspace(self) -> None:
        if self.query:
            self._set_query(self.query[:-1])

    def clear(self) -> None:
        if self.query:
            self._set_query("")

    def type_text(self, text: str) -> None:
        """Set the whole query at once (one of the popular words under the search box)."""
        self._set_query(text[:MAX_QUERY])

    def _set_query(self, query: str) -> None:
        self.query = query
        self._generation += 1
        if query.strip():
            self._due = self.clock() + SEARCH_DEBOUNCE_S
            self.searching = True
        else:
            self._due, self.searching, self.rows = None, False, []
            self.on_change("rows")
        self.on_change("query")

    def tick(self) -> None:
        """Run the search once the keyboard has been quiet for SEARCH_DEBOUNCE_S."""
        if self._due is None or self.clock() < self._due:
            return
        self._due = None
        generation, query = self._generation, self.query

        def work():
            return self.search.search(query, limit=None)

        def done(result, error) -> None:
            if generation != self._generation:
                return  # the citizen typed on, or left: a newer search or list wins
            self.searching = False
            if error is not None:
                log.error("guide search for a %d-character query failed: %s", len(query), error)
                self.rows = []
            else:
                self.rows = [Row(h.code, h.name, h.department) for h in result.hits]
            self.on_change("rows")
            self.on_change("query")

        self.executor.run(work, done)

    def reset(self) -> None:
        self._generation += 1
        self.list_kind = self.list_title = self.query = ""
        self.rows, self.searching, self._due = [], False, None


# -- the service ----------------------------------------------------------------------------------

@dataclass
class GuideFlow(Flow[View]):
    """The guides service: find, read, print. Plain Python; the screen renders `view` and its state."""

    name = "guides"
    transitions = {
        View.HOME: {View.LIST, View.SEARCH, View.DETAIL},
        View.LIST: {View.HOME, View.SEARCH, View.DETAIL},
        View.SEARCH: {View.HOME, View.LIST, View.DETAIL},
        View.DETAIL: {View.HOME, View.LIST, View.SEARCH, View.PRINT},
        View.PRINT: {View.HOME, View.DETAIL},   # a guide is printed from its page only
    }

    catalog: GuideCatalog
    search: GuideSearch
    # {"receipt_printer": ..., "document_printer": ...}: the printers this kiosk has; a key absent = not
    # fitted (no button), a value None = fitted but not up yet (the UI brings devices up in the background)
    printers: Mapping[str, Device | None]
    clock: Callable[[], float]
    executor: Executor = field(default_factory=Inline)
    recorder: PrintRecorder | None = None
    session: Any = None                        # kiosk.core.session.VisitorSession: the flow resets with its wipe
    font_path: str | Path | None = None        # the Chinese font the A4 PDF embeds
    spool_dir: str | Path | None = None        # where the PDF is written before CUPS takes it
    hall: str = ""
    now: Callable[[], dt.datetime] = dt.datetime.now
    on_device_problem: Callable[[str, str | None], None] = lambda device, detail: None

    def __post_init__(self) -> None:
        Flow.__init__(self, View.HOME, executor=self.executor, clock=self.clock)
        self.item: Item | None = None
        self.options: dict[str, PrintOption] = {}
        self.printing: PrintState | None = None
        self._came_from = View.HOME
        self._checking = False
        self.browser = GuideBrowser(self.catalog, self.search, clock=self.clock, executor=self.executor,
                                    on_change=self.changed)
        for kind, device in PRINTER_OF.items():
            if device in self.printers:
                self.options[kind] = PrintOption(kind, device, True)
        if self.session is not None:
            self.session.on("wipe", lambda _reason: self.reset())
            self.session.attach(self)

    # -- leaving the visit (kiosk/core/flow.py): a guide being printed finishes first -------------------
    def leaving(self, idle: bool) -> Leaving:
        if self.printing is not None and self.printing.phase is PrintPhase.PRINTING:
            return Leaving(Leave.FINISH, "printing")
        return FREE

    def cancel_in_flight(self) -> None:
        """Nothing to call back: a guide print finishes (its work step records it either way)."""

    # listeners: the base's, told with the flow; each change names its `aspect` (view, groups, popular,
    # rows, query, detail, options, print), so the screen redraws only that part

    @property
    def view(self) -> View:
        return self.state

    def _go(self, view: View) -> None:
        self.go(view, tell=False)
        self.changed("view")

    # -- finding ----------------------------------------------------------------------------------
    def enter(self) -> None:
        """The citizen opened the service: the catalog as it is now, from the guides' home."""
        self.browser.refresh()
        if self.view is View.PRINT and self.printing and self.printing.phase is PrintPhase.PRINTING:
            return  # a print under way stays on screen
        self.reset(quiet=True)
        self._go(View.HOME)

    def open_theme(self, theme: str) -> None:
        self.browser.open_theme(theme)
        self._go(View.LIST)

    def open_department(self, department: str) -> None:
        self.browser.open_department(department)
        self._go(View.LIST)

    def open_search(self) -> None:
        self.browser.start_search()
        self._go(View.SEARCH)

    def press(self, key: str) -> None:
        self.browser.press(key)

    def backspace(self) -> None:
        self.browser.backspace()

    def clear(self) -> None:
        self.browser.clear()

    def search_word(self, word: str) -> None:
        self.browser.type_text(word)

    def tick(self) -> None:
        self.browser.tick()

    def open_item(self, code: str) -> bool:
        """Show one guide; False (and nothing changes) for an unknown or disabled item."""
        item = self.catalog.get(code)
        if item is None:
            return False
        self.item = item
        if self.view in (View.HOME, View.LIST, View.SEARCH):
            self._came_from = self.view
        self.changed("detail")
        self._go(View.DETAIL)
        self.check_printers()
        return True

    def back(self) -> None:
        if self.view is View.PRINT:
            if self.printing and self.printing.phase is PrintPhase.PRINTING:
                return  # not while the paper is moving
            self._go(View.DETAIL)
        elif self.view is View.DETAIL:
            self._go(self._came_from)
        elif self.view in (View.LIST, View.SEARCH):
            self._go(View.HOME)

    # -- printers ---------------------------------------------------------------------------------
    def check_printers(self) -> None:
        """Ask each fitted printer whether it can print now (on the executor); options follow."""
        if self._checking or not self.options:
            return
        self._checking = True
        devices = {kind: self.printers.get(opt.device) for kind, opt in self.options.items()}

        def work():
            states = {}
            for kind, device in devices.items():
                if device is None:
                    states[kind] = Status(State.NO_DEVICE, "starting")
                    continue
                try:
                    states[kind] = device.status()
                except Exception as exc:  # a status question that fails is a printer that cannot print
                    states[kind] = exc
            return states

        def done(states, error) -> None:   # dropped when the visit ended (reset() cleared _checking)
            self._checking = False
            if error is not None:
                log.error("guide printers: the status check failed: %r", error)
                return
            for kind, status in states.items():
                if isinstance(status, Exception):
                    self._set_option(kind, False, "no_answer")
                else:
                    self._set_option(kind, status.usable, status.detail)

        self.run(work, done)

    def _set_option(self, kind: str, available: bool, detail: str) -> None:
        opt = self.options[kind]
        new = PrintOption(kind, opt.device, available, "" if available else reason_for(detail),
                          "" if available else detail)
        if new != opt:
            self.options[kind] = new
            if detail != "starting":   # the device runtime reports a device still coming up itself
                self.on_device_problem(opt.device, None if available else (detail or "unavailable"))
            self.changed("options")

    # -- printing ---------------------------------------------------------------------------------
    def print(self, kind: str) -> bool:
        """Print the open guide on `kind` (receipt | a4); False when that printer cannot print now."""
        opt = self.options.get(kind)
        if (self.item is None or opt is None or not opt.available
                or (self.printing and self.printing.phase is PrintPhase.PRINTING)):
            return False
        item, device, visit = self.item, self.printers.get(opt.device), self.visit
        if device is None:
            return False

        def progress(p: Progress) -> None:   # on the flow's thread; dropped when the visit ended
            if self.printing and self.printing.phase is PrintPhase.PRINTING:
                self.printing = replace(self.printing, job_state=p.job_state, pages_done=p.pages_done, pages=p.pages)
                self.changed("print")

        def report(p: Progress) -> None:     # in the work: hand the progress to the flow's thread
            self.deliver(lambda: progress(p), visit)

        if kind == RECEIPT:
            receipt = guide_print.receipt_of(item, hall=self.hall, printed_at=self.now())

            def work():
                return self._print_receipt(device, receipt, item)
        else:
            printed_at = self.now()

            def work():
                return self._print_a4(device, item, printed_at, report)

        self.printing = PrintState(kind, PrintPhase.PRINTING, pages=1 if kind == RECEIPT else 0)
        self.changed("print")
        self._go(View.PRINT)

        def done(pages, err) -> None:   # not called when the visit was wiped: the work recorded the print
            if err is None:
                self.printing = PrintState(kind, PrintPhase.DONE, "completed" if kind == A4 else "", pages, pages)
                self._set_option(kind, True, "")
            else:
                detail = err.detail if isinstance(err, PrintFailed) else "print_failed"
                if not isinstance(err, PrintFailed):
                    log.error("guide print on %s failed unexpectedly: %r", opt.device, err)
                message = FAILED_PAPER_OUT if detail == "paper_out" else FAILED_OTHER
                self.printing = replace(self.printing, phase=PrintPhase.FAILED, message=message, detail=detail)
                self._set_option(kind, False, detail)
            self.changed("print")

        self.run(work, done)
        return True

    # -- in the work step (on the executor's thread) ----------------------------------------------------
    def _fault(self, device: Device, detail: str, message: str) -> PrintFailed:
        log.warning("guide print: %s: %s (%s)", device.name, message, detail)
        if self.recorder is not None:
            try:
                self.recorder.fault(device.name, detail or "print_failed", message)
            except Exception:
                log.exception("guide print: the alarm for %s could not be recorded", device.name)
        return PrintFailed(device.name, detail, message)

    def _record(self, kind: str, device: Device, code: str, pages: int) -> None:
        if self.recorder is None:
            return
        try:
            self.recorder.printed(PrintRecord(service="guides", source="guide", pages=pages, printer=kind,
                                              item_code=code, job_state="completed" if kind == A4 else None))
            self.recorder.recovered(device.name)
        except Exception:
            # the paper is out already: a lost record is the technician's problem, not the citizen's
            log.exception("guide print: the print of %s could not be recorded", code)

    def _print_receipt(self, printer, receipt, item: Item) -> int:
        try:
            printer.print_receipt(receipt)
        except DeviceError as exc:
            raise self._fault(printer, exc.detail or exc.completion.value, exc.message) from None
        self._record(RECEIPT, printer, item.code, 1)
        return 1

    def _print_a4(self, printer, item: Item, printed_at: dt.datetime, report: Callable[[Progress], None]) -> int:
        if self.font_path is None or self.spool_dir is None:
            raise self._fault(printer, "not_configured", "A4 guides need a font and a spool folder")
        spool = Path(self.spool_dir)
        spool.mkdir(parents=True, exist_ok=True)
        pdf = spool / f"guide-{item.code}-{uuid.uuid4().hex[:8]}.pdf"
        try:
            pages = guide_print.a4_pdf_apart(item, pdf, font_path=self.font_path, hall=self.hall,
                                                printed_at=printed_at)
            report(Progress("preparing", 0, pages))
            status = printer.status()
            if not status.usable:
                raise self._fault(printer, status.detail or status.state.value,
                                  f"queue cannot print now ({status.state.value}: {status.detail})")
            try:
                job = A4Job.submit(printer, pdf, title=f"guide {item.code}", timeout_s=printer.timeouts.job,
                                   clock=printer.clock.monotonic)
            except DeviceError as exc:
                raise self._fault(printer, exc.detail or "submit_failed", exc.message) from None
            end = job.follow(printer.clock.sleep, printer.timeouts.poll_interval,
                             lambda info: report(Progress(info.state_name, min(info.pages or 0, pages), pages)))
            if isinstance(end, Stopped):
                raise self._fault(printer, end.cause, end.detail)
        finally:
            pdf.unlink(missing_ok=True)
        self._record(A4, printer, item.code, pages)
        return pages

    # -- the visit ends -------------------------------------------------------------------------------
    def reset(self, quiet: bool = False) -> None:
        """Forget the visit: query, lists, the open guide, the print outcome."""
        self.new_visit()   # back to HOME; late answers of the ended visit are dropped
        self._checking = False
        self.browser.reset()
        self.item = None
        self.printing = None
        self._came_from = View.HOME
        if not quiet:
            for aspect in ("rows", "query", "detail", "print", "view"):
                self.changed(aspect)


__all__ = ["A4", "RECEIPT", "GuideBrowser", "GuideFlow", "PrintOption", "PrintPhase", "PrintState", "Progress",
           "Row", "StorePrintRecorder", "View"]
