"""Outbox drain: 20,000 pending transactions to a local central platform (a `kiosk central` subprocess).

Budget (DESIGN.md section 8): 20 s or less. Prints `drain_s <value> budget 20 pass|miss`, then the
naive drain (one request per transaction) of a smaller sample as a reference:
`naive_per_item_ms`, `batched_per_item_ms` and their ratio. Usage: bench/drain.py [N] [--naive M]
"""
from __future__ import annotations

import argparse
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import requests

from kiosk.store import Store, transaction
from kiosk.sync.client import CentralClient
from kiosk.sync.outbox import Outbox, enqueue
from kiosk.sync.relay import Relay

BUDGET_S = 20.0
KIOSK_ID = "bench-hall-k01"
SECRET = "bench-secret-0123456789abcdef0123"
KIOSK = Path(sys.executable).parent / "kiosk"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_central(work: Path) -> tuple[subprocess.Popen, str]:
    db = work / "central.db"
    subprocess.run([str(KIOSK), "central", "add-kiosk", KIOSK_ID, "--secret", SECRET, "--db", str(db)],
                   check=True, capture_output=True)
    port = free_port()
    proc = subprocess.Popen([str(KIOSK), "central", "--host", "127.0.0.1", "--port", str(port), "--db", str(db)],
                            stdout=subprocess.DEVNULL, stderr=(work / "central.log").open("wb"))
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            requests.get(url + "/api/v1/health", timeout=0.5)
            return proc, url
        except requests.RequestException:
            if proc.poll() is not None:
                raise SystemExit(f"kiosk central exited: {(work / 'central.log').read_text()[-1000:]}")
            time.sleep(0.05)
    raise SystemExit("kiosk central did not start within 30 s")


def fill(outbox: Outbox, n: int) -> None:
    data = {"door": 7, "item_code": "11330100MB0001", "holder_hash": "ab" * 32, "amount_fen": 2500}
    conn = outbox.conn
    # filling is not what is measured: many per commit
    for start in range(0, n, 1000):
        with transaction(conn):
            for _ in range(min(1000, n - start)):
                enqueue(conn, "pickup", data)


def timed_drain(work: Path, name: str, url: str, n: int, batch_size: int) -> float:
    store = Store(work / name, KIOSK_ID)
    conn = store.connect()
    outbox = Outbox(conn)
    fill(outbox, n)
    client = CentralClient(url, KIOSK_ID, SECRET, timeout_s=60)
    relay = Relay(outbox, client, batch_size=batch_size)
    t0 = time.perf_counter()
    result = relay.drain()
    elapsed = time.perf_counter() - t0
    left = outbox.pending_count()
    client.close()
    conn.close()
    if result.error or left or result.acked != n:
        raise SystemExit(f"drain of {name} failed: {result.error or f'{left} left, {result.acked} acked'}")
    return elapsed


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("n", nargs="?", type=int, default=20_000)
    ap.add_argument("--naive", type=int, default=1000, metavar="M", help="sample for the naive drain (default 1000)")
    args = ap.parse_args()
    Path("var").mkdir(exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix="bench-drain-", dir="var"))
    proc, url = start_central(work)
    try:
        batched = timed_drain(work, "batched", url, args.n, 500)
        naive = timed_drain(work, "naive", url, args.naive, 1)
    finally:
        os.kill(proc.pid, signal.SIGTERM)
        try:
            proc.wait(15)
        except subprocess.TimeoutExpired:
            os.kill(proc.pid, signal.SIGKILL)
        shutil.rmtree(work, ignore_errors=True)
    print(f"drain_s {batched:.2f} budget {BUDGET_S:g} {'pass' if batched <= BUDGET_S else 'miss'}")
    b_ms, n_ms = batched * 1000 / args.n, naive * 1000 / args.naive
    print(f"batched_per_item_ms {b_ms:.3f} ({args.n} items, batches of 500)")
    print(f"naive_per_item_ms {n_ms:.3f} ({args.naive} items, one request each)")
    print(f"naive_to_batched_ratio {n_ms / b_ms:.1f} (naive drain of {args.n} would take ~{n_ms * args.n / 1000:.0f} s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
