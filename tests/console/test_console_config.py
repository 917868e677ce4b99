"""The console's config page against the real platform: an operator uploads a signed bundle, which the
platform checks against the operator keys pinned in `[console] trusted_keys` before storing it; a forged,
unknown-key, unsigned or stale one is refused with what to do and stores nothing. In chromium, the
bundle uploaded through the page is then applied by a real `kiosk agent`, and the page says so."""
from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import time
from datetime import datetime, timezone
from pathlib import Path

import pytest
import requests
from selenium.webdriver.common.by import By

from kiosk import config
from kiosk.sync.config_apply import current_version
from kiosk.wire import bundle
from tests.central.conftest import platform_key_env
from tests.config_bundle.bundlekit import DAY, signed
from tests.console.conftest import PASSWORD, Console
from tests.console.test_console_browser import browser, follow, shot, sign_in  # noqa: F401 (fixture)
from tests.conftest import ENGINES, KIOSK, ROOT, run_kiosk
from tests.sync.centralproc import KIOSK_ID, Central, kiosk_config

pytestmark = pytest.mark.slow


class Platform(Console):
    """The console's platform as tests/sync/centralproc.py starts it, with the operator key pinned."""

    def __init__(self, central: Central, key, public: Path):
        self.proc, self.key, self.public = central, key, public

    @property
    def url(self) -> str:
        return self.proc.url

    def config_of(self, kiosk: str) -> requests.Response:
        from kiosk.wire import auth
        from tests.sync.centralproc import SECRET
        path = f"/api/v1/kiosks/{kiosk}/config"
        return requests.get(self.url + path, headers=auth.sign(SECRET, "GET", path, kiosk, b""), timeout=10)

    def upload(self, session: requests.Session, body: bytes, name: str = "bundle.json") -> requests.Response:
        return session.post(self.url + "/console/config", timeout=10, data={"csrf": self.csrf(session)},
                            files={"file": (name, body, "application/json")})


def start(tmp: Path, db=None) -> Platform:
    central = Central(tmp / "central", db=db)
    keys = tmp / "operator-machine"
    _private, public, _kid = bundle.write_keypair(keys)
    beside = tmp / "central" if db is None else Path(os.environ["KIOSK_CENTRAL_KEY_FILE"]).parent
    settings = beside / "central.toml"   # found beside the database, or beside the key file of a server database
    settings.write_text(f'[console]\ntrusted_keys = ["{public}"]\n', encoding="utf-8")
    for name, role, hall in (("ops", "operator", None), ("staff-a", "staff", "hall-a"), ("audit", "auditor", None)):
        res = run_kiosk("central", "add-user", name, "--role", role, "--password-stdin", "--db", str(central.db),
                        *(["--hall", hall] if hall else []), input=PASSWORD + "\n")
        assert res.returncode == 0, res.stderr
    central.start()
    return Platform(central, bundle.load_private_key(keys / "operator.key"), public)


@pytest.fixture(scope="module", params=ENGINES)
def platform(request, tmp_path_factory):
    tmp = tmp_path_factory.mktemp("console-config")
    if request.param == "sqlite":
        p = start(tmp)
        yield p
        p.proc.stop()
        return
    with platform_key_env(tmp / "central.key"):
        p = start(tmp, db=request.getfixturevalue("pg_cluster").fresh())
        yield p
        p.proc.stop()


_versions = iter(range(1, 10**6))


def bundle_bytes(key, version: int | None = None, targets=(KIOSK_ID,)) -> tuple[int, bytes]:
    version = version or next(_versions) * 10
    now = time.time()
    return version, signed(key, version, {"kiosk": {"hall": f"Console hall v{version}"}}, targets=list(targets),
                           issued=now, expires=now + 30 * DAY)


def audit_actions(platform: Platform) -> list[str]:
    page = platform.sign_in("ops").get(platform.url + "/console/audit", timeout=10).text
    return re.findall(r"<td>(config\.[a-z]+)</td>", page)


def test_an_operator_uploads_a_signed_bundle_and_the_kiosk_can_fetch_it(platform):
    ops = platform.sign_in("ops")
    version, body = bundle_bytes(platform.key)
    r = platform.upload(ops, body)
    assert r.status_code == 200 and r.url.endswith(f"/console/config?uploaded={version}"), r.text[:300]
    assert f'data-version="{version}"' in r.text and f'data-kiosk="{KIOSK_ID}"' in r.text
    fetched = platform.config_of(KIOSK_ID)
    assert fetched.status_code == 200 and fetched.content == body
    assert "config.upload" in audit_actions(platform)


@pytest.mark.parametrize("case", ["forged", "unknown-key", "unsigned-toml", "not-newer", "rotation-only"])
def test_a_bundle_the_platform_cannot_trust_is_refused_with_what_to_do_and_nothing_is_stored(platform, tmp_path,
                                                                                          case):
    ops = platform.sign_in("ops")
    version, body = bundle_bytes(platform.key)
    if case == "forged":   # another payload under this bundle's signature
        doc = json.loads(body)
        other = json.loads(signed(platform.key, version, {"kiosk": {"hall": "Forged hall"}}, targets=[KIOSK_ID],
                                  issued=time.time(), expires=time.time() + DAY))
        assert other["payload"] != doc["payload"]
        doc["payload"] = other["payload"]
        body, expect = json.dumps(doc).encode(), "签名与内容不符"
    elif case == "unknown-key":
        _priv, _pub, _kid = bundle.write_keypair(tmp_path / "stranger")
        body = bundle_bytes(bundle.load_private_key(tmp_path / "stranger" / "operator.key"), version)[1]
        expect = "不受平台信任"
    elif case == "unsigned-toml":
        body, expect = f"version = {version}\ntargets = [\"{KIOSK_ID}\"]\n".encode(), "kiosk config sign"
    elif case == "rotation-only":
        env = bundle.sign(bundle.ROTATE_TYPE, bundle.rotation_payload(
            1, [bundle.load_public_key(platform.public)], threshold=1, now=datetime.now(timezone.utc)),
            [platform.key])
        body, expect = env.to_bytes(), "不是已签名的配置包"
    else:
        assert platform.upload(ops, body).status_code == 200
        version, body = bundle_bytes(platform.key, version)   # the same version again
        expect = "版本号只能递增"
    before = platform.config_of(KIOSK_ID)
    r = platform.upload(ops, body)
    assert r.status_code == 422 and expect in r.text, r.text[-1500:]
    after = platform.config_of(KIOSK_ID)
    assert (after.status_code, after.content) == (before.status_code, before.content)
    assert audit_actions(platform)[0] == "config.refused"


def test_staff_and_auditors_cannot_upload(platform):
    _version, body = bundle_bytes(platform.key)
    for name in ("staff-a", "audit"):
        s = platform.sign_in(name)
        assert 'action="/console/config"' not in s.get(platform.url + "/console/config", timeout=10).text
        before = platform.config_of(KIOSK_ID).content
        assert platform.upload(s, body).status_code == 403
        assert platform.config_of(KIOSK_ID).content == before


def test_a_missing_pinned_key_file_stops_the_platform_naming_the_file(tmp_path):
    db = tmp_path / "central.db"
    (tmp_path / "central.toml").write_text('[console]\ntrusted_keys = ["keys/nowhere.pub"]\n', encoding="utf-8")
    res = run_kiosk("central", "--db", str(db), "--port", "1", process=True, timeout=60)
    assert res.returncode == 2 and "nowhere.pub" in res.stderr and "[console] trusted_keys" in res.stderr


def test_in_the_browser_an_uploaded_bundle_is_applied_by_a_real_agent(tmp_path, browser):  # noqa: F811
    platform = start(tmp_path)
    kiosk_dir = tmp_path / "kiosk"
    cfg = kiosk_config(kiosk_dir, platform.url, config_interval_s=0.5)
    (kiosk_dir / "keys").mkdir()
    (kiosk_dir / "keys" / "operator.pub").write_bytes(platform.public.read_bytes())
    version, body = bundle_bytes(platform.key, 7)
    upload = tmp_path / "bundle-v7.json"
    upload.write_bytes(body)
    agent = subprocess.Popen([str(KIOSK), "--config", str(cfg), "agent"], cwd=ROOT,
                             env=dict(os.environ, KIVY_NO_ARGS="1"), stdout=subprocess.DEVNULL,
                             stderr=(tmp_path / "agent.log").open("ab"))
    try:
        sign_in(browser, platform, "ops")
        follow(browser, browser.find_element(By.LINK_TEXT, "配置"))
        browser.find_element(By.NAME, "file").send_keys(str(upload))
        shot(browser, "config-01-choose-file")
        follow(browser, browser.find_element(By.CSS_SELECTOR, "form.upload button"))
        assert "配置包版本 7 已保存" in browser.page_source
        settings = config.load(cfg)
        deadline = time.monotonic() + 60
        while current_version(settings) != 7 and time.monotonic() < deadline:
            time.sleep(0.1)
        assert current_version(settings) == 7, (tmp_path / "agent.log").read_text()[-3000:]
        state = None
        while time.monotonic() < deadline:   # the agent's next heartbeat reports the version
            browser.get(platform.url + "/console/config")
            state = browser.find_element(By.CSS_SELECTOR, f"tr[data-kiosk='{KIOSK_ID}']").get_attribute("data-state")
            if state == "applied":
                break
            time.sleep(0.5)
        assert state == "applied"
        shot(browser, "config-02-applied")
    finally:
        os.kill(agent.pid, signal.SIGTERM)
        try:
            agent.wait(15)
        except subprocess.TimeoutExpired:
            os.kill(agent.pid, signal.SIGKILL)
            agent.wait(10)
        platform.proc.stop()


def test_a_kiosk_that_refused_a_bundle_shows_as_refused_with_its_reason(platform):
    from kiosk.wire import auth
    from tests.central.conftest import item
    from tests.sync.centralproc import SECRET

    ops = platform.sign_in("ops")
    version, body = bundle_bytes(platform.key)
    assert platform.upload(ops, body).status_code == 200
    refusal = item(seq=int(time.time() * 1000), kind="alarm", data={
        "device": "config", "code": "refused", "state": "raised", "severity": "warning",
        "detail": f"expired: version {version}: the bundle expired at 2026-01-01T00:00:00Z"})
    raw = json.dumps({"kiosk_id": KIOSK_ID, "items": [refusal]}).encode()
    r = requests.post(platform.url + "/api/v1/transactions", data=raw, timeout=10, headers={
        **auth.sign(SECRET, "POST", "/api/v1/transactions", KIOSK_ID, raw), "Content-Type": "application/json"})
    assert r.status_code == 200 and r.json()["results"][0]["status"] == "accepted"
    page = ops.get(platform.url + "/console/config", timeout=10).text
    section = page[page.index(f'data-version="{version}"'):]
    row = section[section.index(f'data-kiosk="{KIOSK_ID}"'):].split("</tr>")[0]
    assert 'data-state="refused"' in row and "the bundle expired" in row
