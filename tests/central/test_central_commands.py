"""`kiosk central` sub-commands: provisioning, seeding, export, and the server's start and stop."""
from __future__ import annotations

import json
import socket
import subprocess

import pytest
from stdnum.cn import ric

from kiosk.central.db import CentralDB
from kiosk.central.demo import DEMO_DOCUMENTS, DEMO_HOLDERS
from kiosk.core.privacy import holder_hash
from tests.central.conftest import Server, catalog, free_port, item
from tests.conftest import KIOSK, ROOT, run_kiosk, write_config


def central_cmd(*args: str, db=None, env=None, config=None) -> subprocess.CompletedProcess:
    extra = ["--db", str(db)] if db else []
    return run_kiosk("central", *args, *extra, env=env, config=config)


def test_add_kiosk_prints_the_secret_once_as_json(tmp_path):
    db = tmp_path / "c.db"
    res = central_cmd("add-kiosk", "hall-k09", "--json", db=db)
    assert res.returncode == 0, res.stderr
    doc = json.loads(res.stdout)
    assert doc["kiosk_id"] == "hall-k09" and len(doc["secret"]) >= 16
    again = central_cmd("add-kiosk", "hall-k09", "--json", db=db)
    assert again.returncode == 1 and "--rotate" in again.stderr
    assert json.loads(again.stdout) == {"ok": False, "error": again.stderr.strip(), "exit": 1}   # --json: in JSON too
    assert doc["secret"] not in again.stderr + again.stdout
    with CentralDB(db) as c:
        assert c.secret_of("kiosk", "hall-k09") == doc["secret"]


def test_add_kiosk_with_a_given_secret_is_repeatable_and_rotate_replaces_it(tmp_path):
    db = tmp_path / "c.db"
    secret = "demo-secret-demo-hall-k01-0000000000"
    for _ in range(2):  # `make run` provisions the demo kiosk every time it starts
        res = central_cmd("add-kiosk", "demo-hall-k01", "--secret", secret, "--json", db=db)
        assert res.returncode == 0, res.stderr
        assert json.loads(res.stdout)["secret"] == secret
    rotated = central_cmd("add-kiosk", "demo-hall-k01", "--rotate", "--json", db=db)
    new = json.loads(rotated.stdout)["secret"]
    assert rotated.returncode == 0 and new != secret
    with CentralDB(db) as c:
        assert c.secret_of("kiosk", "demo-hall-k01") == new


@pytest.mark.parametrize("args", [("add-kiosk", "bad id"), ("add-kiosk", "k1", "--secret", "short"),
                                  ("add-operator", "ops/li")])
def test_unusable_names_and_secrets_are_bad_usage(tmp_path, args):
    res = central_cmd(*args, db=tmp_path / "c.db")
    assert res.returncode == 2 and "kiosk: central" in res.stderr


def test_add_operator_prints_its_secret(tmp_path):
    res = central_cmd("add-operator", "ops-li", "--json", db=tmp_path / "c.db")
    assert res.returncode == 0, res.stderr
    assert set(json.loads(res.stdout)) >= {"operator", "secret"}


def test_export_lists_what_arrived_by_kiosk_and_seq(central):
    items = [item(seq=s) for s in (1001, 1002)]
    central.call("POST", "/api/v1/transactions", {"kiosk_id": "k2", "items": items}, kiosk="k2")
    res = central_cmd("export", "--kiosk", "k2", "--json", db=central.db)
    assert res.returncode == 0, res.stderr
    doc = json.loads(res.stdout)
    assert set(doc) == {"transactions"}
    rows = [t for t in doc["transactions"] if t["id"] in {i["id"] for i in items}]
    assert rows == [{"id": i["id"], "seq": i["seq"], "kind": "probe", "kiosk_id": "k2"} for i in items]
    assert all(t["kiosk_id"] == "k2" for t in doc["transactions"])
    seqs = [t["seq"] for t in doc["transactions"]]
    assert seqs == sorted(seqs)
    everything = json.loads(central_cmd("export", "--json", db=central.db).stdout)["transactions"]
    assert len(everything) >= len(doc["transactions"]) and {t["kiosk_id"] for t in everything} >= {"k2"}


def test_export_of_an_empty_platform_is_an_empty_list(tmp_path):
    assert central_cmd("migrate", db=tmp_path / "c.db").returncode == 0   # a platform with nothing stored yet
    res = central_cmd("export", "--json", db=tmp_path / "c.db")
    assert res.returncode == 0 and json.loads(res.stdout) == {"transactions": []}


def test_demo_holders_have_valid_id_numbers():
    for h in DEMO_HOLDERS:
        assert ric.is_valid(h.id_number), h.id_number
    assert len({h.id_number for h in DEMO_HOLDERS}) == len(DEMO_HOLDERS)
    assert all(0 <= i < len(DEMO_HOLDERS) for d in DEMO_DOCUMENTS for i in d.holders)


def seed(db, tmp_path, *args, env=None, config=None):
    cat = tmp_path / "catalog.json"
    if not cat.exists():
        cat.write_text(json.dumps(catalog("seed-t", 2), ensure_ascii=False), encoding="utf-8")
    return central_cmd("seed", "--catalog", str(cat), "--json", *args, db=db, env=env, config=config)


def _documents(c: CentralDB) -> dict[str, str]:
    from sqlalchemy import text

    with c.reading() as conn:
        return dict(conn.execute(text("SELECT doc_id, sha256 FROM documents")).all())


def test_seed_twice_changes_nothing_the_second_time(tmp_path):
    db = tmp_path / "c.db"
    first = seed(db, tmp_path, "--hash-key", "k" * 32)
    assert first.returncode == 0, first.stderr
    one = json.loads(first.stdout)
    assert one["catalog"]["changed"] is True and one["new_releases"] == sum(len(d.holders) for d in DEMO_DOCUMENTS)
    with CentralDB(db) as c:
        pdfs = _documents(c)
    two = json.loads(seed(db, tmp_path, "--hash-key", "k" * 32).stdout)
    assert two["catalog"]["changed"] is False and two["new_releases"] == 0
    with CentralDB(db) as c:
        assert _documents(c) == pdfs
        assert c.count("catalogs") == 1
    # no full ID number in what seed prints
    assert not any(h.id_number in first.stdout + first.stderr for h in DEMO_HOLDERS)


def test_seed_takes_the_hash_key_from_option_then_environment_then_kiosk_config(tmp_path):
    cfg = write_config(tmp_path / "kiosk", **{r'^hash_key = .*$': 'hash_key = "config-key-0123456789abcdef"'})
    cases = [(("--hash-key", "option-key-0123456789abcdef"), {"KIOSK_HASH_KEY": "env-key-0123456789abcdef"},
              "option-key-0123456789abcdef", "--hash-key"),
             ((), {"KIOSK_HASH_KEY": "env-key-0123456789abcdef"}, "env-key-0123456789abcdef", "$KIOSK_HASH_KEY"),
             ((), {"KIOSK_HASH_KEY": ""}, "config-key-0123456789abcdef", "[privacy] hash_key")]
    for i, (args, env, key, source) in enumerate(cases):
        db = tmp_path / f"c{i}.db"
        res = seed(db, tmp_path, *args, env=env, config=cfg)
        assert res.returncode == 0, res.stderr
        assert source in json.loads(res.stdout)["hash_key_from"]
        with CentralDB(db) as c:
            assert c.documents_for(holder_hash(key, DEMO_HOLDERS[0].id_number))


def test_seed_releases_demo_documents_to_an_extra_holder(tmp_path):
    db = tmp_path / "c.db"
    extra = DEMO_HOLDERS[3].id_number  # a valid number that has nothing released by default
    res = seed(db, tmp_path, "--hash-key", "k" * 32, "--holder", extra)
    assert res.returncode == 0, res.stderr
    with CentralDB(db) as c:
        assert {d["id"] for d in c.documents_for(holder_hash("k" * 32, extra))} == \
            {d.doc_id for d in DEMO_DOCUMENTS if 0 in d.holders}
    bad = seed(tmp_path / "d.db", tmp_path, "--hash-key", "k" * 32, "--holder", "110101199003070990")
    assert bad.returncode == 2 and "110101199003070990" not in bad.stderr


def test_seed_without_its_catalog_fails_naming_the_file(tmp_path):
    res = central_cmd("seed", "--catalog", str(tmp_path / "nope.json"), "--hash-key", "k" * 32, db=tmp_path / "c.db")
    assert res.returncode == 1 and "nope.json" in res.stderr


def test_seed_refuses_an_invalid_catalog_naming_the_item(tmp_path):
    bad = catalog("bad", 2)
    del bad["items"][1]["department"]
    (tmp_path / "catalog.json").write_text(json.dumps(bad, ensure_ascii=False), encoding="utf-8")
    res = seed(tmp_path / "c.db", tmp_path, "--hash-key", "k" * 32)
    assert res.returncode == 1 and "items.1.department" in res.stderr


def test_server_stops_cleanly_on_sigterm(tmp_path):
    server = Server(tmp_path / "c.db", free_port(), tmp_path / "log")
    server.start()
    assert server.stop() == 0
    assert "Application shutdown complete" in server.log.read_text()


def test_server_on_a_port_in_use_fails_with_a_message(tmp_path):
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        s.listen()
        port = s.getsockname()[1]
        res = subprocess.run([str(KIOSK), "central", "--port", str(port), "--db", str(tmp_path / "c.db")],
                             capture_output=True, text=True, timeout=30, cwd=ROOT)
    assert res.returncode == 1 and f"127.0.0.1:{port}" in res.stderr


def test_seed_loads_the_demo_catalog_and_the_platform_serves_it_byte_for_byte(tmp_path):
    from tests.central.conftest import start_central

    c = start_central(tmp_path)
    try:
        res = central_cmd("seed", "--json", db=c.db, env={"KIOSK_HASH_KEY": "k" * 32})
        assert res.returncode == 0, res.stderr
        doc = json.loads(res.stdout)
        demo_catalog = ROOT / "config" / "demo-catalog.json"
        assert doc["catalog"]["items"] >= 40 and doc["catalog"]["source"] == str(demo_catalog)
        served = c.call("GET", "/api/v1/catalog")
        assert served.status_code == 200 and served.content == demo_catalog.read_bytes()
        docs = c.call("GET", f"/api/v1/kiosks/k1/documents?holder={holder_hash('k' * 32, DEMO_HOLDERS[1].id_number)}")
        assert {d["id"] for d in docs.json()["documents"]} == {d.doc_id for d in DEMO_DOCUMENTS if 1 in d.holders}
    finally:
        c.server.stop()
