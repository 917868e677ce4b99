"""The agent's loop with everything injected: start jitter, recovery, one task failing never stops the others."""
import random

import pytest

from kiosk import store
from kiosk.sync.agent import Agent
from kiosk.sync.client import CentralOffline
from kiosk.sync.outbox import Outbox
from kiosk.sync.relay import StepResult
from kiosk.sync.state import SyncState


class ScriptedStop:
    """Stands in for threading.Event: records each wait and stops after `rounds` of them."""

    def __init__(self, rounds):
        self.rounds, self.waits = rounds, []

    def is_set(self):
        return len(self.waits) >= self.rounds

    def wait(self, timeout):
        self.waits.append(timeout)
        return self.is_set()


class Relay:
    idle_wait_s = 5.0

    def __init__(self):
        self.steps = 0

    def step(self):
        self.steps += 1
        return StepResult(wait_s=5.0)


class Task:
    def __init__(self, fail=None):
        self.calls, self.fail = 0, fail

    def send(self):
        self.calls += 1
        if self.fail:
            raise self.fail

    pull = send


@pytest.fixture
def outbox(tmp_path):
    conn = store.connect(tmp_path / "kiosk.db")
    store.migrate(conn)
    yield Outbox(conn)
    conn.close()


def test_the_first_contact_waits_a_random_part_of_the_start_jitter(outbox):
    firsts = set()
    for seed in range(5):
        stop, relay = ScriptedStop(1), Relay()
        Agent(relay, outbox, SyncState(outbox.conn), start_jitter_s=30, rng=random.Random(seed), stop=stop).run()
        assert relay.steps == 0 and 0 <= stop.waits[0] <= 30
        firsts.add(round(stop.waits[0], 3))
    assert len(firsts) == 5  # kiosks booted together do not call at the same instant


def test_rows_left_inflight_are_pending_again_when_the_agent_starts(outbox):
    outbox.record("probe", {})
    outbox.claim(1)
    Agent(Relay(), outbox, SyncState(outbox.conn), stop=ScriptedStop(0)).run()
    assert outbox.summary().counts["pending"] == 1


def test_a_failing_heartbeat_or_catalog_does_not_stop_the_relay(outbox):
    relay, clock = Relay(), [0.0]
    beat, catalog = Task(CentralOffline("down")), Task(RuntimeError("bug"))

    class Stop(ScriptedStop):
        def wait(self, timeout):
            clock[0] += timeout
            return super().wait(timeout)
    stop = Stop(5)  # the start jitter (0 s here), then four rounds of 5 s
    Agent(relay, outbox, SyncState(outbox.conn), heartbeat=beat, heartbeat_interval_s=5, catalog=catalog,
          catalog_interval_s=10, monotonic=lambda: clock[0], stop=stop).run()
    assert relay.steps == 4 and beat.calls == 4 and catalog.calls == 2


def test_the_agent_and_sync_modules_never_load_a_device_driver_or_kivy():
    """The masks (kiosk.hardware.masking, standard library only) are the one part of hardware
    the log redaction shares; no driver, transport or simulator comes with them."""
    import subprocess
    import sys
    code = ("import sys, kiosk.commands.agent, kiosk.commands.sync, kiosk.commands.queue, kiosk.core.guides.catalog;"
            "print(','.join(sorted(m for m in sys.modules if m.split('.')[0] in ('kivy', 'serial', 'escpos', 'usb')"
            " or (m.startswith(('kiosk.hardware', 'kiosk.screens'))"
            " and m not in ('kiosk.hardware', 'kiosk.hardware.masking')))))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == ""


def test_the_watchdog_is_beaten_through_long_waits_in_slices(outbox):
    """A 30 s jitter and 5 s relay waits with a 2 s beat interval: no wait longer than 2 s, a beat before each."""
    beats, clock = [], [0.0]
    stop = ScriptedStop(rounds=40)
    real_wait = stop.wait

    def wait(timeout):
        clock[0] += timeout
        return real_wait(timeout)

    stop.wait = wait
    agent = Agent(Relay(), outbox, SyncState(outbox.conn), start_jitter_s=30.0, rng=random.Random(1),
                  monotonic=lambda: clock[0], stop=stop, beat=lambda: beats.append(clock[0]), beat_interval_s=2.0)
    agent.run()
    assert stop.waits and max(stop.waits) <= 2.0
    assert len(beats) >= len(stop.waits)
