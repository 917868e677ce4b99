"""Long work shows how far it has got to a person at a terminal and says nothing of it into a pipe
(issue 23): the catalog import's search readings (pypinyin, seconds for a city's catalog)."""
from __future__ import annotations

import os
import subprocess

from tests.conftest import KIOSK, ROOT, write_config

CATALOG = ROOT / "config" / "demo-catalog.json"


def run_with_stderr_on_a_terminal(*args: str) -> tuple[int, str, str]:
    """The command with its stderr on a pseudo-terminal (as a technician's ssh session has it) and its
    stdout piped; (exit status, stdout, what the terminal showed)."""
    leader, follower = os.openpty()
    try:
        proc = subprocess.Popen([str(KIOSK), *args], stdout=subprocess.PIPE, stderr=follower,
                                env=dict(os.environ, KIVY_NO_ARGS="1"), cwd=ROOT)
        os.close(follower)
        shown = b""
        while True:
            try:
                chunk = os.read(leader, 4096)
            except OSError:    # the command ended and closed the terminal's other side
                break
            if not chunk:
                break
            shown += chunk
        out, _ = proc.communicate(timeout=120)
    finally:
        os.close(leader)
    return proc.returncode, out.decode(), shown.decode(errors="replace")


def test_a_catalog_import_counts_its_texts_on_a_terminal_and_is_quiet_into_a_pipe(tmp_path):
    config = write_config(tmp_path)
    code, out, shown = run_with_stderr_on_a_terminal("--config", str(config), "guides", "import", str(CATALOG))
    assert code == 0, shown
    assert "search readings:" in shown and "texts" in shown, shown
    counts = [part.split(" texts")[0] for part in shown.split("search readings: ")[1:]]
    done, total = counts[-1].split(" of ")
    assert done == total and int(total) > 50, counts            # it ends at all of them
    assert "catalog" in out and "imported" in out                # the answer itself on stdout, as always

    piped = subprocess.run([str(KIOSK), "--config", str(config), "guides", "import", str(CATALOG)],
                           capture_output=True, text=True, timeout=120, env=dict(os.environ, KIVY_NO_ARGS="1"))
    assert piped.returncode == 0 and "search readings" not in piped.stderr, piped.stderr
