"""The diagnostics bundle: everything a technician needs, nothing that must not leave the kiosk."""
import json
import logging
import zipfile

from kiosk import config
from kiosk.core.technician import bundle as diag_bundle, recent_log
from kiosk.core.privacy import forget_people, remember_person
from kiosk.sync.outbox import Outbox
from kiosk.app.tech_sources import KioskFacts
from tests.conftest import run_kiosk, write_config

ID_NUMBER = "110105199003071234"
NAME = "张示例"


def facts(tmp_path):
    settings = config.load(write_config(tmp_path / "k"))
    return settings, KioskFacts(settings)


def everything(path):
    with zipfile.ZipFile(path) as z:
        return {n: z.read(n).decode() for n in z.namelist()}


def test_the_bundle_holds_config_versions_devices_queue_and_recent_logs_without_secrets(tmp_path):
    settings, f = facts(tmp_path)
    handler = recent_log.RecentLog(50, settings.data_path / recent_log.FILE)
    log = logging.getLogger("kiosk.test.bundle")
    log.addHandler(handler)
    try:
        remember_person(NAME, ID_NUMBER)
        log.warning("card of %s %s could not be matched", NAME, ID_NUMBER)
        log.error("plain failure without a person")
    finally:
        forget_people()
        log.removeHandler(handler)
    conn = f.store.connect()
    Outbox(conn).record("probe", {"n": 1})
    conn.close()
    out = f.export_bundle(tmp_path / "b.zip", devices=[{"name": "locker", "last_error": f"holder {ID_NUMBER}"}])
    parts = everything(out["path"])
    assert set(parts) >= {"config.json", "versions.json", "devices.json", "queue.json", "host.json", "recent-log.json"}
    blob = "\n".join(parts.values())
    for secret in (settings.central.secret, settings.privacy.hash_key, *settings.technician.pin_hashes,
                   ID_NUMBER, NAME):
        assert secret not in blob
    cfg = json.loads(parts["config.json"])
    assert cfg["central"]["secret"] == diag_bundle.REDACTED and cfg["privacy"]["hash_key"] == diag_bundle.REDACTED
    assert cfg["technician"]["pin_hashes"] == diag_bundle.REDACTED
    assert cfg["kiosk"]["id"] == settings.kiosk.id
    assert json.loads(parts["queue.json"])["counts"]["pending"] == 1
    logs = json.loads(parts["recent-log.json"])
    assert [e["level"] for e in logs] == ["WARNING", "ERROR"] and "张*" in logs[0]["message"]


def test_without_a_usb_stick_the_bundle_goes_to_the_data_dir_and_with_one_to_the_stick(tmp_path):
    settings, f = facts(tmp_path)
    out = f.export_bundle(is_mount=lambda p: False)
    assert out["where"] == "data_dir" and out["path"].startswith(str(settings.data_path))
    stick = tmp_path / "media" / "tech" / "USB"
    stick.mkdir(parents=True)
    assert diag_bundle.find_usb([str(tmp_path / "media" / "*" / "*")], is_mount=lambda p: True) == stick


def test_a_url_with_credentials_is_redacted():
    assert diag_bundle.redact_data({"url": "https://user:pw@host/x"}) == {"url": "https://**REDACTED**@host/x"}


def test_kiosk_diag_bundle_from_a_shell(tmp_path):
    cfg = write_config(tmp_path / "k")
    out = tmp_path / "diag.zip"
    r = run_kiosk("diag", "bundle", "--out", str(out), "--json", config=cfg)
    assert r.returncode == 0, r.stderr
    doc = json.loads(r.stdout)
    assert doc["path"] == str(out) and out.exists()
    assert "demo-secret" not in "".join(everything(out).values())


def test_kiosk_diag_bundle_to_an_unwritable_place_fails_clearly(tmp_path):
    cfg = write_config(tmp_path / "k")
    r = run_kiosk("diag", "bundle", "--out", "/proc/nope/diag.zip", config=cfg)
    assert r.returncode == 1 and "could not be written" in r.stderr
