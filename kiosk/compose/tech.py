"""Composition of the technician mode and the device alarms in the UI process (called by kiosk/app.py).

Builds, once per process: the recent-log ring, the alarm desk (device status
-> alarm transactions), the device panel over the UI's devices, the system
panel over kiosk/compose/tech_sources.py, and the mode itself; then the screens
(kiosk/screens/tech.py) are installed when the app starts.

The devices are the UI's own (one owner per port): those of the shared device
runtime (kiosk/compose/device_runtime.py, `app.device_runtime`), whose pollers the
alarm desk and the device panel listen to; an app without it (a test of one
part) gets devices and pollers built here. What kiosk/core/ may not import from
kiosk/hardware/ is handed in from here: the simulators' fault controls, the
test receipt and the A4 test page. The PIN lockout is kept in the store.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Any

from kiosk.config import Settings

log = logging.getLogger(__name__)

POLL_INTERVAL_S = 5.0


@dataclass
class Technician:
    mode: Any                      # kiosk.core.technician.TechnicianMode
    bench: Any                     # kiosk.core.tech_bench.DeviceBench
    system: Any                    # kiosk.core.tech_system.SystemPanel
    alarms: Any                    # kiosk.core.device_alarms.AlarmDesk
    recent: Any                    # kiosk.core.recent_log.RecentLog
    pollers: list = field(default_factory=list)
    owned_devices: dict = field(default_factory=dict)

    def stop(self) -> None:
        self.alarms.stop()
        if self.owned_devices:
            for p in self.pollers:
                p.stop(1.0)
            from kiosk.devices import close_all

            close_all(self.owned_devices)


def _own_devices(app) -> tuple[dict, list]:
    """Devices and pollers of our own, for an app without the shared device runtime (tests of parts)."""
    from kiosk.devices import build_devices
    from kiosk.hardware.device import HealthPoller

    devices = build_devices(app.settings)
    return devices, [HealthPoller(d, POLL_INTERVAL_S) for d in devices.values()]


def attach(app, settings: Settings, clock) -> Technician:
    """Build the technician mode for `app` and install its screens when the app starts."""
    from kiosk.core import recent_log, sim_faults
    from kiosk.core.alarms import Alarms
    from kiosk.core.device_alarms import AlarmDesk
    from kiosk.core.health import HealthBoard
    from kiosk.core.tech_bench import DeviceBench
    from kiosk.core.tech_system import SystemPanel
    from kiosk.core.technician import StoredLockout, TechnicianMode
    from kiosk.hardware.a4_test_page import write_test_page
    from kiosk.hardware.receipt import diagnostic_receipt
    from kiosk.hardware.transport import simulator
    from kiosk.store import Store
    from kiosk.sync.outbox import Outbox
    from kiosk.compose.tech_sources import KioskFacts

    recent = recent_log.install(settings.data_path)
    store = Store.from_settings(settings)

    def open_alarms():
        conn = store.connect()
        return Alarms(conn, Outbox(conn))

    # the pickup locker raises door_left_open itself, knowing which doors are in use (kiosk/core/locker.py)
    pickup_watches_doors = hasattr(app, "pickup")
    desk = AlarmDesk(open_alarms, door_left_open_s=None if pickup_watches_doors else
                     settings.pickup.door_close_timeout_s)
    runtime = getattr(app, "device_runtime", None)   # kiosk/compose/device_runtime.py, when the app has one
    if runtime is not None:
        runtime.wait_ready(5.0)
        devices, pollers, owned = runtime.devices, runtime.pollers, {}
    else:
        devices, pollers = _own_devices(app)
        owned = devices
    faults = sim_faults.SimFaults(simulator)
    sim_faults.install(faults)   # tour steps switch faults through the same controls
    bench = DeviceBench(devices, alarms=desk, hall=settings.kiosk.hall, faults=faults,
                        test_receipt=lambda cut: diagnostic_receipt(cut=cut), test_page=write_test_page)
    bench.status_listeners.append(desk.on_status)
    facts = KioskFacts(settings, store, recent=recent.records)
    system = SystemPanel(facts, devices=bench.describe, before_export=lambda: desk.flush(2.0))
    mode = TechnicianMode.from_settings(settings.technician, clock=clock, lockout_book=StoredLockout(store.connect))
    tech = Technician(mode, bench, system, desk, recent, pollers, owned)

    health_conn = {}

    def record_health(device, status):
        # the agent's heartbeat reads device_health; only when no shared runtime writes it already
        conn = health_conn.setdefault(device.name, store.connect())
        HealthBoard(conn).report(device.name, device.driver, status.state.value, status.detail or None)

    if runtime is not None:
        runtime.add_listener(desk.on_status)
        runtime.add_listener(bench.on_status)
        runtime.on_ready(bench.set_devices)
        for p in list(runtime.pollers):   # statuses already known: pollers tell only of changes
            if p.current is not None:
                desk.on_status(p.device, p.current)
                bench.on_status(p.device, p.current)
    for p in pollers if runtime is None else ():
        p.listeners.append(desk.on_status)
        p.listeners.append(bench.on_status)
        if owned:
            p.listeners.append(record_health)
            p.listeners.append(lambda d, s: app.set_device_problem(d.name, None if s.usable else
                                                                    f"{s.state.value}:{s.detail}"))
    desk.start()
    if owned:
        for p in pollers:
            p.start()

    def install(*_args):
        from kiosk.screens.tech import install as install_screens

        install_screens(app, tech)

    app.bind(on_start=install)
    app.bind(on_stop=lambda *_a: tech.stop())
    app.technician = tech
    return tech
