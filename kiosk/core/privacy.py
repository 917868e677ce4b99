"""Privacy rules of DESIGN.md section 7: masking for screen and paper, keyed hashes, log redaction.

The masks and the ID-number pattern live in the leaf module `kiosk.hardware.masking`
(shared with the card reader driver, the log and the outbox), the log redaction in
`kiosk.log` (every process's handler carries it); both are re-exported here for the
domain.

A full ID number or name never reaches a log, a screenshot, a receipt or the
outbox. What must be matched later is matched by a keyed hash
(HMAC-SHA256 with the per-deployment key) of the normalised value.
"""
from __future__ import annotations

import hashlib
import hmac

from kiosk.hardware.masking import ID_NUMBER, mask_id_number, mask_name, normalise_id_number
from kiosk.log import RedactingFilter, forget_people, redact, remember_person

__all__ = ["ID_NUMBER", "RedactingFilter", "forget_people", "holder_hash", "keyed_hash", "mask_id_number",
           "mask_name", "normalise_id_number", "redact", "remember_person"]


def keyed_hash(key: str | bytes, value: str, purpose: str) -> str:
    """HMAC-SHA256 of a normalised value, hex. `purpose` separates e.g. holders from pickup codes,
    so the same digits never hash alike in two places."""
    k = key.encode() if isinstance(key, str) else key
    msg = f"{purpose}\x00{value}".encode()
    return hmac.new(k, msg, hashlib.sha256).hexdigest()


def holder_hash(key: str | bytes, id_number: str) -> str:
    return keyed_hash(key, normalise_id_number(id_number), "holder")
