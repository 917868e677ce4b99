"""The pickup loop from the kiosk's side, against the real reference platform (issue 17).

The platform is `kiosk central` in a subprocess, on a SQLite file and on PostgreSQL, with its notifier run as
`kiosk central notify --once` and the `file` SMS gateway (tests/central/pickup_kit.py); the kiosk is the real
deposit and pickup flows on the locker, card reader and scanner simulators (tests/pickup/conftest.py), its case
look-up the real central client, its outbox shipped by `kiosk sync --once`. Deposit and pickup run in the kit's
virtual time, starting at T0.
"""
from __future__ import annotations

import re
import subprocess
from datetime import timedelta

import pytest
import requests

from kiosk.core.locker.deposit import Handover, Lookup, Step
from kiosk.core.locker.pickup import Notice
from kiosk.core.locker.pickup import Step as PickupStep
from kiosk.core.privacy import holder_hash
from kiosk.sim.idcard import demo_resident
from kiosk.sync.client import CentralClient
from kiosk.wire import sealed
from tests.central.pickup_kit import HASH_KEY, T0, leaks, loop_on, new_case
from tests.conftest import ENGINES, run_kiosk
from tests.pickup.conftest import PLACE, make_kit, notice_config
from tests.pickup.test_pickup_flow import type_code
from tests.sync.caseplatform import closed_port_url

KIOSK_ID = "k1"       # provisioned on the platform by tests/central/conftest.py start_central
HOLDER = demo_resident().id_number
HALL = "示例政务服务中心 24小时自助服务区"


@pytest.fixture(scope="module", params=ENGINES)
def loop(request, tmp_path_factory):
    with loop_on(request.param, request, tmp_path_factory.mktemp("loop")) as lp:
        yield lp


@pytest.fixture
def kiosk(tmp_path, loop):
    """kiosk(lookup_url=None): this kiosk on the loop's platform (its look-up to `lookup_url` if given)."""
    made = []

    def make(lookup_url: str | None = None):
        secret = loop.central.secrets[("kiosk", KIOSK_ID)]
        with_key = notice_config(sealed.public_key_text(loop.public_key))

        def edit(text: str) -> str:
            text = with_key(text)
            for key, value in (("id", KIOSK_ID), ("url", loop.central.url), ("secret", secret),
                               ("hash_key", HASH_KEY)):   # the deployment's key: the platform hashes holders alike
                text = re.sub(rf'(?m)^{key} = "[^"]*"', f'{key} = "{value}"', text, count=1)
            return text
        client = CentralClient(lookup_url or loop.central.url, KIOSK_ID, secret, lookup_timeout_s=2)
        kit = make_kit(tmp_path / f"kiosk{len(made)}", edit=edit, cases=client, clock_start=T0.timestamp())
        made.append(kit)
        return kit
    yield make
    for kit in made:
        kit.deposit.cases.close()
        for dev in kit.closers:
            dev.close()


def post_case(loop, case: str, phone: str, **more):
    body = {"case_number": case, "item_name": "不动产权证书", "applicant_id_number": HOLDER, "applicant_mobile": phone,
            "needs_id_card": True, "hold_days": 5, **more}
    res = loop.central.call("POST", "/api/v1/cases", body, operator="op")
    assert res.status_code in (200, 201), res.text


def deposit(kit, case: str, holder: str | None = None) -> tuple[int, str]:
    """Staff deposit the item of `case` (typing the holder's ID number when the platform did not give it)."""
    flow = kit.deposit
    flow.begin("1001")
    assert flow.set_case(case)
    flow.choose(size="small")
    flow.listeners.append(lambda f: f.step is Step.DOOR_OPEN and kit.clock.at(5, lambda: kit.close(f.door)))
    try:
        flow.confirm_options()
        if holder is not None:
            assert flow.step is Step.HOLDER and flow.set_holder_number(holder)
    finally:
        flow.listeners.clear()
    assert flow.step is Step.CODE, (flow.step, flow.notice)
    return flow.door, flow.code


def sync(kit) -> int:
    return run_kiosk("sync", "--once", config=kit.path).returncode


def collect_with_the_card(kit, code: str) -> None:
    pickup = kit.collect_with_card(code, demo_resident())
    assert pickup.step is PickupStep.DONE and pickup.id_checked


def test_a_case_found_at_the_deposit_is_texted_once_and_its_code_opens_the_door_for_the_holder(loop, kiosk):
    kit = kiosk()
    case, phone = new_case(), "13911117001"
    flow = kit.deposit
    flow.begin("1001")
    assert flow.set_case(case) and flow.lookup is Lookup.NOT_FOUND    # the platform's 404 for a case it lacks
    post_case(loop, case, phone)
    flow.begin("1001")
    assert flow.set_case(case)
    assert flow.lookup is Lookup.FOUND and flow.item_name == "不动产权证书" and flow.phone_masked == "139****7001"
    assert flow.holder == holder_hash(HASH_KEY, HOLDER) and flow.case.hold_days == 5
    door, code = deposit(kit, case)               # no holder step: the platform gave it
    assert kit.deposit.handover is Handover.TEXT
    assert sync(kit) == 0
    loop.notify(T0 + timedelta(minutes=1))
    loop.notify(T0 + timedelta(minutes=2))        # a second pass sends nothing again
    [msg] = loop.messages(phone=phone)
    assert msg["template"] == "pickup_ready" and msg["params"]["code"] == code
    for part in ("不动产权证书", HALL, PLACE, "11月27日", "身份证"):   # deposited 11-22, held 5 days
        assert part in msg["text"], part
    kit.deposit.code_seen()
    collect_with_the_card(kit, code)
    assert sync(kit) == 0
    # the platform now says the item was collected: a deposit for the case warns, the code is spent
    flow.begin("1001")
    assert flow.set_case(case) and flow.case.ended == "collected"
    kit.pickup.begin()
    type_code(kit.pickup, code)
    assert kit.pickup.notice is Notice.ALREADY_COLLECTED


def test_a_deposit_made_while_the_platform_is_down_is_texted_once_it_is_up_and_knows_the_case(loop, kiosk):
    kit = kiosk(lookup_url=closed_port_url())
    case, phone = new_case(), "13911117002"
    flow = kit.deposit
    flow.begin("1001")
    assert flow.set_case(case) and flow.lookup is Lookup.UNREACHABLE
    door, code = deposit(kit, case, holder=HOLDER)      # staff type the holder, as without a platform
    assert kit.deposit.handover is Handover.TEXT_ONCE_KNOWN
    loop.central.server.stop()
    try:
        assert sync(kit) != 0                           # nothing reaches the platform: the outbox keeps it
    finally:
        loop.central.server.start()
    assert sync(kit) == 0
    loop.notify(T0 + timedelta(minutes=1))
    assert loop.messages(phone=phone) == []            # the case is not on the platform yet: the notice waits
    post_case(loop, case, phone)
    loop.notify(T0 + timedelta(minutes=2))
    loop.notify(T0 + timedelta(minutes=3))
    [msg] = loop.messages(phone=phone)
    assert msg["params"]["code"] == code
    kit.deposit.code_seen()
    collect_with_the_card(kit, code)


def qr_from_the_notice_page(loop, message: dict, tmp_path) -> str:
    """What the kiosk's scanner reads off the applicant's phone: the notice's link opened in a real browser
    (headless chromium), its screenshot read back by zbarimg."""
    link = message["params"]["link"]
    token = link.rsplit("/p/", 1)[1]
    shot = tmp_path / "notice-page.png"
    subprocess.run(["chromium", "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars",
                    f"--user-data-dir={tmp_path / 'profile'}", "--window-size=412,915", f"--screenshot={shot}",
                    f"{loop.central.url}/p/{token}"], capture_output=True, timeout=90, cwd=tmp_path)
    assert shot.exists(), "chromium made no screenshot of the notice's page"
    read = subprocess.run(["zbarimg", "--raw", "-q", str(shot)], capture_output=True, text=True, timeout=30)
    assert read.returncode == 0, f"no QR code on the notice's page: {read.stderr}"
    return read.stdout.strip()


def test_the_whole_loop_a_case_a_deposit_while_the_platform_is_down_one_notice_and_its_code_typed_or_scanned(
        loop, kiosk, tmp_path):
    """Issue 17's loop end to end: the approval system posts the cases; staff deposit while the platform is
    down (nothing waits on it); the platform comes back; each applicant gets exactly one notice, whose code
    opens the door on the kiosk, typed for one and as the QR code of the notice's page for the other."""
    kit = kiosk()
    typed, scanned = (new_case(), "13911117011"), (new_case(), "13911117012")
    for case, phone in (typed, scanned):
        post_case(loop, case, phone)
    codes = {}
    loop.central.server.stop()
    try:
        for case, _phone in (typed, scanned):
            flow = kit.deposit
            flow.begin("1001")
            assert flow.set_case(case) and flow.lookup is Lookup.UNREACHABLE
            codes[case] = deposit(kit, case, holder=HOLDER)
            assert kit.deposit.handover is Handover.TEXT_ONCE_KNOWN
            kit.deposit.code_seen()
        assert sync(kit) != 0                              # the outbox keeps both deposits
    finally:
        loop.central.server.start()
    assert sync(kit) == 0
    assert sync(kit) == 0                                  # and a batch sent again changes nothing
    for minute in (1, 2, 3):
        loop.notify(T0 + timedelta(minutes=minute))
    notices = {}
    for case, phone in (typed, scanned):
        [notices[case]] = loop.messages(phone=phone)       # exactly one each
        assert notices[case]["params"]["code"] == codes[case][1]
    # typed, with the holder's card (the case asks for it)
    collect_with_the_card(kit, codes[typed[0]][1])
    assert kit.sim.unlocked[-1] == codes[typed[0]][0]
    # the QR code of the notice's page, on the scanner, with the card
    text = qr_from_the_notice_page(loop, notices[scanned[0]], tmp_path)
    assert text == f"KIOSK-PICKUP:{codes[scanned[0]][1]}"
    pickup = kit.pickup
    pickup.begin()
    kit.scan_sim.scan(text)
    pickup.scanned(kit.service.pickup.scanner.read_code(5))
    assert pickup.step is PickupStep.ID_CARD, (pickup.step, pickup.notice)
    kit.card_sim.insert_card(demo_resident())
    kit.close_after(5)
    pickup.read_card()
    assert pickup.step is PickupStep.DONE and pickup.id_checked
    assert kit.sim.unlocked[-1] == codes[scanned[0]][0]
    assert [p["via"] for p in kit.outbox("pickup")] == ["keypad", "qr"]
    # collected: the platform's page says so and shows no code any more
    assert sync(kit) == 0
    page = requests.get(f"{loop.central.url}/p/{notices[scanned[0]]['params']['link'].rsplit('/p/', 1)[1]}",
                        timeout=10)
    assert "已领取" in page.text and codes[scanned[0]][1] not in page.text
    # nothing but the notices holds a plain code or a full mobile number: the kiosk's database, WAL, outbox and
    # logs, the platform's database and logs (its cases table keeps the mobiles sealed)
    secrets = [code for _door, code in codes.values()] + [typed[1], scanned[1]]
    files = [p for p in kit.path.parent.rglob("*") if p.is_file()] + loop.platform_files()
    assert any(p.name.endswith(".db-wal") for p in files)
    assert any(p.name == "central.db" for p in files) or loop.engine_name == "postgresql"
    for path in files:
        data = path.read_bytes()
        for value in secrets:
            assert not leaks(data, value), f"{value} in {path}"
