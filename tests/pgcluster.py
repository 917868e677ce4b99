"""A private PostgreSQL server in a directory of its own, for the platform's tests and bench/fleet.py.

Debian's `postgresql` package gives the server's programs (initdb, pg_ctl
under /usr/lib/postgresql/N/bin); this makes a cluster in a temporary
directory, starts it on a loopback port (and a socket in that directory),
and stops it by its process id. PostgreSQL refuses to run as root: as root
the cluster belongs to the `postgres` user the package made, in a directory
of its own under the system's temporary directory (pytest's are private to
root), removed when the server stops.

    with PgCluster.started(Path(tmp)) as pg:
        url = pg.create_database("t1")        # postgresql://…/t1
"""
from __future__ import annotations

import contextlib
import os
import pwd
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterator

START_TIMEOUT_S = 60


class PgUnavailable(RuntimeError):
    """PostgreSQL's server programs are not installed; the message names the package."""


def server_bin() -> Path:
    for base in sorted(Path("/usr/lib/postgresql").glob("*/bin"), reverse=True):
        if (base / "initdb").is_file() and (base / "pg_ctl").is_file():
            return base
    found = shutil.which("initdb")
    if found:
        return Path(found).resolve().parent
    raise PgUnavailable("PostgreSQL's server is not installed: `apt-get install postgresql` "
                        "(scripts/system-packages.sh does, as root)")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class PgCluster:
    root: Path
    port: int = 0
    user: str = "kiosk"
    settings: dict[str, str] = field(default_factory=dict)
    pid: int | None = None

    @property
    def data(self) -> Path:
        return self.root / "data"

    @property
    def sockets(self) -> Path:
        return self.root / "sock"

    def _as_owner(self) -> list[str]:
        if os.geteuid() != 0:
            return []
        return ["runuser", "-u", "postgres", "--"]

    def _run(self, *args: str) -> subprocess.CompletedProcess:
        res = subprocess.run([*self._as_owner(), *args], capture_output=True, text=True, timeout=120)
        if res.returncode:
            raise RuntimeError(f"{Path(args[0]).name} failed ({res.returncode}): {res.stderr.strip()[-2000:]}")
        return res

    def start(self) -> "PgCluster":
        bin_dir = server_bin()
        if os.geteuid() == 0:
            owner = pwd.getpwnam("postgres")
            self.root = Path(tempfile.mkdtemp(prefix="kiosk-pg-"))
            self._made_root = True
            self.sockets.mkdir()
            for p in (self.root, self.sockets):
                os.chown(p, owner.pw_uid, owner.pw_gid)
        else:
            self.root.mkdir(parents=True, exist_ok=True)
            self.sockets.mkdir(exist_ok=True)
        self.port = self.port or _free_port()
        self._run(str(bin_dir / "initdb"), "-D", str(self.data), "-U", self.user, "--auth=trust",
                  "-E", "UTF8", "--locale=C.UTF-8", "--no-instructions")
        options = {"listen_addresses": "127.0.0.1", "port": str(self.port),
                   "unix_socket_directories": str(self.sockets), "max_connections": "200",
                   **self.settings}
        opts = " ".join(f"-c {k}={v}" for k, v in options.items())
        self._run(str(bin_dir / "pg_ctl"), "-D", str(self.data), "-l", str(self.root / "server.log"),
                  "-o", opts, "-w", "-t", str(START_TIMEOUT_S), "start")
        self.pid = int((self.data / "postmaster.pid").read_text().split()[0])
        return self

    def restart(self) -> None:
        """Stop the server (fast shutdown: every open connection is cut) and start it again on its data, port
        and options, as an operator's restart of the database does."""
        self._run(str(server_bin() / "pg_ctl"), "-D", str(self.data), "-l", str(self.root / "server.log"),
                  "-m", "fast", "-w", "-t", str(START_TIMEOUT_S), "restart")
        self.pid = int((self.data / "postmaster.pid").read_text().split()[0])

    def stop(self) -> None:
        """Stop the server by its process id (fast shutdown: SIGINT), waiting a bounded time."""
        if self.pid is None:
            return
        with contextlib.suppress(ProcessLookupError):
            os.kill(self.pid, signal.SIGINT)
            deadline = time.monotonic() + 30
            while time.monotonic() < deadline:
                os.kill(self.pid, 0)
                time.sleep(0.05)
            os.kill(self.pid, signal.SIGKILL)
        self.pid = None
        if getattr(self, "_made_root", False):
            shutil.rmtree(self.root, ignore_errors=True)

    def url(self, dbname: str = "postgres") -> str:
        return f"postgresql://{self.user}@127.0.0.1:{self.port}/{dbname}"

    def sql(self, statement: str, dbname: str = "postgres") -> None:
        import psycopg

        with psycopg.connect(f"host=127.0.0.1 port={self.port} user={self.user} dbname={dbname}",
                             autocommit=True) as conn:
            conn.execute(statement)

    def create_database(self, name: str, template: str = "template0") -> str:
        self.sql(f'CREATE DATABASE "{name}" TEMPLATE "{template}"')
        return self.url(name)

    def drop_database(self, name: str) -> None:
        self.sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

    @classmethod
    @contextlib.contextmanager
    def started(cls, root: Path, **kwargs) -> Iterator["PgCluster"]:
        cluster = cls(root, **kwargs)
        try:
            yield cluster.start()
        finally:
            cluster.stop()
