"""The platform over TLS (uvicorn's own, `kiosk central --tls-cert --tls-key`), and a kiosk that trusts only the
CA its config names (`[central] ca_bundle`): the province's own CA works, a certificate from another CA is
refused with a message naming the setting, and the kiosk's sync goes through the real client on loopback."""
from __future__ import annotations

import datetime as dt
import ipaddress
import os
import subprocess
import time
from pathlib import Path

import pytest
import requests
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from kiosk.store import Store
from kiosk.sync.client import CentralClient, CentralOffline
from kiosk.sync.outbox import Outbox
from tests.conftest import KIOSK, ROOT, run_kiosk
from tests.sync.centralproc import KIOSK_ID, SECRET, free_port

NOW = dt.datetime.now(dt.timezone.utc)


def _name(cn: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, cn)])


def make_ca(cn: str):
    key = ec.generate_private_key(ec.SECP256R1())
    cert = (x509.CertificateBuilder().subject_name(_name(cn)).issuer_name(_name(cn)).public_key(key.public_key())
            .serial_number(x509.random_serial_number()).not_valid_before(NOW - dt.timedelta(days=1))
            .not_valid_after(NOW + dt.timedelta(days=30))
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .sign(key, hashes.SHA256()))
    return key, cert


def make_server_cert(ca_key, ca_cert, directory: Path) -> tuple[Path, Path]:
    key = ec.generate_private_key(ec.SECP256R1())
    cert = (x509.CertificateBuilder().subject_name(_name("platform.example.gov.cn")).issuer_name(ca_cert.subject)
            .public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(NOW - dt.timedelta(days=1)).not_valid_after(NOW + dt.timedelta(days=30))
            .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
                           critical=False)
            .sign(ca_key, hashes.SHA256()))
    crt, pem_key = directory / "tls.crt", directory / "tls.key"
    crt.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    pem_key.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                          serialization.NoEncryption()))
    pem_key.chmod(0o600)
    return crt, pem_key


def write_ca(cert, path: Path) -> Path:
    path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    return path


@pytest.fixture(scope="module")
def tls_platform(tmp_path_factory):
    d = tmp_path_factory.mktemp("tls")
    province_key, province = make_ca("示例省政务服务 CA")
    _other_key, other = make_ca("another CA")
    crt, key = make_server_cert(province_key, province, d)
    db = d / "central.db"
    assert run_kiosk("central", "add-kiosk", KIOSK_ID, "--secret", SECRET, "--db", str(db)).returncode == 0
    port = free_port()
    log = (d / "central.log").open("ab")
    proc = subprocess.Popen([str(KIOSK), "central", "--host", "127.0.0.1", "--port", str(port), "--db", str(db),
                             "--tls-cert", str(crt), "--tls-key", str(key)], cwd=ROOT, stdout=subprocess.DEVNULL,
                            stderr=log, env=dict(os.environ, KIVY_NO_ARGS="1"))
    url = f"https://127.0.0.1:{port}"
    province_pem = write_ca(province, d / "province-ca.pem")
    deadline = time.monotonic() + 20
    while True:
        try:
            requests.get(url + "/api/v1/health", timeout=0.5, verify=str(province_pem))
            break
        except requests.RequestException:
            assert proc.poll() is None and time.monotonic() < deadline, (d / "central.log").read_text()[-2000:]
            time.sleep(0.05)
    yield {"url": url, "province": province_pem, "other": write_ca(other, d / "other-ca.pem")}
    proc.terminate()
    proc.wait(timeout=20)
    log.close()


def test_a_kiosk_trusting_the_provinces_ca_syncs_over_tls(tls_platform, tmp_path):
    store = Store(tmp_path / "kiosk", KIOSK_ID)
    conn = store.connect()
    outbox = Outbox(conn)
    entry_id = outbox.record("probe", {"probe": 1}).id
    items = [e.wire() for e in outbox.items("pending", 10)]
    conn.close()
    client = CentralClient(tls_platform["url"], KIOSK_ID, SECRET, ca_bundle=str(tls_platform["province"]))
    result = client.post_transactions(items)
    assert [(r.id, r.status) for r in result.results] == [(entry_id, "accepted")]


def test_a_certificate_from_another_ca_is_refused_naming_the_setting(tls_platform):
    for bundle in (str(tls_platform["other"]), None):      # another CA; the system's store (no test CA in it)
        client = CentralClient(tls_platform["url"], KIOSK_ID, SECRET, ca_bundle=bundle)
        with pytest.raises(CentralOffline, match=r"TLS verification failed.*\[central\] ca_bundle"):
            client.post_transactions([])


def test_tls_flags_go_together_and_name_a_missing_file(tmp_path):
    done = run_kiosk("central", "--db", str(tmp_path / "c.db"), "--tls-cert", str(tmp_path / "x.crt"))
    assert done.returncode == 2 and "go together" in done.stderr
    done = run_kiosk("central", "--db", str(tmp_path / "c.db"), "--tls-cert", str(tmp_path / "x.crt"),
                     "--tls-key", str(tmp_path / "x.key"))
    assert done.returncode == 2 and "x.crt: no such file" in done.stderr and not (tmp_path / "c.db").exists()
