"""The process's simulators behind `sim://NAME`, and the plug-in that makes such URLs open.

The built-in simulators are listed here (`BUILT_IN`); `simulator(name)`
gives the running one of this process, made on first use, whose control
methods are the fault injection of the tests, the tour and the technician
mode's simulator faults. `install()` registers the `sim` scheme with the
transport (kiosk/hardware/transport.py `register_scheme`): the hardware layer
never imports the simulators, their plug-in registers itself into it. Loading
this module installs it (kiosk/devices.py loads it only when the config names a
`sim://` port; `kiosk sim`, the tour and the tests load it themselves).
"""
from __future__ import annotations

from typing import Callable

from kiosk.hardware import transport
from kiosk.hardware.device import SYSTEM_CLOCK, DeviceClock, Completion, DeviceError
from kiosk.sim.base import Simulator, SimPort
from kiosk.sim.idcard import SamSimulator
from kiosk.sim.locker import LockerSimulator
from kiosk.sim.payment import ConcertSimulator
from kiosk.sim.receipt import ReceiptSimulator
from kiosk.sim.scanner import ScannerSimulator

SCHEME = "sim"

# sim://NAME -> a factory making that device's simulator
SimulatorFactory = Callable[[DeviceClock], Simulator]
BUILT_IN: dict[str, SimulatorFactory] = {
    "idcard": SamSimulator,
    "locker": LockerSimulator,
    "payment": ConcertSimulator,
    "receipt": ReceiptSimulator,
    "scanner": ScannerSimulator,
}
_simulators: dict[str, SimulatorFactory] = dict(BUILT_IN)
_running: dict[str, Simulator] = {}


def register_simulator(name: str, factory: SimulatorFactory) -> None:
    """One more simulator behind `sim://name` (a test's own)."""
    _simulators[name] = factory


def simulator(name: str, clock: DeviceClock = SYSTEM_CLOCK) -> Simulator:
    """The running simulator `sim://name` of this process (made on first use): its control interface."""
    if name not in _running:
        if name not in _simulators:
            raise DeviceError(f"sim://{name}", Completion.DEVICE_NOT_READY,
                              f"no simulator named {name!r}; there are: {', '.join(sorted(_simulators))}", "no_device")
        _running[name] = _simulators[name](clock)
    return _running[name]


def reset_simulators() -> None:
    """Forget every running simulator (tests start each from its defaults)."""
    _running.clear()


def open_sim_port(url: str, owner: str, clock: DeviceClock = SYSTEM_CLOCK) -> SimPort:
    """The port onto `sim://NAME`: this process's simulator of that name."""
    return SimPort(url, simulator(url.removeprefix(f"{SCHEME}://"), clock), owner)


def install() -> None:
    """`sim://NAME` URLs open this process's simulators from now on (idempotent)."""
    transport.register_scheme(SCHEME, open_sim_port)


install()
