"""kiosk/core/printing/glyph_names.py: reportlab's TrueType subsets named by Unicode, the page unchanged.

What crosses CUPS's PostScript is each font's glyph names; the tests that print through a private
cupsd to cups-pdf and read the text back are with what they print (tests/test_form_render.py,
tests/guides/, tests/technician/test_test_page.py).
"""
from __future__ import annotations

import io
import re
import struct
import subprocess

import pytest

from kiosk.core.printing.glyph_names import name_glyphs
from kiosk.fonts import FontError, builtin_pdf_font, find_chinese_font, pdf_font

TEXT = "张三丰 1990-03-07 居住证申领 ABC"


@pytest.fixture(scope="module")
def font() -> str:
    try:
        return pdf_font(find_chinese_font().path, fallback=False)[0]
    except FontError as e:
        pytest.skip(f"no Chinese TrueType font to embed: {e}")


def drawn(font: str, text: str = TEXT) -> bytes:
    """One A4 page with `text` in `font`, as reportlab writes it."""
    from reportlab.lib.pagesizes import A4
    from reportlab.pdfgen.canvas import Canvas

    buf = io.BytesIO()
    c = Canvas(buf, pagesize=A4, invariant=1)
    c.setFont(font, 14)
    c.drawString(72, 760, text)
    c.showPage()
    c.save()
    return buf.getvalue()


def fonts_of(pdf: bytes) -> list:
    from pypdf import PdfReader

    return [f.get_object() for f in PdfReader(io.BytesIO(pdf)).pages[0]["/Resources"]["/Font"].values()]


def plain(obj):
    """A font's dictionary as plain Python, its references followed and its streams' data read."""
    from pypdf.generic import ArrayObject, DictionaryObject, IndirectObject, StreamObject

    if isinstance(obj, IndirectObject):
        return plain(obj.get_object())
    if isinstance(obj, StreamObject):
        return {"data": obj.get_data(), **{k: plain(v) for k, v in obj.items() if k not in ("/Length", "/Filter")}}
    if isinstance(obj, DictionaryObject):
        return {k: plain(v) for k, v in obj.items()}
    if isinstance(obj, ArrayObject):
        return [plain(v) for v in obj]
    return obj


def cmap_subtables(program: bytes) -> set[tuple[int, int]]:
    """The (platform, encoding) pairs of the font program's cmap table."""
    count = struct.unpack(">H", program[4:6])[0]
    for i in range(count):
        tag, _, offset, _ = struct.unpack(">4sLLL", program[12 + 16 * i:28 + 16 * i])
        if tag == b"cmap":
            n = struct.unpack(">H", program[offset + 2:offset + 4])[0]
            return {struct.unpack(">HH", program[offset + 4 + 8 * k:offset + 8 + 8 * k]) for k in range(n)}
    return set()


def test_every_code_is_named_after_the_character_its_to_unicode_says(font):
    """Each reportlab subset becomes a non-symbolic TrueType font whose /Encoding names every code after its
    character (uniXXXX, or the Adobe name of ASCII), the same as its /ToUnicode, with a (3,1) cmap those
    names go through and a post table of the same names."""
    before = [f for f in fonts_of(drawn(font)) if f["/Subtype"] == "/TrueType"]
    assert before and not any("/Encoding" in f for f in before)     # what reportlab writes: symbolic subsets
    embedded = [f for f in fonts_of(name_glyphs(drawn(font))) if f["/Subtype"] == "/TrueType"]
    assert embedded
    for f in embedded:
        assert not int(f["/FontDescriptor"]["/Flags"]) & 4, "symbolic: ghostscript would drop its names"
        names = list(f["/Encoding"]["/Differences"])[1:]
        cmap = f["/ToUnicode"].get_object().get_data().decode()
        for code, u in re.findall(r"<([0-9A-F]{2})> <([0-9A-F]{4})>", cmap):
            name = str(names[int(code, 16)])
            char = chr(int(u, 16))
            assert (name != "/.notdef") if char.isascii() else (name == f"/uni{u}"), (code, u, name)
        assert "/one" in names and "/uni5F20" in names     # "1" and "张"
        program = f["/FontDescriptor"]["/FontFile2"].get_object()
        data = program.get_data()
        assert {(1, 0), (3, 1)} <= cmap_subtables(data)
        assert b"\x07uni5F20" in data                        # the post table's name of 张
        assert int(program["/Length1"]) == len(data)


def test_the_page_draws_exactly_as_before(font, tmp_path):
    pdf = drawn(font)
    pictures = []
    for name, data in (("before", pdf), ("after", name_glyphs(pdf))):
        path = tmp_path / f"{name}.pdf"
        path.write_bytes(data)
        subprocess.run(["pdftoppm", "-r", "100", "-gray", str(path), str(tmp_path / name)], check=True)
        pictures.append((tmp_path / f"{name}-1.pgm").read_bytes())
    assert pictures[0] == pictures[1]
    text = subprocess.run(["pdftotext", "-enc", "UTF-8", str(tmp_path / "after.pdf"), "-"], capture_output=True,
                          text=True, check=True).stdout
    assert TEXT in text


def test_fonts_not_made_as_reportlab_subsets_them_are_left_alone(font):
    """The built-in CID font (nothing embedded) keeps its dictionary; a PDF already named is named no further."""
    cid = drawn(builtin_pdf_font())
    assert "/Type0" in [f["/Subtype"] for f in fonts_of(cid)]      # beside the canvas's default Helvetica
    assert [plain(f) for f in fonts_of(name_glyphs(cid))] == [plain(f) for f in fonts_of(cid)]
    once = name_glyphs(drawn(font))
    assert [plain(f) for f in fonts_of(name_glyphs(once))] == [plain(f) for f in fonts_of(once)]
