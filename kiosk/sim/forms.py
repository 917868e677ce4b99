"""Sample blank forms for the demo: the plug-in `[documents] sample_forms` of the demo config names.

A form missing from the kiosk's forms cache is rendered by `write_demo_form` as a
clearly marked sample (a title, labelled lines to fill in, DEMO marks), so the
demo hall works without a forms server. Run in a child process
(kiosk/core/apart.py): reportlab and the font never load into the UI.
"""
from __future__ import annotations

from pathlib import Path


DEMO_CATALOG = Path(__file__).resolve().parents[2] / "config" / "demo-catalog.json"


def write_demo_form(title: str, item_name: str, url: str, out: str) -> int:
    """`render_demo_form` into the file `out` (in a child process); returns its size. A form that the
    demo catalog fills in on its blank gets that blank, drawn from its template, so the answers land
    in its boxes."""
    template = _blank_template(url)
    if template is not None:
        from kiosk.core.forms.render import render_blank

        render_blank(template, item_name, out)
        return Path(out).stat().st_size
    return Path(out).write_bytes(render_demo_form(title, item_name, url))


def _blank_template(url: str):
    """The demo catalog's template filled in on the blank at `url`, if there is one."""
    import json

    from kiosk.wire.forms import FormTemplate

    try:
        catalog = json.loads(DEMO_CATALOG.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    for item in catalog.get("items", ()):
        for material in item.get("materials", ()):
            form = material.get("fill_form")
            blank = (form or {}).get("layout", {}).get("blank")
            if blank and url in (blank.get("url"), material.get("blank_form_url")):
                return FormTemplate.model_validate(form)
    return None


def render_demo_form(title: str, item_name: str, url: str) -> bytes:
    """A sample blank form: a title, labelled lines to fill in, and DEMO marks on the page."""
    import io

    from reportlab.lib.pagesizes import A4
    from reportlab.lib.units import mm
    from reportlab.pdfgen.canvas import Canvas

    from kiosk.fonts import pdf_font

    font = pdf_font()[0]
    buf = io.BytesIO()
    c = Canvas(buf, pagesize=A4, invariant=1)
    c.setTitle(title)
    width, height = A4
    left = 25 * mm
    c.setFont(font, 20)
    c.drawCentredString(width / 2, height - 35 * mm, title)
    c.setFont(font, 11)
    c.drawCentredString(width / 2, height - 44 * mm, f"（{item_name}）" if item_name else "")
    y = height - 65 * mm
    for label in ("申请人姓名", "证件类型", "证件号码", "联系电话", "联系地址", "申请事项", "申请理由",
                  "附件清单", "申请人签名", "申请日期"):
        c.setFont(font, 13)
        c.drawString(left, y, label + "：")
        c.line(left + 32 * mm, y - 1.5 * mm, width - left, y - 1.5 * mm)
        y -= 16 * mm
    c.setFont(font, 9)
    c.setFillGray(0.4)
    c.drawCentredString(width / 2, 20 * mm, "示例表格 仅供演示  DEMO FORM    " + url[:80])
    c.setFillGray(0)
    c.showPage()
    c.save()
    return buf.getvalue()
