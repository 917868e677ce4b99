"""Request signing between a kiosk (or an operator) and the central platform.

Scheme "KIOSK-HMAC-SHA256" (documented in docs/central-api.md):

    canonical = METHOD \\n PATH?QUERY \\n PRINCIPAL \\n TIMESTAMP \\n NONCE \\n hex(sha256(body))
    X-Kiosk-Id: PRINCIPAL            (an operator signs with X-Operator-Id instead)
    X-Timestamp: unix seconds
    X-Nonce: 32 random hex digits, never reused
    X-Content-SHA256: hex(sha256(body)), the last line of the canonical request (required, also for no body)
    X-Signature: hex(HMAC-SHA256(secret, canonical))

The body hash binds the content (forgery); the timestamp window plus the
nonce, remembered by the server for the whole window, stop replays. Because
the body's hash travels in a header, the server checks the signature before
it reads a byte of the body, then checks the body against the hash while it
reads it.
"""
from __future__ import annotations

import hashlib
import hmac
import re
import secrets
import time
from dataclasses import dataclass

WINDOW_S = 300  # a request older or newer than this is refused; nonces are kept this long
HEADER_KIOSK, HEADER_OPERATOR = "X-Kiosk-Id", "X-Operator-Id"
HEADER_TS, HEADER_NONCE, HEADER_SIG = "X-Timestamp", "X-Nonce", "X-Signature"
HEADER_BODY = "X-Content-SHA256"

# Each header has an exact ASCII grammar with a bounded length: anything else is refused before it is
# converted (str.isdigit() accepts "²", which int() refuses; int() refuses 5,000 digits).
GRAMMAR = {
    HEADER_KIOSK: re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}", re.ASCII),
    HEADER_OPERATOR: re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}", re.ASCII),
    HEADER_TS: re.compile(r"[0-9]{1,12}", re.ASCII),
    HEADER_NONCE: re.compile(r"[A-Za-z0-9_-]{16,64}", re.ASCII),
    HEADER_SIG: re.compile(r"[0-9a-f]{64}", re.ASCII),
    HEADER_BODY: re.compile(r"[0-9a-f]{64}", re.ASCII),
}


def canonical(method: str, path_qs: str, principal: str, timestamp: str, nonce: str, body: bytes) -> bytes:
    return canonical_for_hash(method, path_qs, principal, timestamp, nonce, hashlib.sha256(body).hexdigest())


def canonical_for_hash(method: str, path_qs: str, principal: str, timestamp: str, nonce: str,
                       body_sha256: str) -> bytes:
    return "\n".join([method.upper(), path_qs, principal, timestamp, nonce, body_sha256]).encode()


def sign(secret: str, method: str, path_qs: str, principal: str, body: bytes = b"",
         *, operator: bool = False, now: float | None = None, nonce: str | None = None) -> dict[str, str]:
    """Headers that authenticate one request."""
    ts = str(int(time.time() if now is None else now))
    nonce = nonce or secrets.token_hex(16)
    digest = hashlib.sha256(body).hexdigest()
    sig = hmac.new(secret.encode(), canonical_for_hash(method, path_qs, principal, ts, nonce, digest),
                   hashlib.sha256).hexdigest()
    return {HEADER_OPERATOR if operator else HEADER_KIOSK: principal, HEADER_TS: ts, HEADER_NONCE: nonce,
            HEADER_BODY: digest, HEADER_SIG: sig}


@dataclass(frozen=True)
class Claimed:
    principal: str
    timestamp: int
    nonce: str
    signature: str
    body_sha256: str


class AuthError(Exception):
    """Why a request is refused (401); the reason is logged by the server, not sent in detail."""


def parse_headers(headers, *, operator: bool = False) -> Claimed:
    name = HEADER_OPERATOR if operator else HEADER_KIOSK
    try:
        principal, ts, nonce, sig, digest = (headers[h] for h in (name, HEADER_TS, HEADER_NONCE, HEADER_SIG,
                                                                   HEADER_BODY))
    except KeyError as exc:
        raise AuthError(f"missing header {exc.args[0]}") from None
    for header, value in ((name, principal), (HEADER_TS, ts), (HEADER_NONCE, nonce), (HEADER_SIG, sig),
                          (HEADER_BODY, digest)):
        if len(value) > 128 or not GRAMMAR[header].fullmatch(value):
            raise AuthError(f"header {header} is not of the form {GRAMMAR[header].pattern}")
    return Claimed(principal, int(ts), nonce, sig, digest)


def verify(secret: str, claimed: Claimed, method: str, path_qs: str, body: bytes | None = None, *,
           now: float | None = None) -> None:
    """Raises AuthError unless the signature is right and the timestamp inside the window.
    The signature covers the claimed body hash; with `body` None the caller must check the body against
    `claimed.body_sha256` as it reads it. The caller must also check the nonce was not seen before
    (and remember it)."""
    now = time.time() if now is None else now
    if abs(now - claimed.timestamp) > WINDOW_S:
        raise AuthError(f"timestamp {claimed.timestamp} is outside the {WINDOW_S} s window (clock wrong or replay)")
    want = hmac.new(secret.encode(), canonical_for_hash(method, path_qs, claimed.principal, str(claimed.timestamp),
                                                        claimed.nonce, claimed.body_sha256),
                    hashlib.sha256).hexdigest()
    if not hmac.compare_digest(want, claimed.signature):
        raise AuthError("signature does not match")
    if body is not None and not hmac.compare_digest(hashlib.sha256(body).hexdigest(), claimed.body_sha256):
        raise AuthError(f"the body is not the one whose hash {HEADER_BODY} declares")
