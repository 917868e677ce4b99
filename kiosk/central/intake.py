"""Checking an uploaded transaction batch item by item, so one bad item is refused alone.

The batch envelope (`kiosk_id`, `items` as a list of at most 500) must be
right or the whole request is refused (422). Each item is then validated
on its own against `kiosk.wire.transactions.TransactionItem`, strictly (a
`"5"` where a number belongs is a kiosk bug worth naming), and given a
canonical form whose hash tells a retried item from a conflicting one.
"""
from __future__ import annotations

import json
import logging
from typing import Any

from pydantic import ValidationError

from kiosk.central import edge
from kiosk.central.db import CheckedItem, sha256_hex
from kiosk.wire.transactions import MAX_BATCH, TransactionItem

log = logging.getLogger(__name__)
# an item's canonical JSON, whose hash tells a retry from a conflict: sorted keys, no spaces, UTF-8 as is.
# One encoder made once (json.dumps with these options builds a new one per call, 4x the cost of encoding).
CANONICAL = json.JSONEncoder(sort_keys=True, ensure_ascii=False, separators=(",", ":"))


class EnvelopeError(ValueError):
    """The batch as a whole is unusable; `details` name each problem."""

    def __init__(self, details: list[dict[str, str]]):
        super().__init__("; ".join(f"{d['field']}: {d['problem']}" for d in details))
        self.details = details


def problems(exc: ValidationError, prefix: str = "") -> list[dict[str, str]]:
    """Pydantic errors as [{"field": "items.3.seq", "problem": "..."}] for a person to act on."""
    out = []
    for err in exc.errors(include_url=False):
        loc = ".".join(str(p) for p in (prefix, *err["loc"]) if p != "")
        out.append({"field": loc or "(body)", "problem": err["msg"]})
    return out


def check_envelope(doc: Any) -> tuple[str, list[Any]]:
    if not isinstance(doc, dict):
        raise EnvelopeError([{"field": "(body)", "problem": "expected a JSON object {\"kiosk_id\", \"items\"}"}])
    details = []
    unknown = sorted(set(doc) - {"kiosk_id", "items"})
    if unknown:
        details.append({"field": ", ".join(unknown), "problem": "unknown field"})
    kiosk_id, items = doc.get("kiosk_id"), doc.get("items")
    if not isinstance(kiosk_id, str) or not kiosk_id:
        details.append({"field": "kiosk_id", "problem": "required: the sending kiosk's id, a string"})
    if not isinstance(items, list):
        details.append({"field": "items", "problem": "required: a list of transactions"})
    elif len(items) > MAX_BATCH:
        details.append({"field": "items", "problem": f"{len(items)} items; a batch holds at most {MAX_BATCH}"})
    if details:
        raise EnvelopeError(details)
    return kiosk_id, items


def _item_id(raw: Any) -> str:
    if isinstance(raw, dict) and isinstance(raw.get("id"), str):
        return raw["id"][:64]
    return ""


def check_item(raw: Any, index: int) -> CheckedItem:
    # an item sits two levels down in the batch ({"items": [item]}): the same depth limit as a whole body
    encoded = edge.storable_json(raw, max_depth=edge.MAX_DEPTH - 2)
    if encoded is None:
        unstorable = edge.problems(raw, max_depth=edge.MAX_DEPTH - 2)
        if unstorable:
            reason = "; ".join(f"{p['field']}: {p['problem']}" for p in unstorable)
            return CheckedItem(_item_id(raw), None, f"item {index} invalid: {reason}")
        encoded = json.dumps(raw)
    try:
        item = TransactionItem.model_validate_json(encoded, strict=True)
    except ValidationError as exc:
        reason = "; ".join(f"{p['field']}: {p['problem']}" for p in problems(exc))
        return CheckedItem(_item_id(raw), None, f"item {index} invalid: {reason}")
    if item.occurred_at.tzinfo is None:
        return CheckedItem(_item_id(raw), None,
                           f"item {index} invalid: occurred_at: needs a UTC offset (RFC 3339), e.g. +08:00 or Z")
    canonical = item.model_dump(mode="json")
    body = CANONICAL.encode(canonical)
    row = {
        "id": str(item.id),
        "seq": item.seq,
        "kind": item.kind,
        "occurred_at": canonical["occurred_at"],
        "boot_id": item.boot_id,
        "uptime_s": item.uptime_s,
        "data": CANONICAL.encode(item.data),
        "body": body,
        "body_sha256": sha256_hex(body.encode()),
    }
    return CheckedItem(_item_id(raw), row)  # results name the id as the kiosk wrote it


def _checked_alone(raw: Any, index: int) -> CheckedItem:
    """check_item, with any failure of the check itself confined to this item: a batch must never fail
    whole (and so for ever, as the kiosk retries it) because of one item."""
    try:
        return check_item(raw, index)
    except (ValueError, TypeError, OverflowError, RecursionError) as exc:
        log.error("item %d could not be checked: %s", index, type(exc).__name__)
        return CheckedItem(_item_id(raw), None, f"item {index} could not be checked ({type(exc).__name__})")


def check_batch(doc: Any) -> tuple[str, list[CheckedItem]]:
    kiosk_id, items = check_envelope(doc)
    return kiosk_id, [_checked_alone(raw, i) for i, raw in enumerate(items)]
