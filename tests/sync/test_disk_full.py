"""Issue 24 item 11: a full disk, on a real small filesystem (a 4 MB tmpfs), not a mocked sqlite.

The agent cannot claim rows when the disk is full: one clear line and the
alarm `outbox:disk_full`, then quiet retries; when writes work again the alarm
is written (raised and cleared) and a line says so. `kiosk sync probe --count N`
that fails part way prints the ids it committed and says how many.
"""
from __future__ import annotations

import errno
import json
import logging
import os
import re
import subprocess
import uuid
from pathlib import Path

import pytest

from kiosk import store
from kiosk.alarms import Alarms
from kiosk.sync.agent import Agent
from kiosk.sync.outbox import Outbox
from kiosk.sync.relay import Relay
from kiosk.sync.state import SyncState
from tests.conftest import run_kiosk, write_config


@pytest.fixture
def small_disk(tmp_path):
    """A 4 MB tmpfs of its own (needs root), unmounted after."""
    mnt = tmp_path / "disk"
    mnt.mkdir()
    if os.geteuid() != 0:
        pytest.skip("mounting a small tmpfs needs root")
    r = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=4m", "tmpfs", str(mnt)], capture_output=True, text=True)
    if r.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {r.stderr.strip()}")
    try:
        yield mnt
    finally:
        subprocess.run(["umount", "-l", str(mnt)], check=False)


def fill(disk: Path, leave: int = 0) -> Path:
    """Fill the filesystem up to `leave` bytes free; the filler file, to delete for space again."""
    filler = disk / f"filler-{uuid.uuid4().hex[:6]}"
    with open(filler, "wb") as f:
        chunk = b"\0" * 4096
        while os.statvfs(disk).f_bavail * os.statvfs(disk).f_frsize > leave + 4096:
            try:
                f.write(chunk)
                f.flush()
            except OSError as exc:
                assert exc.errno == errno.ENOSPC
                break
    return filler


class NoNetwork:
    """The platform is never reached in these tests: claiming fails first."""

    def post_transactions(self, items):  # pragma: no cover - reached only once the disk has space
        from kiosk.wire.transactions import BatchResult, ItemResult
        return BatchResult(results=[ItemResult(id=i["id"], status="accepted") for i in items])


def test_a_full_disk_gives_one_clear_line_an_alarm_and_quiet_retries(small_disk, caplog):
    conn = store.connect(small_disk / "kiosk.db")
    store.migrate(conn)
    outbox = Outbox(conn)
    for i in range(20):
        outbox.record("probe", {"n": i})
    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    alarms = Alarms(conn, outbox)
    relay = Relay(outbox, NoNetwork(), idle_wait_s=0.5)
    agent = Agent(relay, outbox, SyncState(conn), alarms=alarms, data_dir=small_disk)
    filler = fill(small_disk)

    caplog.set_level(logging.DEBUG, logger="kiosk")
    intervals = 25
    for _ in range(intervals):
        agent.tick()
    loud = [r for r in caplog.records if r.levelno >= logging.WARNING]
    assert len(loud) == 1, [r.getMessage() for r in loud]
    assert not any(r.exc_info for r in caplog.records)
    line = loud[0].getMessage()
    assert "disk is full" in line and str(small_disk) in line and "outbox:disk_full" in line
    assert outbox.summary().counts["pending"] == 20  # nothing lost
    # the heartbeat carries the alarm even while the database cannot take its row
    written = [a.key for a in alarms.active()]
    assert "outbox:disk_full" in written or [a["code"] for a in agent.unwritten_alarms()] == ["disk_full"]

    caplog.clear()
    filler.unlink()
    agent.tick()
    assert any("writes work again" in r.getMessage() for r in caplog.records)
    events = [json.loads(b) for (b,) in conn.execute("SELECT body FROM outbox WHERE kind='alarm'")]
    assert [(e["code"], e["state"]) for e in events] == [("disk_full", "raised"), ("disk_full", "cleared")]
    agent.tick()
    assert outbox.summary().counts["pending"] == 0
    conn.close()


def test_probe_that_fails_part_way_prints_the_ids_it_committed(small_disk, tmp_path):
    cfg = write_config(tmp_path / "k")
    cfg.write_text(re.sub(r'(?m)^data_dir = .*$', f'data_dir = "{small_disk}"', cfg.read_text()))
    assert run_kiosk("queue", "--json", config=cfg).returncode == 0  # the store exists, migrated
    fill(small_disk, leave=48 * 1024)
    r = run_kiosk("sync", "probe", "--count", "500", config=cfg)
    assert r.returncode == 1, (r.stdout, r.stderr)
    printed = re.findall(r"^[0-9a-f-]{36}$", r.stdout, flags=re.M)
    m = re.search(r"(\d+) of 500 probe transaction\(s\) committed", r.stderr)
    assert m, r.stderr
    assert "disk is full" in r.stderr and "Traceback" not in r.stderr
    assert int(m.group(1)) == len(printed) and 0 < len(printed) < 500
    # each printed id is really committed, and nothing else is
    for f in small_disk.glob("filler-*"):
        f.unlink()
    conn = store.connect(small_disk / "kiosk.db")
    try:
        stored = [i for (i,) in conn.execute("SELECT id FROM outbox WHERE kind='probe' ORDER BY seq")]
    finally:
        conn.close()
    assert stored == printed
