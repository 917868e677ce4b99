"""schemathesis against the running platform's own /openapi.json (issue 24, item 12).

The real `kiosk central` runs as a subprocess on loopback (tests/central/conftest.py; stopped by its pid).
Every operation gets bounded examples twice: signed (a kiosk or an operator, whichever the operation is
for, signing exactly the bytes requests sends) and unsigned. For each answer: never a 5xx, the status
code and body are the ones the OpenAPI document declares, and a refused request (4xx) stored nothing.
Bounded by example counts, not by time: about half a minute on the 2-core dev machine.
"""
from __future__ import annotations

import traceback

import hypothesis
import pytest
import requests
import schemathesis
from schemathesis.specs.openapi.checks import (content_type_conformance, positive_data_acceptance,
                                               response_schema_conformance, status_code_conformance)

from kiosk.wire import auth

SIGNED_EXAMPLES, UNSIGNED_EXAMPLES = 45, 45
OPEN_PATHS = {"/api/v1/health", "/healthz", "/readyz", "/metrics"}   # no signature, by design (docs/central-api.md)
OPERATOR_OPS = {("PUT", "/api/v1/catalog"), ("PUT", "/api/v1/fleet/config"), ("GET", "/api/v1/kiosks"),
                ("PUT", "/api/v1/documents/{doc_id}"), ("POST", "/api/v1/cases"), ("GET", "/api/v1/cases"),
                ("GET", "/api/v1/cases/{case_number}"), ("GET", "/api/v1/notices"),
                ("POST", "/api/v1/cases/{case_number}/events"), ("GET", "/api/v1/fee-payments")}
CHECKS = [status_code_conformance, content_type_conformance, response_schema_conformance]
# The catalog has rules JSON Schema does not express (unique item codes, a promised time within the legal
# one, text stripped of surrounding whitespace before its length is checked); its schema's descriptions
# state them. Its answers are checked for status, content type and schema, not for acceptance.
# A posted case likewise: an ID number's GB 11643 check digit and a case number that must not look like an ID
# number are beyond JSON Schema (both stated in the schema's descriptions).
# The case listing takes `state` or `holder`, one of the two: query parameters cannot say so in the document.
NO_ACCEPTANCE_CHECK = {("PUT", "/api/v1/catalog"), ("POST", "/api/v1/cases"), ("GET", "/api/v1/cases")}
SIGNED_CHECKS = CHECKS + [positive_data_acceptance]  # a request the schema allows is not refused as invalid


class Signer(requests.auth.AuthBase):
    """Signs the prepared request: the method, path and query, and body exactly as they go on the wire."""

    def __init__(self, secret: str, principal: str, operator: bool):
        self.secret, self.principal, self.operator = secret, principal, operator

    def __call__(self, r: requests.PreparedRequest) -> requests.PreparedRequest:
        body = r.body or b""
        if isinstance(body, str):
            body = body.encode("utf-8")
        for name in (auth.HEADER_KIOSK, auth.HEADER_OPERATOR):
            r.headers.pop(name, None)
        r.headers.update(auth.sign(self.secret, r.method, r.path_url, self.principal, body, operator=self.operator))
        return r


def session_for(central, case) -> requests.Session:
    s = requests.Session()
    if (case.method.upper(), case.path) in OPERATOR_OPS:
        s.auth = Signer(central.secrets[("operator", "op")], "op", True)
    else:
        s.auth = Signer(central.secrets[("kiosk", "k1")], "k1", False)
    return s


def is_demo_lost_answer(case, resp) -> bool:
    """The demo acquirer loses its answer on purpose for some payment codes (503 answer_lost, documented)."""
    if resp.status_code != 503 or not case.path.startswith("/api/v1/payments/"):
        return False
    try:
        return resp.json().get("error") == "answer_lost"
    except ValueError:
        return False


def run_operations(central, *, signed: bool, examples: int) -> dict:
    """Every operation of the platform's OpenAPI document, `examples` generated cases each.
    (schemathesis's pytest plugin does not run under pytest 9, so hypothesis drives its strategies.)"""
    api = schemathesis.openapi.from_url(central.url + "/openapi.json")
    figures = {"operations": 0, "requests": 0, "statuses": {}, "failures": []}
    for result in api.get_all_operations():
        operation = result.ok()
        figures["operations"] += 1

        # signed, a kiosk's own id in the path: past the 403 a random id gets, into the handler
        own = {"kiosk_id": "k1"} if signed and "{kiosk_id}" in operation.path else None
        strategy = operation.as_strategy(path_parameters=own) if own else operation.as_strategy()

        @hypothesis.given(case=strategy)
        @hypothesis.settings(max_examples=examples, deadline=None, derandomize=True, database=None,
                             suppress_health_check=list(hypothesis.HealthCheck), phases=[
                                 hypothesis.Phase.explicit, hypothesis.Phase.generate])
        def one(case):
            session = session_for(central, case) if signed else None
            before = central.counts()
            checks = SIGNED_CHECKS if signed and (case.method, case.path) not in NO_ACCEPTANCE_CHECK else CHECKS
            resp = case.call(base_url=central.url, session=session, timeout=10)
            if not is_demo_lost_answer(case, resp):
                case.validate_response(resp, checks=checks)
            assert resp.status_code < 500 or is_demo_lost_answer(case, resp), (
                f"{case.method} {case.formatted_path}: {resp.status_code} {resp.text[:300]}")
            figures["requests"] += 1
            figures["statuses"][resp.status_code] = figures["statuses"].get(resp.status_code, 0) + 1
            if resp.status_code >= 400:
                assert central.counts() == before, (f"{case.method} {case.formatted_path}: refused with "
                                                    f"{resp.status_code} but stored something")
            if not signed and case.path not in OPEN_PATHS:
                assert resp.status_code in (400, 401, 413, 415, 422), (case.method, case.path, resp.status_code,
                                                                       resp.text[:200])

        try:
            one()
        except (Exception, BaseExceptionGroup) as exc:  # noqa: BLE001 - collected, so one run names every failing operation
            inner = "".join(f"\n  {type(e).__name__}: {str(e)[:800]}\n" + "".join(traceback.format_tb(e.__traceback__))[-1500:]
                            for e in getattr(exc, "exceptions", ()) if not isinstance(e, AssertionError))
            figures["failures"].append(f"{operation.label}: {str(exc)[:1500]}{inner}")
    return figures


def test_signed_requests_never_get_a_5xx_and_answer_as_documented(central):
    figures = run_operations(central, signed=True, examples=SIGNED_EXAMPLES)
    print(f"schemathesis signed: {figures['operations']} operations, {figures['requests']} requests, "
          f"{len(figures['failures'])} failures, statuses {figures['statuses']}")
    assert figures["operations"] >= 17
    assert not figures["failures"], "\n\n".join(figures["failures"])


# an unsigned request is refused before the database is asked for anything: one engine is enough
@pytest.mark.parametrize("central", ["sqlite"], indirect=True)
def test_unsigned_requests_are_refused_as_documented_and_store_nothing(central):
    figures = run_operations(central, signed=False, examples=UNSIGNED_EXAMPLES)
    print(f"schemathesis unsigned: {figures['operations']} operations, {figures['requests']} requests, "
          f"{len(figures['failures'])} failures, statuses {figures['statuses']}")
    assert figures["operations"] >= 17
    assert not figures["failures"], "\n\n".join(figures["failures"])
