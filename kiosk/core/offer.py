"""Whether a kiosk offers a citizen service on its home screen, and when its tile cannot be used.

The services are declared in the composition root (kiosk/app/services.py
`CitizenService`, listed in kiosk/app/root.py in home-screen order); what
decides here is the devices each one needs (`needs`: names of the config's
[devices] sections) and the operator's switches (`[services] disabled`). A
service is offered only where every device it needs is configured, and has a
tile only while it is not switched off (`switched_on`); while one of its devices
is down its tile is shown disabled, with the citizen's reason, and the device's
`DeviceProblem` goes to technicians and the log.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Collection, Iterable, Mapping, Protocol, TypeVar

from kiosk.hardware.device import State
from kiosk.i18n import N_

# on the tile: short, to stand in one line under the title in elder mode too
REASON_DEVICE_DOWN = N_("Out of service")


@dataclass(frozen=True)
class DeviceProblem:
    """Why a device cannot serve now, for technicians and the log: its snake-case detail
    (`starting`, `paper_out`, `no_answer`, ...) and, where a status question gave it, its state."""
    detail: str
    state: State | None = None

    def __str__(self) -> str:
        return f"{self.state.value}: {self.detail}" if self.state else self.detail


class HasKey(Protocol):
    """A citizen service, as far as switching it off goes: the key of its tile."""

    @property
    def key(self) -> str: ...


S = TypeVar("S", bound=HasKey)


class NeedsDevices(Protocol):
    """A citizen service, as far as offering it goes: the device names of [devices] it needs."""

    @property
    def needs(self) -> tuple[str, ...]: ...


def offered(service: NeedsDevices, devices_configured: Any) -> bool:
    """Offered only where every device it needs has a section in the config (`settings.devices`)."""
    return all(getattr(devices_configured, name, None) is not None for name in service.needs)


def unavailable_reason(service: NeedsDevices, device_problems: Mapping[str, DeviceProblem]) -> str:
    """'' when the service can run now, else the citizen's reason (a msgid); the technician's
    detail stays in `device_problems` and the log."""
    return REASON_DEVICE_DOWN if any(name in device_problems for name in service.needs) else ""


def switched_on(services: Iterable[S], disabled: Collection[str]) -> list[S]:
    """The services that have a tile, in their order: those not switched off by `[services] disabled`.
    A service switched off keeps its flow and screen, so that a visit under way finishes and switching
    it on again needs no restart."""
    return [s for s in services if s.key not in disabled]
