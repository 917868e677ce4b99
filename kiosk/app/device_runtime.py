"""Device bring-up in the UI process: build the configured devices, poll their health, tell the app.

The UI owns every device (one owner per port). `DeviceRuntime.start()` builds
them off the main thread with `kiosk.devices.build_devices`, gives each one
`HealthPoller`, and on every status change (only on change) writes the
`device_health` row the agent's heartbeat reads (kiosk/core/health.py) and
reports the device as a problem or as fine through `report_problem(name,
DeviceProblem | None)` (kiosk/core/offer.py; the app's `set_device_problem`,
which gates the tiles): typed, never a "state:detail" string to parse.
Until a device's first status is known it counts as a problem (`starting`),
so no tile offers a service whose device has not answered yet.

Other parts of the UI hook in with `add_listener(fn(device, status))` (the
alarm desk, the technician's device panel, the pickup locker's door
reconciliation) and `on_ready(fn(devices))`. `devices` and `pollers` are
filled in place, so a reference taken early sees them once they exist.
"""
from __future__ import annotations

import logging
import threading
from typing import Callable

from kiosk.config import Settings
from kiosk.core.health import HealthBoard
from kiosk.core.offer import DeviceProblem
from kiosk.hardware.device import SYSTEM_CLOCK, Device, DeviceClock, HealthPoller, State, Status
from kiosk.store import PerThread

log = logging.getLogger(__name__)

POLL_INTERVAL_S = 5.0
StatusListener = Callable[[Device, Status], None]


class DeviceRuntime:
    def __init__(self, settings: Settings, store, *, report_problem: Callable[[str, str | None], None],
                 interval_s: float = POLL_INTERVAL_S, clock: DeviceClock = SYSTEM_CLOCK, builder=None):
        self.settings = settings
        self.store = store
        self.report_problem = report_problem
        self.interval_s = interval_s
        self.clock = clock
        self._builder = builder
        self.devices: dict[str, Device] = {}
        self.pollers: list[HealthPoller] = []
        self._listeners: list[StatusListener] = []
        self._ready_callbacks: list[Callable[[dict[str, Device]], None]] = []
        self._ready = threading.Event()
        self._lock = threading.Lock()
        self._conn = PerThread(store.connect)   # the pollers' threads each write the health board
        self._thread: threading.Thread | None = None
        self.error: BaseException | None = None

    # --- hooks ----------------------------------------------------------------------------------

    def add_listener(self, fn: StatusListener) -> None:
        """`fn(device, status)` on every status change of every device, from its poller's thread."""
        with self._lock:
            self._listeners.append(fn)
            pollers = list(self.pollers)
        for p in pollers:
            if fn not in p.listeners:
                p.listeners.append(fn)

    def on_ready(self, fn: Callable[[dict[str, Device]], None]) -> None:
        """`fn(devices)` once the devices are built (at once if they are), on the bring-up thread."""
        with self._lock:
            if not self._ready.is_set():
                self._ready_callbacks.append(fn)
                return
        fn(self.devices)

    @property
    def ready(self) -> bool:
        return self._ready.is_set()

    def wait_ready(self, timeout: float | None = None) -> bool:
        return self._ready.wait(timeout)

    # --- bring-up -------------------------------------------------------------------------------

    def configured(self) -> list[str]:
        from kiosk.devices import DEVICE_NAMES

        return [n for n in DEVICE_NAMES if getattr(self.settings.devices, n, None) is not None]

    def start(self) -> None:
        for name in self.configured():
            self.report_problem(name, DeviceProblem("starting", State.NO_DEVICE))
        self._thread = threading.Thread(target=self._bring_up, name="device-bring-up", daemon=True)
        self._thread.start()

    def _bring_up(self) -> None:
        try:
            if self._builder is not None:
                devices = self._builder(self.settings, self.clock)
            else:
                from kiosk.devices import build_devices

                devices = build_devices(self.settings, self.clock)
        except Exception as exc:  # a bug in a builder must not leave the UI waiting forever
            log.exception("device bring-up failed")
            self.error = exc
            devices = {}
        with self._lock:
            self.devices.update(devices)
            for dev in devices.values():
                poller = HealthPoller(dev, self.interval_s, listeners=[self._on_status, *self._listeners])
                self.pollers.append(poller)
            callbacks, self._ready_callbacks = self._ready_callbacks, []
            self._ready.set()
        for fn in callbacks:
            try:
                fn(self.devices)
            except Exception:
                log.exception("device ready callback failed")
        for poller in list(self.pollers):
            poller.start()
        log.info("devices up: %s", ", ".join(f"{n} ({d.driver})" for n, d in devices.items()) or "none")

    def _on_status(self, device: Device, status: Status) -> None:
        try:
            HealthBoard(self._conn()).report(device.name, device.driver, status.state.value, status.detail or None)
        except Exception:
            log.exception("%s: health not recorded", device.name)
        self.report_problem(device.name, None if status.usable else DeviceProblem(status.detail, status.state))
        log.info("%s: %s %s", device.name, status.state.value, status.detail)

    def stop(self) -> None:
        for p in self.pollers:
            p.stop(2.0)
        from kiosk.devices import close_all

        close_all(self.devices)
