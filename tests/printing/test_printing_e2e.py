"""End to end: the sim's demo card finds its documents at the REAL central platform (keyed hash over signed
HTTP), the PDF is previewed and printed through a REAL cupsd (cups-pdf), paid on the Concert simulator,
and the print, payment and rating transactions reach the platform through the real relay."""
from __future__ import annotations

import pytest

from kiosk import config, store
from kiosk.core.background import Held
from kiosk.core.printing.documents import DocState, DocumentPrintFlow, FormLibrary
from kiosk.core.guides.catalog import GuideCatalog
from kiosk.core.payment.flow import PaymentFlow, PayState
from kiosk.core.payment.ledger import PaymentLedger
from kiosk.core.rating import RatingFlow
from kiosk.hardware.cups import CupsPrinter
from kiosk.hardware.idcard import SamReader
from kiosk.hardware.payment import ConcertTerminal
from kiosk.hardware.scanner import SerialScanner
from kiosk.sim import registry as sim_registry
from kiosk.sync import outbox as outbox_module
from kiosk.sync.client import CentralClient
from kiosk.sim.acquirer import CentralDemoAcquirer
from kiosk.tour.cupsd import PrivateCupsd
from tests.printing.conftest import SAMPLE_FORMS
from tests.printing.env import QUEUE, Hall
from tests.sync.centralproc import run_kiosk

needs_cupsd = pytest.mark.skipif(PrivateCupsd.unavailable() is not None, reason=PrivateCupsd.unavailable() or "")


@pytest.fixture(scope="module")
def hall(tmp_path_factory):
    h = Hall(tmp_path_factory.mktemp("hall")).start(cups=PrivateCupsd.unavailable() is None)
    yield h
    h.stop()


@pytest.fixture
def kiosk(hall, tmp_path):
    settings = config.load(hall.config)
    sim_registry.reset_simulators()
    kstore = store.Store.from_settings(settings)
    central = CentralClient.from_settings(settings)
    terminal = ConcertTerminal("payment", "sim://payment")
    scanner = SerialScanner("scanner", "sim://scanner")
    reader = SamReader("idcard", "sim://idcard")
    printer = CupsPrinter("document_printer", QUEUE, server=hall.cupsd.socket if hall.cupsd else None,
                          timeouts={"poll_interval": 0.2})
    ledger = PaymentLedger(kstore, outbox_module)
    ledger.recovered.set()
    held = Held()
    payment = PaymentFlow(ledger, executor=held, terminal=terminal, scanner=scanner,
                          gateway=CentralDemoAcquirer(central), code_poll_s=0.2)
    flow = DocumentPrintFlow(printer=printer, executor=held, payment=payment, store=kstore, outbox=outbox_module,
                             fees=settings.fees, hash_key=settings.privacy.hash_key, central=central, reader=reader,
                             forms=FormLibrary(GuideCatalog(kstore), tmp_path / "forms", sample_forms=SAMPLE_FORMS),
                             spool_dir=tmp_path / "spool", poll_s=0.2, print_timeout_s=60)
    yield {"settings": settings, "flow": flow, "held": held, "payment": payment, "printer": printer,
           "central": central, "store": kstore, "config": hall.config}
    for dev in (terminal, scanner, reader):
        dev.close()
    sim_registry.reset_simulators()


def test_the_simulators_demo_card_finds_its_documents_at_the_platform(kiosk):
    flow, held = kiosk["flow"], kiosk["held"]
    flow.released()
    held.release()
    assert flow.state is DocState.LIST
    assert {d.key for d in flow.documents} == {"DEMO-2026-0006", "DEMO-2026-0007"}


def test_the_platform_offline_is_said_plainly_within_the_lookup_timeout(kiosk, hall):
    flow, held = kiosk["flow"], kiosk["held"]
    hall.central.stop()
    try:
        flow.released()
        held.release()
        assert (flow.state, flow.problem) == (DocState.OFFLINE, "central_offline")
    finally:
        hall.central.start()


@needs_cupsd
def test_a_released_document_is_paid_printed_through_cups_and_reaches_the_platform(kiosk, hall):
    flow, held, payment = kiosk["flow"], kiosk["held"], kiosk["payment"]
    flow.released()
    held.release()
    flow.choose(next(d for d in flow.documents if d.key == "DEMO-2026-0007"))
    held.release()
    assert flow.state is DocState.PREVIEW and flow.pages == 2 and flow.price_fen == 100
    flow.confirm()
    held.release()
    payment.pay_by_card()
    held.release()
    assert flow.state is DocState.DONE, flow.problem
    assert any(p.suffix == ".pdf" for p in hall.cupsd.out_dir.iterdir())
    rating = RatingFlow(kiosk["store"], outbox_module, ["It took too long"])
    rating.start("documents", flow.print_transaction_id)
    rating.choose(4)
    rating.submit()
    sync = run_kiosk("--config", str(kiosk["config"]), "sync", "--once", "--json")
    assert sync.returncode == 0, sync.stdout + sync.stderr
    kinds = hall.kinds()
    assert {"payment", "print", "rating"} <= set(kinds)


def test_a_payment_code_is_paid_at_the_platforms_demo_acquirer_after_the_payer_confirms(kiosk):
    from tests.payment.conftest import show_code_when_asked
    from kiosk.sim.registry import simulator

    payment, held = kiosk["payment"], kiosk["held"]
    show_code_when_asked(payment.scanner, simulator("scanner"), "134567890123456782")
    assert payment.start("documents", 100)
    payment.pay_by_code()
    held.release()
    assert payment.state is PayState.APPROVED and payment.channel == "wechat_pay"


def test_a_lost_answer_at_the_demo_acquirer_is_queried_not_paid_twice(kiosk):
    from tests.payment.conftest import show_code_when_asked
    from kiosk.sim.registry import simulator

    payment, held = kiosk["payment"], kiosk["held"]
    show_code_when_asked(payment.scanner, simulator("scanner"), "281234567890123453")
    payment.start("documents", 100)
    payment.pay_by_code()
    held.release()
    assert payment.state is PayState.APPROVED
    answer = payment.gateway.pay(payment.reference, 100, "281234567890123453", "alipay", "documents")
    assert answer.status == "approved"     # the same reference again: the same payment, charged once
