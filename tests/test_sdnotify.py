"""sd_notify: datagrams to $NOTIFY_SOCKET, and a full queue never blocks the sender."""
import socket

from kiosk.sdnotify import Notifier


def test_fields_arrive_as_one_datagram(tmp_path):
    path = str(tmp_path / "n.sock")
    rx = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    rx.bind(path)
    assert Notifier(path).ready("home screen drawn")
    assert rx.recv(4096) == b"READY=1\nSTATUS=home screen drawn"
    rx.close()


def test_a_reader_that_never_reads_costs_pings_not_a_blocked_caller(tmp_path):
    path = str(tmp_path / "n.sock")
    rx = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    rx.bind(path)
    n = Notifier(path)
    results = [n.watchdog() for _ in range(5000)]  # far beyond the kernel's datagram queue
    assert results[0] and not all(results)
    rx.close()
