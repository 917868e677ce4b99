"""`kiosk sync`: push the outbox now (`--once`), prove the path with probes, put dead items back."""
from __future__ import annotations


import json
import sys
import time

from kiosk.commands._text import _t
from kiosk.commands.base import EXIT_FAILED, EXIT_OK, EXIT_USAGE, add_json
from kiosk.store import StoreError
from kiosk.sync.client import CentralClient
from kiosk.sync.outbox import Outbox
from kiosk.sync.agent import LAST_CONTACT_KEY, LAST_SYNC_KEY
from kiosk.sync.relay import Relay
from kiosk.sync.state import SyncState

MAX_PROBES = 10_000


def register(sub) -> None:
    p = sub.add_parser("sync", help=_t("push the outbox to the central platform now; probes; retry dead items"),
                       description=_t("`kiosk sync --once` pushes everything pending and exits 0 only when "
                                      "nothing is left pending."))
    p.add_argument("--once", action="store_true", help=_t("push everything pending now, ignoring backoff"))
    add_json(p)
    p.set_defaults(handler=run_once, sync_parser=p)
    actions = p.add_subparsers(dest="action", metavar="ACTION")
    probe = actions.add_parser("probe", help=_t("enqueue N probe transactions (no personal data)"))
    probe.add_argument("--count", type=int, default=1, metavar="N", help=_t("how many, 1..{most} (default 1)").format(most=MAX_PROBES))
    add_json(probe)
    probe.set_defaults(handler=run_probe)
    retry = actions.add_parser("retry-dead", help=_t("put dead items back to pending (after fixing the cause)"))
    retry.add_argument("--seq", type=int, action="append", metavar="N", help=_t("only this item (repeatable)"))
    add_json(retry)
    retry.set_defaults(handler=run_retry_dead)


def run_once(ctx) -> int:
    if not ctx.args.once:
        ctx.args.sync_parser.print_usage()
        print(_t("kiosk sync: give --once, or an action: probe, retry-dead"))
        return EXIT_USAGE
    conn = ctx.store.connect()
    client = CentralClient.from_settings(ctx.settings)
    try:
        outbox = Outbox(conn)
        outbox.recover()  # sending a row again is safe: the platform stores an id once
        relay = Relay.from_settings(ctx.settings, outbox, client)
        watching = sys.stderr.isatty() and not ctx.json   # a person at a terminal: how far it has got
        pending = outbox.pending_count() if watching else 0

        def show(total) -> None:
            print("\r" + _t("sent {sent} of {pending}: {acked} acked, {dead} dead").format(
                sent=total.sent, pending=pending, acked=total.acked, dead=total.dead), end="", file=sys.stderr, flush=True)

        result = relay.drain(force=True, progress=show if watching else None)
        if watching and result.requests:
            print(file=sys.stderr)
        if result.acked or result.dead:   # the platform answered, as the agent counts a sync (`kiosk queue`)
            state, now = SyncState(conn), str(time.time())
            state.set(LAST_SYNC_KEY, now)
            state.set(LAST_CONTACT_KEY, now)   # and as the UI's "Call staff" counts the kiosk online
        left = outbox.pending_count()
        dead_total = outbox.summary().counts["dead"]
    finally:
        client.close()
        conn.close()
    doc = {"sent": result.sent, "acked": result.acked, "dead": result.dead, "requests": result.requests,
           "pending": left, "dead_total": dead_total, "error": result.error}

    def text(d):
        lines = [_t("sent {sent} in {requests} request(s): {acked} acked, {dead} dead; {pending} still pending").format(
            sent=d['sent'], requests=d['requests'], acked=d['acked'], dead=d['dead'], pending=d['pending'])]
        if d["error"]:
            lines.append(_t("stopped: {reason}").format(reason=d['error']))
        if d["dead_total"]:
            lines.append(_t("{n} dead item(s): see `kiosk queue`").format(n=d['dead_total']))
        return "\n".join(lines)

    ctx.emit(doc, text)
    return EXIT_OK if left == 0 else EXIT_FAILED


def run_probe(ctx) -> int:
    """Each id is printed as soon as it is committed (without --json), so a run cut short (a full disk,
    a kill) has told which ids exist; a failure names how many were committed and exits 1."""
    n = ctx.args.count
    if not 1 <= n <= MAX_PROBES:
        print(_t("kiosk sync probe: --count must be 1..{most}, got {n}").format(most=MAX_PROBES, n=n), file=sys.stderr)
        return EXIT_USAGE
    ids: list[str] = []
    error = None
    terminal = sys.stdout.isatty()
    conn = ctx.store.connect()
    try:
        outbox = Outbox(conn)
        for i in range(n):
            try:
                tid = outbox.record("probe", {"probe": i + 1, "of": n, "source": "kiosk sync probe"}).id
            except StoreError as exc:
                error = str(exc)
                break
            ids.append(tid)
            if ctx.json:
                continue
            if terminal:   # a person watching: a count, not thousands of ids scrolling by
                print("\r" + _t("{done} of {n} committed").format(done=len(ids), n=n), end="", flush=True)
            else:          # a script reading: every id as soon as it is committed
                print(tid, flush=True)
    finally:
        conn.close()
    if terminal and not ctx.json and ids:
        print("\n" + (f"{ids[0]} … {ids[-1]}" if len(ids) > 1 else ids[0]))
    if error is not None:
        if ctx.json:
            print(json.dumps({"ids": ids, "committed": len(ids), "count": n, "error": error}, ensure_ascii=False))
        message = (_t("kiosk sync probe: {done} of {n} probe transaction(s) committed (the first and last above), "
                      "then: {problem}") if terminal and not ctx.json else
                   _t("kiosk sync probe: {done} of {n} probe transaction(s) committed (listed above), then: {problem}"))
        print(message.format(done=len(ids), n=n, problem=error), file=sys.stderr)
        return EXIT_FAILED
    if ctx.json:
        ctx.emit({"ids": ids}, "")
    else:
        print(_t("{n} probe transaction(s) committed; `kiosk sync --once` sends them").format(n=len(ids)))
    return EXIT_OK


def run_retry_dead(ctx) -> int:
    seqs = ctx.args.seq
    conn = ctx.store.connect()
    try:
        outbox = Outbox(conn)
        missing = [] if seqs is None else [s for s in dict.fromkeys(seqs) if not outbox.retry_dead([s])]
        n = outbox.retry_dead() if seqs is None else len(dict.fromkeys(seqs)) - len(missing)
    finally:
        conn.close()
    ctx.emit({"retried": n, **({"not_dead": missing} if missing else {})}, _t("{n} dead item(s) back to pending").format(n=n))
    if missing:
        print(_t("kiosk: sync retry-dead: no dead item with seq {seqs}; `kiosk queue` lists the dead items and "
                 "their seq").format(seqs=', '.join(map(str, missing))), file=sys.stderr)
        return EXIT_FAILED
    return EXIT_OK
