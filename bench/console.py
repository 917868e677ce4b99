"""How fast the console's pages render for a province's fleet: 1,000 kiosks and a year of their data in
PostgreSQL (issue 21: every page under 300 ms p95 on the 2-core development machine).

    .venv/bin/python bench/console.py [--kiosks 1000] [--per-day 40] [--days 365] [--requests 30]

A private PostgreSQL server (tests/pgcluster.py) gets the platform's schema (`kiosk central migrate`) and,
by SQL `generate_series`, what a fleet leaves behind in `--days` days: kiosks in halls of 50, each
kiosk's latest heartbeat with six devices (some offline, some with a failing device), seven days of
heartbeat history a minute apart, `--per-day` transactions per kiosk per day (pickups, prints, payments,
ratings, tickets, deposits, forms), their counts per day, hall, kiosk and hour (the activity tables the
intake keeps), a rating for one transaction in eight with the poor ones' follow-ups and their counts, two alarms a kiosk a day (a
hundred of them still open), the locker's items and their texts, and config bundles. Then `kiosk
central` serves it (one worker, no access log) and a signed-in operator asks each page `--requests` times
after two warm-up requests; a staff account of one hall asks the fleet and the ratings too.

Prints one line per page, `console_page_ms{page=…} p50 … p95 … budget 300 pass|miss`, and
`console_pages_pass N/M`. Seeding takes a few minutes; the database is removed at the end.
"""
from __future__ import annotations

import argparse
import json
import os
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import requests  # noqa: E402

from tests.pgcluster import PgCluster  # noqa: E402

KIOSK = ROOT / ".venv" / "bin" / "kiosk"
BUDGET_MS = 300.0
PASSWORD = "bench-console-password"
HALL_SIZE = 50
KINDS = ["pickup", "print", "print", "payment", "rating", "ticket", "deposit", "form"]
SERVICES = ["社保证明", "营业执照", "居住证", "不动产登记", "公积金提取", "户籍证明"]


def run(*args: str, env: dict, stdin: str | None = None) -> str:
    res = subprocess.run([str(KIOSK), *args], env=env, capture_output=True, text=True, input=stdin, timeout=600)
    if res.returncode != 0:
        raise SystemExit(f"kiosk {' '.join(args)}: exit {res.returncode}: {res.stderr[-2000:]}")
    return res.stdout


def seed(url: str, kiosks: int, per_day: int, days: int) -> dict[str, float]:
    """The fleet's year, by SQL; how long each part took."""
    from sqlalchemy import create_engine, text

    engine = create_engine(url.replace("postgresql://", "postgresql+psycopg://"), future=True)
    now = time.time()
    start = now - days * 86400
    steps = {
        "halls": f"""
            INSERT INTO halls (hall, name, utc_offset, checkin_early_min, checkin_late_min, offline_prefixes, updated_at)
            SELECT 'hall-' || lpad(h::text, 3, '0'), '第' || h || '政务服务中心', '+08:00', 60, 15, '[]', {now}
            FROM generate_series(1, {(kiosks + HALL_SIZE - 1) // HALL_SIZE}) h;
            INSERT INTO hall_kiosks (kiosk_id, hall)
            SELECT 'bench-k' || lpad(k::text, 4, '0'), 'hall-' || lpad((1 + (k - 1) / {HALL_SIZE})::text, 3, '0')
            FROM generate_series(1, {kiosks}) k""",
        "latest heartbeats": f"""
            INSERT INTO kiosk_status (kiosk_id, received_at, body)
            SELECT 'bench-k' || lpad(k::text, 4, '0'),
                   CASE WHEN k % 20 = 0 THEN {now} - 7200 ELSE {now} - (k % 50) END,
                   json_build_object('kiosk_id', 'bench-k' || lpad(k::text, 4, '0'), 'software_version', '0.1.0',
                     'config_version', CASE WHEN k % 30 = 0 THEN 2 ELSE 3 END, 'queue_depth', k % 7,
                     'oldest_pending_age_s', CASE WHEN k % 40 = 0 THEN 3600 ELSE k % 60 END,
                     'devices', json_build_array(
                       json_build_object('name', 'locker', 'driver', 'lock8a', 'state', 'online', 'detail', ''),
                       json_build_object('name', 'receipt_printer', 'driver', 'escpos',
                         'state', CASE WHEN k % 33 = 0 THEN 'hardware_error' ELSE 'online' END,
                         'detail', CASE WHEN k % 33 = 0 THEN 'paper out' ELSE '' END),
                       json_build_object('name', 'document_printer', 'driver', 'cups', 'state', 'online', 'detail', ''),
                       json_build_object('name', 'card_reader', 'driver', 'sdtapi', 'state', 'online', 'detail', ''),
                       json_build_object('name', 'payment', 'driver', 'protocol_e', 'state', 'online', 'detail', ''),
                       json_build_object('name', 'scanner', 'driver', 'hid', 'state', 'online', 'detail', '')),
                     'alarms', json_build_array())::text
            FROM generate_series(1, {kiosks}) k""",
        "7 days of heartbeats": f"""
            INSERT INTO heartbeats (kiosk_id, received_at, body)
            SELECT 'bench-k' || lpad(k::text, 4, '0'), {now} - m * 60, '{{}}'
            FROM generate_series(1, {kiosks}) k, generate_series(0, 7 * 1440 - 1) m
            WHERE k % 20 <> 0 OR m > 120""",
        "transactions": f"""
            INSERT INTO transactions (id, kiosk_id, seq, kind, occurred_at, data, body_sha256, received_at)
            SELECT md5(k::text || '-' || s::text)::uuid::text, 'bench-k' || lpad(k::text, 4, '0'), s,
                   (ARRAY{KINDS!r})[1 + s % {len(KINDS)}],
                   to_char(to_timestamp({start} + s * {86400 / per_day}) AT TIME ZONE 'Asia/Shanghai',
                           'YYYY-MM-DD"T"HH24:MI:SS"+08:00"'),
                   json_build_object('service', (ARRAY{SERVICES!r})[1 + (s / 8) % {len(SERVICES)}],
                                     'pages', 1 + s % 3)::text,
                   repeat('0', 64), {start} + s * {86400 / per_day} + 5
            FROM generate_series(1, {kiosks}) k, generate_series(1, {days * per_day}) s""",
        "activity": """
            INSERT INTO activity_daily (day, kiosk_id, kind, service, n)
            SELECT to_char(to_timestamp(received_at) AT TIME ZONE 'Asia/Shanghai', 'YYYY-MM-DD'), kiosk_id, kind,
                   data::json->>'service', count(*)
            FROM transactions GROUP BY 1, 2, 3, 4;
            INSERT INTO activity_halls (day, hall, kind, service, n)
            SELECT d.day, hk.hall, d.kind, d.service, sum(d.n)
            FROM activity_daily d JOIN hall_kiosks hk USING (kiosk_id) GROUP BY 1, 2, 3, 4;
            INSERT INTO activity_kiosks (day, kiosk_id, n)
            SELECT day, kiosk_id, sum(n) FROM activity_daily WHERE kind NOT IN ('alarm', 'probe') GROUP BY 1, 2;
            INSERT INTO activity_hourly (day, hour, hall, n)
            SELECT to_char(to_timestamp(t.received_at) AT TIME ZONE 'Asia/Shanghai', 'YYYY-MM-DD'),
                   extract(hour FROM to_timestamp(t.received_at) AT TIME ZONE 'Asia/Shanghai')::int, hk.hall, count(*)
            FROM transactions t JOIN hall_kiosks hk USING (kiosk_id) GROUP BY 1, 2, 3""",
        "ratings": f"""
            INSERT INTO ratings (transaction_id, kiosk_id, hall, service, level, level_key, reasons, rated_at,
                                 followup_state, followup_at, followup_by)
            SELECT t.id, t.kiosk_id, hk.hall, t.data::json->>'service', lv, 'level' || lv,
                   CASE WHEN lv <= 2 THEN '["等待时间长", "操作复杂"]' ELSE '[]' END, t.received_at,
                   CASE WHEN lv > 2 THEN 'none' WHEN t.received_at > {now} - 5 * 86400 THEN 'open'
                        WHEN t.received_at > {now} - 20 * 86400 THEN 'callback' ELSE 'closed' END,
                   CASE WHEN lv <= 2 THEN t.received_at + 86400 END, CASE WHEN lv <= 2 THEN 'staff-a' END
            FROM (SELECT *, CASE WHEN seq % 53 = 4 THEN 1 WHEN seq % 53 = 12 THEN 2 WHEN seq % 7 = 4 THEN 3
                                 WHEN seq % 3 = 1 THEN 4 ELSE 5 END AS lv
                  FROM transactions WHERE kind = 'rating') t JOIN hall_kiosks hk USING (kiosk_id);
            INSERT INTO rating_counts (day, hall, service, level, n)
            SELECT to_char(to_timestamp(rated_at) AT TIME ZONE 'Asia/Shanghai', 'YYYY-MM-DD'), hall, service, level,
                   count(*)
            FROM ratings GROUP BY 1, 2, 3, 4;
            INSERT INTO rating_followups (transaction_id, at, user_name, state, note)
            SELECT transaction_id, followup_at, 'staff-a', followup_state, '已回访'
            FROM ratings WHERE followup_state IN ('callback', 'closed')""",
        "alarms": f"""
            INSERT INTO alarms (raised_id, kiosk_id, device, code, severity, detail, raised_at, cleared_at, cleared_id)
            SELECT md5('alarm-' || k || '-' || d || '-' || i)::uuid::text, 'bench-k' || lpad(k::text, 4, '0'),
                   CASE WHEN i = 0 THEN 'receipt_printer' ELSE 'locker' END,
                   CASE WHEN i = 0 THEN 'paper_out' ELSE 'door_left_open:' || (1 + d % 12) END,
                   'fault', 'bench', {now} - d * 86400 - i * 3600,
                   CASE WHEN d = 0 AND k % 10 = 0 THEN NULL ELSE {now} - d * 86400 - i * 3600 + 600 END,
                   md5('clear-' || k || '-' || d || '-' || i)::uuid::text
            FROM generate_series(1, {kiosks}) k, generate_series(0, {days - 1}) d, generate_series(0, 1) i""",
        "locker": f"""
            INSERT INTO notices (deposit_id, kiosk_id, case_number, door, hall, place, item_name, deposited_at,
                                 due_at, utc_offset_s, state, ended_at, ended_by)
            SELECT md5('dep-' || k || '-' || d || '-' || i)::uuid::text, 'bench-k' || lpad(k::text, 4, '0'),
                   'SZ' || lpad((k * 10000 + d * 10 + i)::text, 12, '0'), 1 + (d * 3 + i) % 24,
                   'hall-' || lpad((1 + (k - 1) / {HALL_SIZE})::text, 3, '0'), '一楼', '营业执照',
                   {now} - d * 86400 - 3600, {now} - d * 86400 + 14 * 86400, 28800,
                   CASE WHEN d < 2 THEN 'held' ELSE 'collected' END,
                   CASE WHEN d < 2 THEN NULL ELSE {now} - d * 86400 END, CASE WHEN d < 2 THEN NULL ELSE 'code' END
            FROM generate_series(1, {kiosks}) k, generate_series(0, {days - 1}) d, generate_series(0, 1) i;
            INSERT INTO sms_queue (id, transaction_id, template, kiosk_id, case_number, state, attempts, next_at,
                                   last_error, created_at, updated_at, sent_at)
            SELECT md5('sms-' || deposit_id)::uuid::text, deposit_id, 'pickup_ready', kiosk_id, case_number,
                   CASE WHEN state = 'held' AND door % 17 = 0 THEN 'dead' ELSE 'sent' END,
                   CASE WHEN state = 'held' AND door % 17 = 0 THEN 8 ELSE 1 END, deposited_at,
                   CASE WHEN state = 'held' AND door % 17 = 0 THEN 'gateway answered 500' END,
                   deposited_at, deposited_at + 5, deposited_at + 5
            FROM notices""",
        "analyze": "ANALYZE",
    }
    took = {}
    for name, sql in steps.items():
        t = time.monotonic()
        with engine.begin() as conn:
            for statement in [s for s in sql.split(";") if s.strip()]:
                conn.execute(text(statement))
        took[name] = time.monotonic() - t
        print(f"seeded {name} in {took[name]:.1f} s", flush=True)
    engine.dispose()
    return took


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def provision(url: str, env: dict, kiosks: int) -> None:
    """The kiosks with sealed secrets, as `kiosk central add-kiosk` makes them, each in its hall's group; and
    three config bundles, the newest for every hall's group, the one before it applied by some kiosks."""
    from kiosk.central.db import CentralDB

    os.environ["KIOSK_CENTRAL_KEY_FILE"] = env["KIOSK_CENTRAL_KEY_FILE"]
    with CentralDB(url) as db:
        for k in range(1, kiosks + 1):
            db.add_kiosk(f"bench-k{k:04d}", groups=[f"hall-{1 + (k - 1) // HALL_SIZE:03d}"])
        halls = [f"hall-{h:03d}" for h in range(1, (kiosks + HALL_SIZE - 1) // HALL_SIZE + 1)]
        for version in (1, 2, 3):
            db.put_config(json.dumps({"version": version}).encode(), version,
                          ["bench-k0001"] if version == 1 else halls, "bench")


def signed_in(url: str, name: str) -> requests.Session:
    s = requests.Session()
    s.get(url + "/console/login", timeout=30)
    r = s.post(url + "/console/login", timeout=30, data={"name": name, "password": PASSWORD,
                                                         "csrf": s.cookies.get("kiosk_console_login")})
    if not r.url.endswith("/console/fleet"):
        raise SystemExit(f"cannot sign in as {name}: {r.status_code} {r.text[:300]}")
    return s


def time_page(session: requests.Session, url: str, n: int) -> list[float]:
    for _ in range(2):
        session.get(url, timeout=60).raise_for_status()
    times = []
    for _ in range(n):
        t = time.perf_counter()
        r = session.get(url, timeout=60)
        times.append((time.perf_counter() - t) * 1000)
        r.raise_for_status()
    return times


def p95(values: list[float]) -> float:
    return statistics.quantiles(values, n=20, method="inclusive")[-1]


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--kiosks", type=int, default=1000)
    p.add_argument("--per-day", type=int, default=40, help="transactions per kiosk per day (default 40)")
    p.add_argument("--days", type=int, default=365)
    p.add_argument("--requests", type=int, default=30, help="timed requests per page (after 2 warm-up ones)")
    p.add_argument("--pages", help="only these pages, comma-separated names as printed (default: all)")
    args = p.parse_args()
    with tempfile.TemporaryDirectory(prefix="console-bench-") as tmp:
        work = Path(tmp)
        pg = PgCluster(work / "pg", settings={"shared_buffers": "512MB", "work_mem": "32MB"}).start()
        proc = None
        try:
            url = pg.create_database("console")
            env = dict(os.environ, KIOSK_CENTRAL_KEY_FILE=str(work / "central.key"), KIVY_NO_ARGS="1")
            run("central", "migrate", "--db", url, env=env)
            t = time.monotonic()
            provision(url, env, args.kiosks)
            print(f"provisioned {args.kiosks} kiosks in {time.monotonic() - t:.1f} s", flush=True)
            seed(url, args.kiosks, args.per_day, args.days)
            run("central", "add-user", "ops", "--role", "operator", "--password-stdin", "--db", url, env=env,
                stdin=PASSWORD + "\n")
            run("central", "add-user", "staff-a", "--role", "staff", "--hall", "hall-001", "--password-stdin",
                "--db", url, env=env, stdin=PASSWORD + "\n")
            port = free_port()
            proc = subprocess.Popen([str(KIOSK), "central", "--db", url, "--port", str(port), "--no-access-log"],
                                    env=env, stdout=subprocess.DEVNULL, stderr=(work / "central.log").open("ab"))
            base = f"http://127.0.0.1:{port}"
            deadline = time.monotonic() + 60
            while True:
                try:
                    if requests.get(base + "/healthz", timeout=1).status_code == 200:
                        break
                except requests.ConnectionError:
                    pass
                if time.monotonic() > deadline or proc.poll() is not None:
                    raise SystemExit(f"the platform did not start: {(work / 'central.log').read_text()[-2000:]}")
                time.sleep(0.2)
            ops, staff = signed_in(base, "ops"), signed_in(base, "staff-a")
            pages = [("fleet", ops, "/console/fleet"), ("fleet_offline", ops, "/console/fleet?problem=offline"),
                     ("fleet_staff", staff, "/console/fleet"), ("kiosk", ops, "/console/kiosks/bench-k0020"),
                     ("alarms", ops, "/console/alarms"), ("alarms_cleared", ops, "/console/alarms?state=cleared"),
                     ("config", ops, "/console/config"), ("locker", ops, "/console/locker"),
                     ("ratings_30d", ops, "/console/ratings"), ("ratings_90d", ops, "/console/ratings?days=90"),
                     ("ratings_staff", staff, "/console/ratings"), ("activity_30d", ops, "/console/activity"),
                     ("activity_90d", ops, "/console/activity?days=90"), ("audit", ops, "/console/audit")]
            if args.pages:
                pages = [pg_ for pg_ in pages if pg_[0] in args.pages.split(",")]
            passed = 0
            for name, session, path in pages:
                times = time_page(session, base + path, args.requests)
                ok = p95(times) <= BUDGET_MS
                passed += ok
                print(f"console_page_ms{{page={name}}} p50 {statistics.median(times):.1f} p95 {p95(times):.1f} "
                      f"budget {BUDGET_MS:.0f} {'pass' if ok else 'miss'}", flush=True)
            print(f"console_pages_pass {passed}/{len(pages)}")
            return 0 if passed == len(pages) else 1
        finally:
            if proc is not None and proc.poll() is None:
                os.kill(proc.pid, signal.SIGTERM)
                proc.wait(30)
            pg.stop()


if __name__ == "__main__":
    sys.exit(main())
