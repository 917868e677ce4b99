"""Keeping a process that runs for months at the size it needs (glibc malloc).

Two habits of glibc's allocator make a long-running UI look bigger than it is:
after a large block is freed it raises the size from which blocks get their own
mapping (so later label bitmaps and images are carved from the heap and leave
holes), and it gives freed heap memory back to the system only from the top.
`tune()` pins that size at 128 KiB, so large blocks always return on free;
`give_back()` (malloc_trim) returns the free pages inside the heap, and the UI
calls it after each visit. Elsewhere (musl, macOS) both do nothing.

What a visit leaves in reference cycles (a widget and its bindings, a closure
and its frame) is freed only by Python's cycle collector, whose oldest
generation runs seldom; `give_back()` runs it first, so those blocks are free
pages by the time the heap is trimmed rather than at some later visit. A
widget's texture is different: collecting it only queues the GL memory for the
next frame, so the UI calls `collect()` first and `give_back()` a moment after.
"""
from __future__ import annotations

import ctypes
import ctypes.util
import gc
import logging

log = logging.getLogger(__name__)

M_MMAP_THRESHOLD = -3   # <malloc.h>
MMAP_THRESHOLD_BYTES = 128 * 1024

_libc = None


def _glibc():
    global _libc
    if _libc is None:
        try:
            lib = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
            _libc = lib if hasattr(lib, "malloc_trim") and hasattr(lib, "mallopt") else False
        except OSError:
            _libc = False
    return _libc or None


def tune() -> bool:
    """Large blocks (from 128 KiB) always get their own mapping; True when glibc took it."""
    lib = _glibc()
    if lib is None:
        return False
    ok = bool(lib.mallopt(M_MMAP_THRESHOLD, MMAP_THRESHOLD_BYTES))
    if not ok:
        log.warning("memory: glibc refused the mmap threshold of %d bytes", MMAP_THRESHOLD_BYTES)
    return ok


def collect() -> int:
    """Collect reference cycles now, so what they freed can be given back at a later `give_back()`:
    objects whose memory is released after a delay (Kivy deletes a texture's GL memory at the next
    frame) are gone by then. The number of objects found unreachable."""
    return gc.collect()


def give_back() -> bool:
    """Collect reference cycles, then return the free pages of the heap to the system; True when
    some were."""
    gc.collect()
    lib = _glibc()
    return bool(lib.malloc_trim(0)) if lib is not None else False


def rss_kib() -> int | None:
    """This process's resident set (VmRSS), in KiB; None where /proc is not there."""
    try:
        with open("/proc/self/status", encoding="ascii") as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return None
