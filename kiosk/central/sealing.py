"""Principals' secrets at rest: sealed with AES-256-GCM under a key kept in its own file.

The platform must know each kiosk's and operator's HMAC secret to verify a
signature, so it cannot keep only a hash. It keeps them sealed instead, under
a 32-byte key in `central.key` beside the database (or `--key-file`, or
`$KIOSK_CENTRAL_KEY_FILE`), made 0600 on first start. A copy of the database
alone, a backup or a stolen disk image of the data directory without the key
file, does not let anyone sign as a kiosk. Each sealed value is bound to its
row (`kiosk:ID`, `operator:NAME`) so it cannot be moved to another principal.
"""
from __future__ import annotations

import base64
import os
import secrets
from pathlib import Path

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

ENV_KEY_FILE = "KIOSK_CENTRAL_KEY_FILE"
PREFIX = "aesgcm1:"
KEY_BYTES = 32


class SecretKeyError(Exception):
    """The key file is missing, unreadable or not the key the secrets were sealed with; says what to do."""


def key_path(db_path: Path, key_file: Path | str | None = None) -> Path:
    if key_file:
        return Path(key_file)
    if os.environ.get(ENV_KEY_FILE):
        return Path(os.environ[ENV_KEY_FILE])
    return Path(db_path).parent / "central.key"


def load_or_create_key(path: Path) -> bytes:
    """The key in `path`, made (0600, exclusively) when the file does not exist yet."""
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        pass
    else:
        with os.fdopen(fd, "wb") as f:
            f.write(base64.b64encode(secrets.token_bytes(KEY_BYTES)) + b"\n")
            f.flush()
            os.fsync(f.fileno())
    try:
        key = base64.b64decode(path.read_bytes().strip(), validate=True)
    except (OSError, ValueError) as exc:
        raise SecretKeyError(f"the platform's key file {path} is not readable as a key ({exc}); restore it "
                             "from the backup kept apart from the database") from None
    if len(key) != KEY_BYTES:
        raise SecretKeyError(f"the platform's key file {path} holds {len(key)} bytes, not {KEY_BYTES}")
    return key


class SecretSeal:
    def __init__(self, key: bytes, source: Path):
        self._aead = AESGCM(key)
        self.source = source

    def seal(self, secret: str, owner: str) -> str:
        nonce = secrets.token_bytes(12)
        sealed = self._aead.encrypt(nonce, secret.encode("utf-8"), owner.encode())
        return PREFIX + base64.b64encode(nonce + sealed).decode("ascii")

    def unseal(self, stored: str, owner: str) -> str:
        if not is_sealed(stored):
            return stored  # stored before sealing existed; CentralDB seals these when it opens
        raw = base64.b64decode(stored[len(PREFIX):])
        try:
            return self._aead.decrypt(raw[:12], raw[12:], owner.encode()).decode("utf-8")
        except InvalidTag:
            raise SecretKeyError(f"the secret of {owner} does not open with the key in {self.source}: the "
                                 "database was sealed under another key file; start the platform with that "
                                 "one (--key-file or $KIOSK_CENTRAL_KEY_FILE)") from None


def is_sealed(stored: str) -> bool:
    return stored.startswith(PREFIX)
