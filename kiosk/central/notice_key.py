"""The notifier's private key (`notice.key`), and the pickup page tokens derived from it.

Kiosks seal each pickup code to the matching public key (`[central] notice_key`, printed by
`kiosk central notice-key`; kiosk/wire/sealed.py). The private key lives in `notice.key` beside a SQLite
database, or beside the platform's sealing key (`--key-file`, $KIOSK_CENTRAL_KEY_FILE) with a database
server, or `--notice-key PATH`, made 0600 on first use; both the notifier (to write the code into the
message) and the platform's web server (to show it on the pickup page) read it. Without this file no
one can open the codes in the database or a backup: keep its backup apart from theirs.

A notice's page link carries a token of 128 bits, HMAC-derived from this key and the deposit's id: the
notifier makes the same link on every attempt of the same message, the platform keeps only the token's
SHA-256, and nobody without the key can guess a token.
"""
from __future__ import annotations

import base64
import hashlib
import hmac
import os
import re
import secrets
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, NoEncryption, PrivateFormat

from kiosk.central.sealing import ENV_KEY_FILE
from kiosk.wire import sealed

KEY_NAME = "notice.key"
TOKEN = re.compile(r"^[A-Za-z0-9_-]{22}$")   # 16 bytes, base64url without padding
_TOKEN_LABEL = b"kiosk pickup page token v1\x00"


class NoticeKeyError(Exception):
    """notice.key cannot be read as the notifier's key; the message says which file and what to do."""


def key_path(db: Path | str, explicit: Path | str | None = None, key_file: Path | str | None = None) -> Path:
    """`explicit` (--notice-key); else notice.key beside a SQLite database (`db`: a path or a sqlite:/// URL);
    else, with a database server, beside the platform's sealing key (`key_file`, else $KIOSK_CENTRAL_KEY_FILE).
    NoticeKeyError when there is none of these."""
    if explicit:
        return Path(explicit)
    if "://" not in str(db):
        return Path(db).parent / KEY_NAME
    from kiosk.central import database
    path = database.sqlite_path(database.database_url(db))
    if path is not None:
        return path.parent / KEY_NAME
    sealing = key_file or os.environ.get(ENV_KEY_FILE)
    if sealing:
        return Path(sealing).parent / KEY_NAME
    raise NoticeKeyError(f"{database.shown(str(db))}: give the notifier's key file with --notice-key PATH: with a "
                         f"database server it is not kept beside the database (nor is --key-file or {ENV_KEY_FILE} "
                         "given, beside which it would be)")


def load_or_create(path: Path) -> X25519PrivateKey:
    """The key in `path`; made when the file does not exist. Made whole in a temporary file and linked into
    place, so two processes starting at once both end up with the one key that won."""
    if not path.exists():
        path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        tmp = path.with_name(f".{path.name}.{secrets.token_hex(6)}")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        try:
            with os.fdopen(fd, "w") as f:
                f.write(sealed.private_key_text(sealed.new_private_key()) + "\n")
                f.flush()
                os.fsync(f.fileno())
            try:
                os.link(tmp, path)
            except FileExistsError:
                pass
        finally:
            tmp.unlink(missing_ok=True)
    try:
        return sealed.parse_private_key(path.read_text(encoding="ascii"))
    except (OSError, UnicodeDecodeError, sealed.SealError) as exc:
        raise NoticeKeyError(f"the notifier's key file {path} is not usable ({exc}); restore it from its backup "
                             "(codes sealed to its public key open only with it)") from None


def public_text(key: X25519PrivateKey) -> str:
    """`x25519:…`, for the kiosks' `[central] notice_key`."""
    return sealed.public_key_text(key.public_key())


def page_token(key: X25519PrivateKey, deposit_id: str) -> str:
    raw = key.private_bytes(Encoding.Raw, PrivateFormat.Raw, NoEncryption())
    mac = hmac.new(hashlib.sha256(_TOKEN_LABEL + raw).digest(), deposit_id.encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(mac[:16]).rstrip(b"=").decode("ascii")


def token_digest(token: str) -> str:
    return hashlib.sha256(token.encode("ascii")).hexdigest()
