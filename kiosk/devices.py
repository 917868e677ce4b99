"""Builds the configured devices from the settings: the bridge between kiosk/config.py and kiosk/hardware/.

kiosk/hardware/ knows nothing of the settings models, so each builder here
turns one `[devices.NAME]` section into plain driver arguments. A device that
cannot be opened still appears, as an `UnavailableDevice` that reports
`no_device` with the reason, so flows can show why they are unavailable.
"""
from __future__ import annotations

import logging
from typing import Callable

from kiosk.config import Settings
from kiosk.hardware.device import SYSTEM_CLOCK, Clock, Device, DeviceError, UnavailableDevice

log = logging.getLogger(__name__)

# the order devices are listed in (`kiosk diag`, the technician panel)
DEVICE_NAMES = ("idcard", "locker", "receipt_printer", "document_printer", "payment", "scanner")


def _port_of(section) -> str:
    for key in ("port", "connection", "printer"):
        if hasattr(section, key):
            return str(getattr(section, key))
    return ""


# --- builders: one per device kind, (name, section, clock) -> Device -------------------------
# (filled in by the drivers' authors; each imports its driver module lazily)

BUILDERS: dict[str, Callable[[str, object, Clock], Device]] = {}


def build_device(settings: Settings, name: str, clock: Clock = SYSTEM_CLOCK) -> Device | None:
    section = getattr(settings.devices, name)
    if section is None:
        return None
    builder = BUILDERS.get(name)
    if builder is None:
        raise RuntimeError(f"no driver builder for device {name!r}")
    try:
        return builder(name, section, clock)
    except DeviceError as exc:
        log.warning("%s (%s on %s) could not be opened: %s", name, section.driver, _port_of(section), exc.message)
        return UnavailableDevice(name, section.driver, _port_of(section), exc)


def build_devices(settings: Settings, clock: Clock = SYSTEM_CLOCK, only: tuple[str, ...] = DEVICE_NAMES) -> dict[str, Device]:
    devices = {}
    for name in only:
        dev = build_device(settings, name, clock)
        if dev is not None:
            devices[name] = dev
    return devices


def close_all(devices: dict[str, Device]) -> None:
    for dev in devices.values():
        try:
            dev.close()
        except Exception:
            log.exception("%s: close failed", dev.name)
