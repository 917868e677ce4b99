"""The platform's database and secrets at rest, and who may download a document (issue 24, finding 10)."""
from __future__ import annotations

import base64
import json
import os
import sqlite3
import stat

import pytest
import requests

from kiosk.central.db import CentralDB, SecretKeyError
from kiosk.wire import auth


def mode(path) -> int:
    return stat.S_IMODE(os.stat(path).st_mode)


def test_central_db_is_created_0600_in_a_0700_directory_with_a_0600_key(tmp_path):
    db_path = tmp_path / "state" / "central.db"
    with CentralDB(db_path) as db:
        db.add_kiosk("k1")
    assert mode(db_path.parent) == 0o700
    assert mode(db_path) == 0o600
    assert mode(db_path.parent / "central.key") == 0o600


def test_secrets_are_not_stored_in_plain_text(tmp_path):
    db_path = tmp_path / "central.db"
    with CentralDB(db_path) as db:
        kiosk_secret, _ = db.add_kiosk("k1")
        op_secret, _ = db.add_operator("op")
        assert db.secret_of("kiosk", "k1") == kiosk_secret
        assert db.secret_of("operator", "op") == op_secret
    conn = sqlite3.connect(db_path)
    stored = [r[0] for r in conn.execute("SELECT secret FROM kiosks UNION ALL SELECT secret FROM operators")]
    conn.close()
    assert kiosk_secret not in stored and op_secret not in stored
    raw = b"".join(p.read_bytes() for p in tmp_path.iterdir() if p.name.startswith("central.db"))
    assert kiosk_secret.encode() not in raw and op_secret.encode() not in raw


def test_a_copy_of_the_database_without_its_key_cannot_sign(tmp_path):
    db_path = tmp_path / "central.db"
    with CentralDB(db_path) as db:
        db.add_kiosk("k1")
    stolen = tmp_path / "elsewhere"
    stolen.mkdir()
    (stolen / "central.db").write_bytes(db_path.read_bytes())
    with pytest.raises(SecretKeyError):
        CentralDB(stolen / "central.db", key_file=stolen / "central.key").secret_of("kiosk", "k1")


def test_plain_secrets_stored_before_are_sealed_when_the_database_is_opened(tmp_path):
    db_path = tmp_path / "central.db"
    with CentralDB(db_path) as db:
        db.add_kiosk("k1", "plain-secret-of-k1-000000")
    conn = sqlite3.connect(db_path)
    conn.execute("UPDATE kiosks SET secret = 'plain-secret-of-k1-000000'")
    conn.commit()
    conn.close()
    with CentralDB(db_path) as db:
        assert db.secret_of("kiosk", "k1") == "plain-secret-of-k1-000000"
    conn = sqlite3.connect(db_path)
    assert conn.execute("SELECT secret FROM kiosks").fetchone()[0] != "plain-secret-of-k1-000000"
    conn.close()


def test_key_file_comes_from_the_environment_when_not_given(tmp_path, monkeypatch):
    key = tmp_path / "keys" / "platform.key"
    key.parent.mkdir(mode=0o700)
    monkeypatch.setenv("KIOSK_CENTRAL_KEY_FILE", str(key))
    with CentralDB(tmp_path / "central.db") as db:
        db.add_kiosk("k1")
    assert key.exists() and not (tmp_path / "central.key").exists()


# -- documents are downloaded for the holder they were released to ----------------------------------

PDF = b"%PDF-1.4\n% test document\n"
HOLDER, OTHER = "a" * 64, "b" * 64


def test_document_download_requires_the_holder_it_was_released_to(central):
    up = {"title": "test", "pages": 1, "pdf_base64": base64.b64encode(PDF).decode(), "holders": [HOLDER]}
    assert central.call("PUT", "/api/v1/documents/doc-hold-1", up, operator="op").status_code == 200
    without = central.call("GET", "/api/v1/documents/doc-hold-1")
    assert without.status_code == 422, without.text
    assert "holder" in json.dumps(without.json())
    other = central.call("GET", f"/api/v1/documents/doc-hold-1?holder={OTHER}")
    assert other.status_code == 404, other.text
    mine = central.call("GET", f"/api/v1/documents/doc-hold-1?holder={HOLDER}")
    assert mine.status_code == 200 and mine.content == PDF


def test_central_unit_keeps_its_state_private():
    from tests.conftest import ROOT

    unit = (ROOT / "systemd" / "kiosk-central.service").read_text()
    assert "\nUMask=0077\n" in unit and "\nStateDirectoryMode=0700\n" in unit
