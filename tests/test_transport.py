"""Transports: simulator ports in virtual and real time, fragments, one owner per port."""
import pytest

from kiosk.hardware import transport
from kiosk.hardware.device import DeviceError, VirtualClock
from kiosk.hardware.transport import read_exactly
from kiosk.sim.base import SimPort, Simulator


class Echo(Simulator):
    """Answers each write with the same bytes, `delay` seconds later, in two fragments."""

    delay = 0.0

    def receive(self, data):
        half = len(data) // 2
        self.emit(data[:half], self.delay)
        self.emit(data[half:], self.delay)


def test_fragments_are_gathered_into_one_read_exactly():
    clock = VirtualClock()
    port = SimPort("sim://echo-a", Echo(clock), "test")
    port.write(b"\x01\x02\x03\x04")
    assert read_exactly(port, 4, 1.0, clock) == b"\x01\x02\x03\x04"
    port.close()


def test_a_late_answer_times_out_in_virtual_time_without_sleeping():
    clock = VirtualClock()
    sim = Echo(clock)
    sim.delay = 90.0
    port = SimPort("sim://echo-b", sim, "test")
    start = clock.monotonic()
    port.write(b"ab")
    assert read_exactly(port, 2, 60.0, clock) == b""
    assert clock.monotonic() - start == pytest.approx(60.0)
    assert read_exactly(port, 2, 60.0, clock) == b"ab"
    assert clock.monotonic() - start == pytest.approx(90.0)
    port.close()


def test_real_time_simulator_answers_promptly():
    port = SimPort("sim://echo-c", Echo(), "test")
    port.write(b"xyz")
    assert read_exactly(port, 3, 2.0) == b"xyz"
    port.close()


def test_a_port_has_one_owner():
    port = SimPort("sim://echo-d", Echo(), "first")
    with pytest.raises(DeviceError, match="already used by first"):
        SimPort("sim://echo-d", Echo(), "second")
    port.close()
    SimPort("sim://echo-d", Echo(), "second").close()


def test_a_missing_serial_device_is_no_device():
    with pytest.raises(DeviceError) as err:
        transport.open_port("/dev/kiosk-does-not-exist", 9600, "locker")
    assert err.value.detail == "no_device"


def test_pyserial_loop_url_round_trip():
    port = transport.open_port("loop://", 9600, "loop")
    port.write(b"\xaa\x55")
    assert read_exactly(port, 2, 1.0) == b"\xaa\x55"
    port.close()
