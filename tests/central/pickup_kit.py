"""What the pickup loop's tests share: a platform with a notifier's settings, cases, deposits with sealed
codes, and `kiosk central notify --once --now T` as a real process.

The platform is the real `kiosk central` subprocess (tests/central/conftest.py) started with a hash key of
its own, on a SQLite file or a database of the private PostgreSQL server (`loop_on`, one per engine); the
notifier runs as `kiosk central notify` processes against the same database, sending through the real `file`
gateway (kiosk/central/sms/) into a JSON-lines file, or another gateway a test names. Times are injected with
--now; nothing sleeps to wait for a clock.
"""
from __future__ import annotations

import itertools
import json
import os
import subprocess
import uuid
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any, Iterator

from stdnum.cn import ric

from kiosk.wire import sealed
from kiosk.wire.hashing import holder_hash, keyed_hash
from tests.central.conftest import Central, item, platform_key_env, start_central
from tests.conftest import KIOSK, ROOT

HASH_KEY = "test-deployment-hash-key-0000000001"
CODE_KEY = "kiosk-side-code-key-000000000000001"   # the kiosk's own key for code hashes: the platform never needs it
CST = timezone(timedelta(hours=8))
T0 = datetime(2026, 11, 22, 9, 30, tzinfo=CST)
NOTIFY_TIMEOUT_S = 60
_seq = itertools.count(1)


def id_number(serial: int) -> str:
    """A synthetic resident ID number with a valid check digit (born 1990-01-01, Beijing)."""
    first17 = f"11010119900101{serial % 1000:03d}"
    return first17 + ric.calc_check_digit(first17 + "0")


def rfc(t: datetime) -> str:
    return t.isoformat()


@dataclass
class Loop:
    """A platform, its notifier's files and what the tests posted."""

    central: Central
    dir: Path
    sms_file: Path
    settings: Path
    public_key: object
    pg: Any = None          # the PostgreSQL cluster (tests/pgcluster.py) the platform's database is on, if any

    @property
    def engine_name(self) -> str:
        return self.central.engine_name

    def query(self, sql: str, **params) -> list[dict]:
        """Rows of the platform's database, read as the platform reads them (any engine)."""
        from sqlalchemy import text

        from kiosk.central import database

        engine = database.open_engine(self.central.db, pool_size=1)
        try:
            with database.reading(engine) as conn:
                return [dict(r) for r in conn.execute(text(sql), params).mappings()]
        finally:
            engine.dispose()

    def platform_files(self) -> list[Path]:
        """Every file the platform and its notifiers wrote but the SMS gateway's: the loop's directory (the
        SQLite database and its WAL, logs, settings, keys) and, on PostgreSQL, the database's own files after a
        checkpoint (its rows, with the dead versions of rows changed since) and the server's log. Not the
        server's write-ahead log: the session's other databases (the demo PDFs of a seed…) are in it too."""
        files = [p for p in self.dir.rglob("*") if p.is_file() and p != self.sms_file]
        if self.pg is not None:
            dbname = str(self.central.db).rsplit("/", 1)[1]
            self.pg.sql("CHECKPOINT")
            oid = self.query("SELECT oid FROM pg_database WHERE datname = :name", name=dbname)[0]["oid"]
            files += [p for p in (self.pg.data / "base" / str(oid)).rglob("*") if p.is_file()]
            files += [p for p in self.pg.root.glob("*.log") if p.is_file()]
        return files

    def settings_file(self, name: str = "central.toml", **keys) -> Path:
        """A central.toml for the file gateway; `keys` add or replace keys of [notify]."""
        return write_settings(self.dir / name, self.sms_file, **keys)

    def notify_cmd(self, now: datetime, settings: Path | None = None) -> list[str]:
        return [str(KIOSK), "central", "notify", "--once", "--now", rfc(now), "--db", str(self.central.db),
                "--settings", str(settings or self.settings), "--json"]

    def env(self) -> dict[str, str]:
        """The environment of the notifier's and the commands' processes ($KIOSK_CENTRAL_KEY_FILE with it,
        for a PostgreSQL platform)."""
        return dict(os.environ, KIOSK_LOG_LEVEL="INFO", **plugin_path())

    def notify(self, now: datetime, settings: Path | None = None) -> dict:
        """One notifier pass at `now`, as a process; its log is kept beside the platform's."""
        res = subprocess.run(self.notify_cmd(now, settings), capture_output=True, text=True, cwd=ROOT,
                             env=self.env(), timeout=NOTIFY_TIMEOUT_S)
        with (self.dir / "notify.log").open("a", encoding="utf-8") as f:
            f.write(res.stderr)
        assert res.returncode == 0, res.stderr[-3000:]
        return json.loads(res.stdout)

    def messages(self, phone: str | None = None, case: str | None = None) -> list[dict]:
        if not self.sms_file.exists():
            return []
        out = [json.loads(line) for line in self.sms_file.read_text(encoding="utf-8").splitlines()]
        if phone is not None:
            out = [m for m in out if m["phone"] == phone]
        if case is not None:
            out = [m for m in out if case in m["text"] or m["params"].get("case") == case]
        return out

    # -- the approval system and the kiosk --------------------------------------------------------

    def post_case(self, case: str, phone: str, *, id_serial: int = 1, hold_days: int = 7, needs_id_card: bool = True,
                  item_name: str = "营业执照（副本）", **more):
        body = {"case_number": case, "item_name": item_name, "applicant_id_number": id_number(id_serial),
                "applicant_mobile": phone, "needs_id_card": needs_id_card, "hold_days": hold_days, **more}
        return self.central.call("POST", "/api/v1/cases", body, operator="op")

    def deposit(self, case: str, code: str, *, kiosk: str = "k1", door: int = 3, at: datetime = T0,
                hold_days: int = 7, seal: bool = True, hall: str = "示例政务服务中心", place: str = "一楼东侧24小时自助区") -> dict:
        """A deposit transaction as the kiosk sends it, the code sealed to the platform's notifier."""
        code_hash = keyed_hash(CODE_KEY, code, "pickup_code")
        data = {"case_number": case, "door": door, "code_hash": code_hash,
                "holder_hash": holder_hash(HASH_KEY, id_number(1)),
                "sealed_code": sealed.seal(self.public_key, code, sealed.binding(kiosk, case, code_hash)) if seal else None,
                "deposited_at": rfc(at), "due_at": rfc(at + timedelta(days=hold_days)), "hall": hall, "place": place,
                "item_name": "营业执照"}
        return item(seq=next(_seq), kind="deposit", occurred_at=rfc(at), data=data)

    def ended(self, kind: str, case: str, *, kiosk: str = "k1", door: int = 3, at: datetime, **data) -> dict:
        """A `pickup` or `recall` of the item of `case` in `door`."""
        return item(seq=next(_seq), kind=kind, occurred_at=rfc(at), data={"case_number": case, "door": door,
                                                                            "unconfirmed": False, **data})

    def upload(self, *items: dict, kiosk: str = "k1") -> list[dict]:
        res = self.central.call("POST", "/api/v1/transactions", {"kiosk_id": kiosk, "items": list(items)},
                                kiosk=kiosk)
        assert res.status_code == 200, res.text
        return res.json()["results"]

    def lookup(self, case: str, kiosk: str = "k1"):
        return self.central.call("GET", f"/api/v1/kiosks/{kiosk}/cases/{case}", kiosk=kiosk)

    def notices(self, **query) -> list[dict]:
        qs = "&".join(f"{k}={v}" for k, v in query.items())
        res = self.central.call("GET", "/api/v1/notices" + (f"?{qs}" if qs else ""), operator="op")
        assert res.status_code == 200, res.text
        return res.json()["notices"]


def plugin_path() -> dict[str, str]:
    """A test's plug-in gateway is imported by the notifier's process: the checkout's root on its path."""
    return {"PYTHONPATH": os.pathsep.join(p for p in (str(ROOT), os.environ.get("PYTHONPATH", "")) if p)}


def write_settings(path: Path, sms_file: Path, **keys) -> Path:
    notify = {"gateway": "file", "path": str(sms_file), "page_base_url": "https://hall.example.gov.cn/pickup",
              "backoff_s": 60, "backoff_max_s": 600, "max_attempts": 3, "lease_s": 120, "phone_retention_days": 30,
              **keys}
    lines = ["[notify]"] + [f"{k} = {json.dumps(v)}" for k, v in notify.items()]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def start_loop(tmp: Path, *, notify_thread: bool = False, db: Path | str | None = None, pg: Any = None) -> Loop:
    """A platform and its notifier's settings; `notify_thread`: `kiosk central --notify` sends by itself. `db`:
    the platform's database (default a SQLite file in `tmp`; a postgresql:// URL wants $KIOSK_CENTRAL_KEY_FILE
    set, as `loop_on` and the `platform_db` fixture do), on the cluster `pg` if it is a URL."""
    settings = write_settings(tmp / "central.toml", tmp / "sms.jsonl", poll_s=0.2)
    args = ("--hash-key", HASH_KEY) + (("--settings", str(settings), "--notify") if notify_thread else ())
    c = start_central(tmp, *args, env=plugin_path(), db=db)
    res = subprocess.run([str(KIOSK), "central", "notice-key", "--db", str(c.db), "--json"], capture_output=True,
                         text=True, cwd=ROOT, timeout=NOTIFY_TIMEOUT_S)
    if res.returncode:
        c.server.stop()
    assert res.returncode == 0, res.stderr
    return Loop(c, tmp, tmp / "sms.jsonl", settings, sealed.parse_public_key(json.loads(res.stdout)["notice_key"]),
                pg=pg)


@contextmanager
def loop_on(engine: str, request, tmp: Path, **kw) -> Iterator[Loop]:
    """`start_loop` on `engine` ("sqlite" or "postgresql": a new database of the session's private server,
    `pg_cluster`, with $KIOSK_CENTRAL_KEY_FILE set while the loop runs); its platform stopped at the end.
    For a module's fixture parametrised over tests.conftest.ENGINES."""
    if engine == "sqlite":
        lp = start_loop(tmp, **kw)
        try:
            yield lp
        finally:
            lp.central.server.stop()
        return
    pg = request.getfixturevalue("pg_cluster")
    with platform_key_env(tmp / "central.key"):
        lp = start_loop(tmp, db=pg.fresh(), pg=pg, **kw)
        try:
            yield lp
        finally:
            lp.central.server.stop()


def new_case() -> str:
    return "SX" + uuid.uuid4().hex[:10].upper()


# the lengths of the hex runs the platform writes: UUID parts, ids and nonces, SHA-256 and HMAC digests
ID_RUNS = {4, 8, 12, 32, 64}
HEX = b"0123456789abcdefABCDEF"


def leaks(data: bytes, value: str) -> int:
    """How often `value` stands in `data` other than by chance inside an id or a digest: a run of hex digits of
    one of the lengths in ID_RUNS (six given digits turn up in a megabyte of hex now and then). A value beside
    other text, or run on from a digest (a column after a hash), counts."""
    found, needle, at = 0, value.encode(), data.find(value.encode())
    while at >= 0:
        start, end = at, at + len(needle)
        while start > 0 and data[start - 1] in HEX:
            start -= 1
        while end < len(data) and data[end] in HEX:
            end += 1
        found += (end - start) not in ID_RUNS
        at = data.find(needle, at + 1)
    return found
