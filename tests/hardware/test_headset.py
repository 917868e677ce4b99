"""The headset jack (kiosk/hardware/headset.py): the kernel's `struct input_event` stream, written byte for
byte into a FIFO that stands in for /dev/input/eventN (this machine has no sound card), and the refusals
of a path that is no jack.
"""
from __future__ import annotations

import logging
import os
import queue
import struct
import threading

import pytest

from kiosk.hardware.headset import (EV_SW, EV_SYN, EVENT, SW_HEADPHONE_INSERT, SYN_DROPPED, SYN_REPORT,
                                    HeadsetJack, JackError, event, plugged_events)


def test_an_input_event_is_the_kernels_24_bytes():
    # struct input_event on a 64-bit kernel: timeval (two longs), __u16 type, __u16 code, __s32 value
    assert EVENT.size == 24
    raw = event(EV_SW, SW_HEADPHONE_INSERT, 1, seconds=1700000000)
    assert raw == struct.pack("<qqHHi", 1700000000, 0, 0x05, 0x02, 1)
    assert plugged_events(False)[-8:] == struct.pack("<HHi", EV_SYN, SYN_REPORT, 0)


def test_a_switch_counts_when_its_report_ends_and_other_switches_are_not_the_headset():
    jack = HeadsetJack("/dev/input/event-test")
    pending: dict = {}
    assert jack.feed(event(EV_SW, SW_HEADPHONE_INSERT, 1), pending) is None     # not yet: no SYN_REPORT
    assert jack.feed(event(EV_SYN, SYN_REPORT, 0), pending) is True
    assert jack.feed(event(EV_SW, 0x04, 1) + event(EV_SYN, SYN_REPORT, 0), pending) is None  # the microphone
    assert jack.feed(event(EV_SW, SW_HEADPHONE_INSERT, 0) + event(EV_SYN, SYN_DROPPED, 0), pending) is None
    assert pending == {}, "events were dropped: the half report is forgotten, not applied"
    with pytest.raises(JackError, match=r"a read of 10 bytes is not whole input events \(24 bytes each\)"):
        jack.feed(b"\x00" * 10, pending)


@pytest.fixture
def fifo(tmp_path):
    path = tmp_path / "jack-event"
    os.mkfifo(path)
    return path


def _writer(path) -> int:
    return os.open(path, os.O_WRONLY)


def _until(condition, timeout: float = 10.0) -> None:
    """Wait until the jack's thread has done something the test can see (a log line), at most `timeout`."""
    done = threading.Event()
    for _ in range(int(timeout / 0.01)):
        if condition():
            return
        done.wait(0.01)
    raise AssertionError("the jack's thread did not get there")


def test_plugging_in_and_out_through_the_fifo_even_split_across_writes(fifo, caplog):
    seen: queue.Queue = queue.Queue()
    jack = HeadsetJack(str(fifo), reopen_s=0.05)
    jack.start(seen.put)
    try:
        assert jack.plugged is False                   # a FIFO has no state to ask: empty until told
        w = _writer(fifo)
        os.write(w, plugged_events(True))
        assert seen.get(timeout=10) is True and jack.plugged
        out = plugged_events(False)
        os.write(w, out[:10])                          # a writer may split an event; a device never does
        os.write(w, out[10:])
        assert seen.get(timeout=10) is False
        os.write(w, plugged_events(False))             # the same state again: no call
        os.close(w)                                    # the writer goes: not a headset taken out
        w = _writer(fifo)
        os.write(w, b"\x01" * 10)                      # not a whole event, then the writer goes
        os.close(w)
        _until(lambda: any("is not whole input events" in r.getMessage() for r in caplog.records))
        w = _writer(fifo)
        os.write(w, plugged_events(True))
        assert seen.get(timeout=10) is True
        os.close(w)
    finally:
        jack.close()
    assert seen.empty()
    assert any("is not whole input events" in r.getMessage() and "[voice] headset_jack" in r.getMessage()
               for r in caplog.records if r.levelno == logging.WARNING)


def test_a_jack_not_there_yet_is_named_once_then_found(tmp_path, caplog):
    path = tmp_path / "later-event"
    seen: queue.Queue = queue.Queue()
    jack = HeadsetJack(str(path), reopen_s=0.05)
    with caplog.at_level(logging.WARNING, logger="kiosk.hardware.headset"):
        jack.start(seen.put)
        try:
            assert jack.plugged is False
            os.mkfifo(path)
            w = _writer(path)                          # waits until the jack's thread has opened it
            os.write(w, plugged_events(True))
            assert seen.get(timeout=10) is True
            os.close(w)
        finally:
            jack.close()
    missing = [r.getMessage() for r in caplog.records if "No such file" in r.getMessage()]
    assert len(missing) == 1, "said once, not every 0.05 s"
    assert "set [voice] headset_jack to the sound card's jack device" in missing[0]


def test_what_is_not_a_jack_is_refused_with_what_to_set(tmp_path):
    plain = tmp_path / "plain-file"
    plain.write_bytes(plugged_events(True))
    with pytest.raises(JackError, match=r"is not a device: set \[voice\] headset_jack to /dev/input/"):
        HeadsetJack(str(plain)).open()
    with pytest.raises(JackError, match=r"/dev/null is not an input event device .*set \[voice\] headset_jack"):
        HeadsetJack("/dev/null").open()                # a character device without the evdev ioctl
