"""Shared pieces of the payment tests: a kiosk store, the Concert simulator and the scanner simulator on a
virtual clock (the real drivers run), and the demo acquirer of the central platform run in process, on the
platform's database on each engine (SQLite, PostgreSQL: tests/conftest.py `platform_db`)."""
from __future__ import annotations

import pytest
from sqlalchemy import text

from kiosk import store
from kiosk.central.code_payments import AnswerLost, DemoAcquirer, DemoError
from kiosk.central.db import CentralDB
from kiosk.core.background import Inline
from kiosk.core.payment.flow import PaymentFlow
from kiosk.core.payment.gateway import CodeAnswer, CodePaymentGateway, GatewayError
from kiosk.core.payment.ledger import PaymentLedger
from kiosk.hardware.device import VirtualClock
from kiosk.hardware.payment import ConcertTerminal
from kiosk.hardware.scanner import SerialScanner
from kiosk.sim import registry as sim_registry
from kiosk.sync import outbox as outbox_module
from kiosk.sync.outbox import Outbox

KIOSK = "k-pay"


class InProcessAcquirer(CodePaymentGateway):
    """The central platform's demo acquirer without HTTP: its lost answers become GatewayError,
    as a timeout or a 503 would reach the kiosk."""

    def __init__(self, db: CentralDB, clock):
        self.db = db
        self.demo = DemoAcquirer(db, clock)
        self.calls: list[str] = []

    def _do(self, name, fn):
        self.calls.append(name)
        try:
            doc = fn()
        except AnswerLost as exc:
            raise GatewayError(f"{name}: answer lost ({exc})") from None
        except DemoError as exc:
            return CodeAnswer("not_found" if exc.status == 404 else "unknown", exc.code)
        return CodeAnswer(doc["status"], doc["detail"])

    def pay(self, reference, amount_fen, code, channel, service):
        return self._do("pay", lambda: self.demo.pay(KIOSK, reference, amount_fen, code, channel, service))

    def query(self, reference):
        return self._do("query", lambda: self.demo.query(KIOSK, reference))

    def reverse(self, reference):
        return self._do("reverse", lambda: self.demo.reverse(KIOSK, reference))

    def refund(self, reference, refund_reference, amount_fen):
        return self._do("refund", lambda: self.demo.refund(KIOSK, reference, refund_reference, amount_fen))

    def charged(self) -> int:
        with self.db.reading() as conn:
            return conn.execute(text("SELECT count(*) FROM demo_code_payments WHERE status = 'approved'")).scalar_one()


@pytest.fixture
def clock():
    return VirtualClock()


@pytest.fixture
def kiosk_store(tmp_path):
    return store.Store(tmp_path / "kiosk", KIOSK)


@pytest.fixture
def outbox(kiosk_store):
    conn = kiosk_store.connect()
    yield Outbox(conn)
    conn.close()


@pytest.fixture
def ledger(kiosk_store):
    ledger = PaymentLedger(kiosk_store, outbox_module)
    ledger.recovered.set()
    return ledger


@pytest.fixture
def sims(clock):
    sim_registry.reset_simulators()
    yield {"payment": sim_registry.simulator("payment", clock), "scanner": sim_registry.simulator("scanner", clock)}
    sim_registry.reset_simulators()


@pytest.fixture
def terminal(sims, clock):
    t = ConcertTerminal("payment", "sim://payment", clock=clock, result_timeout_s=120)
    yield t
    t.close()


@pytest.fixture
def scanner(sims, clock):
    s = SerialScanner("scanner", "sim://scanner", clock=clock)
    yield s
    s.close()


@pytest.fixture
def acquirer(platform_db, clock):
    db = CentralDB(platform_db)
    yield InProcessAcquirer(db, clock.monotonic)
    db.close()


@pytest.fixture
def flow(ledger, terminal, scanner, acquirer, clock):
    return PaymentFlow(ledger, executor=Inline(), terminal=terminal, scanner=scanner, gateway=acquirer,
                       clock=clock.monotonic, sleep=clock.sleep, code_scan_timeout_s=60, code_confirm_timeout_s=45,
                       code_poll_s=2)


def kinds(outbox: Outbox) -> list[str]:
    return [e.kind for e in outbox.items("pending", 1000)]


def of_kind(outbox: Outbox, kind: str) -> list[dict]:
    return [e.data for e in outbox.items("pending", 1000) if e.kind == kind]


def show_code_when_asked(scanner, sim, *codes: str) -> None:
    """The citizen holds up a code once the kiosk asks for it (the flow first drops codes scanned earlier)."""
    queue = list(codes)
    real = scanner.read_code

    def read_code(timeout, cancel=None):
        if queue:
            sim.scan(queue.pop(0), delay=2)
        return real(timeout, cancel=cancel)

    scanner.read_code = read_code
