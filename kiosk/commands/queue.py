"""`kiosk queue`: the outbox at a glance: counts by state, the oldest pending item, dead items and why."""
from __future__ import annotations

from datetime import datetime

from kiosk.commands._text import _t
from kiosk.commands.base import EXIT_OK, add_json
from kiosk.sync.agent import LAST_SYNC_KEY
from kiosk.sync.outbox import Outbox
from kiosk.sync.state import SyncState

DEAD_SHOWN = 100


def register(sub) -> None:
    p = sub.add_parser("queue", help=_t("outbox counts by state, oldest pending age, dead items with reasons"))
    add_json(p)
    p.set_defaults(handler=run)


def run(ctx) -> int:
    conn = ctx.store.connect()
    try:
        outbox = Outbox(conn)
        s = outbox.summary()
        oldest = outbox.items("pending", 1)
        last_sync = SyncState(conn).get(LAST_SYNC_KEY)
        dead = [{"id": e.id, "seq": e.seq, "kind": e.kind, "occurred_at": e.occurred_at, "attempts": e.attempts,
                 "reason": e.last_error} for e in outbox.items("dead", DEAD_SHOWN)]
    finally:
        conn.close()
    doc = {
        "counts": s.counts,
        "oldest_pending_age_s": s.oldest_pending_age_s,
        "oldest_pending_seq": s.oldest_pending_seq,
        "last_error": oldest[0].last_error if oldest else None,
        "last_sync_at": datetime.fromtimestamp(float(last_sync)).astimezone().isoformat(timespec="seconds")
        if last_sync else None,
        "dead": dead,
    }
    ctx.emit(doc, _text)
    return EXIT_OK


def _age(seconds: float) -> str:
    if seconds < 120:
        return _t("{n} s").format(n=f"{seconds:.0f}")
    if seconds < 7200:
        return _t("{n} min").format(n=f"{seconds / 60:.0f}")
    if seconds < 172800:
        return _t("{n} h").format(n=f"{seconds / 3600:.1f}")
    return _t("{n} days").format(n=f"{seconds / 86400:.1f}")


def _text(doc: dict) -> str:
    c = doc["counts"]
    lines = [_t("outbox: {pending} pending, {inflight} inflight, {acked} acked, {dead} dead").format(
        pending=c['pending'], inflight=c['inflight'], acked=c['acked'], dead=c['dead'])]
    if doc["oldest_pending_age_s"] is not None:
        lines.append(_t("oldest pending: seq {seq}, waiting {age}").format(
            seq=doc['oldest_pending_seq'], age=_age(doc['oldest_pending_age_s'])))
    if doc["last_error"]:
        lines.append(_t("last error: {reason}").format(reason=doc['last_error']))
    lines.append(_t("last successful sync: {at}").format(at=doc['last_sync_at'] or _t('never')))
    if doc["dead"]:
        lines.append(_t("dead items (the platform refused them; fix the cause, then `kiosk sync retry-dead`):"))
        for d in doc["dead"]:
            lines.append("  " + _t("seq {seq} {kind} at {at} id {id}: {reason}").format(
                seq=d['seq'], kind=d['kind'], at=d['occurred_at'], id=d['id'], reason=d['reason']))
        if c["dead"] > len(doc["dead"]):
            lines.append("  " + _t("... and {n} more (see --json)").format(n=c['dead'] - len(doc['dead'])))
    return "\n".join(lines)
