"""Writes strokes.json, the handwriting test characters, from a clone of Make Me a Hanzi.

The stroke medians (the pen path through the middle of each stroke, in stroke order) are read
from the animated SVGs, svgs/<code point>.svg, of https://github.com/skishore/makemeahanzi: the
path with id make-me-a-hanzi-animation-N is stroke N's median, the same points as "medians" in
its graphics.txt. Those SVGs draw in a 1024 box with y growing upwards and the baseline at 900
(transform="scale(1, -1) translate(0, -900)"), so y becomes 900 - y here: points in the file are
pad coordinates, y growing downwards, in a 1024 x 1024 box.

Usage: python tests/data/handwriting/make_strokes.py GIT_DIR [COMMIT]
(GIT_DIR: the .git directory of a clone; COMMIT defaults to HEAD.)
"""
from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

# Everyday characters of a service hall's forms: names, places, numbers, the ID card.
CHARS = ("一二三人大小中国王李张刘陈杨黄山水火木口日月田目明林好家北京市区路号"
         "省县街名姓年电话男女身份证住址东西南岁出生工作民族汉婚户")
SOURCE = "https://github.com/skishore/makemeahanzi"
ANIMATION = re.compile(r'd="([^"]+)"[^>]*id="make-me-a-hanzi-animation-(\d+)"')


def medians(svg: str) -> list[list[list[int]]]:
    found = sorted((int(n), d) for d, n in ANIMATION.findall(svg))
    assert [n for n, _ in found] == list(range(len(found))), "strokes are numbered 0..n-1"
    strokes = []
    for _, d in found:
        numbers = [int(v) for v in re.findall(r"-?\d+", d)]
        strokes.append([[x, 900 - y] for x, y in zip(numbers[::2], numbers[1::2])])
    return strokes


def main() -> int:
    git_dir = sys.argv[1]
    rev = sys.argv[2] if len(sys.argv) > 2 else "HEAD"
    commit = subprocess.run(["git", "--git-dir", git_dir, "rev-parse", rev],
                            check=True, capture_output=True, text=True).stdout.strip()
    chars = {}
    for c in CHARS:
        svg = subprocess.run(["git", "--git-dir", git_dir, "show", f"{commit}:svgs/{ord(c)}.svg"],
                             check=True, capture_output=True, text=True).stdout
        chars[c] = medians(svg)
    head = {"source": SOURCE, "commit": commit, "licence": "Arphic Public License (ARPHICPL.TXT)",
            "box": [1024, 1024], "y": "down"}
    # one character a line, so a diff shows which character changed
    lines = [json.dumps(c, ensure_ascii=False) + ":" + json.dumps(s, separators=(",", ":")) for c, s in chars.items()]
    text = json.dumps(head, ensure_ascii=False)[:-1] + ', "chars": {\n' + ",\n".join(lines) + "\n}}"
    Path(__file__).with_name("strokes.json").write_text(text + "\n", encoding="utf-8")
    print(f"{len(chars)} characters from {SOURCE} at {commit}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
