"""Durable enqueue: outbox records per second, one commit each (WAL, synchronous=FULL).

Budget (DESIGN.md section 8): at least 500 per second on the 2-core dev machine.
Prints `enqueue_per_s <value> budget 500 pass|miss`: the median of five rounds of N/5 records, so
one burst of disk work by another process does not decide the figure (each round goes to stderr).
Usage: bench/enqueue.py [N] [--dir DIR] (the data dir defaults to a temporary one under ./var, on
the same disk a kiosk would use).
"""
from __future__ import annotations

import argparse
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

from kiosk import store
from kiosk.sync.outbox import Outbox

BUDGET = 500
ROUNDS = 5


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("n", nargs="?", type=int, default=3000, help="transactions to record (default 3000)")
    ap.add_argument("--dir", help="data dir for the database (default: a temporary dir under ./var)")
    args = ap.parse_args()
    base = Path(args.dir) if args.dir else Path("var")
    base.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix="bench-enqueue-", dir=base))
    try:
        conn = store.connect(work / store.DB_NAME)
        store.migrate(conn)
        outbox = Outbox(conn)
        data = {"door": 7, "item_code": "11330100MB0001", "holder_hash": "ab" * 32, "amount_fen": 2500}
        for _ in range(50):  # warm the page cache and the WAL
            outbox.record("pickup", data)
        per_round = max(1, args.n // ROUNDS)
        rates = []
        for _ in range(ROUNDS):
            t0 = time.perf_counter()
            for _ in range(per_round):
                outbox.record("pickup", data)
            rates.append(per_round / (time.perf_counter() - t0))
        conn.close()
    finally:
        shutil.rmtree(work, ignore_errors=True)
    rate = statistics.median(rates)
    print(f"# rounds of {per_round} records, one commit each, per second: "
          + " ".join(f"{r:.0f}" for r in rates), file=sys.stderr, flush=True)
    print(f"enqueue_per_s {rate:.0f} budget {BUDGET} {'pass' if rate >= BUDGET else 'miss'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
