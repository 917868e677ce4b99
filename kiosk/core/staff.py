"""Hall staff at the kiosk: PIN hashes (scrypt), sign-in, and the lockout after wrong PINs.

A PIN is stored only as `scrypt$n=16384,r=8,p=1$<salt b64>$<hash b64>` (made
by `kiosk staff hash-pin` and pasted into `[staff] members`); checking one is
a constant-time comparison. An unknown staff id costs the same scrypt work as
a known one and counts as a wrong PIN, so neither timing nor the lockout tells
which ids exist. Five wrong PINs in a row (`[staff] wrong_pins_before_lockout`)
lock sign-in on this kiosk for `pin_lockout_s`; the clock is injected.
"""
from __future__ import annotations

import base64
import hashlib
import hmac
import logging
import math
import re
import secrets
import threading
import time
from dataclasses import dataclass
from typing import Callable, Iterable

log = logging.getLogger(__name__)

SCRYPT_N, SCRYPT_R, SCRYPT_P = 2 ** 14, 8, 1
SALT_BYTES, HASH_BYTES = 16, 32
PIN = re.compile(r"[0-9]{4,12}")
_FORMAT = re.compile(r"scrypt\$n=(\d+),r=(\d+),p=(\d+)\$([A-Za-z0-9+/=]+)\$([A-Za-z0-9+/=]+)")


class PinError(ValueError):
    """A PIN or a stored hash that cannot be used; the message says what to do."""


def check_pin_form(pin: str) -> str:
    if not PIN.fullmatch(pin or ""):
        raise PinError("a staff PIN is 4 to 12 digits (0-9)")
    return pin


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def hash_pin(pin: str, *, salt: bytes | None = None) -> str:
    """The storable hash of `pin`: salted scrypt, parameters kept with it."""
    check_pin_form(pin)
    salt = salt if salt is not None else secrets.token_bytes(SALT_BYTES)
    digest = hashlib.scrypt(pin.encode(), salt=salt, n=SCRYPT_N, r=SCRYPT_R, p=SCRYPT_P, dklen=HASH_BYTES)
    return f"scrypt$n={SCRYPT_N},r={SCRYPT_R},p={SCRYPT_P}${_b64(salt)}${_b64(digest)}"


def _parse(stored: str) -> tuple[int, int, int, bytes, bytes]:
    m = _FORMAT.fullmatch(stored or "")
    if not m:
        raise PinError("not a PIN hash made by `kiosk staff hash-pin` (scrypt$n=...,r=...,p=...$salt$hash)")
    n, r, p = (int(m.group(i)) for i in (1, 2, 3))
    if n < 2 ** 10 or n > 2 ** 20 or n & (n - 1) or not 1 <= r <= 32 or not 1 <= p <= 16:
        raise PinError("PIN hash parameters out of range: make it again with `kiosk staff hash-pin`")
    return n, r, p, base64.b64decode(m.group(4)), base64.b64decode(m.group(5))


def check_pin_hash(stored: str) -> str:
    """`stored` if it is a usable PIN hash, else PinError saying how to make one (checked at start-up)."""
    _parse(stored)
    return stored


def verify_pin(pin: str, stored: str) -> bool:
    n, r, p, salt, expected = _parse(stored)
    digest = hashlib.scrypt((pin or "").encode(), salt=salt, n=n, r=r, p=p, maxmem=256 * 1024 * 1024,
                            dklen=len(expected))
    return hmac.compare_digest(digest, expected)


# an unknown staff id is checked against this, so it takes as long as a known one
_DUMMY = hash_pin("000000", salt=b"\0" * SALT_BYTES)


@dataclass(frozen=True)
class SignInResult:
    ok: bool
    staff_id: str | None = None
    locked_for_s: int = 0      # > 0: sign-in is locked this many more seconds
    tries_left: int = 0        # wrong PINs left before the lockout


class StaffSignIn:
    """Who may sign in (id -> PIN hash) and the kiosk-wide lockout after wrong PINs.

    Thread-safe; `clock` gives seconds (monotonic or wall, as long as it only moves forward).
    """

    def __init__(self, members: Iterable[tuple[str, str]], *, wrong_before_lockout: int = 5,
                 lockout_s: float = 300, clock: Callable[[], float] = time.monotonic):
        self.members = {mid: h for mid, h in members}
        for mid, stored in self.members.items():
            _parse(stored)  # a bad hash is a config mistake: say so at start, not at the first sign-in
        self.wrong_before_lockout = wrong_before_lockout
        self.lockout_s = lockout_s
        self.clock = clock
        self.wrong = 0
        self.locked_until = 0.0
        self._lock = threading.Lock()

    @classmethod
    def from_settings(cls, staff, clock: Callable[[], float] = time.monotonic) -> "StaffSignIn":
        return cls([(m.id, m.pin_hash) for m in staff.members], wrong_before_lockout=staff.wrong_pins_before_lockout,
                   lockout_s=staff.pin_lockout_s, clock=clock)

    def locked_for(self) -> int:
        return max(0, math.ceil(self.locked_until - self.clock()))

    def sign_in(self, staff_id: str, pin: str) -> SignInResult:
        with self._lock:
            left = self.locked_for()
            if left:
                return SignInResult(False, locked_for_s=left)
            stored = self.members.get((staff_id or "").strip())
            ok = verify_pin(pin, stored or _DUMMY) and stored is not None
            if ok:
                self.wrong = 0
                log.info("staff %s signed in", staff_id)
                return SignInResult(True, staff_id=staff_id.strip())
            self.wrong += 1
            log.warning("staff sign-in refused (%d wrong in a row)", self.wrong)
            if self.wrong >= self.wrong_before_lockout:
                self.wrong = 0
                self.locked_until = self.clock() + self.lockout_s
                return SignInResult(False, locked_for_s=self.locked_for())
            return SignInResult(False, tries_left=self.wrong_before_lockout - self.wrong)
