"""`make mutate`: how many RTL bugs does the regression catch? Source-level mutation testing of rtl/.

    python -m accel_tb.mutation [--per-module 24] [--jobs 2] [--seed 1] [--out reports/mutation]

Operators a designer would recognise, applied to one site at a time in every module of rtl/:
  arith     a + b -> a - b, a - b -> a + b
  logic     && <-> ||, & <-> | (bitwise, binary)
  compare   == <-> !=, < -> <=, > -> >=
  const     an N'dV constant -> V+1 and V-1; 1'b0 <-> 1'b1
  cond      if (c) -> if (!(c)), if (1'b1) (a dropped enable), if (1'b0) (a stuck condition)
  ternary   c ? a : b -> c ? b : a (swapped operands)
  slice     x[i +: W] -> x[i + 1 +: W] (a wrong bit-slice)
Comments, declarations, the simulation-only checks (`ifndef SYNTHESIS) and the fault-injection knobs are not
mutated. Sites are sampled per module with --seed, at most --per-module each.

Each mutant runs the regression's cheapest tests first, all under Icarus, and stops at the first failure:
lint (verilator -Wall, as tb/lint), the module's block test, layer 27 (4-bit), the 2a4w layer 27 (2-bit),
layer 27 output-stationary (both modes), the output buffer filled under back-pressure, random layers with
crossed pauses, random layers alternating WS and OS, the coverage closure (every command layout), and layers
24, 27, 29 on the network configuration (ACC_W and memories derived from the network). A mutant that hangs is stopped after --timeout seconds (timeout: the
regression notices it too). Verdicts: killed, timeout, survived, invalid (does not compile), equivalent
(listed with its reason in docs/mutation_equivalents.json). Writes OUT/mutation.json and prints a table per
module.
"""
from __future__ import annotations

import argparse
import json
import os
import random
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
RTL = ROOT / "rtl"
EQUIVALENTS = ROOT / "docs" / "mutation_equivalents.json"
MODULES = ["mac", "pe", "mac_array", "l0_skew", "fifo", "ofifo", "sram_sp", "sram_1r1w", "sfu", "sequencer", "core"]
SKIP_LINE = re.compile(r"^\s*(//|input\b|output\b|parameter\b|localparam\b|module\b|endmodule\b|`|genvar\b|"
                       r"\$display)|FAULT|STUCK|FOLD_GAP|drop_toggle|\bgap\b")


@dataclass
class Mutant:
    id: str
    module: str
    line: int
    operator: str
    original: str
    mutated: str


def _code_lines(text: str):
    """(line number, line) of the lines open to mutation: outside `ifndef SYNTHESIS blocks, not skipped."""
    in_sim = False
    for n, line in enumerate(text.splitlines(), start=1):
        if line.strip().startswith("`ifndef SYNTHESIS"):
            in_sim = True
        if in_sim:
            if line.strip().startswith("`endif"):
                in_sim = False
            continue
        code = line.split("//")[0]
        if code.strip() and not SKIP_LINE.search(line):
            yield n, code


def _paren_end(s: str, start: int) -> int:
    depth = 0
    for i in range(start, len(s)):
        if s[i] == "(":
            depth += 1
        elif s[i] == ")":
            depth -= 1
            if depth == 0:
                return i
    return -1


def _sites(code: str):
    """(operator, new code) for every mutation of one line."""
    out = []

    def sub(op, pattern, repl):
        for m in re.finditer(pattern, code):
            new = code[:m.start()] + (repl(m) if callable(repl) else repl) + code[m.end():]
            out.append((op, new))

    sub("arith", r"(?<=\s)\+(?=\s)", "-")
    sub("arith", r"(?<=\s)-(?=\s)", "+")
    sub("logic", r"&&", "||")
    sub("logic", r"\|\|", "&&")
    sub("logic", r"(?<=\s)&(?=\s)", "|")
    sub("logic", r"(?<=\s)\|(?=\s)", "&")
    sub("compare", r"==", "!=")
    sub("compare", r"!=", "==")
    sub("compare", r"(?<=\s)<(?=\s)", "<=")
    sub("compare", r"(?<=\s)>(?=\s)", ">=")
    sub("const", r"\b(\d+)'d(\d+)\b", lambda m: f"{m.group(1)}'d{int(m.group(2)) + 1}")
    sub("const", r"\b(\d+)'d([1-9]\d*)\b", lambda m: f"{m.group(1)}'d{int(m.group(2)) - 1}")
    sub("const", r"1'b0", "1'b1")
    sub("const", r"1'b1", "1'b0")
    sub("slice", r"\[([^\[\]]+?) \+:", lambda m: f"[{m.group(1)} + 1 +:")
    for m in re.finditer(r"\bif\s*\(", code):
        start = code.index("(", m.start())
        end = _paren_end(code, start)
        if end < 0:
            continue
        cond = code[start + 1:end]
        for op, new in (("cond", f"!({cond})"), ("cond", "1'b1"), ("cond", "1'b0")):
            out.append((op, code[:start + 1] + new + code[end:]))
    if code.count(" ? ") == 1 and code.count(" : ") == 1:
        q, c = code.index(" ? "), code.index(" : ")
        if q < c:
            a = code[q + 3:c]
            tail = code[c + 3:]
            depth, cut = 0, len(tail)
            for i, ch in enumerate(tail):
                depth += ch in "([{"
                depth -= ch in ")]}"
                if depth < 0 or (depth == 0 and ch in ";,"):
                    cut = i
                    break
            b = tail[:cut]
            out.append(("ternary", code[:q + 3] + b + " : " + a + tail[cut:]))
    return [(op, new) for op, new in out if new != code]


def enumerate_mutants(per_module: int, seed: int) -> list[Mutant]:
    mutants = []
    for mod in MODULES:
        text = (RTL / f"{mod}.v").read_text()
        cands = []
        for n, code in _code_lines(text):
            for op, new in _sites(code):
                cands.append((n, op, code.strip(), new.strip()))
        random.Random(f"{seed}-{mod}").shuffle(cands)
        for k, (n, op, orig, new) in enumerate(sorted(cands[:per_module], key=lambda c: (c[0], c[1], c[3]))):
            mutants.append(Mutant(f"{mod}:{n}:{op}:{k}", mod, n, op, orig, new))
    return mutants


def apply(m: Mutant, rtl_dir: Path) -> None:
    if m.operator == "none":          # the baseline: the RTL as it is
        return
    p = rtl_dir / f"{m.module}.v"
    lines = p.read_text().splitlines(keepends=True)
    line = lines[m.line - 1]
    comment = line[len(line.split("//")[0]):] if "//" in line else "\n"
    indent = line[:len(line) - len(line.lstrip())]
    lines[m.line - 1] = indent + m.mutated + (" " + comment.lstrip() if "//" in line else "\n")
    p.write_text("".join(lines))


# --------------------------------------------------------------------------------------------- the ladder
BLOCK_TESTS = {   # module -> (toplevel, sources, tb folder, test module, cocotb test, parameters)
    "mac": ("mac", ["mac"], "mac", "test_mac", None, {"PSUM_W": 16}),
    "pe": ("pe", ["mac", "pe"], "pe", "test_pe", None, {"COLS": 8, "COL": 7}),
    "mac_array": ("mac_array", ["mac", "pe", "mac_array"], "mac_array", "test_mac_array", None, {"ROWS": 4, "COLS": 8}),
    "l0_skew": ("l0_skew", ["l0_skew"], "l0_skew", "test_l0_skew", None, {"LANES": 8, "W": 9}),
    "fifo": ("fifo", ["fifo"], "fifo", "test_fifo", None, {"WIDTH": 16, "DEPTH": 3}),
    "ofifo": ("ofifo", ["fifo", "ofifo"], "ofifo", "test_ofifo", None, {"COLS": 8, "DEPTH": 64}),
    "sram_sp": ("sram_sp", ["sram_sp"], "sram", "test_sram", "test_sram_sp_random", {"WIDTH": 32, "DEPTH": 64}),
    "sram_1r1w": ("sram_1r1w", ["sram_1r1w"], "sram", "test_sram", "test_sram_1r1w_random", {"WIDTH": 128, "DEPTH": 16}),
    "sfu": ("sfu", ["sram_1r1w", "sfu"], "sfu", "test_sfu", None, {"COLS": 8, "ACC_W": 16, "DEPTH": 64}),
}


def ladder(rtl_dir: Path, module: str) -> list[tuple]:
    """(name, run() keyword arguments) of the tests a mutant of `module` goes through, cheapest first."""
    from accel_host.config import CoreConfig, for_network
    from accel_host.mapping import LayerShape
    from accel_tb.runner import CORE_SOURCES

    def src(names):
        return [rtl_dir / f"{n}.v" for n in names]
    ck4, ck2 = str(ROOT / "checkpoints" / "vgg16_a4w4.pt"), str(ROOT / "checkpoints" / "vgg16_a2w4.pt")

    def layer(ck, idx):
        return {"checkpoint": ck, "layer": idx, "images": [0], "data_dir": None}
    core = dict(toplevel="core", sources=src(CORE_SOURCES), test_module="accel_tb.layer_tests", sim="icarus",
                includes=[rtl_dir / "include"])
    net_cfg = for_network([LayerShape(256, 8, 4, 4), LayerShape(8, 8, 4, 4), LayerShape(8, 512, 4, 4),
                           LayerShape(512, 512, 2, 2), LayerShape(64, 64, 32, 32)])
    steps = [("lint", None)]       # tb/lint: verilator -Wall silent on the module and on the core
    if module in BLOCK_TESTS:
        top, names, folder, mod, testcase, params = BLOCK_TESTS[module]
        steps.append(("block", dict(toplevel=top, sources=src(names), test_module=mod, sim="icarus", parameters=params,
                                    testcase=testcase, includes=[rtl_dir / "include"],
                                    tb_dir=str(ROOT / "tb" / folder))))
    base = CoreConfig().parameters()
    steps += [
        # Icarus models X: this first core step also checks every output port for X/Z from reset on
        ("layer27 4-bit", dict(core, parameters=base, testcase="test_layer",
                               config={"layer": layer(ck4, 27), "adapter_options": {"four_state": True}})),
        ("layer27 2-bit", dict(core, parameters=base, testcase="test_layer", config={"layer": layer(ck2, 27)})),
        ("layer27 OS", dict(core, parameters=base, testcase="test_layer_sequence",
                            config={"sequence": [dict(layer(ck4, 27), dataflow="os"),
                                                 dict(layer(ck2, 27), dataflow="os")]})),
        ("output buffer", dict(core, parameters=base, testcase="test_output_buffer_fills",
                               config={"layer": layer(ck4, 29)})),
        ("random layers", dict(core, parameters=CoreConfig(acc_w=24).parameters(), testcase="test_random_layers",
                               config={"trials": 5})),
        ("random WS/OS", dict(core, parameters=CoreConfig(acc_w=24).parameters(), testcase="test_random_layers",
                              config={"trials": 4, "dataflow": "alternate", "cross_offset": 5})),
        ("coverage closure", dict(core, parameters=CoreConfig(acc_w=24).parameters(), testcase="test_coverage_closure",
                                  config={"layers": [], "max_trials": 27})),
        ("network config", dict(core, parameters=net_cfg.parameters(), testcase="test_layer_sequence",
                                config={"sequence": [layer(ck4, 24), layer(ck4, 27), layer(ck4, 29)]})),
    ]
    return steps


LINT_CORE_PARAMS = [[], ["-GROWS=16", "-GCOLS=16"], ["-GROWS=4", "-GCOLS=8", "-GACC_W=24"]]   # as tb/lint


def run_mutant(m: Mutant, timeout: int) -> dict:
    """In a child process: apply the mutant to a copy of rtl/, run the ladder, report the first failure."""
    with tempfile.TemporaryDirectory(prefix="mutant-") as tmp:
        rtl_dir = Path(tmp) / "rtl"
        shutil.copytree(RTL, rtl_dir)
        apply(m, rtl_dir)
        cmd = [sys.executable, "-m", "accel_tb.mutation", "--child", json.dumps(asdict(m)), "--rtl", str(rtl_dir)]
        env = dict(os.environ, ACCEL_BUILD_DIR=str(Path(tmp) / "build"), PYTHONUNBUFFERED="1")
        t0 = time.time()
        proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env,
                                start_new_session=True)
        try:
            out, _ = proc.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.communicate()
            return {**asdict(m), "verdict": "timeout", "by": f"no result after {timeout} s", "seconds": timeout}
        lines = [l for l in out.splitlines() if l.startswith("MUTANT-RESULT ")]
        if not lines:
            return {**asdict(m), "verdict": "invalid", "by": "child gave no result: " + out[-300:].replace("\n", " "),
                    "seconds": round(time.time() - t0, 1)}
        res = json.loads(lines[-1][len("MUTANT-RESULT "):])
        return {**asdict(m), **res, "seconds": round(time.time() - t0, 1)}


def child(m: Mutant, rtl_dir: Path) -> dict:
    from accel_tb.runner import RunError, run
    for name, kw in ladder(rtl_dir, m.module):
        if name == "lint":     # the module alone, and the core with tb/lint's parameter sets
            for top, params in [(m.module, [])] + [("core", p) for p in LINT_CORE_PARAMS]:
                r = subprocess.run(["verilator", "--lint-only", "-Wall", f"-I{rtl_dir / 'include'}", "--top-module", top,
                                    *params, *sorted(str(p) for p in rtl_dir.glob("*.v"))], capture_output=True, text=True)
                diag = [l for l in (r.stdout + r.stderr).splitlines() if l.startswith("%")]
                if r.returncode or diag:
                    return {"verdict": "killed",
                            "by": f"lint ({top} {' '.join(params)}): {diag[0][:160] if diag else r.returncode}"}
            continue
        tb_dir = kw.pop("tb_dir", None)
        if tb_dir:
            sys.path.insert(0, tb_dir)
        try:
            res = run(expect_fail=True, **kw)
        except SystemExit as e:          # the build failed: the mutant is not valid Verilog
            return {"verdict": "invalid", "by": f"{name}: build failed ({e.code})"}
        except RunError as e:            # the simulator stopped without results: a crash the regression sees
            return {"verdict": "killed", "by": f"{name}: {str(e)[:200]}"}
        if res["failed"]:
            return {"verdict": "killed", "by": name}
    return {"verdict": "survived", "by": ""}


def _check_options(args) -> str | None:
    """The options, judged before any simulation: one line naming the option, or None."""
    for flag, value in (("--per-module", args.per_module), ("--jobs", args.jobs), ("--timeout", args.timeout)):
        if value < 1:
            return f"{flag} {value}: must be >= 1"
    unknown = [m for m in args.modules.split(",") if m and m not in MODULES]
    if unknown:
        return f"--modules {unknown[0]}: not a module of rtl/ (choose from {', '.join(MODULES)})"
    out = Path(args.out)
    if out.exists() and not out.is_dir():
        return f"--out {out}: exists and is not a folder"
    return None


def main(argv=None) -> int:
    from golden_py.cliargs import ArgumentParser  # noqa: PLC0415 (one-line option errors)
    ap = ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--per-module", type=int, default=24)
    ap.add_argument("--jobs", type=int, default=os.cpu_count() or 1)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--timeout", type=int, default=240)
    ap.add_argument("--modules", default="", help="comma list (default: all)")
    ap.add_argument("--out", default=str(ROOT / "reports" / "mutation"))
    ap.add_argument("--list", action="store_true", help="only list the mutants")
    ap.add_argument("--only", default="", help="comma list of mutant ids to run (e.g. the survivors of a report)")
    ap.add_argument("--child", help=argparse.SUPPRESS)
    ap.add_argument("--rtl", help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.child:
        res = child(Mutant(**json.loads(args.child)), Path(args.rtl))
        print("MUTANT-RESULT " + json.dumps(res), flush=True)
        return 0
    problem = _check_options(args)
    if problem:
        print(f"error: {problem}", file=sys.stderr)
        return 2
    mutants = enumerate_mutants(args.per_module, args.seed)
    if args.modules:
        keep = set(args.modules.split(","))
        mutants = [m for m in mutants if m.module in keep]
    if args.only:
        keep = set(args.only.split(","))
        unknown = sorted(keep - {m.id for m in mutants})
        if unknown:
            print(f"error: --only {unknown[0]}: no such mutant among those drawn (see --list)", file=sys.stderr)
            return 2
        mutants = [m for m in mutants if m.id in keep]
    if not mutants:   # a score over no mutant would read 100%
        print("error: no mutant to run (see --list)", file=sys.stderr)
        return 2
    if args.list:
        for m in mutants:
            print(f"{m.id:<28} {m.original}  ->  {m.mutated}")
        return 0
    # the unmutated RTL must pass every ladder, or every mutant would count as killed
    mods = sorted({m.module for m in mutants}, key=MODULES.index)
    with ThreadPoolExecutor(max_workers=args.jobs) as pool:
        base = list(pool.map(lambda mod: run_mutant(Mutant(f"baseline:{mod}", mod, 1, "none", "", ""), args.timeout),
                             mods))
    broken = [b for b in base if b["verdict"] != "survived"]
    if broken:
        for b in broken:
            print(f"error: the unmutated RTL fails the {b['module']} ladder ({b['verdict']}: {b['by']})", file=sys.stderr)
        return 2
    print(f"baseline: the unmutated RTL passes all {len(mods)} ladders")
    equivalents = json.loads(EQUIVALENTS.read_text()) if EQUIVALENTS.is_file() else {}
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    results = []
    t0 = time.time()
    try:
        from tqdm import tqdm
        bar = tqdm(total=len(mutants), desc="mutants", unit="mutant", disable=None)
    except ImportError:
        bar = None
    with ThreadPoolExecutor(max_workers=args.jobs) as pool:
        for res in pool.map(lambda m: run_mutant(m, args.timeout), mutants):
            # keyed by module and text, not line: an edit elsewhere in the file keeps the argument attached
            key = f"{res['module']}:{res['original']} -> {res['mutated']}"
            if res["verdict"] == "survived" and key in equivalents:
                res["verdict"], res["by"] = "equivalent", equivalents[key]
            results.append(res)
            if bar:
                bar.update(1)
    if bar:
        bar.close()
    table, summary = report(results)
    data = {"seed": args.seed, "per_module": args.per_module, "wall_seconds": round(time.time() - t0),
            "summary": summary, "mutants": results}
    (out / "mutation.json").write_text(json.dumps(data, indent=1))
    print("\n".join(table))
    for r in results:
        if r["verdict"] == "survived":
            print(f"SURVIVED {r['id']}: {r['original']}  ->  {r['mutated']}")
    print(f"wrote {out / 'mutation.json'} ({data['wall_seconds']} s)")
    return 0 if summary["survived"] == 0 else 1


def report(results: list[dict]):
    verdicts = ["killed", "timeout", "survived", "equivalent", "invalid"]
    lines = [f"{'module':<11} {'mutants':>7} " + " ".join(f"{v:>10}" for v in verdicts) + f" {'score':>7}"]
    total = {v: 0 for v in verdicts}
    for mod in MODULES:
        rs = [r for r in results if r["module"] == mod]
        if not rs:
            continue
        c = {v: sum(r["verdict"] == v for r in rs) for v in verdicts}
        for v in verdicts:
            total[v] += c[v]
        lines.append(f"{mod:<11} {len(rs):>7} " + " ".join(f"{c[v]:>10}" for v in verdicts) + f" {_score(c):>6.1f}%")
    lines.append(f"{'total':<11} {len(results):>7} " + " ".join(f"{total[v]:>10}" for v in verdicts)
                 + f" {_score(total):>6.1f}%")
    lines.append("score = (killed + timeout) / (mutants - equivalent - invalid)")
    return lines, {**total, "mutants": len(results), "score": _score(total)}


def _score(c) -> float:
    live = c["killed"] + c["timeout"] + c["survived"]
    return 100.0 * (c["killed"] + c["timeout"]) / live if live else 100.0


if __name__ == "__main__":
    sys.exit(main())
