"""Technician entry: the hidden press, the PIN, the lockout after wrong PINs, and the way back (no display)."""
import pytest

from kiosk.core.staff import hash_pin
from kiosk.core.technician import Phase, TechnicianMode

PIN = "135790"


class Clock:
    def __init__(self):
        self.t = 1000.0

    def __call__(self):
        return self.t


@pytest.fixture(scope="module")
def hashes():
    return [hash_pin("24682468"), hash_pin(PIN)]


@pytest.fixture
def clock():
    return Clock()


@pytest.fixture
def mode(hashes, clock):
    return TechnicianMode(hashes, hold_s=5, wrong_before_lockout=3, lockout_s=300, idle_timeout_s=120,
                          pin_idle_s=60, clock=clock)


def hold(mode, clock, seconds):
    mode.press()
    clock.t += seconds
    return mode.release()


def test_a_short_press_on_the_corner_does_nothing(mode, clock):
    assert not hold(mode, clock, 4.9)
    assert mode.phase is Phase.CLOSED


def test_a_five_second_press_opens_the_pin_pad_while_the_finger_is_still_down(mode, clock):
    mode.press()
    clock.t += 5
    assert mode.poll()
    assert mode.phase is Phase.PIN
    assert not mode.release()          # once only


def test_the_right_pin_opens_the_mode_and_any_listed_hash_matches(mode, clock):
    opened = []
    mode.on("open", lambda: opened.append(True))
    hold(mode, clock, 5)
    assert mode.check_pin(PIN).ok
    assert mode.phase is Phase.OPEN and mode.panel == "devices" and opened


def test_a_pin_is_not_checked_unless_the_pad_was_opened_by_the_press(mode):
    assert not mode.check_pin(PIN).ok
    assert mode.phase is Phase.CLOSED


def test_wrong_pins_lock_entry_for_the_lockout_even_for_the_right_pin(mode, clock):
    hold(mode, clock, 5)
    assert mode.check_pin("000000").tries_left == 2
    assert mode.check_pin("111111").tries_left == 1
    locked = mode.check_pin("222222")
    assert not locked.ok and locked.locked_for_s == 300
    clock.t += 299
    r = mode.check_pin(PIN)
    assert not r.ok and r.locked_for_s == 1
    clock.t += 1
    mode.touch()
    assert mode.check_pin(PIN).ok


def test_idle_in_the_mode_returns_to_the_citizens(mode, clock):
    closed = []
    mode.on("close", closed.append)
    hold(mode, clock, 5)
    mode.check_pin(PIN)
    clock.t += 119
    assert mode.tick() is Phase.OPEN
    mode.show("system")
    clock.t += 119
    assert mode.tick() is Phase.OPEN
    clock.t += 1
    assert mode.tick() is Phase.CLOSED and closed == ["idle"]


def test_an_abandoned_pin_pad_closes_after_its_own_idle_time(mode, clock):
    hold(mode, clock, 5)
    clock.t += 60
    assert mode.tick() is Phase.CLOSED


def test_leaving_returns_to_the_citizens(mode, clock):
    hold(mode, clock, 5)
    mode.check_pin(PIN)
    mode.leave("done")
    assert mode.phase is Phase.CLOSED
    assert not hold(mode, clock, 1)


def test_no_pin_configured_means_no_way_in(clock):
    mode = TechnicianMode([], clock=clock)
    hold(mode, clock, 5)
    r = mode.check_pin("135790")
    assert not r.ok and not r.configured and mode.phase is Phase.PIN


def test_a_malformed_pin_hash_is_refused_at_start(clock):
    from kiosk.core.staff import PinError

    with pytest.raises(PinError):
        TechnicianMode(["scrypt$garbage"], clock=clock)
