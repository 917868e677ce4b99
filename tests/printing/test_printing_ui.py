"""Through the real window: `kiosk tour` drives the documents, payment and rating screens against a real
central platform and a private cupsd (the simulators play the card, the terminal and the scanner), in a
subprocess of its own because Kivy allows one window per process. Every step of these flows must pass
and leave a PNG; the platform must end up with the print, payment, refund and rating transactions."""
from __future__ import annotations

import json

import pytest

from tests.conftest import ROOT, run_kiosk
from tests.cupsd import PrivateCupsd
from tests.printing.env import Hall

pytestmark = [pytest.mark.ui, pytest.mark.skipif(PrivateCupsd.unavailable() is not None,
                                                 reason=PrivateCupsd.unavailable() or "")]
ARTIFACTS = ROOT / "tests" / "artifacts" / "printing-tour"
FLOWS = ("documents-card", "documents-form-elder", "documents-code", "documents-declined",
         "documents-unknown-elder", "documents-offline", "documents-printer-fault")


@pytest.fixture(scope="module")
def tour(tmp_path_factory):
    hall = Hall(tmp_path_factory.mktemp("ui-hall")).start()
    try:
        done = run_kiosk("tour", "--out", str(ARTIFACTS), "--json", config=hall.config, timeout=900)
        doc = json.loads(done.stdout)
        run_kiosk("sync", "--once", "--json", config=hall.config)
        yield doc, hall.kinds()
    finally:
        hall.stop()


def test_every_step_of_the_printing_flows_passes_in_the_real_window(tour):
    doc, _kinds = tour
    mine = [s for s in doc["steps"] if s["flow"] in FLOWS]
    assert {s["flow"] for s in mine} == set(FLOWS)
    failed = [f"{s['flow']}/{s['step']}: {s['problem']}" for s in mine if not s["ok"]]
    assert not failed, failed
    for s in mine:
        assert s["png"] and (ARTIFACTS / s["png"].split("/")[-1]).stat().st_size < 300_000


def test_the_tour_leaves_its_transactions_at_the_platform(tour):
    _doc, kinds = tour
    assert {"print", "payment", "refund", "rating"} <= set(kinds)
