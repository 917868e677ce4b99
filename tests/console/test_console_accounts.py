"""The console's accounts, sessions and sign-in throttle (kiosk/central/console/accounts.py), on both engines,
with time injected: no test waits for a session to expire."""
from __future__ import annotations

import pytest
from sqlalchemy import select

from kiosk.central import schema as T
from kiosk.central.console import accounts
from kiosk.central.console.accounts import AccountError, SignInRefused
from kiosk.central.db import CentralDB
from tests.conftest import run_kiosk

T0 = 1_800_000_000.0
PASSWORD = "correct horse battery staple"


@pytest.fixture(autouse=True)
def quick_hashes(monkeypatch):
    """Argon2id at 1 MiB and one pass: these tests count sign-ins, they do not measure the hash's cost (the
    platform's own, argon2-cffi's defaults, is what the tests over HTTP sign in against)."""
    from argon2 import PasswordHasher
    monkeypatch.setattr(accounts, "_hasher", PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1))
    monkeypatch.setattr(accounts, "_DUMMY_HASH", accounts._hasher.hash("not a password of anyone's"))


@pytest.fixture
def db(platform_db):
    with CentralDB(platform_db) as central:
        with central.begin() as conn:
            accounts.add_user(conn, T0, "ops", PASSWORD, "operator", None, by="test")
            accounts.add_user(conn, T0, "staff-a", PASSWORD, "staff", "hall-a", by="test")
        yield central


def attempt(db, name="ops", password=PASSWORD, at=T0, addr="10.0.0.1"):
    """One sign-in as the console makes it: the refusal is committed too (it is counted and audited)."""
    with db.begin() as conn:
        try:
            return accounts.sign_in(conn, at, name, password, addr)
        except SignInRefused as exc:
            return exc


def sign_in(db, **kw) -> accounts.Session:
    made = attempt(db, **kw)
    assert isinstance(made, accounts.Session), made
    return made


def refused(db, **kw) -> SignInRefused:
    made = attempt(db, **kw)
    assert isinstance(made, SignInRefused), made
    return made


def session(db, token, at):
    with db.begin() as conn:
        return accounts.session(conn, at, token)


@pytest.mark.parametrize("name, password, role, hall, problem", [
    ("a b", PASSWORD, "operator", None, "letters, digits"),
    ("ops2", "short", "operator", None, "at least 10"),
    ("ops2", PASSWORD, "admin", None, "one of operator, staff, auditor"),
    ("s", PASSWORD, "staff", None, "--hall"),
    ("o", PASSWORD, "auditor", "hall-a", "leave --hall out"),
])
def test_an_account_that_cannot_be_made_is_refused_naming_why(db, name, password, role, hall, problem):
    with pytest.raises(AccountError, match=problem), db.begin() as conn:
        accounts.add_user(conn, T0, name, password, role, hall, by="test")


def test_a_password_is_kept_as_an_argon2id_hash_and_a_session_token_only_as_its_sha256(db):
    made = sign_in(db)
    with db.reading() as conn:
        stored = conn.execute(select(T.console_users.c.password_hash).where(T.console_users.c.name == "ops")).scalar()
        tokens = conn.execute(select(T.console_sessions.c.token_sha256)).scalars().all()
    assert stored.startswith("$argon2id$") and PASSWORD not in stored
    assert made.token and made.token not in tokens and len(tokens) == 1 and len(tokens[0]) == 64


def test_an_existing_account_is_replaced_only_when_asked_and_its_sessions_end(db):
    made = sign_in(db)
    with pytest.raises(AccountError, match="--replace"), db.begin() as conn:
        accounts.add_user(conn, T0, "ops", "another password", "auditor", None, by="test")
    with db.begin() as conn:
        assert accounts.add_user(conn, T0, "ops", "another password", "auditor", None, by="test",
                                 replace=True) is False
    assert session(db, made.token, T0 + 1) is None
    assert sign_in(db, password="another password").person.role == "auditor"


def test_a_session_ends_when_idle_when_too_old_and_at_sign_out(db):
    made = sign_in(db)
    assert session(db, made.token, T0 + accounts.IDLE_S - 1).person.name == "ops"
    assert session(db, made.token, T0 + 2 * accounts.IDLE_S - 2) is not None   # each request restarts the idle clock
    assert session(db, made.token, T0 + 3 * accounts.IDLE_S) is None            # idle too long
    late = sign_in(db)
    at = T0
    while at + accounts.IDLE_S / 2 < T0 + accounts.LIFETIME_S:                  # busy all day
        at += accounts.IDLE_S / 2
        assert session(db, late.token, at) is not None
    assert session(db, late.token, T0 + accounts.LIFETIME_S) is None
    last = sign_in(db)
    with db.begin() as conn:
        accounts.sign_out(conn, T0 + 1, last.token, "ops")
    assert session(db, last.token, T0 + 2) is None
    assert session(db, "", T0) is None and session(db, "x" * 500, T0) is None


def test_wrong_passwords_lock_the_account_name_for_the_window_even_for_the_right_one(db):
    for i in range(accounts.MAX_FAILURES_PER_USER):
        assert refused(db, password="wrong password", at=T0 + i).reason == "wrong"
    locked = refused(db, at=T0 + 10)
    assert locked.reason == "throttled" and locked.retry_after_s == pytest.approx(accounts.FAILURE_WINDOW_S - 10)
    assert sign_in(db, name="staff-a", at=T0 + 10).person.hall == "hall-a"    # another account is not locked
    assert sign_in(db, at=T0 + accounts.FAILURE_WINDOW_S).person.name == "ops"  # the window has passed


def test_one_address_trying_many_names_is_throttled_too(db):
    for i in range(accounts.MAX_FAILURES_PER_ADDR):
        refused(db, name=f"guess{i}", password="wrong password", addr="192.0.2.9", at=T0 + i)
    assert refused(db, name="staff-a", addr="192.0.2.9", at=T0 + 30).reason == "throttled"
    assert sign_in(db, name="staff-a", addr="192.0.2.10", at=T0 + 30).person.name == "staff-a"


def test_an_unknown_name_is_refused_as_a_wrong_password_is(db):
    assert refused(db, name="nobody").reason == "wrong"


def test_every_sign_in_and_account_change_is_in_the_audit_log(db):
    sign_in(db)
    refused(db, password="wrong password")
    with db.reading() as conn:
        rows = conn.execute(select(T.console_audit.c.user_name, T.console_audit.c.action, T.console_audit.c.target)
                            .order_by(T.console_audit.c.rowid)).all()
    assert [tuple(r) for r in rows] == [("test", "user.add", "ops"), ("test", "user.add", "staff-a"),
                                        ("ops", "login", "10.0.0.1"), ("ops", "login.failed", "10.0.0.1")]


def test_roles_decide_what_a_person_may_do():
    ops, staff, auditor = (accounts.Person("x", r, "h" if r == "staff" else None) for r in accounts.ROLES)
    assert [p.may("acknowledge") for p in (ops, staff, auditor)] == [True, True, False]
    assert [p.may("configure") for p in (ops, staff, auditor)] == [True, False, False]
    assert [p.sees_all_halls for p in (ops, staff, auditor)] == [True, False, True]


def test_add_user_takes_the_password_from_stdin_and_never_from_the_command_line(tmp_path):
    db = str(tmp_path / "central.db")
    made = run_kiosk("central", "add-user", "ops", "--role", "operator", "--password-stdin", "--db", db, "--json",
                     input=PASSWORD + "\n")
    assert made.returncode == 0 and '"created": true' in made.stdout and PASSWORD not in made.stdout + made.stderr
    again = run_kiosk("central", "add-user", "ops", "--role", "operator", "--password-stdin", "--db", db,
                      input=PASSWORD + "\n")
    assert again.returncode == 1 and "--replace" in again.stderr
    no_hall = run_kiosk("central", "add-user", "s", "--role", "staff", "--password-stdin", "--db", db,
                        input=PASSWORD + "\n")
    assert no_hall.returncode == 2 and "--hall" in no_hall.stderr
    short = run_kiosk("central", "add-user", "s", "--role", "staff", "--hall", "h", "--password-stdin", "--db", db,
                      input="short\n")
    assert short.returncode == 2 and "at least 10" in short.stderr
    no_tty = run_kiosk("central", "add-user", "a", "--role", "auditor", "--db", db, input=PASSWORD + "\n")
    assert no_tty.returncode == 2 and "--password-stdin" in no_tty.stderr
    listed = run_kiosk("central", "users", "--db", db)
    assert listed.returncode == 0 and "ops" in listed.stdout and "operator" in listed.stdout
