"""A service guide on paper: the receipt version and the A4 version (a PDF) of one catalog item.

The receipt (80 mm, the receipt driver's document model) carries what a
citizen takes to the window: the key facts, the materials checklist with
required / original or copy / how many copies, the time limits, the fees or
"free", where and when, the phones, and a QR code to the online guide.

The A4 version is a self-contained PDF (reportlab, the kiosk's Chinese font
embedded as a subset) with every section of the item: conditions, the
materials table, steps, legal and promised time limits, fees, legal basis,
location, hours, phones, visits, the online address with its QR code, FAQ.
Its glyphs are named by Unicode (kiosk/core/printing/glyph_names.py), so the
text still reads after CUPS prints it through PostScript.

Labels go through gettext in the language the citizen chose; the item's own
text is the catalog's (Chinese). No personal data is ever printed here.
"""
from __future__ import annotations

import datetime as dt
import io
import unicodedata
from pathlib import Path

from kiosk.core.printing.glyph_names import name_glyphs
from kiosk.hardware.receipt import Receipt
from kiosk.i18n import _, N_
from kiosk.wire.catalog import Duration, Item, Material

FORM_LABELS = {"original": N_("original"), "copy": N_("copy"), "electronic": N_("electronic")}


# -- wording shared by the screen, the receipt and the PDF ---------------------------------------

def duration_text(d: Duration) -> str:
    if d.unit == "immediate" or d.value == 0:
        return _("on the spot")
    if d.unit == "working_days":
        return _("%(n)d working days") % {"n": d.value}
    return _("%(n)d days") % {"n": d.value}


def time_limits_text(item: Item) -> tuple[str, str]:
    """(legal, promised) as the citizen reads them."""
    return duration_text(item.time_limit.legal), duration_text(item.time_limit.promised)


def material_facts(m: Material) -> str:
    """'required · original · hand in 1' / 'optional · copy · show only'."""
    parts = [_("required") if m.required else _("optional"), _(FORM_LABELS[m.form])]
    if m.form == "electronic":
        pass  # nothing to hand in on paper
    elif m.copies == 0:
        parts.append(_("shown and returned"))
    else:
        parts.append(_("hand in %(n)d") % {"n": m.copies})
    return " · ".join(parts)


def fees_lines(item: Item) -> list[str]:
    """'free', or one line per fee: name: standard."""
    if item.free:
        return [_("Free of charge")]
    return [f"{f.name}：{f.standard}" for f in item.fees]


def visits_text(item: Item) -> str:
    if item.visits == 0:
        return _("No visit needed: it can be done entirely online")
    return _("%(n)d visit(s) in person") % {"n": item.visits}


# -- the receipt ----------------------------------------------------------------------------------

def display_width(text: str) -> int:
    """Columns on the printer: a Chinese (wide) character takes two."""
    return sum(2 if unicodedata.east_asian_width(c) in ("W", "F") else 1 for c in text)


def wrap(text: str, width: int, indent: str = "") -> list[str]:
    """Break `text` into printer lines of at most `width` columns (Chinese has no spaces to break at)."""
    out: list[str] = []
    for para in str(text).splitlines() or [""]:
        line, used = "", 0
        for ch in para:
            w = display_width(ch)
            if used + w > width:
                out.append(line)
                line, used = indent, display_width(indent)
            line += ch
            used += w
        out.append(line)
    return out


def receipt_of(item: Item, *, hall: str = "", printed_at: dt.datetime | None = None, width: int = 48) -> Receipt:
    """The receipt version of `item`: key facts, the materials checklist and a QR code to the online guide."""
    r = Receipt(width=width)

    def para(text: str, indent: str = "  ", bold: bool = False) -> None:
        for line in wrap(text, width, indent):
            r.line(line, bold=bold)

    def labelled(label: str, value: str) -> None:
        para(f"{label}：{value}")

    r.title(_("Service guide"))
    r.feed(1)
    for line in wrap(item.name, width):
        r.line(line, bold=True)
    labelled(_("Item code"), item.code)
    labelled(_("Department"), item.department)
    r.rule()
    legal, promised = time_limits_text(item)
    labelled(_("Legal time limit"), legal)
    labelled(_("Promised time limit"), promised)
    labelled(_("Fees"), "；".join(fees_lines(item)))
    labelled(_("Visits"), visits_text(item))
    r.rule()
    r.line(_("Materials to bring"), bold=True)
    if not item.materials:
        para(_("No materials are needed."))
    for n, m in enumerate(item.materials, 1):
        para(f"[ ] {n}. {m.name}", indent="      ")
        para("      " + material_facts(m), indent="      ")
        if m.notes:
            para("      " + m.notes, indent="      ")
    r.rule()
    labelled(_("Where"), item.location)
    labelled(_("Opening hours"), item.hours)
    labelled(_("Enquiries"), item.phone)
    labelled(_("Complaints"), item.complaint_phone)
    if item.online_url:
        r.rule()
        r.centered(_("Scan for the online guide"))
        r.qr(item.online_url, size=6)
        r.centered(item.online_url)
    r.rule()
    if hall:
        for line in wrap(hall, width):
            r.centered(line)
    if printed_at:
        r.centered(_("Printed %(when)s") % {"when": printed_at.strftime("%Y-%m-%d %H:%M")})
    r.feed(2)
    return r.cut()


# -- the A4 version ---------------------------------------------------------------------------------

def qr_matrix(data: str) -> list[list[bool]]:
    """The QR code of `data` as rows of dark (True) modules, quiet zone included."""
    import qrcode

    code = qrcode.QRCode(error_correction=qrcode.constants.ERROR_CORRECT_M, border=2)
    code.add_data(data)
    code.make(fit=True)
    return code.get_matrix()


def _QrFlowable(data: str, side: float):
    """A QR code drawn as filled squares (reportlab's own QR drawing sets an unembedded font)."""
    from reportlab.platypus import Flowable

    class QrFlowable(Flowable):
        def __init__(self):
            super().__init__()
            self.matrix = qr_matrix(data)
            self.width = self.height = side

        def draw(self) -> None:
            n = len(self.matrix)
            cell = side / n
            self.canv.setFillColorRGB(0, 0, 0)
            for r, row in enumerate(self.matrix):
                for c, dark in enumerate(row):
                    if dark:
                        self.canv.rect(c * cell, side - (r + 1) * cell, cell, cell, stroke=0, fill=1)

    return QrFlowable()


def a4_pdf(item: Item, out: str | Path, *, font_path: str | Path, hall: str = "",
           printed_at: dt.datetime | None = None) -> int:
    """Write the A4 guide of `item` to `out` (a PDF, font embedded); returns its number of pages."""
    from reportlab.lib import colors
    from reportlab.lib.pagesizes import A4
    from reportlab.lib.styles import ParagraphStyle
    from reportlab.lib.units import mm
    from reportlab.platypus import KeepTogether, Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle
    from xml.sax.saxutils import escape

    from kiosk.fonts import pdf_font

    font = pdf_font(font_path, fallback=False)[0]   # the UI's own font, embedded
    base = ParagraphStyle("body", fontName=font, fontSize=10.5, leading=16, wordWrap="CJK")
    small = ParagraphStyle("small", parent=base, fontSize=9, leading=13, textColor=colors.HexColor("#4A5968"))
    title = ParagraphStyle("title", parent=base, fontSize=18, leading=26, spaceAfter=4)
    heading = ParagraphStyle("heading", parent=base, fontSize=13, leading=20, spaceBefore=10, spaceAfter=4,
                             textColor=colors.HexColor("#17467A"))
    cell = ParagraphStyle("cell", parent=base, fontSize=9.5, leading=14)

    def p(text: str, style=base) -> Paragraph:
        return Paragraph(escape(str(text)).replace("\n", "<br/>"), style)

    story: list = [p(_("Service guide"), small), p(item.name, title),
                   p(f"{_('Item code')}：{item.code}　　{_('Department')}：{item.department}", small)]

    def section(name: str, *flowables) -> None:
        story.append(KeepTogether([p(name, heading), *flowables[:1]]))
        story.extend(flowables[1:])

    section(_("Conditions"), p(item.conditions))

    rows = [[p(_("No."), cell), p(_("Material"), cell), p(_("Required"), cell), p(_("Form"), cell),
             p(_("Copies"), cell), p(_("Notes"), cell)]]
    for n, m in enumerate(item.materials, 1):
        rows.append([p(str(n), cell), p(m.name, cell), p(_("yes") if m.required else _("no"), cell),
                     p(_(FORM_LABELS[m.form]), cell),
                     p(_("shown and returned") if m.copies == 0 and m.form != "electronic" else str(m.copies), cell),
                     p(m.notes or "", cell)])
    if item.materials:
        table = Table(rows, colWidths=[10 * mm, 52 * mm, 18 * mm, 20 * mm, 24 * mm, 50 * mm], repeatRows=1)
        table.setStyle(TableStyle([
            ("FONTNAME", (0, 0), (-1, -1), font),  # else the table sets Helvetica, a font not embedded
            ("GRID", (0, 0), (-1, -1), 0.5, colors.HexColor("#C7D1DB")),
            ("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#DCE8F6")),
            ("VALIGN", (0, 0), (-1, -1), "TOP"),
        ]))
        section(_("Materials"), table)
    else:
        section(_("Materials"), p(_("No materials are needed.")))

    steps = [p(f"{n}. {s.name}：{s.description}" + (f"（{s.time_limit}）" if s.time_limit else ""))
             for n, s in enumerate(item.steps, 1)]
    section(_("Steps"), *(steps or [p("—")]))
    legal, promised = time_limits_text(item)
    section(_("Time limits"), p(f"{_('Legal time limit')}：{legal}"), p(f"{_('Promised time limit')}：{promised}"))
    fees = [p(line) for line in fees_lines(item)]
    basis = _("Basis")
    fees += [p(f"{basis}：{f.basis}", small) for f in item.fees]
    section(_("Fees"), *fees)
    section(_("Legal basis"), *([p(t) for t in item.legal_basis] or [p("—")]))
    section(_("Where and when"), p(f"{_('Where')}：{item.location}"), p(f"{_('Opening hours')}：{item.hours}"))
    section(_("Phones"), p(f"{_('Enquiries')}：{item.phone}"), p(f"{_('Complaints')}：{item.complaint_phone}"))
    section(_("Visits"), p(visits_text(item)))
    if item.online_url:
        section(_("Online"), p(f"{_('Scan for the online guide')}：{item.online_url}"),
                _QrFlowable(item.online_url, 32 * mm))
    if item.faq:
        faq = []
        q, a = _("Q"), _("A")
        for f in item.faq:
            faq += [p(f"{q}：{f.q}"), p(f"{a}：{f.a}", small), Spacer(1, 4)]
        section(_("Questions and answers"), *faq)

    footer = " · ".join(x for x in (hall, printed_at.strftime("%Y-%m-%d %H:%M") if printed_at else "") if x)

    def decorate(canvas, doc) -> None:
        canvas.saveState()
        canvas.setFont(font, 8)
        canvas.setFillColor(colors.HexColor("#4A5968"))
        canvas.drawString(18 * mm, 10 * mm, footer)
        canvas.drawRightString(A4[0] - 18 * mm, 10 * mm, _("Page %(n)d") % {"n": doc.page})
        canvas.restoreState()

    buf = io.BytesIO()
    doc = SimpleDocTemplate(buf, pagesize=A4, leftMargin=18 * mm, rightMargin=18 * mm, topMargin=16 * mm,
                            bottomMargin=18 * mm, initialFontName=font, title=item.name, author=hall or "kiosk", subject=item.code)
    doc.build(story, onFirstPage=decorate, onLaterPages=decorate)
    Path(out).write_bytes(name_glyphs(buf.getvalue()))  # its text read after CUPS prints it through PostScript
    return doc.page


# -- the A4 version, rendered apart ------------------------------------------------------------------

def a4_pdf_apart(item: Item, out: str | Path, *, font_path: str | Path, hall: str = "",
                 printed_at: dt.datetime | None = None) -> int:
    """`a4_pdf` in a child process (kiosk/core/apart.py), in the current language: reportlab and the
    parsed tables of the Chinese font (about 30 MB) go when it exits instead of staying in the UI.
    Raises apart.ApartError naming what failed."""
    from kiosk.core.apart import call_apart

    return call_apart("kiosk.core.guides.printout:a4_pdf_job", item=item.model_dump(mode="json"), out=str(out),
                      font_path=str(font_path), hall=hall,
                      printed_at=printed_at.isoformat() if printed_at else None)


def a4_pdf_job(item: dict, out: str, font_path: str, hall: str, printed_at: str | None) -> int:
    """The child's side of `a4_pdf_apart`."""
    return a4_pdf(Item.model_validate(item), out, font_path=font_path, hall=hall,
                  printed_at=dt.datetime.fromisoformat(printed_at) if printed_at else None)
