"""Work the long-running UI should not keep the memory of, done in a child process.

Rendering a PDF loads reportlab and parses a Chinese font's tables (about 30 MB).
Python rarely gives such memory back to the system, so a UI that rendered one
PDF would carry it for months. `call_apart("module:function", **kwargs)` runs
the function in a fresh `python -m kiosk.core.apart`, in the caller's language,
with JSON arguments and result, and the memory goes when the child exits.
"""
from __future__ import annotations

import importlib
import json
import subprocess
import sys
from typing import Any

from kiosk.i18n import language, set_language


class ApartError(RuntimeError):
    """The child failed or took too long; the message ends with its last error line."""


def call_apart(target: str, *, timeout_s: float = 120.0, **kwargs: Any) -> Any:
    job = json.dumps({"target": target, "kwargs": kwargs, "lang": language()}, ensure_ascii=False)
    try:
        r = subprocess.run([sys.executable, "-m", "kiosk.core.apart"], input=job, capture_output=True,
                           text=True, timeout=timeout_s)
    except subprocess.TimeoutExpired:
        raise ApartError(f"{target} took longer than {timeout_s:.0f} s; the child was stopped") from None
    if r.returncode != 0:
        last = (r.stderr.strip().splitlines() or [f"exit status {r.returncode}"])[-1]
        raise ApartError(f"{target} failed: {last}")
    try:
        return json.loads(r.stdout)
    except ValueError:
        raise ApartError(f"{target} answered something that is not JSON: {r.stdout[:200]!r}") from None


def _main() -> int:
    job = json.loads(sys.stdin.read())
    set_language(job["lang"])
    module, _, name = job["target"].partition(":")
    result = getattr(importlib.import_module(module), name)(**job["kwargs"])
    sys.stdout.write(json.dumps(result, ensure_ascii=False))
    return 0


if __name__ == "__main__":
    sys.exit(_main())
