"""The case progress flow (kiosk/core/progress.py) through every state, without a display.

The platform is a fake port (what CentralClient.case_progress / cases_of_holder answer, or raise); the ID
card reader and the receipt printer are the real drivers on their simulators; time is injected (a manual
clock for the look-up timeout, the drivers' virtual clock); the executor holds each step until the test
releases it, so every state in between is seen.
"""
from __future__ import annotations

import datetime as dt

import pytest

from kiosk import i18n
from kiosk.core.background import Held
from kiosk.core.flow import Leave
from kiosk.core.privacy import holder_hash, mask_id_number, mask_name
from kiosk.core.progress import ANSWER_GRACE_S, Notice, ProgressFlow, ProgressState as S, next_sentence
from kiosk.hardware.device import VirtualClock
from kiosk.hardware.idcard import SamReader
from kiosk.hardware.receipt import ReceiptPrinter
from kiosk.hardware.scanner import classify
from kiosk.sim import registry as sims
from kiosk.sim.idcard import demo_resident
from kiosk.wire.errors import PlatformUnavailable
from kiosk.wire.progress import CaseProgress, HolderCases, NextStep
from tests.clocks import ManualClock

HASH_KEY = "progress-test-hash-key-000000000001"
KIOSK = "demo-hall-k01"
TODAY = dt.date(2026, 11, 24)
CARD = demo_resident()
HOLDER = holder_hash(HASH_KEY, CARD.id_number)


def progress(case_number: str = "2026112000017", **over) -> CaseProgress:
    doc = {"case_number": case_number, "item_name": "食品经营许可证", "department": "市场监督管理局",
           "accepted_at": "2026-11-20T09:12:00+08:00", "promised_by": "2026-11-27", "late": False,
           "finished": False, "current_step": "审查",
           "steps": [{"step": "受理", "status": "done", "at": "2026-11-20T09:12:00+08:00"},
                     {"step": "审查", "status": "current", "at": "2026-11-21T10:00:00+08:00", "note": "需现场勘验"}],
           "locker": None, "handins": [],
           "next": {"action": "wait", "text": "正在办理，当前环节：审查。请耐心等待。"}}
    doc.update(over)
    return CaseProgress.model_validate(doc)


HELD = progress("2026112000018", item_name="营业执照（副本）", finished=True, current_step=None,
                steps=[{"step": "受理", "status": "done", "at": "2026-11-18T09:00:00+08:00"},
                       {"step": "制证", "status": "done", "at": "2026-11-19T16:00:00+08:00"}],
                next={"action": "collect_from_locker", "text": "请到…7号柜门领取", "door": 7, "kiosk_id": KIOSK,
                      "hall": "示例政务服务中心", "place": "一楼东侧", "due_at": "2026-11-29T09:30:00+08:00",
                      "needs_id_card": True})
LATE = progress("2026110300004", item_name="建设工程规划许可证", promised_by="2026-11-10", late=True)


class FakePlatform:
    """The port: cases by number, a holder's cases, or a platform that cannot answer."""

    def __init__(self):
        self.cases = {c.case_number: c for c in (progress(), HELD, LATE)}
        self.holders = {HOLDER: [HELD, progress(), LATE]}
        self.down: Exception | None = None
        self.asked: list[tuple[str, str, float | None]] = []

    def case_progress(self, case_number, timeout=None):
        self.asked.append(("case", case_number, timeout))
        if self.down:
            raise self.down
        return self.cases.get(case_number)

    def cases_of_holder(self, holder_hash, timeout=None):
        self.asked.append(("holder", holder_hash, timeout))
        if self.down:
            raise self.down
        return HolderCases(cases=self.holders.get(holder_hash, []), more=False)


@pytest.fixture
def devices():
    vclock = VirtualClock()
    sims.reset_simulators()
    card_sim, receipt_sim = sims.simulator("idcard", vclock), sims.simulator("receipt")
    card_sim.remove_card()
    reader = SamReader("idcard", "sim://idcard", clock=vclock)
    printer = ReceiptPrinter("receipt_printer", "sim://receipt")
    yield {"reader": reader, "printer": printer, "card": card_sim, "receipt": receipt_sim}
    reader.close()
    printer.close()
    sims.reset_simulators()


@pytest.fixture
def parts(devices):
    held, clock, platform = Held(), ManualClock(), FakePlatform()
    flow = ProgressFlow(platform, hash_key=HASH_KEY, hall="示例政务服务中心 24小时自助服务区", kiosk_id=KIOSK,
                        hotline="12345", reader=devices["reader"], printer=devices["printer"], executor=held,
                        clock=clock, now=lambda: dt.datetime(2026, 11, 24, 21, 5), today=lambda: TODAY,
                        card_timeout_s=30, lookup_timeout_s=3)
    seen: list[S] = []
    flow.on_change(lambda f: seen.append(f.state))
    flow.begin()
    i18n.set_language("zh_CN")
    yield {"flow": flow, "held": held, "clock": clock, "platform": platform, "seen": seen, **devices}
    i18n.set_language("zh_CN")


def type_case(flow, text: str) -> None:
    flow.by_case()
    for ch in text:
        flow.press(ch)
    flow.submit()


def test_a_typed_case_number_is_looked_up_with_the_lookup_timeout_and_its_progress_shown(parts):
    flow, held, platform = parts["flow"], parts["held"], parts["platform"]
    assert flow.state is S.CHOOSE and flow.can_read_cards
    type_case(flow, "2026112000017")
    assert flow.state is S.LOOKING and held.pending == 1
    held.release()
    assert flow.state is S.RESULT and flow.case.item_name == "食品经营许可证" and not flow.from_list
    assert platform.asked == [("case", "2026112000017", 3)]
    assert flow.leaving(idle=False).free


def test_a_case_scanned_from_the_acceptance_slip_is_looked_up_and_a_pickup_code_is_never_taken(parts):
    flow, held = parts["flow"], parts["held"]
    flow.by_case()
    flow.scanned(classify("483920"))                 # a pickup code: the citizen's secret
    assert flow.state is S.ENTER_CASE and flow.notice is Notice.NOT_A_CASE_NUMBER and flow.typed == ""
    flow.scanned(classify("2026112000018"))
    held.release()
    assert flow.state is S.RESULT and flow.case.case_number == "2026112000018"


@pytest.mark.parametrize("typed,notice", [("12", Notice.BAD_CASE_NUMBER), ("2026/11", Notice.BAD_CASE_NUMBER),
                                          ("110105199003071239", Notice.CASE_NUMBER_LOOKS_LIKE_ID)])
def test_a_malformed_case_number_stays_on_the_keypad_with_a_sentence_and_asks_nobody(parts, typed, notice):
    flow, held = parts["flow"], parts["held"]
    flow.by_case()
    flow.typed = typed
    flow.submit()
    assert flow.state is S.ENTER_CASE and flow.notice is notice and held.pending == 0
    assert flow.typed == ("" if notice is Notice.CASE_NUMBER_LOOKS_LIKE_ID else typed)   # no ID number stays
    flow.press("1")
    assert flow.notice is None


def test_an_unknown_case_is_not_found_and_another_number_can_be_typed(parts):
    flow, held = parts["flow"], parts["held"]
    type_case(flow, "2026000000001")
    held.release()
    assert flow.state is S.NOT_FOUND and flow.by == "case"
    flow.by_case()
    assert flow.state is S.ENTER_CASE and flow.typed == ""


def test_the_id_card_lists_the_holders_cases_newest_first_and_one_is_chosen(parts):
    flow, held, platform = parts["flow"], parts["held"], parts["platform"]
    assert flow.by_card() and flow.state is S.READ_CARD
    parts["card"].insert_card(CARD)
    held.release()
    assert flow.state is S.RESULTS and [c.case_number for c in flow.cases] == [
        "2026112000018", "2026112000017", "2026110300004"]
    assert platform.asked == [("holder", HOLDER, 3)] and flow.holder == HOLDER
    flow.choose(2)
    assert flow.state is S.RESULT and flow.case.late and flow.from_list
    flow.back_to_list()
    assert flow.state is S.RESULTS and flow.case is None


def test_a_holder_with_one_case_sees_it_at_once_and_one_with_none_is_told_so(parts):
    flow, held, platform = parts["flow"], parts["held"], parts["platform"]
    platform.holders[HOLDER] = [HELD]
    flow.by_card()
    parts["card"].insert_card(CARD)
    held.release()
    assert flow.state is S.RESULT and flow.case.case_number == HELD.case_number and not flow.from_list
    flow.another()
    platform.holders[HOLDER] = []
    flow.by_card()
    held.release()
    assert flow.state is S.NOT_FOUND and flow.by == "card"


def test_no_card_on_the_reader_or_a_card_that_does_not_check_is_a_card_problem(parts):
    flow, held = parts["flow"], parts["held"]
    flow.by_card()
    held.release()                                   # nothing on the reader within the timeout
    assert flow.state is S.CARD_PROBLEM and flow.problem == "no_card"
    parts["card"].insert_card("wrong_check_digit")
    flow.by_card()
    held.release()
    assert flow.state is S.CARD_PROBLEM and flow.problem == "card_invalid" and flow.holder is None


def test_an_expired_card_still_finds_its_holders_cases(parts):
    flow, held = parts["flow"], parts["held"]
    parts["card"].insert_card("expired")
    flow.by_card()
    held.release()
    assert flow.state is S.RESULTS


def test_a_platform_that_cannot_answer_gives_the_offline_state_and_a_retry_asks_again(parts):
    flow, held, platform = parts["flow"], parts["held"], parts["platform"]
    platform.down = PlatformUnavailable("cannot reach the platform")
    type_case(flow, "2026112000017")
    held.release()
    assert flow.state is S.OFFLINE
    platform.down = None
    flow.retry()
    assert flow.state is S.LOOKING
    held.release()
    assert flow.state is S.RESULT
    platform.down = ValueError("a broken answer")      # not the citizen's problem either: the calm sentence
    flow.another()
    type_case(flow, "2026112000017")
    held.release()
    assert flow.state is S.OFFLINE


def test_an_answer_that_never_comes_is_offline_after_the_lookup_timeout_and_a_late_one_is_dropped(parts):
    flow, held, clock = parts["flow"], parts["held"], parts["clock"]
    type_case(flow, "2026112000017")
    clock.advance(3 + ANSWER_GRACE_S - 0.1)
    flow.tick()
    assert flow.state is S.LOOKING                   # still within the timeout
    clock.advance(0.2)
    flow.tick()
    assert flow.state is S.OFFLINE
    held.release()                                   # the answer after all: nobody waits for it now
    assert flow.state is S.OFFLINE and flow.case is None


def test_the_receipt_prints_the_progress_without_the_citizen(parts):
    flow, held, receipt = parts["flow"], parts["held"], parts["receipt"]
    flow.by_card()
    parts["card"].insert_card(CARD)
    held.release()
    flow.choose(2)                                    # the late case
    assert flow.print_receipt() and flow.state is S.PRINTING
    assert flow.leaving(idle=True).rule is Leave.FINISH
    held.release()
    assert flow.state is S.RESULT and flow.printed is True
    [printed] = receipt.receipts()
    text = printed.text
    for expected in ("办件进度", "2026110300004", "建设工程规划许可证", "市场监督管理局", "承诺办结日期：2026-11-10",
                     "已超期", "2026-11-20  受理  已完成", "2026-11-21  审查  办理中", "12345"):
        assert expected in text, expected
    for private in (CARD.id_number, mask_id_number(CARD.id_number), CARD.name, mask_name(CARD.name), HOLDER):
        assert private not in text


def test_a_receipt_that_does_not_print_leaves_the_progress_on_screen_and_says_so(parts):
    flow, held = parts["flow"], parts["held"]
    parts["receipt"].set_paper("out")
    type_case(flow, "2026112000018")
    held.release()
    flow.print_receipt()
    held.release()
    assert flow.state is S.RESULT and flow.printed is False and flow.case.case_number == "2026112000018"


def test_without_a_card_reader_the_keypad_comes_at_once_and_without_a_printer_nothing_prints(parts):
    flow = ProgressFlow(parts["platform"], hash_key=HASH_KEY, hall="h", kiosk_id=KIOSK, hotline="12345",
                        executor=parts["held"], clock=parts["clock"])
    flow.begin()
    assert flow.state is S.ENTER_CASE and not flow.by_card()
    type_case(flow, "2026112000017")
    parts["held"].release()
    assert flow.state is S.RESULT and not flow.print_receipt()
    flow.another()
    assert flow.state is S.ENTER_CASE


def test_the_visits_end_forgets_the_holder_stops_the_card_read_and_drops_answers(parts):
    flow, held = parts["flow"], parts["held"]
    flow.by_card()
    flow.reset()                                       # the session's wipe while the card is awaited
    assert flow.state is S.CHOOSE and flow.holder is None
    parts["card"].insert_card(CARD)
    held.release()
    assert flow.state is S.CHOOSE and flow.cases == []
    type_case(flow, "2026112000017")
    flow.reset()
    held.release()
    assert flow.state is S.CHOOSE and flow.case is None


def test_what_to_do_next_is_said_in_the_kiosks_language_from_the_platforms_answer():
    def say(lang, **step):
        i18n.set_language(lang)
        doc = {"text": "平台的原话", **step}
        return next_sentence(NextStep.model_validate(doc), current="审查", late=step.pop("late", False),
                             kiosk_id=KIOSK, hotline="12345")
    try:
        here = {"action": "collect_from_locker", "door": 7, "kiosk_id": KIOSK, "due_at": "2026-11-29T09:30:00+08:00",
                "needs_id_card": True}
        assert say("zh_CN", **here) == "请到本机旁的取件柜7号柜门领取。\n取件码已通过短信发送给您。\n请于11月29日前领取。\n请携带本人身份证。"
        assert say("en", **here) == ("Collect it from door 7 of the locker here.\nThe pickup code was sent to you by "
                                     "SMS.\nPlease collect it by 11/29.\nBring your ID card.")
        elsewhere = say("zh_CN", action="collect_from_locker", door=3, kiosk_id="other-k02", hall="示例政务服务中心",
                        place="一楼东侧", overdue=True)
        assert elsewhere.startswith("请到示例政务服务中心一楼东侧的取件柜3号柜门领取。\n") and "仍可使用" in elsewhere
        assert "12345" in say("zh_CN", action="wait", late=True) and "审查" in say("zh_CN", action="wait")
        assert "短信" in say("zh_CN", action="wait_for_locker")
        assert say("zh_CN", action="collected", at="2026-11-24T10:00:00+08:00") == "已于11月24日领取，办件已完成。"
        assert "服务窗口" in say("zh_CN", action="go_to_window")
        assert say("zh_CN", action="something_new") == "平台的原话"
    finally:
        i18n.set_language("zh_CN")
