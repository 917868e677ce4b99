"""Memory of the central platform under unauthenticated uploads (issue 24, finding 6).

Starts `kiosk central` on loopback, then sends six concurrent unauthenticated
`PUT /api/v1/catalog` requests of 60 MiB each and reports the server's
resident memory before and at its peak (polled from /proc while the uploads
run). A platform that checks the signed headers before reading the body
stays flat; one that buffers first grows by the bodies. No budget: prints
figures. Usage: bench/unauth_upload_rss.py [--src DIR] (DIR: a checkout
whose `kiosk` package to run, e.g. main, to compare).
"""
from __future__ import annotations

import argparse
import os
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import requests

UPLOADS, SIZE, CHUNK = 6, 60 * 1024 * 1024, 256 * 1024


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def rss_mib(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def upload(port: int, out: list) -> None:
    s = socket.create_connection(("127.0.0.1", port), timeout=30)
    try:
        s.sendall(b"PUT /api/v1/catalog HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                  b"X-Operator-Id: op\r\nContent-Length: %d\r\n\r\n" % SIZE)
        chunk = b" " * CHUNK
        sent = 0
        try:
            while sent < SIZE:
                s.sendall(chunk)
                sent += CHUNK
        except OSError:
            pass  # the server answered and closed without reading the rest
        try:
            status = s.recv(64).split(b" ")[1].decode()
        except (OSError, IndexError):
            status = "closed"
        out.append((status, sent))
    finally:
        s.close()


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--src", help="run the kiosk package of this checkout instead of the installed one")
    args = ap.parse_args()
    env = dict(os.environ)
    if args.src:
        env["PYTHONPATH"] = str(Path(args.src).resolve())
    with tempfile.TemporaryDirectory() as tmp:
        port = free_port()
        cmd = [sys.executable, "-m", "kiosk.cli", "central", "--port", str(port), "--db", f"{tmp}/central.db"]
        proc = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                                cwd=args.src or None)
        try:
            for _ in range(200):
                try:
                    if requests.get(f"http://127.0.0.1:{port}/api/v1/health", timeout=1).ok:
                        break
                except requests.ConnectionError:
                    time.sleep(0.1)
            before = rss_mib(proc.pid)
            results: list = []
            threads = [threading.Thread(target=upload, args=(port, results)) for _ in range(UPLOADS)]
            t0 = time.monotonic()
            for t in threads:
                t.start()
            peak = before
            while any(t.is_alive() for t in threads):
                peak = max(peak, rss_mib(proc.pid))
                time.sleep(0.02)
            elapsed = time.monotonic() - t0
            peak = max(peak, rss_mib(proc.pid))
        finally:
            os.kill(proc.pid, signal.SIGTERM)
            proc.wait(timeout=15)
    statuses = sorted({r[0] for r in results})
    sent = sum(r[1] for r in results) / (1024 * 1024)
    print(f"unauth_uploads {UPLOADS} x {SIZE // (1024 * 1024)} MiB  statuses {','.join(statuses)}  "
          f"client_sent_mib {sent:.0f}  seconds {elapsed:.1f}")
    print(f"rss_before_mib {before:.0f}  rss_peak_mib {peak:.0f}  growth_mib {peak - before:.0f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
