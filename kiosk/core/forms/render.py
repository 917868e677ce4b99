"""The printed form: an A4 PDF of the citizen's application, with a QR code of its data for the window.

`render(template, values, item_name, out_pdf)` checks every value again
(validate.py), then draws the form with reportlab: in the generated layout
(title, a table of labels and values, signature and date lines, the item
name) or over the department's own blank form (`blank_pdf`, its pages merged
with pypdf). The printed form carries every value in full: it is the
citizen's own application, signed by them. The QR code holds the same data
as compact JSON, `{"t": template id, "v": version, "f": {key: value}}`, so
the window's system reads the form without anyone typing it again.

Nothing is ever cut or printed over something else without a word: a value
too long for its box shrinks (down to a size still readable) and wraps, and
when even that does not fit, or the data would need a QR code too dense to
scan at its printed size, `FormError` says which field, never the value.

Rendering loads reportlab and a Chinese font (tens of MB the UI would keep):
the UI calls `render_apart` through kiosk/core/apart.py, in a child process.
"""
from __future__ import annotations

import datetime as dt
import io
import json
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Mapping

from kiosk.core.forms.validate import Value, check_all, normalise
from kiosk.core.printing.documents import pdf_pages
from kiosk.core.printing.glyph_names import name_glyphs  # the text still reads after CUPS prints it
from kiosk.wire.forms import A4_HEIGHT_MM, A4_WIDTH_MM, FormField, FormTemplate, Position, QrPlace

PT_PER_MM = 72 / 25.4
MIN_FONT_MM = 2.5          # about 7 pt: the smallest a value shrinks to and is still read at a window
DEFAULT_FONT_MM = 4.0      # about 11 pt
LINE_SPACING = 1.2
QR_QUIET_MODULES = 4       # the white margin a scanner needs, inside the QR code's printed square
QR_MIN_MODULE_MM = 0.35    # about 14 mil: above what window imagers read (10 mil), and 4 dots at 300 dpi
QR_SIZE_MM = 35.0          # the QR code's square in the generated layout

# the form's own words are Chinese whatever the screen's language: it is handed in at a Chinese window
SIGNATURE = "申请人（签名）："
DATE_LINE = "日期：　　　　年　　月　　日"
QR_CAPTION = "窗口扫码录入"
ITEM_LINE = "办理事项：{}"
FOOTER = "本表由24小时自助服务区终端填写打印　表单 {id} 第 {version} 版　第 {page} 页 / 共 {pages} 页"
CONTINUED = "（续）"


class FormError(ValueError):
    """The form cannot be printed as it is; the message names the field or the blank, never a value."""


@dataclass(frozen=True)
class RenderedForm:
    pdf: Path
    pages: int          # as pdfinfo counts them: what the printer will be sent
    qr_payload: str     # the JSON in the QR code


# --- the QR code --------------------------------------------------------------------------------------

def qr_payload(template: FormTemplate, values: Mapping[str, Value | None]) -> str:
    """Compact JSON of the filled-in fields, in the template's order; empty optional fields are left
    out (the window's system knows them from the template), so more of the data fits the code."""
    filled = {}
    for f in template.fields:
        value = normalise(f, values.get(f.key))
        if value is None or value == "" or (f.kind == "checkbox" and value is False):
            continue
        filled[f.key] = value
    return json.dumps({"t": template.id, "v": template.version, "f": filled}, ensure_ascii=False,
                      separators=(",", ":"))


def max_qr_version(size_mm: float) -> int:
    """The largest QR version whose modules, quiet zone included, are at least QR_MIN_MODULE_MM at `size_mm`."""
    modules = math.floor(size_mm / QR_MIN_MODULE_MM) - 2 * QR_QUIET_MODULES
    return max(1, min(40, (modules - 17) // 4))


def qr_matrix(payload: str, size_mm: float) -> list[list[bool]]:
    """The QR code's modules (error correction M, UTF-8 bytes), or FormError when the data needs a
    denser code than prints legibly at `size_mm`."""
    import qrcode
    from qrcode.exceptions import DataOverflowError

    limit = max_qr_version(size_mm)
    qr = qrcode.QRCode(error_correction=qrcode.constants.ERROR_CORRECT_M, border=0)
    qr.add_data(payload.encode("utf-8"))
    try:
        qr.make(fit=True)
    except DataOverflowError:
        version = 41
    else:
        version = qr.version
    if version > limit:
        raise FormError(f"the form's data ({len(payload.encode('utf-8'))} bytes) needs a QR code of version "
                        f"{version if version <= 40 else 'over 40'}, but at {size_mm:g} mm only version {limit} "
                        "prints legibly: shorten the longest answers, or lower the fields' max_length in the template")
    return qr.get_matrix()


def _draw_qr(c, matrix: list[list[bool]], x_mm: float, top_mm: float, size_mm: float) -> None:
    """The code as filled squares (vector, sharp at any printer resolution), quiet zone inside the square."""
    from reportlab.lib.units import mm

    n = len(matrix) + 2 * QR_QUIET_MODULES
    module = size_mm / n * mm
    x0 = x_mm * mm + QR_QUIET_MODULES * module
    y0 = (A4_HEIGHT_MM - top_mm) * mm - QR_QUIET_MODULES * module
    c.setFillGray(1)
    c.rect(x_mm * mm, (A4_HEIGHT_MM - top_mm - size_mm) * mm, size_mm * mm, size_mm * mm, stroke=0, fill=1)
    c.setFillGray(0)
    for r, row in enumerate(matrix):
        run = None
        for col, dark in enumerate(row + [False]):
            if dark and run is None:
                run = col
            elif not dark and run is not None:  # a run of dark modules as one rectangle: smaller PDF
                c.rect(x0 + run * module, y0 - (r + 1) * module, (col - run) * module, module, stroke=0, fill=1)
                run = None


# --- text in boxes ----------------------------------------------------------------------------------

def wrap(text: str, font: str, size_pt: float, width_pt: float) -> list[str]:
    """Lines no wider than `width_pt`; Chinese breaks between any two characters, and so, in a form's
    narrow boxes, does anything else rather than overflow."""
    from reportlab.pdfbase.pdfmetrics import stringWidth

    lines, line = [], ""
    for ch in text:
        if line and stringWidth(line + ch, font, size_pt) > width_pt:
            lines.append(line)
            line = ""
        line += ch
    return lines + [line] if line or not lines else lines


def fit(text: str, font: str, width_mm: float, height_mm: float, start_mm: float) -> tuple[float, list[str]]:
    """(font size in mm, lines): the largest size from `start_mm` down to MIN_FONT_MM at which the
    wrapped text fits the box; no lines when nothing does."""
    from reportlab.pdfbase.pdfmetrics import stringWidth

    size = start_mm
    while size >= MIN_FONT_MM - 1e-9:
        lines = wrap(text, font, size * PT_PER_MM, width_mm * PT_PER_MM)
        tall_enough = len(lines) * size * LINE_SPACING <= height_mm + 1e-6 or (len(lines) == 1 and size <= height_mm)
        # a single character wider than a very narrow box is a line of its own that still overflows
        wide_enough = all(stringWidth(line, font, size * PT_PER_MM) <= width_mm * PT_PER_MM + 1e-6 for line in lines)
        if tall_enough and wide_enough:
            return size, lines
        size -= 0.25
    return MIN_FONT_MM, []


def _label(f: FormField) -> str:
    return f.label or f.key


def _shown(f: FormField, value: Value | None) -> str:
    if f.kind == "checkbox":
        return ""
    return "" if value is None else str(value)


# --- the blank layout -------------------------------------------------------------------------------

def _draw_in_box(c, font: str, f: FormField, value: Value | None) -> None:
    from reportlab.lib.units import mm

    p: Position = f.position
    if f.kind == "checkbox":
        if value:  # a tick across the box, drawn: no font has to carry the glyph
            s = min(p.w_mm, p.h_mm) * 0.8
            x, y = p.x_mm + (p.w_mm - s) / 2, A4_HEIGHT_MM - p.y_mm - (p.h_mm + s) / 2
            c.setLineWidth(max(0.8, s * 0.12 * mm))
            c.lines([(x * mm, (y + s * 0.5) * mm, (x + s * 0.4) * mm, (y + s * 0.1) * mm),
                     ((x + s * 0.4) * mm, (y + s * 0.1) * mm, (x + s) * mm, (y + s) * mm)])
        return
    text = _shown(f, value)
    if not text:
        return
    pad = min(1.0, p.w_mm * 0.05)
    start = p.font_mm or min(DEFAULT_FONT_MM, p.h_mm * 0.75)
    size, lines = fit(text, font, p.w_mm - 2 * pad, p.h_mm, max(MIN_FONT_MM, start))
    if not lines:
        raise FormError(f"field {f.key!r} ({_label(f)}): the answer is too long for its box on the form "
                        f"({p.w_mm:g} x {p.h_mm:g} mm) even at {MIN_FONT_MM:g} mm letters; shorten it, "
                        "or give the field a max_length in the template")
    block = len(lines) * size * LINE_SPACING
    top = p.y_mm + max(0.0, (p.h_mm - block) / 2)
    c.setFont(font, size * PT_PER_MM)
    for i, line in enumerate(lines):
        baseline = top + (i + 0.85) * size * LINE_SPACING - (LINE_SPACING - 1) * size / 2
        c.drawString((p.x_mm + pad) * mm, (A4_HEIGHT_MM - baseline) * mm, line)


def _render_over_blank(template: FormTemplate, values: dict, font: str, blank_pdf: Path, out_pdf: Path,
                       matrix: list[list[bool]]) -> None:
    from pypdf import PdfReader, PdfWriter
    from pypdf.errors import PyPdfError
    from reportlab.lib.pagesizes import A4
    from reportlab.pdfgen.canvas import Canvas

    blank = template.layout.blank
    try:
        reader = PdfReader(str(blank_pdf))
        pages = list(reader.pages)
    except (OSError, PyPdfError) as exc:
        raise FormError(f"the blank form {blank_pdf.name} of template {template.id!r} cannot be read: {exc}") from None
    if len(pages) != blank.pages:
        raise FormError(f"the blank form {blank_pdf.name} has {len(pages)} pages, template {template.id!r} "
                        f"places its fields on {blank.pages}: the blank or the template is out of date")
    for n, page in enumerate(pages, 1):
        w, h = float(page.mediabox.width), float(page.mediabox.height)
        if abs(w - A4[0]) > 3 or abs(h - A4[1]) > 3:
            raise FormError(f"page {n} of the blank form {blank_pdf.name} is {w / PT_PER_MM:.0f} x "
                            f"{h / PT_PER_MM:.0f} mm, not A4: template {template.id!r} places fields on A4")
    buf = io.BytesIO()
    c = Canvas(buf, pagesize=A4, invariant=1)
    for n in range(1, blank.pages + 1):
        for f in template.fields:
            if f.position.page == n:
                _draw_in_box(c, font, f, values.get(f.key))
        if blank.qr.page == n:
            _draw_qr(c, matrix, blank.qr.x_mm, blank.qr.y_mm, blank.qr.size_mm)
        c.showPage()
    c.save()
    overlay = PdfReader(io.BytesIO(name_glyphs(buf.getvalue())))  # our fonts only: the blank keeps its own
    writer = PdfWriter(clone_from=reader)  # pages merge only once they belong to a writer
    for page, over in zip(writer.pages, overlay.pages):
        page.merge_page(over)
    writer.add_metadata({"/Title": template.title})
    with open(out_pdf, "wb") as fh:
        writer.write(fh)


def render_blank(template: FormTemplate, item_name: str, out_pdf: str | Path, *, font: str | None = None) -> int:
    """A blank drawn from a blank-layout template: each field's box ruled with its label to its left (a
    checkbox's to its right), the QR code's square marked. It stands in where the department's PDF is
    not yet in the forms cache (the demo hall), and printed on tracing paper over the real blank it
    shows a technician whether the template's positions are right. Returns the page count."""
    from reportlab.lib.pagesizes import A4
    from reportlab.lib.units import mm
    from reportlab.pdfbase.pdfmetrics import stringWidth
    from reportlab.pdfgen.canvas import Canvas

    blank = template.layout.blank
    if blank is None:
        raise FormError(f"template {template.id!r} has the generated layout: it prints on plain paper")
    if font is None:
        from kiosk.fonts import pdf_font

        font = pdf_font()[0]
    buf = io.BytesIO()
    c = Canvas(buf, pagesize=A4, invariant=1)
    c.setTitle(template.title)
    size = 3.5 * PT_PER_MM
    for n in range(1, blank.pages + 1):
        if n == 1:
            c.setFont(font, 18)
            c.drawCentredString(A4[0] / 2, (A4_HEIGHT_MM - 22) * mm, template.title)
            c.setFont(font, 10)
            c.drawCentredString(A4[0] / 2, (A4_HEIGHT_MM - 30) * mm, f"（{item_name}）")
        c.setLineWidth(0.6)
        for f in template.fields:
            p = f.position
            if p.page != n:
                continue
            c.rect(p.x_mm * mm, (A4_HEIGHT_MM - p.y_mm - p.h_mm) * mm, p.w_mm * mm, p.h_mm * mm)
            c.setFont(font, size)
            middle = (A4_HEIGHT_MM - p.y_mm - p.h_mm / 2 - 1.2) * mm
            if f.kind == "checkbox":
                room = (A4_WIDTH_MM - 12 - p.x_mm - p.w_mm - 2) * PT_PER_MM
                for i, text in enumerate(wrap(_label(f), font, size, room)):
                    c.drawString((p.x_mm + p.w_mm + 2) * mm, middle - i * 4.5 * mm, text)
            elif f.label:
                label = f.label if stringWidth(f.label, font, size) <= p.x_mm * PT_PER_MM else f.label[:8]
                c.drawRightString((p.x_mm - 2) * mm, middle, label)
        if n == blank.pages:
            c.setFont(font, 11)
            c.drawString(20 * mm, (A4_HEIGHT_MM - 250) * mm, SIGNATURE)
            c.line(52 * mm, (A4_HEIGHT_MM - 251) * mm, 120 * mm, (A4_HEIGHT_MM - 251) * mm)
            c.drawString(20 * mm, (A4_HEIGHT_MM - 262) * mm, DATE_LINE)
        if blank.qr.page == n:
            q = blank.qr
            c.setDash(2, 2)
            c.rect(q.x_mm * mm, (A4_HEIGHT_MM - q.y_mm - q.size_mm) * mm, q.size_mm * mm, q.size_mm * mm)
            c.setDash()
        c.setFont(font, 8)
        c.drawCentredString(A4[0] / 2, FOOTER_MM * mm,
                            f"{template.id} 第 {template.version} 版　第 {n} 页 / 共 {blank.pages} 页")
        c.showPage()
    c.save()
    Path(out_pdf).write_bytes(name_glyphs(buf.getvalue()))
    return blank.pages


# --- the generated layout ---------------------------------------------------------------------------

MARGIN_MM = 20.0
LABEL_W_MM = 48.0
TABLE_W_MM = A4_WIDTH_MM - 2 * MARGIN_MM
TEXT_MM = DEFAULT_FONT_MM
ROW_MIN_MM = 10.0
CELL_PAD_MM = 2.0
TABLE_TOP_MM = 50.0
CONTINUED_TOP_MM = 30.0
FOOTER_MM = 14.0                       # from the bottom edge
TABLE_BOTTOM_MM = A4_HEIGHT_MM - 22.0  # rows end above the footer
CLOSING_MM = QR_SIZE_MM + 12.0         # signature, date and the QR code under the table


@dataclass(frozen=True)
class _Row:
    field: FormField
    label: list[str]
    value: list[str]
    height: float


def _rows(template: FormTemplate, values: dict, font: str) -> list[_Row]:
    size_pt = TEXT_MM * PT_PER_MM
    line = TEXT_MM * LINE_SPACING
    rows = []
    for f in template.fields:
        if f.kind == "checkbox":  # a statement to tick: the box, then the statement across the table
            label = wrap(_label(f), font, size_pt, (TABLE_W_MM - 2 * CELL_PAD_MM - 8) * PT_PER_MM)
            value: list[str] = []
        else:
            label = wrap(_label(f), font, size_pt, (LABEL_W_MM - 2 * CELL_PAD_MM) * PT_PER_MM)
            value = wrap(_shown(f, values.get(f.key)), font, size_pt,
                         (TABLE_W_MM - LABEL_W_MM - 2 * CELL_PAD_MM) * PT_PER_MM)
        height = max(ROW_MIN_MM, max(len(label), len(value)) * line + 2 * CELL_PAD_MM)
        if height > TABLE_BOTTOM_MM - CONTINUED_TOP_MM - CLOSING_MM:
            raise FormError(f"field {f.key!r} ({_label(f)}): the answer is too long for one page of the form; "
                            "shorten it, or give the field a max_length in the template")
        rows.append(_Row(f, label, value, height))
    return rows


def _paginate(rows: list[_Row]) -> list[list[_Row]]:
    """Rows per page; the last page keeps room under the table for signature, date and QR code."""
    pages: list[list[_Row]] = [[]]
    y = TABLE_TOP_MM
    for row in rows:
        if y + row.height > TABLE_BOTTOM_MM:
            pages.append([])
            y = CONTINUED_TOP_MM
        pages[-1].append(row)
        y += row.height
    if y + CLOSING_MM > TABLE_BOTTOM_MM:
        pages.append([])
    return pages


def _render_generated(template: FormTemplate, values: dict, item_name: str, font: str, out_pdf: Path,
                      matrix: list[list[bool]]) -> None:
    from reportlab.lib.pagesizes import A4
    from reportlab.lib.units import mm
    from reportlab.pdfgen.canvas import Canvas

    def at(y_mm: float) -> float:  # top-down millimetres to reportlab's bottom-up points
        return (A4_HEIGHT_MM - y_mm) * mm

    pages = _paginate(_rows(template, values, font))
    buf = io.BytesIO()
    c = Canvas(buf, pagesize=A4, invariant=1)  # invariant: the same bytes for the same form
    c.setTitle(template.title)
    size_pt = TEXT_MM * PT_PER_MM
    line = TEXT_MM * LINE_SPACING
    left, right, split = MARGIN_MM, MARGIN_MM + TABLE_W_MM, MARGIN_MM + LABEL_W_MM
    for number, rows in enumerate(pages, 1):
        if number == 1:
            c.setFont(font, 20)
            c.drawCentredString(A4[0] / 2, at(28), template.title)
            c.setFont(font, size_pt)
            c.drawString(left * mm, at(40), ITEM_LINE.format(item_name))
            y = TABLE_TOP_MM
        else:
            c.setFont(font, 14)
            c.drawCentredString(A4[0] / 2, at(20), template.title + CONTINUED)
            y = CONTINUED_TOP_MM
        top = y
        c.setLineWidth(0.8)
        for row in rows:
            c.line(left * mm, at(y), right * mm, at(y))
            c.setFont(font, size_pt)
            first = y + CELL_PAD_MM + TEXT_MM * 0.9
            if row.field.kind == "checkbox":
                box = 4.0
                bx, by = left + CELL_PAD_MM, y + (row.height - box) / 2
                c.rect(bx * mm, at(by + box), box * mm, box * mm, stroke=1, fill=0)
                if values.get(row.field.key):
                    c.lines([((bx + 0.7) * mm, at(by + 2.2), (bx + 1.7) * mm, at(by + 3.3)),
                             ((bx + 1.7) * mm, at(by + 3.3), (bx + 3.4) * mm, at(by + 0.6))])
                for i, text in enumerate(row.label):
                    c.drawString((bx + box + 3) * mm, at(first + i * line), text)
            else:
                for i, text in enumerate(row.label):
                    c.drawString((left + CELL_PAD_MM) * mm, at(first + i * line), text)
                for i, text in enumerate(row.value):
                    c.drawString((split + CELL_PAD_MM) * mm, at(first + i * line), text)
                c.line(split * mm, at(y), split * mm, at(y + row.height))
            y += row.height
        if rows:
            c.line(left * mm, at(y), right * mm, at(y))
            c.line(left * mm, at(top), left * mm, at(y))
            c.line(right * mm, at(top), right * mm, at(y))
        if number == len(pages):
            closing = y + 10
            c.setFont(font, size_pt)
            c.drawString(left * mm, at(closing + 8), SIGNATURE)
            c.line((left + 32) * mm, at(closing + 9), (left + 95) * mm, at(closing + 9))
            c.drawString(left * mm, at(closing + 22), DATE_LINE)
            qr_x = right - QR_SIZE_MM
            _draw_qr(c, matrix, qr_x, closing, QR_SIZE_MM)
            c.setFont(font, 9)
            c.drawCentredString((qr_x + QR_SIZE_MM / 2) * mm, at(closing + QR_SIZE_MM + 4), QR_CAPTION)
        c.setFont(font, 8)
        c.setFillGray(0.35)
        c.drawCentredString(A4[0] / 2, FOOTER_MM * mm, FOOTER.format(id=template.id, version=template.version,
                                                                    page=number, pages=len(pages)))
        c.setFillGray(0)
        c.showPage()
    c.save()
    out_pdf.write_bytes(name_glyphs(buf.getvalue()))  # its text read after CUPS prints it through PostScript


# --- the form ---------------------------------------------------------------------------------------

def render(template: FormTemplate, values: Mapping[str, Value | None], item_name: str, out_pdf: str | Path, *,
           blank_pdf: str | Path | None = None, font: str | None = None,
           today: dt.date | None = None) -> RenderedForm:
    """Write the filled-in form to `out_pdf`; its page count is pdfinfo's, checked before printing.

    `blank_pdf` is the department's blank for a blank layout (the caller takes it from the forms
    cache by the layout's url or path). `font` is a registered reportlab font; by default an
    installed Chinese TrueType font embedded as a subset, so every printer draws the same glyphs,
    else reportlab's built-in STSong-Light (kiosk/fonts.py). Raises FormError, naming fields by
    key and label and never showing a value, when a value fails its check, is too long for its
    box, or the data needs a QR code too dense to print."""
    out_pdf = Path(out_pdf)
    unknown = sorted(set(values) - {f.key for f in template.fields})
    if unknown:
        raise FormError(f"template {template.id!r} has no field {', '.join(map(repr, unknown))}")
    problems = check_all(template, values, today)
    if problems:
        named = ", ".join(f"{k} ({_label(template.field(k))})" for k in problems)
        raise FormError(f"template {template.id!r}: fix these fields first: {named}")
    clean = {f.key: normalise(f, values.get(f.key)) for f in template.fields}
    payload = qr_payload(template, clean)
    blank = template.layout.blank
    matrix = qr_matrix(payload, blank.qr.size_mm if blank else QR_SIZE_MM)
    if font is None:
        from kiosk.fonts import pdf_font

        font = pdf_font()[0]
    if blank is not None:
        if blank_pdf is None:
            raise FormError(f"template {template.id!r} is filled in on its blank form "
                            f"({blank.url or blank.path}), and no copy of that PDF was given")
        _render_over_blank(template, clean, font, Path(blank_pdf), out_pdf, matrix)
    else:
        _render_generated(template, clean, item_name, font, out_pdf, matrix)
    return RenderedForm(out_pdf, pdf_pages(out_pdf), payload)


def render_apart(template: dict, values: dict[str, Any], item_name: str, out_pdf: str,
                 blank_pdf: str | None = None) -> dict:
    """`render` in a child process (kiosk/core/apart.py: JSON in, JSON out), so reportlab and the font
    never stay in the UI: `call_apart("kiosk.core.forms.render:render_apart", template=t.model_dump(), ...)`.
    Answers {"pdf", "pages", "qr_payload"}, or {"error": message} for a FormError."""
    try:
        done = render(FormTemplate.model_validate(template), values, item_name, out_pdf, blank_pdf=blank_pdf)
    except FormError as exc:
        return {"error": str(exc)}
    return {"pdf": str(done.pdf), "pages": done.pages, "qr_payload": done.qr_payload}
