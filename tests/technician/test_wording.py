"""What the technician panel says about devices: codes from the drivers become msgids, translated when shown."""
import re

import pytest

from kiosk import i18n
from kiosk.core.technician import wording
from kiosk.core.technician.bench import DeviceBench
from kiosk.core.technician.wording import said
from kiosk.hardware import cups, receipt
from kiosk.hardware.device import Completion, State

ZH = i18n.catalog("zh_CN").gettext
EN = i18n.catalog("en").gettext
ASCII_WORD = re.compile(r"[A-Za-z]{2,}")


def test_every_device_state_has_words_in_both_languages():
    for state in [s.value for s in State] + ["unknown"]:
        msgid = wording.state_label(state)
        assert msgid != state and not ASCII_WORD.search(ZH(msgid)) and EN(msgid) == msgid


def test_every_status_detail_the_printers_report_is_known():
    details = set(cups.REASON_DETAILS.values()) | {c.value for c in receipt.Condition} - {"ok", "unknown"}
    unknown = sorted(d for d in details if d not in wording.CAUSES)
    assert not unknown
    for d in details:
        assert not ASCII_WORD.search(wording.cause(d).render(ZH).replace("CUPS", "")), d


def test_a_detail_with_doors_names_them():
    assert str(wording.status("online", "door_open:7,9")) == "Working · doors open: 7, 9"
    assert wording.status("online", "door_open:7,9").render(ZH) == "正常 · 已打开的柜门：7, 9"
    assert wording.cause("door_not_opened:3").render(ZH).startswith("3 号柜门未打开")


def test_an_unknown_code_is_shown_as_itself_with_the_kind_of_failure():
    assert wording.cause("sw3_7f").render(ZH) == "代码 sw3_7f"
    assert wording.problem(Completion.TIMEOUT.value, "sw3_7f").render(ZH) == "未按时应答（代码 sw3_7f）"
    assert wording.problem(Completion.TIMEOUT.value).render(ZH) == "未按时应答"
    assert wording.problem(Completion.TIMEOUT.value, "no_answer").render(EN) == \
        "no answer (check power, cable and connection)"


def test_card_fields_are_labelled_and_their_values_translated():
    shown = {"name": "张*", "id_number": "110***********1239", "sex": "male", "nation": "汉",
             "birth": "1990-03-07", "valid_from": "2020-01-01", "valid_to": "long-term", "card_type": "resident",
             "id_checksum_ok": True, "photo_bytes": 1024, "fingerprint_bytes": None, "nationality": None,
             "birth_date_ok": True, "expired": False, "problems": []}
    zh = [line.render(ZH) for line in wording.card_lines(shown)]
    assert zh == ["姓名：张*", "证件号码：110***********1239", "性别：男", "民族：汉", "出生日期：1990-03-07",
                  "有效期起：2020-01-01", "有效期至：长期", "证件类型：居民身份证", "号码校验位：正确",
                  "照片：1024 字节", "出生日期与号码一致：是", "已过期：否"]
    assert [str(line) for line in wording.card_lines(shown)][8] == "ID number check digit: correct"


def test_a_cards_problems_are_listed_in_words():
    lines = wording.card_lines({"id_checksum_ok": False, "problems": ["id_check_digit_wrong", "expired"]})
    assert [line.render(ZH) for line in lines] == ["号码校验位：错误", "问题：证件号码校验位错误；证件已过期"]


def test_a_line_is_english_until_it_is_shown():
    line = said("door {door}: {problem}", door=7, problem=wording.cause("no_answer"))
    assert str(line) == "door 7: no answer (check power, cable and connection)"
    assert line.render(ZH) == "7 号柜门：无应答（请检查电源、线缆和连接设置）"


def test_payment_outcomes_and_their_reasons():
    assert wording.outcome("approved", "approved").render(ZH) == "成功"
    assert wording.outcome("declined", "rejected").render(ZH) == "被拒绝（银行卡被拒绝）"
    assert wording.outcome("unknown", "needs_manual_check").render(EN).startswith("outcome unknown (no answer")


@pytest.mark.parametrize("lang", i18n.LANGUAGES)
def test_every_msgid_of_the_tables_is_in_the_catalogs(lang):
    gettext = i18n.catalog(lang).gettext
    tables = [wording.STATES, wording.CAUSES, wording.COMPLETIONS, wording.CARD_FIELDS, wording.PROBLEMS,
              wording.OUTCOMES, wording.OUTCOME_DETAILS, wording.JOB_STATES, wording.CODE_KINDS]
    untranslated = [m for t in tables for m in t.values() if lang == "zh_CN" and gettext(m) == m]
    assert not untranslated


def test_bench_lines_carry_no_driver_prose():
    """The bench's own lines are msgids (a Said), so nothing of them reaches the screen untranslated."""
    assert DeviceBench({}).results == {}
    line = said("{done}; did not open: {doors}", done=said("stopped after door {door}: {done}", door=4,
                done=said("{tried} of {total} doors tried", tried=4, total=24)), doors="2")
    assert line.render(ZH) == "在 4 号柜门后停止：已试 4 / 24 个柜门；未打开：2"
    assert str(line) == "stopped after door 4: 4 of 24 doors tried; did not open: 2"
