"""The management API under a hostile hall network, against a real `kiosk agent` process.

Figures printed (no budgets of DESIGN.md; the summary lines use this module's own):
- slow senders: 300 connections from one loopback address, then from 30,
  each sending one byte a second: how many the agent holds, how many are
  refused at once (503, or 429 once the address is over its refusal limit),
  and how long a held one lasts (the whole-request deadline, 10 s);
- an unauthenticated POST flood from one address: the answers by status, and
  the files under the kiosk's data dir that changed (none may, but the one
  refusal-flood alarm in the database);
- the agent's resident memory before and after.
"""
from __future__ import annotations

import os
import select
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from kiosk.wire import bundle  # noqa: E402
from kiosk.sync import management  # noqa: E402
from tests.conftest import write_config  # noqa: E402

SLOW = 300
ADDRESSES = 30
FLOOD = 1000


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def wait_port(port: int, seconds: float = 30) -> None:
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        with socket.socket() as s:
            if s.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.1)
    raise SystemExit(f"the agent's management API did not come up on {port}")


def files(root: Path) -> dict[str, tuple[int, int]]:
    return {str(p.relative_to(root)): (p.stat().st_size, p.stat().st_mtime_ns)
            for p in root.rglob("*") if p.is_file() and not p.name.startswith("kiosk.db")}


def slow_senders(port: int, addresses: int) -> dict:
    head = f"POST {management.PATH} HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n".encode() + b"x" * 100
    socks: dict[socket.socket, dict] = {}
    t0 = time.monotonic()
    for i in range(SLOW):
        s = socket.socket()
        s.bind((f"127.0.0.{2 + i % addresses}", 0))
        s.setblocking(False)
        s.connect_ex(("127.0.0.1", port))
        socks[s] = {"sent": 0, "answer": b"", "closed_at": None}
    next_byte = time.monotonic()
    held_at_2s = None
    while any(v["closed_at"] is None for v in socks.values()) and time.monotonic() - t0 < 20:
        now = time.monotonic()
        if now >= next_byte:
            for s, v in socks.items():
                if v["closed_at"] is None and v["sent"] < len(head):
                    try:
                        s.send(head[v["sent"]:v["sent"] + 1])
                        v["sent"] += 1
                    except OSError:
                        pass
            next_byte = now + 1.0
        if held_at_2s is None and now - t0 >= 2:
            held_at_2s = sum(1 for v in socks.values() if v["closed_at"] is None)
        readable, _, _ = select.select([s for s, v in socks.items() if v["closed_at"] is None], [], [], 0.1)
        for s in readable:
            try:
                data = s.recv(4096)
            except OSError:
                data = b""
            socks[s]["answer"] += data
            if not data:
                socks[s]["closed_at"] = time.monotonic() - t0
    answers = Counter(v["answer"].split(b" ", 2)[1].decode() if v["answer"] else "closed" for v in socks.values())
    held = [v["closed_at"] for v in socks.values() if v["answer"].startswith(b"HTTP/1.1 408")]
    for s in socks:
        s.close()
    return {"answers": dict(answers), "held_at_2s": held_at_2s, "held_for_s": max(held) if held else None,
            "bytes_sent_by_held": max((v["sent"] for v in socks.values() if v["answer"].startswith(b"HTTP/1.1 408")),
                                      default=0)}


def post_flood(port: int, key) -> tuple[Counter, float]:
    import requests

    now = time.time()
    from datetime import datetime, timezone
    body = bundle.canonical({"version": 9, "issued": bundle.rfc3339(datetime.fromtimestamp(now, timezone.utc)),
                             "expires": "2099-01-01T00:00:00Z", "targets": ["demo-hall-k01"], "settings": {}})
    forged = bundle.sign(bundle.CONFIG_TYPE, body, [key]).to_bytes()
    statuses: Counter = Counter()
    t0 = time.perf_counter()
    with requests.Session() as s:
        for i in range(FLOOD):
            data = forged if i % 2 else b"garbage" * (i % 50)
            statuses[s.post(f"http://127.0.0.1:{port}{management.PATH}", data=data, timeout=10).status_code] += 1
    return statuses, time.perf_counter() - t0


def main() -> int:
    with tempfile.TemporaryDirectory() as tmp:
        port = free_port()
        home = Path(tmp) / "kiosk"
        cfg = write_config(home, **{r'^listen = .*$': f'listen = "127.0.0.1:{port}"',
                                    r'^url = "http://127.0.0.1:8700"': f'url = "http://127.0.0.1:{free_port()}"'})
        bundle.write_keypair(home / "keys")
        bundle.write_keypair(Path(tmp) / "stranger")
        stranger = bundle.load_private_key(Path(tmp) / "stranger" / "operator.key")
        env = dict(os.environ, KIVY_NO_ARGS="1")
        limits = management.LIMITS
        agent = subprocess.Popen([str(ROOT / ".venv/bin/kiosk"), "--config", str(cfg), "agent"], cwd=ROOT, env=env,
                                 stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            wait_port(port)
            time.sleep(2)  # the agent's start-up work (catalog seed) settles
            rss_before = rss_mb(agent.pid)
            before = files(home)
            one = slow_senders(port, 1)
            slow = slow_senders(port, ADDRESSES)
            rss_slow = rss_mb(agent.pid)
            statuses, took = post_flood(port, stranger)
            rss_after = rss_mb(agent.pid)
            changed = sorted(k for k in set(before) | set(files(home)) if before.get(k) != files(home).get(k))
            alive = agent.poll() is None
        finally:
            agent.send_signal(signal.SIGTERM)
            try:
                code = agent.wait(20)
            except subprocess.TimeoutExpired:
                agent.kill()
                code = "killed"
    print(f"slow senders: {SLOW} connections from one address, one byte a second: answers {one['answers']}; "
          f"held after 2 s: {one['held_at_2s']}; a held one was cut after {one['held_for_s']:.1f} s")
    print(f"slow senders: {SLOW} connections from {ADDRESSES} addresses, one byte a second: answers "
          f"{slow['answers']}; held after 2 s: {slow['held_at_2s']} (caps {limits.per_address} per address, "
          f"{limits.total} in all); a held one was cut after {slow['held_for_s']:.1f} s having sent "
          f"{slow['bytes_sent_by_held']} bytes")
    print(f"unauthenticated POST flood: {FLOOD} requests in {took:.1f} s: {dict(sorted(statuses.items()))}; "
          f"files changed under the data dir (the store left out): {changed or 'none'}")
    print(f"agent RSS: {rss_before:.0f} MB before, {rss_slow:.0f} MB after the slow senders, {rss_after:.0f} MB "
          f"after the flood; alive through it: {alive}; exit on SIGTERM: {code}")
    held_ok = (slow["held_at_2s"] or 0) <= limits.total
    print(f"management_held_connections {slow['held_at_2s']} budget {limits.total} {'pass' if held_ok else 'miss'}")
    print(f"management_flood_files_changed {len(changed)} budget 0 {'pass' if not changed else 'miss'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
