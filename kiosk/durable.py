"""Files that survive a crash at any instant: written whole or not at all, and synced with their
directory (the remote config's files, the operators' bundles, the window's screenshots). A leaf:
it imports nothing of kiosk/, so every layer may use it. `reached` hooks name the steps a
write passes, for the crash tests; the default hears nothing."""
from __future__ import annotations

import contextlib
import json
import os
from pathlib import Path
from typing import Any, Callable

StepHook = Callable[[str], None]


def no_hook(step: str) -> None:
    """The default `step_reached`: nothing."""


def fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def write_atomic(path: Path, data: bytes, step: str | None = None, reached: StepHook = no_hook) -> None:
    """Write `path` so that a crash leaves the old content or the new, never a mix; `reached` hears
    `{step}_tmp_written`, `{step}_replaced` and `{step}_synced` when a `step` is named."""
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    with open(tmp, "wb") as f:
        f.write(data)
        f.flush()
        os.fsync(f.fileno())
    if step:
        reached(f"{step}_tmp_written")
    os.replace(tmp, path)
    if step:
        reached(f"{step}_replaced")
    fsync_dir(path.parent)
    if step:
        reached(f"{step}_synced")


def unlink_durable(path: Path) -> None:
    with contextlib.suppress(FileNotFoundError):
        path.unlink()
        fsync_dir(path.parent)


def dump_json(doc: dict[str, Any]) -> bytes:
    return (json.dumps(doc, ensure_ascii=False, indent=1, sort_keys=True) + "\n").encode()


def read_json(path: Path) -> dict[str, Any] | None:
    """The document, None when absent; a damaged file raises ValueError naming it."""
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        return None
    try:
        doc = json.loads(raw)
    except ValueError as exc:
        raise ValueError(f"{path}: damaged ({exc})") from None
    if not isinstance(doc, dict):
        raise ValueError(f"{path}: damaged (not a JSON object)")
    return doc
