"""One step of `kiosk tour`: a name, what it does through the UI, and the check of what the UI then shows.

`act(driver)` taps, types or moves the session clock (kiosk/tour/driver.py);
`check(driver)` returns a problem to report, or None.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Callable

if TYPE_CHECKING:  # pragma: no cover
    from kiosk.tour.driver import UiDriver


@dataclass(frozen=True)
class Step:
    name: str
    act: Callable[["UiDriver"], None]
    check: Callable[["UiDriver"], str | None]
