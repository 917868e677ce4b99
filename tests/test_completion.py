"""`kiosk completion bash`: the script bash loads completes commands, subcommands and options as the parser
has them, read back by running the completion function in a real bash."""
from __future__ import annotations

import subprocess

from tests.conftest import run_kiosk


def complete(script: str, *words: str) -> list[str]:
    line = " ".join(words)
    cmd = (f'source "$0"; COMP_WORDS=({line}); COMP_CWORD={len(words) - 1}; _kiosk; '
           'printf "%s\\n" "${COMPREPLY[@]}"')
    done = subprocess.run(["bash", "-c", cmd, script], capture_output=True, text=True, timeout=30)
    assert done.returncode == 0, done.stderr
    return done.stdout.split()


def test_bash_completes_commands_subcommands_and_options(tmp_path):
    done = run_kiosk("completion", "bash")
    assert done.returncode == 0 and "complete -o default -F _kiosk kiosk" in done.stdout
    script = tmp_path / "kiosk.bash"
    script.write_text(done.stdout)
    assert complete(str(script), "kiosk", "sy") == ["sync"]
    assert set(complete(str(script), "kiosk", "")) >= {"ui", "agent", "central", "provision", "config", "--config"}
    assert complete(str(script), "kiosk", "sync", "re") == ["retry-dead"]
    assert complete(str(script), "kiosk", "--config", "x.toml", "sync", "retry-dead", "--") == ["--help", "--json", "--seq"]
    assert "check" in complete(str(script), "kiosk", "config", "ch")
