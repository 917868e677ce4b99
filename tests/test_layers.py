"""The layers of DESIGN.md section 2 hold: import-linter checks the contracts of pyproject.toml
([tool.importlinter]) against every import of kiosk/, function-level ones included."""
from __future__ import annotations

import subprocess
import sys
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_every_layer_contract_is_kept():
    contracts = tomllib.loads((ROOT / "pyproject.toml").read_text("utf-8"))["tool"]["importlinter"]["contracts"]
    lint = Path(sys.executable).with_name("lint-imports")
    out = subprocess.run([str(lint), "--no-cache"], capture_output=True, text=True, cwd=ROOT, timeout=120)
    assert out.returncode == 0, out.stdout + out.stderr
    # every contract of the file was checked, none skipped
    assert f"Contracts: {len(contracts)} kept, 0 broken." in out.stdout, out.stdout
