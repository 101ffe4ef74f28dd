"""`make synth`: what the design costs in hardware, as a table (Yosys and nextpnr from their PyPI wheels).

    python -m accel_tb.quality.synth [--sizes 8x8,16x16] [--no-pnr] [--seed 1] [--freq 100] [--out reports/synth]

Per array size, the core at its default parameters otherwise (accel_host.config.CoreConfig):
  generic   Yosys `synth -flatten` to its internal gate library, memories kept as memories: gates,
            flip-flops, memory bits; `check -assert` (no multiply-driven or undriven nets, no logic loops) and
            no latch, else the size fails
  ECP5      `synth_ecp5` (LUT4, TRELLIS_FF, MULT18X18D multipliers, DP16KD block RAMs, distributed RAM), then
            `nextpnr-ecp5 --85k --out-of-context --freq F`: the clock it achieves after placing and routing
            (its JSON report), and the device's use. A design that does not fit the 85k part says so.
The table goes to OUT/synth.json and is printed. tests/test_synth.py runs the generic check on a small core
in the regression (no latch, no multiple drivers, with a negative). Times: docs/synth.md.
"""
from __future__ import annotations

import argparse
import json
import re
import sys
import time
from pathlib import Path

from accel_tb.design.interrupt import interruptible
from accel_tb.design.yosys import ROOT, RTL, ToolMissing, compiled_once, copy_rtl, nextpnr_ecp5, yosys

LATCHES = "t:$_DLATCH* t:$dlatch* t:$adlatch* t:$_SR_* t:$sr t:$dlatchsr t:$_DLATCHSR_*"


def _params(rows: int, cols: int, extra: dict | None = None) -> dict:
    from accel_host.config import CoreConfig  # noqa: PLC0415
    return CoreConfig(rows=rows, cols=cols).parameters() | (extra or {})


def _read(files: list[str], params: dict) -> str:
    chp = " ".join(f"-set {k} {v}" for k, v in params.items())
    return f"read_verilog -DSYNTHESIS -I rtl/include {' '.join(files)}; chparam {chp} core; hierarchy -top core; "


def generic(work: Path, params: dict, timeout: int = 1800, src: Path = RTL) -> dict:
    """Generic synthesis of the core from src (rtl/): {'gates', 'flip_flops', 'memory_bits', 'latches', 'check'
    (the problems `check` reports), 'seconds'}; 'error' when Yosys failed."""
    files = copy_rtl(work, src)
    t = time.monotonic()
    # `check` right after elaboration: later optimisation may fold a second driver or a loop away
    rc, log = yosys(_read(files, params) + "proc; flatten; tee -q -o check.txt check; "
                    "synth -flatten -top core -run :fine; tee -q -o mems.txt dump t:$mem_v2; "
                    "opt -full; techmap; opt -fast; "
                    "abc -g AND,NAND,OR,NOR,XOR,XNOR,ANDNOT,ORNOT,MUX; opt_clean; "
                    f"tee -q -o latches.txt select -count {LATCHES}; tee -q -o stat.json stat -json", work, timeout)
    out = {"seconds": round(time.monotonic() - t, 1)}
    if rc != 0:
        return out | {"error": _last_error(log)}
    cells = _cells(work / "stat.json")
    out["flip_flops"] = sum(n for c, n in cells.items() if "DFF" in c)
    out["memory_bits"] = _memory_bits(work / "mems.txt")
    out["gates"] = sum(n for c, n in cells.items() if c.startswith("$_") and "DFF" not in c)
    out["latches"] = int(re.search(r"(\d+) objects", (work / "latches.txt").read_text()).group(1))
    check = (work / "check.txt").read_text()
    problems = [l.strip() for l in check.splitlines() if re.search(r"(?i)warning|multiple conflicting drivers|"
                                                                     r"logic loop|undriven", l)]
    out["check"] = problems
    return out


def ecp5(work: Path, params: dict, seed: int, freq: float, pnr: bool, timeout: int = 3600, src: Path = RTL) -> dict:
    files = copy_rtl(work, src)
    t = time.monotonic()
    rc, log = yosys(_read(files, params) + "synth_ecp5 -top core -json core.json; tee -q -o ecp5.json stat -json",
                    work, timeout)
    out = {"synth_seconds": round(time.monotonic() - t, 1)}
    if rc != 0:
        return out | {"error": _last_error(log)}
    cells = _cells(work / "ecp5.json")
    out |= {"lut4": cells.get("LUT4", 0), "ff": cells.get("TRELLIS_FF", 0), "carry": cells.get("CCU2C", 0),
            "dsp": cells.get("MULT18X18D", 0), "bram": cells.get("DP16KD", 0),
            "lutram": cells.get("TRELLIS_DPR16X4", 0)}
    if not pnr:
        return out
    compiled_once(tool="nextpnr-ecp5")  # a fresh machine's first run compiles the tool: not in pnr_seconds
    t = time.monotonic()
    # --timing-allow-fail: a clock below the target is a result (the achieved fmax), not a failed run
    (work / "report.json").unlink(missing_ok=True)
    rc, log = nextpnr_ecp5(["--85k", "--json", "core.json", "--out-of-context", "--freq", str(freq), "--seed",
                            str(seed), "--timing-allow-fail", "--report", "report.json"], work, timeout)
    out["pnr_seconds"] = round(time.monotonic() - t, 1)
    rep = work / "report.json"
    if rc != 0 or not rep.is_file():
        fit = re.search(r"(?i)(design uses \d+ \S+ but device has \d+|unable to place.*)", log)
        # only a design larger than the device is 'no fit' (a result); a timeout or a crash is a failed run
        return out | {"pnr_error": fit.group(1) if fit else _last_error(log), "no_fit": bool(fit)}
    r = json.loads(rep.read_text())
    clocks = r.get("fmax", {})
    out["fmax_mhz"] = round(min(c["achieved"] for c in clocks.values()), 1) if clocks else None
    out["critical_path"] = critical_path(r)
    util = r.get("utilization", {})
    out["device_use"] = {k: f"{v['used']}/{v['available']}" for k, v in util.items()
                         if k in ("TRELLIS_COMB", "TRELLIS_FF", "MULT18X18D", "DP16KD") and v.get("used")}
    return out


def critical_path(report: dict) -> dict | None:
    """The slowest path of nextpnr's JSON report: where it starts and ends (cell names), its nanoseconds in
    total and by kind (clk-to-q, logic, routing, setup), and the cells it passes through, in order."""
    paths = [p for p in report.get("critical_paths", []) if p.get("path")]
    if not paths:
        return None
    p = max(paths, key=lambda q: sum(s["delay"] for s in q["path"]))
    by_kind: dict = {}
    through: list[str] = []
    for step in p["path"]:
        by_kind[step["type"]] = by_kind.get(step["type"], 0.0) + step["delay"]
        for end in ("from", "to"):
            cell = step[end]["cell"]
            if not through or through[-1] != cell:
                through.append(cell)
    return {"ns": round(sum(by_kind.values()), 2), "from": through[0], "to": through[-1],
            "ns_by_kind": {k: round(v, 2) for k, v in by_kind.items()}, "through": through}


def _cells(stat: Path) -> dict:
    mods = json.loads(stat.read_text())["modules"]
    return next(iter(mods.values()))["num_cells_by_type"]


def _memory_bits(dump: Path) -> int:
    """Bits of the memories Yosys kept as memories ($mem_v2 cells: WIDTH x SIZE each)."""
    bits = 0
    for cell in dump.read_text().split("cell $mem_v2")[1:]:
        w = re.search(r"parameter \\WIDTH (\d+)", cell)
        n = re.search(r"parameter \\SIZE (\d+)", cell)
        bits += int(w.group(1)) * int(n.group(1)) if w and n else 0
    return bits


def _last_error(log: str) -> str:
    lines = [l for l in log.splitlines() if "ERROR" in l or "error" in l.lower()]
    return (lines[-1] if lines else (log.strip().splitlines() or ["no output"])[-1])[:200]


def table(rows: list[dict]) -> list[str]:
    head = (f"{'size':<7}{'gates':>9}{'FFs':>8}{'mem bits':>10}{'latch':>6}  {'LUT4':>7}{'FF':>7}{'DSP':>5}"
            f"{'BRAM':>6}{'LUTRAM':>7}{'fmax MHz':>10}")
    out = [head]
    for r in rows:
        g, e = r["generic"], r["ecp5"]
        fmax = e.get("fmax_mhz")
        fm = f"{fmax:>10}" if fmax is not None else \
            f"{('no fit' if e.get('no_fit') else 'failed' if 'pnr_error' in e else '-'):>10}"
        out.append(f"{r['size']:<7}{g.get('gates', '-'):>9}{g.get('flip_flops', '-'):>8}{g.get('memory_bits', '-'):>10}"
                   f"{g.get('latches', '-'):>6}  {e.get('lut4', '-'):>7}{e.get('ff', '-'):>7}{e.get('dsp', '-'):>5}"
                   f"{e.get('bram', '-'):>6}{e.get('lutram', '-'):>7}{fm}")
    return out


@interruptible
def main(argv=None) -> int:
    import math  # noqa: PLC0415

    from golden_py.cliargs import ArgumentParser, OptionError, out_folder  # noqa: PLC0415 (one-line option errors)
    ap = ArgumentParser(prog="python -m accel_tb.quality.synth", description=__doc__,
                        formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--sizes", default="8x8,16x16", help="array sizes RxC, comma separated (default 8x8,16x16)")
    ap.add_argument("--no-pnr", action="store_true", help="synthesis only (no place and route)")
    ap.add_argument("--seed", type=int, default=None, help="nextpnr's placement seed (default 1)")
    ap.add_argument("--freq", type=float, default=None, help="the clock nextpnr aims for, MHz (default 100)")
    ap.add_argument("--out", default=str(ROOT / "reports" / "synth"))
    args = ap.parse_args(argv)

    def refuse(msg: str) -> int:
        print(f"error: {msg}", file=sys.stderr)
        return 2
    sizes = []
    for s in args.sizes.split(","):
        m = re.fullmatch(r"\s*(\d+)x(\d+)\s*", s)
        if not m or not (1 <= int(m.group(1)) <= 64 and 1 <= int(m.group(2)) <= 64):
            return refuse(f"--sizes {s!r}: give RxC with 1..64 rows and columns, e.g. 8x8")
        if (int(m.group(1)), int(m.group(2))) in sizes:     # the second run would overwrite the first's folder
            return refuse(f"--sizes {args.sizes}: {m.group(1)}x{m.group(2)} twice")
        sizes.append((int(m.group(1)), int(m.group(2))))
    if args.no_pnr and (args.seed is not None or args.freq is not None):
        return refuse(f"{'--seed' if args.seed is not None else '--freq'} with --no-pnr: the placement seed and the "
                      "clock target are place and route's, which --no-pnr leaves out")
    args.seed = 1 if args.seed is None else args.seed
    args.freq = 100.0 if args.freq is None else args.freq
    if not (math.isfinite(args.freq) and args.freq > 0):
        return refuse(f"--freq {args.freq}: must be a number above 0")
    try:
        out = out_folder(args.out)
    except OptionError as e:
        return refuse(str(e))
    rows, bad = [], False
    # one copy of rtl/ as the run starts for every size and flow: a 16x16 run takes half an hour, and an edit of
    # rtl/ meanwhile would put another design in the same table (each step copied rtl/ as it started)
    src = out / "rtl"
    copy_rtl(out)
    try:
        for r, c in sizes:
            work = out / f"{r}x{c}"
            work.mkdir(parents=True, exist_ok=True)
            print(f"{r}x{c}: generic synthesis ...", flush=True)
            params = _params(r, c)
            g = generic(work / "generic", params, src=src)
            print(f"{r}x{c}: ECP5 synthesis{'' if args.no_pnr else ' and place and route'} ...", flush=True)
            e = ecp5(work / "ecp5", params, args.seed, args.freq, not args.no_pnr, src=src)
            rows.append({"size": f"{r}x{c}", "params": params, "generic": g, "ecp5": e})
            for what, res in (("generic", g), ("ecp5", e)):
                if "error" in res:
                    print(f"{r}x{c} {what}: Yosys failed: {res['error']}")
                    bad = True
            if "pnr_error" in e and not e.get("no_fit"):       # a timeout, a crash: not a measurement
                print(f"{r}x{c}: place and route failed: {e['pnr_error']}")
                bad = True
            if g.get("latches") or g.get("check"):
                print(f"{r}x{c}: {g.get('latches')} latches; check: {'; '.join(g.get('check') or []) or 'clean'}")
                bad = True
    except ToolMissing as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    pnr = {"seed": None, "freq_target_mhz": None} if args.no_pnr else {"seed": args.seed, "freq_target_mhz": args.freq}
    (out / "synth.json").write_text(json.dumps({**pnr, "sizes": rows},
                                               indent=1) + "\n")
    print("\n".join(table(rows)))
    for row in rows:
        cp = row["ecp5"].get("critical_path")
        if cp:
            kinds = ", ".join(f"{k} {v}" for k, v in cp["ns_by_kind"].items())
            print(f"{row['size']}: critical path {cp['ns']} ns ({kinds}) from {cp['from']} to {cp['to']}")
        if row["ecp5"].get("no_fit"):
            print(f"{row['size']}: not placed on the LFE5U-85F: {row['ecp5']['pnr_error']}")
    print(f"wrote {out / 'synth.json'}")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
