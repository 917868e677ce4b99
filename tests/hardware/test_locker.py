"""The locker driver against the lock-board simulator, in virtual time: unlock confirmation, door states,
each injected fault (door does not open, door left open, board silent) and recovery, vendor settings."""
import threading

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kiosk.hardware.device import CancelToken, Completion, DeviceError, HealthPoller, State, VirtualClock
from kiosk.hardware.locker import LockBoard, Locker
from kiosk.sim import registry as sim_registry

H = bytes.fromhex


@pytest.fixture
def clock():
    sim_registry.reset_simulators()
    yield VirtualClock()
    sim_registry.reset_simulators()


@pytest.fixture
def make(clock):
    opened = []

    def _make(protocol="lock8a", boards=((1, 24),), sim_boards=None, wiring=None, **kw):
        sim = sim_registry.simulator("locker", clock)
        sim.configure(protocol, list(sim_boards or boards), **(wiring or {}))
        board_objs = [b if isinstance(b, LockBoard) else LockBoard(*b) for b in boards]
        locker = Locker("locker", "sim://locker", board_objs, protocol, clock=clock, **kw)
        opened.append(locker)
        return locker, sim

    yield _make
    for locker in opened:
        locker.close()


# --- unlock ----------------------------------------------------------------------------------------

def test_unlock_sends_the_8a_frame_and_is_confirmed_by_the_door_reporting_open(make, clock):
    locker, sim = make()
    start = clock.monotonic()
    state = locker.open_door(3)
    assert state.door == 3 and not state.closed
    assert sim.requests[0] == H("8A 01 03 11 99")
    assert sim.is_open(3)
    assert clock.monotonic() - start == pytest.approx(1.0, abs=0.05)   # the lock pulse


def test_kerong_unlock_sends_the_kerong_frame_and_reports_the_item_sensor(make):
    locker, sim = make("kerong", boards=((0, 16),))
    sim.set_item(1, True)
    state = locker.open_door(1)
    assert sim.requests[0] == H("02 00 31 03 36")
    assert (state.closed, state.item_present) == (False, True)


def test_doors_are_numbered_across_boards_in_config_order(make):
    locker, sim = make(boards=((2, 24), (1, 8)))
    locker.open_door(26)          # board 1 (listed second), lock 2
    assert sim.requests[-1][:3] == H("8A 01 02")
    assert sim.board(1).opened == {2} and sim.board(2).opened == set()
    assert locker.door_count == 32


def test_a_door_opened_by_unlock_stays_open_until_closed(make):
    locker, sim = make()
    locker.open_door(5)
    assert locker.door_state(5).closed is False
    assert locker.status().detail == "door_open:5"
    sim.close_door(5)
    assert locker.door_state(5).closed is True
    assert locker.status().detail == ""


def test_a_door_that_does_not_open_is_a_hardware_error_naming_the_door(make, clock):
    locker, sim = make()
    sim.jam(7)
    start = clock.monotonic()
    with pytest.raises(DeviceError) as err:
        locker.open_door(7)
    assert err.value.completion is Completion.HARDWARE_ERROR
    assert err.value.detail == "door_not_opened:7"
    assert "door 7" in err.value.message
    # the unlock answer (1 s) then the named open_confirm timeout (3 s), never longer
    assert clock.monotonic() - start <= 1.0 + 3.0 + 0.5
    sim.jam(7, False)
    assert locker.open_door(7).closed is False   # recovers once the lock is freed


def test_open_confirm_timeout_is_configurable_by_name(make, clock):
    locker, sim = make(timeouts={"open_confirm": 0.5})
    sim.jam(2)
    start = clock.monotonic()
    with pytest.raises(DeviceError):
        locker.open_door(2)
    assert clock.monotonic() - start <= 1.0 + 0.5 + 0.5


def test_an_unknown_timeout_name_is_refused_with_the_known_names():
    with pytest.raises(ValueError, match="open_confirm"):
        Locker("locker", "sim://locker", [LockBoard(1, 24)], "lock8a", timeouts={"open_confirmm": 2},
               transport=object())


def test_a_door_left_open_shows_in_status_and_door_states(make):
    locker, sim = make()
    sim.open_door(9)
    sim.open_door(12)
    assert locker.status().state is State.ONLINE
    assert locker.status().detail == "door_open:9,12"
    assert [s.door for s in locker.door_states() if not s.closed] == [9, 12]


def test_a_door_number_outside_the_locker_is_a_user_error(make):
    locker, _ = make()
    with pytest.raises(DeviceError) as err:
        locker.open_door(25)
    assert err.value.completion is Completion.USER_ERROR
    assert "1-24" in err.value.message


# --- a silent board --------------------------------------------------------------------------------

def test_a_silent_board_is_offline_no_answer_and_recovers(make):
    locker, sim = make()
    sim.silence(1)
    assert locker.status().as_dict() == {"state": "offline", "detail": "no_answer"}
    with pytest.raises(DeviceError) as err:
        locker.open_door(1)
    assert err.value.detail == "no_answer" and "board 1" in err.value.message
    assert not sim.is_open(1)
    sim.silence(1, False)
    assert locker.status().state is State.ONLINE
    assert locker.open_door(1).closed is False


def test_one_silent_board_of_two_names_that_board(make):
    locker, sim = make(boards=((1, 24), (2, 24)))
    sim.silence(2)
    with pytest.raises(DeviceError) as err:
        locker.door_states()
    assert err.value.detail == "no_answer" and "2" in err.value.message
    assert locker.door_state(3).closed is True    # board 1 still works
    assert locker.self_test().ok is False


def test_kerong_whole_bus_query_collects_every_board_and_notices_a_silent_one(make):
    locker, sim = make("kerong", boards=((0, 16), (1, 8)))
    sim.set_item(17, True)
    states = locker.door_states()
    assert sim.requests[-1] == H("02 F0 32 03 27")
    assert len(states) == 24 and states[16].item_present is True
    sim.silence(1)
    assert locker.status().detail == "no_answer"


def test_health_poller_publishes_only_changes(make):
    locker, sim = make()
    seen = []
    poller = HealthPoller(locker, listeners=[lambda dev, status: seen.append(status.as_dict())])
    poller.poll_once()
    poller.poll_once()
    sim.silence(1)
    poller.poll_once()
    poller.poll_once()
    sim.silence(1, False)
    poller.poll_once()
    assert seen == [{"state": "online", "detail": ""}, {"state": "offline", "detail": "no_answer"},
                    {"state": "online", "detail": ""}]


# --- vendor differences as settings ----------------------------------------------------------------

def test_boards_wired_the_other_way_read_right_with_their_settings(make):
    wiring = {"open_status": 0x00, "closed_bit": 0}
    board = LockBoard(1, 24, open_status=0x00, closed_bit=0)
    locker, sim = make(boards=(board,), sim_boards=((1, 24),), wiring=wiring)
    assert all(s.closed for s in locker.door_states())
    assert locker.open_door(4).closed is False
    assert [s.door for s in locker.door_states() if not s.closed] == [4]


def test_boards_wired_the_other_way_with_default_settings_look_all_open(make):
    # the symptom a technician sees when open_status/closed_bit do not match the board
    locker, sim = make(sim_boards=((1, 24),), wiring={"open_status": 0x00, "closed_bit": 0})
    assert locker.status().detail.startswith("door_open:1,2,3")


def test_a_board_answering_with_the_8a_header_is_accepted_and_can_be_refused_by_setting(make):
    locker, sim = make(wiring={"reply_header": 0x8A})
    assert locker.open_door(2).closed is False
    locker.close()
    sim_registry.reset_simulators()
    strict, sim = make(boards=(LockBoard(1, 24, reply_headers=(0x80,)),), sim_boards=((1, 24),),
                       wiring={"reply_header": 0x8A})
    assert strict.status().detail == "no_answer"


def test_kerong_usual_baud_rate_is_19200_and_8a_is_9600(make):
    kerong, _ = make("kerong", boards=((0, 16),))
    assert kerong.baudrate == 19200
    kerong.close()
    sim_registry.reset_simulators()
    assert make()[0].baudrate == 9600


# --- the bus ---------------------------------------------------------------------------------------

class ScriptedPort:
    """A bus that answers from a script; records writes and flushes."""

    url = "scripted"

    def __init__(self, clock, answers, echo=False):
        self.clock = clock
        self.echo = echo
        self.answers = list(answers)
        self.log = []
        self.pending = b""

    def write(self, data):
        self.log.append(("write", bytes(data)))
        self.pending = (bytes(data) if self.echo else b"") + (self.answers.pop(0) if self.answers else b"")

    def read(self, size, timeout):
        if self.pending:
            out, self.pending = self.pending[:size], self.pending[size:]
            return out
        self.clock.advance(timeout)
        return b""

    def flush_input(self):
        self.log.append(("flush", b""))
        self.pending = b""

    def close(self):
        pass


def test_input_is_flushed_before_every_command_and_stray_bytes_are_skipped():
    clock = VirtualClock()
    port = ScriptedPort(clock, [H("FF 00 80") + H("80 01 03 00 82")])
    locker = Locker("locker", "scripted", [LockBoard(1, 24)], "lock8a", clock=clock, transport=port)
    assert locker.door_state(3).closed is True
    assert [kind for kind, _ in port.log] == ["flush", "write"]


def test_local_echo_of_the_request_is_not_taken_for_the_answer():
    clock = VirtualClock()
    # the adapter hears "8A 01 01 11 9B"; with the echo header that is also what an open door answers,
    # but the board says the door stayed closed
    port = ScriptedPort(clock, [H("80 01 01 00 80")] * 40, echo=True)
    locker = Locker("locker", "scripted", [LockBoard(1, 24)], "lock8a", clock=clock, transport=port,
                    local_echo=True, timeouts={"open_confirm": 1.0})
    with pytest.raises(DeviceError) as err:
        locker.open_door(1)
    assert err.value.detail == "door_not_opened:1"
    port.answers = [H("80 01 01 11 91")]
    assert locker.door_state(1).closed is False


def test_commands_from_several_threads_never_interleave_on_the_bus(make):
    locker, sim = make()
    sim.unlock_delay = 0.0
    errors = []

    def work(door):
        try:
            for _ in range(5):
                locker.door_state(door)
        except Exception as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(d,)) for d in (1, 2, 3, 4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(10)
    assert not errors
    assert len(sim.requests) == 20


def test_cancel_stops_the_wait_for_an_open_door(make):
    locker, sim = make()
    sim.jam(6)
    token = CancelToken()
    token.cancel()
    with pytest.raises(DeviceError) as err:
        locker.open_door(6, cancel=token)
    assert err.value.completion is Completion.CANCELED


def test_wait_closed_reports_when_the_citizen_shuts_the_door(make, clock):
    locker, sim = make()
    locker.open_door(8)
    assert locker.wait_closed(8, timeout=2.0) is False
    sim.close_door(8)
    assert locker.wait_closed(8, timeout=2.0) is True


@settings(max_examples=150, deadline=None)
@given(st.lists(st.binary(max_size=20), max_size=6), st.sampled_from(["lock8a", "kerong"]))
def test_a_bus_answering_garbage_gives_only_device_errors_in_bounded_time(answers, protocol):
    clock = VirtualClock()
    port = ScriptedPort(clock, answers * 50)
    boards = [LockBoard(1, 24)] if protocol == "lock8a" else [LockBoard(0, 16)]
    locker = Locker("locker", "scripted", boards, protocol, clock=clock, transport=port)
    start = clock.monotonic()
    for action in (lambda: locker.open_door(1), locker.door_states, lambda: locker.door_state(2)):
        try:
            action()
        except DeviceError:
            pass
    locker.status()
    assert clock.monotonic() - start < 30


@settings(max_examples=150, deadline=None)
@given(st.binary(max_size=64))
def test_the_simulator_survives_any_bytes(data):
    from kiosk.sim.locker import LockerSimulator

    sim = LockerSimulator(VirtualClock())
    sim.receive(data)
    sim.receive(data[::-1])
