"""The console's people: accounts and roles, sign-in with throttling, sessions, and the audit log.

Roles (docs/console.md):

- `operator`: everything, in every hall: the fleet, config bundles, the accounts;
- `staff`: one hall: read it, acknowledge its alarms, follow up its ratings;
- `auditor`: read everything, change nothing.

Passwords are hashed with Argon2id (argon2-cffi's defaults: 64 MiB, 3 passes); a hash made with older
parameters is replaced at the next sign-in. A session is a random token in a cookie; the database keeps only
its SHA-256, so a copy of the database opens no session. A session ends after `IDLE_S` without a request or
`LIFETIME_S` after sign-in, whichever comes first, and at sign-out.

Throttling: after `MAX_FAILURES_PER_USER` wrong passwords for one account name, or `MAX_FAILURES_PER_ADDR`
from one address, within `FAILURE_WINDOW_S`, sign-in is refused for the rest of that window, even with
the right password, and the answer says when to try again; the count is in the database, so every worker
sees it. An unknown name costs the same hashing as a known one.

Every change made through the console, and every sign-in and refusal, is one row of `console_audit`
(who, what, when, on what), written in the same transaction as the change.
"""
from __future__ import annotations

import hashlib
import json
import re
import secrets
from dataclasses import dataclass
from typing import Any

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from sqlalchemy import Connection, delete, insert, select, update

from kiosk.central import schema as T

ROLES = ("operator", "staff", "auditor")
IDLE_S = 30 * 60
LIFETIME_S = 12 * 3600
FAILURE_WINDOW_S = 15 * 60
MAX_FAILURES_PER_USER = 5
MAX_FAILURES_PER_ADDR = 20
MIN_PASSWORD = 10
NAME = re.compile(r"^[\w.@-]{1,64}$")

_hasher = PasswordHasher()
# verified against when the name is unknown, so that a wrong name and a wrong password take as long
_DUMMY_HASH = _hasher.hash(secrets.token_urlsafe(16))


class AccountError(ValueError):
    """A request to make or change an account that cannot be done: the message says what and why."""


class SignInRefused(Exception):
    def __init__(self, reason: str, retry_after_s: float = 0):
        super().__init__(reason)
        self.reason = reason                 # "wrong" | "throttled"
        self.retry_after_s = retry_after_s


@dataclass(frozen=True)
class Person:
    name: str
    role: str
    hall: str | None

    @property
    def sees_all_halls(self) -> bool:
        return self.role != "staff"

    def may(self, action: str) -> bool:
        """What a role may do: `read` everything it sees; `acknowledge` alarms and `follow_up` ratings
        (operators and staff); `configure` the fleet and `manage` accounts (operators)."""
        if action == "read":
            return True
        if action in ("acknowledge", "follow_up"):
            return self.role in ("operator", "staff")
        return self.role == "operator"


@dataclass(frozen=True)
class Session:
    person: Person
    csrf: str
    token: str = ""          # only when just made: the cookie's value


def _sha(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def audit(conn: Connection, now: float, who: str, action: str, target: str = "", **detail: Any) -> None:
    conn.execute(insert(T.console_audit).values(at=now, user_name=who, action=action, target=target,
                                                detail=json.dumps(detail, ensure_ascii=False, sort_keys=True)))


def check_new_account(name: str, password: str, role: str, hall: str | None) -> None:
    if not NAME.match(name):
        raise AccountError(f"account name {name!r}: 1 to 64 letters, digits, '.', '_', '-' or '@'")
    if role not in ROLES:
        raise AccountError(f"role {role!r}: one of {', '.join(ROLES)}")
    if role == "staff" and not hall:
        raise AccountError("a staff account belongs to one hall: give --hall CODE")
    if role != "staff" and hall:
        raise AccountError(f"an {role} account sees every hall: leave --hall out")
    check_password(password)


def check_password(password: str) -> None:
    if len(password) < MIN_PASSWORD:
        raise AccountError(f"the password has {len(password)} characters: at least {MIN_PASSWORD}")
    if len(password) > 1024:
        raise AccountError("the password is longer than 1024 characters")


def add_user(conn: Connection, now: float, name: str, password: str, role: str, hall: str | None, *,
             by: str, replace: bool = False) -> bool:
    """Make an account (or with `replace`, set its password, role and hall); True when it was new."""
    check_new_account(name, password, role, hall)
    u = T.console_users
    values = {"password_hash": _hasher.hash(password), "role": role, "hall": hall, "disabled_at": None}
    exists = conn.execute(select(u.c.name).where(u.c.name == name)).first() is not None
    if exists and not replace:
        raise AccountError(f"account {name} already exists: give --replace to set its password, role and hall")
    if exists:
        conn.execute(update(u).where(u.c.name == name).values(**values))
        conn.execute(delete(T.console_sessions).where(T.console_sessions.c.user_name == name))
    else:
        conn.execute(insert(u).values(name=name, created_at=now, **values))
    audit(conn, now, by, "user.replace" if exists else "user.add", name, role=role, hall=hall)
    return not exists


def users(conn: Connection) -> list[dict[str, Any]]:
    u = T.console_users
    return [dict(r) for r in conn.execute(select(u.c.name, u.c.role, u.c.hall, u.c.created_at, u.c.disabled_at)
                                          .order_by(u.c.name)).mappings()]


def _failures(conn: Connection, key: str, now: float) -> tuple[int, float]:
    f = T.console_login_failures
    row = conn.execute(select(f.c.failures, f.c.since).where(f.c.key == key)).first()
    if row is None or now - row.since >= FAILURE_WINDOW_S:
        return 0, now
    return row.failures, row.since


def _count_failure(conn: Connection, key: str, now: float) -> None:
    f = T.console_login_failures
    failures, since = _failures(conn, key, now)
    if conn.execute(update(f).where(f.c.key == key).values(failures=failures + 1, since=since)).rowcount == 0:
        conn.execute(insert(f).values(key=key, failures=1, since=now))


def sign_in(conn: Connection, now: float, name: str, password: str, addr: str) -> Session:
    """A new session for `name` if the password is right and neither the name nor the address is throttled;
    SignInRefused otherwise. The caller commits `conn` either way (a failure is counted and audited)."""
    keys = (f"user:{name[:64]}", MAX_FAILURES_PER_USER), (f"addr:{addr}", MAX_FAILURES_PER_ADDR)
    for key, limit in keys:
        failures, since = _failures(conn, key, now)
        if failures >= limit:
            audit(conn, now, name[:64] or "-", "login.throttled", addr)
            raise SignInRefused("throttled", since + FAILURE_WINDOW_S - now)
    u = T.console_users
    row = conn.execute(select(u.c.name, u.c.password_hash, u.c.role, u.c.hall)
                       .where(u.c.name == name, u.c.disabled_at.is_(None))).first()
    try:
        _hasher.verify(row.password_hash if row else _DUMMY_HASH, password)
        ok = row is not None
    except (VerificationError, VerifyMismatchError, InvalidHashError):
        ok = False
    if not ok:
        for key, _limit in keys:
            _count_failure(conn, key, now)
        audit(conn, now, name[:64] or "-", "login.failed", addr)
        raise SignInRefused("wrong")
    if _hasher.check_needs_rehash(row.password_hash):
        conn.execute(update(u).where(u.c.name == name).values(password_hash=_hasher.hash(password)))
    conn.execute(delete(T.console_login_failures).where(T.console_login_failures.c.key == keys[0][0]))
    token, csrf = secrets.token_urlsafe(32), secrets.token_urlsafe(32)
    conn.execute(delete(T.console_sessions).where(T.console_sessions.c.expires_at < now))
    conn.execute(insert(T.console_sessions).values(token_sha256=_sha(token), user_name=name, csrf=csrf,
                                                   created_at=now, seen_at=now, expires_at=now + LIFETIME_S))
    audit(conn, now, name, "login", addr)
    return Session(Person(row.name, row.role, row.hall), csrf, token)


def session(conn: Connection, now: float, token: str) -> Session | None:
    """The live session of a cookie's token (its idle clock restarted), or None."""
    if not token or len(token) > 100:
        return None
    s, u = T.console_sessions, T.console_users
    row = conn.execute(select(s.c.csrf, s.c.seen_at, s.c.expires_at, u.c.name, u.c.role, u.c.hall)
                       .join(u, u.c.name == s.c.user_name)
                       .where(s.c.token_sha256 == _sha(token), u.c.disabled_at.is_(None))).first()
    if row is None or now >= row.expires_at or now - row.seen_at >= IDLE_S:
        return None
    if now - row.seen_at >= 60:   # one write a minute at most per session
        conn.execute(update(s).where(s.c.token_sha256 == _sha(token)).values(seen_at=now))
    return Session(Person(row.name, row.role, row.hall), row.csrf)


def sign_out(conn: Connection, now: float, token: str, who: str) -> None:
    conn.execute(delete(T.console_sessions).where(T.console_sessions.c.token_sha256 == _sha(token)))
    audit(conn, now, who, "logout")
