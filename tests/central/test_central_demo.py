"""Demo documents of `kiosk central seed`: real PDFs, one page per declared page, no full ID number."""
from __future__ import annotations

import re
import subprocess

import pytest

from kiosk.central import demo
from kiosk.core.privacy import mask_id_number


def text_of(pdf: bytes, tmp_path) -> str:
    """The text a reader of the PDF sees (poppler's pdftotext, a system package of the project)."""
    path = tmp_path / "doc.pdf"
    path.write_bytes(pdf)
    return subprocess.run(["pdftotext", "-enc", "UTF-8", str(path), "-"], capture_output=True, text=True,
                          timeout=30, check=True).stdout


def page_count(pdf: bytes) -> int:
    return len(re.findall(rb"/Type\s*/Page(?!s)", pdf))


@pytest.mark.parametrize("font", ["installed", "builtin"])
def test_demo_pdf_has_the_declared_pages_and_masks_the_id_number(font, tmp_path):
    name = demo.builtin_cjk_font() if font == "builtin" else None
    for doc in demo.DEMO_DOCUMENTS:
        numbers = [demo.DEMO_HOLDERS[i].id_number for i in doc.holders]
        pdf = demo.render_pdf(doc, numbers, font=name)
        assert pdf.startswith(b"%PDF-") and page_count(pdf) == doc.pages
        text = text_of(pdf, tmp_path).replace(" ", "")
        assert doc.title in text and doc.doc_id in text
        assert all(mask_id_number(n) in text and n not in text for n in numbers)
        if font == "builtin":
            assert b"STSong-Light" in pdf


def test_demo_pdf_is_the_same_bytes_every_time():
    doc = demo.DEMO_DOCUMENTS[1]
    numbers = [demo.DEMO_HOLDERS[i].id_number for i in doc.holders]
    assert demo.render_pdf(doc, numbers) == demo.render_pdf(doc, numbers)


def test_wrap_keeps_every_character_and_each_line_within_the_width():
    font = demo.builtin_cjk_font()
    text = "申请人于2026年11月10日申请的不动产转移登记已办理完毕，登记结果如下。" * 3
    lines = demo.wrap(text, font, 13, 200)
    from reportlab.pdfbase.pdfmetrics import stringWidth
    assert "".join(lines) == text and len(lines) > 1
    assert all(stringWidth(line, font, 13) <= 200 for line in lines)
