"""Who may talk to the kiosk's management API: a holder of an operator key the kiosk trusts.

Two proofs, both checked without writing anything, so a refused request leaves
no trace on the kiosk's disk:

- a pushed bundle proves itself: its own Ed25519 signature by the trusted keys
  (after the rotations it carries), `bundle.authenticate`;
- every other request (a read of the config status, the OpenAPI document) is
  signed by an operator key in the `Authorization` header:

      Authorization: KIOSK-ED25519 keyid="<sha256 hex of the raw public key>", ts="<unix seconds>",
                     nonce="<16 to 64 hex digits>", sig="<base64 Ed25519 signature>"

  over `KIOSK-ED25519\\n<METHOD>\\n<path with query>\\n<ts>\\n<nonce>`. The time
  must be within SKEW_S of the kiosk's clock and a signature is taken once (a
  replay cache for that window), so a captured header opens nothing later; the
  nonce lets one operator sign two requests in the same second (Ed25519
  signatures are deterministic).

The keys are those of the kiosk's trust (the pinned rotation or `[management]
trusted_keys`), read on each request: a rotation takes effect at once.
"""
from __future__ import annotations

import base64
import binascii
import re
import secrets
import threading
import time
from collections import OrderedDict
from dataclasses import dataclass
from typing import Callable

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from kiosk.wire import bundle
from kiosk.wire.bundle import BundleError, TrustSet

SCHEME = "KIOSK-ED25519"
SKEW_S = 300.0
REPLAY_CACHE = 4096

_PARAM = re.compile(r'\s*([a-z]+)="([^"]*)"\s*(?:,|$)')


class Unauthorized(Exception):
    """A request that proves no trusted operator: `code` for machines, the message for a person."""

    def __init__(self, code: str, reason: str):
        super().__init__(reason)
        self.code = code
        self.reason = reason


def message(method: str, target: str, ts: int, nonce: str) -> bytes:
    return f"{SCHEME}\n{method.upper()}\n{target}\n{ts}\n{nonce}".encode("ascii")


def sign_request(key: Ed25519PrivateKey, method: str, target: str, now: float | None = None) -> dict[str, str]:
    """The `Authorization` header of a request by this operator key (the operator's side)."""
    ts = int(time.time() if now is None else now)
    nonce = secrets.token_hex(16)
    sig = key.sign(message(method, target, ts, nonce))
    kid = bundle.keyid(key.public_key())
    return {"Authorization": f'{SCHEME} keyid="{kid}", ts="{ts}", nonce="{nonce}", sig="{bundle.b64(sig)}"'}


def parse_header(value: str) -> tuple[str, int, str, bytes]:
    scheme, _, rest = value.partition(" ")
    if scheme != SCHEME:
        raise Unauthorized("unauthenticated", f"sign the request with an operator key ({SCHEME}); "
                                              "e.g. `kiosk config status --remote URL --key KEY`")
    params: dict[str, str] = {}
    pos = 0
    while pos < len(rest):
        m = _PARAM.match(rest, pos)
        if not m or m.end() == pos:
            raise Unauthorized("bad_authorization", f"the {SCHEME} header is not keyid=\"…\", ts=\"…\", "
                                                    "nonce=\"…\", sig=\"…\"")
        params[m.group(1)] = m.group(2)
        pos = m.end()
    kid, ts, sig = params.get("keyid", ""), params.get("ts", ""), params.get("sig", "")
    nonce = params.get("nonce", "")
    if not re.fullmatch(r"[0-9a-f]{64}", kid) or not re.fullmatch(r"[0-9]{1,12}", ts) \
            or not re.fullmatch(r"[0-9a-f]{16,64}", nonce):
        raise Unauthorized("bad_authorization", "keyid must be 64 hex digits, ts unix seconds and nonce "
                                                "16 to 64 hex digits")
    try:
        raw = base64.b64decode(sig, validate=True)
    except (binascii.Error, ValueError):
        raise Unauthorized("bad_authorization", "sig is not base64") from None
    if len(raw) != 64:
        raise Unauthorized("bad_authorization", "sig is not an Ed25519 signature (64 bytes)")
    return kid, int(ts), nonce, raw


@dataclass
class RequestVerifier:
    """Checks signed requests against the kiosk's current trust; remembers signatures for SKEW_S."""
    trust: Callable[[], TrustSet]
    now: Callable[[], float] = time.time
    skew_s: float = SKEW_S

    def __post_init__(self) -> None:
        self._seen: OrderedDict[bytes, float] = OrderedDict()
        self._lock = threading.Lock()

    def verify(self, header: str | None, method: str, target: str) -> str:
        """The keyid of the operator who signed this request, else Unauthorized."""
        if not header:
            raise Unauthorized("unauthenticated", f"this route needs a request signed by an operator key "
                                                  f"({SCHEME}); e.g. `kiosk config status --remote URL --key KEY`")
        kid, ts, nonce, sig = parse_header(header)
        now = self.now()
        if abs(now - ts) > self.skew_s:
            raise Unauthorized("stale_request", f"the request was signed at {ts}, {now - ts:+.0f} s from this "
                                                f"kiosk's clock; at most {self.skew_s:.0f} s apart")
        key = self.trust().keys.get(kid)
        if key is None:
            raise Unauthorized("unknown_key", f"key {kid[:16]} is not trusted by this kiosk")
        try:
            key.verify(sig, message(method, target, ts, nonce))
        except InvalidSignature:
            raise Unauthorized("bad_signature", "the signature does not match the request") from None
        with self._lock:
            while self._seen and (next(iter(self._seen.values())) < now - self.skew_s
                                  or len(self._seen) >= REPLAY_CACHE):
                self._seen.popitem(last=False)
            if sig in self._seen:
                raise Unauthorized("replayed", "this signed request was already used; sign a new one")
            self._seen[sig] = float(ts)
        return kid


def authenticate_bundle(raw: bytes, trust: TrustSet) -> bundle.Authenticated:
    """A pushed body: parsed and its signatures verified, nothing written. BundleError otherwise
    (`too_large`, `malformed`, `unknown_type`: not a bundle; `no_trusted_keys`, `unknown_key`,
    `bad_signature`: not signed by a key this kiosk trusts)."""
    return bundle.authenticate(bundle.parse_envelope(raw), trust)


NOT_A_BUNDLE = ("too_large", "malformed", "unknown_type")
