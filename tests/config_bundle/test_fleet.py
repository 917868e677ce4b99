"""Fleet distribution through the REAL central platform (`kiosk central` in a subprocess), and `kiosk agent`.

An operator signs on one "machine" (a folder), pushes to the platform with
operator authentication, and the kiosk applies the bundle through the same
verification as a file: once by calling the pull directly, and once through
`kiosk agent`, which also serves the management API.
"""
from __future__ import annotations

import json
import os
import re
import signal
import socket
import subprocess
import time

import pytest
import requests

from kiosk import config
from kiosk.store import Store
from kiosk.wire import bundle
from kiosk.sync.client import CentralClient
from kiosk.sync.config_apply import ConfigApplier, current_version
from kiosk.sync.config_pull import ETAG_KEY, ConfigPull
from kiosk.sync.state import SyncState
from kiosk.wire import auth
from tests.config_bundle.bundlekit import DAY, signed
from tests.conftest import KIOSK, ROOT, run_kiosk
from tests.sync.centralproc import KIOSK_ID, Central, kiosk_config

pytestmark = pytest.mark.slow

OPERATOR, OPERATOR_SECRET = "ops-1", "operator-secret-0123456789abcdef"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def central(tmp_path):
    c = Central(tmp_path / "central")
    r = run_kiosk("central", "add-operator", OPERATOR, "--secret", OPERATOR_SECRET, "--db", str(c.db), "--json")
    assert r.returncode == 0, r.stderr
    c.start()
    yield c
    c.stop()


@pytest.fixture
def fleet_kiosk(tmp_path, central):
    """A kiosk of the platform, trusting the operator key in its keys/ folder; management on a free port."""
    cfg = kiosk_config(tmp_path / "kiosk", central.url, config_interval_s=0.2)
    port = free_port()
    cfg.write_text(re.sub(r'(?m)^listen = .*$', f'listen = "127.0.0.1:{port}"', cfg.read_text()))
    bundle.write_keypair(tmp_path / "kiosk" / "keys")
    return cfg, port


def operator_key(cfg):
    return bundle.load_private_key(cfg.parent / "keys" / "operator.key")


def signed_file(cfg, tmp_path, version, key=None, **kw):
    now = time.time()
    path = tmp_path / f"bundle-v{version}.json"
    path.write_bytes(signed(key or operator_key(cfg), version, {"kiosk": {"hall": f"Fleet hall v{version}"}},
                            targets=[KIOSK_ID], issued=now, expires=now + 30 * DAY, **kw))
    return path


def push_fleet(central, path):
    return run_kiosk("config", "push", str(path), "--to", central.url, "--operator", OPERATOR,
                     "--operator-secret", OPERATOR_SECRET, "--json")


def wait_until(predicate, timeout):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.05)
    return False


def test_a_bundle_pushed_to_the_platform_is_pulled_and_applied_once(central, fleet_kiosk, tmp_path):
    fleet_kiosk, _ = fleet_kiosk
    r = push_fleet(central, signed_file(fleet_kiosk, tmp_path, 1))
    assert r.returncode == 0, r.stdout + r.stderr
    assert json.loads(r.stdout)["kind"] == "fleet"

    settings = config.load(fleet_kiosk)
    conn = Store.from_settings(settings).connect()
    state = SyncState(conn)
    pull = ConfigPull(CentralClient.from_settings(settings), state, ConfigApplier(settings))
    out = pull.pull()
    assert out is not None and out.result == "applied" and out.version == 1
    assert config.load(fleet_kiosk).kiosk.hall == "Fleet hall v1"
    assert state.get(ETAG_KEY)
    assert pull.pull() is None  # 304 Not Modified: nothing fetched again

    # the platform refuses a version not above the newest it holds
    again = push_fleet(central, signed_file(fleet_kiosk, tmp_path, 1))
    assert again.returncode == 1 and "409" in again.stdout

    # the platform cannot tell a forged bundle; the kiosk can
    bundle.write_keypair(tmp_path / "rogue")
    rogue = bundle.load_private_key(tmp_path / "rogue" / "operator.key")
    assert push_fleet(central, signed_file(fleet_kiosk, tmp_path, 2, key=rogue)).returncode == 0
    out = pull.pull()
    assert (out.result, out.code) == ("rejected", "unknown_key")
    assert current_version(config.load(fleet_kiosk)) == 1
    assert pull.pull() is None  # the refused bundle is not fetched and refused again every poll


def test_without_a_bundle_for_this_kiosk_the_pull_changes_nothing(central, fleet_kiosk):
    fleet_kiosk, _ = fleet_kiosk
    settings = config.load(fleet_kiosk)
    conn = Store.from_settings(settings).connect()
    pull = ConfigPull(CentralClient.from_settings(settings), SyncState(conn), ConfigApplier(settings))
    assert pull.pull() is None
    assert current_version(settings) is None


def test_the_agent_applies_fleet_and_management_pushes_and_reports_its_version(central, fleet_kiosk, tmp_path):
    fleet_kiosk, management_port = fleet_kiosk
    env = dict(os.environ, KIVY_NO_ARGS="1")
    log = (tmp_path / "agent.log").open("ab")
    agent = subprocess.Popen([str(KIOSK), "--config", str(fleet_kiosk), "agent"], cwd=ROOT, env=env,
                             stdout=subprocess.DEVNULL, stderr=log)
    settings = config.load(fleet_kiosk)
    try:
        assert push_fleet(central, signed_file(fleet_kiosk, tmp_path, 1)).returncode == 0
        assert wait_until(lambda: current_version(settings) == 1, 30), (tmp_path / "agent.log").read_text()[-3000:]

        # the agent serves the management API: a direct push, same verification
        assert wait_until(lambda: _listening(management_port), 15)
        r = run_kiosk("config", "push", str(signed_file(fleet_kiosk, tmp_path, 2)),
                      "--to", f"http://127.0.0.1:{management_port}", "--json")
        assert r.returncode == 0 and json.loads(r.stdout)["answer"]["result"] == "applied", r.stdout + r.stderr
        assert config.load(fleet_kiosk).kiosk.hall == "Fleet hall v2"

        # a fleet bundle signed by a stranger is refused, and the refusal reaches the platform as an alarm
        bundle.write_keypair(tmp_path / "rogue")
        rogue = bundle.load_private_key(tmp_path / "rogue" / "operator.key")
        assert push_fleet(central, signed_file(fleet_kiosk, tmp_path, 3, key=rogue)).returncode == 0
        assert wait_until(lambda: (ConfigApplier(settings, report=lambda o: None).status()["last_rejection"]
                                   or {}).get("code") == "unknown_key", 30)
        assert current_version(settings) == 2
        assert wait_until(lambda: any(t["kind"] == "alarm" and t["data"]["device"] == "config"
                                      and "unknown_key" in t["data"]["detail"] for t in platform_holds(central)), 30)

        # the heartbeat carries the applied version
        def beat_version():
            path = f"/api/v1/kiosks/{KIOSK_ID}/heartbeat"
            resp = requests.get(central.url + path, timeout=5,
                                headers=auth.sign(OPERATOR_SECRET, "GET", path, OPERATOR, operator=True))
            return resp.status_code == 200 and resp.json()["latest"]["heartbeat"]["config_version"] == 2
        assert wait_until(beat_version, 30)
    finally:
        os.kill(agent.pid, signal.SIGTERM)
        try:
            agent.wait(15)
        except subprocess.TimeoutExpired:
            os.kill(agent.pid, signal.SIGKILL)
            agent.wait(10)


def platform_holds(central) -> list[dict]:
    path = f"/api/v1/kiosks/{KIOSK_ID}/transactions"
    resp = requests.get(central.url + path, timeout=5,
                        headers=auth.sign(OPERATOR_SECRET, "GET", path, OPERATOR, operator=True))
    assert resp.status_code == 200, resp.text
    rows = resp.json()["transactions"]
    for r in rows:
        r["data"] = json.loads(r["data"]) if isinstance(r["data"], str) else r["data"]
    return rows


def _listening(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.5):
            return True
    except OSError:
        return False
