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


def _datagrams(sock) -> list[dict[str, str]]:
    """journald's native datagrams, parsed as journald parses them."""
    out = []
    sock.setblocking(False)
    while True:
        try:
            data = sock.recv(65536)
        except BlockingIOError:
            return out
        fields, i = {}, 0
        while i < len(data):
            nl = data.index(b"\n", i)
            line = data[i:nl]
            if b"=" in line:
                key, _, value = line.partition(b"=")
                fields[key.decode()] = value.decode()
                i = nl + 1
            else:   # KEY \n length value \n
                size = int.from_bytes(data[nl + 1:nl + 9], "little")
                fields[line.decode()] = data[nl + 9:nl + 9 + size].decode()
                i = nl + 9 + size + 1
        out.append(fields)


def test_the_journal_handler_sends_priority_and_the_kiosks_fields(tmp_path):
    import logging
    import socket

    from kiosk import log

    path = str(tmp_path / "journal.socket")
    journal = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    journal.bind(path)
    handler = log.JournalHandler(path)
    handler.setFormatter(logging.Formatter("%(name)s: %(message)s"))
    handler.addFilter(log.RedactingFilter())
    logger = logging.getLogger("kiosk.test.journal")
    logger.propagate = False
    logger.setLevel(logging.INFO)
    logger.addHandler(handler)
    log.set_kiosk_id("hall-03-k07")
    try:
        logger.warning("alarm raised: %s:%s", "locker", "door_not_opened", extra={"device": "locker"})
        logger.info("form printed for 110105199003071239", extra={"flow": "forms", "transaction_id": "t-1"})
        try:
            1 / 0
        except ZeroDivisionError:
            logger.exception("a step failed")
    finally:
        logger.removeHandler(handler)
        handler.close()
        log.set_kiosk_id(None)
    first, second, third = _datagrams(journal)
    journal.close()
    assert first == {"MESSAGE": "kiosk.test.journal: alarm raised: locker:door_not_opened", "PRIORITY": "4",
                     "SYSLOG_IDENTIFIER": "kiosk", "LOGGER": "kiosk.test.journal", "KIOSK_ID": "hall-03-k07",
                     "DEVICE": "locker"}
    assert second["PRIORITY"] == "6" and second["FLOW"] == "forms" and second["TRANSACTION_ID"] == "t-1"
    assert "110105199003071239" not in second["MESSAGE"] and "110***********1239" in second["MESSAGE"]
    assert third["PRIORITY"] == "3" and "ZeroDivisionError" in third["MESSAGE"] and "\n" in third["MESSAGE"]


def test_without_a_journal_the_handler_falls_back_to_stderr_with_the_priority(tmp_path, capsys):
    import logging

    from kiosk import log

    handler = log.JournalHandler(str(tmp_path / "no-journal-here"))
    handler.setFormatter(logging.Formatter("%(name)s: %(message)s"))
    record = logging.LogRecord("kiosk.x", logging.WARNING, __file__, 1, "paper low", None, None)
    handler.emit(record)
    handler.close()
    assert capsys.readouterr().err == "<4>WARNING kiosk.x: paper low\n"


def test_every_transaction_queued_is_in_the_journal_by_its_id_and_service_and_nothing_more(tmp_path):
    """`journalctl TRANSACTION_ID=…` finds what the kiosk did with a transaction: the outbox names each
    one it queues (not a probe), with its service, and none of its data."""
    import logging
    import socket

    from kiosk import log
    from kiosk.store import Store
    from kiosk.sync.outbox import Outbox

    path = str(tmp_path / "journal.socket")
    journal = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    journal.bind(path)
    handler = log.JournalHandler(path)
    handler.setFormatter(logging.Formatter("%(name)s: %(message)s"))
    logger = logging.getLogger("kiosk.sync.outbox")
    level = logger.level
    logger.setLevel(logging.INFO)
    logger.addHandler(handler)
    store = Store(tmp_path / "data", "hall-03-k07")
    conn = store.connect()
    try:
        outbox = Outbox(conn)
        printed = outbox.record("print", {"service": "guides", "source": "guide", "pages": 1, "printer": "receipt",
                                          "item_code": "G-001", "document": "DOC-2026-00042"})
        outbox.record("probe", {"n": 1})
    finally:
        conn.close()
        logger.removeHandler(handler)
        logger.setLevel(level)
        handler.close()
    sent = _datagrams(journal)
    journal.close()
    assert len(sent) == 1                     # the probe is not logged
    assert sent[0]["TRANSACTION_ID"] == printed.id and sent[0]["FLOW"] == "guides" and sent[0]["PRIORITY"] == "6"
    assert "DOC-2026-00042" not in sent[0]["MESSAGE"] and "G-001" not in sent[0]["MESSAGE"]
