"""`kiosk tour` steps of filling in a form (自助填表).

In zh_CN: the forms on offer, the social-security card form read from the ID card (name, sex, nation and
ID number filled in, masked on screen), a mobile number refused for a missing digit, the address typed in
pinyin (北京市, 朝阳区, 建国路) with one character written on the pad (十) and 号 from pinyin again, the
choices, the promise ticked, the review, and the form printed on the A4 printer (CUPS). Then in elder
mode: the residence-permit form typed by hand from the start, its name written in pinyin with a name's
candidates, and the date on the digit keys.

The steps play the citizen's part at the card simulator (`sim://idcard`) and draw on the pad with a
finger through the window's input path. Listed by kiosk/tour/runner.py, run only on a kiosk that offers
forms.
"""
from __future__ import annotations

from kiosk.tour.step import Step
from kiosk.tour.steps_pickup import _expect_panel, _screen, _sim

FLOWS: dict[str, list[Step]] = {}
SOCIAL_CARD, RESIDENCE = "social-security-card-application", "residence-permit-application"
ADDRESS = "北京市朝阳区建国路十号"


def _line(a, b, n: int = 12):
    return [(a[0] + (b[0] - a[0]) * i / n, a[1] + (b[1] - a[1]) * i / n) for i in range(n + 1)]


# 十 as a finger writes it, in a 1024 box with y downwards: the horizontal, then the vertical
SHI = [_line((150, 480), (870, 460)), _line((510, 150), (500, 880))]


def _flow(d):
    from kiosk.app.root import FORMS

    return d.app.kiosk.flow(FORMS)


def _s(d):
    return _screen(d, "forms")


def _wait_panel(d, panel: str, what: str, timeout: float = 20) -> None:
    s = _s(d)
    d.wait_for(lambda: d.app.screens.current == "forms" and s.panels.current == panel and not s.worker.pending,
               timeout, what)


def _open(d) -> None:
    d.wait_for(lambda: _flow(d).printer is not None, 30, "the A4 printer bound")
    _sim("idcard").remove_card()
    d.tap_tile("forms")   # (a tap on the tile while it was still greyed out waited 90 s for nothing)
    _wait_panel(d, "choose", "the forms on offer", timeout=60)


def _choose(template: str):
    def act(d) -> None:
        index = next(i for i, o in enumerate(_flow(d).offered) if o.template.id == template)
        _s(d).choose_row(index)
        _wait_panel(d, "start", "the form's first page")
    return act


def _field(d, key: str) -> None:
    d.wait_for(lambda: _s(d).panels.current == "fill" and _flow(d).field is not None
               and _flow(d).field.key == key, 10, f"the field {key}")


def _read_card(d) -> None:
    _sim("idcard").insert_card()
    d.tap(_s(d).ids.read_card)
    _wait_panel(d, "fill", "the form filled from the card", 30)
    _field(d, "phone")


def _digits(text: str):
    def act(d) -> None:
        for ch in text:
            d.tap_key(_s(d).ids.digits, ch)
    return act


def _next(d) -> None:
    d.tap(_s(d).ids.next)


def _letters(letters: str):
    def act(d) -> None:
        for ch in letters:
            d.tap_key(_s(d).ids.letters, ch)
    return act


def _pick(text: str):
    """Tap `text` among the candidates, paging on while it is not shown."""
    def act(d) -> None:
        s = _s(d)
        for _page in range(4):
            texts = [c.text for c in s.candidates]
            if text in texts:
                d.tap_key(s.ids.candidates, f"c{texts.index(text)}")
                return
            d.tap_key(s.ids.candidates, "next")
        raise AssertionError(f"{text!r} is not among the candidates {texts}")
    return act


def _mode(mode: str):
    def act(d) -> None:
        d.tap(_s(d).ids[f"mode_{mode}"])
        d.pump(3)
    return act


def _write(strokes, box: float = 1024.0):
    """Write a character on the pad with one finger, stroke by stroke."""
    def act(d) -> None:
        from kivy.base import EventLoop
        from kivy.core.window import Window

        from kiosk.tour.driver import Finger

        pad = _s(d).ids.pad
        for stroke in strokes:
            points = [pad.to_window(pad.x + pad.width * (0.1 + 0.8 * x / box),
                                    pad.top - pad.height * (0.1 + 0.8 * y / box)) for x, y in stroke]
            finger = Finger(*points[0])
            EventLoop.post_dispatch_input("begin", finger)
            d.pump(1)
            for x, y in points[1:]:
                finger.move({"x": x / max(1.0, Window.width - 1.0), "y": y / max(1.0, Window.height - 1.0)})
                EventLoop.post_dispatch_input("update", finger)
                d.pump(1)
            finger.update_time_end()
            EventLoop.post_dispatch_input("end", finger)
            d.pump(1)
        d.pump(3)
    return act


def _choice(text: str):
    def act(d) -> None:
        d.tap(next(b for b in _s(d).ids.choice_box.children if b.choice == text))
        _next(d)
    return act


def _offers(text: str):
    def check(d):
        texts = [c.text for c in _s(d).candidates]
        return None if text in texts else f"{text!r} not among the candidates {texts}"
    return check


def _problem_shown(d):
    return None if _flow(d).problem else "no problem shown for a mobile number one digit short"


def _value(key: str, want: str):
    def check(d):
        got = _flow(d).values.get(key)
        return None if got == want else f"{key} is {got!r}, expected {want!r}"
    return check


def _at(key: str):
    def check(d):
        f = _flow(d).field
        return None if f is not None and f.key == key else f"expected the field {key}, at {f.key if f else None}"
    return check


def _to_review(d) -> None:
    """From the optional guardian's fields to the review: passed over empty, the promise ticked."""
    for key in ("guardian_name", "guardian_phone"):
        _field(d, key)
        _next(d)
    _field(d, "promise")
    d.tap(_s(d).ids.tick)
    _next(d)
    _wait_panel(d, "review", "the review")


def _print(d) -> None:
    d.tap(_s(d).ids["print"])
    _wait_panel(d, "done", "the printed form", 120)


def _elder_on(d) -> None:
    if not d.app.elder:
        d.tap(d.app.header.ids.elder_toggle)
    d.pump(3)


FLOWS["forms"] = [
    Step("choose", _open, _expect_panel("forms", "choose")),
    Step("start", _choose(SOCIAL_CARD), _expect_panel("forms", "start")),
    Step("card-read", _read_card, _at("phone")),
    Step("phone-refused", lambda d: (_digits("1380013800")(d), _next(d), d.pump(3)), _problem_shown),
    Step("pinyin", lambda d: (_digits("0")(d), _next(d), _field(d, "mail_address"), _letters("beijingshi")(d)),
         _offers("北京市")),
    Step("pinyin-picked", lambda d: (_pick("北京市")(d), _letters("chaoyangqu")(d), _pick("朝阳区")(d),
                                     _letters("jianguolu")(d), _pick("建国路")(d)), _value("mail_address", "北京市朝阳区建国路")),
    Step("handwriting", lambda d: (_mode("handwriting")(d), _write(SHI)(d)), _offers("十")),
    Step("address", lambda d: (_pick("十")(d), _mode("pinyin")(d), _letters("hao")(d), _pick("号")(d)),
         _value("mail_address", ADDRESS)),
    Step("choice", lambda d: (_next(d), _field(d, "insured_as"), _choice("职工基本养老保险")(d),
                              _field(d, "bank")), _at("bank")),
    Step("review", lambda d: (_choice("中国银行")(d), _to_review(d)), _expect_panel("forms", "review")),
    Step("printed", _print, _expect_panel("forms", "done")),
]

FLOWS["forms-elder"] = [
    Step("start", lambda d: (_open(d), _elder_on(d), _choose(RESIDENCE)(d)), _expect_panel("forms", "start")),
    Step("name-pinyin", lambda d: (d.tap(_s(d).ids.type_it), _field(d, "name"), _letters("zhangwei")(d)),
         _offers("张伟")),
    Step("birth-digits", lambda d: (_pick("张伟")(d), _next(d), _field(d, "sex"), _choice("男")(d),
                                    _field(d, "nation"), _letters("hanzu")(d), _pick("汉族")(d), _next(d),
                                    _field(d, "birth"), _digits("1990-03-07")(d)), _value("birth", "1990-03-07")),
]
