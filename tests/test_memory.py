"""kiosk/memory.py on this machine's glibc: the threshold is taken, freed heap pages go back."""
from __future__ import annotations

import subprocess
import sys

SCRIPT = """
import ctypes
from kiosk import memory
assert memory.tune()
before = memory.rss_kib()
# many mid-sized blocks (as label bitmaps are), then all but the last freed: glibc keeps the holes
blocks = [ctypes.create_string_buffer(100_000) for _ in range(600)]
for b in blocks: ctypes.memset(b, 1, 100_000)
held = memory.rss_kib()
keep = blocks[-1]
del blocks
freed = memory.rss_kib()
memory.give_back()
print(before, held, freed, memory.rss_kib())
"""


def test_freed_heap_pages_go_back_to_the_system_after_give_back():
    r = subprocess.run([sys.executable, "-c", SCRIPT], capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stderr
    before, held, freed, after = map(int, r.stdout.split())
    assert held - before > 50_000          # 60 MB touched
    assert after - before < 10_000         # back within 10 MB of the start
