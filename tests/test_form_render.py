"""The printed form: every value beside its label on the right page, and a QR code the window can read back.

Read the way a person and a window scanner read it: poppler's pdftotext for the text,
pdftoppm at 200 dpi and zbar for the QR code (system packages of the project). The form is read
both as the kiosk hands it to CUPS and as CUPS prints it: through a private cupsd to cups-pdf,
whose PDF is remade by ghostscript from PostScript (pdftops filter, then pdfwrite), where only the
fonts' glyph names carry what the characters are.
"""
from __future__ import annotations

import datetime as dt
import json
import logging
import re
import subprocess
import time
from pathlib import Path

import pytest

from tests.conftest import ROOT
from kiosk.core.forms.render import (FormError, QR_SIZE_MM, max_qr_version, qr_payload, render, render_apart,
                                     render_blank)
from kiosk.core.forms.template import FormTemplate, fillable_forms
from kiosk.core.printing.documents import pdf_pages
from kiosk.tour.cupsd import PrivateCupsd
from kiosk.wire.catalog import load_catalog

TODAY = dt.date(2026, 12, 1)
PROMISE = "本人承诺以上所填内容真实、准确，如有虚假，愿承担相应法律责任。"

RESIDENCE = {  # a test identity; the ID number's check digit is right (GB 11643)
    "name": "张三丰", "sex": "男", "nation": "汉族", "birth": "1990-03-07", "id_number": "110105199003071239",
    "household_address": "北京市朝阳区示例路1号院2号楼3单元401室", "residence_address": "示例市示例区幸福路88号3栋2单元501室",
    "residence_since": "2025-06-01", "phone": "13912345678", "employer": "示例市示例科技有限公司",
    "reason": "合法稳定就业", "promise": True,
}
MOVING = {
    "name": "欧阳·娜娜", "sex": "女", "id_number": "11010519491231002x", "birth": "1949-12-31", "nation": "汉族",
    "phone": "0755-81234567", "from_address": "示例市示例区老城街道和平里5号", "to_address": "示例市示例区新城街道阳光花园12栋801室",
    "owner_name": "欧阳明", "relation": "父母", "reason": "投靠亲属", "remark": "随迁人员：无。原户口簿已交回。", "promise": True,
}


@pytest.fixture(scope="module")
def forms() -> dict:
    catalog = load_catalog((ROOT / "config" / "demo-catalog.json").read_bytes())
    return {f.template.id: f for i in catalog.items for f in fillable_forms(i)}


needs_cupsd = pytest.mark.skipif(PrivateCupsd.unavailable() is not None, reason=PrivateCupsd.unavailable() or "")


@pytest.fixture(scope="module")
def cupsd():
    """A private cupsd whose queue `a4` prints to cups-pdf, as the kiosk's `sim` queue does."""
    server = PrivateCupsd().start()
    server.add_queue("a4")
    yield server
    server.stop()


def printed(cupsd, pdf: Path, tmp_path: Path) -> Path:
    """`pdf` printed as the kiosk prints it (kiosk/hardware/cups.py) on the cups-pdf queue: the PDF cups-pdf writes."""
    from kiosk.hardware.cups import CupsPrinter

    before = set(cupsd.out_dir.glob("*.pdf"))
    printer = CupsPrinter("document_printer", "a4", server=cupsd.socket, timeouts={"poll_interval": 0.1, "job": 60})
    try:
        assert printer.print_pdf(pdf, title=pdf.stem).completed
    finally:
        printer.close()
    out = tmp_path / f"{pdf.stem}-printed.pdf"
    out.write_bytes(cups_pdf_output(cupsd, before).read_bytes())
    return out


def cups_pdf_output(cupsd, before: set[Path]) -> Path:
    """The PDF cups-pdf wrote for a job printed since `before` (the PDFs of its folder then); it comes a
    little after CUPS says the job is completed. Also for the guides' and the technician's printouts."""
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        new = [p for p in cupsd.out_dir.glob("*.pdf") if p not in before and p.stat().st_size > 0]
        if new:
            return new[0]
        time.sleep(0.1)
    raise AssertionError(f"no PDF from cups-pdf in {cupsd.out_dir}: {cupsd.log()}")


def text_of(pdf: Path, page: int | None = None) -> str:
    pages = ["-f", str(page), "-l", str(page)] if page else []
    return subprocess.run(["pdftotext", "-layout", "-enc", "UTF-8", *pages, str(pdf), "-"], capture_output=True,
                          text=True, timeout=30, check=True).stdout


def qr_of(pdf: Path, page: int = 1) -> dict:
    stem = pdf.with_suffix("")
    subprocess.run(["pdftoppm", "-png", "-r", "200", "-f", str(page), "-l", str(page), "-singlefile", str(pdf),
                    str(stem)], check=True, timeout=60)
    done = subprocess.run(["zbarimg", "--raw", "-q", str(stem) + ".png"], capture_output=True, timeout=60)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout.decode("utf-8"))


def text_in_box(pdf: Path, position, page: int = 1) -> str:
    """The text inside a field's box only (pdftotext's crop, in points from the page's top-left)."""
    pt = 72 / 25.4
    crop = [round(position.x_mm * pt), round(position.y_mm * pt), round(position.w_mm * pt) + 1,
            round(position.h_mm * pt) + 1]
    args = ["-r", "72", *[str(a) for pair in zip(("-x", "-y", "-W", "-H"), crop) for a in pair]]
    return re.sub(r"\s", "", subprocess.run(["pdftotext", "-enc", "UTF-8", "-f", str(page), "-l", str(page), *args,
                                            str(pdf), "-"], capture_output=True, text=True, timeout=30,
                                           check=True).stdout)


def beside(text: str, label: str, value: str) -> bool:
    """The value follows its label on one line of the page, as a person reads the form."""
    return any(re.search(re.escape(label) + r"\s+" + re.escape(value), line) for line in text.splitlines())


def test_the_generated_form_shows_each_value_beside_its_label_and_its_qr_reads_back(forms, tmp_path):
    form = forms["residence-permit-application"]
    done = render(form.template, RESIDENCE, form.item_name, tmp_path / "form.pdf", today=TODAY)
    assert done.pages == 1 == pdf_pages(done.pdf)
    text = text_of(done.pdf)
    for f in form.template.fields:
        if f.kind != "checkbox":
            assert beside(text, f.label, RESIDENCE[f.key]), f.key
    assert form.template.title in text and "居住证申领" in text and PROMISE in text
    assert "申请人（签名）" in text and "日期" in text
    read = qr_of(done.pdf)
    assert read == {"t": "residence-permit-application", "v": 1, "f": RESIDENCE} == json.loads(done.qr_payload)


def test_the_form_over_the_blank_pdf_puts_values_in_their_boxes(forms, tmp_path):
    form = forms["household-move-within-city"]
    blank = tmp_path / "blank.pdf"
    assert render_blank(form.template, form.item_name, blank) == 1
    done = render(form.template, MOVING, form.item_name, tmp_path / "form.pdf", blank_pdf=blank, today=TODAY)
    assert done.pages == 1
    text = text_of(done.pdf)
    written = dict(MOVING, id_number="11010519491231002X")  # printed as the card prints it
    for f in form.template.fields:
        if f.kind != "checkbox":
            assert beside(text, f.label, written[f.key]), f.key
            assert text_in_box(done.pdf, f.position) == written[f.key], f.key
    assert qr_of(done.pdf) == {"t": "household-move-within-city", "v": 1, "f": written}


@needs_cupsd
def test_the_generated_form_printed_to_cups_pdf_keeps_each_value_beside_its_label(forms, cupsd, tmp_path):
    form = forms["residence-permit-application"]
    done = render(form.template, RESIDENCE, form.item_name, tmp_path / "form.pdf", today=TODAY)
    paper = printed(cupsd, done.pdf, tmp_path)
    assert pdf_pages(paper) == done.pages == 1
    text = text_of(paper)
    for f in form.template.fields:
        if f.kind != "checkbox":
            assert beside(text, f.label, RESIDENCE[f.key]), (f.key, text)
    assert form.template.title in text and "居住证申领" in text and PROMISE in text
    assert "申请人（签名）" in text and "窗口扫码录入" in text
    assert "第1页/共1页" in re.sub(r"\s", "", text)
    assert qr_of(paper) == {"t": "residence-permit-application", "v": 1, "f": RESIDENCE}


@needs_cupsd
def test_the_form_over_its_blank_printed_to_cups_pdf_keeps_each_value_in_its_box(forms, cupsd, tmp_path):
    form = forms["household-move-within-city"]
    blank = tmp_path / "blank.pdf"
    render_blank(form.template, form.item_name, blank)
    done = render(form.template, MOVING, form.item_name, tmp_path / "form.pdf", blank_pdf=blank, today=TODAY)
    paper = printed(cupsd, done.pdf, tmp_path)
    text = text_of(paper)
    written = dict(MOVING, id_number="11010519491231002X")
    for f in form.template.fields:
        if f.kind != "checkbox":
            assert beside(text, f.label, written[f.key]), (f.key, text)
            assert text_in_box(paper, f.position) == written[f.key], f.key
    assert qr_of(paper) == {"t": "household-move-within-city", "v": 1, "f": written}


def test_empty_optional_fields_print_blank_and_stay_out_of_the_qr(forms, tmp_path):
    form = forms["residence-permit-application"]
    values = {k: v for k, v in RESIDENCE.items() if k != "employer"}
    done = render(form.template, dict(values, employer=""), form.item_name, tmp_path / "form.pdf", today=TODAY)
    assert "employer" not in json.loads(done.qr_payload)["f"]
    assert qr_of(done.pdf)["f"] == values


def blank_template(*fields: dict, pages: int = 1) -> FormTemplate:
    return FormTemplate.model_validate({
        "id": "test-blank", "title": "测试申请表", "version": 3, "fields": list(fields),
        "layout": {"blank": {"path": "test.pdf", "pages": pages, "qr": {"page": 1, "x_mm": 160, "y_mm": 240}}}})


def box(x: float, y: float, w: float, h: float, page: int = 1, **kw) -> dict:
    return {"page": page, "x_mm": x, "y_mm": y, "w_mm": w, "h_mm": h, **kw}


def test_each_value_is_printed_on_the_page_its_box_is_on(tmp_path):
    template = blank_template(
        {"key": "name", "label": "姓名", "kind": "name", "required": True, "position": box(40, 50, 50, 9)},
        {"key": "phone", "label": "联系电话", "kind": "phone", "position": box(40, 60, 50, 9, page=2)}, pages=2)
    blank = tmp_path / "blank.pdf"
    render_blank(template, "测试事项", blank)
    done = render(template, {"name": "李四", "phone": "13800138000"}, "测试事项", tmp_path / "form.pdf",
                  blank_pdf=blank)
    assert done.pages == 2
    assert beside(text_of(done.pdf, 1), "姓名", "李四") and "13800138000" not in text_of(done.pdf, 1)
    assert beside(text_of(done.pdf, 2), "联系电话", "13800138000") and "李四" not in text_of(done.pdf, 2)


def test_a_long_answer_shrinks_and_wraps_inside_its_box(tmp_path):
    address = "示例省示例市示例区示例街道幸福路八十八号阳光花园三期十二栋二单元八零一室"
    template = blank_template({"key": "address", "label": "地址", "kind": "address", "position": box(40, 50, 60, 10)})
    blank = tmp_path / "blank.pdf"
    render_blank(template, "测试事项", blank)
    done = render(template, {"address": address}, "测试事项", tmp_path / "form.pdf", blank_pdf=blank)
    assert text_in_box(done.pdf, template.field("address").position) == address


def test_an_answer_too_long_for_its_box_is_refused_naming_the_field_not_the_value(tmp_path):
    address = "示例省示例市示例区示例街道幸福路八十八号阳光花园三期十二栋二单元八零一室"
    template = blank_template({"key": "address", "label": "地址", "kind": "address", "position": box(40, 50, 30, 5)})
    blank = tmp_path / "blank.pdf"
    render_blank(template, "测试事项", blank)
    with pytest.raises(FormError, match=r"field 'address' \(地址\): the answer is too long for its box") as caught:
        render(template, {"address": address}, "测试事项", tmp_path / "form.pdf", blank_pdf=blank)
    assert "幸福路" not in str(caught.value)
    assert not (tmp_path / "form.pdf").exists()


def test_data_too_long_for_a_legible_qr_code_is_refused(forms, tmp_path):
    form = forms["residence-permit-application"]
    long_address = "示例省示例市示例区示例街道幸福路八十八号阳光花园三期十二栋二单元八零一室旁边"
    values = dict(RESIDENCE, household_address=long_address, residence_address=long_address,
                  employer="示例市示例区示例街道示例社区示例科技发展有限责任公司")
    with pytest.raises(FormError, match=r"needs a QR code of version \d+, but at 35 mm only version 18") as caught:
        render(form.template, values, form.item_name, tmp_path / "form.pdf", today=TODAY)
    assert "幸福路" not in str(caught.value) and "张三丰" not in str(caught.value)
    assert max_qr_version(QR_SIZE_MM) == 18  # modules of 0.36 mm: a window scanner reads them off a laser print


def test_values_that_fail_their_checks_or_belong_to_no_field_are_refused(forms, tmp_path):
    form = forms["residence-permit-application"]
    with pytest.raises(FormError, match=r"fix these fields first: id_number \(公民身份号码\), promise") as caught:
        render(form.template, dict(RESIDENCE, id_number="110105199003071238", promise=False), form.item_name,
               tmp_path / "form.pdf", today=TODAY)
    assert "110105199003071238" not in str(caught.value)
    with pytest.raises(FormError, match="has no field 'photo'"):
        render(form.template, dict(RESIDENCE, photo="x"), form.item_name, tmp_path / "form.pdf", today=TODAY)


def test_a_blank_form_that_is_missing_or_does_not_match_the_template_is_refused(forms, tmp_path):
    form = forms["household-move-within-city"]
    with pytest.raises(FormError, match="no copy of that PDF was given"):
        render(form.template, MOVING, form.item_name, tmp_path / "form.pdf", today=TODAY)
    two = blank_template({"key": "name", "label": "姓名", "kind": "name", "position": box(40, 50, 50, 9)}, pages=2)
    wrong = tmp_path / "two-pages.pdf"
    render_blank(two, "测试事项", wrong)
    with pytest.raises(FormError, match="has 2 pages, template 'household-move-within-city' places its fields on 1"):
        render(form.template, MOVING, form.item_name, tmp_path / "form.pdf", blank_pdf=wrong, today=TODAY)
    not_pdf = tmp_path / "broken.pdf"
    not_pdf.write_bytes(b"<html>not found</html>")
    with pytest.raises(FormError, match="cannot be read"):
        render(form.template, MOVING, form.item_name, tmp_path / "form.pdf", blank_pdf=not_pdf, today=TODAY)


def test_many_answers_run_onto_a_second_page_with_the_qr_code_at_the_end(tmp_path):
    fields = [{"key": f"line_{n}", "label": f"第{n}项说明", "kind": "text", "max_length": 80} for n in range(1, 25)]
    template = FormTemplate.model_validate({"id": "long-form", "title": "情况说明表", "version": 1, "fields": fields,
                                            "layout": {"generated": {}}})
    values = {f"line_{n}": "属实" for n in range(1, 25)}
    done = render(template, values, "测试事项", tmp_path / "form.pdf")
    assert done.pages == 2 == pdf_pages(done.pdf)
    first, second = text_of(done.pdf, 1), text_of(done.pdf, 2)
    assert beside(first, "第1项说明", values["line_1"]) and "第1页/共2页" in re.sub(r"\s", "", first)
    assert beside(second, "第24项说明", values["line_24"]) and "情况说明表（续）" in second
    assert "窗口扫码录入" in second and "窗口扫码录入" not in first
    assert qr_of(done.pdf, 2)["f"] == values


def test_the_same_form_renders_to_the_same_bytes(forms, tmp_path):
    form = forms["social-security-card-application"]
    values = {"name": "王五", "sex": "男", "nation": "回族", "id_number": "520102197001014327", "phone": "13800138000",
              "mail_address": "示例市示例区和平路1号", "insured_as": "城乡居民基本养老保险", "bank": "中国农业银行",
              "promise": True}
    a = render(form.template, values, form.item_name, tmp_path / "a.pdf", today=TODAY)
    b = render(form.template, values, form.item_name, tmp_path / "b.pdf", today=TODAY)
    assert a.pdf.read_bytes() == b.pdf.read_bytes()
    assert a.qr_payload == qr_payload(form.template, values)


def test_rendering_logs_no_personal_value(forms, tmp_path, caplog):
    form = forms["residence-permit-application"]
    caplog.set_level(logging.DEBUG)
    render(form.template, RESIDENCE, form.item_name, tmp_path / "form.pdf", today=TODAY)
    for value in ("张三丰", "110105199003071239", "13912345678", "幸福路"):
        assert value not in caplog.text


def test_render_apart_speaks_json_for_the_child_process(forms, tmp_path):
    form = forms["residence-permit-application"]
    answer = render_apart(form.template.model_dump(mode="json"), RESIDENCE, form.item_name, str(tmp_path / "f.pdf"))
    assert answer["pages"] == 1 and json.loads(answer["qr_payload"])["f"] == RESIDENCE
    refused = render_apart(form.template.model_dump(mode="json"), dict(RESIDENCE, phone="12345"), form.item_name,
                           str(tmp_path / "g.pdf"))
    assert refused == {"error": "template 'residence-permit-application': fix these fields first: phone (联系电话)"}
