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


@pytest.fixture
def kiosk_config(tmp_path) -> Path:
    return write_config(tmp_path / "kiosk")


def run_kiosk(*args: str, config: Path | None = None, timeout: float = 60, env: dict | None = None,
              input: str | None = None) -> subprocess.CompletedProcess:
    cmd = [str(KIOSK)] + (["--config", str(config)] if config else []) + list(args)
    full_env = dict(os.environ, KIVY_NO_ARGS="1", **(env or {}))
    return subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, env=full_env, cwd=ROOT, input=input)
