"""Shared pieces of the printing tests: the flow on the ID card simulator and the Concert simulator (real
drivers, virtual time), a scripted A4 queue for the state-machine tests, and a platform stand-in whose
documents are real PDFs. The end-to-end tests use the real platform and a real CUPS instead."""
from __future__ import annotations

import datetime as dt

import pytest

from kiosk import config, store
from kiosk.central import demo
from kiosk.core.background import Held
from kiosk.core.printing.documents import DocumentPrintFlow
from kiosk.core.payment.flow import PaymentFlow
from kiosk.core.payment.ledger import PaymentLedger
from kiosk.hardware.cups import JobInfo
from kiosk.hardware.device import State, Status, VirtualClock
from kiosk.hardware.idcard import SamReader
from kiosk.hardware.payment import ConcertTerminal
from kiosk.sim import registry as sim_registry
from kiosk.sync import outbox as outbox_module
from kiosk.sync.client import CentralOffline
from kiosk.sync.outbox import Outbox

SAMPLE_FORMS = "kiosk.sim.forms:write_demo_form"   # the demo config's sample-forms plug-in
HASH_KEY = "test-hash-key-0123456789"
TODAY = dt.date(2026, 5, 18)


class ScriptedQueue:
    """An A4 queue whose jobs go through `script`: a list of (job-state, pages done, printer status)."""

    def __init__(self):
        self.script = [(3, 0, Status(State.ONLINE)), (5, 1, Status(State.BUSY)), (9, None, Status(State.ONLINE))]
        self.before = Status(State.ONLINE)     # what status() says before a job
        self.submitted: list[tuple[str, str]] = []
        self.canceled: list[int] = []
        self._step = 0

    def status(self):
        if not self.submitted:
            return self.before
        return self.script[min(self._step, len(self.script) - 1)][2]

    def submit(self, pdf, title="kiosk", copies=1):
        self.submitted.append((str(pdf), title))
        self._step = 0
        return 41

    def job(self, job_id):
        state, pages, _ = self.script[min(self._step, len(self.script) - 1)]
        self._step += 1
        return JobInfo(job_id, state, ("job-printing",) if state == 5 else (), pages)

    def cancel_job(self, job_id):
        self.canceled.append(job_id)


class PlatformStandIn:
    """Documents released to the demo holders, as PDFs rendered by the platform's own demo code."""

    def __init__(self):
        self.offline = False
        self.asked: list[tuple[str, float]] = []

    def documents_for_holder(self, holder, timeout=None):
        self.asked.append((holder, timeout))
        if self.offline:
            raise CentralOffline("GET /api/v1/kiosks/k/documents: cannot reach http://127.0.0.1:1: connection refused")
        out = []
        for d in demo.DEMO_DOCUMENTS:
            if any(demo.holder_hash(HASH_KEY, demo.DEMO_HOLDERS[i].id_number) == holder for i in d.holders):
                out.append({"id": d.doc_id, "title": d.title, "pages": d.pages, "released_at": "2026-05-01T00:00:00Z"})
        return out

    def get_document(self, doc_id, holder_hash=None, timeout=None):
        if self.offline:
            raise CentralOffline("cannot reach the platform")
        d = next(d for d in demo.DEMO_DOCUMENTS if d.doc_id == doc_id)
        return demo.render_pdf(d, [demo.DEMO_HOLDERS[i].id_number for i in d.holders])


@pytest.fixture
def clock():
    return VirtualClock()


@pytest.fixture
def kiosk_store(tmp_path):
    return store.Store(tmp_path / "kiosk", "k-print")


@pytest.fixture
def outbox(kiosk_store):
    conn = kiosk_store.connect()
    yield Outbox(conn)
    conn.close()


@pytest.fixture
def sims(clock):
    sim_registry.reset_simulators()
    yield {"payment": sim_registry.simulator("payment", clock), "idcard": sim_registry.simulator("idcard", clock)}
    sim_registry.reset_simulators()


@pytest.fixture
def parts(sims, clock, kiosk_store, tmp_path):
    terminal = ConcertTerminal("payment", "sim://payment", clock=clock)
    reader = SamReader("idcard", "sim://idcard", clock=clock)
    ledger = PaymentLedger(kiosk_store, outbox_module)
    ledger.recovered.set()
    held = Held()
    payment = PaymentFlow(ledger, executor=held, terminal=terminal, clock=clock.monotonic, sleep=clock.sleep)
    fees = config.FeesSection(documents=config.FeeRule(per_page_fen=50), blank_forms=config.FeeRule())
    queue, platform = ScriptedQueue(), PlatformStandIn()
    flow = DocumentPrintFlow(printer=queue, executor=held, payment=payment, store=kiosk_store,
                             outbox=outbox_module, fees=fees, hash_key=HASH_KEY, central=platform, reader=reader,
                             spool_dir=tmp_path / "spool", clock=clock, today=lambda: TODAY, poll_s=1.0,
                             print_timeout_s=60, lookup_timeout_s=3)
    yield {"flow": flow, "held": held, "queue": queue, "platform": platform, "payment": payment,
           "ledger": ledger, "terminal": terminal, "reader": reader}
    terminal.close()
    reader.close()


def of_kind(outbox: Outbox, kind: str) -> list[dict]:
    return [e.data for e in outbox.items("pending", 1000) if e.kind == kind]
