"""Pinyin keyboard benchmark: candidate latency per keystroke, and what an open index costs in RSS.

The typing script is what citizens type on the forms: every prefix of every line of
tests/data/pinyin_expect.tsv (names in a name field, places in an address field, form words in a
text field), as each key is pressed, asking for the keyboard's first page (10 candidates), then
the second page of each whole word as a citizen scrolling the candidate bar would. The index is
the one `make setup` builds (kiosk/core/input/pinyin.sqlite).

The RSS figure is the resident set this process gains by opening the index and typing the whole
script (SQLite's page cache included), measured with kiosk.memory.rss_kib after the imports, so
the figure is the index's and not Python's. Prints p50/p95/max and
`pinyin_keystroke_p95_ms <v> budget 50 pass|miss`; the RSS line is informational.
"""
from __future__ import annotations

import gc
import statistics
import sys
import time
from pathlib import Path

from kiosk.core.input.pinyin import DEFAULT_PATH, IndexMissing, PinyinIndex
from kiosk.memory import rss_kib

ROOT = Path(__file__).resolve().parent.parent
EXPECT = ROOT / "tests" / "data" / "pinyin_expect.tsv"
CONTEXT_OF_KIND = {"name": "name", "province": "address", "city": "address", "district": "address", "form": "text"}
BUDGET_MS = 50.0
PAGE = 10
ROUNDS = 3


def script() -> list[tuple[str, str, int]]:
    """(letters, context, offset) for each keystroke, then the second page of each whole word."""
    keys = []
    for line in EXPECT.read_text(encoding="utf-8").splitlines():
        if not line.strip() or line.startswith("#"):
            continue
        letters, _hanzi, kind, _source = line.split("\t")
        context = CONTEXT_OF_KIND[kind]
        keys += [(letters[:k], context, 0) for k in range(1, len(letters) + 1)]
        keys.append((letters, context, PAGE))
    return keys


def pct(values: list[float], p: float) -> float:
    s = sorted(values)
    return s[min(len(s) - 1, max(0, round(p / 100 * len(s)) - 1))]


def main() -> int:
    keys = script()
    gc.collect()
    before = rss_kib()
    try:
        index = PinyinIndex.open(DEFAULT_PATH)
    except IndexMissing as exc:
        print(exc, file=sys.stderr)
        return 1
    opened = rss_kib()
    times: list[float] = []
    by_len: dict[str, list[float]] = {}
    for _ in range(ROUNDS):
        for letters, context, offset in keys:
            t0 = time.perf_counter()
            index.candidates(letters, limit=PAGE, offset=offset, context=context)
            ms = (time.perf_counter() - t0) * 1000
            times.append(ms)
            n = len(letters)
            band = "1-2" if n <= 2 else "3-6" if n <= 6 else "7-12" if n <= 12 else "13+"
            by_len.setdefault(band, []).append(ms)
    typed = rss_kib()
    index.close()
    print(f"index {DEFAULT_PATH} ({DEFAULT_PATH.stat().st_size / 1e6:.1f} MB)")
    print(f"{len(keys)} keystrokes x {ROUNDS} rounds, page of {PAGE}")
    for band in ("1-2", "3-6", "7-12", "13+"):
        ts = by_len.get(band, [])
        if ts:
            print(f"  {band:>4} letters n={len(ts):5d}  p50 {statistics.median(ts):6.2f} ms  "
                  f"p95 {pct(ts, 95):6.2f} ms  max {max(ts):6.2f} ms")
    worst = sorted(zip(times, [k for _ in range(ROUNDS) for k in keys]), reverse=True)[:5]
    print("  slowest: " + ", ".join(f"{k[0]!r} ({k[1]}) {t:.2f} ms" for t, k in worst))
    p50, p95, mx = statistics.median(times), pct(times, 95), max(times)
    print(f"candidates per keystroke: p50 {p50:.2f} ms, p95 {p95:.2f} ms, max {mx:.2f} ms")
    if before is not None:
        print(f"RSS: {before / 1024:.1f} MB before opening, +{(opened - before) / 1024:.1f} MB open, "
              f"+{(typed - before) / 1024:.1f} MB after typing the script")
        print(f"pinyin_index_rss_mb {(typed - before) / 1024:.1f}")
    print(f"pinyin_keystroke_p95_ms {p95:.2f} budget {BUDGET_MS:g} {'pass' if p95 <= BUDGET_MS else 'miss'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
