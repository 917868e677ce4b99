"""Where a line of Chinese text may break (the rules of GB/T 15834 and of Chinese typesetting).

A line never starts with closing punctuation (。，、；：？！）」』》…) nor ends with opening
punctuation (（「『《“); a number stays with its measure word (2 号柜门, 15 元, 第 3 步) and a
run of Latin letters or digits (sb, 12345, A4) is never split; elsewhere a line may break
between any two Chinese characters or at a space. `wrap(text, width, measure)` places the
breaks greedily: each line as long as fits, measured with `measure(text) -> width` (the
screen's font, kiosk/screens/text.py). Text with no Chinese in it is left to the renderer's own
wrapping by words.
"""
from __future__ import annotations

import re
from typing import Callable

# never at the start of a line
CLOSING = set("。，、；：？！）」』》〉】〕］｝”’…—%％·．.,;:?!)]}〉>")
# never at the end of a line
OPENING = set("（「『《〈【〔［｛“‘([{<")
# a measure word or unit that stays with the number before it
MEASURES = set("号个元角分页张份项步位天日月年时点秒岁次件套本层楼室门区路栋单米公里斤克毫升倍")
_PAIRS = {"（": "）", "(": ")", "「": "」", "『": "』", "《": "》", "〈": "〉", "【": "】", "〔": "〕", "［": "］",
          "“": "”", "‘": "’", "[": "]"}
SHORT_ASIDE = 8   # characters, brackets included, of an aside kept on one line
_CJK = re.compile(r"[\u3400-\u9fff\uf900-\ufaff]")
# clusters: a run of Latin letters/digits (with . - / : inside), one other character, or spaces
_CLUSTER = re.compile(r"[0-9A-Za-z][0-9A-Za-z.\-/:@_]*|\s+|.", re.S)


def has_chinese(text: str) -> bool:
    return bool(_CJK.search(text))


def clusters(paragraph: str) -> list[str]:
    """`paragraph` as pieces a line may break between (never inside a piece)."""
    atoms = _CLUSTER.findall(paragraph)
    glued = [False] * len(atoms)     # glued[i]: no break between atoms i-1 and i

    def number(i: int) -> bool:
        return 0 <= i < len(atoms) and atoms[i][-1].isdigit()

    for i in range(1, len(atoms)):
        a, prev = atoms[i], atoms[i - 1]
        if a.isspace():
            # the space of "2 号" and of "第 3" stays inside the piece
            nxt = atoms[i + 1] if i + 1 < len(atoms) else ""
            glued[i] = bool(nxt) and ((number(i - 1) and nxt[0] in MEASURES) or (prev == "第" and nxt[0].isdigit()))
            continue
        glued[i] = (a[0] in CLOSING or prev[-1] in OPENING
                    or (a[0] in MEASURES and (number(i - 1) or (prev.isspace() and glued[i - 1])))
                    or (a[0].isdigit() and (prev == "第" or (prev.isspace() and glued[i - 1]))))
    # a short aside in brackets stays whole: 打印本指南 / （A4纸）, not 打印本指南（A4 / 纸）
    depth_start = None
    for i, a in enumerate(atoms):
        if a[-1] in OPENING and depth_start is None:
            depth_start = i
        elif a[0] in CLOSING and depth_start is not None and a[0] in _PAIRS.get(atoms[depth_start][-1], ""):
            if sum(len(x) for x in atoms[depth_start:i + 1]) <= SHORT_ASIDE:
                for k in range(depth_start + 1, i + 1):
                    glued[k] = True
            depth_start = None
    out: list[str] = []
    for atom, glue in zip(atoms, glued):
        if glue and out:
            out[-1] += atom
        else:
            out.append(atom)
    return out


def wrap(text: str, width: float, measure: Callable[[str], float]) -> str:
    """`text` with a newline at each break, so that every line is at most `width` wide when the
    text has Chinese in it; a piece wider than a whole line is left for the renderer to cut."""
    if width <= 0 or not has_chinese(text):
        return text
    lines_out: list[str] = []
    for paragraph in text.split("\n"):
        line = ""
        for piece in clusters(paragraph):
            candidate = line + piece
            if not line or measure(candidate.rstrip()) <= width:
                line = candidate
                continue
            if piece.isspace():           # a break at a space: the space goes with it
                lines_out.append(line.rstrip())
                line = ""
                continue
            lines_out.append(line.rstrip())
            line = piece
        lines_out.append(line.rstrip() if lines_out or line else line)
    return "\n".join(lines_out)


__all__ = ["CLOSING", "MEASURES", "OPENING", "clusters", "has_chinese", "wrap"]
