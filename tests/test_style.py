"""The code's style is checked, not hoped for: ruff's lint rules from pyproject.toml ([tool.ruff]) hold on the
whole tree."""
import shutil
import subprocess
import sys

import pytest

from accel_tb.design.runner import ROOT


def _ruff(*args, cwd=ROOT):
    exe = shutil.which("ruff")
    cmd = [exe] if exe else [sys.executable, "-m", "ruff"]
    return subprocess.run([*cmd, *args], cwd=cwd, capture_output=True, text=True)


def test_ruff_lint_clean():
    if _ruff("--version").returncode != 0:
        pytest.fail("ruff is not installed: run `make setup` (it is in the test extra)")
    r = _ruff("check", ".")
    assert r.returncode == 0, r.stdout[-3000:]


def test_ruff_finds_an_unused_import(tmp_path):
    """Negative: the same configuration reports a file with an unused import."""
    (tmp_path / "pyproject.toml").write_text((ROOT / "pyproject.toml").read_text())
    (tmp_path / "bad.py").write_text("import os\n")
    r = _ruff("check", ".", cwd=tmp_path)
    assert r.returncode == 1 and "F401" in r.stdout, r.stdout
