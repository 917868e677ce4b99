"""The citizen services a kiosk offers on its home screen, and when a tile cannot be used.

A `CitizenService` declares its key (also the name of its screen), its title
(a msgid), the devices it needs (names of the config's [devices] sections)
and how its screen is made from the app. The composition root
(kiosk/app/root.py) lists them in home-screen order; the home screen is built
from that list. A service is offered only where every device it needs is
configured; while one of them is down its tile is shown disabled, with the
citizen's reason.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable, Mapping

from kiosk.hardware.device import State
from kiosk.i18n import N_

REASON_DEVICE_DOWN = N_("Temporarily out of service")


@dataclass(frozen=True)
class DeviceProblem:
    """Why a device cannot serve now, for technicians and the log: its snake-case detail
    (`starting`, `paper_out`, `no_answer`, ...) and, where a status question gave it, its state."""
    detail: str
    state: State | None = None

    def __str__(self) -> str:
        return f"{self.state.value}: {self.detail}" if self.state else self.detail


@dataclass(frozen=True)
class CitizenService:
    key: str                          # also the name of its screen
    title: str                        # msgid, e.g. N_("Collect a certificate")
    needs: tuple[str, ...]            # device names of [devices], e.g. ("locker",)
    make_screen: Callable[[Any], Any]  # the service's Screen, from the app; once per process


def offered(service: CitizenService, devices_configured: Any) -> bool:
    """Offered only where every device it needs has a section in the config (`settings.devices`)."""
    return all(getattr(devices_configured, name, None) is not None for name in service.needs)


def unavailable_reason(service: CitizenService, device_problems: Mapping[str, DeviceProblem]) -> str:
    """'' when the service can run now, else the citizen's reason (a msgid); the technician's
    detail stays in `device_problems` and the log."""
    return REASON_DEVICE_DOWN if any(name in device_problems for name in service.needs) else ""
