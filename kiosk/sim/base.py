"""The simulators' base and the port onto one: bytes in, timed bytes out, in the process.

A `Simulator` speaks a device's real wire protocol; a `SimPort` is the
`Port` (kiosk/hardware/transport.py) a driver talks through to reach it, so
the driver under test is the driver that talks to hardware. Moved out of
the transport: the hardware layer knows no simulator.
"""
from __future__ import annotations

import threading
from collections import deque

from kiosk.hardware.device import SYSTEM_CLOCK, DeviceClock, VirtualClock
from kiosk.hardware.transport import claim_port, hex_dump, release_port, shown, wire


class Simulator:
    """Base of the built-in device simulators: bytes in, timed bytes out.

    A subclass implements `receive(data)` (called with whatever the driver
    wrote, possibly in fragments) and calls `emit(data, delay)` to answer.
    Simulators speak the device's real wire protocol; their control methods
    (insert a card, jam a door, run out of paper) are the fault injection used
    by tests, the tour and the technician screen.
    """

    def __init__(self, clock: DeviceClock = SYSTEM_CLOCK):
        self.clock = clock
        self._out: deque[tuple[float, bytes]] = deque()
        self._cond = threading.Condition()

    def receive(self, data: bytes) -> None:
        raise NotImplementedError

    def emit(self, data: bytes, delay: float = 0.0) -> None:
        """Queue `data` to reach the host `delay` seconds from now."""
        with self._cond:
            due = self.clock.monotonic() + delay
            # keep bytes in order even when a later answer has a shorter delay
            if self._out and self._out[-1][0] > due:
                due = self._out[-1][0]
            self._out.append((due, data))
            self._cond.notify_all()

    def discard_output(self) -> None:
        with self._cond:
            self._out.clear()

    def pending_output(self) -> bool:
        with self._cond:
            return bool(self._out)

    def take(self, size: int, timeout: float) -> bytes:
        """What the host reads: waits on the simulator's clock, virtual or real."""
        clock = self.clock
        deadline = clock.monotonic() + timeout
        with self._cond:
            while True:
                now = clock.monotonic()
                if self._out and self._out[0][0] <= now:
                    return self._pop(size, now)
                if isinstance(clock, VirtualClock):
                    # virtual time: jump to the next answer, or to the deadline
                    nxt = self._out[0][0] if self._out else None
                    if nxt is not None and nxt <= deadline:
                        clock.advance(nxt - now)
                        continue
                    clock.advance(max(0.0, deadline - now))
                    return b""
                if now >= deadline:
                    return b""
                wait = deadline - now
                if self._out:
                    wait = min(wait, self._out[0][0] - now)
                self._cond.wait(max(0.001, wait))

    def _pop(self, size: int, now: float) -> bytes:
        out = bytearray()
        while self._out and self._out[0][0] <= now and len(out) < size:
            due, chunk = self._out.popleft()
            take = size - len(out)
            out += chunk[:take]
            if len(chunk) > take:
                self._out.appendleft((due, chunk[take:]))
        return bytes(out)


class SimPort:
    """A `Port` connected to an in-process simulator."""

    private = False  # as SerialPort.private

    def __init__(self, url: str, simulator: Simulator, owner: str):
        self.url = url
        self.owner = owner
        self.simulator = simulator
        claim_port(url, owner)

    def write(self, data: bytes) -> None:
        wire.debug("%s > %s", self.owner, hex_dump(data))
        self.simulator.receive(bytes(data))

    def read(self, size: int, timeout: float) -> bytes:
        data = self.simulator.take(size, timeout)
        if data:
            wire.debug("%s < %s", self.owner, shown(self, data))
        return data

    def flush_input(self) -> None:
        self.simulator.discard_output()

    def close(self) -> None:
        release_port(self.url)
