"""Composition of the certificate pickup locker: the door plan, the store, the flows, the start-up checks.

`PickupService` ties the configured locker (and, when present, the ID card
reader, the scanner and the receipt printer) to the store, the outbox and the
alarms, and makes the four flows (the citizens' pickup and hand-in of
materials, the staff's deposit and recall) and the staff sign-in; the deposit
and the hand-in ask the platform about each case through the central client
(`cases`, the port of kiosk/core/locker/cases.py). On start it
reconstructs what a power cut interrupted (`LockerModel.recover`) and checks
the board's door states against what the doors should hold. The flows' blocking
steps run on the executors it is given (kiosk/core/background.py): in the UI
one worker thread for the citizens' side (pickup, hand-in) and one for the staff
side (deposit, recall, sign-in), one for the deposit's case look-up, each delivering back on the
Kivy main thread; `Inline` (the default) for the tests, the bench and the commands.
Used by the UI (kiosk/app/root.py `PICKUP` and `HANDIN`, two citizen services over
the one locker service: `make`, `screen` and `handin_screen`), the tests and
bench/pickup.py; works without the network (a case look-up that gets no answer
leaves the deposit as it was, and has the hand-in read the ID card).
"""
from __future__ import annotations

import logging
import time
import weakref
from datetime import tzinfo
from typing import TYPE_CHECKING, Callable

from kiosk.config import Settings
from kiosk.alarms import Alarms
from kiosk.core.background import Done, Executor, Inline
from kiosk.core.flow import Clock
from kiosk.core.locker.cases import CaseLookup
from kiosk.core.locker.deposit import DepositFlow
from kiosk.core.locker.handin import HandinFlow
from kiosk.core.locker.model import DoorPlan, DoorsInUse, LockerModel, LockerSite
from kiosk.core.locker.pickup import PickupFlow
from kiosk.core.locker.recall import RecallFlow
from kiosk.core.staff import StaffSignIn
from kiosk.hardware.device import DeviceError
from kiosk.store import PerThread
from kiosk.sync.outbox import Outbox

if TYPE_CHECKING:  # pragma: no cover
    from kiosk.app.services import Parts
    from kiosk.core.visit import VisitPath
    from kiosk.screens.handin import HandinScreen
    from kiosk.screens.pickup import PickupScreen
    from kiosk.screens.shell import KioskApp

log = logging.getLogger(__name__)


class PickupService:
    """The locker's flows exist from the start; the devices bind into them once they are up
    (`bind_devices`). Until the restart checks have run on them `ready` is False (the pickup tile
    is disabled meanwhile: its device has no status yet)."""

    def __init__(self, settings: Settings, store, locker=None, *, idcard=None, scanner=None, printer=None,
                 clock: Callable[[], float] = time.time, monotonic: Clock = time.monotonic,
                 executor_for: Callable[[str], Executor] = lambda _name: Inline(), zone: tzinfo | None = None,
                 cases: CaseLookup | None = None):
        self.settings = settings
        self.store = store
        self.locker = locker
        self.clock = clock
        self.in_use = DoorsInUse()
        self.site = site_of(settings, zone)
        count = getattr(locker, "door_count", None) or sum(b.doors for b in settings.devices.locker.boards)
        self.plan = DoorPlan.from_settings(settings.pickup, count)
        rules, key = settings.pickup, settings.privacy.hash_key
        # the citizens' steps (pickup, hand-in) on one executor, the staff's (deposit, recall, sign-in) on another
        self.executors = {"pickup": executor_for("pickup"), "staff": executor_for("staff"),
                          "scan": executor_for("scan"),   # the scanner listened to while a code is asked for
                          "lookup": executor_for("lookup")}   # the platform asked about a case, beside the doors
        # listening lasts the whole code step: an executor that runs work in place (Inline) cannot
        # host it, and then the scanner is not listened to (the flow's scanned() still takes codes)
        # (made whether or not the scanner is up yet: the devices bind into the flows once they are)
        scan = None if isinstance(self.executors["scan"], Inline) else self.executors["scan"]
        staff_side = self.executors["staff"]
        self.pickup = PickupFlow(self.open_model, locker, rules=rules, hash_key=key, idcard=idcard,
                                 scanner=scanner, clock=monotonic, executor=self.executors["pickup"],
                                 scan_executor=scan)
        # the hand-in asks the platform about its case while the citizen waits (a short timeout): on its own steps
        self.handin = HandinFlow(self.open_model, locker, rules=rules, hash_key=key, hall=settings.kiosk.hall,
                                 kiosk_id=settings.kiosk.id, hotline=settings.kiosk.hotline, idcard=idcard,
                                 scanner=scanner, printer=printer, cases=cases, clock=monotonic,
                                 executor=self.executors["pickup"], scan_executor=scan)
        self.deposit = DepositFlow(self.open_model, locker, rules=rules, hash_key=key, idcard=idcard,
                                   scanner=scanner, clock=monotonic, executor=staff_side, cases=cases,
                                   lookup_executor=self.executors["lookup"])
        self.recall = RecallFlow(self.open_model, locker, clock=monotonic, executor=staff_side)
        self.staff = StaffSignIn.from_settings(settings.staff, clock=monotonic)
        self.model = PerThread(self.open_model)   # the service's own reads (staff sign-in), per thread
        self.ready = locker is not None   # the locker is up, bound and checked: visits may start

    @property
    def flows(self) -> tuple:
        return self.pickup, self.handin, self.deposit, self.recall

    def bind_devices(self, locker, idcard=None, scanner=None, printer=None) -> None:
        """The devices, once they are up, into every flow (`ready` once the restart checks ran)."""
        for flow in (self.pickup, self.handin, self.deposit):
            flow.idcard, flow.scanner = idcard, scanner
        self.handin.printer = printer
        for flow in self.flows:
            flow.locker = locker
        self.locker = locker

    # --- staff sign-in, on the staff side's executor ---------------------------------------------
    def sign_in(self, staff_id: str, pin: str, done: Done) -> None:
        """Check a staff PIN (scrypt: slow on purpose) and count what waits for recall, off the UI
        thread; `done((SignInResult, recallable count), error)` back on the flow's thread."""
        def work():
            result = self.staff.sign_in(staff_id, pin)
            return result, len(self.model().recallable()) if result.ok else 0
        self.executors["staff"].run(work, done)

    def count_recallable(self, done: Done) -> None:
        """How many items wait for recall: `done(count, error)` back on the flow's thread."""
        self.executors["staff"].run(lambda: len(self.model().recallable()), done)

    def stop(self) -> None:
        """The process ends: the scanner is no longer listened to, the executors' threads stop taking work."""
        self.pickup.stop_scanning()
        self.handin.stop_scanning()
        for executor in self.executors.values():
            shutdown = getattr(executor, "shutdown", None)
            if shutdown is not None:
                shutdown()

    def open_model(self) -> LockerModel:
        """A model on a connection of its own, for the calling thread."""
        conn = self.store.connect()
        outbox = Outbox(conn, now=self.clock)
        return LockerModel(conn, self.plan, outbox=outbox, alarms=Alarms(conn, outbox, now=self.clock),
                           hash_key=self.settings.privacy.hash_key, rules=self.settings.pickup,
                           clock=self.clock, in_use=self.in_use, site=self.site)

    def start(self) -> list:
        """After a restart: record what a power cut left half done, then check the doors."""
        model = self.open_model()
        try:
            recovered = model.recover()
            for r in recovered:
                log.warning("locker: %s at door %d reconstructed after a restart", r.kind, r.item.door)
            self.check_doors(model)
            return recovered
        finally:
            model.conn.close()

    def check_doors(self, model: LockerModel | None = None) -> None:
        """The board's door states (and item sensors) against the model."""
        own = model is None
        model = model or self.open_model()
        try:
            states = self.locker.door_states()
        except DeviceError as exc:
            log.warning("locker: door states not read: %s", exc.message)
            if own:
                model.conn.close()
            return
        try:
            model.reconcile_open_doors([s.door for s in states if not s.closed])
            model.reconcile_items({s.door: s.item_present for s in states})
        finally:
            if own:
                model.conn.close()

    def on_status(self, status) -> None:
        """Health poll listener: a door the board reports open (`door_open:3,7`) is reconciled."""
        detail = status.detail or ""
        if status.state.value != "online":
            return
        open_doors = [int(d) for d in detail.removeprefix("door_open:").split(",") if d] \
            if detail.startswith("door_open:") else []
        model = self.open_model()
        try:
            model.reconcile_open_doors(open_doors)
        finally:
            model.conn.close()


def site_of(settings: Settings, zone: tzinfo | None = None) -> LockerSite:
    """The kiosk, its hall, where its locker stands and the notifier's key (`[central] notice_key`,
    already checked when the config was loaded), for the `deposit` transactions."""
    key = settings.central.notice_key
    locker = settings.devices.locker
    return LockerSite(settings.kiosk.id, settings.kiosk.hall, locker.place if locker else "",
                      key.strip() if key else None, zone)


def wall_clock_from(monotonic: Clock) -> Callable[[], float]:
    """Unix time that moves with `monotonic` (the session clock): steady within a run, and steered
    by the UI tests and the tour like every other timer of the UI."""
    base_wall, base_mono = time.time(), monotonic()
    return lambda: base_wall + (monotonic() - base_mono)


# one locker service per device runtime (one owner of the locker's port): the pickup and the hand-in
# of materials, two citizen services, are made over the same one
_SERVICES: "weakref.WeakKeyDictionary[object, PickupService]" = weakref.WeakKeyDictionary()


def make(parts: "Parts") -> PickupService:
    """The UI's pickup locker (made only where a locker is configured: the services over it are offered
    only there), once per device runtime: the second citizen service over it gets the same one. Its
    flows exist from the start and the session knows which of their steps a visit may leave
    (kiosk/core/flow.py); the devices bind in once the runtime has them, and recovery and the door
    check run then, on the bring-up thread. The citizens' steps ("pickup"), the staff's ("staff"), the
    scanner's listening ("scan") and the deposit's case look-up ("lookup", through the kiosk's central
    client, which the hand-in asks too) each run on one worker thread."""
    runtime = parts.runtime
    service = _SERVICES.get(runtime)
    if service is not None:
        return service
    service = _SERVICES[runtime] = PickupService(
        parts.settings, parts.store, clock=wall_clock_from(parts.clock), monotonic=parts.clock,
        executor_for=parts.background.threads, cases=parts.central)
    for flow in service.flows:
        parts.session.attach(flow)
    parts.background.at_stop(service.stop)

    def ready(devices) -> None:
        locker = devices.get("locker")
        if locker is None or not hasattr(locker, "open_door"):
            log.warning("pickup: the locker could not be opened; pickup stays unavailable")
            return
        service.bind_devices(locker, idcard=_usable(devices.get("idcard")), scanner=_usable(devices.get("scanner")),
                             printer=_usable(devices.get("receipt_printer")))
        try:
            service.start()
        except Exception:  # the locker must still serve; the log and the alarm say what went wrong
            log.exception("pickup: start-up reconciliation failed")
        service.ready = True
        runtime.add_listener(lambda device, status: service.on_status(status) if device is locker else None)

    runtime.on_ready(ready)
    return service


def screen(app: "KioskApp", service: PickupService, visit: "VisitPath") -> "PickupScreen":
    """The citizen's pickup screen."""
    from kiosk.screens.pickup import build_screen  # kivy only once configure_kivy() has run

    return build_screen(app, service, visit)


def handin_screen(app: "KioskApp", service: PickupService, visit: "VisitPath") -> "HandinScreen":
    """The citizen's screen for handing in materials (补交材料)."""
    from kiosk.screens.handin import build_screen  # kivy only once configure_kivy() has run

    return build_screen(app, service, visit)


def staff_way_in(app: "KioskApp", service: PickupService) -> None:
    """The staff's screens of the locker (deposit, recall, which also collects what is handed in),
    reached by a long press on the hall's name; once, whichever service over the locker comes first."""
    from kiosk.screens import staff  # kivy only once configure_kivy() has run

    staff.install(app, service)


def _usable(device):
    """A device that was opened (not the stand-in for one that could not be)."""
    from kiosk.hardware.device import UnavailableDevice

    return None if device is None or isinstance(device, UnavailableDevice) else device
