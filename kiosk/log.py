"""Logging: standard logging to stderr (journald under systemd), personal data redacted.

`kiosk.wire` is reserved for device traffic (hex dumps, off unless asked for
with KIOSK_WIRE_LOG=1). The redacting filter sits on the handler, so every
record from every logger passes it, whatever its level or origin.
"""
from __future__ import annotations

import logging
import os
import sys

from kiosk.core.privacy import RedactingFilter

WIRE = "kiosk.wire"


def setup(level: str | int | None = None) -> None:
    level = level or os.environ.get("KIOSK_LOG_LEVEL", "INFO")
    root = logging.getLogger()
    for h in list(root.handlers):
        if getattr(h, "_kiosk", False):
            root.removeHandler(h)
    handler = logging.StreamHandler(sys.stderr)
    handler._kiosk = True
    # journald adds its own timestamps; a terminal benefits from them
    fmt = "%(levelname)s %(name)s: %(message)s" if os.environ.get("JOURNAL_STREAM") else \
        "%(asctime)s %(levelname)s %(name)s: %(message)s"
    handler.setFormatter(logging.Formatter(fmt))
    handler.addFilter(RedactingFilter())
    root.addHandler(handler)
    root.setLevel(level)
    logging.getLogger(WIRE).setLevel(logging.DEBUG if os.environ.get("KIOSK_WIRE_LOG") == "1" else logging.WARNING)
