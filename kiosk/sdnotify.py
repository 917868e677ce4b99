"""systemd's notification protocol (sd_notify): READY=1, WATCHDOG=1, STATUS=..., STOPPING=1.

A datagram to the socket named in $NOTIFY_SOCKET (a path, or an abstract
socket when it starts with "@"). Without $NOTIFY_SOCKET every call is a
no-op, so the same code runs under systemd, in a terminal and in tests.
"""
from __future__ import annotations

import os
import socket


class Notifier:
    def __init__(self, address: str | None = None):
        address = address if address is not None else os.environ.get("NOTIFY_SOCKET", "")
        if address.startswith("@"):
            address = "\0" + address[1:]
        self.address = address or None
        self._sock: socket.socket | None = None

    @property
    def enabled(self) -> bool:
        return self.address is not None

    def send(self, *fields: str) -> bool:
        """Send `KEY=value` fields; False when there is no socket or the send failed."""
        if not self.address:
            return False
        try:
            if self._sock is None:
                self._sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM | socket.SOCK_CLOEXEC)
                # the UI thread pings: a slow reader must cost a missed ping, never a frozen screen
                self._sock.setblocking(False)
            self._sock.sendto("\n".join(fields).encode(), self.address)
            return True
        except OSError:  # includes BlockingIOError when systemd's queue is full
            return False

    def ready(self, status: str = "") -> bool:
        return self.send("READY=1", *([f"STATUS={status}"] if status else []))

    def watchdog(self) -> bool:
        return self.send("WATCHDOG=1")

    def status(self, text: str) -> bool:
        return self.send(f"STATUS={text}")

    def stopping(self) -> bool:
        return self.send("STOPPING=1")


def watchdog_interval() -> float | None:
    """How often to ping: half of $WATCHDOG_USEC, when the watchdog is on for this process."""
    usec = os.environ.get("WATCHDOG_USEC")
    pid = os.environ.get("WATCHDOG_PID")
    if not usec or (pid and pid != str(os.getpid())):
        return None
    try:
        return max(0.5, int(usec) / 1e6 / 2)
    except ValueError:
        return None
