"""`make bench`: runs every benchmark of DESIGN.md section 8 and prints one table.

Each bench script prints, among its details, one summary line per figure:
`NAME VALUE budget BUDGET pass|miss`. This runner collects those lines.
A script that is missing or fails shows as such; nothing is made up.
"""
from __future__ import annotations

import re
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
SUMMARY = re.compile(r"^(?P<name>[a-z0-9_]+) (?P<value>[-0-9.]+) budget (?P<budget>[-0-9.]+) (?P<verdict>pass|miss)$")

# script, what it measures (DESIGN.md section 8)
BENCHES = [
    ("search.py", "guide search, 20,000 items, p95 (ms)"),
    ("enqueue.py", "durable enqueue (transactions/s, one commit each)"),
    ("drain.py", "outbox drain of 20,000 items to a local central (s)"),
    ("startup.py", "UI cold start to home screen under Xvfb (s)"),
    ("pickup.py", "pickup: code accepted to unlock frame (ms)"),
    ("pinyin_latency.py", "forms: pinyin candidates for a keystroke, p95 (ms)"),
    ("handwriting_latency.py", "forms: candidates for a drawn character, p95 (ms)"),
    ("soak.py", "UI RSS after 500 scripted sessions (MB)"),
    ("config_bundle.py", "signed config: verify and apply; a 50 MB body refused"),
    ("management_hostile.py", "management API: slow senders held, files written by a refused flood, agent RSS"),
]


def main() -> int:
    rows = []
    for script, what in BENCHES:
        path = HERE / script
        if not path.exists():
            rows.append((what, "-", "-", "not built yet"))
            continue
        print(f"== {script}", flush=True)
        t0 = time.monotonic()
        proc = subprocess.run([sys.executable, str(path)], capture_output=True, text=True, timeout=7200)
        print(proc.stdout, end="")
        if proc.returncode != 0:
            print(proc.stderr[-2000:], end="")
        found = [SUMMARY.match(line.strip()) for line in proc.stdout.splitlines()]
        found = [m for m in found if m]
        if not found:
            rows.append((what, "-", "-", f"failed (exit {proc.returncode})"))
        for m in found:
            rows.append((f"{what} [{m['name']}]", m["value"], m["budget"], m["verdict"]))
        print(f"   ({time.monotonic() - t0:.1f} s)\n", flush=True)
    width = max(len(r[0]) for r in rows)
    print(f"{'figure':<{width}}  {'value':>10}  {'budget':>8}  result")
    for what, value, budget, verdict in rows:
        print(f"{what:<{width}}  {value:>10}  {budget:>8}  {verdict}")
    return 1 if any(r[3] not in ("pass", "not built yet") for r in rows) else 0


if __name__ == "__main__":
    sys.exit(main())
