"""Shared fixtures: a kiosk config of its own for each test, and running the `kiosk` command."""
from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_CONFIG = ROOT / "config" / "kiosk.toml"
KIOSK = Path(sys.executable).parent / "kiosk"

# the `kiosk` command speaks Chinese unless told otherwise (kiosk/commands/_text.py); the tests read its
# English text, in this process (`run_cli`) and in every `kiosk` subprocess, which inherits this.
# tests/test_cli_language.py sets its own language for each run.
os.environ["KIOSK_LANG"] = "en"


def write_config(directory: Path, text: str | None = None, **replace: str) -> Path:
    """A copy of the default config in `directory`, data dir `directory/var`; `replace` maps
    a regular expression to its replacement in the file's text."""
    directory.mkdir(parents=True, exist_ok=True)
    text = DEFAULT_CONFIG.read_text(encoding="utf-8") if text is None else text
    text = re.sub(r'(?m)^data_dir = .*$', 'data_dir = "var"', text)
    for pattern, new in replace.items():
        text, n = re.subn(pattern, new, text, flags=re.M)
        assert n, f"pattern {pattern!r} not in the config"
    # the default config's relative files (catalog seed, keys) live beside it
    for name in ("demo-catalog.json",):
        src = DEFAULT_CONFIG.parent / name
        if src.exists() and not (directory / name).exists():
            shutil.copy(src, directory / name)
    path = directory / "kiosk.toml"
    path.write_text(text, encoding="utf-8")
    return path


def pytest_sessionstart(session):
    """The compiled catalogs the UI reads (kiosk/i18n.py), as `make setup` leaves them, also when
    pytest is run on its own after a .po changed."""
    from kiosk.i18n import compile_catalogs

    compile_catalogs(only_stale=True)


def pytest_collection_modifyitems(config, items):
    """`make test` (scripts/run-tests.sh) runs the Kivy window's tests (tests/ui, marker `ui`) in a
    process of their own, beside the rest on a few processes (pytest-xdist), where the tour (marker
    `tour`, tests/test_tour.py: the whole tour as a subprocess, the longest single set-up) runs on one of
    them (`pytest_xdist_make_scheduler` below). `pytest -m tour` or `-m "not tour"` picks it alone."""
    tour = ROOT / "tests" / "test_tour.py"
    for item in items:
        if Path(str(item.fspath)) == tour:
            item.add_marker(pytest.mark.tour)


# the test files whose tests run on one process under pytest-xdist: the tour (one six-minute run serves
# them all), the notifier's (one platform for the module; its last test reads what all the others left)
# and the Debian package's (one build of the package, about a minute, serves them all)
GROUPED_FILES = {"tests/test_tour.py": "tour", "tests/central/test_central_notifier.py": "pickup_loop",
                 "tests/test_deb_package.py": "deb"}


@pytest.hookimpl(tryfirst=True, optionalhook=True)   # optional: the window's run has no xdist (-p no:xdist)
def pytest_xdist_make_scheduler(config, log):
    """`--dist loadgroup` with each file of GROUPED_FILES as one group.

    pytest-xdist 3.8 groups by renaming each `xdist_group`-marked test's node id in its workers
    (`item._nodeid`), which pytest 9 no longer reads: the groups were silently lost, and both workers ran
    the tour. The scheduler is given the groups here instead, by file, which needs nothing of the items."""
    if config.getvalue("dist") != "loadgroup":
        return None
    from xdist.scheduler import LoadGroupScheduling

    class ByFile(LoadGroupScheduling):
        def _split_scope(self, nodeid: str) -> str:
            return GROUPED_FILES.get(nodeid.split("::", 1)[0]) or super()._split_scope(nodeid)

    return ByFile(config, log)


@pytest.fixture
def kiosk_config(tmp_path) -> Path:
    return write_config(tmp_path / "kiosk")


# the commands that only run to an end and hold no process-wide state (signals, a window, a server):
# these run in this process through `kiosk.cli.main(argv)`; the rest, and every call with an
# environment of its own, run as the `kiosk` executable (tests/test_cli_process.py keeps a smoke
# test of that path for the in-process ones too)
IN_PROCESS = frozenset({"config", "diag", "guides", "identity", "queue", "staff", "sync"})
IN_PROCESS_CENTRAL = frozenset({"seed", "migrate", "add-kiosk", "add-operator", "export"})


def _in_process(args: list[str], env: dict | None) -> bool:
    if env:
        return False
    words = [a for a in args if not a.startswith("-")]
    if not words:
        return False
    if words[0] == "central":
        return len(words) > 1 and words[1] in IN_PROCESS_CENTRAL
    return words[0] in IN_PROCESS


def run_kiosk(*args: str, config: Path | None = None, timeout: float = 60, env: dict | None = None,
              input: str | None = None, process: bool = False) -> subprocess.CompletedProcess:
    """`kiosk [--config CONFIG] ARGS...`: exit status, stdout and stderr, as the command line gives
    them. Run in this process where the command allows (`IN_PROCESS`), else, or with
    `process=True`, as the `kiosk` executable."""
    argv = (["--config", str(config)] if config else []) + list(args)
    if not process and _in_process(list(args), env):
        return run_cli(argv, input=input)
    cmd = [str(KIOSK)] + argv
    full_env = dict(os.environ, KIVY_NO_ARGS="1", **(env or {}))
    return subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, env=full_env, cwd=ROOT, input=input)


def _fresh_simulators():
    """Set this process's running simulators aside for one command; the call returned puts them back."""
    from kiosk.hardware import transport
    from kiosk.sim import registry

    saved, owners = dict(registry._running), dict(transport._owners)
    registry._running.clear()

    def restore() -> None:   # and the ports the command left claimed are free again, as at a process's exit
        registry._running.clear()
        registry._running.update(saved)
        with transport._owners_lock:
            transport._owners.clear()
            transport._owners.update(owners)
    return restore


def run_cli(argv: list[str], input: str | None = None) -> subprocess.CompletedProcess:
    """`kiosk.cli.main(argv)` in this process, its output captured as the executable's would be:
    exit status (SystemExit included, as argparse's usage errors raise it; an unexpected exception
    is status 1 with its traceback on stderr, as the interpreter gives it), stdout, stderr. The
    logging set-up and the UI language are put back afterwards."""
    import contextlib
    import io
    import logging
    import traceback

    from kiosk import cli, i18n

    out, err = io.StringIO(), io.StringIO()
    simulators = _fresh_simulators()   # a process starts with none running: sim:// devices at their defaults
    root = logging.getLogger()
    handlers, level, language = list(root.handlers), root.level, i18n.language()
    stdin = sys.stdin
    sys.stdin = io.StringIO(input or "")
    try:
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            try:
                code = cli.main(list(argv))
            except SystemExit as exc:
                code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
                if exc.code is not None and not isinstance(exc.code, int):
                    print(exc.code, file=sys.stderr)
            except Exception:
                traceback.print_exc()
                code = 1
    finally:
        simulators()
        sys.stdin = stdin
        for h in list(root.handlers):
            if h not in handlers:
                root.removeHandler(h)
        for h in handlers:
            if h not in root.handlers:
                root.addHandler(h)
        root.setLevel(level)
        if i18n.language() != language:
            i18n.set_language(language)
    return subprocess.CompletedProcess(["kiosk", *argv], code, out.getvalue(), err.getvalue())


# -- the platform's two engines ------------------------------------------------------------------

ENGINES = ("sqlite", "postgresql")


@pytest.fixture(scope="session")
def pg_cluster(tmp_path_factory):
    """One private PostgreSQL server per test process (tests/pgcluster.py), stopped by its pid at the end;
    `pg_cluster.fresh()` is a new database at the platform's newest schema, copied from a migrated template."""
    from tests.pgcluster import PgCluster

    cluster = PgCluster(tmp_path_factory.mktemp("pg"), settings={"fsync": "off"}).start()
    counter = iter(range(1, 1_000_000))

    def fresh(migrated: bool = True) -> str:
        if migrated and not getattr(cluster, "template_ready", False):
            from kiosk.central import database
            engine = database.open_engine(cluster.create_database("platform_template"))
            database.migrate(engine)
            engine.dispose()
            cluster.template_ready = True
        name = f"t{next(counter)}"
        return cluster.create_database(name, "platform_template" if migrated else "template0")

    cluster.fresh = fresh
    try:
        yield cluster
    finally:
        cluster.stop()


@pytest.fixture(params=ENGINES)
def platform_db(request, tmp_path, monkeypatch) -> str:
    """The platform's `--db` on each engine: a SQLite file path, or the URL of a new PostgreSQL database
    (whose sealing key file, which a server database cannot hold beside it, is named by the environment)."""
    if request.param == "sqlite":
        return str(tmp_path / "central.db")
    monkeypatch.setenv("KIOSK_CENTRAL_KEY_FILE", str(tmp_path / "central.key"))
    return request.getfixturevalue("pg_cluster").fresh()


def together(platforms: list, work, teardown=lambda p: p[0].close()) -> list:
    """`work(platforms[i], i)` in one thread per platform (each a worker of its own on one database), started
    at the same moment; their results in order, an exception raised here; each platform torn down after."""
    import threading

    barrier = threading.Barrier(len(platforms))
    results: list = [None] * len(platforms)

    def run(i: int) -> None:
        barrier.wait()
        try:
            results[i] = work(platforms[i], i)
        except BaseException as exc:   # noqa: BLE001 (handed to the test's thread)
            results[i] = exc

    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(platforms))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    for p in platforms:
        teardown(p)
    for r in results:
        if isinstance(r, BaseException):
            raise r
    return results
