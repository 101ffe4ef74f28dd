"""`make mutate`: how many RTL bugs does the regression catch? Source-level mutation testing of rtl/.

    python -m accel_tb.quality.mutation [--sample 240 | --all] [--matrix] [--jobs 2] [--seed 1] [--out reports/mutation]

Operators a designer would recognise, applied to one site at a time in every module of rtl/:
  arith     a + b -> a - b, a - b -> a + b
  logic     && <-> ||, & <-> | (bitwise, binary)
  compare   == <-> !=, < -> <=, > -> >=
  const     an N'dV constant -> V+1 and V-1; 1'b0 <-> 1'b1
  cond      if (c) -> if (!(c)), if (1'b1) (a dropped enable), if (1'b0) (a stuck condition)
  ternary   c ? a : b -> c ? b : a (swapped operands)
  slice     x[i +: W] -> x[i + 1 +: W] (a wrong bit-slice)
Every functional line is a site: comments, declarations, the simulation checks (`ifndef SYNTHESIS), the formal
properties (`ifdef FORMAL) and the fault-injection knobs (each on a line of its own) are not. --sample draws
that many mutants with --seed, shared among the modules in proportion to their sites; --all runs every site.

Each mutant runs the regression's tests, all under Icarus, cheapest first, with COCOTB_RANDOM_SEED = --seed:
the module's block test, layer 27 (4-bit, every output port checked for X/Z), the 2a4w layer 27 (2-bit),
layer 27 output-stationary (both modes), layer 27 with its fill's first words sent with its command, an
output-stationary flush held for credits, the output buffer filled under back-pressure, random layers with
crossed pauses, random layers alternating WS and OS, the coverage closure, layers 24, 27, 29 on the
network configuration, and the command streams (seed 2026). It stops at the first failure, or runs them all with --matrix (the kill matrix: every
test that kills it). Verdicts: killed (a test failed), timeout (no result after --timeout s: the regression
hangs too), lint (the tests pass, Verilator -Wall as tb/lint complains), invalid (does not elaborate, or its
elaboration does not finish in ELAB_LIMIT_S),
equivalent (a solver proved the mutated module equivalent to the original, alone, at small parameters and where
its generate branch is built: accel_tb.quality.mutation_equiv), survived (the rest,
with the solver's trace of a difference when it found one). The score counts test kills only:
(killed + timeout) / (killed + timeout + survived). Writes OUT/mutation.json and prints a table per module.
"""
from __future__ import annotations

import argparse
import contextlib
import json
import os
import random
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict
from pathlib import Path

from accel_tb.design.blocks import BLOCKS, MODULES  # the inventory of rtl/ blocks
from accel_tb.design.digest import folder_digest
from accel_tb.design.interrupt import interruptible, kill_tree
from accel_tb.quality.mutant import Mutant, apply
from golden_py.cliargs import OptionError, out_folder

ROOT = Path(__file__).resolve().parents[2]
RTL = ROOT / "rtl"
SKIP_LINE = re.compile(r"^\s*(//|input\b|output\b|parameter\b|localparam\b|module\b|endmodule\b|`|genvar\b|"
                       r"\$display)|FAULT|STUCK|FOLD_GAP|drop_toggle|\bgap\b")


def _code_lines(text: str):
    """(line number, line) of the lines open to mutation: outside the simulation checks (`ifndef SYNTHESIS)
    and the formal properties (`ifdef FORMAL), not skipped."""
    depth = 0   # nesting of `ifdef/`ifndef inside a skipped block (the FORMAL block holds one of its own)
    for n, line in enumerate(text.splitlines(), start=1):
        t = line.strip()
        if depth == 0 and t.startswith(("`ifndef SYNTHESIS", "`ifdef FORMAL")):
            depth = 1
            continue
        if depth:
            depth += t.startswith(("`ifdef", "`ifndef")) - t.startswith("`endif")
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


def candidates(rtl: Path = RTL) -> dict[str, list[tuple]]:
    """Every mutation site of every module: module -> [(line, operator, original, mutated)]."""
    out = {}
    for mod in MODULES:
        cands = []
        for n, code in _code_lines((rtl / f"{mod}.v").read_text()):
            for op, new in _sites(code):
                cands.append((n, op, code.strip(), new.strip()))
        out[mod] = cands
    return out


def allocation(sites: dict[str, int], sample: int | None) -> dict[str, int]:
    """How many mutants each module gets: all of them (sample None), else `sample` shared in proportion to
    the module's sites (largest remainders; a module with sites gets at least one)."""
    if sample is None or sample >= sum(sites.values()):
        return dict(sites)
    total = sum(sites.values())
    share = {m: sample * n / total for m, n in sites.items()}
    alloc = {m: min(n, max(1 if n else 0, int(share[m]))) for m, n in sites.items()}
    for m in sorted(sites, key=lambda m: share[m] - int(share[m]), reverse=True):
        if sum(alloc.values()) >= sample:
            break
        if alloc[m] < sites[m]:
            alloc[m] += 1
    return alloc


def enumerate_mutants(sample: int | None, seed: int, rtl: Path = RTL) -> list[Mutant]:
    """Mutants drawn with `seed`: every site (sample None) or `sample` in proportion to each module's sites."""
    cands = candidates(rtl)
    alloc = allocation({m: len(c) for m, c in cands.items()}, sample)
    mutants = []
    for mod in MODULES:
        pool = list(cands[mod])
        random.Random(f"{seed}-{mod}").shuffle(pool)
        for k, (n, op, orig, new) in enumerate(sorted(pool[:alloc[mod]], key=lambda c: (c[0], c[1], c[3]))):
            mutants.append(Mutant(f"{mod}:{n}:{op}:{k}", mod, n, op, orig, new))
    return mutants


# --------------------------------------------------------------------------------------------- the ladder


def ladder(rtl_dir: Path, module: str) -> list[tuple]:
    """(name, run() keyword arguments) of the tests a mutant of `module` goes through, cheapest first."""
    from accel_host.config import CoreConfig, for_network
    from accel_host.mapping import LayerShape
    from accel_tb.design.runner import CORE_SOURCES

    def src(names):
        return [rtl_dir / f"{n}.v" for n in names]
    ck4, ck2 = str(ROOT / "checkpoints" / "vgg16_a4w4.pt"), str(ROOT / "checkpoints" / "vgg16_a2w4.pt")

    def layer(ck, idx):
        return {"checkpoint": ck, "layer": idx, "images": [0], "data_dir": None}
    core = dict(toplevel="core", sources=src(CORE_SOURCES), test_module="accel_tb.cocotb_tests.layer_tests", sim="icarus",
                includes=[rtl_dir / "include"])
    net_cfg = for_network([LayerShape(256, 8, 4, 4), LayerShape(8, 8, 4, 4), LayerShape(8, 512, 4, 4),
                           LayerShape(512, 512, 2, 2), LayerShape(64, 64, 32, 32)])
    steps = [("lint", None)]       # tb/lint: verilator -Wall silent on the module and on the core
    blk = BLOCKS[module]
    if blk.test_module:
        steps.append(("block", dict(toplevel=blk.name, sources=src([*blk.uses, blk.name]), test_module=blk.test_module,
                                    sim="icarus", parameters=blk.test_params, testcase=blk.testcase,
                                    includes=[rtl_dir / "include"], tb_dir=str(ROOT / "tb" / blk.tb))))
    base = CoreConfig().parameters()
    steps += [
        # Icarus models X: this first core step also checks every output port for X/Z from reset on
        ("layer27 4-bit", dict(core, parameters=base, testcase="test_layer",
                               config={"layer": layer(ck4, 27), "adapter_options": {"four_state": True}})),
        ("layer27 2-bit", dict(core, parameters=base, testcase="test_layer", config={"layer": layer(ck2, 27)})),
        ("layer27 OS", dict(core, parameters=base, testcase="test_layer_sequence",
                            config={"sequence": [dict(layer(ck4, 27), dataflow="os"),
                                                 dict(layer(ck2, 27), dataflow="os")]})),
        # tb/core's test_fill_whose_first_words_go_with_its_command and test_os_flush_waits_for_credits: the fills'
        # start-cycle write and the output-stationary flush without room, which no step above reaches
        ("fill with first words", dict(core, parameters=base, testcase="test_layer",
                                       config={"layer": layer(ck4, 27),
                                               "adapter_options": {"fill_with_first_word": True}})),
        ("OS flush", dict(core, parameters=base, testcase="test_flush_waits_for_credits", config={"hold": 1500})),
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
        # the regression's command streams (tb/core test_command_stream, its pinned seed): back-to-back commands
        # of both dataflows and modes, writes tried while busy, the output held until the credits run out
        ("command streams", dict(core, parameters=base, testcase="test_command_stream", seed=2026,
                                 config={"streams": 3, "layers": 5, "hold": 400, "write_attempts": 20})),
    ]
    return steps


LINT_CORE_PARAMS = [[], ["-GROWS=16", "-GCOLS=16"], ["-GROWS=4", "-GCOLS=8", "-GACC_W=24"]]   # as tb/lint


# The children running now, and whether the run was interrupted: Ctrl-C (or a SIGTERM) on `make mutate` reached only
# the main thread, while each child sits in a session of its own (so that a timeout kills its simulators with it)
# and the pool went on with every mutant still queued; now the children are killed and nothing more starts.
_LIVE: set = set()
_LIVE_LOCK = threading.Lock()
_STOPPING = threading.Event()


def _stop_children(pool: ThreadPoolExecutor) -> None:
    # a second Ctrl-C would cut this short and leave children the pool's exit then waits for (main() restores both)
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    _STOPPING.set()
    pool.shutdown(wait=False, cancel_futures=True)
    with _LIVE_LOCK:
        for proc in _LIVE:
            # the child, and what it started, in sessions of their own too (the elaboration check's iverilog)
            kill_tree(proc.pid, proc.poll() is None)


@contextlib.contextmanager
def _pool(jobs: int):
    """A thread pool whose block, left by an interrupt or any error (in a worker's result or in the main thread's
    own work, the solver's runs), kills the running children and cancels what is queued before the pool's exit
    would wait for all of it."""
    with ThreadPoolExecutor(max_workers=jobs) as pool:
        try:
            yield pool
        except BaseException:
            _stop_children(pool)
            raise


def run_mutant(m: Mutant, timeout: int, seed: int = 1, matrix: bool = False, rtl: Path = RTL) -> dict:
    """In a child process: apply the mutant to a copy of `rtl` (make mutate's copy of rtl/ as its run started),
    run the ladder (random tests drawn from `seed`), report the first failure (every failure, with matrix)."""
    with tempfile.TemporaryDirectory(prefix="mutant-") as tmp:
        rtl_dir = Path(tmp) / "rtl"
        shutil.copytree(rtl, rtl_dir)
        apply(m, rtl_dir)
        cmd = [sys.executable, "-m", "accel_tb.quality.mutation", "--child", json.dumps(asdict(m)), "--rtl", str(rtl_dir)]
        cmd += ["--matrix"] if matrix else []
        # TMPDIR: what a killed simulator or compiler leaves behind goes with the mutant's folder
        # ACCEL_RTL_DIR: the constants the testbench reads through core_ports (state encodings, core.v's header)
        # come from the run's unmutated copy, as its expectations of the design (not the live rtl/, which may be
        # edited during the run, nor the mutant's: a testbench that read the mutant would follow it)
        env = dict(os.environ, ACCEL_BUILD_DIR=str(Path(tmp) / "build"), ACCEL_RTL_DIR=str(Path(rtl).resolve()),
                   PYTHONUNBUFFERED="1",
                   COCOTB_RANDOM_SEED=str(seed), TMPDIR=tmp, TMP=tmp)
        t0 = time.time()
        with _LIVE_LOCK:
            if _STOPPING.is_set():
                return {**asdict(m), "verdict": "not run", "by": "interrupted", "killers": [], "seconds": 0}
            proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env,
                                    start_new_session=True)
            _LIVE.add(proc)
        try:
            out, _ = proc.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            # its group, and what it started in sessions of their own (the elaboration check's iverilog)
            kill_tree(proc.pid, proc.poll() is None, group=True)
            proc.communicate()
            return {**asdict(m), "verdict": "timeout", "by": f"no result after {timeout} s", "killers": [],
                    "seconds": timeout}
        finally:
            with _LIVE_LOCK:
                _LIVE.discard(proc)
        lines = [l for l in out.splitlines() if l.startswith("MUTANT-RESULT ")]
        if not lines:
            return {**asdict(m), "verdict": "invalid", "by": "child gave no result: " + out[-300:].replace("\n", " "),
                    "killers": [], "seconds": round(time.time() - t0, 1)}
        res = json.loads(lines[-1][len("MUTANT-RESULT "):])
        return {**asdict(m), **res, "seconds": round(time.time() - t0, 1)}


def _lint(m: Mutant, rtl_dir: Path) -> str:
    """tb/lint's check on the mutant (the module alone, and the core with tb/lint's parameter sets): the first
    diagnostic, or '' when Verilator -Wall is silent."""
    for top, params in [(m.module, [])] + [("core", p) for p in LINT_CORE_PARAMS]:
        r = subprocess.run(["verilator", "--lint-only", "-Wall", f"-I{rtl_dir / 'include'}", "--top-module", top,
                            *params, *sorted(str(p) for p in rtl_dir.glob("*.v"))], capture_output=True, text=True)
        diag = [l for l in (r.stdout + r.stderr).splitlines() if l.startswith("%")]
        if r.returncode or diag:
            return f"lint ({top} {' '.join(params)}): {diag[0][:160] if diag else r.returncode}"
    return ""


# Icarus elaborates the core in about a second; a mutant that never finishes (an endless generate loop, such as
# `r = r - 1` in a for-generate) is a design that does not elaborate, not a test that hangs
ELAB_LIMIT_S = 60


def endless_elaboration(rtl_dir: Path, module: str, limit: int = ELAB_LIMIT_S) -> str:
    """Every design the ladder builds, elaborated by Icarus' front end within `limit` seconds: the ladder step
    whose elaboration did not finish, or '' (a front end that stops with an error is left to the ladder's build,
    which reports it as invalid)."""
    from accel_tb.design.runner import front_end_command  # noqa: PLC0415
    seen = set()
    for name, kw in ladder(rtl_dir, module):
        if kw is None:
            continue
        params = kw.get("parameters") or {}
        key = (kw["toplevel"], json.dumps(params, sort_keys=True, default=str))
        if key in seen:
            continue
        seen.add(key)
        cmd = front_end_command(kw["toplevel"], kw["sources"], params, "icarus", kw.get("includes"))
        # iverilog's driver keeps its preprocessed sources in TMPDIR until it exits: killed, it leaves them there
        # (four ivrl* files in /tmp per endless mutant); a folder of its own goes with them
        with tempfile.TemporaryDirectory(prefix="accel-elab-") as tmp:
            proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True,
                                    env=dict(os.environ, TMPDIR=tmp, TMP=tmp))
            try:
                proc.wait(timeout=limit)
            except subprocess.TimeoutExpired:
                kill_tree(proc.pid, proc.poll() is None, group=True)     # the driver and its ivl child
                proc.wait()
                return f"{name}: elaboration did not finish in {limit} s (iverilog)"
    return ""


def child(m: Mutant, rtl_dir: Path, matrix: bool = False) -> dict:
    """The mutant through the simulation ladder: killed by the first failing test (every test, recorded in
    `killers`, with matrix); a build that fails is invalid. Lint runs only on what the tests let through, and a
    mutant only lint catches is its own verdict, never counted as killed."""
    from accel_tb.design.runner import BuildError, RunError, run
    stuck = endless_elaboration(rtl_dir, m.module)
    if stuck:
        return {"verdict": "invalid", "by": stuck, "killers": []}
    killers = []
    for name, kw in ladder(rtl_dir, m.module):
        if name == "lint":
            continue
        tb_dir = kw.pop("tb_dir", None)
        if tb_dir:
            sys.path.insert(0, tb_dir)
        try:
            res = run(expect_fail=True, **kw)
        except (SystemExit, RuntimeError) as e:
            if isinstance(e, RunError) and not isinstance(e, BuildError):
                # the simulator stopped without results: a crash the regression sees
                killers.append(f"{name}: {str(e)[:120]}")
            else:   # the build failed (the runner's BuildError, cocotb's error on a compile): no kill, invalid
                return {"verdict": "invalid", "by": f"{name}: build failed ({str(e)[:160]})", "killers": []}
        else:
            if res["failed"]:
                killers.append(name)
        if killers and not matrix:
            break
    if killers:
        return {"verdict": "killed", "by": killers[0], "killers": killers}
    lint = _lint(m, rtl_dir)
    if lint:
        return {"verdict": "lint", "by": lint, "killers": []}
    return {"verdict": "survived", "by": "", "killers": []}


def _check_options(args) -> str | None:
    """The options, judged before any simulation: one line naming the option, or None."""
    sample = 1 if args.sample is None else args.sample       # None: the default, 240
    for flag, value in (("--sample", sample), ("--jobs", args.jobs), ("--timeout", args.timeout),
                        ("--equiv-timeout", args.equiv_timeout)):
        if value < 1:
            return f"{flag} {value}: must be >= 1"
    unknown = [m for m in args.modules.split(",") if m and m not in MODULES]
    if unknown:
        return f"--modules {unknown[0]}: not a module of rtl/ (choose from {', '.join(MODULES)})"
    return None     # --out: out_folder, after --list (which writes nothing) and before the baseline


@interruptible
def main(argv=None) -> int:
    from golden_py.cliargs import ArgumentParser  # noqa: PLC0415 (one-line option errors)
    ap = ArgumentParser(prog="python -m accel_tb.quality.mutation", description=__doc__,
                        formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--sample", type=int, default=None,
                    help="mutants drawn in all, shared among modules in proportion to their sites (default 240)")
    ap.add_argument("--all", action="store_true", help="every site of every module (no sampling)")
    ap.add_argument("--matrix", action="store_true",
                    help="run every test on every mutant (the kill matrix), not only up to the first kill")
    ap.add_argument("--equiv-timeout", type=int, default=300, help="seconds the solver gets per survivor")
    ap.add_argument("--jobs", type=int, default=os.cpu_count() or 1)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--timeout", type=int, default=240)
    ap.add_argument("--modules", default="", help="comma list (default: all)")
    ap.add_argument("--out", default=str(ROOT / "reports" / "mutation"))
    ap.add_argument("--list", action="store_true", help="only list the mutants")
    ap.add_argument("--only", default="", help="comma list of mutant ids to run (e.g. the survivors of a report)")
    ap.add_argument("--merge", default="", help="a mutation.json of the same seed and sample: the mutants run now "
                    "(--only) replace their entries in it, and the merged report, its summary recounted, is written "
                    "to --out (the ids are listed under `reruns`)")
    ap.add_argument("--child", help=argparse.SUPPRESS)
    ap.add_argument("--rtl", help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.child:
        res = child(Mutant(**json.loads(args.child)), Path(args.rtl), args.matrix)
        print("MUTANT-RESULT " + json.dumps(res), flush=True)
        return 0

    # SIGINT and SIGTERM (`timeout`, a cancelled CI job) come through the commands' shared guard (@interruptible:
    # every process below stopped, then KeyboardInterrupt here); the pool's cancel and this line are the run's own
    before = {s: signal.getsignal(s) for s in (signal.SIGINT, signal.SIGTERM)}
    try:
        return _run(args)
    except KeyboardInterrupt:
        print("error: interrupted: the running mutants' simulations were stopped, the rest not started; no report "
              "written", file=sys.stderr)
        return 130
    finally:
        for s, h in before.items():
            signal.signal(s, h)
        _STOPPING.clear()


def _run(args) -> int:
    """main() after its options are read: the check of the options, the baseline, the mutants, the report."""
    problem = _check_options(args)
    if not problem and args.all and args.sample is not None:   # one would silently win over the other
        problem = f"--sample {args.sample} with --all: --all runs every site, --sample draws that many"
    args.sample = 240 if args.sample is None else args.sample
    if problem:
        print(f"error: {problem}", file=sys.stderr)
        return 2
    # every mutant is a line number and its text, applied to a copy of the sources: drawn from, and applied to,
    # rtl/ as the run starts, so an edit of rtl/ during a run of an hour cannot misplace the later ones
    # (they went onto whatever line that number held then)
    with tempfile.TemporaryDirectory(prefix="accel-mutate-rtl-") as tmp:
        rtl = Path(tmp) / "rtl"
        shutil.copytree(RTL, rtl)
        return _run_on(args, rtl)


def _run_on(args, rtl: Path) -> int:
    """_run on `rtl`, the run's copy of rtl/."""
    mutants = enumerate_mutants(None if args.all else args.sample, args.seed, rtl)
    if args.modules:
        keep = set(args.modules.split(","))
        mutants = [m for m in mutants if m.module in keep]
    drawn = list(mutants)           # the draw (of --modules): a report merged into must hold exactly these
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
    earlier = None
    if args.merge:
        try:
            earlier = read_merge_base(args.merge, args, drawn, rtl)
        except ValueError as e:
            print(f"error: --merge {e}", file=sys.stderr)
            return 2
    if args.list:
        for m in mutants:
            print(f"{m.id:<28} {m.original}  ->  {m.mutated}")
        return 0
    try:        # before the baseline's simulations, not after the last mutant's
        out = out_folder(args.out)
    except OptionError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    # the unmutated RTL must pass every ladder, or every mutant would count as killed
    mods = sorted({m.module for m in mutants}, key=MODULES.index)
    with _pool(args.jobs) as pool:
        base = list(pool.map(lambda mod: run_mutant(Mutant(f"baseline:{mod}", mod, 1, "none", "", ""), args.timeout,
                                                    args.seed, args.matrix, rtl), mods))
    broken = [b for b in base if b["verdict"] != "survived"]
    if broken:
        for b in broken:
            print(f"error: the unmutated RTL fails the {b['module']} ladder ({b['verdict']}: {b['by']})", file=sys.stderr)
        return 2
    print(f"baseline: the unmutated RTL passes all {len(mods)} ladders")
    results = []
    t0 = time.time()
    try:
        from tqdm import tqdm
        bar = tqdm(total=len(mutants), desc="mutants", unit="mutant", disable=None)
    except ImportError:
        bar = None
    with _pool(args.jobs) as pool:
        for res in pool.map(lambda m: run_mutant(m, args.timeout, args.seed, args.matrix, rtl), mutants):
            if res["verdict"] == "survived":
                # equivalent only when a solver proves it (accel_tb.quality.mutation_equiv); else a survivor, with the
                # solver's trace of a difference when it finds one
                from accel_tb.quality.mutation_equiv import decide  # noqa: PLC0415
                res.update(decide(Mutant(**{k: res[k] for k in Mutant.__dataclass_fields__}), out,
                                  args.equiv_timeout, rtl))
            results.append(res)
            if bar:
                bar.update(1)
    if bar:
        bar.close()
    wall = round(time.time() - t0)
    if earlier is not None:
        rerun = {r["id"]: r for r in results}
        results = [rerun.get(r["id"], r) for r in earlier["mutants"]]
    table, summary = report(results)
    sites = {m: len(c) for m, c in candidates(rtl).items()}
    data = {"seed": args.seed, "sample": None if args.all else args.sample, "matrix": args.matrix,
            "rtl_sha256": rtl_digest(rtl), "sites": sites, "wall_seconds": wall, "summary": summary, "mutants": results}
    if earlier is not None:
        # the digest of the report merged into: one that records none (from before digests) gets none, so the
        # merged report does not claim this rtl/ for entries measured on another
        data.update({k: v for k, v in earlier.items() if k not in data and k != "reruns"},
                    rtl_sha256=earlier.get("rtl_sha256"), wall_seconds=earlier.get("wall_seconds"),
                    reruns=[*earlier.get("reruns", []), *(i for i in rerun if i not in earlier.get("reruns", []))],
                    rerun_seconds=earlier.get("rerun_seconds", 0) + wall)
    (out / "mutation.json").write_text(json.dumps(data, indent=1))
    print("\n".join(table))
    for r in results:
        if r["verdict"] == "survived":
            print(f"SURVIVED {r['id']}: {r['original']}  ->  {r['mutated']}  [{r.get('equiv', '')}]")
    print(f"wrote {out / 'mutation.json'} ({wall} s{', merged into ' + args.merge if earlier is not None else ''})")
    if earlier is not None and earlier.get("rtl_sha256") is None:
        print(f"note: {args.merge} records no rtl_sha256 (a report from before digests): the merged report records "
              f"none either; its other entries' sources are not known to be this rtl/'s")
    return 0 if summary["survived"] == 0 else 1


def rtl_digest(rtl: Path) -> str:
    """The digest of the sources a run mutates (every file under `rtl`, by relative path and bytes): a report
    names the RTL it measured, and a rerun merges only into a report of the same."""
    return folder_digest(rtl)


VERDICTS = ("killed", "timeout", "survived", "equivalent", "lint", "invalid")
ENTRY_FIELDS = ("id", "module", "line", "original", "mutated", "verdict")


def read_merge_base(path: str, args, drawn: list[Mutant], rtl: Path | None = None) -> dict:
    """The report a rerun is merged into: readable JSON of this tool, drawn with the same seed and sample, of the
    same sources (`rtl`'s digest, when the report records one), with an entry for each mutant of this run's draw
    (`drawn`, the rerun ones among them) and no other, once each, every field there and a verdict of this tool,
    each the same mutation of the same line as drawn now (the RTL has not moved under it; a hand-edited or cut
    report was scored over mutants it never ran). ValueError naming what does not hold."""
    try:
        data = json.loads(Path(path).read_text())
    except (OSError, UnicodeDecodeError) as e:
        raise ValueError(f"{path}: {getattr(e, 'strerror', None) or e}") from None
    except json.JSONDecodeError as e:
        raise ValueError(f"{path}: not JSON (line {e.lineno})") from None
    if not isinstance(data, dict) or not isinstance(data.get("mutants"), list) or \
            not all(isinstance(r, dict) and "id" in r and "verdict" in r for r in data["mutants"]):
        raise ValueError(f"{path}: not a mutation report (no list of mutants with ids and verdicts)")
    sample = None if args.all else args.sample
    if (data.get("seed"), data.get("sample"), data.get("matrix")) != (args.seed, sample, args.matrix):
        # as JSON: a hand-edited "1" is not the seed 1, and says so
        said = " ".join(f"{k} {json.dumps(v)}" for k, v in (("--seed", data.get("seed")), ("--sample", data.get("sample")),
                                                              ("matrix", data.get("matrix"))))
        now = " ".join(f"{k} {json.dumps(v)}" for k, v in (("--seed", args.seed), ("--sample", sample),
                                                             ("matrix", args.matrix)))
        raise ValueError(f"{path}: drawn with {said}, this run with {now}")
    if rtl is not None and data.get("rtl_sha256") not in (None, rtl_digest(rtl)):
        raise ValueError(f"{path}: measured another rtl/ (its rtl_sha256 differs from this one's): rerun the sample")
    known = {r["id"]: r for r in data["mutants"]}
    ids = [r["id"] for r in data["mutants"]]
    twice = sorted({i for i in ids if ids.count(i) > 1})
    if twice:
        raise ValueError(f"{path}: {twice[0]} has {ids.count(twice[0])} entries")
    for r in data["mutants"]:
        missing = [f for f in ENTRY_FIELDS if f not in r]
        if missing:
            raise ValueError(f"{path}: its {r['id']} has no {missing[0]!r}")
        if r["verdict"] not in VERDICTS:
            raise ValueError(f"{path}: its {r['id']} has the verdict {r['verdict']!r}, not one of {', '.join(VERDICTS)}")
    want = {m.id for m in drawn}
    extra, absent = sorted(set(ids) - want), sorted(want - set(ids))
    if extra or absent:
        raise ValueError(f"{path}: not this draw's report: " + (f"{extra[0]} was not drawn" if extra else
                         f"no entry for {absent[0]} ({len(absent)} of the {len(want)} drawn missing)"))
    for m in drawn:
        r = known[m.id]
        if (r["original"], r["mutated"]) != (m.original, m.mutated):
            raise ValueError(f"{path}: its {m.id} is another mutation ({r['original']!r}): the RTL changed since "
                             f"that run")
    return data


def report(results: list[dict]):
    verdicts = list(VERDICTS)
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
    lines.append("score = (killed + timeout) / (killed + timeout + survived): what the tests catch; lint (caught by "
                 "Verilator -Wall alone), invalid (does not elaborate) and equivalent (proven by a solver) are apart")
    return lines, {**total, "mutants": len(results), "score": _score(total)}


def _score(c) -> float:
    live = c["killed"] + c["timeout"] + c["survived"]
    return 100.0 * (c["killed"] + c["timeout"]) / live if live else 100.0


if __name__ == "__main__":
    sys.exit(main())
