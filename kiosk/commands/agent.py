"""`kiosk agent`: the network side of the kiosk (sync relay, catalog pull, heartbeat, management API and its
`/metrics`). Never a device."""
from __future__ import annotations

import logging
import os
import random
import sys
import signal
import threading

from kiosk.commands._text import _t
from kiosk.commands.base import EXIT_OK, EXIT_USAGE
from kiosk.sdnotify import Notifier, watchdog_interval
from kiosk.alarms import Alarms
from kiosk.core.config_follow import ConfigFollower
from kiosk.core.health import HealthBoard
from kiosk.sync import management
from kiosk.sync.agent import LAST_SYNC_KEY, Agent, Capacity, Periodic
from kiosk.sync.catalog_pull import CatalogPull
from kiosk.sync.client import CentralClient
from kiosk.sync.config_apply import ConfigApplier, current_version
from kiosk.sync.config_pull import ConfigPull
from kiosk.sync.heartbeat import HeartbeatSender
from kiosk.sync.metrics import AgentMetrics
from kiosk.sync.outbox import Outbox
from kiosk.sync.relay import Relay
from kiosk.sync.state import SyncState

log = logging.getLogger("kiosk.agent")


def register(sub) -> None:
    p = sub.add_parser("agent", help=_t("run the agent: sync relay, catalog pull, heartbeat (stops on SIGTERM/SIGINT)"))
    p.set_defaults(handler=run)


def catalog_importer(store):
    """`apply_catalog(bytes) -> version` over the kiosk's guide catalog, and what to close after."""
    from kiosk.core.guides.catalog import GuideCatalog
    guides = GuideCatalog(store)

    def apply(data: bytes) -> str:
        return str(guides.replace(data, source="central"))
    return apply, guides


CONFIG_FOLLOW_S = 5.0
# what the agent runs on: a bundle that changes none of these leaves the agent running
AGENT_SETTINGS = ("sync.", "central.")


def restart_on_new_config(settings, stop: threading.Event, restart: dict):
    """A task: when a newly applied config changes what the agent runs on (intervals, timeouts),
    stop the loop after the current request; `run` then starts the agent again on it."""
    follower = ConfigFollower(settings)

    def follow() -> None:
        change = follower.check()
        if change is not None and any(k.startswith(AGENT_SETTINGS) for k in change.changed):
            log.info("agent: config version %s changes %s; restarting on it", change.version,
                     ", ".join(sorted(change.changed)))
            restart["version"] = change.version
            stop.set()

    return follow


def prepare_catalog(settings, store) -> None:
    """At start, off the loop: seed a kiosk that has no catalog and store the search readings of
    one that lacks them (first boot, an upgrade), so the UI never reads pinyin itself."""
    from kiosk.core.guides.catalog import CatalogError, GuideCatalog

    guides = GuideCatalog(store)
    try:
        guides.ensure_seeded(settings)
        guides.ensure_readings()
    except CatalogError as exc:
        log.error("agent: guide catalog: %s", exc)
    except Exception:  # the agent's real work (the outbox) must go on
        log.exception("agent: preparing the guide catalog failed")
    finally:
        guides.close()


def build(ctx, stop: threading.Event, notifier: Notifier | None = None,
          restart: dict | None = None, metrics: AgentMetrics | None = None) -> tuple[Agent, list]:
    """The agent's parts, composed; `metrics` (made once by `run`, also served on the management API)
    is handed to each part that learns an outcome."""
    restart = {} if restart is None else restart
    notifier = notifier or Notifier(address="")
    settings, store = ctx.settings, ctx.store
    conn = store.connect()
    client = CentralClient.from_settings(settings)
    outbox = Outbox(conn)
    alarms = Alarms(conn, outbox)
    health = HealthBoard(conn)
    state = SyncState(conn)
    relay = Relay.from_settings(settings, outbox, client, metrics=metrics)
    if metrics is not None:
        metrics.restore_last_sync(state.get(LAST_SYNC_KEY))
    built: list[Agent] = []
    beat = HeartbeatSender(client, outbox, kiosk_id=settings.kiosk.id, db_uuid=store.identity.db_uuid,
                           devices=lambda: [d.as_dict() for d in health.all()],
                           # + the disk_full alarm while a full database cannot take its row
                           alarms=lambda: [a.as_dict() for a in alarms.active()] + (
                               built[0].unwritten_alarms() if built else []),
                           config_version=lambda: current_version(settings), metrics=metrics)
    apply, guides = catalog_importer(store)
    catalog = CatalogPull(client, state, apply, alarms, metrics=metrics)
    s = settings.sync
    agent = Agent(relay, outbox, state, heartbeat=beat, heartbeat_interval_s=s.heartbeat_interval_s,
                  catalog=catalog, catalog_interval_s=s.catalog_interval_s,
                  capacity=Capacity(outbox, alarms, s.outbox_alarm_items, settings.data_path, s.disk_alarm_free_mb),
                  prune_acked_days=s.prune_acked_days, start_jitter_s=s.start_jitter_s,
                  tasks=[Periodic("config pull", s.config_interval_s,
                                  ConfigPull(client, state, ConfigApplier(settings), metrics).pull),
                         Periodic("config follow", CONFIG_FOLLOW_S, restart_on_new_config(settings, stop, restart))],
                  rng=random.SystemRandom(), stop=stop,
                  beat=notifier.watchdog if notifier.enabled else None, beat_interval_s=watchdog_interval())
    built.append(agent)
    return agent, [client, guides, conn]


def run(ctx) -> int:
    from kiosk.provisioning import refusal

    refused = refusal(ctx.settings, "agent")
    if refused:
        print(refused, file=sys.stderr)
        return EXIT_USAGE
    stop = threading.Event()

    def on_signal(signum, _frame):
        log.info("agent: %s received, stopping after the current request", signal.Signals(signum).name)
        stop.set()

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    notifier = Notifier()
    restart: dict = {}
    metrics = AgentMetrics(ctx.settings.kiosk.id, ctx.store.connect)
    agent, closables = build(ctx, stop, notifier, restart, metrics)
    # the management API (signed config pushed by an operator, and /metrics) runs beside the loop, until `stop`
    api = threading.Thread(target=management.serve, args=(ctx.settings, stop), kwargs={"metrics": metrics},
                           name="management", daemon=True)
    api.start()
    threading.Thread(target=prepare_catalog, args=(ctx.settings, ctx.store), name="catalog", daemon=True).start()
    notifier.ready("agent running")
    try:
        agent.run()
    finally:
        notifier.stopping()
        stop.set()
        api.join(15)  # the API's server closes its socket (a restart binds it again) and its connections
        for c in closables:
            c.close()
    if "version" in restart:
        # the same process again, on the new config (same pid for systemd)
        os.execv(sys.executable, [sys.executable, "-m", "kiosk.cli", *sys.argv[1:]])
    return EXIT_OK
