"""No console page shows a full ID number, a name or a phone number (DESIGN.md section 7; issue 21).

Over the locker scene of tests/console/test_console_locker.py (cases posted with the applicants' phones
and ID numbers, deposits, texts sent and failing, hand-ins), plus a rating, an alarm whose detail a kiosk
failed to redact, a form transaction carrying a name and a call for staff carrying a name, an ID number and a
phone: every page an operator can open, read whole.
"""
from __future__ import annotations

import re

from kiosk.hardware.masking import mask_phone
from tests.central.conftest import item
from tests.central.pickup_kit import id_number
from tests.console.test_console_locker import _seq, scene  # noqa: F401 (the module's fixture)

NAME = "欧阳明月"


def pages(scene) -> dict[str, str]:   # noqa: F811
    console = scene.console
    ops = console.sign_in("ops")
    found = {}
    for path in ("/console/fleet", "/console/fleet?problem=alarm", "/console/kiosks/k1", "/console/kiosks/k2",
                 "/console/alarms", "/console/alarms?state=cleared", "/console/config", "/console/locker",
                 "/console/ratings?days=90", "/console/activity?days=90", "/console/audit", "/console/help"):
        r = ops.get(console.url + path, timeout=10)
        assert r.status_code == 200, (path, r.status_code)
        found[path] = r.text
    return found


def test_no_page_shows_an_id_number_a_name_or_a_phone_number(scene):  # noqa: F811
    console = scene.console
    leaked_id, leaked_phone = id_number(31), "13912340031"
    console.heartbeat("k1")
    console.rate("k1", 1, "pickup", ["It took too long"])
    console.send("k1", item(seq=_seq(), kind="alarm", data={
        "device": "card_reader", "code": "read_failed", "state": "raised", "severity": "fault",
        "detail": f"card {leaked_id} of {leaked_phone} could not be read"}))
    console.send("k1", item(seq=_seq(), kind="form", data={"template": "residence-permit", "name": NAME,
                                                           "service": "residence-permit", "pages": 2}))
    # a call for staff from a kiosk that put more into it than a kiosk writes (kiosk/core/help.py)
    console.send("k1", item(seq=_seq(), kind="help", data={"screen": "pickup", "hall": "一号政务服务中心",
                                                           "name": NAME, "id_number": leaked_id,
                                                           "phone": leaked_phone}))
    shown = pages(scene)
    assert "card_reader" in shown["/console/alarms"]                      # the alarm is there, masked
    assert "pickup" in shown["/console/help"]                             # the request is there, without them
    for path, html in shown.items():
        for phone in [*scene.phones, leaked_phone]:
            assert phone not in html, (path, phone)
        assert mask_phone(scene.phones[0]) not in shown["/console/locker"]   # not even masked on the locker
        assert leaked_id not in html and NAME not in html, path
        assert not re.search(r"(?<!\d)\d{17}[\dX](?!\d)", html), (path, "an 18-character ID number")
        assert not re.search(r"(?<!\d)1[3-9]\d{9}(?!\d)", html), (path, "a mobile number")
