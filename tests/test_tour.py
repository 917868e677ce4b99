"""`kiosk tour` as a technician or a reviewer runs it: every flow in the real window, in a private demo hall.

One tour run serves every test here (it drives all flows through the real UI
and takes minutes): every step passes with one small portrait PNG, each flow
that exists is walked including its failure paths, and the tour's
transactions reach the demo platform over the real sync path.
"""
from __future__ import annotations

import json
from pathlib import Path

import pytest
from PIL import Image

from tests.conftest import ROOT, run_kiosk

pytestmark = [pytest.mark.ui, pytest.mark.slow]
SHOTS = ROOT / "tests" / "artifacts" / "tour"


@pytest.fixture(scope="module")
def tour():
    for old in SHOTS.glob("*.png"):
        old.unlink()
    done = run_kiosk("tour", "--out", str(SHOTS), "--audit", "--json", timeout=1800)
    assert done.stdout, done.stderr[-3000:]
    return done, json.loads(done.stdout)


def test_every_tour_step_passes_with_one_small_portrait_png(tour):
    done, doc = tour
    failed = [f"{s['flow']}/{s['step']}: {s['problem']}" for s in doc["steps"] if not s["ok"]]
    broken = [f"{s['flow']}/{s['step']} [{v['mode']}] {v['rule']}: {v['widget']}: {v['measured']}"
              for s in doc["steps"] for v in s["audit"] or []]
    assert not failed and not broken and done.returncode == 0, failed or broken[:40] or done.stderr[-3000:]
    for step in doc["steps"]:
        png = Path(step["png"])
        assert png.stat().st_size < 300_000, png
        try:
            with Image.open(png) as image:
                assert image.width < image.height, png
                image.load()
        except (OSError, SyntaxError) as exc:
            head = png.read_bytes()[:16]
            pytest.fail(f"{png.name} ({png.stat().st_size} bytes, starting {head!r}) is not a whole PNG: {exc}")
    assert sorted(p.name for p in SHOTS.glob("*.png")) == sorted(Path(s["png"]).name for s in doc["steps"])


def test_every_screen_keeps_the_elder_friendly_rules_in_both_modes(tour):
    """kiosk/tour/audit.py over every step: text size and contrast, touch targets, their gaps and edges,
    nothing beyond a scroll on home; each screen as shown and in the other mode."""
    _done, doc = tour
    assert doc["audit"]["screens"] == len(doc["steps"])
    broken = [f"{s['flow']}/{s['step']} [{v['mode']}] {v['rule']}: {v['widget']}: {v['measured']}"
              for s in doc["steps"] for v in s["audit"] or []]
    assert broken == [], "\n".join(broken[:60])


@pytest.mark.parametrize("flow", ["home", "voice", "idle", "handin", "handin-staff-collect", "progress", "progress-offline",
                                  "guides", "guides-elder", "documents-card",
                                  "documents-printer-fault", "documents-declined", "documents-unknown-elder",
                                  "documents-offline", "technician"])
def test_the_tour_walks_each_flow_and_its_failure_paths(tour, flow):
    _done, doc = tour
    assert any(s["flow"] == flow for s in doc["steps"]), sorted({s["flow"] for s in doc["steps"]})


def test_the_tours_transactions_reach_the_demo_platform(tour):
    _done, doc = tour
    assert {"print", "payment", "refund", "rating", "handin"} <= set(doc.get("platform", {})), doc.get("platform_error")


def test_an_unknown_flow_name_is_refused(tmp_path):
    r = run_kiosk("tour", "--out", str(tmp_path), "--flow", "no-such-flow", "--live", timeout=300)
    assert r.returncode == 1 and "no flow named no-such-flow" in r.stderr
