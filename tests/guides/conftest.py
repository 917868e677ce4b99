"""Guide flows without a display: a kiosk database with the demo catalog, the receipt printer on its
simulator, the A4 printer on a private CUPS (kiosk/tour/cupsd.py), a clock the tests move."""
from __future__ import annotations

from pathlib import Path

import pytest

from kiosk.core.catalog import GuideCatalog
from kiosk.core.search import GuideSearch
from kiosk.core.session import SteerableClock, VisitorSession
from kiosk.fonts import find_chinese_font
from kiosk.sim.registry import reset_simulators, simulator
from kiosk.store import Store
from kiosk.sync.outbox import Outbox

from kiosk.tour.cupsd import PrivateCupsd

ROOT = Path(__file__).resolve().parents[2]
DEMO_CATALOG = ROOT / "config" / "demo-catalog.json"

needs_cupsd = pytest.mark.skipif(PrivateCupsd.unavailable() is not None, reason=PrivateCupsd.unavailable() or "")


@pytest.fixture
def store(tmp_path):
    return Store(tmp_path / "var", "test-kiosk")


@pytest.fixture
def catalog(store):
    cat = GuideCatalog(store)
    cat.replace(DEMO_CATALOG.read_bytes())
    yield cat
    cat.close()


@pytest.fixture
def clock():
    return SteerableClock(follow_real_time=False)


@pytest.fixture
def session(clock):
    return VisitorSession(idle_timeout_s=90, warning_s=30, extensions=2, clock=clock)


@pytest.fixture
def receipt_sim():
    reset_simulators()
    sim = simulator("receipt")
    yield sim
    reset_simulators()


@pytest.fixture
def receipt_printer(receipt_sim):
    from kiosk.hardware.receipt import ReceiptPrinter

    printer = ReceiptPrinter("receipt_printer", "sim://receipt")
    yield printer
    printer.close()


@pytest.fixture(scope="session")
def cupsd():
    server = PrivateCupsd().start()
    server.add_queue("a4")
    server.add_queue("broken", uri="fail:/", policy="abort-job")
    yield server
    server.stop()


def a4_printer(cupsd, queue="a4"):
    from kiosk.hardware.cups import CupsPrinter

    return CupsPrinter("document_printer", queue, server=cupsd.socket, timeouts={"poll_interval": 0.1, "job": 60})


@pytest.fixture
def font_path():
    return find_chinese_font().path


def make_flow(store, catalog, clock, *, printers, worker=None, session=None, font_path=None, spool=None):
    from kiosk.core.background import Inline
    from kiosk.core.guides import GuideFlow, StorePrintRecorder

    problems = {}
    flow = GuideFlow(catalog=catalog, search=GuideSearch(catalog), printers=printers, clock=clock,
                     executor=worker or Inline(), recorder=StorePrintRecorder(store, Outbox), session=session,
                     font_path=font_path, spool_dir=spool, hall="示例政务服务中心",
                     on_device_problem=lambda dev, detail: problems.__setitem__(dev, detail))
    flow.problems = problems
    return flow
