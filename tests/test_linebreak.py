"""Chinese line breaking (kiosk/core/linebreak.py), measured with a fixed-width stand-in for the font:
every character 10 units, as a CJK font draws Chinese characters and full-width punctuation."""
from __future__ import annotations

import pytest

from kiosk.core.linebreak import CLOSING, OPENING, clusters, wrap


def measure(text: str) -> float:
    return 10 * len(text)


def lines(text: str, width: float) -> list[str]:
    return wrap(text, width, measure).split("\n")


def test_a_line_never_starts_with_closing_punctuation():
    text = "取件已记录。请推紧柜门直到听到咔嗒声。如无法关上，请告知服务台工作人员，系统已通知他们。"
    for width in range(60, 300, 10):
        got = lines(text, width)
        assert "".join(got) == text
        assert not any(line[0] in CLOSING for line in got if line), (width, got)


def test_a_line_never_ends_with_opening_punctuation():
    text = "请携带本人身份证（原件）和户口簿「首页」到窗口办理。"
    for width in range(60, 300, 10):
        got = lines(text, width)
        assert not any(line[-1] in OPENING for line in got if line), (width, got)


@pytest.mark.parametrize("text, piece", [
    ("请将证照放入 2 号柜门，并关好柜门。", "2 号"),
    ("本次打印共 15 元，请在收费终端付款。", "15 元。"[:4]),
    ("这是第 3 步，共 4 步。", "第 3 步"),
    ("输入拼音或首字母，如 sb 查“社保”", "sb"),
    ("服务热线 12345，二十四小时有人接听。", "12345，"),
])
def test_a_number_stays_with_its_measure_word_and_latin_runs_stay_whole(text, piece):
    assert any(piece in c for c in clusters(text)), clusters(text)
    for width in range(40, 260, 10):
        got = lines(text, width)
        assert "".join(got).replace(" ", "") == text.replace(" ", "")
        assert any(piece in line for line in got), (width, got)


def test_every_line_fits_and_uses_the_room_it_has():
    text = "欢迎使用24小时自助服务区。请点击您要办理的服务。"
    got = lines(text, 120)
    assert all(measure(line) <= 120 for line in got)
    assert all(measure(line) >= 100 for line in got[:-1]), got     # greedy: full lines but the last


def test_text_without_chinese_and_no_room_are_left_to_the_renderer():
    assert wrap("Enter the pickup code from your text message.", 100, measure) == \
        "Enter the pickup code from your text message."
    assert wrap("取件完成", 0, measure) == "取件完成"
    assert wrap("第一行\n第二行", 1000, measure) == "第一行\n第二行"


def test_a_short_aside_in_brackets_stays_on_one_line():
    assert lines("打印本指南（A4纸）", 70) == ["打印本指南", "（A4纸）"]
    assert lines("打印本指南（凭条）", 70) == ["打印本指南", "（凭条）"]
    long_aside = "请携带（户口簿首页和本人页的原件及复印件）到窗口"
    assert all(measure(line) <= 80 for line in lines(long_aside, 80))     # a long one may break inside
