"""Shared by the SMS gateway tests: a message, and real HTTP servers on loopback that stand in for the
SMS platforms (started in the test, stopped after it)."""
from __future__ import annotations

import uuid

import pytest

from kiosk.central.sms import Sms
from tests.central.sms.loopback import LoopbackServer

PHONE = "13812341234"
CODE = "482915"


def make_sms(**changes) -> Sms:
    fields = dict(message_id=str(uuid.uuid4()), phone=PHONE, template="pickup_ready",
                  params={"code": CODE, "hall": "城东政务服务中心", "place": "自助取件柜3号", "deadline": "6月30日"},
                  text=f"【城东政务】您的证照已可领取，取件码{CODE}，请于6月30日前到城东政务服务中心自助取件柜3号领取。")
    fields.update(changes)
    return Sms(**fields)


@pytest.fixture
def sms() -> Sms:
    return make_sms()


@pytest.fixture
def loopback():
    """`loopback(handle)` starts a server answering with `handle(request)`; all are stopped after the test."""
    servers: list[LoopbackServer] = []

    def start(handle) -> LoopbackServer:
        server = LoopbackServer(handle)
        servers.append(server)
        return server

    yield start
    for server in servers:
        server.close()


@pytest.fixture
def vendor(request, loopback):
    """The test module's `StandIn` (a vendor's API, checking what the vendor checks), served on loopback
    at `vendor.url`."""
    stand_in = request.module.StandIn()
    stand_in.url = loopback(stand_in).url
    return stand_in
