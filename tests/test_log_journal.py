"""Log lines under systemd carry their priority for journald (`journalctl -p warning` shows the kiosk's
warnings); elsewhere they are plain text with the time. Read back from the handler's output: this machine
runs no journald, so the stream systemd would hand a service is stood in for by a file whose device and
inode $JOURNAL_STREAM names, as systemd does (systemd.exec(5))."""
from __future__ import annotations

import os
import subprocess
import sys

from kiosk.log import syslog_priority

SCRIPT = """
import logging, sys
from kiosk import log
log.setup()
logging.getLogger("kiosk.core.x").info("door 3 opened")
logging.getLogger("kiosk.hardware.y").warning("paper low")
logging.getLogger("kiosk.sync.z").error("platform refused the batch")
try:
    1 / 0
except ZeroDivisionError:
    logging.getLogger("kiosk.app").exception("a step failed for 110105199003071239")
"""


def run_logging(tmp_path, journal: bool) -> list[str]:
    out = tmp_path / ("journal.txt" if journal else "plain.txt")
    with open(out, "w") as stderr:
        env = {k: v for k, v in os.environ.items() if k != "JOURNAL_STREAM"}
        if journal:
            st = os.fstat(stderr.fileno())
            env["JOURNAL_STREAM"] = f"{st.st_dev}:{st.st_ino}"
        subprocess.run([sys.executable, "-c", SCRIPT], stderr=stderr, env=env, timeout=60, check=True)
    return out.read_text().splitlines()


def test_under_systemd_every_line_carries_its_records_priority(tmp_path):
    lines = run_logging(tmp_path, journal=True)
    assert "<6>INFO kiosk.core.x: door 3 opened" in lines
    assert "<4>WARNING kiosk.hardware.y: paper low" in lines
    assert "<3>ERROR kiosk.sync.z: platform refused the batch" in lines
    assert all(line.startswith("<3>") for line in lines[3:]), lines   # the traceback's lines too
    assert any("ZeroDivisionError" in line for line in lines[3:])
    assert not any("110105199003071239" in line for line in lines)     # redacted before the prefix


def test_a_stream_that_is_not_the_journal_gets_plain_lines_with_the_time(tmp_path):
    lines = run_logging(tmp_path, journal=False)
    assert not any(line.startswith("<") for line in lines)
    assert any(line.endswith("WARNING kiosk.hardware.y: paper low") and line[:4].isdigit() for line in lines)


def test_a_journal_stream_named_for_another_stream_is_not_taken_for_this_one(tmp_path, monkeypatch):
    from kiosk.log import to_journal

    with open(tmp_path / "a", "w") as a, open(tmp_path / "b", "w") as b:
        st = os.fstat(a.fileno())
        monkeypatch.setenv("JOURNAL_STREAM", f"{st.st_dev}:{st.st_ino}")
        assert to_journal(a) and not to_journal(b)
        monkeypatch.setenv("JOURNAL_STREAM", "garbage")
        assert not to_journal(a)


def test_levels_map_to_syslog_priorities():
    import logging

    assert [syslog_priority(level) for level in (logging.CRITICAL, logging.ERROR, logging.WARNING, logging.INFO,
                                                 logging.DEBUG, 5)] == [2, 3, 4, 6, 7, 7]
