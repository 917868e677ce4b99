"""The preview's pages: each drawn by pdftoppm when first shown, as wide as the screen shows it (the
resolution follows from the pixel width), one file per page and size in the visit's spool folder, gone
with the visit; a page that cannot be drawn is named and printing stays possible."""
from __future__ import annotations

import struct
from pathlib import Path

import pytest

from kiosk.central import demo
from kiosk.core.printing import pages as pages_module
from kiosk.core.printing.documents import DocState, Printable
from kiosk.core.printing.pages import (MAX_PAGE_PIXELS, PageSize, PdfError, dpi_for_width, drawn_width,
                                       pdf_page_sizes, render_page)

from tests.printing.test_document_flow import to_preview

A4 = PageSize(595.276, 841.89)


def png_size(path: Path) -> tuple[int, int]:
    head = path.read_bytes()[:24]
    assert head.startswith(b"\x89PNG")
    return struct.unpack(">II", head[16:24])


@pytest.fixture
def two_pages(tmp_path) -> Path:
    doc = next(d for d in demo.DEMO_DOCUMENTS if d.pages == 2)
    pdf = tmp_path / "two.pdf"
    pdf.write_bytes(demo.render_pdf(doc, [demo.DEMO_HOLDERS[i].id_number for i in doc.holders]))
    return pdf


def test_the_resolution_is_the_one_that_draws_the_page_as_wide_as_shown():
    assert dpi_for_width(984, A4) == pytest.approx(119.0, abs=0.1)     # the screen's width: about 120 dpi
    assert dpi_for_width(1968, A4) == pytest.approx(2 * dpi_for_width(984, A4))
    assert dpi_for_width(612, PageSize(612, 792)) == pytest.approx(72)   # US letter, one pixel a point


def test_a_zoomed_page_is_drawn_no_larger_than_the_pixel_cap():
    assert drawn_width(984, A4) == 984 and drawn_width(1968, A4) == 1968
    width = drawn_width(2952, A4)                                        # three times: capped
    assert width < 2952 and width * width * A4.aspect <= MAX_PAGE_PIXELS


def test_both_pages_are_measured_and_drawn_at_the_width_asked(two_pages, tmp_path):
    sizes = pdf_page_sizes(two_pages)
    assert sizes == [PageSize(595.276, 841.89)] * 2
    for n in (1, 2):
        image = render_page(two_pages, n, tmp_path / f"page-{n}.png", 984, sizes[n - 1])
        width, height = png_size(image)
        assert abs(width - 984) <= 1 and abs(height - round(984 * A4.aspect)) <= 2
    assert (tmp_path / "page-1.png").read_bytes() != (tmp_path / "page-2.png").read_bytes()


def test_a_page_that_cannot_be_drawn_is_named(two_pages, tmp_path):
    with pytest.raises(PdfError, match=r"page 3 of two\.pdf could not be rendered"):
        render_page(two_pages, 3, tmp_path / "page-3.png", 984, A4)
    broken = tmp_path / "broken.pdf"
    broken.write_bytes(b"%PDF-1.4 not really")
    with pytest.raises(PdfError, match=r"broken\.pdf is not a readable PDF"):
        pdf_page_sizes(broken)


def test_pages_are_drawn_when_shown_at_the_screens_width_and_zoom(parts):
    flow, held = parts["flow"], parts["held"]
    flow.set_page_width(900)
    to_preview(parts)                                  # the two-page document
    first = flow.page_image
    assert (flow.page, flow.pages, png_size(first)[0]) == (1, 2, 900)
    assert not flow.previous_page()                   # no page before the first
    assert flow.next_page() and flow.page == 2 and flow.page_making and flow.page_image is None
    held.release()
    second = flow.page_image
    assert not flow.page_making and second != first and png_size(second)[0] == 900
    assert not flow.next_page()                       # no page after the last
    assert flow.zoom_in() and flow.zoom == 2 and flow.page_shown_px == 1800 and flow.page_making
    held.release()
    assert png_size(flow.page_image)[0] == 1800
    assert flow.zoom_in() and flow.zoom_in() is False and flow.zoom == 3
    assert flow.zoom_out() and flow.zoom_out() and not flow.zoom_out() and flow.zoom == 1
    assert flow.page_image == second and not flow.page_making   # drawn before: not drawn again
    made = sorted(p.name for p in first.parent.glob("page-*.png"))
    assert made == ["page-1-900.png", "page-2-1800.png", "page-2-900.png"]


def test_a_page_that_cannot_be_drawn_is_said_and_printing_stays_possible(parts, monkeypatch):
    flow, held = parts["flow"], parts["held"]
    to_preview(parts)
    real = pages_module.render_page

    def fails_on_page_2(pdf, number, out, width_px, page, timeout=20):
        if number == 2:
            raise PdfError(f"page 2 of {pdf.name} could not be rendered: Syntax Error")
        return real(pdf, number, out, width_px, page, timeout)

    monkeypatch.setattr("kiosk.core.printing.documents.render_page", fails_on_page_2)
    flow.next_page()
    held.release()
    assert flow.page_problem and flow.page_image is None and not flow.page_making
    assert flow.confirm() and flow.state is DocState.CHECKING


def test_the_page_images_go_with_the_visit(parts):
    flow, held = parts["flow"], parts["held"]
    to_preview(parts)
    flow.next_page()
    held.release()
    folder = flow.page_image.parent
    assert len(list(folder.glob("page-*.png"))) == 2
    flow.reset()
    assert not folder.exists() and not flow.spool_dir.exists()


def test_a_page_drawn_after_its_visit_ended_is_deleted(parts):
    flow, held = parts["flow"], parts["held"]
    to_preview(parts)
    folder = flow.page_image.parent
    flow.next_page()                                   # page 2 under way ...
    flow.reset()                                       # ... when the visit ends
    folder.mkdir(parents=True)                         # even where its folder is still there
    held.release()
    assert list(folder.glob("page-*.png")) == [] and flow.page_image is None


def test_choosing_another_document_starts_at_page_one_unzoomed(parts):
    flow, held = parts["flow"], parts["held"]
    to_preview(parts)
    flow.next_page()
    flow.zoom_in()
    held.release()
    flow.back_to_list()
    flow.choose(next(d for d in flow.documents if d.title == "个人社会保险参保缴费证明"))
    held.release()
    assert (flow.state, flow.page, flow.zoom, flow.pages) == (DocState.PREVIEW, 1, 1, 1)
    assert isinstance(flow.chosen, Printable) and flow.page_image is not None
