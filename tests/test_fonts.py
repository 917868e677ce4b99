"""Finding the Simplified-Chinese font (kiosk.fonts), without Kivy."""
import os
import subprocess
import sys
from pathlib import Path

import pytest

from kiosk import fonts
from kiosk.fonts import FontError, find_chinese_font


def test_configured_font_wins(tmp_path):
    font = tmp_path / "MyHei.ttf"
    font.write_bytes(b"\0")
    choice = find_chinese_font(str(font), known=(), fc_list=lambda: [])
    assert choice.path == font and choice.how == "config"


def test_configured_font_that_does_not_exist_names_the_key(tmp_path):
    with pytest.raises(FontError, match=r"\[ui\] font: .*missing.ttf does not exist"):
        find_chinese_font(str(tmp_path / "missing.ttf"))


def test_known_single_face_font_is_preferred_to_fontconfig(tmp_path):
    wqy = tmp_path / "wqy-microhei.ttc"
    wqy.write_bytes(b"\0")
    other = tmp_path / "other.ttf"
    other.write_bytes(b"\0")
    choice = find_chinese_font(None, known=(str(wqy),), fc_list=lambda: [(str(other), 0, "Other Sans SC")])
    assert choice.path == wqy


def test_collection_whose_first_face_is_japanese_is_skipped(tmp_path):
    noto = tmp_path / "NotoSansCJK-Regular.ttc"
    noto.write_bytes(b"\0")
    sc = tmp_path / "SourceHanSansSC-Regular.otf"
    sc.write_bytes(b"\0")
    faces = [(str(noto), 0, "Noto Sans CJK JP"), (str(noto), 2, "Noto Sans CJK SC"), (str(sc), 0, "Source Han Sans SC")]
    choice = find_chinese_font(None, known=(), fc_list=lambda: faces)
    assert choice.path == sc and choice.how == "fontconfig"


def test_no_chinese_font_names_the_debian_package_to_install():
    with pytest.raises(FontError) as err:
        find_chinese_font(None, known=("/nonexistent/wqy.ttc",), fc_list=lambda: [])
    assert "apt-get install fonts-wqy-microhei" in str(err.value)


def test_kiosk_ui_exits_1_with_what_to_do_when_the_font_is_missing(kiosk_config):
    text = kiosk_config.read_text(encoding="utf-8").replace("fullscreen = false", 'fullscreen = false\nfont = "/nonexistent/font.ttf"', 1)
    kiosk_config.write_text(text, encoding="utf-8")
    result = subprocess.run([str(Path(sys.executable).parent / "kiosk"), "--config", str(kiosk_config), "ui"],
                            capture_output=True, text=True, timeout=60, env=dict(os.environ, DISPLAY=":0"))
    assert result.returncode == 1
    assert "[ui] font" in result.stderr and "fonts-wqy-microhei" in result.stderr


@pytest.mark.skipif(not Path(fonts.KNOWN_FONTS[0]).exists(), reason="fonts-wqy-microhei is not installed here")
def test_this_machine_finds_wenquanyi_micro_hei():
    assert find_chinese_font(None).path == Path(fonts.KNOWN_FONTS[0])
