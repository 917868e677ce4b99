"""The `kiosk` executable itself: most command tests call `kiosk.cli.main(argv)` in the test's
process (tests/conftest.py `run_kiosk`); these run the same commands as the installed
executable, as systemd and a technician do, and find the same exit status and output."""
from __future__ import annotations

import json

import pytest

from tests.conftest import IN_PROCESS, run_kiosk

SMOKE = [
    ("identity", "--json"),
    ("queue", "--json"),
    ("config", "status", "--json"),
    ("guides", "search", "社保", "--json"),
    ("diag", "door-states", "--json"),
]


def test_the_smoke_tests_cover_every_command_the_tests_run_in_process():
    assert {args[0] for args in SMOKE} >= IN_PROCESS - {"staff", "sync"}   # those two: below


@pytest.mark.parametrize("args", SMOKE, ids=lambda a: " ".join(a[:2]))
def test_the_executable_and_the_in_process_call_agree(kiosk_config, args):
    if args[0] == "guides":
        assert run_kiosk("guides", "seed", config=kiosk_config).returncode == 0
    inside = run_kiosk(*args, config=kiosk_config)
    outside = run_kiosk(*args, config=kiosk_config, process=True)
    assert (outside.returncode, inside.returncode) == (0, 0), outside.stderr + inside.stderr
    a, b = json.loads(outside.stdout), json.loads(inside.stdout)
    for doc in (a, b):   # what differs between two runs by nature
        for key in ("checked_at", "now", "generated_at", "took_ms"):
            doc.pop(key, None)
    assert a == b


def test_bad_usage_exits_2_with_the_usage_on_stderr_both_ways(kiosk_config):
    for done in (run_kiosk("queue", "--no-such-option", config=kiosk_config),
                 run_kiosk("queue", "--no-such-option", config=kiosk_config, process=True)):
        assert done.returncode == 2
        assert "usage: kiosk" in done.stderr and "--no-such-option" in done.stderr


def test_staff_reads_the_pin_from_stdin_as_the_executable(kiosk_config):
    done = run_kiosk("staff", "hash-pin", config=kiosk_config, input="135790\n", process=True)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() and "135790" not in done.stdout


def test_sync_without_a_platform_reports_it_as_the_executable(kiosk_config):
    done = run_kiosk("sync", "probe", "--count", "0", config=kiosk_config, process=True)
    inside = run_kiosk("sync", "probe", "--count", "0", config=kiosk_config)
    assert done.returncode == inside.returncode
    assert done.stdout == inside.stdout
