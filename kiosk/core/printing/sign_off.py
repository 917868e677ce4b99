"""The one end of a thermal receipt: the hall's hotline in bold where it has one, a feed and the cut.

Fee, money-slip, case-progress and hand-in receipts end the same way; a change to how a slip is signed
off (a longer feed for a new cutter, a second number) is made here once."""
from __future__ import annotations

from kiosk.hardware.receipt import Receipt
from kiosk.i18n import _


def sign_off(r: Receipt, hotline: str, *, rule: bool = True) -> Receipt:
    """Ends `r`: a rule (`rule`, when the lines above it are not already closed by one) and the hotline when
    the hall has one, then two lines of feed and the cut. Returns `r`."""
    if hotline:
        if rule:
            r.rule()
        r.line(_("Hotline") + "：" + hotline, bold=True)
    r.feed(2)
    r.cut()
    return r
