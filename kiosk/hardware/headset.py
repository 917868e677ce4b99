"""The headset jack, as the kernel reports it: an evdev switch, SW_HEADPHONE_INSERT.

A PC's sound card (HD Audio, most USB audio with jack sensing) reports its headphone jack as an
input device, `/dev/input/eventN` (its stable name under /dev/input/by-path/, e.g.
`pci-0000:00:1f.3-platform-skl_hda_dsp_generic-event`; `evtest` lists them as "HDA Intel PCH
Headphone"). What it says is a stream of `struct input_event` (linux/input.h), 24 bytes each on a
64-bit kernel:

    struct timeval time   two native longs (seconds, microseconds)    16 bytes
    __u16 type            EV_SW (0x05) for a switch, EV_SYN (0x00) ending a report
    __u16 code            SW_HEADPHONE_INSERT (0x02)
    __s32 value           1 plugged in, 0 taken out

A report ends with EV_SYN / SYN_REPORT; a SYN_DROPPED (the reader fell behind) means the switch's
state must be asked again. The state now is asked with the ioctl EVIOCGSW, a bit mask of every
switch. The voice guidance turns on when a headset is plugged in and back to its default when it
is taken out (kiosk/core/voice.py, ADA 707.5 / CUSS: the jack is how a citizen who cannot see the
screen asks for speech).

A path that is not an evdev device (a FIFO: the tests and `make run` write the same 24-byte events
into one) has no ioctl: the jack then counts as empty until an event says otherwise. A read that is
not whole events is refused with what the path should be; a device that goes away (a USB sound card
pulled) is looked for again every `REOPEN_S` seconds, and the jack counts as empty meanwhile.
"""
from __future__ import annotations

import errno
import fcntl
import logging
import os
import select
import stat
import struct
import threading
from typing import Callable

log = logging.getLogger(__name__)

EVENT = struct.Struct("@llHHi")          # struct input_event: 24 bytes on a 64-bit kernel
EV_SYN, EV_SW = 0x00, 0x05
SYN_REPORT, SYN_DROPPED = 0, 3
SW_HEADPHONE_INSERT = 0x02
SW_MAX = 0x10
REOPEN_S = 5.0


def _eviocgsw(length: int) -> int:
    """EVIOCGSW(len): _IOC(_IOC_READ, 'E', 0x1b, len)."""
    return (2 << 30) | (length << 16) | (ord("E") << 8) | 0x1b


def event(type_: int, code: int, value: int, seconds: int = 0) -> bytes:
    """One input_event as the kernel writes it (for a FIFO standing in for the device)."""
    return EVENT.pack(seconds, 0, type_, code, value)


def plugged_events(plugged: bool, seconds: int = 0) -> bytes:
    """The report a jack sends when a headset goes in (True) or comes out (False)."""
    return event(EV_SW, SW_HEADPHONE_INSERT, int(plugged), seconds) + event(EV_SYN, SYN_REPORT, 0, seconds)


class JackError(OSError):
    """The path is not a headset jack this kiosk can read; the message says what it should be."""


class HeadsetJack:
    """The jack at `path`: `plugged` now, and `watch(fn)` calls `fn(plugged)` from its own thread
    each time a headset goes in or comes out."""

    def __init__(self, path: str, *, reopen_s: float = REOPEN_S):
        self.path = path
        self.reopen_s = reopen_s
        self.plugged = False
        self._fd: int | None = None
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._complained = False

    # -- reading ---------------------------------------------------------------------------------
    def open(self) -> bool:
        """Open the device (or FIFO) and ask whether a headset is in; JackError names what is wrong."""
        try:
            # a FIFO opened for reading waits for a writer unless non-blocking; the reads then wait in select
            fd = os.open(self.path, os.O_RDONLY | os.O_NONBLOCK)
        except OSError as e:
            raise JackError(e.errno, f"headset jack {self.path}: {e.strerror}: set [voice] headset_jack to the "
                                     f"sound card's jack device (/dev/input/by-path/...-event; `evtest` lists "
                                     f"it as \"... Headphone\"), or \"\" for none") from None
        try:
            state = self._ask(fd)
        except JackError:
            os.close(fd)
            raise
        self._fd = fd
        return state

    def _ask(self, fd: int) -> bool:
        mode = os.fstat(fd).st_mode
        if stat.S_ISFIFO(mode):
            return False   # a FIFO stands in for the device: no state to ask, the events will say
        if not stat.S_ISCHR(mode):
            raise JackError(errno.ENODEV, f"headset jack {self.path} is not a device: set [voice] headset_jack to "
                                          f"/dev/input/...-event, or \"\" for none")
        mask = bytearray((SW_MAX + 8) // 8)
        try:
            fcntl.ioctl(fd, _eviocgsw(len(mask)), mask, True)
        except OSError as e:
            raise JackError(e.errno, f"headset jack {self.path} is not an input event device ({e.strerror}): "
                                     f"set [voice] headset_jack to /dev/input/...-event, or \"\" for none") from None
        return bool(mask[SW_HEADPHONE_INSERT // 8] & (1 << (SW_HEADPHONE_INSERT % 8)))

    def feed(self, data: bytes, pending: dict) -> bool | None:
        """The jack's state after the whole events in `data` (None: unchanged). `pending` carries a
        switch change until the report that ends it. JackError when `data` is not whole events."""
        if len(data) % EVENT.size:
            raise JackError(errno.EINVAL, f"headset jack {self.path}: a read of {len(data)} bytes is not whole "
                                          f"input events ({EVENT.size} bytes each): is [voice] headset_jack an "
                                          f"evdev device (/dev/input/...-event)?")
        state = None
        for _s, _us, type_, code, value in EVENT.iter_unpack(data):
            if type_ == EV_SW and code == SW_HEADPHONE_INSERT:
                pending["plugged"] = bool(value)
            elif type_ == EV_SYN and code == SYN_REPORT and "plugged" in pending:
                state = pending.pop("plugged")
            elif type_ == EV_SYN and code == SYN_DROPPED:
                pending.clear()   # events were lost: what the switch says now is asked again
                if self._fd is not None:
                    state = self._ask(self._fd)
        return state

    # -- watching --------------------------------------------------------------------------------
    def start(self, on_change: Callable[[bool], None]) -> None:
        """Read the jack now (`plugged`: for the first visit), then follow it on a thread of its own
        until `close()`, calling `on_change(plugged)` when it changes. A jack that cannot be read is
        logged once, counts as empty and is looked for again."""
        state = self._try_open()
        if state is not None:
            self.plugged = state
        self._thread = threading.Thread(target=self._run, args=(on_change,), name="headset-jack", daemon=True)
        self._thread.start()

    def _try_open(self) -> bool | None:
        """`open()`, or None when the jack cannot be read now: said once until it can be again."""
        try:
            state = self.open()
        except JackError as e:
            if not self._complained:
                log.warning("%s", e)
                self._complained = True
            return None
        self._complained = False
        return state

    def _set(self, plugged: bool, on_change: Callable[[bool], None]) -> None:
        if plugged != self.plugged:
            self.plugged = plugged
            log.info("headset %s", "plugged in" if plugged else "taken out")
            on_change(plugged)

    def _run(self, on_change: Callable[[bool], None]) -> None:
        pending: dict = {}
        rest = b""   # a FIFO's writer may split an event between two reads; a device never does
        while not self._stop.is_set():
            if self._fd is None:
                state = self._try_open()
                if state is None:
                    self._stop.wait(self.reopen_s)
                    continue
                self._set(state, on_change)
            try:
                ready, _, _ = select.select([self._fd], [], [], 0.5)
                if not ready:
                    continue
                data = os.read(self._fd, EVENT.size * 64)
                if not data:   # a FIFO's writer went away: open it again to wait for the next one; the
                    self._close_fd()   # state stays as its events left it (a FIFO has none to ask)
                    leftover, rest = rest, b""
                    self.open()
                    if leftover:
                        self.feed(leftover, pending)   # raises: what the writer left is not a whole event
                    continue
                data, rest = rest + data, b""
                whole = len(data) - len(data) % EVENT.size
                data, rest = data[:whole], data[whole:]
                state = self.feed(data, pending)
            except JackError as e:
                log.warning("%s", e)
                rest = b""
                if self._fd is None:
                    self._stop.wait(self.reopen_s)
                continue
            except OSError as e:   # the device went away (ENODEV): empty until it is back
                log.warning("headset jack %s: %s; looking for it again every %.0f s", self.path, e.strerror,
                            self.reopen_s)
                self._close_fd()
                pending.clear()
                self._set(False, on_change)
                continue
            if state is not None:
                self._set(state, on_change)

    def _close_fd(self) -> None:
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None

    def close(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)
        self._close_fd()
