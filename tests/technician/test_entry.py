"""Technician entry: the hidden press, the PIN, the lockout after wrong PINs, and the way back (no display)."""
import pytest

from kiosk.core.staff import hash_pin
from kiosk.core.technician.mode import Phase, TechnicianMode
from tests.clocks import ManualClock

PIN = "135790"


@pytest.fixture(scope="module")
def hashes():
    return [hash_pin("24682468"), hash_pin(PIN)]


@pytest.fixture
def clock():
    return ManualClock()


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


class Book:
    """The lockout as the store keeps it (kiosk.core.technician.StoredLockout has the same two methods)."""

    def __init__(self):
        self.row = (0, 0.0)

    def load(self):
        return self.row

    def save(self, wrong, until):
        self.row = (wrong, until)


def test_a_lockout_survives_a_restart_of_the_ui(hashes, clock):
    book, wall = Book(), [1_700_000_000.0]

    def start():
        return TechnicianMode(hashes, wrong_before_lockout=3, lockout_s=300, clock=clock, lockout_book=book,
                              wall=lambda: wall[0])
    mode = start()
    hold(mode, clock, 5)
    for pin in ("000000", "111111", "222222"):
        mode.check_pin(pin)
    assert mode.locked_for() == 300
    wall[0] += 100
    clock.t = 5.0                        # a new process: the monotonic clock starts anew
    again = start()
    assert again.locked_for() == 200
    hold(again, clock, 5)
    wall[0] += 5
    r = again.check_pin(PIN)
    assert not r.ok and r.locked_for_s == 195
    wall[0] += 195
    clock.t += 195
    again.touch()
    assert again.check_pin(PIN).ok


def test_wrong_pins_short_of_a_lockout_are_remembered_over_a_restart(hashes, clock):
    book = Book()
    mode = TechnicianMode(hashes, wrong_before_lockout=3, clock=clock, lockout_book=book)
    hold(mode, clock, 5)
    mode.check_pin("000000")
    mode.check_pin("111111")
    again = TechnicianMode(hashes, wrong_before_lockout=3, clock=clock, lockout_book=book)
    hold(again, clock, 5)
    assert again.check_pin("222222").locked_for_s > 0


def test_a_wall_clock_set_back_does_not_lengthen_the_lockout(hashes, clock):
    book = Book()
    book.row = (0, 1_700_000_000.0 + 86_400)
    mode = TechnicianMode(hashes, lockout_s=300, clock=clock, lockout_book=book, wall=lambda: 1_700_000_000.0)
    assert mode.locked_for() == 300


def test_the_lockout_is_kept_in_the_store(tmp_path, hashes, clock):
    from kiosk.core.technician.mode import StoredLockout
    from kiosk.store import Store

    store = Store(tmp_path, "k1")
    mode = TechnicianMode(hashes, wrong_before_lockout=2, lockout_s=300, clock=clock,
                          lockout_book=StoredLockout(store.connect))
    hold(mode, clock, 5)
    mode.check_pin("000000")
    mode.check_pin("111111")
    restarted = TechnicianMode(hashes, wrong_before_lockout=2, lockout_s=300, clock=clock,
                               lockout_book=StoredLockout(Store(tmp_path, "k1").connect))
    assert 299 <= restarted.locked_for() <= 300
    restarted.clear_lockout()
    assert TechnicianMode(hashes, clock=clock, lockout_book=StoredLockout(store.connect)).locked_for() == 0
