"""A private CUPS daemon for the tour and the tests: own ServerRoot, spool and logs in a temp dir, its own socket.

Started with `cupsd -f` as a child process and stopped by its pid; it never
touches the system's queues. Needs root (cupsd runs filters as `lp` and
backends such as cups-pdf as root) and the Debian packages cups,
cups-client, cups-bsd, printer-driver-cups-pdf. `PrivateCupsd.unavailable()`
says why a machine cannot run one, so tests can skip with that reason.

Queues print to cups-pdf; its output goes to `out_dir` through a per-queue
/etc/cups/cups-pdf-QUEUE<tag>.conf (cups-pdf reads its settings only from /etc/cups),
removed again at stop. A `fail` backend (exit 1) stands in for a broken printer.
"""
from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
import time
from pathlib import Path

CUPS_PDF_MODEL = "lsb/usr/cups-pdf/CUPS-PDF_opt.ppd"
SYSTEM_SERVER_BIN = Path("/usr/lib/cups")
CUPS_PDF_CONF_DIR = Path("/etc/cups")


class PrivateCupsd:
    def __init__(self):
        self.root = Path(tempfile.mkdtemp(prefix="kiosk-cupsd-"))
        self.tag = "".join(c for c in self.root.name.removeprefix("kiosk-cupsd-") if c.isalnum())
        # filters run as lp and must reach the spool: the tree is world-traversable
        os.chmod(self.root, 0o755)
        self.socket = str(self.root / "cups.sock")
        self.out_dir = self.root / "out"
        self.proc: subprocess.Popen | None = None
        self._confs: list[Path] = []

    @staticmethod
    def unavailable() -> str | None:
        if os.geteuid() != 0:
            return "a private cupsd needs root (it runs filters as lp and cups-pdf as root)"
        for tool in ("cupsd", "lpadmin", "lp", "ipptool", "cancel", "cupsdisable"):
            if not shutil.which(tool) and not Path("/usr/sbin", tool).exists():
                return f"{tool} is not installed (scripts/system-packages.sh)"
        if not (SYSTEM_SERVER_BIN / "backend" / "cups-pdf").exists():
            return "the cups-pdf backend is not installed (printer-driver-cups-pdf)"
        return None

    @property
    def env(self) -> dict:
        return dict(os.environ, CUPS_SERVER=self.socket, LC_ALL="C")

    def _server_bin(self) -> Path:
        """The system's filters and backends, plus a `fail` backend that breaks every job."""
        sb = self.root / "lib"
        sb.mkdir()
        for entry in SYSTEM_SERVER_BIN.iterdir():
            if entry.name != "backend":
                (sb / entry.name).symlink_to(entry)
        backends = sb / "backend"
        backends.mkdir()
        for entry in (SYSTEM_SERVER_BIN / "backend").iterdir():
            (backends / entry.name).symlink_to(entry)
        fail = backends / "fail"
        fail.write_text('#!/bin/sh\n[ $# -eq 0 ] && { echo \'direct fail "Unknown" "Failing printer (tests)"\'; exit 0; }\n'
                        'echo "ERROR: the printer is broken (test backend)" >&2\nexit 1\n')
        fail.chmod(0o755)
        for d in (sb, backends):
            d.chmod(0o755)
        return sb

    def start(self, timeout: float = 15.0) -> "PrivateCupsd":
        r = self.root
        for d in ("etc/ppd", "spool/tmp", "cache", "state/certs", "log", "out"):
            (r / d).mkdir(parents=True, exist_ok=True)
        os.chmod(r / "out", 0o777)
        server_bin = self._server_bin()
        (r / "etc/cupsd.conf").write_text(f"""Listen {self.socket}
LogLevel info
WebInterface No
Browsing No
DefaultAuthType Basic
<Location />
  Order allow,deny
  Allow localhost
</Location>
<Policy default>
  <Limit All>
    Order deny,allow
  </Limit>
</Policy>
""")
        (r / "etc/cups-files.conf").write_text(f"""ServerRoot {r}/etc
ServerBin {server_bin}
RequestRoot {r}/spool
TempDir {r}/spool/tmp
CacheDir {r}/cache
StateDir {r}/state
ErrorLog {r}/log/error_log
AccessLog {r}/log/access_log
PageLog {r}/log/page_log
Printcap {r}/printcap
SystemGroup root
FileDevice No
""")
        self.proc = subprocess.Popen(["cupsd", "-f", "-c", f"{r}/etc/cupsd.conf", "-s", f"{r}/etc/cups-files.conf"],
                                     stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"cupsd exited: {self.proc.stderr.read().decode(errors='replace')} "
                                   f"{self.log()}")
            if os.path.exists(self.socket) and self.run("lpstat", "-r").returncode == 0:
                return self
            time.sleep(0.05)
        self.stop()
        raise RuntimeError(f"cupsd did not start within {timeout} s: {self.log()}")

    def run(self, *cmd: str, check: bool = False) -> subprocess.CompletedProcess:
        done = subprocess.run(list(cmd), capture_output=True, text=True, env=self.env, timeout=30)
        if check and done.returncode != 0:
            raise RuntimeError(f"{' '.join(cmd)}: {done.stderr or done.stdout}")
        return done

    def add_queue(self, name: str, uri: str | None = None, policy: str = "abort-job") -> None:
        # cups-pdf picks /etc/cups/cups-pdf-NAME.conf from a device URI cups-pdf:/NAME; NAME carries
        # this daemon's own tag, so daemons running side by side (parallel test processes) never
        # share, or remove, each other's file
        uri = uri or f"cups-pdf:/{name}{self.tag}"
        self.run("lpadmin", "-p", name, "-E", "-v", uri, "-m", CUPS_PDF_MODEL,
                 "-o", f"printer-error-policy={policy}", check=True)
        if uri.startswith("cups-pdf:") and os.access(CUPS_PDF_CONF_DIR, os.W_OK):
            conf = CUPS_PDF_CONF_DIR / f"cups-pdf-{uri.removeprefix('cups-pdf:/')}.conf"
            conf.write_text(f"Out {self.out_dir}\nAnonDirName {self.out_dir}\nUserUMask 0000\n")
            self._confs.append(conf)

    def log(self) -> str:
        try:
            return (self.root / "log/error_log").read_text(errors="replace")[-3000:]
        except OSError:
            return ""

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)
        for conf in self._confs:
            conf.unlink(missing_ok=True)
        shutil.rmtree(self.root, ignore_errors=True)
