"""Privacy rules of DESIGN.md section 7: masking for screen and paper, keyed hashes, log redaction.

The masks and the ID-number pattern live in the leaf module `kiosk.hardware.masking`
(shared with the card reader driver, the log and the outbox), the log redaction in
`kiosk.log` (every process's handler carries it), the keyed hashes in `kiosk.wire.hashing`
(the central platform computes the same ones); all are re-exported here for the domain.

A full ID number or name never reaches a log, a screenshot, a receipt or the
outbox. What must be matched later is matched by a keyed hash
(HMAC-SHA256 with the per-deployment key) of the normalised value.
"""
from __future__ import annotations

from kiosk.hardware.masking import ID_NUMBER, mask_id_number, mask_name, normalise_id_number
from kiosk.log import RedactingFilter, forget_people, redact, remember_person
from kiosk.wire.hashing import holder_hash, keyed_hash

__all__ = ["ID_NUMBER", "RedactingFilter", "forget_people", "holder_hash", "keyed_hash", "mask_id_number",
           "mask_name", "normalise_id_number", "redact", "remember_person"]
