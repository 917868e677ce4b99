"""Signed config: how long a kiosk takes to verify and apply a bundle, and to refuse a 50 MB body.

Prints the figures and one summary line each (`NAME VALUE budget BUDGET pass|miss`, see run_all.py).
The budgets are this module's own (DESIGN.md section 8 has none for config):
a 50 MB body over the management API is refused from its Content-Length, in
well under 50 ms, and a verify + apply with its fsyncs and health check stays
under half a second.
"""
from __future__ import annotations

import dataclasses
import socket
import statistics
import sys
import tempfile
import threading
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from kiosk import config  # noqa: E402
from kiosk.wire import bundle  # noqa: E402
from kiosk.sync import management  # noqa: E402
from kiosk.sync.config_apply import ConfigApplier  # noqa: E402
from tests.conftest import write_config  # noqa: E402

def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def signed(key, version: int) -> bytes:
    now = datetime.now(timezone.utc)
    body = bundle.canonical({"version": version, "issued": bundle.rfc3339(now),
                             "expires": bundle.rfc3339(now + timedelta(days=30)), "targets": ["demo-hall-k01"],
                             "settings": {"kiosk": {"hall": f"Hall {version}"}}})
    return bundle.sign(bundle.CONFIG_TYPE, body, [key]).to_bytes()


def refuse_50mb(port: int) -> float:
    head = (f"POST {management.PATH} HTTP/1.1\r\nHost: x\r\nContent-Length: {50 * 1024 * 1024}\r\n\r\n").encode()
    t0 = time.perf_counter()
    with socket.create_connection(("127.0.0.1", port), timeout=10) as s:
        s.sendall(head)
        answer = s.recv(4096)
    took = (time.perf_counter() - t0) * 1000
    assert answer.startswith(b"HTTP/1.1 413"), answer[:80]
    return took


def main() -> int:
    with tempfile.TemporaryDirectory() as tmp:
        port = free_port()
        cfg = write_config(Path(tmp) / "kiosk", **{r'^listen = .*$': f'listen = "127.0.0.1:{port}"'})
        bundle.write_keypair(Path(tmp) / "kiosk" / "keys")
        key = bundle.load_private_key(Path(tmp) / "kiosk" / "keys" / "operator.key")
        settings = config.load(cfg)
        applier = ConfigApplier(settings, report=lambda o: None)
        applies = []
        for v in range(1, 21):
            raw = signed(key, v)
            t0 = time.perf_counter()
            out = applier.apply_bytes(raw)
            applies.append((time.perf_counter() - t0) * 1000)
            assert out.result == "applied", out
        stop, ready = threading.Event(), threading.Event()
        # 20 refusals from one address: over the refusal rate limit (429), which is not what this measures
        limits = dataclasses.replace(management.LIMITS, refusals=1000)
        threading.Thread(target=management.serve, args=(settings, stop), kwargs={"ready": ready, "limits": limits},
                         daemon=True).start()
        ready.wait(10)
        refusals = [refuse_50mb(port) for _ in range(20)]
        stop.set()
    apply_p95 = sorted(applies)[int(len(applies) * 0.95) - 1]
    refuse_p95 = sorted(refusals)[int(len(refusals) * 0.95) - 1]
    print(f"verify + apply (fsync, health check): median {statistics.median(applies):.1f} ms, p95 {apply_p95:.1f} ms")
    print(f"50 MB body refused over loopback HTTP: median {statistics.median(refusals):.2f} ms, p95 {refuse_p95:.2f} ms")
    print(f"config_apply_p95_ms {apply_p95:.1f} budget 500 {'pass' if apply_p95 <= 500 else 'miss'}")
    print(f"config_refuse_50mb_p95_ms {refuse_p95:.2f} budget 50 {'pass' if refuse_p95 <= 50 else 'miss'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
