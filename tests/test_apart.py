"""Work done apart from the UI: a child process, the caller's language, JSON in and out, clear errors."""
from __future__ import annotations

import pytest

from kiosk import i18n
from kiosk.core.apart import ApartError, call_apart


def test_the_child_answers_in_the_callers_language():
    i18n.set_language("en")
    try:
        assert call_apart("kiosk.i18n:_", message="Materials") == "Materials"
    finally:
        i18n.set_language("zh_CN")
    assert call_apart("kiosk.i18n:_", message="Materials") == "申请材料"


def test_a_failing_child_names_the_target_and_its_error():
    with pytest.raises(ApartError, match=r"^kiosk.i18n:set_language failed: .*LanguageError: unknown language 'xx'"):
        call_apart("kiosk.i18n:set_language", lang="xx")


def test_a_child_that_takes_too_long_is_stopped_and_says_so():
    with pytest.raises(ApartError, match=r"^subprocess:run took longer than 0 s; the child was stopped"):
        call_apart("subprocess:run", timeout_s=0.4, args=["sleep", "3"])  # the grandchild ends by itself
