"""The visitor session's timers and wipe, without a display (kiosk.core.session)."""
import pytest

from kiosk.core import privacy
from kiosk.core.session import Phase, SteerableClock, VisitorSession


@pytest.fixture
def clock():
    return SteerableClock(follow_real_time=False)


def session(clock, timeout=90, warning=30, extensions=10):
    return VisitorSession(idle_timeout_s=timeout, warning_s=warning, extensions=extensions, clock=clock)


def test_nothing_happens_at_home_until_a_touch_starts_a_visit(clock):
    s = session(clock)
    clock.advance(10_000)
    assert s.tick() is Phase.HOME
    started = []
    s.on("start", lambda: started.append(1))
    s.touch()
    assert s.phase is Phase.ACTIVE and started == [1]


def test_warning_comes_after_idle_timeout_without_a_touch(clock):
    s = session(clock)
    warnings = []
    s.on("warning", lambda: warnings.append(clock()))
    s.touch()
    clock.advance(89.9)
    assert s.tick() is Phase.ACTIVE
    clock.advance(0.1)
    assert s.tick() is Phase.WARNING
    assert warnings and s.seconds_left() == 30


def test_each_touch_restarts_the_idle_timer(clock):
    s = session(clock)
    s.touch()
    for _ in range(5):
        clock.advance(80)
        s.touch()
        assert s.tick() is Phase.ACTIVE


def test_countdown_run_out_wipes_the_visit_and_forgets_the_card_holder(clock):
    s = session(clock)
    wiped = []
    s.on("wipe", wiped.append)
    s.touch()
    privacy.remember_person(name="张三丰", id_number="110101199003077777")
    assert "张三丰" not in privacy.redact("holder 张三丰")
    clock.advance(90)
    s.tick()
    clock.advance(29.5)
    assert s.tick() is Phase.WARNING and s.seconds_left() == 1
    clock.advance(0.5)
    assert s.tick() is Phase.HOME
    assert wiped == ["idle"]
    assert privacy.redact("holder 张三丰") == "holder 张三丰"  # nobody left to scrub: the visit is gone


def test_a_touch_beside_the_button_does_not_dismiss_the_warning(clock):
    s = session(clock)
    s.touch()
    clock.advance(90)
    s.tick()
    s.touch()
    assert s.phase is Phase.WARNING


def test_more_time_returns_to_the_visit_for_a_full_timeout(clock):
    s = session(clock)
    s.touch()
    clock.advance(90)
    s.tick()
    clock.advance(25)
    assert s.more_time() is True
    assert s.phase is Phase.ACTIVE and s.extensions_left == 9
    clock.advance(89)
    assert s.tick() is Phase.ACTIVE


def test_more_time_works_exactly_the_configured_number_of_times(clock):
    s = session(clock, extensions=10)
    s.touch()
    for _ in range(10):
        clock.advance(90)
        assert s.tick() is Phase.WARNING
        assert s.more_time()
    clock.advance(90)
    s.tick()
    assert s.more_time() is False and s.phase is Phase.WARNING
    clock.advance(30)
    assert s.tick() is Phase.HOME
    # the next visitor gets every extension again
    s.touch()
    clock.advance(90)
    s.tick()
    assert s.more_time()


def test_elder_mode_doubles_the_idle_timeout(clock):
    s = session(clock, timeout=90)
    s.touch()
    s.set_elder(True)
    assert s.idle_timeout_s == 180
    clock.advance(179)
    assert s.tick() is Phase.ACTIVE
    clock.advance(1)
    assert s.tick() is Phase.WARNING


def test_wipe_turns_elder_mode_off_for_the_next_visitor(clock):
    s = session(clock)
    changes = []
    s.on("elder", changes.append)
    s.touch()
    s.set_elder(True)
    s.end("done")
    assert s.elder is False and changes == [True, False] and s.phase is Phase.HOME


def test_a_hold_keeps_the_visit_alive_until_released(clock):
    s = session(clock)
    s.touch()
    s.hold("payment")
    clock.advance(500)
    assert s.tick() is Phase.ACTIVE
    s.release("payment")
    clock.advance(89)
    assert s.tick() is Phase.ACTIVE
    clock.advance(1)
    assert s.tick() is Phase.WARNING


def test_a_late_tick_still_shows_the_whole_countdown(clock):
    s = session(clock)
    s.touch()
    clock.advance(500)  # the screen was busy; nobody has seen the warning yet
    assert s.tick() is Phase.WARNING
    assert s.seconds_left() == 30


def test_a_failing_wipe_listener_does_not_stop_the_others(clock):
    s = session(clock)
    seen = []
    s.on("wipe", lambda reason: 1 / 0)
    s.on("wipe", seen.append)
    s.touch()
    s.end("cancel")
    assert seen == ["cancel"] and s.phase is Phase.HOME


def test_unknown_event_names_are_refused(clock):
    with pytest.raises(ValueError, match="unknown session event"):
        session(clock).on("wiped", print)
