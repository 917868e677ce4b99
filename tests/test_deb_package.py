"""The Debian package (`make deb`, scripts/build-deb.sh), installed and upgraded with a full outbox.

Where it is installed: not a debootstrap chroot (that needs the Debian mirror, which tests never reach), but
a root directory of its own: `dpkg -x` unpacks each version's files there and its maintainer scripts run
with DPKG_ROOT naming that root, as dpkg 1.21 runs them for `dpkg --root`. Services are not started there
(no systemd runs in it); the transactions go out with `kiosk sync --once`, the agent's own relay, to the
real platform on loopback. The one change a technician makes that a root needs: the config's data_dir,
/var/lib/kiosk on a kiosk, is the root's.

One build (about a minute and a half) packed three times: 1.0.0, the version before; 1.1.0, with one more
migration (it adds a table: migrations run forward); 1.2.0, with a migration that fails.
"""
from __future__ import annotations

import json
import os
import re
import sqlite3
import subprocess
from pathlib import Path

import pytest

from kiosk.core.staff import hash_pin
from tests.conftest import ROOT
from tests.sync.centralproc import KIOSK_ID, SECRET, Central

pytestmark = pytest.mark.slow
BUILD = ROOT / "scripts" / "build-deb.sh"
VENV_MIGRATIONS = "opt/kiosk/venv/lib/python3.11/site-packages/kiosk/migrations"
FORWARD = "9000_package_upgrade_marker.sql"
BROKEN = "9001_broken.sql"


def build(*args: str) -> None:
    done = subprocess.run(["bash", str(BUILD), *args], capture_output=True, text=True, timeout=900)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]


@pytest.fixture(scope="module")
def debs(tmp_path_factory) -> dict[str, Path]:
    base = tmp_path_factory.mktemp("deb")
    stage, out = base / "stage", base / "dist"
    build("--stage", str(stage), "--out", str(out), "--version", "1.0.0")
    migrations = stage / VENV_MIGRATIONS
    (migrations / FORWARD).write_text("CREATE TABLE package_upgrade_marker (version TEXT NOT NULL);\n")
    build("--pack", str(stage), "--out", str(out), "--version", "1.1.0")
    # a migration that fails half-way: its first statement works, its second cannot (the table exists)
    (migrations / BROKEN).write_text("CREATE TABLE broken_half (x INTEGER);\nCREATE TABLE outbox (x INTEGER);\n")
    build("--pack", str(stage), "--out", str(out), "--version", "1.2.0")
    return {v: out / f"kiosk_{v}_{arch()}.deb" for v in ("1.0.0", "1.1.0", "1.2.0")}


def arch() -> str:
    return subprocess.run(["dpkg", "--print-architecture"], capture_output=True, text=True, check=True).stdout.strip()


class Root:
    """A machine's root directory the package is installed into."""

    def __init__(self, path: Path):
        self.path = path
        self.env = dict(os.environ, DPKG_ROOT=str(path))
        self.env.pop("KIOSK_CONFIG", None)

    @property
    def config(self) -> Path:
        return self.path / "etc" / "kiosk" / "kiosk.toml"

    def script(self, deb: Path, name: str, *args: str) -> subprocess.CompletedProcess:
        control = self.path.parent / f"control-{deb.stem}"
        if not control.exists():
            subprocess.run(["dpkg-deb", "-e", str(deb), str(control)], check=True)
        return subprocess.run(["sh", str(control / name), *args], capture_output=True, text=True, env=self.env,
                              timeout=120)

    def unpack(self, deb: Path) -> None:
        subprocess.run(["dpkg", "-x", str(deb), str(self.path)], check=True)

    def install(self, deb: Path) -> subprocess.CompletedProcess:
        """dpkg -i of a first install: unpack, then `postinst configure`."""
        pre = self.script(deb, "preinst", "install")
        assert pre.returncode == 0, pre.stderr
        self.unpack(deb)
        return self.script(deb, "postinst", "configure", "")

    def upgrade(self, deb: Path, old: str) -> subprocess.CompletedProcess:
        """dpkg -i over an installed version: the new preinst upgrade, unpack, postinst configure OLD."""
        pre = self.script(deb, "preinst", "upgrade", old)
        assert pre.returncode == 0, pre.stderr
        self.unpack(deb)
        return self.script(deb, "postinst", "configure", old)

    def kiosk(self, *args: str, timeout: float = 120) -> subprocess.CompletedProcess:
        """A command of the installed version, as `kiosk …` runs it on the kiosk (/usr/bin/kiosk execs this
        venv's python, isolated from the working directory, with the config of /etc/kiosk)."""
        return subprocess.run([str(self.path / "opt/kiosk/venv/bin/python"), "-I", "-m", "kiosk.cli", "--config",
                               str(self.config), *args], capture_output=True, text=True, timeout=timeout,
                              env=dict(self.env, KIVY_NO_ARGS="1"), cwd=self.path)

    def db(self) -> sqlite3.Connection:
        return sqlite3.connect(self.path / "var/lib/kiosk/kiosk.db")


def provision(root: Root, url: str) -> None:
    """What the technician types on a new kiosk (docs/deploy.md), every answer a flag."""
    staff, technician = hash_pin("908172"), hash_pin("564738")
    args = ["provision", "--out", str(root.config), "--kiosk-id", KIOSK_ID, "--hall", "示例市政务服务中心",
            "--central-url", url, "--secret", SECRET, "--hash-key", "generate", "--notice-key", "none",
            "--staff", f"2001:{staff}", "--technician-pin-hash", technician]
    for device in ("idcard", "locker", "receipt_printer", "document_printer", "payment", "scanner"):
        args += ["--device", f"{device}=none"]
    done = root.kiosk(*args)
    assert done.returncode == 0, done.stderr
    text = root.config.read_text(encoding="utf-8")
    text, n = re.subn(r'(?m)^data_dir = .*$', f'data_dir = "{root.path / "var/lib/kiosk"}"', text)
    assert n == 1
    # quick sync intervals for a test: the agent's relay sends at once
    root.config.write_text(text, encoding="utf-8")
    check = root.kiosk("config", "check")
    assert check.returncode == 0, check.stderr


def enqueue(root: Root, n: int) -> list[str]:
    done = root.kiosk("sync", "probe", "--count", str(n), "--json")
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)["ids"]


def pending(root: Root) -> int:
    done = root.kiosk("queue", "--json")
    assert done.returncode == 0, done.stderr
    counts = json.loads(done.stdout)["counts"]
    return counts["pending"] + counts["inflight"]


def applied_migrations(root: Root) -> set[str]:
    with root.db() as conn:
        return {r[0] for r in conn.execute("SELECT name FROM schema_migrations")}


@pytest.fixture
def central(tmp_path):
    c = Central(tmp_path / "central").start()
    try:
        yield c
    finally:
        c.stop()


def test_the_package_holds_the_command_units_and_a_template_that_is_not_the_demo(debs):
    tar = subprocess.run(["dpkg-deb", "--fsys-tarfile", str(debs["1.0.0"])], capture_output=True, check=True).stdout
    listing = subprocess.run(["tar", "-t"], input=tar, capture_output=True, check=True).stdout.decode()
    names = {line.removeprefix(".") for line in listing.splitlines()}
    for path in ("/usr/bin/kiosk", "/opt/kiosk/venv/bin/python", "/opt/kiosk/bin/kiosk-session",
                 "/lib/systemd/system/kiosk-ui.service", "/lib/systemd/system/kiosk-agent.service",
                 "/lib/systemd/system/kiosk-central.service", "/lib/udev/rules.d/99-kiosk.rules",
                 "/lib/udev/rules.d/98-kiosk-usb-stick.rules", "/opt/kiosk/bin/kiosk-usb-mount", "/usr/lib/tmpfiles.d/kiosk.conf",
                 "/usr/lib/sysusers.d/kiosk.conf", "/usr/share/kiosk/kiosk.toml", "/usr/share/doc/kiosk/deploy.md",
                 "/usr/share/bash-completion/completions/kiosk"):
        assert path in names, path
    info = subprocess.run(["dpkg-deb", "-f", str(debs["1.0.0"]), "Version", "Depends"], capture_output=True,
                          text=True, check=True).stdout
    assert "Version: 1.0.0" in info and "python3.11" in info


def test_a_fresh_install_waits_for_kiosk_provision(tmp_path, debs):
    root = Root(tmp_path / "root")
    root.path.mkdir()
    done = root.install(debs["1.0.0"])
    assert done.returncode == 0, done.stderr
    assert "kiosk provision" in done.stderr
    text = root.config.read_text(encoding="utf-8")
    assert re.search(r"(?m)^demo = false", text) and oct(root.config.stat().st_mode)[-3:] == "640"
    assert re.search(r"(?m)^kiosk:x:\d+:\d+:", (root.path / "etc/passwd").read_text())   # systemd-sysusers
    check = root.kiosk("config", "check")
    assert check.returncode == 2 and "kiosk provision" in check.stderr and "central.secret" in check.stderr
    agent = root.kiosk("agent")
    assert agent.returncode == 2 and "privacy.hash_key" in agent.stderr
    assert not (root.path / "var/lib/kiosk/kiosk.db").exists()    # made at the first start, with the kiosk's id
    # the venv runs from where it is, with nothing of the build machine's paths in it
    assert root.kiosk("--version").stdout.startswith("kiosk ")
    cfg = (root.path / "opt/kiosk/venv/pyvenv.cfg").read_text()
    assert "home = /usr/bin" in cfg and "/opt/kiosk/venv" in cfg
    unit = (root.path / "lib/systemd/system/kiosk-agent.service").read_text()
    doc = re.search(r"Documentation=file://(\S+)", unit).group(1)
    assert (root.path / doc.lstrip("/")).is_file()


def test_an_upgrade_with_a_full_outbox_migrates_forward_and_every_transaction_arrives_once(tmp_path, debs, central):
    root = Root(tmp_path / "root")
    root.path.mkdir()
    assert root.install(debs["1.0.0"]).returncode == 0
    provision(root, central.url)
    ids = enqueue(root, 40)                       # the platform is up but nothing sends: the agent is stopped
    assert pending(root) == 40 and FORWARD.removesuffix(".sql") not in applied_migrations(root)

    done = root.upgrade(debs["1.1.0"], "1.0.0")
    assert done.returncode == 0, done.stderr
    assert FORWARD.removesuffix(".sql") in done.stderr           # `kiosk migrate` names what it applied
    assert FORWARD.removesuffix(".sql") in applied_migrations(root)
    assert not (root.path / "opt/kiosk/previous").exists()       # the copy for a rollback goes once all is well
    assert (root.path / "usr/share/kiosk/package-version").read_text().strip() == "1.1.0"
    assert pending(root) == 40                                    # nothing lost in the upgrade

    sent = root.kiosk("sync", "--once", "--json")
    assert sent.returncode == 0, sent.stdout + sent.stderr
    assert pending(root) == 0
    stored = central.stored_ids()
    assert sorted(stored) == sorted(ids)                          # each once


def test_a_failed_migration_puts_the_previous_version_back_on_its_unchanged_database(tmp_path, debs, central):
    root = Root(tmp_path / "root")
    root.path.mkdir()
    assert root.install(debs["1.0.0"]).returncode == 0
    provision(root, central.url)
    assert root.upgrade(debs["1.1.0"], "1.0.0").returncode == 0
    ids = enqueue(root, 25)
    before = applied_migrations(root)

    done = root.upgrade(debs["1.2.0"], "1.1.0")
    assert done.returncode == 1, done.stderr
    assert "database migration of 1.2.0 failed" in done.stderr and "1.1.0" in done.stderr
    venv = root.path / "opt/kiosk/venv"
    assert not (root.path / VENV_MIGRATIONS / BROKEN).exists()   # 1.1.0's files are back in /opt/kiosk/venv
    assert (root.path / "opt/kiosk/venv.failed" / VENV_MIGRATIONS.split("venv/", 1)[1] / BROKEN).exists()
    assert venv.is_dir() and applied_migrations(root) == before  # the half-run migration left nothing
    with root.db() as conn:
        assert conn.execute("SELECT count(*) FROM sqlite_master WHERE name = 'broken_half'").fetchone()[0] == 0
    assert pending(root) == 25

    sent = root.kiosk("sync", "--once", "--json")                 # the version put back sends them
    assert sent.returncode == 0, sent.stdout + sent.stderr
    assert sorted(central.stored_ids()) == sorted(ids)

    # a fixed version installed over it goes forward again and clears the copies
    again = root.upgrade(debs["1.1.0"], "1.1.0")
    assert again.returncode == 0, again.stderr
    assert not (root.path / "opt/kiosk/venv.failed").exists()


def apt(base: Path, sources: str, *args: str) -> subprocess.CompletedProcess:
    """apt-get/apt-cache with a configuration of their own in `base`: this machine's sources, state and
    keys are not read or touched."""
    for d in ("state/lists/partial", "cache/archives/partial", "preferences.d"):
        (base / d).mkdir(parents=True, exist_ok=True)
    (base / "status").touch()
    (base / "sources.list").write_text(sources)
    opts = [f"-oDir::Etc::SourceList={base / 'sources.list'}", "-oDir::Etc::SourceParts=/nonexistent",
            f"-oDir::State={base / 'state'}", f"-oDir::State::status={base / 'status'}",
            f"-oDir::Cache={base / 'cache'}", "-oDir::Etc::Preferences=/nonexistent",
            f"-oDir::Etc::PreferencesParts={base / 'preferences.d'}", "-oDebug::NoLocking=1"]
    return subprocess.run([args[0], *opts, *args[1:]], capture_output=True, text=True, timeout=120)


def gpg_key(home: Path, email: str) -> None:
    home.mkdir(mode=0o700)
    subprocess.run(["gpg", "--homedir", str(home), "--batch", "--passphrase", "", "--quick-gen-key",
                    f"Kiosk archive <{email}>", "ed25519", "sign", "never"], check=True, capture_output=True)


def test_a_fleet_repository_offers_each_ring_its_version_and_apt_refuses_an_index_signed_by_another_key(
        tmp_path, debs):
    repo, keys, forger = tmp_path / "repo", tmp_path / "gnupg", tmp_path / "forger"
    try:
        _repository_checks(tmp_path, debs, repo, keys, forger)
    finally:   # gpg starts an agent per home; a test stops what it started
        for home in (keys, forger):
            subprocess.run(["gpgconf", "--homedir", str(home), "--kill", "gpg-agent"], capture_output=True,
                           timeout=30)


def _repository_checks(tmp_path, debs, repo, keys, forger) -> None:
    gpg_key(keys, "ops@hall.example")
    gpg_key(forger, "ops@hall.example")          # the same name, another key
    script = str(ROOT / "scripts" / "apt-repo.sh")

    def add(home: Path, *args: str) -> subprocess.CompletedProcess:
        done = subprocess.run(["bash", script, str(repo), "--sign-key", "ops@hall.example", *args],
                              capture_output=True, text=True, env=dict(os.environ, GNUPGHOME=str(home)), timeout=120)
        assert done.returncode == 0, done.stderr
        return done

    add(keys, "--suite", "stable", str(debs["1.0.0"]))
    add(keys, "--suite", "canary", str(debs["1.0.0"]), str(debs["1.1.0"]))
    keyring = tmp_path / "kiosk-archive.gpg"
    keyring.write_bytes(subprocess.run(["gpg", "--dearmor"], input=(repo / "kiosk-archive.asc").read_bytes(),
                                       capture_output=True, check=True).stdout)

    def candidate(suite: str) -> tuple[subprocess.CompletedProcess, str]:
        base = tmp_path / f"apt-{suite}-{len(list(tmp_path.iterdir()))}"
        line = f"deb [signed-by={keyring}] file:{repo} {suite} main\n"
        update = apt(base, line, "apt-get", "update")
        policy = apt(base, line, "apt-cache", "policy", "kiosk").stdout
        return update, (re.search(r"Candidate: (\S+)", policy) or [None, ""])[1]

    update, version = candidate("stable")
    assert update.returncode == 0 and version == "1.0.0", update.stdout + update.stderr
    assert candidate("canary")[1] == "1.1.0"            # the canary ring gets the new version first

    add(forger, "--suite", "stable", str(debs["1.2.0"]))   # someone else's key signs a stable index
    update, version = candidate("stable")
    assert "NO_PUBKEY" in update.stderr or "not signed" in update.stderr or "couldn't be verified" in update.stderr, \
        update.stderr
    assert version != "1.2.0"


def test_the_install_script_installs_the_package_into_a_root_twice_and_keeps_the_config(tmp_path, debs):
    """scripts/install-kiosk.sh, the developer's way, wraps the package: into DESTDIR it runs what dpkg would."""
    root = tmp_path / "root"
    (root / "etc").mkdir(parents=True)
    (root / "etc/passwd").write_text("root:x:0:0:root:/root:/bin/bash\n")
    (root / "etc/group").write_text("root:x:0:\ndialout:x:20:\nlp:x:7:\nvideo:x:44:\ninput:x:105:\n")
    script, env = str(ROOT / "scripts" / "install-kiosk.sh"), dict(os.environ, DESTDIR=str(root))
    first = subprocess.run(["bash", script, "--deb", str(debs["1.0.0"])], env=env, capture_output=True, text=True,
                           timeout=300)
    assert first.returncode == 0, first.stderr
    assert "kiosk 1.0.0 installed" in first.stdout and "kiosk provision" in first.stdout
    passwd = (root / "etc/passwd").read_text()
    assert re.search(r"(?m)^kiosk:x:\d+:\d+:self-service kiosk:/var/lib/kiosk:/usr/sbin/nologin$", passwd)
    groups = {line.split(":")[0]: line.split(":")[3].split(",") for line in (root / "etc/group").read_text().splitlines()}
    assert "kiosk" in groups["dialout"] and "kiosk" in groups["lp"]     # the root's own groups, joined
    config = root / "etc/kiosk/kiosk.toml"
    assert 'data_dir = "/var/lib/kiosk"' in config.read_text()
    assert oct((root / "var/lib/kiosk").stat().st_mode)[-3:] == "750"
    assert (root / "opt/kiosk/bin/kiosk-session").stat().st_mode & 0o111
    assert not (root / "etc/systemd/system/multi-user.target.wants/kiosk-agent.service").exists()   # not provisioned

    # an operator's edit survives the next version; nothing is duplicated
    config.write_text(config.read_text().replace('id = "demo-hall-k01"', 'id = "hall-7-k03"'))
    second = subprocess.run(["bash", script, "--deb", str(debs["1.1.0"])], env=env, capture_output=True, text=True,
                            timeout=300)
    assert second.returncode == 0, second.stderr
    assert "kiosk 1.1.0 installed" in second.stdout and "(was 1.0.0)" in second.stdout
    assert 'id = "hall-7-k03"' in config.read_text()
    assert (root / "etc/passwd").read_text().count("\nkiosk:") == 1
    dialout = next(line for line in (root / "etc/group").read_text().splitlines() if line.startswith("dialout:"))
    assert dialout.split(":")[3].split(",").count("kiosk") == 1


def test_a_bare_root_gets_its_users_from_the_packages_sysusers_declaration(tmp_path, debs):
    root = tmp_path / "bare"      # no etc/passwd: an image being built, not a machine
    done = subprocess.run(["bash", str(ROOT / "scripts" / "install-kiosk.sh"), "--deb", str(debs["1.0.0"])],
                          env=dict(os.environ, DESTDIR=str(root)), capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    assert "cannot lock" not in done.stderr
    declared = (root / "usr/lib/sysusers.d/kiosk.conf").read_text()
    assert 'u kiosk - "self-service kiosk" /var/lib/kiosk /usr/sbin/nologin' in declared
    assert {"m kiosk dialout", "m kiosk lp"} <= set(declared.splitlines())
    assert re.search(r"(?m)^kiosk:x:", (root / "etc/passwd").read_text())
    assert re.search(r"(?m)^dialout:x:\d+:.*kiosk", (root / "etc/group").read_text())
