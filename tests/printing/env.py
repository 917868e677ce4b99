"""A hall for the end-to-end printing tests: the real central platform (seeded, this kiosk provisioned) in a
subprocess, a private cupsd with the queue `sim` on cups-pdf, and a kiosk config that uses both."""
from __future__ import annotations

import re
from pathlib import Path

from kiosk.tour.cupsd import PrivateCupsd
from tests.sync.centralproc import KIOSK_ID, Central, kiosk_config, run_kiosk

QUEUE = "sim"


class Hall:
    def __init__(self, root: Path):
        self.root = root
        self.central = Central(root / "central")
        seeded = run_kiosk("central", "seed", "--db", str(self.central.db))
        assert seeded.returncode == 0, seeded.stderr
        self.cupsd: PrivateCupsd | None = None
        self.config: Path | None = None

    def start(self, cups: bool = True) -> "Hall":
        self.central.start()
        server = None
        if cups:
            self.cupsd = PrivateCupsd().start()
            self.cupsd.add_queue(QUEUE)
            server = self.cupsd.socket
        self.config = kiosk_config(self.root / "kiosk", self.central.url)
        if server:
            text = self.config.read_text(encoding="utf-8")
            text = re.sub(r'(?m)^printer = "sim".*$', f'printer = "{QUEUE}"\nserver = "{server}"', text)
            self.config.write_text(text, encoding="utf-8")
        return self

    def stop(self) -> None:
        self.central.stop()
        if self.cupsd:
            self.cupsd.stop()

    def kinds(self) -> list[str]:
        return [t["kind"] for t in self.central.export()]


__all__ = ["Hall", "KIOSK_ID", "QUEUE"]
