"""The platform's cases as the locker flows ask for them: a port, injected by the composition root.

The deposit looks a case up to fill its holder and rules (kiosk/core/locker/deposit.py). The
composition root (kiosk/app/pickup.py) injects the central client (kiosk/sync/client.py), which
answers with the short interactive timeout; the domain never imports it. An answer is the wire's
`KioskCase`; None means the platform does not know the case; `PlatformUnavailable` (kiosk/wire/
errors.py) that it cannot answer now: the deposit then goes on as staff set it, never waiting.
"""
from __future__ import annotations

from typing import Protocol

from kiosk.wire.cases import KioskCase

__all__ = ["CaseLookup", "KioskCase"]


class CaseLookup(Protocol):
    def find_case(self, case_number: str) -> KioskCase | None:
        """The case `case_number` as the platform knows it; None when it does not know it.
        Blocks for at most the look-up timeout: call it on an executor, never on the UI thread."""
