"""Keyed hashes (DESIGN.md section 7), part of the wire: the kiosk writes them into the outbox and
the central platform computes the same ones to match a holder or a pickup code, never storing the
value itself. HMAC-SHA256 with the per-deployment key, of the normalised value."""
from __future__ import annotations

import hashlib
import hmac

from kiosk.hardware.masking import normalise_id_number


def keyed_hash(key: str | bytes, value: str, purpose: str) -> str:
    """HMAC-SHA256 of a normalised value, hex. `purpose` separates e.g. holders from pickup codes,
    so the same digits never hash alike in two places."""
    k = key.encode() if isinstance(key, str) else key
    msg = f"{purpose}\x00{value}".encode()
    return hmac.new(k, msg, hashlib.sha256).hexdigest()


def holder_hash(key: str | bytes, id_number: str) -> str:
    return keyed_hash(key, normalise_id_number(id_number), "holder")
