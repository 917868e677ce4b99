"""Composition of the technician mode and the device alarms in the UI process (kiosk/app/root.py).

Builds, once per process: the recent-log ring, the alarm desk (device status
-> alarm transactions), the device panel over the UI's devices, the system
panel over kiosk/app/tech_sources.py, and the mode itself. The app shows its
screens (kiosk/screens/tech.py).

The devices are the UI's own (one owner per port): those of the device
runtime (kiosk/app/device_runtime.py), whose status changes the alarm desk
and the device panel listen to; the panel gets the devices once they are up.
What kiosk/core/ may not import from kiosk/hardware/ is handed in from here:
the test receipt and the A4 test page. The simulators' fault controls are
not made here: whoever runs the kiosk on simulators (the tour, the UI tests,
`kiosk ui` on a simulated config) hands them to `build(faults=...)`. The PIN
lockout is kept in the store.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

from kiosk.config import Settings

log = logging.getLogger(__name__)



@dataclass
class Technician:
    mode: Any                      # kiosk.core.technician.TechnicianMode
    bench: Any                     # kiosk.core.technician.bench.DeviceBench
    system: Any                    # kiosk.core.technician.system.SystemPanel
    alarms: Any                    # kiosk.core.device_alarms.AlarmDesk
    recent: Any                    # kiosk.core.technician.recent_log.RecentLog

    executor: Any = None           # kiosk.core.background.Threads: the panels' device and system work

    def stop(self) -> None:
        self.alarms.stop()
        if self.executor is not None:
            self.executor.shutdown()


def make(settings: Settings, clock, runtime, store, *, pickup_watches_doors: bool, faults=None) -> Technician:
    """The technician mode over the device runtime; `pickup_watches_doors` when the pickup locker raises
    door_left_open itself, knowing which doors are in use (kiosk/core/locker/model.py); `faults` the
    simulators' fault controls its device panel offers (kiosk.core.technician.bench.FaultControls), None on a
    real kiosk."""
    from kiosk.core.technician import recent_log
    from kiosk.core.background import Threads
    from kiosk.alarms import Alarms
    from kiosk.core.device_alarms import AlarmDesk
    from kiosk.core.technician.bench import DeviceBench
    from kiosk.core.technician.system import SystemPanel
    from kiosk.core.technician.mode import StoredLockout, TechnicianMode
    from kiosk.core.technician.test_page import write_test_page
    from kiosk.hardware.receipt import diagnostic_receipt
    from kiosk.sync.outbox import Outbox
    from kiosk.app.tech_sources import KioskFacts

    recent = recent_log.install(settings.data_path)

    def open_alarms():
        conn = store.connect()
        return Alarms(conn, Outbox(conn))

    desk = AlarmDesk(open_alarms, door_left_open_s=None if pickup_watches_doors else
                     settings.pickup.door_close_timeout_s)
    # a device check may wait on a card or a door for seconds: enough workers that the other devices'
    # status questions never queue behind it; the panels redraw through their own triggers
    work = Threads(lambda fn: fn(), workers=8, name="kiosk-tech")
    bench = DeviceBench(runtime.devices, alarms=desk, hall=settings.kiosk.hall, faults=faults, executor=work,
                        test_receipt=lambda cut: diagnostic_receipt(cut=cut), test_page=write_test_page)
    bench.status_listeners.append(desk.on_status)
    facts = KioskFacts(settings, store, recent=recent.records)
    system = SystemPanel(facts, executor=work, devices=bench.describe, before_export=lambda: desk.flush(2.0))
    mode = TechnicianMode.from_settings(settings.technician, clock=clock, lockout_book=StoredLockout(store.connect))
    tech = Technician(mode, bench, system, desk, recent, work)
    # before the runtime starts: every status change from the first one on reaches both
    runtime.add_listener(desk.on_status)
    runtime.add_listener(bench.on_status)
    runtime.on_ready(bench.set_devices)
    desk.start()
    return tech
