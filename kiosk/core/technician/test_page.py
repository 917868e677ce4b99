"""The A4 printer's test page: a one-page PDF with Chinese text, the hall's name and a frame at the margins.

Used by `kiosk diag print-a4-test` and the technician's device panel, so both
print the same page, in the Chinese font every PDF of the kiosk uses
(kiosk.fonts.pdf_font: the installed font, embedded, or reportlab's built-in
STSong-Light when none can be embedded). An embedded font's glyphs are named
by Unicode (kiosk/core/printing/glyph_names.py), so the page printed through
CUPS still reads as the Chinese it shows.
"""
from __future__ import annotations

import io
from pathlib import Path

from kiosk.core.printing.glyph_names import name_glyphs

TITLE = "A4 打印测试 / A4 print test"


def write_test_page(path: Path | str, hall: str) -> Path:
    """Write the test page to `path` and return it."""
    from reportlab.lib.pagesizes import A4
    from reportlab.pdfgen import canvas

    from kiosk.fonts import pdf_font

    font, _source = pdf_font()
    buf = io.BytesIO()
    c = canvas.Canvas(buf, pagesize=A4)
    c.setFont(font, 20)
    c.drawString(72, 760, TITLE)
    c.setFont(font, 12)
    c.drawString(72, 730, hall)
    c.rect(36, 36, A4[0] - 72, A4[1] - 72)   # a frame at 1/2 inch: clipped edges show at once
    c.showPage()
    c.save()
    Path(path).write_bytes(name_glyphs(buf.getvalue()))  # its text read after CUPS prints it through PostScript
    return Path(path)
