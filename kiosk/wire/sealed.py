"""Pickup codes sealed to the platform's notifier, part of the wire.

The kiosk never stores a plain pickup code: the locker keeps its keyed hash,
and the `deposit` transaction carries the code sealed to the notifier's
public key, so that only the platform's notifier, holding the private key,
can open it and text it to the applicant. A copy of the outbox, of the
platform's transactions or of a backup reveals no code.

The seal is HPKE (RFC 9180) in base mode with the suite DHKEM(X25519,
HKDF-SHA256), HKDF-SHA256, AES-128-GCM, from `cryptography`
(`cryptography.hazmat.primitives.hpke`, 47.0 and later). The HPKE `info` binds
a sealed value to the deposit it belongs to (kiosk id, case number and the
code's keyed hash): a value copied into another deposit does not open.

Text forms:
- a sealed value: ``hpke1:`` + base64url (no padding) of HPKE's enc || ciphertext;
- the notifier's public key (config `[central] notice_key`, a config bundle can
  set it): ``x25519:`` + base64url of the 32 raw bytes;
- its private key (the platform's `notice.key` file): the 32 raw bytes,
  base64url, one line.
"""
from __future__ import annotations

import base64
import binascii
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # pragma: no cover
    from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey, X25519PublicKey

SEALED_PREFIX = "hpke1:"
PUBLIC_PREFIX = "x25519:"
_INFO = b"kiosk pickup code v1"


def _suite():
    """HPKE's suite, imported when a code is sealed or opened: `cryptography` (some 10 MB resident) is
    loaded by the process that seals (a child of the UI, kiosk/core/locker/model.py) and by the
    platform, never by the UI itself, which only checks the key's text (`public_key_raw`)."""
    from cryptography.hazmat.primitives import hpke

    return hpke.Suite(hpke.KEM.X25519, hpke.KDF.HKDF_SHA256, hpke.AEAD.AES_128_GCM)


class SealError(ValueError):
    """A key or a sealed value that is not what it should be; the message says which and what to do."""


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _unb64(text: str, what: str) -> bytes:
    try:
        return base64.b64decode(text + "=" * (-len(text) % 4), altchars=b"-_", validate=True)
    except (binascii.Error, ValueError) as exc:
        raise SealError(f"{what} is not base64url text") from exc


def binding(kiosk_id: str, case_number: str, code_hash: str) -> bytes:
    """What a sealed code belongs to: the deposit's kiosk, case and the code's keyed hash."""
    return b"\x00".join((_INFO, kiosk_id.encode(), case_number.encode(), code_hash.encode()))


def public_key_text(key: "X25519PublicKey") -> str:
    from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

    return PUBLIC_PREFIX + _b64(key.public_bytes(Encoding.Raw, PublicFormat.Raw))


def public_key_raw(text: str) -> bytes:
    """The 32 bytes of `x25519:<base64url>` as written by `kiosk central notice-key`; every 32 bytes
    are an X25519 public key, so this is the whole check, and it needs no `cryptography`."""
    text = text.strip()
    if not text.startswith(PUBLIC_PREFIX):
        raise SealError(f"the notice key must start with {PUBLIC_PREFIX!r} (print it with "
                        "`kiosk central notice-key` on the platform)")
    raw = _unb64(text[len(PUBLIC_PREFIX):], "the notice key")
    if len(raw) != 32:
        raise SealError(f"the notice key is {len(raw)} bytes, an X25519 key has 32")
    return raw


def parse_public_key(text: str) -> "X25519PublicKey":
    """`x25519:<base64url>` as a key object (`public_key_raw` checks it)."""
    from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PublicKey

    return X25519PublicKey.from_public_bytes(public_key_raw(text))


def new_private_key() -> "X25519PrivateKey":
    from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey

    return X25519PrivateKey.generate()


def private_key_text(key: "X25519PrivateKey") -> str:
    from cryptography.hazmat.primitives.serialization import Encoding, NoEncryption, PrivateFormat

    return _b64(key.private_bytes(Encoding.Raw, PrivateFormat.Raw, NoEncryption()))


def parse_private_key(text: str) -> "X25519PrivateKey":
    from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey

    raw = _unb64(text.strip(), "the notice private key")
    if len(raw) != 32:
        raise SealError(f"the notice private key is {len(raw)} bytes, an X25519 key has 32")
    return X25519PrivateKey.from_private_bytes(raw)


def seal(public_key: "X25519PublicKey | str", code: str, bound_to: bytes) -> str:
    """The code, sealed to the notifier (a key, or its `x25519:` text) and bound to its deposit
    (`binding(...)`)."""
    if isinstance(public_key, str):
        public_key = parse_public_key(public_key)
    return SEALED_PREFIX + _b64(_suite().encrypt(code.encode("ascii"), public_key, info=bound_to))


def seal_job(key: str, code: str, bound_to: str) -> str:
    """`seal` in a child process (kiosk/core/apart.py: JSON in and out): `bound_to` as base64url."""
    return seal(key, code, _unb64(bound_to, "the binding"))


def open_sealed(private_key: "X25519PrivateKey", sealed: str, bound_to: bytes) -> str:
    """The code inside; SealError when the value is malformed, sealed to another key, or moved from
    the deposit it was sealed for."""
    if not isinstance(sealed, str) or not sealed.startswith(SEALED_PREFIX):
        raise SealError(f"a sealed code starts with {SEALED_PREFIX!r}")
    data = _unb64(sealed[len(SEALED_PREFIX):], "the sealed code")
    try:
        code = _suite().decrypt(data, private_key, info=bound_to)
    except Exception as exc:  # cryptography raises InvalidTag or ValueError for a short or altered value
        raise SealError("the sealed code does not open with this notice key for this deposit "
                        "(another platform's key, or altered)") from exc
    try:
        return code.decode("ascii")
    except UnicodeDecodeError as exc:
        raise SealError("the sealed code is not a pickup code") from exc
