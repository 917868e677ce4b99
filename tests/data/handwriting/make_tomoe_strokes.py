"""Writes tomoe_strokes.json, the handwriting test characters as Tomoe's handwriting dictionary
draws them, from a copy of handwriting-zh_CN.xml.

handwriting-zh_CN.xml is the Tomoe project's Simplified-Chinese handwriting dictionary (LGPL-2.1;
the tomoe 0.6.0 tarball's recognizer/handwriting-zh_CN.xml), the file Tegaki trained
tegaki-zinnia-simplified-chinese on. Each <character> is <utf8>&#xNNNN;</utf8> and its
<strokes>, each <stroke> a run of <point x=".." y=".."/> in a 1000 x 1000 box with y growing
downwards: the points are written out unchanged.

Usage: python tests/data/handwriting/make_tomoe_strokes.py PATH/TO/handwriting-zh_CN.xml
The character list is CHARS in make_strokes.py; the source fields written are those of the copy
tomoe_strokes.json was made from (see README.md), so for another copy edit SOURCE first.
"""
from __future__ import annotations

import json
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

from make_strokes import CHARS

SOURCE = {"source": "Tomoe handwriting dictionary, handwriting-zh_CN.xml "
                    "(the training data of tegaki-zinnia-simplified-chinese)",
          "repo": "https://github.com/managecode-commits/zhimo",
          "path": "models/handwriting/zh-cn/source/handwriting-zh_CN.xml",
          "commit": "c423930963d0a6d32a2c5ffcecf4fa9f8c95990a",
          "licence": "LGPL-2.1 (LGPL-2.1.txt)"}


def read(xml_path: str, wanted: str) -> dict[str, list[list[list[int]]]]:
    found = {}
    for _, element in ET.iterparse(xml_path):
        if element.tag != "character":
            continue
        text = element.findtext("utf8")
        if text in wanted:
            found[text] = [[[int(p.get("x")), int(p.get("y"))] for p in stroke.iter("point")]
                           for stroke in element.iter("stroke")]
        element.clear()
    missing = [c for c in wanted if c not in found]
    assert not missing, f"not in {xml_path}: {''.join(missing)}"
    return {c: found[c] for c in wanted}


def main() -> int:
    chars = read(sys.argv[1], CHARS)
    head = dict(SOURCE, box=[1000, 1000], y="down")
    # one character a line, so a diff shows which character changed
    lines = [json.dumps(c, ensure_ascii=False) + ":" + json.dumps(s, separators=(",", ":")) for c, s in chars.items()]
    text = json.dumps(head, ensure_ascii=False)[:-1] + ', "chars": {\n' + ",\n".join(lines) + "\n}}"
    Path(__file__).with_name("tomoe_strokes.json").write_text(text + "\n", encoding="utf-8")
    print(f"{len(chars)} characters from {sys.argv[1]}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
