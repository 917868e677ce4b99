"""`kiosk provision` as a fleet's script runs it (every answer a flag): the config it writes runs (`kiosk config
check` passes, no demo value left), keeps the template's comments and what was not asked, drops the devices
the kiosk does not have, and is 0640; missing answers, a demo value among them, or an already provisioned
config without --force write nothing."""
from __future__ import annotations

import json
import os
import re
import stat

import pytest

from kiosk import config
from kiosk.core.staff import hash_pin, verify_pin
from kiosk.provisioning import demo_values
from tests.conftest import DEFAULT_CONFIG, run_kiosk, write_config

SECRET = "k07-7f1c9e2a5b8d4f60a1c3e5b7d9f2a4c6"


@pytest.fixture(scope="module")
def hashes():
    return {"staff": hash_pin("908172"), "technician": hash_pin("564738")}


def flags(out, hashes, **change):
    given = {"--out": str(out), "--template": str(DEFAULT_CONFIG), "--kiosk-id": "hall-03-k07",
             "--hall": "示例市政务服务中心", "--central-url": "https://platform.example.gov.cn", "--secret": SECRET,
             "--hash-key": "generate", "--notice-key": "none", "--staff": f"2001:{hashes['staff']}",
             "--technician-pin-hash": hashes["technician"]} | change
    args = [a for k, v in given.items() if v is not None for a in (k, v)]
    for device in ("idcard=/dev/kiosk-idreader", "locker=/dev/kiosk-lockbus", "receipt_printer=serial:/dev/kiosk-receipt",
                   "document_printer=hall-a4", "payment=none", "scanner=/dev/kiosk-scanner"):
        args += ["--device", device]
    return args


def test_a_fleet_provisions_a_kiosk_with_flags_and_the_config_runs(tmp_path, hashes):
    out = tmp_path / "etc" / "kiosk.toml"
    done = run_kiosk("provision", *flags(out, hashes), "--json")
    assert done.returncode == 0, done.stderr
    doc = json.loads(done.stdout)
    assert doc["ok"] and doc["kiosk_id"] == "hall-03-k07" and doc["hash_key_generated"]
    assert stat.S_IMODE(out.stat().st_mode) == 0o640
    settings = config.load(out)
    assert demo_values(settings) == [] and settings.kiosk.demo is False
    assert settings.kiosk.id == "hall-03-k07" and settings.central.secret == SECRET
    assert settings.central.notice_key is None and re.fullmatch(r"[0-9a-f]{64}", settings.privacy.hash_key)
    assert settings.devices.payment is None and settings.devices.idcard.port == "/dev/kiosk-idreader"
    assert settings.devices.document_printer.printer == "hall-a4"
    assert [m.id for m in settings.staff.members] == ["2001"]
    assert verify_pin("908172", settings.staff.members[0].pin_hash)
    text = out.read_text(encoding="utf-8")
    assert "# unique per kiosk" in text and "idle_timeout_s = 90" in text    # the template's comments and rest
    assert settings.data_path.is_absolute() and str(settings.data_path).startswith(str(DEFAULT_CONFIG.parent.parent.resolve()))
    check = run_kiosk("config", "check", config=out)
    assert check.returncode == 0, check.stderr


def test_missing_answers_are_named_and_nothing_is_written(tmp_path, hashes):
    out = tmp_path / "kiosk.toml"
    done = run_kiosk("provision", *flags(out, hashes, **{"--secret": None, "--hall": None}))
    assert done.returncode == 2 and "--secret" in done.stderr and "--hall" in done.stderr
    assert not out.exists()


def test_a_demo_value_among_the_answers_writes_nothing(tmp_path, hashes):
    out = tmp_path / "kiosk.toml"
    done = run_kiosk("provision", *flags(out, hashes, **{"--secret": "demo-secret-demo-hall-k01-0000000000"}))
    assert done.returncode == 2 and "central.secret" in done.stderr and "nothing written" in done.stderr
    assert not out.exists() and list(tmp_path.iterdir()) == []      # not even the temporary file
    demo_pin = run_kiosk("provision", *flags(out, hashes, **{"--technician-pin-hash": hash_pin("135790")}))
    assert demo_pin.returncode == 2 and "technician.pin_hashes[0]" in demo_pin.stderr and not out.exists()


def test_a_provisioned_config_is_replaced_only_with_force(tmp_path, hashes):
    out = tmp_path / "kiosk.toml"
    assert run_kiosk("provision", *flags(out, hashes)).returncode == 0
    again = flags(out, hashes, **{"--template": None, "--kiosk-id": "hall-03-k08"})
    refused = run_kiosk("provision", *again)
    assert refused.returncode == 2 and "already provisioned" in refused.stderr
    assert config.load(out).kiosk.id == "hall-03-k07"
    assert run_kiosk("provision", *again, "--force").returncode == 0
    assert config.load(out).kiosk.id == "hall-03-k08"


def test_a_staff_answer_that_is_not_a_pin_hash_is_refused(tmp_path, hashes):
    out = tmp_path / "kiosk.toml"
    done = run_kiosk("provision", *flags(out, hashes, **{"--staff": "2001:908172"}))
    assert done.returncode == 2 and not out.exists()
    assert "908172" not in done.stderr      # a PIN typed where its hash belongs is not echoed back


def test_a_technician_answers_the_prompts_on_a_terminal(tmp_path):
    """The interactive path, on a real pseudo-terminal: what no flag gave is asked, PINs twice without echo."""
    import os
    import pty
    import select
    import time

    from tests.conftest import KIOSK

    out = tmp_path / "kiosk.toml"
    script = [("kiosk id", "hall-05-k01"), ("hall name", "示例区政务服务中心"),
              ("platform's URL", "https://platform.example.gov.cn"), ("this kiosk's secret", SECRET),
              ("hash key", "generate"), ("notifier's key", "none"),
              ("staff member's id", "3001"), ("PIN of staff 3001", "908172"), ("the same PIN again", "908172"),
              ("staff member's id", ""), ("technician PIN", "564738"), ("the same PIN again", "564738"),
              ("idcard port", "/dev/kiosk-idreader"), ("locker port", "/dev/kiosk-lockbus"),
              ("receipt_printer port", "serial:/dev/kiosk-receipt"), ("document_printer CUPS queue", "hall-a4"),
              ("payment port", "none"), ("scanner port", "none")]
    pid, fd = pty.fork()
    if pid == 0:   # the child: kiosk provision on the terminal
        os.chdir(tmp_path)
        os.execv(str(KIOSK), [str(KIOSK), "provision", "--out", str(out), "--template", str(DEFAULT_CONFIG)])
    seen, deadline, transcript = b"", time.monotonic() + 120, []
    try:
        for prompt, answer in script:
            while prompt.encode() not in seen:
                assert time.monotonic() < deadline, seen.decode(errors="replace")[-500:]
                ready, _, _ = select.select([fd], [], [], 1)
                if ready:
                    chunk = os.read(fd, 4096)
                    seen += chunk
                    transcript.append(chunk)
            seen = seen[seen.index(prompt.encode()) + len(prompt):]
            os.write(fd, answer.encode() + b"\n")
        rest = b""
        while True:
            try:
                chunk = os.read(fd, 4096)
            except OSError:   # the child is gone: the terminal closed
                break
            if not chunk:
                break
            rest += chunk
            transcript.append(chunk)
    finally:
        _, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0, rest.decode(errors="replace")
    everything = b"".join(transcript)
    assert b"hall-05-k01" in everything                          # answers are echoed as typed ...
    assert b"908172" not in everything and b"564738" not in everything   # ... but not the PINs
    settings = config.load(out)
    assert settings.kiosk.id == "hall-05-k01" and [m.id for m in settings.staff.members] == ["3001"]
    assert verify_pin("908172", settings.staff.members[0].pin_hash)
    assert verify_pin("564738", settings.technician.pin_hashes[0])
    assert settings.devices.scanner is None and settings.devices.payment is None and demo_values(settings) == []


@pytest.mark.skipif(os.geteuid() != 0, reason="only root can give a file another group")
def test_the_config_written_by_root_keeps_the_group_that_lets_the_services_read_it(tmp_path, hashes):
    """The package makes /etc/kiosk/kiosk.toml root:kiosk 0640; provision, run by root, replaces it by a
    rename: the new file must keep that group, or the kiosk user cannot read its own config (found by
    installing the package on a fresh Debian 12)."""
    out = tmp_path / "etc" / "kiosk.toml"
    out.parent.mkdir()
    out.write_text(DEFAULT_CONFIG.read_text(encoding="utf-8"), encoding="utf-8")
    os.chown(out, 0, 4242)
    done = run_kiosk("provision", *flags(out, hashes), "--force")
    assert done.returncode == 0, done.stderr
    st = out.stat()
    assert (st.st_uid, st.st_gid, stat.S_IMODE(st.st_mode)) == (0, 4242, 0o640)


def test_a_kiosk_enrols_with_a_one_time_token_and_syncs_with_the_secret_it_was_given(tmp_path, hashes):
    """The fleet's way without carrying secrets: the platform issues a token, provision exchanges it for
    the kiosk's secret, last, once every other answer has made a valid config."""
    from tests.sync.centralproc import KIOSK_ID, SECRET, Central

    central = Central(tmp_path / "central").start()
    try:
        issued = run_kiosk("central", "add-kiosk", KIOSK_ID, "--enrolment-token", "--db", str(central.db), "--json")
        assert issued.returncode == 0, issued.stderr
        token = json.loads(issued.stdout)["enrolment_token"]
        template = write_config(tmp_path / "template")      # its data dir in tmp_path, not the source tree's
        out = tmp_path / "etc" / "kiosk.toml"

        def provision(*change):
            args = flags(out, hashes, **{"--secret": None, "--template": str(template), "--kiosk-id": KIOSK_ID,
                                         "--central-url": central.url})
            return run_kiosk("provision", *args, *change)

        # an answer that does not make a config: refused before the token is spent
        bad = provision("--enrolment-token", token, "--staff", "2002:not-a-hash")
        assert bad.returncode == 2 and not out.exists()
        wrong = provision("--enrolment-token", "AAAAA-BBBBB-CCCCC-DDDDD")
        assert wrong.returncode == 1 and "enrolment failed, nothing written" in wrong.stderr
        assert "401" in wrong.stderr and not out.exists()

        done = provision("--enrolment-token", token.lower(), "--json")
        assert done.returncode == 0, done.stderr
        assert json.loads(done.stdout)["enrolled"] is True
        secret = config.load(out).central.secret
        assert secret != SECRET and token not in out.read_text()
        ids = json.loads(run_kiosk("sync", "probe", "--count", "3", "--json", config=out).stdout)["ids"]
        sent = run_kiosk("sync", "--once", config=out)
        assert sent.returncode == 0, sent.stdout + sent.stderr
        assert set(ids) <= set(central.stored_ids())
        again = provision("--enrolment-token", token, "--force")   # used up
        assert again.returncode == 1 and "not valid for kiosk" in again.stderr
    finally:
        central.stop()
