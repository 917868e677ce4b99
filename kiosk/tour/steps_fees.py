"""`kiosk tour` steps of paying a fee notice (缴费): the number typed, the notice checked, paid on the card
terminal, the receipt and the rating; the same notice refused afterwards as paid here; refusals in English;
a company's notice paid with a payment code in elder mode; an unknown terminal outcome and the notice it
keeps from being paid twice; the platform offline.

The steps act through the real window and play the citizen's part at the simulators (`sim://payment`,
`sim://scanner`, `sim://receipt`). They need the platform at `[central] url` seeded with the demo notices
and this kiosk in the demo hall (`kiosk central seed` does both for the demo kiosk; the tour's own hall
seeds, kiosk/tour/hall.py). The numbers are those of the demo issuer
(kiosk/central/fee_issuer.py), written out here: the tour does not import the platform. Listed by
kiosk/tour/runner.py, run only on a kiosk that offers the fee service.
"""
from __future__ import annotations

from kiosk.tour.step import Step
from kiosk.tour.steps_documents import _pay, _rate_low, _rating, _screen, _sim, _submit_rating, tap_action, wait_for

UNPAID = "11010526003100000012"     # 示例市不动产登记中心, ¥90.00
COMPANY = "11010526004200000027"    # a company's, ¥360.00
PAID = "11010526005800000036"
EXPIRED = "11010526006300000047"
OTHER_HALL = "11010526007100000054"
SECOND = "11010526004500000065"     # ¥20.00
PAYMENT_CODE = "134567890123456780"  # the demo acquirer approves a WeChat code ending in 0

_state: dict = {}


def _fees(d):
    from kiosk.app.root import FEES

    return d.app.kiosk.flow(FEES)


def _expect(screen: str, fee_state: str | None = None, pay_state: str | None = None, problem: str | None = None,
            rating: str | None = None):
    def check(d):
        problems = []
        if d.app.screens.current != screen:
            problems.append(f"showing {d.app.screens.current}, expected {screen}")
        flow = _fees(d)
        if fee_state and flow.state.value != fee_state:
            problems.append(f"the fee flow is {flow.state.value} ({flow.problem}), expected {fee_state}")
        if problem and flow.problem != problem:
            problems.append(f"the refusal is {flow.problem!r}, expected {problem!r}")
        if pay_state and _pay(d).state.value != pay_state:
            problems.append(f"payment is {_pay(d).state.value} ({_pay(d).detail}), expected {pay_state}")
        if rating and _rating(d).state.value != rating:
            problems.append(f"rating is {_rating(d).state.value}, expected {rating}")
        return "; ".join(problems) or None
    return check


# --- acts ------------------------------------------------------------------------------------------

def _open(d) -> None:
    """From home: the fee tile, once the terminal is up and old payments are settled."""
    wait_for(d, lambda: d.app.makes_screen("fees") and "payment" not in d.app.device_problems
             and _pay(d).ledger.recovered.is_set() and _fees(d).printer is not None, 60,
             "the card terminal, the receipt printer and the payment recovery")
    _sim("payment").set_outcome("approve", answer_delay=0.5)
    _sim("receipt").set_paper("ok")
    d.tap_tile("fees")
    wait_for(d, lambda: _fees(d).state.value == "enter", 10, "the keypad")


def _type(number: str):
    def act(d) -> None:
        pad = _screen(d, "fees").ids.keypad
        for digit in number:
            d.tap_key(pad, digit)
        wait_for(d, lambda: _fees(d).typed == number, 5, "the number typed")
    return act


def _until(*states: str, timeout: float = 30):
    def act(d) -> None:
        wait_for(d, lambda: _fees(d).state.value in states, timeout, "/".join(states))
    return act


def _next(d) -> None:
    tap_action(d, "fees", "Next")
    _until("notice", "refused", "offline")(d)


def _scan(number: str):
    def act(d) -> None:
        _sim("scanner").scan(number)
        _until("notice", "refused", "offline")(d)
    return act


def _pay_now(d) -> None:
    tap_action(d, "fees", "Pay now")
    wait_for(d, lambda: d.app.screens.current == "payment", 10, "the payment screen")


def _card(delay: float = 3.0, outcome: str = "approve"):
    def act(d) -> None:
        _sim("payment").set_outcome(outcome, answer_delay=delay)
        tap_action(d, "payment", "Pay by bank card")
        wait_for(d, lambda: _pay(d).state.value in ("wait_card", "approved", "unknown"), 10, "the card prompt")
    return act


def _code(d) -> None:
    tap_action(d, "payment", "Pay with a WeChat or Alipay code")
    wait_for(d, lambda: _pay(d).state.value == "wait_code", 5, "the code prompt")


def _show_code(d) -> None:
    _sim("scanner").scan(PAYMENT_CODE)
    _done(d)


def _done(d) -> None:
    _until("done", "payment_unknown", "returning", timeout=60)(d)
    wait_for(d, lambda: d.app.screens.current == "fees", 10, "back on the fee screen")


def _to_rating(d) -> None:
    tap_action(d, "fees", "Finish")
    wait_for(d, lambda: d.app.screens.current == "rating", 15, "the rating screen")


def _again_from_home(d) -> None:
    """The visit ends after the rating; a new one opens the fee service again."""
    d.app.end_visit("done")
    wait_for(d, lambda: d.app.screens.current == "home", 10, "home")
    _open(d)


def _english(d) -> None:
    d.tap(d.app.header.ids.lang_en)
    wait_for(d, lambda: d.app.lang == "en", 5, "English")


def _elder(d) -> None:
    if not d.app.elder:
        d.tap(d.app.header.ids.elder_toggle)


def _another(d) -> None:
    tap_action(d, "fees", "Another notice")
    _until("enter")(d)


def _finish_unknown(d) -> None:
    wait_for(d, lambda: _pay(d).slip not in ("", "printing"), 30, "the slip")
    tap_action(d, "fees", "Finish")
    wait_for(d, lambda: d.app.screens.current == "home", 10, "home")
    _open(d)


def _platform_down(d) -> None:
    central = _fees(d).notices.central
    _state["base"] = central.base
    central.base = "http://127.0.0.1:9"   # nothing listens there: the platform is unreachable
    _scan(EXPIRED)(d)


def _platform_back(d) -> None:
    if "base" in _state:
        _fees(d).notices.central.base = _state.pop("base")
    tap_action(d, "fees", "Back to home")
    wait_for(d, lambda: d.app.screens.current == "home", 10, "home")


def _home(d):
    return None if d.app.screens.current == "home" else f"showing {d.app.screens.current}"


# --- the flows -------------------------------------------------------------------------------------

FLOWS: dict[str, list[Step]] = {}   # the flows, in the order the tour runs them (kiosk/tour/runner.py)
FLOWS["fees"] = [
    Step("start", _open, _expect("fees", "enter")),
    Step("typed", _type(UNPAID), _expect("fees", "enter")),
    Step("notice", _next, _expect("fees", "notice")),
    Step("pay-choose", _pay_now, _expect("payment", "paying", "choose")),
    Step("pay-card-wait", _card(), _expect("payment", "paying", "wait_card")),
    Step("done", _done, _expect("fees", "done", "approved")),
    Step("rating", _to_rating, _expect("rating", rating="asking")),
    Step("rating-thanks", lambda d: (_rate_low(d), _submit_rating(d)), _expect("rating", rating="done")),
    Step("paid-here", lambda d: (_again_from_home(d), _scan(UNPAID)(d)), _expect("fees", "refused",
                                                                                 problem="paid_here")),
]
FLOWS["fees-refused-en"] = [
    Step("paid", lambda d: (_open(d), _english(d), _scan(PAID)(d)), _expect("fees", "refused", problem="notice_paid")),
    Step("other-hall", lambda d: (_another(d), _scan(OTHER_HALL)(d)),
         _expect("fees", "refused", problem="notice_other_hall")),
    Step("mistyped", lambda d: (_another(d), _type(UNPAID[:-1] + "9")(d), _next(d)),
         _expect("fees", "refused", problem="notice_malformed")),
]
FLOWS["fees-code-elder"] = [
    Step("notice", lambda d: (_elder(d), _open(d), _scan(COMPANY)(d)), _expect("fees", "notice")),
    Step("show-code", lambda d: (_pay_now(d), _code(d)), _expect("payment", "paying", "wait_code")),
    Step("done", _show_code, _expect("fees", "done", "approved")),
]
FLOWS["fees-unknown"] = [
    Step("unknown", lambda d: (_open(d), _scan(SECOND)(d), _pay_now(d), _card(0.5, "garbled")(d), _done(d)),
         _expect("fees", "payment_unknown", "unknown")),
    Step("in-doubt", lambda d: (_finish_unknown(d), _scan(SECOND)(d)), _expect("fees", "refused", problem="in_doubt")),
]
FLOWS["fees-offline"] = [
    Step("offline", lambda d: (_open(d), _platform_down(d)), _expect("fees", "offline")),
    Step("back", _platform_back, _home),
]
