"""The service guides in `kiosk tour`: browse, search on the on-screen keyboard, read, print, and paper out.

Listed by kiosk/tour/runner.py (run only on a kiosk that offers the guides).
Two passes: in zh_CN, and again in elder mode. Each step acts
through the real widgets (taps on tiles, keys and buttons) and waits, frame by
frame and bounded, for the flow's background work (search, printing) to
report back; then it checks what the screen shows.
"""
from __future__ import annotations

from typing import Callable

from kiosk import i18n
from kiosk.core.guides.flow import A4, FAILED_PAPER_OUT, RECEIPT, SEARCH_DEBOUNCE_S, PrintPhase, View
from kiosk.sim import faults as sim_faults
from kiosk.tour.driver import SETTLE_FRAMES, SETTLE_LONG_FRAMES, UiDriver
from kiosk.tour.step import Step

THEME = "社会保障"

def screen(d: UiDriver):
    return d.app.screen("guides")


def flow(d: UiDriver):
    return screen(d).flow


def view(d: UiDriver, v: View):
    return screen(d).views[v]


def open_guides(d: UiDriver) -> None:
    tile = next((t for t in d.app.home.ids.tiles.children if getattr(t, "key", "") == "guides"), None)
    if tile is not None:
        d.tap(tile)
    else:  # an app built with another service list (the UI tests): the screen itself
        d.app.show("guides")
    d.pump()


def type_keys(d: UiDriver, keys: str) -> None:
    keyboard = view(d, View.SEARCH).ids.keyboard
    for k in keys:
        d.tap_key(keyboard, k)
    d.advance(SEARCH_DEBOUNCE_S + 0.05)
    d.settle(lambda: not flow(d).browser.searching)


def set_paper(state: str) -> None:
    control = next(c for c in sim_faults.CONTROLS if c.key == "paper_out")   # off = paper loaded
    sim_faults.apply(control, state == "out", sim_faults.Target())


# -- checks ----------------------------------------------------------------------------------------

def expect(v: View, *more: Callable[[UiDriver], str | None]) -> Callable[[UiDriver], str | None]:
    def check(d: UiDriver) -> str | None:
        problems = []
        if d.app.screens.current != "guides":
            problems.append(f"screen is {d.app.screens.current!r}, expected 'guides'")
        elif flow(d).view is not v or screen(d).pages.current != v.value:
            problems.append(f"guides view is {flow(d).view.value}/{screen(d).pages.current}, expected {v.value}")
        for fn in more:
            p = fn(d)
            if p:
                problems.append(p)
        return "; ".join(problems) or None
    return check


def has_groups(d):
    home = view(d, View.HOME)
    if not home.ids.themes.children or not home.ids.departments.children:
        return "no theme tiles or no departments shown"


def list_of(title: str):
    def check(d):
        lv = view(d, View.LIST)
        if lv.ids.title_bar.title != title:
            return f"list title {lv.ids.title_bar.title!r}, expected {title!r}"
        if not lv.ids.guide_list.row_widgets():
            return "no guide rows shown"
    return check


def results_for(query: str, want: str):
    def check(d):
        b = flow(d).browser
        sv = view(d, View.SEARCH)
        if b.query != query or sv.ids.query.text != query:
            return f"query {b.query!r} (box shows {sv.ids.query.text!r}), expected {query!r}"
        names = [r.name for r in b.rows[:5]]
        if not any(want in n for n in names):
            return f"{want!r} not among the first results {names}"
        if not sv.ids.guide_list.row_widgets():
            return "no result rows shown"
    return check


def detail_shown(d):
    item = flow(d).item
    dv = view(d, View.DETAIL)
    if item is None:
        return "no guide open"
    texts = [w.text for w in dv.ids.content.children if hasattr(w, "text")]
    if item.name not in texts:
        return "the guide's name is not shown"
    for kind, button in ((RECEIPT, dv.ids.print_receipt), (A4, dv.ids.print_a4)):
        opt = flow(d).options.get(kind)
        if opt is None:
            return f"the kiosk has no {kind} printer"
        if not opt.available or button.disabled:
            return f"the {kind} print button is unavailable ({opt.detail})"


def qr_in_sight(d):
    dv = view(d, View.DETAIL)
    if dv.qr.parent is None or dv.qr.texture is None:
        return "no QR code of the online address"
    if dv.ids.scroller.scroll_y > 0.95:
        return "the guide did not scroll"


def printed(kind: str):
    def check(d):
        st = flow(d).printing
        if st is None or st.kind != kind or st.phase is not PrintPhase.DONE:
            return f"print state {st}, expected {kind} done"
        if kind == A4 and st.job_state != "completed":
            return f"A4 job ended {st.job_state!r}"
    return check


def calm_paper_out(d):
    st = flow(d).printing
    pv = view(d, View.PRINT)
    if st is None or st.phase is not PrintPhase.FAILED or st.message != FAILED_PAPER_OUT:
        return f"print state {st}, expected a failed receipt with the paper-out message"
    if pv.ids.line.text != i18n._(FAILED_PAPER_OUT):
        return f"the screen says {pv.ids.line.text!r}"


def receipt_unavailable(d):
    opt = flow(d).options.get(RECEIPT)
    button = view(d, View.DETAIL).ids.print_receipt
    if opt is None or opt.available or not button.disabled or not button.reason:
        return "the receipt button does not show the printer as unavailable with its reason"


def receipt_available(d):
    opt = flow(d).options.get(RECEIPT)
    if opt is None or not opt.available:
        return f"the receipt printer still shows as unavailable ({opt and opt.detail})"


# -- acts -------------------------------------------------------------------------------------------

def act_home(elder: bool):
    def act(d):
        if elder and not d.app.elder:
            d.tap(d.app.header.ids.elder_toggle)
        open_guides(d)
    return act


def act_theme(d):
    d.tap(view(d, View.HOME).tile("theme", THEME))


def act_search_sb(d):
    if flow(d).view is not View.HOME:
        d.tap(view(d, View.LIST).ids.title_bar.ids.back)
    d.tap(view(d, View.HOME).ids.search_box)
    type_keys(d, "sb")


def act_search_word(d):
    d.tap(view(d, View.SEARCH).chip("社保"))
    d.advance(SEARCH_DEBOUNCE_S + 0.05)
    d.settle(lambda: not flow(d).browser.searching)


def act_results(d):
    d.tap_key(view(d, View.SEARCH).ids.keyboard, "clear")
    type_keys(d, "gjj")


def act_open_first(d):
    rows = view(d, View.SEARCH).ids.guide_list.row_widgets()
    top = max(rows, key=lambda w: w.y)   # the row at the top of the list
    d.tap(top)
    d.settle(lambda: not flow(d)._checking)


def act_hide_keyboard(d):
    d.tap(view(d, View.SEARCH).ids.keyboard_key)
    d.pump(3)


def more_results_in_sight(d):
    """The keyboard folded away: the results have the screen (at least three rows wholly in sight, where
    elder mode had room for one above the keyboard)."""
    sv = view(d, View.SEARCH)
    if sv.keyboard_shown or sv.ids.keyboard.height > 0:
        return "the keyboard is still shown"
    gl = sv.ids.guide_list
    bottom, top = gl.to_window(gl.x, gl.y)[1], gl.to_window(gl.x, gl.top)[1]
    whole = [r for r in gl.row_widgets()
             if r.to_window(r.x, r.y)[1] >= bottom - 1 and r.to_window(r.x, r.top)[1] <= top + 1]
    return None if len(whole) >= 3 else f"{len(whole)} result rows wholly in sight, expected at least 3"


def act_scroll_detail(d):
    dv = view(d, View.DETAIL)
    dv.ids.scroller.scroll_to(dv.qr, padding=40, animate=False)
    d.pump(3)


def act_print(kind: str):
    def act(d):
        if flow(d).view is View.PRINT:
            d.tap(view(d, View.PRINT).ids.back_to_guide)
        dv = view(d, View.DETAIL)
        d.tap(dv.ids.print_receipt if kind == RECEIPT else dv.ids.print_a4)
        d.settle(lambda: flow(d).printing and flow(d).printing.phase is not PrintPhase.PRINTING,
               SETTLE_LONG_FRAMES if kind == A4 else SETTLE_FRAMES)
    return act


def act_paper_out(d):
    set_paper("out")
    act_print(RECEIPT)(d)


def act_back_to_guide(d):
    d.tap(view(d, View.PRINT).ids.back_to_guide)


def act_paper_loaded(d):
    set_paper("ok")
    flow(d).check_printers()
    d.settle(lambda: not flow(d)._checking)


FLOWS: dict[str, list[Step]] = {}   # the flows, in the order the tour runs them (kiosk/tour/runner.py)
FLOWS["guides"] = [
    Step("home", act_home(False), expect(View.HOME, has_groups)),
    Step("theme", act_theme, expect(View.LIST, list_of(THEME))),
    Step("search-sb", act_search_sb, expect(View.SEARCH, results_for("sb", "社会保障卡"))),
    Step("search-shebao-word", act_search_word, expect(View.SEARCH, results_for("社保", "社会保障卡"))),
    Step("results", act_results, expect(View.SEARCH, results_for("gjj", "公积金"))),
    Step("detail", act_open_first, expect(View.DETAIL, detail_shown)),
    Step("detail-scrolled", act_scroll_detail, expect(View.DETAIL, qr_in_sight)),
    Step("receipt-done", act_print(RECEIPT), expect(View.PRINT, printed(RECEIPT))),
    Step("a4-done", act_print(A4), expect(View.PRINT, printed(A4))),
    Step("paper-out", act_paper_out, expect(View.PRINT, calm_paper_out)),
    Step("paper-out-detail", act_back_to_guide, expect(View.DETAIL, receipt_unavailable)),
    Step("paper-loaded", act_paper_loaded, expect(View.DETAIL, receipt_available)),
]
FLOWS["guides-elder"] = [
    Step("home", act_home(True), expect(View.HOME, has_groups)),
    Step("theme", act_theme, expect(View.LIST, list_of(THEME))),
    Step("search-sb", act_search_sb, expect(View.SEARCH, results_for("sb", "社会保障卡"))),
    Step("search-keyboard-hidden", act_hide_keyboard, expect(View.SEARCH, more_results_in_sight)),
    Step("detail", act_open_first, expect(View.DETAIL, detail_shown)),
    Step("detail-scrolled", act_scroll_detail, expect(View.DETAIL, qr_in_sight)),
    Step("receipt-done", act_print(RECEIPT), expect(View.PRINT, printed(RECEIPT))),
]
