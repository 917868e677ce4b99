"""Label text that holds its pixels once, in the texture, not twice.

Kivy 2.3's SDL2 text provider draws every label into an SDL surface, copies
the pixels into the label's texture, and then keeps the surface on the core
label for as long as the label lives (`_surface`). On a kiosk whose screens are
built once and kept, that is a second full RGBA copy of every piece of text
ever shown: about 50 MB after a day's visitors on a 1080x1920 portrait screen.
The other providers drop their surface after the copy (the pygame one deletes
it in its `_render_end`); `keep_text_pixels_once()` makes the SDL2 one do the
same. The surface is made afresh at each render, so nothing reads it later.
"""
from __future__ import annotations

from kivy.core.text import Label as CoreLabel

_PATCHED = "_kiosk_drops_surface"


def keep_text_pixels_once(provider: type = CoreLabel) -> bool:
    """Make `provider` let go of its render surface once the pixels are out; True when it had one.

    Idempotent. Providers that keep no surface (pango, PIL) are left alone.
    """
    if getattr(provider, _PATCHED, False):
        return True
    if provider.__name__ != "LabelSDL2":
        return False
    render_end = provider._render_end

    def _render_end(self):
        try:
            return render_end(self)
        finally:
            self._surface = None

    provider._render_end = _render_end
    setattr(provider, _PATCHED, True)
    return True
