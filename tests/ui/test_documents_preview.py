"""The document preview in the real window: a two-page document is read page by page, the width of the
screen, zoomed and panned by a finger; the keys are big enough, apart and outlined in both modes; the page
images go with the visit. Screenshots go to tests/artifacts/ui/ (standard and elder mode, and one at the
screen's own size, where the page's text is read as a citizen reads it).

The document is the demo platform's two-page one, put in the kiosk's forms cache as a blank form would be
(no platform needed); released documents are shown by the same preview.
"""
from __future__ import annotations

import threading

import pytest

FORM_URL = "https://forms.example.org/tests/preview-two-pages.pdf"
TITLE = "不动产登记信息查询结果"


def docs(ui):
    from kiosk.app.root import DOCUMENTS

    return ui.app.kiosk.flow(DOCUMENTS)


@pytest.fixture
def two_pages(ui):
    """A two-page PDF in the forms cache under FORM_URL; the documents screen open on its preview."""
    from kiosk.central import demo
    from kiosk.core.printing.documents import FormLibrary

    flow = docs(ui)
    doc = next(d for d in demo.DEMO_DOCUMENTS if d.pages == 2)
    cache = flow.forms_library.cache_dir
    cache.mkdir(parents=True, exist_ok=True)
    pdf = cache / FormLibrary.file_name(FORM_URL)
    pdf.write_bytes(demo.render_pdf(doc, [demo.DEMO_HOLDERS[i].id_number for i in doc.holders]))
    ui.wait_for(lambda: ui.app.makes_screen("documents"), 60, "the documents service")
    yield flow
    pdf.unlink(missing_ok=True)


def open_preview(ui, flow):
    app = ui.app
    app.session.touch()
    app.show("documents")
    ui.pump(3)
    screen = app.screen("documents")
    assert flow.choose_form_by_url(FORM_URL, TITLE)
    ui.wait_for(lambda: flow.state.value == "preview" and screen.page_source and screen.ids.page.texture,
                30, "the preview's first page")
    ui.pump(3)
    return screen


def wait_page(ui, screen, flow, page: int) -> None:
    ui.wait_for(lambda: flow.page == page and not flow.page_making and screen.page_source == str(flow.page_image)
                and screen.ids.page.texture is not None, 30, f"page {page} shown")
    ui.pump(3)


def drag(ui, widget, dx: float, dy: float, steps: int = 10) -> None:
    """A finger put on `widget`'s middle, moved by (dx, dy) window pixels, lifted."""
    from kivy.base import EventLoop

    from kiosk.tour.driver import Finger

    x, y = widget.to_window(*widget.center)
    win = EventLoop.window
    finger = Finger(x, y)
    EventLoop.post_dispatch_input("begin", finger)
    for i in range(1, steps + 1):
        finger.move({"x": (x + dx * i / steps) / max(1.0, win.width - 1.0),
                     "y": (y + dy * i / steps) / max(1.0, win.height - 1.0)})
        EventLoop.post_dispatch_input("update", finger)
        ui.pump(1)
    finger.update_time_end()
    EventLoop.post_dispatch_input("end", finger)
    ui.pump(30)


def assert_keys_usable(ui, screen) -> None:
    """Every key of the preview at least 60 x 60 dp, 8 dp from the next, outlined against the page."""
    from kivy.metrics import dp

    from tests.ui.conftest import rect

    keys = [screen.ids[k] for k in ("zoom_out", "zoom_in", "previous_page", "next_page")]
    for key in keys:
        assert key.width >= dp(60) and key.height >= dp(60), f"{key.text!r} is {key.width:.0f} x {key.height:.0f}"
        assert key.outline, f"{key.text!r} has no edge"
    for a, b in ((keys[0], keys[1]), (keys[2], keys[3])):
        ra, rb = rect(a), rect(b)
        assert rb[0] - ra[2] >= dp(8) - 1, f"{a.text!r} and {b.text!r} are {rb[0] - ra[2]:.0f} px apart"
    page = rect(screen.ids.page_area)
    for key in keys:
        r = rect(key)
        assert r[3] <= page[1] + 1 or r[1] >= page[3] - 1, f"{key.text!r} lies on the page"


def test_a_two_page_document_is_read_page_by_page_zoomed_and_panned(ui, two_pages, shot):
    from kivy.core.window import Window

    from kiosk.i18n import _

    flow = two_pages
    screen = open_preview(ui, flow)
    ids = screen.ids
    view, image = ids.page_view, ids.page
    # page 1, the full width of the content area, drawn at that width (sharp), the facts and print kept
    assert screen.page_label == "第 1 页 / 共 2 页" and ids.page_label.text == screen.page_label
    assert view.width >= Window.width * 0.85 and image.width == pytest.approx(view.width)
    assert view.height >= Window.height * 0.45, f"the page has {view.height:.0f} px of the screen's height"
    assert abs(image.texture.width - view.width) <= 2
    assert "共 2 页" in ids.facts.text and "免费" in ids.facts.text
    assert any(b.text == _("Print") and not b.disabled and b.opacity for b in ids.actions.children)
    assert ids.previous_page.disabled and not ids.next_page.disabled
    assert_keys_usable(ui, screen)
    shot("page-1")
    ui.screenshot(shot("page-1").with_name(shot("page-1").stem + "-full.png"), max_width=None)
    first = screen.page_source

    # the next page: drawn on the worker, with a line saying so meanwhile
    from kiosk.core.printing import documents as documents_module

    go_on = threading.Event()
    real = documents_module.render_page

    def slow(*args, **kwargs):
        go_on.wait(20)
        return real(*args, **kwargs)

    documents_module.render_page = slow
    try:
        ui.tap(ids.next_page)
        ui.wait_for(lambda: screen.page_note == "正在准备第 2 页…", 5, "the preparing line")
        assert ids.page_note.opacity == 1 and screen.page_source == ""   # never page 1 under page 2's number
        shot("preparing-page-2")
    finally:
        go_on.set()
        documents_module.render_page = real
    wait_page(ui, screen, flow, 2)
    assert screen.page_source != first and screen.page_label == "第 2 页 / 共 2 页"
    assert screen.page_note == "" and ids.page_note.opacity == 0
    assert ids.next_page.disabled and not ids.previous_page.disabled
    shot("page-2")

    # zoom in: the page larger than the view, panned by a finger in both directions
    ui.tap(ids.zoom_in)
    wait_page(ui, screen, flow, 2)
    assert flow.zoom == 2 and image.width > view.width * 1.9 and image.height > view.height
    assert abs(image.texture.width - image.width) <= 2           # drawn again at the zoomed size
    assert (view.scroll_x, view.scroll_y) == (0, 1)
    drag(ui, view, -300, 200)
    assert view.scroll_x > 0.05 and view.scroll_y < 0.95, (view.scroll_x, view.scroll_y)
    shot("zoomed-panned")
    ui.tap(ids.zoom_in)
    wait_page(ui, screen, flow, 2)
    assert flow.zoom == 3 and ids.zoom_in.disabled and image.width > view.width * 2.9
    ui.tap(ids.zoom_out)
    ui.tap(ids.zoom_out)
    wait_page(ui, screen, flow, 2)
    assert flow.zoom == 1 and ids.zoom_out.disabled and image.width == pytest.approx(view.width)
    ui.tap(ids.previous_page)
    wait_page(ui, screen, flow, 1)
    assert screen.page_label == "第 1 页 / 共 2 页"


def test_the_preview_in_elder_mode_has_larger_keys_and_the_same_full_width_page(ui, two_pages, shot):
    from kivy.metrics import dp

    app = ui.app
    screen = open_preview(ui, two_pages)
    normal = screen.ids.next_page.height
    app.toggle_elder()
    try:
        ui.pump(6)
        ids = screen.ids
        assert ids.next_page.height > normal and ids.next_page.height >= dp(100)
        assert_keys_usable(ui, screen)
        assert ids.page.width == pytest.approx(ids.page_view.width)
        assert ids.page_view.height >= dp(400), "the page keeps most of the screen"
        shot("elder-page-1")
        ui.tap(ids.next_page)
        wait_page(ui, screen, two_pages, 2)
        shot("elder-page-2")
        app.set_language("en")
        ui.pump(6)
        assert screen.page_label == "Page 2 of 2"
        assert_keys_usable(ui, screen)
        shot("elder-page-2-en")
    finally:
        app.set_language("zh_CN")
        if app.elder:
            app.toggle_elder()
        ui.pump(3)


def test_a_page_that_cannot_be_drawn_is_said_and_the_document_can_still_be_printed(ui, two_pages, shot):
    from kiosk.core.printing import documents as documents_module
    from kiosk.core.printing.pages import PdfError
    from kiosk.i18n import _

    flow = two_pages
    screen = open_preview(ui, flow)
    real = documents_module.render_page

    def broken(pdf, number, *args, **kwargs):
        if number == 2:
            raise PdfError(f"page 2 of {pdf.name} could not be rendered: Syntax Error (test)")
        return real(pdf, number, *args, **kwargs)

    documents_module.render_page = broken
    try:
        ui.tap(screen.ids.next_page)
        ui.wait_for(lambda: flow.page_problem, 30, "page 2 to fail")
        ui.pump(3)
    finally:
        documents_module.render_page = real
    assert screen.page_note == "第 2 页无法在此显示，仍可打印此文件。" and screen.page_source == ""
    assert any(b.text == _("Print") and not b.disabled and b.opacity for b in screen.ids.actions.children)
    shot("page-2-cannot-be-shown")


def test_the_page_images_are_gone_after_the_visit(ui, two_pages):
    from kivy.cache import Cache

    flow = two_pages
    screen = open_preview(ui, flow)
    ui.tap(screen.ids.next_page)
    wait_page(ui, screen, flow, 2)
    ui.tap(screen.ids.zoom_in)
    wait_page(ui, screen, flow, 2)
    folder = flow.page_image.parent
    made = sorted(p.name for p in folder.glob("page-*.png"))
    assert len(made) == 3, made                    # page 1, page 2, page 2 zoomed: each drawn when shown
    image = screen.ids.page
    ui.app.end_visit("done")
    ui.wait_for(lambda: ui.app.screens.current == "home", 10, "home")
    ui.pump(3)
    assert not folder.exists() and not list(flow.spool_dir.rglob("*.png"))
    assert image.texture is None or screen.page_source == ""
    kept = [key for category in ("kv.image", "kv.texture") for key in Cache._objects.get(category, {})
            if "spool" in str(key) or "page-" in str(key)]
    assert kept == [], kept
