"""Lint: `verilator --lint-only -Wall` must be silent for every module and the core's parameter sets
(waivers sit in the RTL with their reasons), and Icarus must compile the core without warnings."""
import shutil
import subprocess

import pytest

from accel_tb.design.blocks import MODULES as BLOCKS
from accel_tb.design.runner import INCLUDE, RTL

MODULES = [m for m in BLOCKS if m != "core"]     # the core: its parameter sets below
# the edges of the documented 1..64 range in each dimension: 1x1, 64x1 and 1x64 (the RTL's widths follow ROWS,
# COLS and ROWS + COLS -- the credits, the number of weight banks -- and a bank's width its diagonal's length,
# min(ROWS, COLS); never their product but in the weight word's slices); 4x8 and 8x4 have long diagonals both
# ways. 64x1 and 1x64 lint in under a second each; 32x32 took 10 s and 64x64 takes 60 s: tb/core simulates 64x64
CORE_PARAMS = [[], ["-GROWS=16", "-GCOLS=16"], ["-GROWS=4", "-GCOLS=8", "-GACC_W=24"], ["-GROWS=8", "-GCOLS=4"],
               ["-GROWS=64", "-GCOLS=1"], ["-GROWS=1", "-GCOLS=64"], ["-GROWS=1", "-GCOLS=1"], ["-GROWS=4", "-GCOLS=4"],
               ["-GFAULT_ROW=5", "-GFAULT_COL=6", "-GFAULT_BIT=2"]]
SOURCES = sorted(str(p) for p in RTL.glob("*.v"))


def _lint(top, extra):
    if not shutil.which("verilator"):
        pytest.fail("verilator not on PATH: run `make setup`")
    r = subprocess.run(["verilator", "--lint-only", "-Wall", f"-I{INCLUDE}", "--top-module", top, *extra, *SOURCES],
                       capture_output=True, text=True)
    # only diagnostics count; Verilator also prints a statistics report
    return r.returncode, "\n".join(l for l in (r.stdout + r.stderr).splitlines() if l.startswith("%"))


@pytest.mark.parametrize("module", MODULES)
def test_module_lint_clean(module):
    rc, out = _lint(module, [])
    assert rc == 0 and out == "", out


@pytest.mark.parametrize("params", CORE_PARAMS, ids=lambda p: " ".join(p) or "default")
def test_core_lint_clean(params):
    rc, out = _lint("core", params)
    assert rc == 0 and out == "", out


def test_lint_catches_a_width_bug(tmp_path):
    """The lint test can fail: a truncating assignment in a copy of the MAC is reported."""
    bad = tmp_path / "mac.v"
    bad.write_text((RTL / "mac.v").read_text().replace("assign psum_out = psum_in + prod_ext;",
                                                         "assign psum_out = psum_in + prod;"))
    r = subprocess.run(["verilator", "--lint-only", "-Wall", "--top-module", "mac", str(bad)],
                       capture_output=True, text=True)
    assert r.returncode != 0 and "WIDTH" in r.stderr


def test_icarus_compiles_core_cleanly(tmp_path):
    if not shutil.which("iverilog"):
        pytest.fail("iverilog not on PATH: run `make setup`")
    r = subprocess.run(["iverilog", "-g2005", "-Wall", f"-I{INCLUDE}", "-o", str(tmp_path / "core.vvp"), "-s", "core",
                        *SOURCES],
                       capture_output=True, text=True)
    assert r.returncode == 0 and (r.stdout + r.stderr).strip() == "", r.stderr
