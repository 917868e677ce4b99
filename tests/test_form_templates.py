"""Form templates in the guide catalog, the checks on what a citizen types, and filling from the ID card."""
from __future__ import annotations

import copy
import datetime as dt
import json

import pytest

from tests.conftest import ROOT
from kiosk.core.forms import validate
from kiosk.core.forms.template import FormField, FormTemplate, fillable_forms
from kiosk.core.forms.validate import check, check_all, fill_from_card, normalise
from kiosk.core.guides.catalog import CatalogError, GuideCatalog
from kiosk.hardware.idcard.codec import Card, CardType
from kiosk.i18n import _
from kiosk.store import Store
from kiosk.wire.catalog import load_catalog

DEMO = ROOT / "config" / "demo-catalog.json"
TODAY = dt.date(2026, 12, 1)

# GB 11643 numbers whose check digits were worked out by the standard's MOD 11-2 rule
GOOD_IDS = ("110105199003071239", "440304198511200021", "520102197001014327",
            "810000199506150017",   # a Hong Kong resident's number: region 81 is in no region table
            "11010519491231002X")   # the standard's own example, check digit X
DEMO_FORMS = ("residence-permit-application", "social-security-card-application", "household-move-within-city")


@pytest.fixture(scope="module")
def demo() -> dict:
    return json.loads(DEMO.read_text(encoding="utf-8"))


@pytest.fixture
def guides(tmp_path):
    catalog = GuideCatalog(Store(tmp_path / "var", "test-k01"), clock=lambda: 1_700_000_000.0)
    yield catalog
    catalog.close()


def item_of(doc: dict, code: str) -> dict:
    return next(i for i in doc["items"] if i["code"] == code)


def with_template(doc: dict, template: dict, code: str = "12010008") -> dict:
    """The demo catalog with `template` as the form of a new material of item `code`."""
    bad = copy.deepcopy(doc)
    item_of(bad, code)["materials"].append({"name": "测试登记表", "required": True, "form": "original", "copies": 1,
                                            "fill_form": template})
    return bad


def generated(*fields: dict) -> dict:
    return {"id": "test-form", "title": "测试登记表", "version": 1, "fields": list(fields),
            "layout": {"generated": {}}}


def blank(*fields: dict, qr: dict | None = None) -> dict:
    return {"id": "test-blank", "title": "测试申请表", "version": 1, "fields": list(fields),
            "layout": {"blank": {"url": "https://zwfw.example.org/forms/test.pdf", "pages": 1,
                                 "qr": qr or {"page": 1, "x_mm": 160, "y_mm": 240}}}}


def box(x: float, y: float, w: float = 40, h: float = 9, page: int = 1) -> dict:
    return {"page": page, "x_mm": x, "y_mm": y, "w_mm": w, "h_mm": h}


NAME = {"key": "name", "label": "姓名", "kind": "name", "required": True}
PHONE = {"key": "phone", "label": "联系电话", "kind": "phone", "required": True}


def refusal(doc: dict, template: dict) -> str:
    materials = len(item_of(doc, "12010008")["materials"])
    with pytest.raises(CatalogError) as caught:
        load_catalog(json.dumps(with_template(doc, template), ensure_ascii=False))
    message = str(caught.value)
    assert message.startswith(f"item 12010008: materials[{materials}].fill_form"), message
    return message


# -- templates in the catalog --------------------------------------------------------------------

def test_the_demo_catalog_ships_three_fillable_forms_through_the_real_import(guides, demo):
    guides.replace(DEMO.read_bytes())
    found = {}
    for code in ("12010008", "11010003", "12010004"):
        forms = fillable_forms(guides.get(code, include_disabled=True))
        assert len(forms) == 1, code
        found[forms[0].template.id] = forms[0]
    assert set(found) == set(DEMO_FORMS)
    moving = found["household-move-within-city"]
    assert moving.template.layout.blank.url == moving.material.blank_form_url
    for form in found.values():
        keys = [f.key for f in form.template.fields]
        assert {"name", "id_number", "phone", "promise"} <= set(keys)
        assert form.template.field("id_number").card_field == "id_number"
        assert form.template.field("promise").kind == "checkbox" and form.template.field("promise").required
    assert any(f.kind == "choice" for f in found["residence-permit-application"].template.fields)


def test_a_catalog_without_forms_still_imports_and_a_material_has_none(demo):
    plain = copy.deepcopy(demo)
    for item in plain["items"]:
        for m in item["materials"]:
            m.pop("fill_form", None)
    catalog = load_catalog(plain)
    assert all(m.fill_form is None for i in catalog.items for m in i.materials)


def test_an_unknown_field_kind_is_refused_naming_item_and_field(demo):
    message = refusal(demo, generated(NAME, dict(PHONE, kind="telephone")))
    assert ".fields[phone].kind: expected one of 'text', 'name', 'id_number'" in message
    assert '"telephone"' in message


def test_a_key_twice_is_refused(demo):
    message = refusal(demo, generated(NAME, dict(PHONE, key="name")))
    assert "fields[name]" not in message and "two fields have the key 'name'" in message


def test_a_required_field_without_a_label_is_refused(demo):
    message = refusal(demo, generated(NAME, dict(PHONE, label="")))
    assert "fields[phone]: a required field needs a label" in message


def test_an_optional_field_may_go_without_a_label(demo):
    load_catalog(with_template(demo, generated(NAME, dict(PHONE, label="", required=False))))


def test_a_choice_without_choices_is_refused(demo):
    message = refusal(demo, generated(NAME, {"key": "reason", "label": "申请事由", "kind": "choice"}))
    assert 'fields[reason]: a "choice" field needs its "choices"' in message


def test_a_card_field_on_a_kind_it_cannot_fill_is_refused(demo):
    message = refusal(demo, generated(NAME, {"key": "born", "label": "出生日期", "kind": "text", "card_field": "birth"}))
    assert "fields[born]: card_field 'birth' cannot fill a 'text' field" in message
    message = refusal(demo, generated({"key": "sex", "label": "性别", "kind": "choice", "card_field": "sex",
                                       "choices": ["男性", "女性"]}))
    assert "fields[sex]: card_field 'sex' fills 男 and 女" in message


def test_an_unknown_card_field_is_refused(demo):
    message = refusal(demo, generated(dict(NAME, card_field="photo")))
    assert ".fields[name].card_field: expected one of 'name', 'sex'" in message


def test_overlapping_boxes_on_one_page_are_refused_naming_both(demo):
    message = refusal(demo, blank(dict(NAME, position=box(40, 50)), dict(PHONE, position=box(70, 55))))
    assert "fields 'name' and 'phone' overlap on page 1" in message


def test_boxes_that_only_touch_or_sit_on_other_pages_are_accepted(demo):
    two_pages = blank(dict(NAME, position=box(40, 50)), dict(PHONE, position=box(80, 50)),
                      {"key": "note", "label": "备注", "kind": "text", "position": box(40, 50, page=2)})
    two_pages["layout"]["blank"]["pages"] = 2
    load_catalog(with_template(demo, two_pages))


def test_a_box_off_the_a4_page_is_refused(demo):
    message = refusal(demo, blank(dict(NAME, position=box(190, 50, w=30))))
    assert "fields[name].position: the box reaches 220 x 59 mm from the top-left corner, outside the A4 page" in message
    message = refusal(demo, blank(dict(NAME, position=box(20, 300))))
    assert ".fields[name].position.y_mm: input should be less than or equal to 297" in message


def test_a_box_under_the_qr_code_or_past_the_last_page_is_refused(demo):
    message = refusal(demo, blank(dict(NAME, position=box(150, 245))))
    assert "field 'name' overlaps the QR code on page 1" in message
    message = refusal(demo, blank(dict(NAME, position=box(20, 50, page=2))))
    assert "field 'name': page 2 is past the blank's 1 pages" in message


def test_a_blank_layout_needs_every_position_and_the_generated_one_none(demo):
    assert "field 'phone': a blank layout needs a position" in refusal(
        demo, blank(dict(NAME, position=box(20, 50)), PHONE))
    assert "field 'name': a position belongs to a blank layout" in refusal(
        demo, generated(dict(NAME, position=box(20, 50))))


def test_a_blank_layout_names_its_pdf_once_and_the_same_as_the_guide(demo):
    template = blank(dict(NAME, position=box(20, 50)))
    template["layout"]["blank"]["path"] = "move.pdf"
    assert 'exactly one of "url" or "path"' in refusal(demo, template)
    bad = copy.deepcopy(demo)
    form = next(m for m in item_of(bad, "12010004")["materials"] if "fill_form" in m)
    form["fill_form"]["layout"]["blank"]["url"] = "https://zwfw.example.org/forms/other.pdf"
    with pytest.raises(CatalogError, match="item 12010004: materials.*fill_form.layout.blank.url differs"):
        load_catalog(bad)


def test_the_same_template_id_for_two_different_forms_is_refused(demo):
    bad = copy.deepcopy(demo)
    form = next(m for m in item_of(bad, "12010008")["materials"] if "fill_form" in m)["fill_form"]
    other = copy.deepcopy(form)
    other["title"] = "另一张表"
    item_of(bad, "11010001")["materials"][2]["fill_form"] = other
    with pytest.raises(CatalogError, match="item 12010008: form template 'residence-permit-application' is "
                                           "defined differently in item 11010001"):
        load_catalog(bad)


def test_the_kiosk_keeps_its_catalog_when_a_bad_form_arrives(guides, demo):
    guides.replace(demo)
    before = guides.info()
    with pytest.raises(CatalogError, match=r"item 12010008: .*fields\[phone\]\.kind"):
        guides.replace(with_template(demo, generated(NAME, dict(PHONE, kind="mobile"))))
    assert guides.info() == before


# -- checks on typed values ------------------------------------------------------------------------

def field(kind: str, **kw) -> FormField:
    return FormField(key="f", label="字段", kind=kind, **kw)


@pytest.mark.parametrize("number", GOOD_IDS + ("11010519491231002x", " 110105199003071239 "))
def test_id_numbers_with_right_check_digit_and_birth_date_pass(number):
    assert check(field("id_number"), number, TODAY) is None


@pytest.mark.parametrize("number, problem", [
    ("110105199003071238", validate.ID_CHECK_DIGIT),   # last digit off by one
    ("110105199003017239", validate.ID_CHECK_DIGIT),   # two digits swapped
    ("110105199002301234", validate.ID_BIRTH),         # 30 February
    ("110105202712010018", validate.ID_BIRTH),         # born after today
    ("11010519900307123", validate.ID_FORMAT),         # 17 characters
    ("1101051990030712391", validate.ID_FORMAT),
    ("11010519900307123Y", validate.ID_FORMAT),
    ("11010519900307X239", validate.ID_FORMAT),
])
def test_wrong_id_numbers_say_what_to_check(number, problem):
    assert check(field("id_number"), number, TODAY) == _(problem)


@pytest.mark.parametrize("phone", ["13912345678", "19987654321", "010-62345678", "01062345678", "0755-8123456",
                                   "0571-87654321-8001", "139 1234 5678"])
def test_mobiles_and_landlines_with_area_code_pass(phone):
    assert check(field("phone"), phone) is None


@pytest.mark.parametrize("phone", ["12912345678", "1391234567", "139123456789", "62345678", "010-1234567",
                                   "+8613912345678", "1391234567a"])
def test_other_phone_numbers_are_refused(phone):
    assert check(field("phone"), phone) == _(validate.PHONE)


def test_dates_are_year_month_day_real_and_a_birth_date_not_in_the_future():
    assert check(field("date"), "2024-02-29") is None
    assert check(field("date"), "2023-02-29") == _(validate.DATE_UNREAL)
    assert check(field("date"), "2023-13-01") == _(validate.DATE_UNREAL)
    for written in ("2024/02/29", "2024-2-9", "20240229", "二〇二四年"):
        assert check(field("date"), written) == _(validate.DATE_FORMAT), written
    birth = field("date", card_field="birth")
    assert check(birth, "2026-12-01", TODAY) is None
    assert check(birth, "2026-12-02", TODAY) == _(validate.BIRTH_IN_FUTURE)
    assert check(field("date"), "2027-06-01", TODAY) is None  # an appointment may be later


@pytest.mark.parametrize("name", ["张三", "欧阳娜娜", "买买提·艾力", "阿沛·阿旺晋美", "𠇔阳", "张三丰"])
def test_chinese_names_pass(name):
    assert check(field("name"), name) is None


@pytest.mark.parametrize("name", ["张", "Zhang San", "张3", "·张三", "张三·", "买买提··艾力", "张" * 21])
def test_other_names_are_refused(name):
    assert check(field("name"), name) == _(validate.NAME)


def test_lookalike_dots_in_a_name_become_the_middle_dot():
    assert normalise(field("name"), "买买提•艾力") == "买买提·艾力"
    assert check(field("name"), "买买提・艾力") is None


def test_required_max_length_and_choices():
    assert check(field("text", required=True), "  ") == _(validate.REQUIRED)
    assert check(field("text"), "") is None
    assert check(field("text", max_length=5), "一二三四五") is None
    assert check(field("text", max_length=5), "一二三四五六") == _(validate.TOO_LONG).format(n=5)
    reason = field("choice", choices=["就业", "就读"], required=True)
    assert check(reason, "就读") is None
    assert check(reason, "旅游") == _(validate.NOT_A_CHOICE)
    promise = field("checkbox", required=True)
    assert check(promise, True) is None
    assert check(promise, False) == _(validate.TICK_REQUIRED)
    assert check(field("checkbox"), False) is None
    assert check(field("address"), "幸福路\n88号") == _(validate.ONE_LINE)


def test_check_all_names_each_field_to_fix():
    template = FormTemplate.model_validate(generated(NAME, PHONE, {"key": "note", "label": "备注", "kind": "text"}))
    assert set(check_all(template, {"name": "张", "phone": ""})) == {"name", "phone"}
    assert check_all(template, {"name": "张三", "phone": "13912345678"}) == {}


# -- filling from the ID card ---------------------------------------------------------------------

def card(**kw) -> Card:
    fields = dict(card_type=CardType.RESIDENT, name="张三丰", sex="male", birth=dt.date(1990, 3, 7),
                  id_number="110105199003071239", valid_from=dt.date(2020, 1, 1), valid_to=dt.date(2040, 1, 1),
                  nation="汉", address="北京市朝阳区示例路1号院2号楼3单元401室")
    return Card(**{**fields, **kw})


def demo_template(doc: dict, template_id: str) -> FormTemplate:
    catalog = load_catalog(doc)
    return next(f.template for i in catalog.items for f in fillable_forms(i) if f.template.id == template_id)


def test_the_card_fills_name_sex_nation_birth_id_number_and_household_address(demo):
    template = demo_template(demo, "residence-permit-application")
    assert fill_from_card(template, card(), TODAY) == {
        "name": "张三丰", "sex": "男", "nation": "汉族", "birth": "1990-03-07", "id_number": "110105199003071239",
        "household_address": "北京市朝阳区示例路1号院2号楼3单元401室"}


def test_the_card_fills_only_what_passes_the_checks(demo):
    template = demo_template(demo, "residence-permit-application")
    odd = card(sex="unstated", nation=None, name="ZHANG SAN", address="", id_number="110105199003071238")
    assert fill_from_card(template, odd, TODAY) == {"birth": "1990-03-07"}


def test_an_old_foreign_permanent_card_fills_its_chinese_name_only(demo):
    template = demo_template(demo, "social-security-card-application")
    foreign = card(card_type=CardType.FOREIGN_PERMANENT, name="SMITH JOHN", name_zh="史密斯", nation=None,
                   id_number="USA110090030712")
    assert fill_from_card(template, foreign, TODAY) == {"name": "史密斯", "sex": "男"}


def test_a_nation_choice_takes_the_way_its_choices_write_it():
    template = FormTemplate.model_validate(generated(
        {"key": "nation", "label": "民族", "kind": "choice", "card_field": "nation", "choices": ["汉", "回", "其他"]}))
    assert fill_from_card(template, card(nation="回")) == {"nation": "回"}
    assert fill_from_card(template, card(nation="壮")) == {}
