"""systemd readiness and watchdog: pings come from the Kivy main loop, so a blocked UI thread stops them."""
import socket

from kiosk.sdnotify import Notifier, watchdog_interval


def _pings_while_pumping(ui, sock: socket.socket, frames: int = 300) -> list[str]:
    """Run frames until a ping arrives (bounded): the loop, not the wall clock, must produce it."""
    got: list[str] = []
    for _ in range(frames):
        ui.pump(1)
        got += _datagrams(sock)
        if "WATCHDOG=1" in got:
            break
    return got


def _datagrams(sock: socket.socket) -> list[str]:
    out = []
    while True:
        try:
            out.append(sock.recv(4096).decode())
        except BlockingIOError:
            return out


def test_ready_then_watchdog_pings_only_while_the_ui_loop_runs(ui, tmp_path):
    from kiosk.commands.ui import start_watchdog

    path = str(tmp_path / "notify.sock")
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    sock.bind(path)
    sock.setblocking(False)
    event = start_watchdog(Notifier(path), interval=0.01)
    try:
        assert _datagrams(sock)[0].startswith("READY=1")
        assert "WATCHDOG=1" in _pings_while_pumping(ui, sock)
        # the UI thread does nothing (as when it is frozen): no frame runs, so no ping may arrive
        for _ in range(3):
            sock.settimeout(0.05)
            try:
                got = sock.recv(4096)
            except (TimeoutError, socket.timeout):
                got = None
            assert got is None, f"a ping arrived while the UI loop was blocked: {got!r}"
        sock.setblocking(False)
        assert "WATCHDOG=1" in _pings_while_pumping(ui, sock)
    finally:
        event.cancel()
        sock.close()


def test_without_notify_socket_nothing_is_sent(monkeypatch):
    monkeypatch.delenv("NOTIFY_SOCKET", raising=False)
    assert not Notifier().ready()


def test_watchdog_interval_is_half_of_watchdog_usec(monkeypatch):
    monkeypatch.setenv("WATCHDOG_USEC", "30000000")
    monkeypatch.delenv("WATCHDOG_PID", raising=False)
    assert watchdog_interval() == 15.0
    monkeypatch.setenv("WATCHDOG_PID", "1")
    assert watchdog_interval() is None
