"""Text that survives the print path: `name_glyphs(pdf)` names the glyphs of reportlab's embedded
TrueType subsets by Unicode, so a PDF the kiosk makes still reads as Chinese after CUPS prints it.

reportlab embeds a TrueType font as subsets of up to 256 glyphs, each a *symbolic* simple font with
no /Encoding: codes pick glyphs through the subset's (1,0) cmap, and only the /ToUnicode CMap says
which characters they are. A viewer reads that, but CUPS does not print the PDF as it is: its
pdftops filter turns it into PostScript (ghostscript's ps2write, or poppler's pdftops) and a PDF
printer such as cups-pdf makes a PDF again with ghostscript's pdfwrite. PostScript has no
/ToUnicode: what crosses it is the glyph *names* of the font's encoding, and a symbolic font has
none (ghostscript even drops a symbolic font's /Encoding), so the Chinese of the printed PDF came
out as WinAnsi junk (pdftotext read "€•…"). `name_glyphs` gives every subset names that carry
Unicode, the standard way of a non-symbolic TrueType font: an /Encoding whose /Differences name
each code (`uni5F20`, or the Adobe name `one` for ASCII), a (3,1) Unicode cmap in the font program
that those names select glyphs through (ISO 32000-1 9.6.6.4), and a format-2 `post` table with the
same names for viewers that look names up there. Every code still draws the glyph it drew (the old
cmap stays), so the page prints the same (measured pixel-identical through poppler, ghostscript,
MuPDF and cups-pdf); ghostscript rebuilds the /ToUnicode from the names on the way out. It costs
about 50 ms and 4 KB more per form.

Every A4 PDF the kiosk draws with reportlab and prints goes through it before CUPS takes it: the
printed forms and blanks (kiosk/core/forms/render.py), the A4 guides (kiosk/core/guides/printout.py)
and the technician's test page (kiosk/core/technician/test_page.py). PDFs the kiosk receives
(released documents, department blanks) are printed as they come. Fonts not made the way reportlab
makes them (no /ToUnicode, an /Encoding of their own, not embedded, such as the built-in
STSong-Light CID font) are left alone. pypdf and reportlab load only when `name_glyphs` runs, where
the PDF is drawn (a child process for forms and guides, kiosk/core/apart.py).
"""
from __future__ import annotations

import io
import re
import struct


def _glyph_name(u: int) -> str:
    from reportlab.pdfbase._fontdata import encodings

    if 0x20 <= u < 0x7F:
        return encodings["WinAnsiEncoding"][u]      # the Adobe Glyph List's names: space, one, A ...
    return f"uni{u:04X}" if u <= 0xFFFF else f"u{u:06X}"


def _to_unicode(cmap: bytes) -> dict[int, int]:
    """code -> character of a simple font's /ToUnicode (bfchar entries, one character each)."""
    found = {}
    for section in re.findall(rb"beginbfchar(.*?)endbfchar", cmap, re.S):
        for code, dst in re.findall(rb"<([0-9A-Fa-f]{2})>\s*<([0-9A-Fa-f]+)>", section):
            chars = bytes.fromhex(dst.decode()).decode("utf-16-be", "replace") if len(dst) % 4 == 0 else ""
            found[int(code, 16)] = ord(chars) if len(chars) == 1 else int(dst, 16)
    return found


def _sfnt_checksum(data: bytes) -> int:
    data += b"\0" * (-len(data) % 4)
    return sum(struct.unpack(f">{len(data) // 4}L", data)) & 0xFFFFFFFF


def _sfnt_tables(font: bytes) -> tuple[bytes, dict[bytes, bytes]]:
    count = struct.unpack(">H", font[4:6])[0]
    tables = {}
    for i in range(count):
        tag, _, offset, length = struct.unpack(">4sLLL", font[12 + 16 * i:28 + 16 * i])
        tables[tag] = font[offset:offset + length]
    return font[:4], tables


def _sfnt(version: bytes, tables: dict[bytes, bytes]) -> bytes:
    """A TrueType font of `tables`: directory sorted by tag, checksums and head.checkSumAdjustment set."""
    tags = sorted(tables)
    tables = dict(tables)
    tables[b"head"] = tables[b"head"][:8] + b"\0\0\0\0" + tables[b"head"][12:]
    n = len(tags)
    power = 1 << (n.bit_length() - 1)
    out = [version, struct.pack(">HHHH", n, 16 * power, power.bit_length() - 1, 16 * (n - power))]
    offset, body, head_at = 12 + 16 * n, [], 0
    for tag in tags:
        data = tables[tag]
        if tag == b"head":
            head_at = offset
        out.append(struct.pack(">4sLLL", tag, _sfnt_checksum(data), offset, len(data)))
        body.append(data + b"\0" * (-len(data) % 4))
        offset += len(body[-1])
    font = b"".join(out + body)
    adjust = (0xB1B0AFBA - _sfnt_checksum(font)) & 0xFFFFFFFF
    return font[:head_at + 8] + struct.pack(">L", adjust) + font[head_at + 12:]


def _mac_cmap(cmap: bytes) -> tuple[bytes, dict[int, int]] | None:
    """The (1,0) subtable of a subset's cmap (reportlab writes format 6) and its code -> glyph."""
    for i in range(struct.unpack(">H", cmap[2:4])[0]):
        platform, encoding, offset = struct.unpack(">HHL", cmap[4 + 8 * i:12 + 8 * i])
        if (platform, encoding) != (1, 0):
            continue
        fmt, length = struct.unpack(">HH", cmap[offset:offset + 4])
        table = cmap[offset:offset + length]
        if fmt == 6:
            first, count = struct.unpack(">HH", table[6:10])
            return table, {first + n: g for n, g in enumerate(struct.unpack(f">{count}H", table[10:10 + 2 * count]))}
        if fmt == 0:
            return table, dict(enumerate(table[6:262]))
    return None


def _unicode_cmaps(glyphs: dict[int, int]) -> list[tuple[int, int, bytes]]:
    """(3,1) format 4 for the BMP and, when there is more, (3,10) format 12: character -> glyph."""
    bmp = {u: g for u, g in glyphs.items() if u <= 0xFFFF and u != 0xFFFF}
    segments: list[list[int]] = []          # [first, last] runs of characters with consecutive glyphs
    for u in sorted(bmp):
        if segments and u == segments[-1][1] + 1 and bmp[u] - u == bmp[segments[-1][0]] - segments[-1][0]:
            segments[-1][1] = u
        else:
            segments.append([u, u])
    segments.append([0xFFFF, 0xFFFF])
    n = len(segments)
    power = 1 << (n.bit_length() - 1)
    deltas = [(bmp[first] - first) & 0xFFFF if first != 0xFFFF else 1 for first, _ in segments]
    body = (struct.pack(f">{n}H", *(last for _, last in segments)) + b"\0\0"
            + struct.pack(f">{n}H", *(first for first, _ in segments)) + struct.pack(f">{n}H", *deltas)
            + b"\0\0" * n)
    subtables = [(3, 1, struct.pack(">7H", 4, 14 + len(body), 0, 2 * n, 2 * power, power.bit_length() - 1,
                                    2 * (n - power)) + body)]
    if any(u > 0xFFFF for u in glyphs):
        groups = [struct.pack(">3L", u, u, g) for u, g in sorted(glyphs.items())]
        subtables.append((3, 10, struct.pack(">HHLLL", 12, 0, 16 + 12 * len(groups), 0, len(groups))
                          + b"".join(groups)))
    return subtables


def _named_font_program(font: bytes, chars: dict[int, int]) -> bytes | None:
    """The subset `font` with a Unicode cmap and glyph names beside its (1,0) cmap; None when it is not
    a font as reportlab makes them."""
    version, tables = _sfnt_tables(font)
    if b"cmap" not in tables or b"maxp" not in tables or b"head" not in tables:
        return None
    mac = _mac_cmap(tables[b"cmap"])
    if mac is None:
        return None
    mac_table, code_glyph = mac
    glyphs: dict[int, int] = {}             # character -> glyph, for every code that draws a real glyph
    for code, glyph in sorted(code_glyph.items()):
        if glyph and code in chars:
            glyphs.setdefault(chars[code], glyph)
    subtables = [(1, 0, mac_table)] + _unicode_cmaps(glyphs)
    offset = 4 + 8 * len(subtables)
    records, data = [], []
    for platform, encoding, table in subtables:
        records.append(struct.pack(">HHL", platform, encoding, offset))
        data.append(table)
        offset += len(table)
    tables[b"cmap"] = struct.pack(">HH", 0, len(subtables)) + b"".join(records + data)
    count = struct.unpack(">H", tables[b"maxp"][4:6])[0]
    names = {0: ".notdef"}
    for u, glyph in sorted(glyphs.items()):
        names.setdefault(glyph, _glyph_name(u))
    # post 2.0: the 1.0 header's numbers kept, then glyph 0 as the Mac standard .notdef (index 0) and every
    # other glyph a name of its own (index 258 on: a Pascal string each, in glyph order)
    header = (tables.get(b"post", b"") + b"\0" * 32)[4:32]
    own = [names.get(g, f"g{g}").encode("ascii") for g in range(1, count)]
    tables[b"post"] = (b"\x00\x02\x00\x00" + header + struct.pack(f">{count + 1}H", count, 0, *range(258, 257 + count))
                       + b"".join(bytes([len(name)]) + name for name in own))
    return _sfnt(version, tables)


def name_glyphs(pdf: bytes) -> bytes:
    """`pdf` with reportlab's TrueType subsets made non-symbolic fonts whose glyph names carry Unicode
    (see above), so the text still reads after CUPS prints it through PostScript. Fonts not made that
    way (no /ToUnicode, an /Encoding of their own, not embedded) are left alone."""
    from pypdf import PdfReader, PdfWriter
    from pypdf.generic import ArrayObject, DictionaryObject, IndirectObject, NameObject, NumberObject

    writer = PdfWriter(clone_from=PdfReader(io.BytesIO(pdf)))
    done: set[int] = set()
    for page in writer.pages:
        fonts = page.get("/Resources", {}).get("/Font", {})
        for ref in fonts.values():
            key = ref.idnum if isinstance(ref, IndirectObject) else id(ref)
            font = ref.get_object()
            if key in done or font.get("/Subtype") != "/TrueType" or "/Encoding" in font or "/ToUnicode" not in font:
                continue
            done.add(key)
            descriptor = font.get("/FontDescriptor", {}).get_object() if "/FontDescriptor" in font else {}
            if "/FontFile2" not in descriptor:
                continue
            chars = _to_unicode(font["/ToUnicode"].get_object().get_data())
            program = descriptor["/FontFile2"].get_object()
            named = _named_font_program(program.get_data(), chars)
            if named is None:
                continue
            first, last = int(font.get("/FirstChar", 0)), int(font.get("/LastChar", 255))
            differences = ArrayObject([NumberObject(first)])
            differences.extend(NameObject("/" + (_glyph_name(chars[c]) if c in chars else ".notdef"))
                               for c in range(first, last + 1))
            font[NameObject("/Encoding")] = DictionaryObject({NameObject("/Type"): NameObject("/Encoding"),
                                                             NameObject("/Differences"): differences})
            descriptor[NameObject("/Flags")] = NumberObject((int(descriptor.get("/Flags", 0)) & ~4) | 32)
            program.set_data(named)
            program[NameObject("/Length1")] = NumberObject(len(named))
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()
