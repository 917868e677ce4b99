"""Enrolment: a kiosk fetches its own secret from the platform with a one-time token.

An operator with fifty kiosks should not carry fifty secrets to fifty halls on paper. On the platform,
`kiosk central add-kiosk ID --enrolment-token` issues a token for one kiosk: 100 random bits written as
four groups of five letters and digits (`7KQ2M-XR4TD-9HWJP-C3V8N`; Crockford's base 32, so no I, L, O or
U to misread), valid for a few days, good for one use. On the kiosk, `kiosk provision
--enrolment-token TOKEN` posts the kiosk id and the token to `POST /api/v1/enrol`; the platform gives
the kiosk a new secret in the answer and forgets the token, so the secret is only ever in the kiosk's
config (and sealed in the platform's database). A wrong, used or expired token is refused in the same
words whatever the reason, and five wrong tries void the token.

The platform keeps the token's SHA-256 only: the token is random enough that a plain hash is safe.
"""
from __future__ import annotations

import hashlib
import re
import secrets

from pydantic import BaseModel, ConfigDict, Field

ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"     # Crockford's base 32
GROUPS, GROUP_LEN = 4, 5
PATH = "/api/v1/enrol"
MAX_FAILURES = 5
# what a person may type for a token: the groups with or without dashes or spaces, any case
TYPED = re.compile(r"^\s*[0-9A-Za-z]{5}([\s-]?[0-9A-Za-z]{5}){3}\s*$")


def new_token() -> str:
    n = GROUPS * GROUP_LEN
    chars = "".join(ALPHABET[b % 32] for b in secrets.token_bytes(n))   # 256 is a multiple of 32: no bias
    return "-".join(chars[i:i + GROUP_LEN] for i in range(0, n, GROUP_LEN))


def normalize(typed: str) -> str:
    """The token as issued, from what a person typed: case, dashes and spaces do not matter, and the
    letters Crockford's alphabet leaves out are read as the digits they look like (O as 0, I and L as 1)."""
    chars = re.sub(r"[\s-]", "", typed).upper().translate(str.maketrans("OIL", "011"))
    return "-".join(chars[i:i + GROUP_LEN] for i in range(0, len(chars), GROUP_LEN))


def looks_like_token(typed: str) -> bool:
    return bool(TYPED.match(typed))


def digest(token: str) -> str:
    return hashlib.sha256(normalize(token).encode("ascii", "replace")).hexdigest()


class EnrolRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    kiosk_id: str = Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")
    token: str = Field(min_length=GROUPS * GROUP_LEN, max_length=40, pattern=r"^[0-9A-Za-z \-]+$")


class EnrolAnswer(BaseModel):
    kiosk_id: str
    secret: str
