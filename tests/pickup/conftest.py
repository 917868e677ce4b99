"""A locker kit for the pickup tests: a store of its own, the real drivers on the simulators, virtual time.

The locker, the ID card reader, the scanner and the receipt printer are the real drivers, each on its
simulator through a `SimPort` of the test's own.

Time is one `ScriptedClock` (a VirtualClock) shared by the drivers, the
simulators and the flows, so a 60-second wait takes no real time. `at(s, fn)`
schedules an action of the citizen or staff (close door 3, take the item) to
happen when virtual time reaches `s` seconds from now.
"""
from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from datetime import timedelta, timezone
from pathlib import Path
from typing import Callable

import pytest

from kiosk import config
from kiosk.hardware.device import VirtualClock
from kiosk.hardware.idcard import SamReader
from kiosk.hardware.locker import LockBoard, Locker
from kiosk.hardware.receipt import ReceiptPrinter
from kiosk.hardware.scanner import SerialScanner
from kiosk.sim.base import SimPort
from kiosk.sim.idcard import SamSimulator
from kiosk.sim.locker import LockerSimulator
from kiosk.sim.receipt import ReceiptSimulator
from kiosk.sim.scanner import ScannerSimulator
from kiosk.app.pickup import PickupService
from kiosk.store import Store
from tests.conftest import write_config

HASH_KEY = "demo-deployment-key-change-me-000000"
HALL_ZONE = timezone(timedelta(hours=8))   # the times a deposit writes, whatever zone the test machine is in
PLACE = "一楼东侧24小时自助区"


class ScriptedClock(VirtualClock):
    def __init__(self, start: float = 1_000_000.0):
        super().__init__(start)
        self._script: list[tuple[float, object]] = []

    def at(self, seconds_from_now: float, fn) -> None:
        self._script.append((self.monotonic() + seconds_from_now, fn))
        self._script.sort(key=lambda t: t[0])

    def advance(self, seconds: float) -> None:
        target = self.monotonic() + max(0.0, seconds)
        while self._script and self._script[0][0] <= target:
            due, fn = self._script.pop(0)
            super().advance(max(0.0, due - self.monotonic()))
            fn()
        super().advance(max(0.0, target - self.monotonic()))

    def __call__(self) -> float:
        return self.monotonic()


@dataclass
class Kit:
    service: PickupService
    clock: ScriptedClock
    sim: LockerSimulator
    card_sim: SamSimulator
    scan_sim: ScannerSimulator
    receipt_sim: ReceiptSimulator
    store: Store
    path: Path
    closers: list = field(default_factory=list)

    @property
    def pickup(self):
        return self.service.pickup

    @property
    def deposit(self):
        return self.service.deposit

    @property
    def recall(self):
        return self.service.recall

    @property
    def handin(self):
        return self.service.handin

    def model(self):
        return self.service.open_model()

    def outbox(self, kind: str | None = None) -> list[dict]:
        conn = self.store.connect()
        try:
            rows = conn.execute("SELECT kind, body FROM outbox ORDER BY seq").fetchall()
        finally:
            conn.close()
        return [dict(json.loads(r["body"]), kind=r["kind"]) for r in rows if kind is None or r["kind"] == kind]

    def alarms(self) -> set[str]:
        return {f"{a.code}" for a in self.model().alarms.active()}

    def deposit_item(self, case="BJ2026-0001", size="small", holder: str | None = None, staff="1001") -> tuple[int, str]:
        """Staff deposit one item (door closed by staff at once); returns (door, code)."""
        flow = self.deposit
        flow.begin(staff)
        assert flow.set_case(case)
        flow.choose(size=size, require_id=holder is not None)
        closing = []
        flow.listeners.append(lambda f: f.step.value == "door_open" and not closing and (
            closing.append(1), self.clock.at(5, lambda: self.close(f.door))))
        try:
            flow.confirm_options()
            if holder is not None:
                assert flow.set_holder_number(holder)
        finally:
            flow.listeners.clear()
        assert flow.step.value == "code", (flow.step, flow.notice)
        door, code = flow.door, flow.code
        flow.code_seen()
        return door, code

    def collect_with_card(self, code: str, card) -> object:
        """The holder types `code`, lays `card` on the reader when asked, and closes the door 5 s after
        it opened; the pickup flow afterwards."""
        flow = self.pickup
        flow.begin()
        for d in code:
            flow.press(d)
        flow.submit()
        assert flow.step.value == "id_card", (flow.step, flow.notice)
        self.card_sim.insert_card(card)
        self.close_after(5)
        flow.read_card()
        return flow

    def close(self, door: int) -> None:
        self.sim.close_door(door)

    def close_after(self, seconds: float, door_of=None) -> None:
        """The citizen closes the door `seconds` after it opened (watches the pickup flow)."""
        flow = self.pickup
        done = []

        def on_change(f):
            if f.step.value == "door_open" and not done:
                done.append(1)
                self.clock.at(seconds, lambda: self.close(f.door))
        flow.listeners.append(on_change)


def notice_config(key: str | None, code_length: int = 6, place: str = PLACE):
    """A config edit: the notifier's key in [central] (None: none, though the default config has the demo
    one), the place of the locker, the code length."""
    def edit(text: str) -> str:
        text = re.sub(r'(?m)^place = "[^"]*".*$', f'place = "{place}"', text, count=1)
        text = re.sub(r'(?m)^notice_key = .*\n', "", text, count=1)
        if key is not None:
            text = text.replace('[central]\n', f'[central]\nnotice_key = "{key}"\n', 1)
        return text.replace("code_length = 6", f"code_length = {code_length}", 1)
    return edit


def make_kit(tmp_path: Path, driver: str = "lock8a", extra: str = "", monkey_config=None,
             edit: Callable[[str], str] | None = None, cases=None, clock_start: float = 1_000_000.0) -> Kit:
    """`extra` is TOML appended to the default config, `edit` rewrites its text first (a key inside a
    table that is there already); `cases` is the platform's case look-up the deposit asks; the kit's
    one clock (monotonic and wall) starts at `clock_start` (unix seconds)."""
    text = (Path(__file__).resolve().parents[2] / "config" / "kiosk.toml").read_text(encoding="utf-8")
    if driver == "kerong":
        text = re.sub(r'(?m)^driver = "lock8a".*$', 'driver = "kerong"', text)
        text = re.sub(r'(?m)^boards = \[\{ address = 1, doors = 24 \}\].*$', 'boards = [{ address = 0, doors = 16 }]',
                      text)
        text = re.sub(r"(?ms)^\[pickup\].*?(?=^\[)", "[pickup]\ncolumns = 4\nrows = 4\n\n", text)
    text = (edit(text) if edit else text) + "\n" + extra
    path = write_config(tmp_path / "kiosk", text)
    settings = config.load(path)
    clock = ScriptedClock(clock_start)
    sim = LockerSimulator(clock)
    boards = [(b.address, b.doors) for b in settings.devices.locker.boards]
    sim.configure(driver, boards)
    locker = Locker("locker", "sim://locker-test", [LockBoard(a, d) for a, d in boards], driver, clock=clock,
                    transport=SimPort(f"sim://locker-{tmp_path.name}", sim, "locker"))
    card_sim, scan_sim, receipt_sim = SamSimulator(clock), ScannerSimulator(clock), ReceiptSimulator(clock)
    card_sim.remove_card()
    idcard = SamReader("idcard", "sim://idcard-test", clock=clock,
                       transport=SimPort(f"sim://idcard-{tmp_path.name}", card_sim, "idcard"))
    scanner = SerialScanner("scanner", "sim://scanner-test", clock=clock,
                            transport=SimPort(f"sim://scanner-{tmp_path.name}", scan_sim, "scanner"))
    printer = ReceiptPrinter("receipt_printer", "sim://receipt-test", clock=clock,
                             transport=SimPort(f"sim://receipt-{tmp_path.name}", receipt_sim, "receipt_printer"))
    store = Store.from_settings(settings)
    service = PickupService(settings, store, locker, idcard=idcard, scanner=scanner, printer=printer, clock=clock,
                            monotonic=clock, zone=HALL_ZONE, **({"cases": cases} if cases is not None else {}))
    return Kit(service, clock, sim, card_sim, scan_sim, receipt_sim, store, path, [locker, idcard, scanner, printer])


@pytest.fixture
def kit(tmp_path):
    k = make_kit(tmp_path)
    yield k
    for dev in k.closers:
        dev.close()


@pytest.fixture
def kerong_kit(tmp_path):
    k = make_kit(tmp_path, "kerong")
    yield k
    for dev in k.closers:
        dev.close()
