"""docs/central-api.md stays true: its signing test vector is what the code computes."""
from __future__ import annotations

import hashlib
import re

from kiosk.wire import auth
from tests.conftest import ROOT

DOC = ROOT / "docs" / "central-api.md"


def vector() -> dict[str, str]:
    rows = re.findall(r"^\| ([\w -]+?) \| `([^`]*)`", DOC.read_text(encoding="utf-8"), flags=re.M)
    return {k: v for k, v in rows}


def test_documented_signing_test_vector_matches_the_code():
    v = vector()
    body = re.search(r"body `([^`]+)`", DOC.read_text(encoding="utf-8")).group(1).encode()
    assert hashlib.sha256(body).hexdigest() == v["body SHA-256"]
    headers = auth.sign(v["secret"], "POST", "/api/v1/transactions", v["X-Kiosk-Id"], body,
                        now=int(v["X-Timestamp"]), nonce=v["X-Nonce"])
    assert headers[auth.HEADER_SIG] == v["X-Signature"]
    assert headers[auth.HEADER_BODY] == v["X-Content-SHA256"]


def test_documented_window_is_the_one_enforced():
    assert f"**{auth.WINDOW_S} s**" in DOC.read_text(encoding="utf-8")
