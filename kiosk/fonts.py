"""Finding the Simplified-Chinese font the UI draws every string with.

`[ui] font` wins when set. Otherwise the first installed font of a short list
of known single-face Simplified-Chinese fonts, then whatever fontconfig offers
for `:lang=zh-cn`. Kivy's SDL2 text provider always draws face 0 of a font
collection (.ttc); in Noto Sans CJK that face is the Japanese one, whose
glyph shapes differ from the mainland standard, so collections are accepted
only when their face 0 is a Simplified-Chinese family. No Kivy import here:
`kiosk ui` checks the font before it opens a window.
"""
from __future__ import annotations

import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

DEBIAN_PACKAGE = "fonts-wqy-microhei"

# Preferred first; every entry is single-face or has a Simplified-Chinese face 0.
KNOWN_FONTS = (
    "/usr/share/fonts/truetype/wqy/wqy-microhei.ttc",  # fonts-wqy-microhei: face 0 WenQuanYi Micro Hei
    "/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc",  # fonts-wqy-zenhei: face 0 WenQuanYi Zen Hei
    "/usr/share/fonts/opentype/noto/NotoSansSC-Regular.otf",
    "/usr/share/fonts/opentype/noto/NotoSansCJKsc-Regular.otf",
    "/usr/share/fonts/truetype/arphic-gbsn00lp/gbsn00lp.ttf",
)

# face-0 family names of collections that are not Simplified Chinese
_OTHER_SCRIPTS = (" JP", " KR", " TC", " HK", "Japanese", "Korean", "Mono")

MISSING_MESSAGE = (
    "no Simplified-Chinese font is installed, so Chinese text would show as empty boxes. "
    f"Install one with `sudo apt-get install {DEBIAN_PACKAGE}` "
    "(or set [ui] font to the path of a single-face Simplified-Chinese .ttf/.otf)"
)


class FontError(Exception):
    """No usable Chinese font; the message says what to install or which key to fix."""


@dataclass(frozen=True)
class FontChoice:
    path: Path
    family: str
    how: str  # "config", "known path" or "fontconfig"


def find_chinese_font(configured: str | Path | None = None, *, known=KNOWN_FONTS,
                      fc_list=None) -> FontChoice:
    """The font file to register as Kivy's default font, or FontError saying what to do."""
    if configured:
        path = Path(configured)
        if not path.is_file():
            raise FontError(f"[ui] font: {path} does not exist; fix the path, or remove the key "
                            f"to use an installed font (e.g. the Debian package {DEBIAN_PACKAGE})")
        return FontChoice(path, path.stem, "config")
    for candidate in known:
        p = Path(candidate)
        if p.is_file():
            return FontChoice(p, p.stem, "known path")
    for path, index, family in (fc_list or fontconfig_chinese_faces)():
        if index == 0 and not any(mark in family for mark in _OTHER_SCRIPTS) and Path(path).is_file():
            return FontChoice(Path(path), family, "fontconfig")
    raise FontError(MISSING_MESSAGE)


def fontconfig_chinese_faces() -> list[tuple[str, int, str]]:
    """(file, face index, family) of every face fontconfig says covers Simplified Chinese."""
    if not shutil.which("fc-list"):
        return []
    try:
        out = subprocess.run(["fc-list", "--format", "%{file}|%{index}|%{family[0]}\n", ":lang=zh-cn"],
                             capture_output=True, text=True, timeout=10, check=False).stdout
    except (OSError, subprocess.TimeoutExpired):
        return []
    faces = []
    for line in out.splitlines():
        parts = line.split("|")
        if len(parts) == 3 and parts[1].isdigit():
            faces.append((parts[0], int(parts[1]), parts[2]))
    # Regular faces of single-file fonts before collections and bold/light variants
    faces.sort(key=lambda f: (not f[0].endswith((".ttf", ".otf")), "Bold" in f[0] or "Light" in f[0], f[0]))
    return faces


# -- the same font in the PDFs the kiosk and the platform make (reportlab) -------------------------

BUILTIN_PDF_FONT = "STSong-Light"   # reportlab's Simplified-Chinese CID font: no file, not embedded


def builtin_pdf_font() -> str:
    """reportlab's built-in Simplified-Chinese CID font, registered (a viewer supplies the glyphs)."""
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.cidfonts import UnicodeCIDFont

    if BUILTIN_PDF_FONT not in pdfmetrics.getRegisteredFontNames():
        pdfmetrics.registerFont(UnicodeCIDFont(BUILTIN_PDF_FONT))
    return BUILTIN_PDF_FONT


def pdf_font(path: str | Path | None = None, *, fallback: bool = True) -> tuple[str, str]:
    """A Chinese font registered with reportlab, embedded as a subset in what it draws: (font name,
    where it came from). `path` is that font; None is the one `find_chinese_font` picks. Face 0 of a
    collection (.ttc) is used, the Simplified-Chinese face of the fonts accepted here. When that
    font cannot be embedded (none installed, or OpenType/CFF, which reportlab cannot embed):
    the built-in STSong-Light with `fallback`, else the error (FontError, or reportlab's TTFError)."""
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.ttfonts import TTFError, TTFont

    try:
        font = Path(path) if path is not None else find_chinese_font().path
        name = f"KioskCJK-{font.name}"
        if name not in pdfmetrics.getRegisteredFontNames():
            kwargs = {"subfontIndex": 0} if font.suffix.lower() == ".ttc" else {}
            pdfmetrics.registerFont(TTFont(name, str(font), **kwargs))
        return name, str(font)
    except (FontError, TTFError, OSError):
        if not fallback:
            raise
    return builtin_pdf_font(), f"reportlab built-in CID font {BUILTIN_PDF_FONT} (not embedded)"
