"""The pages of a PDF as a citizen sees them before printing: counted and measured by poppler's pdfinfo, and
drawn one at a time by pdftoppm, at the resolution the screen shows them at.

A page is drawn for a pixel width (the screen's page view, times the zoom): the resolution is the one
that makes the page that wide, so the body text of an A4 page drawn the width of the kiosk's screen
(about 980 px, 120 dpi) is as large as on paper held at reading distance. A page image is one texture
in the UI process while it is shown, so the pixels drawn are capped (`MAX_PAGE_PIXELS`): a page zoomed
beyond that is drawn at the cap and shown enlarged.

Blocking (child processes): called on a flow's executor, never on the UI thread.
"""
from __future__ import annotations

import re
import subprocess
from dataclasses import dataclass
from pathlib import Path

A4 = (595.276, 841.89)             # points; what a page whose size cannot be read is taken to be
MAX_PAGE_PIXELS = 6_000_000        # about 23 MB as an RGBA texture: the largest page image drawn
MAX_PAGES_MEASURED = 100_000


class PdfError(Exception):
    pass


@dataclass(frozen=True)
class PageSize:
    """A page as it is shown (its rotation applied), in points."""

    width_pt: float
    height_pt: float

    @property
    def aspect(self) -> float:
        """Height over width."""
        return self.height_pt / self.width_pt


def _pdfinfo(pdf: Path, args: list[str], timeout: float) -> str:
    try:
        done = subprocess.run(["pdfinfo", *args, str(pdf)], capture_output=True, text=True, timeout=timeout)
    except FileNotFoundError:
        raise PdfError("pdfinfo is not installed (Debian: poppler-utils)") from None
    except subprocess.TimeoutExpired:
        raise PdfError(f"pdfinfo took longer than {timeout} s on {pdf.name}") from None
    if done.returncode != 0 or not re.search(r"^Pages:\s+\d+", done.stdout, re.M):
        raise PdfError(f"{pdf.name} is not a readable PDF: {done.stderr.strip()[:200]}")
    return done.stdout


def pdf_pages(pdf: Path, timeout: float = 10) -> int:
    """The page count from poppler's pdfinfo."""
    return int(re.search(r"^Pages:\s+(\d+)", _pdfinfo(pdf, [], timeout), re.M).group(1))


def pdf_page_sizes(pdf: Path, timeout: float = 10) -> list[PageSize]:
    """Every page's size as shown (one per page: their count is the page count)."""
    text = _pdfinfo(pdf, ["-f", "1", "-l", str(MAX_PAGES_MEASURED)], timeout)
    pages = int(re.search(r"^Pages:\s+(\d+)", text, re.M).group(1))
    sizes = {int(n): (float(w), float(h)) for n, w, h in
             re.findall(r"^Page\s+(\d+) size:\s+([\d.]+) x ([\d.]+) pts", text, re.M)}
    turned = {int(n) for n, rot in re.findall(r"^Page\s+(\d+) rot:\s+(\d+)", text, re.M) if int(rot) % 180 == 90}
    out = []
    for n in range(1, pages + 1):
        w, h = sizes.get(n, A4)
        if w <= 0 or h <= 0:
            w, h = A4
        out.append(PageSize(h, w) if n in turned else PageSize(w, h))
    return out


def dpi_for_width(width_px: int, page: PageSize) -> float:
    """The resolution at which `page` is drawn `width_px` pixels wide."""
    return width_px * 72.0 / page.width_pt


def drawn_width(width_px: int, page: PageSize, max_pixels: int = MAX_PAGE_PIXELS) -> int:
    """The width a page shown `width_px` wide is drawn at: that, or less where the image would pass
    `max_pixels`."""
    most = int((max_pixels / page.aspect) ** 0.5)
    return max(1, min(int(width_px), most))


def render_page(pdf: Path, number: int, out: Path, width_px: int, page: PageSize, timeout: float = 20) -> Path:
    """Page `number` (1-based) of `pdf` as a PNG `width_px` wide, written to `out` (pdftoppm)."""
    stem = out.with_suffix("")
    dpi = dpi_for_width(width_px, page)
    try:
        done = subprocess.run(["pdftoppm", "-png", "-singlefile", "-f", str(number), "-l", str(number),
                               "-r", f"{dpi:.3f}", str(pdf), str(stem)],
                              capture_output=True, text=True, timeout=timeout)
    except FileNotFoundError:
        raise PdfError("pdftoppm is not installed (Debian: poppler-utils)") from None
    except subprocess.TimeoutExpired:
        raise PdfError(f"pdftoppm took longer than {timeout} s on page {number} of {pdf.name}") from None
    png = stem.with_suffix(".png")
    if done.returncode != 0 or not png.exists():
        raise PdfError(f"page {number} of {pdf.name} could not be rendered: {done.stderr.strip()[:200]}")
    return png
