"""Command-line mistakes a technician makes, answered plainly (issue 23's papercuts): a mistyped platform
database is not created empty, a pipe closed early ends without a traceback, a dead item that is not there
is said to be missing, the install script names a missing wheel folder, a probe of thousands of
transactions does not scroll ids past a person."""
from __future__ import annotations

import json
import os
import subprocess

from tests.conftest import KIOSK, ROOT, run_kiosk, write_config


def test_exporting_from_a_platform_database_that_is_not_there_refuses_and_creates_nothing(tmp_path):
    db = tmp_path / "nowhere" / "central.db"
    done = run_kiosk("central", "export", "--db", str(db))
    assert done.returncode == 2, done.stderr
    assert f"no platform database at {db}" in done.stderr and "kiosk central serve" in done.stderr
    assert not db.exists() and not db.parent.exists()


def test_a_reader_that_stops_early_ends_the_command_without_a_traceback(kiosk_config):
    # `kiosk sync probe --count 3000 | head -n 1`: the ids go on after the reader has gone
    env = dict(os.environ, KIVY_NO_ARGS="1")
    proc = subprocess.Popen([str(KIOSK), "--config", str(kiosk_config), "sync", "probe", "--count", "3000"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env, cwd=ROOT)
    first = proc.stdout.readline()
    proc.stdout.close()
    stderr = proc.stderr.read().decode()
    assert proc.wait(timeout=120) == 1
    assert first.strip() and "Traceback" not in stderr and "BrokenPipeError" not in stderr, stderr


def test_retrying_a_dead_item_that_is_not_there_says_so_and_fails(kiosk_config):
    done = run_kiosk("sync", "retry-dead", "--seq", "99999", config=kiosk_config)
    assert done.returncode == 1
    assert "no dead item with seq 99999" in done.stderr and "kiosk queue" in done.stderr
    assert run_kiosk("sync", "retry-dead", config=kiosk_config).returncode == 0   # all of none: nothing to say


def test_a_probe_count_out_of_range_is_a_usage_error_on_stderr(kiosk_config):
    done = run_kiosk("sync", "probe", "--count", "0", config=kiosk_config)
    assert done.returncode == 2 and "--count must be 1.." in done.stderr and done.stdout == ""


def test_the_install_script_names_a_missing_wheel_folder(tmp_path):
    for args in (["--wheelhouse"], ["--wheelhouse", str(tmp_path / "no-wheels")]):
        done = subprocess.run(["bash", str(ROOT / "scripts" / "install-kiosk.sh"), *args], capture_output=True,
                              text=True, timeout=30, env=dict(os.environ, DESTDIR=str(tmp_path / "root")))
        assert done.returncode == 2, done.stderr
        assert "--wheelhouse needs a folder of wheels" in done.stderr and "unbound variable" not in done.stderr


def _signed_bundle(tmp_path):
    from tests.config_bundle.test_config_commands import setup_operator_and_kiosk

    op, keys, _cfg = setup_operator_and_kiosk(tmp_path)
    done = run_kiosk("config", "sign", str(op / "bundle.toml"), "--key", keys["private_key"], "--out",
                     str(op / "b.json"))
    assert done.returncode == 0, done.stderr
    return op


def test_pushing_to_a_port_nobody_listens_on_says_so_in_plain_words(tmp_path):
    op = _signed_bundle(tmp_path)
    done = run_kiosk("config", "push", str(op / "b.json"), "--to", "http://127.0.0.1:9")
    assert done.returncode == 1
    assert "http://127.0.0.1:9/" in done.stderr and "cannot be reached: connection refused" in done.stderr
    assert "HTTPConnectionPool" not in done.stderr and "Max retries" not in done.stderr, done.stderr


def test_pushing_the_unsigned_bundle_source_says_to_sign_it_first(tmp_path):
    op = _signed_bundle(tmp_path)
    done = run_kiosk("config", "push", str(op / "bundle.toml"), "--to", "http://127.0.0.1:9")
    assert done.returncode == 2
    assert "not a signed bundle" in done.stderr and "kiosk config sign" in done.stderr
    assert "not valid JSON" not in done.stderr


def test_config_status_tells_an_earlier_refusal_from_the_state_of_now():
    from kiosk.commands.config import status_text

    doc = {"version": 8, "sha256": "ab" * 32, "state": "applied", "applied_at": "2026-12-04T10:00:00+00:00",
           "expires": "2099-01-31T00:00:00Z", "trust": {"generation": 0, "threshold": 1, "keyids": ["cd" * 32]},
           "last_rejection": {"at": "2026-12-03T09:00:00+00:00", "version": 7, "source": "file", "code": "expired",
                              "reason": "the bundle expired"}}
    text = status_text(doc)
    assert "earlier, before the version applied now, refused at 2026-12-03T09:00:00+00:00" in text
    assert "last refused" not in text
    later = dict(doc, last_rejection=dict(doc["last_rejection"], at="2026-12-05T09:00:00+00:00"))
    assert "last refused at 2026-12-05T09:00:00+00:00" in status_text(later)


def test_a_missing_input_file_is_a_usage_error_in_every_command_that_reads_one(kiosk_config, tmp_path):
    missing = str(tmp_path / "no-such-file")
    for args in (("guides", "import", missing), ("config", "apply", missing)):
        done = run_kiosk(*args, config=kiosk_config)
        assert done.returncode == 2, (args, done.returncode, done.stderr)
        assert missing in done.stderr, done.stderr


def test_with_json_every_failure_is_answered_in_json_on_stdout_with_the_same_exit_status(kiosk_config, tmp_path):
    missing = str(tmp_path / "no-such-file")
    cases = [
        (("guides", "import", missing, "--json"), 2, missing),
        (("config", "apply", missing, "--json"), 2, missing),
        (("central", "export", "--db", missing, "--json"), 2, "no platform database"),
        (("sync", "probe", "--count", "0", "--json"), 2, "--count must be 1.."),
    ]
    for args, code, words in cases:
        done = run_kiosk(*args, config=kiosk_config)
        assert done.returncode == code, (args, done.returncode, done.stderr)
        doc = json.loads(done.stdout)                     # one JSON document, nothing else
        assert doc["ok"] is False and words in doc["error"], (args, doc)
        assert words in done.stderr                       # and the person's message, as without --json
    bad = write_config(tmp_path / "bad", **{r"^\[kiosk\]$": "[kiosk]\nno_such_key = 1"})
    done = run_kiosk("queue", "--json", config=bad)
    assert done.returncode == 2 and json.loads(done.stdout)["ok"] is False
    # a command that answers its failure in JSON itself is left alone: one document, its own
    done = run_kiosk("sync", "retry-dead", "--seq", "99999", "--json", config=kiosk_config)
    assert done.returncode == 1 and json.loads(done.stdout) == {"retried": 0, "not_dead": [99999]}


def _command_paths():
    """Every command and subcommand of `kiosk`, as the words that name it, with whether it takes --json."""
    import argparse

    from kiosk.cli import build_parser

    def walk(parser, words):
        subs = [a for a in parser._actions if isinstance(a, argparse._SubParsersAction)]
        if words and (not subs or parser.get_default("handler") is not None):   # `kiosk sync` runs on its own too
            yield words, any("--json" in a.option_strings for a in parser._actions)
        for action in subs:
            for name, child in action.choices.items():
                yield from walk(child, [*words, name])
    return list(walk(build_parser(), []))


def test_every_command_exits_2_on_bad_usage_and_answers_it_in_json_when_asked(kiosk_config):
    from tests.conftest import run_cli

    paths = _command_paths()
    assert len(paths) >= 40 and (["sync", "retry-dead"], True) in paths and (["sync"], True) in paths
    for words, takes_json in paths:
        done = run_cli(["--config", str(kiosk_config), *words, "--no-such-option"])
        assert done.returncode == 2, (words, done.returncode, done.stderr[-300:])
        assert "usage:" in done.stderr and "error:" in done.stderr, (words, done.stderr[-300:])
        if takes_json:
            done = run_cli(["--config", str(kiosk_config), *words, "--json", "--no-such-option"])
            doc = json.loads(done.stdout)
            assert done.returncode == 2 and doc["ok"] is False and doc["exit"] == 2, (words, done.stdout)
            assert "error:" in done.stderr and doc["error"] in done.stderr, (words, doc)
