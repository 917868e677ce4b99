"""schemathesis against the management API's own published OpenAPI document, on a live server on loopback.

The document is fetched from /api/v1/openapi.json with a signed request, as
an operator's tool would. Every generated request (valid and invalid bodies,
missing or wrong headers, other methods) must get an answer the document
declares: no 5xx, status codes, content types, bodies and headers as
documented. Reads are signed afresh for each case (a signature is taken only
once); pushes carry generated envelopes, which no trusted key signed, so
every one must be refused and the kiosk's data dir must be unchanged after
the whole run. The refusal rate limit is set out of the way here (it is
tested in test_management_hostile.py); the examples are bounded so the run
takes seconds.
"""
from __future__ import annotations

import time

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis import GenerationMode

from kiosk.sync import management, operator_auth
from kiosk.sync.http_guard import Limits
from tests.config_bundle.managementkit import disk, running_api, signed_get

EXAMPLES = 80
RUN = {"cases": 0, "operations": set(), "statuses": {}, "started": None}


LIMITS = Limits(refusals=10 ** 6)
# the document the server publishes (the test below checks the published one is this one); loaded at
# collection, since schemathesis' lazy fixture loader does not work with this pytest (request.node._nodeid)
schema = schemathesis.openapi.from_dict(management.openapi_document(LIMITS, metrics=True))
OPERATOR: dict = {}


@pytest.fixture(scope="module")
def live(tmp_path_factory):
    with running_api(tmp_path_factory.mktemp("schema") / "kiosk", LIMITS) as kiosk:
        OPERATOR["key"] = kiosk.key
        schema.config.update(base_url=kiosk.base)
        assert signed_get(kiosk).status_code == 200  # a read makes the config dir's lock file: before the snapshot
        kiosk.before = disk(kiosk.dir, skip=())
        RUN["started"] = time.monotonic()
        yield kiosk
        seconds = time.monotonic() - RUN["started"]
        print(f"\nschemathesis: {len(RUN['operations'])} operations, {RUN['cases']} examples, 0 failures, "
              f"{seconds:.1f} s; statuses {dict(sorted(RUN['statuses'].items()))}")
        # nothing an unauthenticated request sent was stored
        assert disk(kiosk.dir, skip=()) == kiosk.before


def test_the_published_document_is_the_one_tested(live):
    doc = signed_get(live, management.OPENAPI_PATH).json()
    assert doc == management.openapi_document(LIMITS, metrics=True)
    assert schemathesis.openapi.from_url(
        live.base + management.OPENAPI_PATH, timeout=10,
        headers=operator_auth.sign_request(live.key, "GET", management.OPENAPI_PATH)).raw_schema == doc


@schema.parametrize()
@settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck), derandomize=True)
def test_every_answer_of_the_management_api_is_declared_and_none_is_a_server_error(case, live):
    if case.method == "GET" and case.meta.generation.mode == GenerationMode.POSITIVE:
        # a fresh signature for each valid read (the server takes a signature once, within 300 s)
        case.headers = {**(case.headers or {}),
                        **operator_auth.sign_request(OPERATOR["key"], "GET", case.formatted_path)}
    response = case.call(base_url=live.base, timeout=10)
    RUN["cases"] += 1
    RUN["operations"].add(f"{case.operation.method.upper()} {case.operation.path}")
    RUN["statuses"][response.status_code] = RUN["statuses"].get(response.status_code, 0) + 1
    assert response.status_code < 500, response.text
    if case.method == "POST":
        assert response.status_code != 200, "a generated envelope was accepted"
    case.validate_response(response)
