"""The form filling flow (kiosk/core/forms/flow.py) on its own: the demo catalog's templates, typed answers
checked on the way, the review, the pinyin index and the handwriting model opened for a visit and closed
with it. The ID card and printing through CUPS are in tests/ui/test_forms.py, through the real window."""
from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest

from kiosk.core.forms import validate
from kiosk.core.forms.flow import FormFlow, FormState
from kiosk.i18n import _
from kiosk.core.forms.template import fillable_forms
from kiosk.wire.catalog import Catalog

ROOT = Path(__file__).resolve().parent.parent
TODAY = dt.date(2026, 12, 4)


@pytest.fixture(scope="module")
def catalog():
    return Catalog.model_validate(json.loads((ROOT / "config" / "demo-catalog.json").read_text("utf-8")))


@pytest.fixture
def flow(catalog):
    items = {i.code: i for i in catalog.items}

    def forms(code):
        return [f for c, item in items.items() if code in (None, c) for f in fillable_forms(item)]

    return FormFlow(forms, today=lambda: TODAY)


def _open(flow, template_id: str) -> None:
    flow.enter()
    flow.choose(next(i for i, o in enumerate(flow.offered) if o.template.id == template_id))
    assert flow.state is FormState.START
    flow.type_it()
    assert flow.state is FormState.FILL


def _answer(flow, value) -> bool:
    flow.set_value(value)
    return flow.next()


def test_the_demo_catalog_offers_its_forms_and_a_guide_its_own(flow):
    flow.enter()
    assert {o.template.id for o in flow.offered} == {"social-security-card-application", "household-move-within-city",
                                                     "residence-permit-application"}
    flow.reset()
    flow.for_item("11010003")
    flow.enter()
    assert flow.state is FormState.START and flow.form.template.id == "social-security-card-application"


def test_each_answer_is_checked_before_the_next_and_the_review_lists_them(flow):
    _open(flow, "social-security-card-application")
    assert flow.field.key == "name"
    assert not _answer(flow, "Zhang San") and flow.problem      # a name in Chinese characters
    assert _answer(flow, "王秀英") and flow.field.key == "sex"
    assert _answer(flow, "女")
    assert _answer(flow, "汉族")
    assert not _answer(flow, "110105194912310021") and flow.problem == _(validate.ID_CHECK_DIGIT)  # check digit
    assert _answer(flow, "11010519491231002x") and flow.values["id_number"] == "11010519491231002X"
    assert not _answer(flow, "1391234567")                      # ten digits
    assert _answer(flow, "139 1234 5678") and flow.values["phone"] == "13912345678"
    for value in ("北京市朝阳区建国路十号", "职工基本养老保险", "中国银行", "", ""):
        assert _answer(flow, value), (flow.field.key, flow.problem)
    assert flow.field.key == "promise"
    assert not _answer(flow, False) and flow.problem
    assert _answer(flow, True)
    assert flow.state is FormState.REVIEW and flow.problems() == {}
    shown = {f.key: flow.shown(f) for f in flow.fields}
    assert shown["id_number"] == "110***********002X" and shown["name"] == "王秀英"
    flow.edit("phone")
    assert flow.state is FormState.FILL and flow.field.key == "phone"


def test_printing_without_a_printer_says_so_and_keeps_the_answers(flow):
    _open(flow, "residence-permit-application")
    for value in ("李娜", "女", "汉族", "1992-02-29", "110105199202290020", "北京市东城区", "北京市朝阳区",
                  "2020-01-01", "13800138000", "", "合法稳定就业", True):
        assert _answer(flow, value), (flow.field.key, flow.problem)
    assert flow.state is FormState.REVIEW
    assert flow.print() is False
    assert flow.state is FormState.FAILED and flow.problem == "printer_offline"
    flow.back_to_review()
    assert flow.state is FormState.REVIEW and flow.values["name"] == "李娜"


def test_pinyin_follows_the_field_and_the_visit_learns_then_forgets(flow):
    from kiosk.core.input.pinyin import DEFAULT_PATH as DEFAULT_INDEX

    if not Path(DEFAULT_INDEX).exists():
        pytest.fail(f"the pinyin index {DEFAULT_INDEX} is built by make setup")
    _open(flow, "social-security-card-application")
    found = [c.text for c in flow.candidates("zhangwei")]
    assert "张伟" in found[:5]
    later = flow.candidates("zhangwei")[3]
    flow.picked("zhangwei", later)
    assert flow.candidates("zhangwei")[0].text == later.text     # ranked first for the rest of the visit
    assert flow._index is not None
    flow.reset()
    assert flow._index is None and flow.values == {} and flow.state is FormState.CHOOSE
    _open(flow, "social-security-card-application")
    assert [c.text for c in flow.candidates("zhangwei")] == found   # the next visit starts afresh


def test_handwriting_opens_its_model_for_the_visit_only(flow):
    if not flow.handwriting_available:
        pytest.fail("the handwriting model comes with tegaki-zinnia-simplified-chinese (make setup installs it)")
    _open(flow, "social-security-card-application")
    line = lambda a, b: [(a[0] + (b[0] - a[0]) * i / 12, a[1] + (b[1] - a[1]) * i / 12) for i in range(13)]  # noqa: E731
    assert "十" in [c.text for c in flow.recognise([line((150, 480), (870, 460)), line((510, 150), (500, 880))],
                                                   1024, 1024)][:5]
    assert flow.recognise([], 1024, 1024) == []
    flow.reset()
    assert flow._recogniser is None
