"""The SAM reader driver against its simulator: the read flow, faults a technician would see, recovery."""
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kiosk.hardware.device import CancelToken, Completion, DeviceError, State, VirtualClock
from kiosk.hardware.idcard import FIND_CARD, READ_TEXT_PHOTO, SELECT_CARD, CardType, SamReader
from kiosk.sim import idcard as sim_idcard
from kiosk.sim import registry as sim_registry


@pytest.fixture
def clock():
    return VirtualClock()


@pytest.fixture
def sim(clock):
    sim_registry.reset_simulators()
    yield sim_registry.simulator("idcard", clock)
    sim_registry.reset_simulators()


@pytest.fixture
def reader(sim, clock):
    r = SamReader("idcard", "sim://idcard", clock=clock)
    yield r
    r.close()


def test_default_simulator_has_the_demo_card_and_it_reads(reader, sim):
    card = reader.read_card(5)
    assert card.card_type is CardType.RESIDENT
    assert card.id_checksum_ok is True and len(card.photo) == 1024
    assert sim.requests[-3:] == [FIND_CARD, SELECT_CARD, READ_TEXT_PHOTO]


def test_a_card_left_on_the_reader_needs_find_and_select_again(reader, sim):
    reader.read_card(5)
    with pytest.raises(DeviceError) as err:
        reader.read()          # no find + select: the reader refuses
    assert err.value.detail == "read_failed"
    assert reader.find() and reader.select()
    assert reader.read().id_number == sim.card.id_number


def test_fingerprint_is_read_only_when_asked(reader):
    assert reader.read_card(5).fingerprint is None
    assert len(reader.read_card(5, fingerprint=True).fingerprint) == 1024


def test_no_card_times_out_in_virtual_time_with_no_card(reader, sim, clock):
    sim.remove_card()
    start = clock.monotonic()
    with pytest.raises(DeviceError) as err:
        reader.read_card(90)
    assert (err.value.completion, err.value.detail) == (Completion.TIMEOUT, "no_card")
    assert 89 <= clock.monotonic() - start <= 91
    sim.insert_card()
    assert reader.read_card(5).name == "张示例"


def test_a_canceled_wait_stops_with_canceled(reader, sim):
    sim.remove_card()
    token = CancelToken()
    token.cancel()
    with pytest.raises(DeviceError) as err:
        reader.read_card(60, cancel=token)
    assert err.value.completion is Completion.CANCELED


@pytest.mark.parametrize("name, card_type", [
    ("hk_mo_tw", CardType.HK_MO_TW_RESIDENCE), ("foreign_old", CardType.FOREIGN_PERMANENT),
    ("foreign_2023", CardType.FOREIGN_PERMANENT_2023), ("long_term", CardType.RESIDENT),
])
def test_every_injectable_card_type_reads(reader, sim, name, card_type):
    sim.insert_card(name)
    card = reader.read_card(5)
    assert card.card_type is card_type
    assert card.birth_date_ok


def test_injected_wrong_check_digit_card_reads_with_the_check_failed(reader, sim):
    sim.insert_card("wrong_check_digit")
    assert reader.read_card(5).id_checksum_ok is False


def test_injected_expired_card_reads_as_expired(reader, sim):
    import datetime as dt

    sim.insert_card("expired")
    card = reader.read_card(5)
    assert card.expired(dt.date(2021, 1, 1))
    assert "expired" in card.masked(dt.date(2021, 1, 1))["problems"]


def test_every_demo_identity_is_consistent():
    # synthetic identities: valid check digit and birth date unless the card is meant to be wrong
    from kiosk.hardware.idcard import parse_card

    for name, make in sim_idcard.CARDS.items():
        c = make()
        card = parse_card(c.text_block(), c.photo)
        assert card.birth_date_ok, name
        assert card.id_checksum_ok is (False if name == "wrong_check_digit" else
                                       None if name == "foreign_old" else True), name


@pytest.mark.parametrize("fault, state, detail", [
    ("silent", State.OFFLINE, "no_answer"),
    ("slow", State.OFFLINE, "no_answer"),
    ("garbage", State.HARDWARE_ERROR, "bad_frames"),
    ("bad_checksum", State.HARDWARE_ERROR, "bad_frames"),
    ("bad_length", State.HARDWARE_ERROR, "bad_frames"),
])
def test_a_faulty_reader_shows_the_expected_status_and_recovers_when_it_clears(reader, sim, fault, state, detail):
    sim.set_fault(fault)
    status = reader.status()
    assert (status.state, status.detail) == (state, detail)
    with pytest.raises(DeviceError) as err:
        reader.read_card(3)
    assert err.value.detail == detail
    assert not reader.self_test().ok
    sim.set_fault(None)
    assert reader.status().state is State.ONLINE
    assert reader.read_card(3).id_checksum_ok


@pytest.mark.parametrize("fault", ["bad_checksum", "garbage", "bad_length"])
def test_one_bad_answer_is_retried_transparently(reader, sim, fault):
    sim.set_fault(fault, count=1)
    assert reader.read_card(3).card_type is CardType.RESIDENT


@pytest.mark.parametrize("fault", ["noise", "fragmented"])
def test_noise_before_the_preamble_and_fragments_are_tolerated(reader, sim, fault):
    sim.set_fault(fault)
    assert reader.status().state is State.ONLINE
    assert reader.read_card(3, fingerprint=True).fingerprint is not None


def test_sam_self_test_failure_is_a_hardware_error(reader, sim):
    sim.set_sam_fault(0x60)
    status = reader.status()
    assert (status.state, status.detail) == (State.HARDWARE_ERROR, "sam_self_test_failed")
    sim.set_sam_fault(None)
    assert reader.self_test().ok


def test_sam_id_and_reset(reader):
    assert reader.sam_id() == "05010000202301010000004200000017"
    reader.reset_sam()


def test_appended_address_is_empty_without_one_and_read_when_present(reader, sim):
    assert reader.read_address() == ""
    sim.appended_address = "北京市海淀区示例路2号"
    assert reader.read_address() == "北京市海淀区示例路2号"


def test_status_while_reading_is_busy_without_touching_the_port(reader, sim):
    with reader._lock:
        assert reader.status().state is State.BUSY


def test_a_missing_reader_port_is_no_device():
    with pytest.raises(DeviceError) as err:
        SamReader("idcard", "/dev/kiosk-idreader-absent")
    assert err.value.detail == "no_device"


class RandomPort:
    """A port that answers whatever hypothesis says, in virtual time."""

    url = "fuzz://"

    def __init__(self, chunks, clock):
        self.chunks, self.clock = list(chunks), clock

    def write(self, data):
        pass

    def read(self, size, timeout):
        if self.chunks:
            return self.chunks.pop(0)[:max(1, size)]
        self.clock.advance(timeout)
        return b""

    def flush_input(self):
        pass

    def close(self):
        pass


@settings(max_examples=150, deadline=None, derandomize=True)
@given(st.lists(st.binary(min_size=1, max_size=40), max_size=30))
def test_a_reader_answering_random_bytes_gives_only_device_errors_in_bounded_time(chunks):
    clock = VirtualClock()
    reader = SamReader("idcard", "fuzz://", clock=clock, transport=RandomPort(chunks, clock))
    start = clock.monotonic()
    try:
        reader.read_card(5)
    except DeviceError:
        pass
    status = reader.status()
    assert status.state in set(State)
    assert clock.monotonic() - start < 60


def test_the_wire_log_shows_card_replies_by_size_only(reader, sim, caplog):
    import logging

    with caplog.at_level(logging.DEBUG, logger="kiosk.wire"):
        reader.read_card(5)
    assert "aa aa aa 96 69 00 03 30 01 32" in caplog.text          # what the host sends is shown
    assert "bytes of personal data" in caplog.text
    for secret in (sim.card.name, sim.card.id_number):
        assert secret.encode("utf-16-le").hex(" ") not in caplog.text


def test_a_port_that_fails_is_reopened_on_the_next_command_even_if_closing_it_failed(sim, clock):
    from kiosk.hardware.transport import ReopeningPort

    port = ReopeningPort("sim://idcard", 115200, "idcard", clock)
    reader = SamReader("idcard", "sim://idcard", clock=clock, transport=port)
    inner = port._port

    def broken_write(data):
        raise DeviceError("idcard", Completion.HARDWARE_ERROR, "write failed", "no_answer")

    def broken_close():
        raise OSError("handle already dead")

    inner.write, inner.close = broken_write, broken_close
    status = reader.status()
    assert (status.state, status.detail) == (State.OFFLINE, "no_answer")
    assert port._port is not inner                 # the dead handle was dropped and its claim released
    assert reader.read_card(3).card_type is CardType.RESIDENT
    reader.close()
