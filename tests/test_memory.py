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


CYCLES = """
import ctypes, gc
from kiosk import memory
gc.disable()   # as between two runs of the collector's oldest generation
assert memory.tune()
before = memory.rss_kib()


class Node:
    def __init__(self):
        self.me = self   # a cycle, as a widget and its bindings make
        self.block = ctypes.create_string_buffer(100_000)
        ctypes.memset(self.block, 1, 100_000)


nodes = [Node() for _ in range(600)]
held = memory.rss_kib()
del nodes
unreached = memory.rss_kib()   # nothing freed yet: each node still refers to itself
memory.give_back()
print(before, held, unreached, memory.rss_kib())
"""


def run(script: str) -> list[int]:
    r = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stderr
    return list(map(int, r.stdout.split()))


def test_freed_heap_pages_go_back_to_the_system_after_give_back():
    before, held, freed, after = run(SCRIPT)
    assert held - before > 50_000          # 60 MB touched
    assert after - before < 10_000         # back within 10 MB of the start


def test_what_only_reference_cycles_held_goes_back_too():
    before, held, unreached, after = run(CYCLES)
    assert held - before > 50_000 and unreached - before > 50_000
    assert after - before < 10_000
