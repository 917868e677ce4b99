"""`kiosk central`: run the reference central platform, provision kiosks and operators, seed demo data, export,
and run the notifier that texts applicants their pickup codes (docs/pickup.md).

None of these needs a kiosk config: the platform has its own database
(`--db PATH`, default var/central.db, SQLite; or `--db postgresql://…`),
settings (`central.toml`) and keys (`central.key`, `notice.key`), beside the
SQLite file, or on PostgreSQL beside the sealing key given with `--key-file`.
Secrets are printed once, when made.
"""
from __future__ import annotations

import argparse
import contextlib
import json
import logging
import os
import signal
import sys
import tempfile
import threading
from datetime import date, datetime
from pathlib import Path

from kiosk.commands._text import _t
from kiosk.commands.base import EXIT_FAILED, EXIT_OK, EXIT_USAGE, add_json

log = logging.getLogger(__name__)

ROOT = Path(__file__).resolve().parent.parent.parent
DEMO_CATALOG = ROOT / "config" / "demo-catalog.json"
EMBEDDED_CONFIG = ROOT / "config" / "kiosk.toml"
ENV_HASH_KEY = "KIOSK_HASH_KEY"
ENV_WORKER_ARGS = "KIOSK_CENTRAL_WORKER_ARGS"
ENV_DB = "KIOSK_CENTRAL_DB"                     # the platform's database, when --db is not given   # the server's arguments, for its workers (worker_app)


def register(sub) -> None:
    from kiosk.central.db import DEFAULT_DB

    p = sub.add_parser("central", help=_t("the reference central platform (a stand-in for the provincial one)"),
                       description=_t("Without a sub-command: run the platform's HTTP API until SIGTERM or Ctrl-C."))
    p.add_argument("--host", default="127.0.0.1", help=_t("address to listen on (default 127.0.0.1)"))
    p.add_argument("--port", type=int, default=8700, help=_t("port to listen on (default 8700)"))
    p.add_argument("--db", metavar="PATH|URL",
                   help=_t("the platform's database: a SQLite file or postgresql://user@host/name (else $KIOSK_CENTRAL_DB, "
                           "else [central] database of --settings, else {default})").format(default=DEFAULT_DB))
    p.add_argument("--key-file", metavar="PATH", help=_t("the key that seals the secrets at rest (else "
                      "$KIOSK_CENTRAL_KEY_FILE, else central.key beside a SQLite database; required with PostgreSQL; "
                      "made 0600 on first start)"))
    p.add_argument("--workers", type=int, default=1, metavar="N",
                   help=_t("serve with N worker processes (PostgreSQL; a dead worker is replaced; default 1)"))
    p.add_argument("--no-access-log", dest="access_log", action="store_false",
                   help=_t("no line per request in the log (a platform for hundreds of kiosks: the requests are "
                           "counted in /metrics instead; refusals and errors are logged as always)"))
    p.add_argument("--hash-key", metavar="K", help=_t("the deployment's holder hash key, for posted cases (else "
                                                      "${variable}, else [privacy] hash_key of the kiosk config)"
                                                      ).format(variable=ENV_HASH_KEY))
    p.add_argument("--notice-key", metavar="PATH", help=_t("the notifier's private key (default notice.key beside the "
                                                           "database; made 0600 on first use)"))
    p.add_argument("--settings", metavar="PATH", help=_t("the platform's settings (default central.toml beside the "
                                                         "database; optional)"))
    p.add_argument("--notify", action="store_true", help=_t("also run the notifier, in a thread (needs [notify] in "
                                                            "the settings); else run `kiosk central notify`"))
    p.add_argument("--tls-cert", metavar="PEM", help=_t("serve HTTPS with this certificate (chain) ... "))
    p.add_argument("--tls-key", metavar="PEM", help=_t("... and its private key (else: plain HTTP, for loopback "
                                                       "behind a TLS proxy, docs/deploy.md)"))
    p.set_defaults(handler=run_server, needs_config=False)
    cs = p.add_subparsers(dest="central_command", metavar="SUBCOMMAND", title=_t("sub-commands"))

    def db_option(q):
        # SUPPRESS: `kiosk central --db X add-kiosk ...` keeps X
        q.add_argument("--db", default=argparse.SUPPRESS, metavar="PATH|URL",
                       help=_t("the platform's database: a SQLite file or postgresql://user@host/name"))
        q.add_argument("--key-file", default=argparse.SUPPRESS, metavar="PATH",
                       help=_t("the key that seals secrets at rest (default: central.key beside a SQLite database)"))

    q = cs.add_parser("add-kiosk", help=_t("provision a kiosk; prints its secret once"))
    q.add_argument("kiosk_id", metavar="ID")
    db_option(q)
    q.add_argument("--secret", help=_t("use this secret (at least 16 characters) instead of a new random one"))
    q.add_argument("--group", action="append", default=[], metavar="NAME",
                   help=_t("a fleet group the kiosk belongs to (config bundle targets); repeatable"))
    q.add_argument("--rotate", action="store_true", help=_t("replace the secret of a kiosk already provisioned"))
    q.add_argument("--enrolment-token", action="store_true",
                   help=_t("print a one-time enrolment token instead of the secret: the kiosk fetches its own secret "
                           "with it (`kiosk provision --enrolment-token`); an earlier token of the kiosk is void"))
    q.add_argument("--valid-hours", type=float, default=72.0, metavar="H",
                   help=_t("how long the enrolment token may be used (default 72)"))
    add_json(q)
    q.set_defaults(handler=run_add_kiosk, needs_config=False)

    q = cs.add_parser("add-operator", help=_t("provision an operator; prints the secret once"))
    q.add_argument("name", metavar="NAME")
    db_option(q)
    q.add_argument("--secret", help=_t("use this secret (at least 16 characters) instead of a new random one"))
    q.add_argument("--rotate", action="store_true", help=_t("replace the secret of an operator already provisioned"))
    add_json(q)
    q.set_defaults(handler=run_add_operator, needs_config=False)

    q = cs.add_parser("add-user", help=_t("make an account of the console (/console) for a person"),
                      description=_t("Asks for the password twice on a terminal; --password-stdin reads it from one line "
                                     "of standard input instead (never from the command line, where others can read it)."))
    q.add_argument("name", metavar="NAME")
    q.add_argument("--role", required=True, choices=("operator", "staff", "auditor"),
                   help=_t("operator: everything; staff: one hall, read, acknowledge alarms, follow up ratings; "
                           "auditor: read everything, change nothing"))
    q.add_argument("--hall", metavar="CODE", help=_t("the hall a staff account belongs to (its code, as in "
                                                     "`kiosk central` halls)"))
    q.add_argument("--password-stdin", action="store_true", help=_t("read the password from standard input"))
    q.add_argument("--replace", action="store_true", help=_t("set the password, role and hall of an existing account "
                                                            "(its sessions end)"))
    db_option(q)
    add_json(q)
    q.set_defaults(handler=run_add_user, needs_config=False)

    q = cs.add_parser("users", help=_t("the console's accounts"))
    db_option(q)
    add_json(q)
    q.set_defaults(handler=run_users, needs_config=False)

    def notify_options(q, settings: bool = True):
        q.add_argument("--notice-key", default=argparse.SUPPRESS, metavar="PATH",
                       help=_t("the notifier's private key (default notice.key beside the database)"))
        if settings:
            q.add_argument("--settings", default=argparse.SUPPRESS, metavar="PATH",
                           help=_t("the platform's settings (default central.toml beside the database)"))

    q = cs.add_parser("notify", help=_t("send the queued texts to applicants and staff, until SIGTERM"),
                      description=_t("The notifier (docs/pickup.md): deletes expired phone numbers, queues the due "
                                     "reminders and sends every message due, through the gateway of [notify]."))
    db_option(q)
    notify_options(q)
    q.add_argument("--once", action="store_true", help=_t("one pass, then exit (prints what it did)"))
    q.add_argument("--now", metavar="RFC3339", help=_t("with --once: the time the pass takes as now, e.g. "
                                                       "2026-11-30T09:00:00+08:00"))
    add_json(q)
    q.set_defaults(handler=run_notify, needs_config=False)

    q = cs.add_parser("notices", help=_t("the texts queued, sent and failed (masked)"))
    db_option(q)
    q.add_argument("--failed", action="store_true", help=_t("only those that failed for good, with the reason"))
    q.add_argument("--state", choices=("waiting", "pending", "sending", "sent", "dead", "skipped"),
                   help=_t("only those in this state"))
    q.add_argument("--limit", type=int, default=500, help=_t("at most this many, newest first (500)"))
    add_json(q)
    q.set_defaults(handler=run_notices, needs_config=False)

    q = cs.add_parser("notice-key", help=_t("print the notifier's public key, for the kiosks' [central] notice_key"))
    db_option(q)
    notify_options(q, settings=False)
    add_json(q)
    q.set_defaults(handler=run_notice_key, needs_config=False)

    q = cs.add_parser("seed", help=_t("load the demo catalog, documents, cases and fee notices"))
    db_option(q)
    q.add_argument("--hash-key", default=argparse.SUPPRESS, metavar="K", help=_t("the deployment's holder hash key (else ${variable}, "
                                                      "else [privacy] hash_key of the kiosk config)").format(variable=ENV_HASH_KEY))
    q.add_argument("--catalog", metavar="FILE", default=str(DEMO_CATALOG), help=_t("the catalog to load "
                                                                                   "(default config/demo-catalog.json)"))
    q.add_argument("--holder", action="append", default=[], metavar="ID_NUMBER",
                   help=_t("also release the demo documents of demo holder 1 to this (synthetic) ID number; repeatable"))
    q.add_argument("--hall-kiosk", action="append", default=[], metavar="ID",
                   help=_t("this kiosk also stands in the demo hall (queue tickets); repeatable"))
    q.add_argument("--queue-day", metavar="YYYY-MM-DD", help=_t("the day of the demo appointments (default: the demo "
                                                                "queue's today, see queue-clock)"))
    add_json(q)
    q.set_defaults(handler=run_seed, needs_config=False)

    q = cs.add_parser("queue-clock", help=_t("the demo queue's clock: open the hall at any hour, let the queue advance"),
                      description=_t("The demo queue (queue tickets) runs on the platform's clock plus an offset; "
                                     "signatures keep the real clock. Without an option: print the queue's now."))
    db_option(q)
    how = q.add_mutually_exclusive_group()
    how.add_argument("--set", metavar="RFC3339", help=_t("the queue's now from this moment, e.g. 2026-05-18T09:00:00+08:00"))
    how.add_argument("--advance", type=float, metavar="MINUTES", help=_t("move the queue's clock on by this many minutes"))
    how.add_argument("--clear", action="store_true", help=_t("back to the platform's own clock"))
    add_json(q)
    q.set_defaults(handler=run_queue_clock, needs_config=False)

    q = cs.add_parser("migrate", help=_t("upgrade the platform's database in place and quarantine rows it cannot serve"))
    db_option(q)
    add_json(q)
    q.set_defaults(handler=run_migrate, needs_config=False)

    q = cs.add_parser("export", help=_t("what the platform stored: transactions by kiosk and seq"))
    db_option(q)
    q.add_argument("--kiosk", metavar="ID", help=_t("only this kiosk's transactions"))
    add_json(q)
    q.set_defaults(handler=run_export, needs_config=False)


def _db(ctx, *, existing: bool = False, upgrade: bool = False):
    """The platform's database; with `existing`, one that is there already (a command that only reads it
    must not leave an empty database behind a mistyped --db). A schema older than the code: exit 2 naming
    `kiosk central migrate` (which passes `upgrade`); a database that cannot be reached: exit 1."""
    from kiosk.central import database
    from kiosk.central.db import DEFAULT_DB, CentralDB, KeyFileNeeded, SecretKeyError

    _resolve_db(ctx)
    try:
        path = database.sqlite_path(database.database_url(ctx.args.db))
    except database.StoreError as exc:
        print(f"kiosk: central: --db: {exc}", file=sys.stderr)
        sys.exit(EXIT_USAGE)
    if existing and path is not None and not path.is_file():
        print(_t("kiosk: central: no platform database at {db}: give --db the platform's file "
                 "(default {default}); `kiosk central serve` creates one").format(db=ctx.args.db, default=DEFAULT_DB),
              file=sys.stderr)
        sys.exit(EXIT_USAGE)
    try:
        return CentralDB(ctx.args.db, key_file=ctx.args.key_file, upgrade=upgrade)
    except (KeyFileNeeded, database.SchemaBehind) as exc:
        print(f"kiosk: central: {exc}", file=sys.stderr)
        sys.exit(EXIT_USAGE)
    except (SecretKeyError, database.StoreError) as exc:
        print(f"kiosk: central: {exc}", file=sys.stderr)
        sys.exit(EXIT_FAILED)


def _resolve_db(ctx) -> None:
    """`--db` and `--key-file` when not given: $KIOSK_CENTRAL_DB / $KIOSK_CENTRAL_KEY_FILE, else `[central]` of
    the settings file given with --settings, else var/central.db (and its key beside it)."""
    from kiosk.central.db import DEFAULT_DB
    from kiosk.central.sealing import ENV_KEY_FILE

    args = ctx.args
    if getattr(args, "db", None) and (getattr(args, "key_file", None) or os.environ.get(ENV_KEY_FILE)):
        return
    central = None
    if getattr(args, "settings", None):
        central = _platform_settings(ctx, resolve=False)[1].central
    if not getattr(args, "db", None):
        args.db = os.environ.get(ENV_DB) or (central.database if central else None) or str(DEFAULT_DB)
    if not getattr(args, "key_file", None) and not os.environ.get(ENV_KEY_FILE) and central and central.key_file:
        args.key_file = central.key_file


def _beside(ctx) -> Path:
    """A path whose directory holds the platform's own files (central.toml, notice.key): the SQLite
    database, or on PostgreSQL the sealing key file."""
    from kiosk.central import database
    from kiosk.central.sealing import ENV_KEY_FILE

    _resolve_db(ctx)
    try:
        path = database.sqlite_path(database.database_url(ctx.args.db))
    except database.StoreError:
        path = None
    return path or Path(getattr(ctx.args, "key_file", None) or os.environ.get(ENV_KEY_FILE) or "central.key")


def run_server(ctx) -> int:
    import uvicorn

    class Platform(uvicorn.Server):
        @contextlib.contextmanager
        def capture_signals(self):
            # uvicorn's own version re-raises SIGTERM after the graceful shutdown, so the process
            # would end "killed by SIGTERM"; a finished shutdown is a success (exit 0)
            previous = {sig: signal.signal(sig, self.handle_exit) for sig in (signal.SIGINT, signal.SIGTERM)}
            try:
                yield
            finally:
                for sig, handler in previous.items():
                    signal.signal(sig, handler)

    args = ctx.args
    tls = {}
    if bool(args.tls_cert) != bool(args.tls_key):
        print(_t("kiosk: central: --tls-cert and --tls-key go together"), file=sys.stderr)
        return EXIT_USAGE
    if args.tls_cert:
        for path in (args.tls_cert, args.tls_key):
            if not Path(path).is_file():
                print(_t("kiosk: central: {path}: no such file").format(path=path), file=sys.stderr)
                return EXIT_USAGE
        tls = {"ssl_certfile": args.tls_cert, "ssl_keyfile": args.tls_key}
    if not 1 <= args.workers <= 64:
        print(_t("kiosk: central: --workers {workers}: give 1 to 64 worker processes").format(workers=args.workers),
              file=sys.stderr)
        return EXIT_USAGE
    notifier = _notifier_setup(ctx) if args.notify else None
    db = _db(ctx)
    stop = threading.Event()
    thread = None
    try:
        page_key = _notice_key(ctx)
        options = {"host": args.host, "port": args.port, "log_config": None, "server_header": False,
                   "timeout_graceful_shutdown": 10, "access_log": args.access_log, **tls}
        if args.workers > 1:
            # each worker builds its own app and engine from these arguments (worker_app); nothing a worker
            # needs is held in another's memory: nonces, counts and state are in the database
            _check_app(ctx, db)
            os.environ[ENV_WORKER_ARGS] = json.dumps(
                {k: v for k, v in vars(args).items() if isinstance(v, (str, int, float, bool, type(None)))})
            log.info("central platform on %s://%s:%d with %d workers, database %s", "https" if tls else "http",
                     args.host, args.port, args.workers, db.shown)
            config = uvicorn.Config(f"{__name__}:worker_app", factory=True, workers=args.workers, **options)
            sock = config.bind_socket()
            from uvicorn.supervisors import Multiprocess

            from kiosk.central import metrics
            with tempfile.TemporaryDirectory(prefix="kiosk-central-metrics-") as counts:
                metrics.prepare_multiprocess_dir(counts)   # before a worker imports prometheus_client
                Multiprocess(config, sockets=[sock]).run()
            return EXIT_OK
        app, key_source = _build_app(ctx, db, page_key)
        log.info("central platform on %s://%s:%d, database %s; holder hash key from %s",
                 "https" if tls else "http", args.host, args.port, db.shown, key_source)
        if notifier is not None:
            thread = threading.Thread(target=_notify_thread, args=(ctx, *notifier, page_key, stop), name="notifier")
            thread.start()
        # log_config=None: uvicorn's records go through our handler, which redacts ID numbers
        server = Platform(uvicorn.Config(app, **options))
        try:
            server.run()
        except SystemExit:  # uvicorn gives up this way when it cannot listen
            pass
        if not server.started:
            print(_t("kiosk: central: could not listen on {host}:{port} (another process on the port? "
                     "see the error above; choose another with --port)").format(host=args.host, port=args.port),
                  file=sys.stderr)
            return EXIT_FAILED
    except OSError as exc:
        print(_t("kiosk: central: could not listen on {host}:{port}: {reason} (another process on "
                 "the port? choose another with --port)").format(host=args.host, port=args.port, reason=exc.strerror),
              file=sys.stderr)
        return EXIT_FAILED
    finally:
        stop.set()
        if thread is not None:
            thread.join(timeout=30)
        db.close()
    log.info("central platform stopped")
    return EXIT_OK


def _build_app(ctx, db, page_key):
    """The platform's app over `db`, as its arguments and settings say; (app, where the hash key came from)."""
    from kiosk.central.app import create_app
    from kiosk.config import ConfigError

    try:
        key, key_source = hash_key(ctx)
    except ConfigError as exc:  # everything but posting cases works without it
        key, key_source = None, _t("nowhere: {problem}; POST /api/v1/cases answers 503 until it is given").format(
            problem=exc)
    path, settings = _platform_settings(ctx)
    db.heartbeat_keep_s = settings.central.heartbeat_history_days * 86400
    app = create_app(db, hash_key=key, notice_key=page_key, queues=_queue_system(ctx, db), **_fee_options(ctx, db),
                     console_trust=_console_trust(path, settings))
    return app, key_source


def _console_trust(path: Path, settings):
    """The operator keys of `[console] trusted_keys`; exit 2 naming the file that cannot be read."""
    from kiosk.central.console.config_page import TrustError, load_trust

    try:
        return load_trust(settings.console.trusted_keys, path.parent, settings.console.threshold)
    except TrustError as exc:
        print(f"kiosk: central: {path}: {exc}", file=sys.stderr)
        sys.exit(EXIT_USAGE)


def _check_app(ctx, db) -> None:
    """Settings and plug-ins load before the workers start: a mistake exits 2 here, not in every worker."""
    _queue_system(ctx, db)
    _fee_options(ctx, db)


def worker_app():
    """One worker's app (`kiosk central --workers N`): its own engine and pool over the same database."""
    from types import SimpleNamespace

    from kiosk import log as kiosk_log

    kiosk_log.setup()
    ctx = SimpleNamespace(args=argparse.Namespace(**json.loads(os.environ[ENV_WORKER_ARGS])))
    db = _db(ctx)
    app, _ = _build_app(ctx, db, _notice_key(ctx))
    log.info("worker %d serving, database %s", os.getpid(), db.shown)
    return app


def _platform_settings(ctx, resolve: bool = True):
    """The platform's settings (`--settings`, else central.toml beside the database) and where they are;
    exit 2 naming the file and key when unusable."""
    from kiosk.central import settings as platform_settings

    explicit = getattr(ctx.args, "settings", None)
    path = platform_settings.settings_path(_beside(ctx) if resolve else Path(), explicit)
    try:
        return path, platform_settings.load(path, required=bool(explicit))
    except platform_settings.SettingsError as exc:
        print(f"kiosk: central: {exc}", file=sys.stderr)
        sys.exit(EXIT_USAGE)


def _queue_system(ctx, db):
    """The hall's own queue system that `[queues] system` in the platform's settings names; None (the demo
    queue) without one. Exit 2 naming the file when it cannot be loaded."""
    from kiosk.central.queues import load_system

    path, settings = _platform_settings(ctx)
    queues = settings.queues
    if queues is None:
        return None
    options = {k: v for k, v in queues.model_dump().items() if k != "system"}
    try:
        return load_system(queues.system, db, options)
    except Exception as exc:
        print(_t("kiosk: central: {path}: [queues] system = {value!r} cannot be loaded: {problem}").format(
            path=path, value=queues.system, problem=f"{type(exc).__name__}: {exc}"), file=sys.stderr)
        sys.exit(EXIT_USAGE)


def _fee_options(ctx, db) -> dict:
    """The fee-notice issuer that `[fees] issuer` names (the demo issuer by default) and `[fees]
    receipt_base_url`; exit 2 naming the file when the issuer cannot be loaded: the platform does not start
    without it."""
    from kiosk.central.fee_notices import load_issuer

    path, settings = _platform_settings(ctx)
    fees = settings.fees
    try:
        return {"fee_issuer": load_issuer(fees.issuer, fees.issuer_spec(), db),
                "receipt_base_url": fees.receipt_base_url}
    except Exception as exc:
        print(_t("kiosk: central: {path}: [fees] issuer = {value!r} cannot be loaded: {problem}").format(
            path=path, value=fees.issuer, problem=f"{type(exc).__name__}: {exc}"), file=sys.stderr)
        sys.exit(EXIT_USAGE)


# -- the notifier ---------------------------------------------------------------------------------

def _notice_key(ctx):
    from kiosk.central import notice_key

    path = notice_key.key_path(_beside(ctx), getattr(ctx.args, "notice_key", None))
    try:
        return notice_key.load_or_create(path)
    except notice_key.NoticeKeyError as exc:
        print(f"kiosk: central: {exc}", file=sys.stderr)
        sys.exit(EXIT_FAILED)


def _notifier_setup(ctx, clock=None):
    """The [notify] settings and the gateway they name; exit 2 naming the file and key when unusable."""
    import time

    from kiosk.central.sms import GatewaySettingsError, make_gateway

    path, settings = _platform_settings(ctx)
    notify = settings.notify
    if notify is None:
        print(_t("kiosk: central: {path}: no [notify] table: the notifier needs its gateway and page_base_url "
                 "(docs/pickup.md)").format(path=path), file=sys.stderr)
        sys.exit(EXIT_USAGE)
    try:
        gateway = make_gateway(notify.gateway_spec(), clock=clock or time.time)
    except GatewaySettingsError as exc:
        print(f"kiosk: central: {path}: {exc}", file=sys.stderr)
        sys.exit(EXIT_USAGE)
    return notify, gateway


def _notify_thread(ctx, notify, gateway, key, stop: threading.Event) -> None:
    from kiosk.central.notifier import Notifier

    with _db(ctx) as db:  # a connection of its own: CentralDB is used from one thread
        Notifier(db, gateway, notify, key).run(stop)


def _moment(value: str, what: str) -> datetime | None:
    """An option's RFC 3339 time with its offset; None, having said so, when it is not one."""
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        moment = None
    if moment is None or moment.tzinfo is None:
        print(_t("kiosk: central {option} {value!r}: expected RFC 3339 with an offset, e.g. 2026-11-30T09:00:00+08:00"
                 ).format(option=what, value=value), file=sys.stderr)
        return None
    return moment


def run_notify(ctx) -> int:
    import time

    from kiosk.central.notifier import Notifier

    args = ctx.args
    clock = time.time
    if args.now:
        if not args.once:
            print(_t("kiosk: central notify: --now goes with --once"), file=sys.stderr)
            return EXIT_USAGE
        fixed = _moment(args.now, "notify: --now")
        if fixed is None:
            return EXIT_USAGE
        clock = fixed.timestamp
    notify, gateway = _notifier_setup(ctx, clock)
    key = _notice_key(ctx)
    with _db(ctx) as db:
        notifier = Notifier(db, gateway, notify, key, clock)
        if args.once:
            summary = notifier.run_once()
            ctx.emit(summary, ", ".join(f"{k} {v}" for k, v in summary.items()))
            return EXIT_OK
        stop = threading.Event()
        for sig in (signal.SIGINT, signal.SIGTERM):
            signal.signal(sig, lambda *_: stop.set())
        notifier.run(stop)
    log.info("notifier stopped")
    return EXIT_OK


def run_notices(ctx) -> int:
    from kiosk.central import sms_queue
    from kiosk.central.routes.notices import notice_records

    state = "dead" if ctx.args.failed else ctx.args.state
    with _db(ctx) as db:
        with db.reading() as conn:
            rows = notice_records(sms_queue.listing(conn, state, ctx.args.limit))
    lines = [f"{r['updated_at']}  {r['state']:8} {r['template']:16} "
             + _t("case {number}").format(number=r['case_number']) + f"  {r['phone_masked'] or ''}  "
             + _t("attempts {n}").format(n=r['attempts']) + (f"\n    {r['last_error']}" if r["last_error"] else "")
             for r in rows]
    lines.append(_t("{n} messages {state}").format(n=len(rows), state=state) if state
                 else _t("{n} messages").format(n=len(rows)))
    ctx.emit({"notices": rows}, "\n".join(lines))
    return EXIT_OK


def run_notice_key(ctx) -> int:
    from kiosk.central import notice_key

    path = notice_key.key_path(_beside(ctx), getattr(ctx.args, "notice_key", None))
    existed = path.exists()
    public = notice_key.public_text(_notice_key(ctx))
    ctx.emit({"notice_key": public, "file": str(path), "created": not existed},
             f"{public}\n" + (_t("(put it in each kiosk's config as [central] notice_key; the private key is {path}, "
                                  "made now)") if not existed else
                               _t("(put it in each kiosk's config as [central] notice_key; the private key is {path})")
                               ).format(path=path))
    return EXIT_OK


def _provision(ctx, what: str) -> int:
    from kiosk.central.db import ProvisioningError

    args = ctx.args
    with _db(ctx) as db:
        try:
            if what == "kiosk":
                secret, created = db.add_kiosk(args.kiosk_id, args.secret, groups=args.group, rotate=args.rotate)
                doc = {"kiosk_id": args.kiosk_id, "secret": secret, "created": created}
                text = (_t("kiosk {id} provisioned; its secret (put it in the kiosk's config as [central] secret; "
                           "shown only now):") if created else
                        _t("kiosk {id} updated; its secret (put it in the kiosk's config as [central] secret; "
                           "shown only now):")).format(id=args.kiosk_id) + f"\n{secret}"
            else:
                secret, created = db.add_operator(args.name, args.secret, rotate=args.rotate)
                doc = {"operator": args.name, "secret": secret, "created": created}
                text = (_t("operator {name} provisioned; the secret (sign requests with X-Operator-Id; "
                           "shown only now):") if created else
                        _t("operator {name} updated; the secret (sign requests with X-Operator-Id; "
                           "shown only now):")).format(name=args.name) + f"\n{secret}"
        except ProvisioningError as exc:
            print(f"kiosk: central: {exc}", file=sys.stderr)
            return EXIT_FAILED if "already provisioned" in str(exc) else EXIT_USAGE
    ctx.emit(doc, text)
    return EXIT_OK


def run_add_kiosk(ctx) -> int:
    if not ctx.args.enrolment_token:
        return _provision(ctx, "kiosk")
    from datetime import datetime

    from kiosk.central import enrolment
    from kiosk.central.db import ProvisioningError

    args = ctx.args
    if args.secret or args.rotate:
        print(_t("kiosk: central add-kiosk: --enrolment-token gives the kiosk a new secret when it enrols; "
                 "it does not go with --secret or --rotate"), file=sys.stderr)
        return EXIT_USAGE
    with _db(ctx) as db:
        try:
            created = db.secret_of("kiosk", args.kiosk_id) is None
            if created:
                db.add_kiosk(args.kiosk_id, groups=args.group)
            issued = enrolment.issue(db, args.kiosk_id, args.valid_hours * 3600)
        except ProvisioningError as exc:
            print(f"kiosk: central: {exc}", file=sys.stderr)
            return EXIT_USAGE
    until = datetime.fromtimestamp(issued.expires_at).astimezone().isoformat(timespec="minutes")
    doc = {"kiosk_id": args.kiosk_id, "created": created, "enrolment_token": issued.token, "expires_at": until}
    ctx.emit(doc, _t("kiosk {id}: its enrolment token, for one use until {until} (on the kiosk: kiosk provision "
                     "--enrolment-token TOKEN ...; shown only now):").format(id=args.kiosk_id, until=until)
             + f"\n{issued.token}")
    return EXIT_OK


def run_add_operator(ctx) -> int:
    return _provision(ctx, "operator")


def _new_password(args) -> str | None:
    import getpass

    if args.password_stdin:
        return sys.stdin.readline().rstrip("\r\n")
    if not sys.stdin.isatty():
        print(_t("kiosk: central add-user: no terminal to ask the password on: give it on standard input with "
                 "--password-stdin"), file=sys.stderr)
        return None
    first = getpass.getpass(_t("password for {name} (at least 10 characters): ").format(name=args.name))
    if getpass.getpass(_t("the same password again: ")) != first:
        print(_t("kiosk: central add-user: the two passwords differ; nothing was changed"), file=sys.stderr)
        return None
    return first


def run_add_user(ctx) -> int:
    from kiosk.central.console import accounts

    args = ctx.args
    try:   # the name, role and hall first: no password is asked for an account that cannot be made
        accounts.check_new_account(args.name, "x" * accounts.MIN_PASSWORD, args.role, args.hall)
    except accounts.AccountError as exc:
        print(f"kiosk: central add-user: {exc}", file=sys.stderr)
        return EXIT_USAGE
    password = _new_password(args)
    if password is None:
        return EXIT_USAGE
    with _db(ctx) as db:
        try:
            with db.begin() as conn:
                created = accounts.add_user(conn, db.clock(), args.name, password, args.role, args.hall,
                                            by=f"cli:{getpass_user()}", replace=args.replace)
        except accounts.AccountError as exc:
            print(f"kiosk: central add-user: {exc}", file=sys.stderr)
            return EXIT_FAILED if "already exists" in str(exc) else EXIT_USAGE
    role = (_t("{role}, hall {hall}").format(role=args.role, hall=args.hall) if args.hall else args.role)
    ctx.emit({"user": args.name, "role": args.role, "hall": args.hall, "created": created},
             (_t("console account {name} ({role}) made; sign in at /console/login") if created else
              _t("console account {name} ({role}) replaced; sign in at /console/login")).format(name=args.name,
                                                                                             role=role))
    return EXIT_OK


def getpass_user() -> str:
    import getpass

    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return "unknown"


def run_users(ctx) -> int:
    from kiosk.central.console import accounts

    with _db(ctx, existing=True) as db, db.reading() as conn:
        found = accounts.users(conn)
    disabled = _t("disabled")
    lines = [f"{u['name']:<24} {u['role']:<9} {u['hall'] or '-':<16} {disabled if u['disabled_at'] else ''}"
             for u in found]
    ctx.emit({"users": found}, "\n".join(lines) if lines else _t("no console accounts: `kiosk central add-user`"))
    return EXIT_OK


def hash_key(ctx) -> tuple[str, str]:
    """The deployment's holder hash key and where it came from: --hash-key, $KIOSK_HASH_KEY,
    the kiosk config's [privacy] hash_key, else the demo key of config/kiosk.toml."""
    from kiosk import config

    if getattr(ctx.args, "hash_key", None):
        return ctx.args.hash_key, "--hash-key"
    if os.environ.get(ENV_HASH_KEY):
        return os.environ[ENV_HASH_KEY], f"${ENV_HASH_KEY}"
    for path in dict.fromkeys([config.config_path(ctx.args.config), EMBEDDED_CONFIG]):
        if not path.exists():
            continue
        key = config.read_document(path).get("privacy", {}).get("hash_key")
        if isinstance(key, str) and key:
            return key, f"{path}: [privacy] hash_key"
    raise config.ConfigError(_t("no holder hash key: pass --hash-key, set ${variable}, or set [privacy] hash_key "
                                "in {file}").format(variable=ENV_HASH_KEY, file=config.config_path(ctx.args.config)))


def run_seed(ctx) -> int:
    import json

    from pydantic import ValidationError
    from stdnum.cn import ric

    from kiosk.central import demo
    from kiosk.central.intake import problems
    from kiosk.core.privacy import holder_hash, mask_id_number
    from kiosk.wire.catalog import Catalog

    from kiosk.config import ConfigError

    args = ctx.args
    try:
        key, key_source = hash_key(ctx)
    except ConfigError as exc:  # everything but posting cases works without it
        key, key_source = None, _t("nowhere: {problem}; POST /api/v1/cases answers 503 until it is given").format(
            problem=exc)
    try:
        queue_day = date.fromisoformat(args.queue_day) if args.queue_day else None
    except ValueError:
        print(_t("kiosk: central seed: --queue-day {value!r}: expected YYYY-MM-DD").format(value=args.queue_day),
              file=sys.stderr)
        return EXIT_USAGE
    for number in args.holder:
        if not ric.is_valid(number):
            print(_t("kiosk: central seed: --holder {number}: not a valid resident ID number "
                     "(GB 11643 check digit or birth date)").format(number=mask_id_number(number)), file=sys.stderr)
            return EXIT_USAGE
    catalog_path = Path(args.catalog)
    try:
        body = catalog_path.read_bytes()
    except FileNotFoundError:
        print(_t("kiosk: central seed: {path}: catalog not found (pass --catalog FILE)").format(path=catalog_path),
              file=sys.stderr)
        return EXIT_FAILED
    try:
        catalog = Catalog.model_validate_json(body)
    except ValidationError as exc:
        first = problems(exc)[:5]
        print(_t("kiosk: central seed: {path}: not a valid catalog: {problems}").format(
            path=catalog_path, problems="; ".join(f"{p['field']}: {p['problem']}" for p in first)), file=sys.stderr)
        return EXIT_FAILED
    with _db(ctx) as db:
        stored = db.put_catalog(body, catalog.version, len(catalog.items), "seed")
        font = demo.cjk_font()[1]
        documents = []
        for d in demo.DEMO_DOCUMENTS:
            numbers = [demo.DEMO_HOLDERS[i].id_number for i in d.holders]
            db.put_document(d.doc_id, d.title, d.pages, demo.render_pdf(d, numbers))
            documents.append({"id": d.doc_id, "title": d.title, "pages": d.pages,
                              "holders": [mask_id_number(n) for n in numbers]})
        released = 0
        for doc_id, holder in demo.releases(key):
            released += db.release_document(doc_id, holder)
        for number in args.holder:
            for d in demo.DEMO_DOCUMENTS:
                if 0 in d.holders:
                    released += db.release_document(d.doc_id, holder_hash(key, number))
        cases, events = [], 0
        if key:   # the demo cases of the approval system, for deposits by case number or barcode, and their steps
            from kiosk.central.cases import CaseBook, CaseUpload
            from kiosk.central.progress import CaseProgressBook, EventConflict
            from kiosk.wire.progress import CaseEventUpload

            book, steps = CaseBook(db, db.seal, key, db.clock), CaseProgressBook(db, db.clock)
            now = db.clock()
            for body in demo.case_uploads(now):
                if book.for_kiosk(body["case_number"]) is not None:   # seeded before: kept, dates and all
                    cases.append({"case_number": body["case_number"], "status": "unchanged"})
                    continue
                posted = book.post(CaseUpload.model_validate_json(json.dumps(body)), "seed")
                cases.append({"case_number": body["case_number"], "status": posted["status"]})
            for number, event in demo.case_events(now):
                try:
                    events += steps.add_event(number, CaseEventUpload.model_validate_json(json.dumps(event)),
                                              "seed") == "created"
                except EventConflict:   # seeded on another day: the first day's steps stay
                    pass
        from kiosk.central import demo_hall
        from kiosk.central.queues import DemoQueue

        queues = demo_hall.seed(DemoQueue(db, db.clock), key, day=queue_day, kiosks=args.hall_kiosk)
        from kiosk.central.fee_issuer import DemoFeeIssuer

        fee_notices = DemoFeeIssuer(db).seed()   # the demo issuer's notices, dated from today
    doc = {"catalog": {"version": catalog.version, "items": len(catalog.items), "changed": stored["changed"],
                       "source": str(catalog_path)},
           "documents": documents, "new_releases": released, "cases": cases, "queues": queues,
           "new_case_events": events,
           "fee_notices": fee_notices,
           "hash_key_from": key_source,
           "pdf_font": font,
           "holders": [{"id_number": mask_id_number(h.id_number), "label": h.label} for h in demo.DEMO_HOLDERS]}
    lines = [(_t("catalog {version}: {n} items (loaded)") if stored['changed'] else
              _t("catalog {version}: {n} items (unchanged)")).format(version=catalog.version, n=len(catalog.items)),
             _t("{documents} demo documents, {releases} new releases (holder hash key from {source})").format(
                 documents=len(documents), releases=released, source=key_source)]
    lines += ["  " + _t("{id} {title} ({pages} p.) -> {holders}").format(
        id=d['id'], title=d['title'], pages=d['pages'], holders=', '.join(d['holders'])) for d in documents]
    lines += [_t("demo case {number}: {status}").format(number=c['case_number'], status=c['status']) for c in cases]
    lines += [_t("{n} new demo case events (the steps of the demo cases)").format(n=events)] if cases else []
    lines.append(_t("demo hall {hall}: {n} business types, kiosks {kiosks}").format(
        hall=queues['hall'], n=queues['businesses'], kiosks=', '.join(queues['kiosks'])))
    lines += ["  " + _t("appointment {code} ({business}, {day} {slot})").format(
        code=a['code'], business=a['business'], day=a['day'], slot=a['slot']) for a in queues["appointments"]]
    lines += [(_t("demo fee notice {number} {department} {payer} {yuan} yuan, hall {hall}") if n['new'] else
               _t("demo fee notice {number} {department} {payer} {yuan} yuan, hall {hall} (there already)")).format(
        number=n['number'], department=n['department'], payer=n['payer'], yuan=f"{n['total_fen'] / 100:.2f}",
        hall=n['hall']) for n in fee_notices]
    ctx.emit(doc, "\n".join(lines))
    return EXIT_OK


def run_queue_clock(ctx) -> int:
    """The demo queue's clock (kiosk/central/queues.py): set, advanced, cleared or shown."""
    from kiosk.central.queues import DemoQueue

    args = ctx.args
    at = _moment(args.set, "queue-clock: --set") if args.set else None
    if args.set and at is None:
        return EXIT_USAGE
    with _db(ctx) as db:
        queue = DemoQueue(db, db.clock)
        if args.set or args.clear:
            queue.set_clock(at)
        elif args.advance is not None:
            queue.advance_clock(args.advance * 60)
        offset = queue.offset()
        now = datetime.fromtimestamp(queue.clock()).astimezone(at.tzinfo if at else None)
    ctx.emit({"now": now.isoformat(timespec="seconds"), "offset_s": round(offset, 3)},
             _t("the demo queue's now: {now} (the platform's clock {offset} s)").format(
                 now=now.isoformat(timespec='seconds'), offset=f"{offset:+.0f}"))
    return EXIT_OK


def run_export(ctx) -> int:
    with _db(ctx, existing=True) as db:
        rows = db.transactions(ctx.args.kiosk)
    doc = {"transactions": [{"id": r["id"], "seq": r["seq"], "kind": r["kind"], "kiosk_id": r["kiosk_id"]}
                            for r in rows]}
    lines = [f"{r['kiosk_id']}\t{r['seq']}\t{r['kind']}\t{r['id']}" for r in rows]
    lines.append(_t("{n} transactions of kiosk {kiosk}").format(n=len(rows), kiosk=ctx.args.kiosk) if ctx.args.kiosk
                 else _t("{n} transactions").format(n=len(rows)))
    ctx.emit(doc, "\n".join(lines))
    return EXIT_OK


def run_migrate(ctx) -> int:
    """Bring the database to the newest schema (Alembic) and move unservable rows into `quarantine`."""
    from kiosk.central.quarantine import quarantine

    with _db(ctx, upgrade=True) as db:
        applied = db.applied_migrations
        moved = quarantine(db, db.clock)
        kept = db.count("quarantine")
    doc = {"applied": applied, "quarantined": moved, "quarantine_rows": kept}
    lines = [_t("migrations applied: {names}").format(names=', '.join(applied) or _t("none (up to date)"))]
    lines += [_t("quarantined from {table}: {n}").format(table=t, n=n) for t, n in moved.items()]
    lines.append(_t("rows in quarantine: {n} (SELECT * FROM quarantine)").format(n=kept))
    ctx.emit(doc, "\n".join(lines))
    return EXIT_OK
