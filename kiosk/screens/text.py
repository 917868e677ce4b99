"""Label text that costs what it shows: pixels held once, one open font per size.

Kivy 2.3's SDL2 text provider has two habits that a kiosk, whose screens are
built once and kept for months, pays for in memory:

- It draws every label into an SDL surface, copies the pixels into the label's
  texture, and then keeps the surface on the core label for as long as the
  label lives (`_surface`): a second full RGBA copy of every text ever shown,
  about 50 MB after a day's visitors on a 1080x1920 portrait screen. The other
  providers drop their surface after the copy (the pygame one deletes it in its
  `_render_end`). The surface is made afresh at each render; nothing reads it
  later.
- It keeps up to 64 open fonts (an SDL_ttf font is one FreeType face with its
  tables and a HarfBuzz face, about 200 KB here), keyed by the font size as
  given and by bold and italic. But SDL_ttf opens a font at a whole point size,
  and bold and italic reach SDL2 only as the file they resolve to
  (`font_name_r`: the kiosk's Chinese font has one file for all four). So 28.0
  and 28.6 points, or bold and regular, each opened the same face again; with
  the elder scale that filled the 64. The key is now what actually differs.

`keep_text_pixels_once()` teaches the provider both, once, before the first
label renders (kiosk/screens/shell.py).
"""
from __future__ import annotations

from kivy.core.text import Label as CoreLabel

_PATCHED = "_kiosk_text_patched"


def _font_key(self) -> str:
    o = self.options
    return f"{int(o['font_size'])}|{o['font_name_r']}|{bool(o['underline'])}|{bool(o['strikethrough'])}"


def keep_text_pixels_once(provider: type = CoreLabel) -> bool:
    """Patch `provider` as above; True when it is Kivy's SDL2 provider (now or before).

    Idempotent. Other providers (pango, PIL) keep no surface and are left alone.
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
    provider._get_font_id = _font_key
    setattr(provider, _PATCHED, True)
    return True
