"""`kill -9` at every step of an apply: the kiosk always comes back on one whole config.

A subprocess applies version 2 over version 1 and SIGKILLs itself at the named
step (config_apply.APPLY_STEPS, and ROLLBACK_STEPS when its health check
fails), through the applier's `step_reached` hook. Before recovery the config on disk must load
as version 1 or version 2, nothing in between; after `kiosk config status`
(which recovers) it must be exactly the config the step implies, the status
must agree with what loads, and the kiosk must take a bundle again.
"""
from __future__ import annotations

import json
import signal
import subprocess
import sys
import time

import pytest

from kiosk import config
from kiosk.sync.config_apply import APPLY_STEPS, ROLLBACK_STEPS
from tests.conftest import ROOT, run_kiosk
from tests.config_bundle.bundlekit import DAY, signed

APPLY = """
import os, signal, sys
from pathlib import Path
from kiosk import config
from kiosk.sync.config_apply import ConfigApplier
checks = [lambda s: "health check made to fail"] if sys.argv[3] == "fail" else []

def kill_at(step):
    if step == sys.argv[4]:
        os.kill(os.getpid(), signal.SIGKILL)

out = ConfigApplier(config.load(sys.argv[1]), health_checks=checks, step_reached=kill_at).apply_file(Path(sys.argv[2]))
print(out.result)
"""

# the step -> the hall the kiosk must be on once it has recovered
SUCCESS_ENDS = {step: "Hall v1" for step in APPLY_STEPS} | {"state_recorded": "Hall v2", "journal_removed": "Hall v2"}


def bundle_file(kiosk, tmp_path, version):
    now = time.time()
    path = tmp_path / f"v{version}.json"
    path.write_bytes(signed(kiosk.key, version, issued=now, expires=now + 30 * DAY))
    return path


def crash_at(kiosk, path, step, health="pass"):
    return subprocess.run([sys.executable, "-c", APPLY, str(kiosk.config), str(path), health, step], cwd=ROOT,
                          capture_output=True, text=True, timeout=60)


def check_whole(kiosk):
    """The config on disk is exactly one of the two, and its overlay file parses whole."""
    s = config.load(kiosk.config)
    assert s.kiosk.hall in ("Hall v1", "Hall v2")
    applied = s.data_path / "config" / "applied.json"
    doc = json.loads(applied.read_text())
    assert doc["settings"]["kiosk"]["hall"] == s.kiosk.hall


def recovered_status(kiosk):
    r = run_kiosk("config", "status", "--json", config=kiosk.config)
    assert r.returncode == 0, r.stderr
    return json.loads(r.stdout)


def leftovers(kiosk):
    root = config.load(kiosk.config).data_path / "config"
    return sorted(p.name for p in root.rglob("*") if p.name.endswith(".tmp") or p.name == "journal.json")


@pytest.fixture
def on_v1(kiosk, tmp_path):
    kiosk.clock.t = time.time()
    assert kiosk.applier().apply_file(bundle_file(kiosk, tmp_path, 1)).result == "applied"
    return kiosk


@pytest.mark.slow
@pytest.mark.parametrize("step", APPLY_STEPS)
def test_kill_9_at_each_step_of_an_apply_leaves_one_whole_config(on_v1, tmp_path, step):
    kiosk = on_v1
    v2 = bundle_file(kiosk, tmp_path, 2)
    r = crash_at(kiosk, v2, step)
    assert r.returncode == -signal.SIGKILL, (r.stdout, r.stderr)
    check_whole(kiosk)
    st = recovered_status(kiosk)
    assert kiosk.hall() == SUCCESS_ENDS[step]
    assert st["version"] == int(SUCCESS_ENDS[step][-1])
    assert leftovers(kiosk) == []
    if st["version"] == 1 and step not in ("verified", "history_written"):
        assert st["state"] == "rolled_back" and st["last_rejection"]["code"] == "interrupted"
    # the kiosk is not stuck: the bundle (or the next one) applies
    nxt = bundle_file(kiosk, tmp_path, 3)
    assert kiosk.applier().apply_file(v2 if st["version"] == 1 else nxt).result == "applied"


@pytest.mark.slow
@pytest.mark.parametrize("step", ROLLBACK_STEPS)
def test_kill_9_during_a_rollback_still_ends_on_the_previous_config(on_v1, tmp_path, step):
    kiosk = on_v1
    r = crash_at(kiosk, bundle_file(kiosk, tmp_path, 2), step, health="fail")
    assert r.returncode == -signal.SIGKILL, (r.stdout, r.stderr)
    check_whole(kiosk)
    st = recovered_status(kiosk)
    assert kiosk.hall() == "Hall v1" and st["version"] == 1 and st["state"] == "rolled_back"
    expected = "health_check_failed" if step == "rollback_recorded" else "interrupted"
    assert st["last_rejection"]["code"] == expected
    assert leftovers(kiosk) == []
    assert kiosk.applier().apply_file(bundle_file(kiosk, tmp_path, 3)).result == "applied"


def test_without_a_crash_the_subprocess_applies(on_v1, tmp_path):
    r = crash_at(on_v1, bundle_file(on_v1, tmp_path, 2), "no-such-step")
    assert r.returncode == 0 and r.stdout.strip() == "applied", r.stderr
    assert on_v1.hall() == "Hall v2"
