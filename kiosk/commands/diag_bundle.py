"""`kiosk diag bundle [--out FILE]`: the redacted diagnostics zip, from a shell (the technician mode has a button).

Registered into `kiosk diag` by kiosk/commands/diag.py through `register_into`.
Without --out the zip goes to a mounted USB stick (`[technician] usb_mounts`),
else to DATA_DIR/diagnostics/. Device states are those the UI last wrote, the
recent log lines those it mirrored (kiosk/core/technician/recent_log.py).
"""
from __future__ import annotations

import sys
from pathlib import Path

from kiosk.commands._text import _t
from kiosk.commands.base import EXIT_FAILED, EXIT_OK, add_json


def register_into(checks) -> None:
    b = checks.add_parser("bundle", help=_t("export a redacted diagnostics zip (config without secrets, versions, "
                                            "device states, queue summary, recent logs)"))
    b.add_argument("--out", metavar="FILE", type=Path,
                   help=_t("where to write the zip (default: a mounted USB stick, else DATA_DIR/diagnostics/)"))
    add_json(b)
    b.set_defaults(handler=run_bundle)


def run_bundle(ctx) -> int:
    from kiosk.store import StoreError
    from kiosk.app.tech_sources import KioskFacts

    out = ctx.args.out
    if out is not None and out.exists() and out.is_dir():
        out = out / f"kiosk-diag-{ctx.settings.kiosk.id}.zip"
    try:
        doc = KioskFacts(ctx.settings, ctx.store).export_bundle(out)
    except (OSError, StoreError) as exc:
        message = _t("the diagnostics bundle could not be written: {reason}").format(
            reason=getattr(exc, 'strerror', None) or exc)
        if ctx.json:
            ctx.emit({"path": None, "error": message}, "")
        else:
            print(f"kiosk diag bundle: {message}", file=sys.stderr)
        return EXIT_FAILED
    ctx.emit(doc, lambda d: (_t("diagnostics bundle written to {path} ({n} bytes, USB stick)") if d["where"] == "usb"
                             else _t("diagnostics bundle written to {path} ({n} bytes)")).format(path=d['path'],
                                                                                              n=d['bytes']))
    return EXIT_OK
