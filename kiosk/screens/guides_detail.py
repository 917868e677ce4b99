"""One service guide, every section in large type, scrollable, with the print buttons below.

The text blocks are a pool of labels reused from guide to guide (a guide has a
few dozen blocks), so opening guide after guide, visitor after visitor, keeps
the widget count flat. The online address is shown as a QR code drawn into a
texture from the `qrcode` matrix. A print button whose printer cannot print
now is disabled and says why.
"""
from __future__ import annotations

from pathlib import Path

from kivy.app import App
from kivy.graphics.texture import Texture
from kivy.metrics import dp
from kivy.lang import Builder
from kivy.properties import BooleanProperty, ObjectProperty, StringProperty
from kivy.uix.image import Image
from kivy.uix.label import Label
from kivy.uix.screenmanager import Screen

from kiosk.core.guides import printout as guide_print
from kiosk.core.guides.flow import A4, RECEIPT
from kiosk.i18n import N_, _
from kiosk.screens import guides_widgets  # noqa: F401  (shared guide widgets)
from kiosk.screens.widgets import RoundButton, forget_widget_tree


QR_DP = 280   # the QR code's side before the elder scale: a phone reads it from arm's length
# "this guide": the two print buttons read as printing the certificate itself when they said only the paper
RECEIPT_TITLE = N_("Print this guide on receipt paper")
A4_TITLE = N_("Print this guide on A4 paper")
FORM_TITLE = N_("Fill in its form here")


class DetailText(Label):
    """A block of the guide: `style` is title, meta, heading, body, strong or soft."""

    style = StringProperty("body")


class PrintButton(RoundButton):
    title = StringProperty()        # msgid
    reason = StringProperty()       # msgid; empty when the printer can print
    offered = BooleanProperty(True)


def qr_texture(data: str) -> Texture:
    """The QR code of `data` as a texture, one texel per module (drawn with nearest filtering)."""
    matrix = guide_print.qr_matrix(data)
    n = len(matrix)
    # textures start at the bottom row
    pixels = bytes(0 if dark else 255 for row in reversed(matrix) for dark in row)
    texture = Texture.create(size=(n, n), colorfmt="luminance")
    texture.blit_buffer(pixels, colorfmt="luminance", bufferfmt="ubyte")
    texture.mag_filter = "nearest"
    texture.min_filter = "nearest"
    return texture


class GuideDetailView(Screen):
    flow = ObjectProperty()

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self._pool: list[DetailText] = []
        self.qr = Image(size_hint=(None, None), fit_mode="contain")
        self._qr_for = None
        self._released = False

    def show(self, aspects: set[str]) -> None:
        if (aspects & {"detail", "lang"} or self._released) and self.flow.item is not None:
            self._fill(self.flow.item)
            if "detail" in aspects:
                self.ids.scroller.scroll_y = 1
        if aspects & {"detail", "lang"} or self._released:
            item = self.flow.item
            app = App.get_running_app()
            self.ids.fill_form.offered = bool(item is not None and any(m.fill_form for m in item.materials)
                                              and app is not None and app.offers("forms"))
        if aspects & {"options", "detail", "print"}:
            for kind, button in ((RECEIPT, self.ids.print_receipt), (A4, self.ids.print_a4)):
                opt = self.flow.options.get(kind)
                button.offered = opt is not None
                button.reason = opt.reason if opt and not opt.available else ""
                button.disabled = opt is None or not opt.available

    def fill_form(self) -> None:
        """Fill in the guide's form at the kiosk (the forms service, with this guide's forms)."""
        if self.flow.item is not None:
            App.get_running_app().open_service("forms", item_code=self.flow.item.code)

    def blocks(self, item) -> list[tuple[str, str]]:
        """The guide as (style, text) blocks, in reading order; ("qr", url) for the QR code."""
        out = [("title", item.name), ("meta", f"{item.department}　·　{_('Item code')} {item.code}")]
        legal, promised = guide_print.time_limits_text(item)
        out += [("heading", _("At a glance")),
                ("strong", f"{_('Promised time limit')}：{promised}"),
                ("body", f"{_('Legal time limit')}：{legal}"),
                ("strong", f"{_('Fees')}：{'；'.join(guide_print.fees_lines(item))}"),
                ("body", f"{_('Visits')}：{guide_print.visits_text(item)}")]
        out += [("heading", _("Conditions")), ("body", item.conditions)]
        out.append(("heading", _("Materials")))
        if not item.materials:
            out.append(("body", _("No materials are needed.")))
        for n, m in enumerate(item.materials, 1):
            out.append(("strong", f"{n}. {m.name}"))
            out.append(("soft", guide_print.material_facts(m) + (f"\n{m.notes}" if m.notes else "")))
        out.append(("heading", _("Steps")))
        for n, s in enumerate(item.steps, 1):
            out.append(("strong", f"{n}. {s.name}" + (f"（{s.time_limit}）" if s.time_limit else "")))
            out.append(("body", s.description))
        if item.fees:
            out.append(("heading", _("Fees")))
            basis = _("Basis")
            for f in item.fees:
                out += [("strong", f"{f.name}：{f.standard}"), ("soft", f"{basis}：{f.basis}")]
        out += [("heading", _("Where and when")),
                ("body", f"{_('Where')}：{item.location}"),
                ("body", f"{_('Opening hours')}：{item.hours}"),
                ("heading", _("Phones")),
                ("body", f"{_('Enquiries')}：{item.phone}"),
                ("body", f"{_('Complaints')}：{item.complaint_phone}")]
        if item.online_url:
            # the address above its QR code: scrolled to the code, the address is in sight too (it stood under the
            # code, where the end of the scroll cut it off above the print buttons)
            out += [("heading", _("Online")), ("soft", _("Scan for the online guide")), ("soft", item.online_url),
                    ("qr", item.online_url)]
        if item.faq:
            out.append(("heading", _("Questions and answers")))
            q, a = _("Q"), _("A")
            for f in item.faq:
                out += [("strong", f"{q}：{f.q}"), ("body", f"{a}：{f.a}")]
        if item.legal_basis:
            out.append(("heading", _("Legal basis")))
            out += [("soft", t) for t in item.legal_basis]
        return out

    def _fill(self, item) -> None:
        box = self.ids.content
        box.clear_widgets()
        used = 0
        for style, text in self.blocks(item):
            if style == "qr":
                if self._qr_for != text:
                    self.qr.texture = qr_texture(text)
                    self._qr_for = text
                side = dp(QR_DP) * App.get_running_app().scale
                self.qr.size = (side, side)
                box.add_widget(self.qr)
                continue
            if used == len(self._pool):
                self._pool.append(DetailText())
            label = self._pool[used]
            used += 1
            label.style, label.text = style, text
            box.add_widget(label)
        self._released = False

    def release(self) -> None:
        """Let the last guide's text go once the citizen has left the guides.

        A long guide is forty labels of full-width text: the largest textures of the UI,
        about 10 MB in elder mode. The labels are made again for the next guide opened.
        """
        self.ids.content.clear_widgets()
        for label in self._pool:
            forget_widget_tree(label)
        self._pool.clear()
        self.qr.texture, self._qr_for = None, None
        self._released = True

    def pool_size(self) -> int:
        return len(self._pool)


Builder.load_file(str(Path(__file__).with_name("guides_detail.kv")))
