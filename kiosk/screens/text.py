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

Kivy wraps by spaces and cuts a run without spaces wherever the line is full, so a
Chinese line could start with 「。」 and 「2 号柜门」 could break after the 2.
`break_lines_the_chinese_way()` has every label with Chinese text and a width lay
out its lines by the rules of kiosk/core/linebreak.py first (measured with the
label's own font), so Kivy only draws lines that already fit.
"""
from __future__ import annotations

from kivy.core.text import Label as CoreLabel

from kiosk.core import linebreak

_PATCHED = "_kiosk_text_patched"
_BREAKS = "_kiosk_line_breaks"


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


def break_lines_the_chinese_way(provider: type = CoreLabel) -> None:
    """Patch `provider`'s layout as above. Idempotent; labels that shorten or justify their text,
    have no width, or have no Chinese in it are laid out as before."""
    if getattr(provider, _BREAKS, False):
        return
    render = provider.render

    def render_with_breaks(self, real=False):
        if real:
            return render(self, real)
        options = self.options
        width = self._text_size[0]
        text = self._text
        if (width is None or options.get("shorten") or options.get("halign") == "justify"
                or not linebreak.has_chinese(text)):
            return render(self, real)
        padding = options.get("padding") or (0, 0, 0, 0)
        usable = width - padding[0] - padding[2]
        extents = self.get_cached_extents()
        self._text = linebreak.wrap(text, usable, lambda t: extents(t)[0])
        try:
            return render(self, real)
        finally:
            self._text = text

    provider.render = render_with_breaks
    setattr(provider, _BREAKS, True)
