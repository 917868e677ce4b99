"""The diagnostics bundle: one zip a technician carries away, with nothing in it that must not leave the kiosk.

It holds the effective config with its secrets replaced (a redaction list, as
Home Assistant's diagnostics do), versions, device states and alarms, the
outbox summary with the dead items' reasons (never their bodies), disk and
memory, and the recent warnings and errors. Every string passes
`kiosk.core.privacy.redact` on the way in, so an ID number that slipped into a
log line or an error message leaves masked. The zip goes to a USB stick when
one is mounted (`[technician] usb_mounts`), otherwise to the data dir.
"""
from __future__ import annotations

import glob
import json
import os
import re
import time
import zipfile
from datetime import datetime
from pathlib import Path
from typing import Any, Callable, Iterable

from kiosk.core.privacy import redact

REDACTED = "**REDACTED**"
# keys whose values never leave the kiosk, wherever they appear in the config
TO_REDACT = frozenset({
    "secret", "hash_key", "pin_hashes", "pin_hash", "password", "passphrase", "token", "api_key",
    "private_key", "secret_key",
})
_URL_USERINFO = re.compile(r"(?<=://)[^/@\s]+@")


def redact_data(value: Any, to_redact: Iterable[str] = TO_REDACT) -> Any:
    """A copy of `value` with the listed keys' values replaced and personal data masked in every string."""
    keys = frozenset(to_redact)
    if isinstance(value, dict):
        return {k: (REDACTED if str(k).lower() in keys and v not in (None, "", [], {}) else redact_data(v, keys))
                for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [redact_data(v, keys) for v in value]
    if isinstance(value, str):
        return _URL_USERINFO.sub(REDACTED + "@", redact(value))
    return value


def find_usb(patterns: Iterable[str], *, is_mount: Callable[[str], bool] = os.path.ismount) -> Path | None:
    """The first mounted, writable folder matching `patterns` (a USB stick), else None."""
    for pattern in patterns:
        for path in sorted(glob.glob(os.path.expanduser(pattern))):
            if os.path.isdir(path) and is_mount(path) and os.access(path, os.W_OK):
                return Path(path)
    return None


def bundle_name(kiosk_id: str, now: float | None = None) -> str:
    stamp = datetime.fromtimestamp(now if now is not None else time.time()).strftime("%Y%m%d-%H%M%S")
    return f"kiosk-diag-{kiosk_id}-{stamp}.zip"


def write(parts: dict[str, Any], out: Path) -> Path:
    """Write `parts` (name -> JSON-able data, or text) as a zip at `out`, durably, redacted.

    Written beside the target and renamed, then synced: a stick pulled out
    too early leaves no half bundle under the final name.
    """
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(out.name + ".part")
    try:
        with zipfile.ZipFile(tmp, "w", compression=zipfile.ZIP_DEFLATED) as z:
            for name, data in parts.items():
                clean = redact_data(data)
                if isinstance(clean, str):
                    z.writestr(name, clean)
                else:
                    z.writestr(name, json.dumps(clean, ensure_ascii=False, indent=2, default=str))
        with open(tmp, "rb") as f:
            os.fsync(f.fileno())
        os.replace(tmp, out)
        try:
            fd = os.open(out.parent, os.O_RDONLY)
            try:
                os.fsync(fd)
            finally:
                os.close(fd)
        except OSError:
            pass
    except BaseException:
        try:
            tmp.unlink()
        except OSError:
            pass
        raise
    return out


def contents(path: Path) -> dict[str, str]:
    """What a bundle holds: name -> text (for tests and for a technician checking it)."""
    with zipfile.ZipFile(path) as z:
        return {n: z.read(n).decode("utf-8") for n in z.namelist()}
