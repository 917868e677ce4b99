"""A private hall for `kiosk tour`: its own data dir, the reference platform and a CUPS queue of its own.

The tour must show every flow the same way on any machine, and must never
write its demo transactions into a real kiosk's outbox. So it runs on a copy
of the config with a fresh data dir, the reference central platform seeded
and with this kiosk provisioned (a subprocess on a free loopback port), and,
where the machine allows (root, CUPS with cups-pdf installed), a private
cupsd with the configured A4 queue on cups-pdf. Everything started here is
stopped by pid when the hall closes.
"""
from __future__ import annotations

import logging
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import requests

from kiosk.config import Settings
from kiosk.tour.cupsd import PrivateCupsd

log = logging.getLogger(__name__)
KIOSK = Path(sys.executable).parent / "kiosk"
DEMO_QUEUE_TIME = "2026-05-18T09:30:00+08:00"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class DemoHall:
    def __init__(self, settings: Settings, workdir: Path | None = None):
        self.settings = settings
        self.dir = Path(workdir or tempfile.mkdtemp(prefix="kiosk-tour-"))
        self._own_dir = workdir is None
        self.central: subprocess.Popen | None = None
        self.cupsd: PrivateCupsd | None = None
        self.notes: list[str] = []

    def _kiosk(self, *args: str, ok: tuple[int, ...] = (0,)) -> subprocess.CompletedProcess:
        r = subprocess.run([str(KIOSK), *args], capture_output=True, text=True, timeout=120,
                           env=dict(os.environ, KIVY_NO_ARGS="1"))
        if r.returncode not in ok:
            raise RuntimeError(f"kiosk {' '.join(args[:2])} failed: {r.stderr.strip()[-500:]}")
        return r

    def start(self) -> Path:
        """Start the hall; returns the path of the tour's config."""
        s = self.settings
        db = self.dir / "central.db"
        port = free_port()
        self._kiosk("central", "add-kiosk", s.kiosk.id, "--secret", s.central.secret, "--db", str(db))
        # the demo queue opens on a Monday morning whatever the hour of the tour (kiosk/tour/steps_tickets.py)
        self._kiosk("central", "queue-clock", "--db", str(db), "--set", DEMO_QUEUE_TIME)
        self._kiosk("central", "seed", "--db", str(db), "--hash-key", s.privacy.hash_key)
        self.central = subprocess.Popen([str(KIOSK), "central", "--host", "127.0.0.1", "--port", str(port),
                                         "--db", str(db)], stdout=subprocess.DEVNULL,
                                        stderr=(self.dir / "central.log").open("ab"),
                                        env=dict(os.environ, KIVY_NO_ARGS="1"))
        url = f"http://127.0.0.1:{port}"
        self._wait_for(url)

        text = s.source.read_text(encoding="utf-8")
        text = re.sub(r'(?m)^data_dir = .*$', f'data_dir = "{self.dir / "var"}"', text)
        text = re.sub(r'(?m)^url = "https?://[^"]*"', f'url = "{url}"', text)
        text = re.sub(r'(?m)^listen = .*$', f'listen = "127.0.0.1:{free_port()}"', text)
        printer = s.devices.document_printer
        if printer is not None:
            why = PrivateCupsd.unavailable()
            if why:
                self.notes.append(f"A4 printing uses the configured CUPS ({why})")
            else:
                self.cupsd = PrivateCupsd().start()
                self.cupsd.add_queue(printer.printer)
                text = re.sub(r'(?m)^server = .*\n', '', text)
                text = re.sub(r'(?m)^(printer = "[^"]*".*)$', rf'\1\nserver = "{self.cupsd.socket}"', text)
        # the demo hall's voice speaks into files beside it (what the tour's voice steps read), not to a
        # sound card the machine running the tour may not have
        text = re.sub(r'(?m)^record_dir = .*$', f'record_dir = "{self.dir / "voice"}"', text)
        # the original config's relative paths (the catalog seed) point where they did
        text = re.sub(r'(?m)^seed_file = "([^"/][^"]*)"',
                      lambda m: f'seed_file = "{(s.source.parent / m.group(1)).resolve()}"', text)
        path = self.dir / "kiosk.toml"
        path.write_text(text, encoding="utf-8")
        self.config_path = path
        # as at installation: the catalog and its search readings before the UI starts
        self._kiosk("--config", str(path), "guides", "seed")
        return path

    def platform_summary(self, config_path: Path) -> dict[str, int]:
        """Push the tour kiosk's outbox to the demo platform and count what it stored, by kind:
        the tour's transactions taking the real path to the platform."""
        self._kiosk("--config", str(config_path), "sync", "--once", "--json", ok=(0, 1))
        import json

        stored = json.loads(self._kiosk("central", "export", "--db", str(self.dir / "central.db"),
                                        "--json").stdout)["transactions"]
        counts: dict[str, int] = {}
        for t in stored:
            counts[t["kind"]] = counts.get(t["kind"], 0) + 1
        return counts

    def _wait_for(self, url: str, timeout: float = 30.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.central.poll() is not None:
                raise RuntimeError(f"the demo platform exited: {(self.dir / 'central.log').read_text()[-800:]}")
            try:
                requests.get(url + "/api/v1/health", timeout=0.5)
                return
            except requests.RequestException:
                time.sleep(0.1)
        raise RuntimeError(f"the demo platform did not answer within {timeout:.0f} s")

    def stop(self) -> None:
        if self.central and self.central.poll() is None:
            self.central.send_signal(signal.SIGTERM)
            try:
                self.central.wait(10)
            except subprocess.TimeoutExpired:
                self.central.kill()
                self.central.wait(5)
        if self.cupsd:
            self.cupsd.stop()
        if self._own_dir:
            shutil.rmtree(self.dir, ignore_errors=True)

    def __enter__(self) -> Path:
        try:
            return self.start()
        except BaseException:
            self.stop()
            raise

    def __exit__(self, *exc) -> None:
        self.stop()
