"""Builds the configured devices from the settings: the bridge between kiosk/config.py and kiosk/hardware/.

kiosk/hardware/ knows nothing of the settings models, so each builder here
turns one `[devices.NAME]` section into plain driver arguments. A device that
cannot be opened still appears, as an `UnavailableDevice` that reports
`no_device` with the reason, so flows can show why they are unavailable.

A device on `sim://NAME` (the default config) is served by the simulators'
plug-in, which registers the `sim` scheme with the transport: it is loaded
here only when a configured device names that scheme (`load_port_plugins`),
so a kiosk on real hardware never loads a simulator.
"""
from __future__ import annotations

import logging
from typing import Callable

from kiosk.config import Settings
from kiosk.hardware.device import SYSTEM_CLOCK, DeviceClock, Device, DeviceError, UnavailableDevice

log = logging.getLogger(__name__)

# the order devices are listed in (`kiosk diag`, the technician panel)
DEVICE_NAMES = ("idcard", "locker", "receipt_printer", "document_printer", "payment", "scanner")


def _port_of(section) -> str:
    for key in ("port", "connection", "printer"):
        if hasattr(section, key):
            return str(getattr(section, key))
    return ""


SIM_SCHEME = "sim://"


def simulated(settings: Settings, only: tuple[str, ...] = DEVICE_NAMES) -> list[str]:
    """The configured devices that are built-in simulators (`sim://NAME`)."""
    return [name for name in only
            if (section := getattr(settings.devices, name, None)) is not None
            and _port_of(section).startswith(SIM_SCHEME)]


def load_port_plugins(port: str) -> None:
    """The plug-in that opens `port`'s scheme, when the config names one: `sim://` loads the simulators."""
    if port.startswith(SIM_SCHEME):
        # the config asks for simulators: their plug-in registers sim:// with the transport
        from kiosk.sim import registry

        registry.install()


# --- builders: one per device kind, (name, section, clock) -> Device -------------------------
# (filled in by the drivers' authors; each imports its driver module lazily)

BUILDERS: dict[str, Callable[[str, object, DeviceClock], Device]] = {}


# --- ID card reader, payment terminal, scanner (issue 3, part 1) ---

def _build_idcard(name: str, section, clock: DeviceClock) -> Device:
    from kiosk.hardware.idcard import SamReader

    return SamReader(name, section.port, baudrate=section.baudrate, timeouts=section.timeouts, clock=clock,
                     driver=section.driver)


def _build_payment(name: str, section, clock: DeviceClock) -> Device:
    from kiosk.hardware.payment import ConcertTerminal

    return ConcertTerminal(name, section.port, baudrate=section.baudrate, pos_number=section.pos_number,
                           currency=section.currency, result_timeout_s=section.result_timeout_s,
                           timeouts=section.timeouts, clock=clock, driver=section.driver)


def _build_scanner(name: str, section, clock: DeviceClock) -> Device:
    from kiosk.hardware.scanner import SerialScanner

    return SerialScanner(name, section.port, baudrate=section.baudrate, timeouts=section.timeouts, clock=clock,
                         driver=section.driver)


BUILDERS.update(idcard=_build_idcard, payment=_build_payment, scanner=_build_scanner)

# --- end of issue 3, part 1 ---


# --- locker, receipt printer, A4 printer (issue 3, part 2) ---

def _build_locker(name: str, section, clock: DeviceClock) -> Device:
    from kiosk.hardware.locker import LockBoard, Locker

    boards = [LockBoard(b.address, b.doors, open_status=b.open_status, closed_bit=b.closed_bit,
                        reply_headers=tuple(b.reply_headers)) for b in section.boards]
    return Locker(name, section.port, boards, section.driver, baudrate=section.baudrate,
                  timeouts=section.timeouts, clock=clock, local_echo=section.local_echo)


def _build_receipt_printer(name: str, section, clock: DeviceClock) -> Device:
    from kiosk.hardware.receipt import ReceiptPrinter

    return ReceiptPrinter(name, section.connection, encoding=section.encoding, baudrate=section.baudrate,
                          timeouts=section.timeouts, clock=clock, realtime_status=section.realtime_status,
                          cut=section.cut)


def _build_document_printer(name: str, section, clock: DeviceClock) -> Device:
    from kiosk.hardware.cups import CupsPrinter

    return CupsPrinter(name, section.printer, server=section.server, timeouts=section.timeouts, clock=clock)


BUILDERS.update(locker=_build_locker, receipt_printer=_build_receipt_printer,
                document_printer=_build_document_printer)

# --- end of issue 3, part 2 ---


def build_device(settings: Settings, name: str, clock: DeviceClock = SYSTEM_CLOCK) -> Device | None:
    section = getattr(settings.devices, name)
    if section is None:
        return None
    builder = BUILDERS.get(name)
    if builder is None:
        raise RuntimeError(f"no driver builder for device {name!r}")
    load_port_plugins(_port_of(section))
    try:
        return builder(name, section, clock)
    except DeviceError as exc:
        log.warning("%s (%s on %s) could not be opened: %s", name, section.driver, _port_of(section), exc.message)
        return UnavailableDevice(name, section.driver, _port_of(section), exc)


def build_devices(settings: Settings, clock: DeviceClock = SYSTEM_CLOCK, only: tuple[str, ...] = DEVICE_NAMES) -> dict[str, Device]:
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
