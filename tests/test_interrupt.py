"""Ctrl-C and SIGTERM on the commands (accel_tb.design.interrupt): one line, status 130, and none of the processes
they started left running -- not the grandchildren either, which subprocess.run's own clean-up never reached (a
farm chunk's simulators, codecov's regression, nextpnr and the solvers ran on after the command had ended)."""
import os
import random
import signal
import subprocess
import sys
import time

import pytest

from accel_tb.design.runner import ROOT

SCRIPT = """
import subprocess, sys
from accel_tb.design.interrupt import interruptible

def main():
    # a child with a child of its own, as make under cocotb's runner, SBY under formal, a Dask nanny
    subprocess.run(["sh", "-c", "{shell}"], stdin=subprocess.DEVNULL,
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)    # (the test reads the command's pipes)
    return 0

sys.exit(interruptible(main)() if sys.argv[1] == "guarded" else main())
"""


def _running(tag: str) -> list[int]:
    pids = []
    for d in os.listdir("/proc"):
        try:
            if d.isdigit() and open(f"/proc/{d}/cmdline", "rb").read().split(b"\0")[:2] == [b"sleep", tag.encode()]:
                pids.append(int(d))
        except OSError:
            pass
    return pids


# two sleeps under a shell; or one that ignores SIGTERM under a shell that ends on it (re-parented out of the tree,
# it escaped the SIGKILL when the tree was read again after the grace period)
TWO_SLEEPS = "sleep {tag} & sleep {tag}; wait"
STUBBORN = "(trap '' TERM; exec sleep {tag}) & (trap '' TERM; exec sleep {tag}) & wait"


def _interrupt(mode: str, sig: int, tmp_path, shell: str = TWO_SLEEPS):
    tag = f"{300 + random.random():.6f}"      # names this test's sleeps among the machine's processes
    script = tmp_path / "cmd.py"
    script.write_text(SCRIPT.replace("{shell}", shell).replace("{tag}", tag))
    proc = subprocess.Popen([sys.executable, str(script), mode], cwd=ROOT, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 20
    while len(_running(tag)) < 2 and time.monotonic() < deadline:
        time.sleep(0.05)
    assert len(_running(tag)) == 2, "the command's processes did not start"
    proc.send_signal(sig)
    out, err = proc.communicate(timeout=30)
    time.sleep(0.3)
    left = _running(tag)
    for p in left:      # what an unguarded command leaves is not left to the rest of the suite
        os.kill(p, signal.SIGKILL)
    return proc.returncode, err, left


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM], ids=["SIGINT", "SIGTERM"])
def test_an_interrupted_command_stops_its_whole_process_tree_in_one_line(sig, tmp_path):
    status, err, left = _interrupt("guarded", sig, tmp_path)
    assert status == 130 and left == [], (status, err, left)
    assert err.strip().splitlines() == [f"error: interrupted ({signal.Signals(sig).name}): what the command had "
                                        "started is stopped"], err


def test_a_process_that_ignores_sigterm_under_one_that_ends_on_it_is_killed(tmp_path):
    status, err, left = _interrupt("guarded", signal.SIGTERM, tmp_path, STUBBORN)
    assert status == 130 and left == [], (status, err, left)


def test_a_command_called_with_its_arguments_leaves_the_signals_to_its_caller():
    """A test (or another command) that calls main(argv) keeps its own handlers: an interrupt there is the caller's,
    and the caller's other processes are not the command's to stop."""
    from accel_tb.design.interrupt import interruptible
    seen = []
    cmd = interruptible(lambda argv=None: seen.append(signal.getsignal(signal.SIGTERM)) or 0)
    before = signal.getsignal(signal.SIGTERM)
    assert cmd(["--help"]) == 0 and seen == [before]
    assert cmd() == 0 and seen[1] is not before and signal.getsignal(signal.SIGTERM) is before


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM], ids=["SIGINT", "SIGTERM"])
def test_without_the_guard_the_grandchildren_run_on(sig, tmp_path):
    """The negative: the same command without interruptible leaves a process running (SIGINT: subprocess.run kills
    its own child, not that child's; SIGTERM: the command ends at once and leaves both), and SIGINT a traceback."""
    status, err, left = _interrupt("bare", sig, tmp_path)
    assert left, "nothing left running: the negative shows nothing"
    assert ("Traceback" in err) == (sig == signal.SIGINT), err


def test_accel_run_stopped_in_its_simulation_leaves_no_simulator(tmp_path):
    """The real command: accel-run under Icarus, SIGTERM while vvp simulates (a layer long enough to be caught)."""
    env = {**os.environ, "TMPDIR": str(tmp_path)}     # the simulator's host files, found by this folder
    proc = subprocess.Popen([sys.executable, "-m", "accel_tb.cli.run", "--sim", "icarus", "--layer", "3"], cwd=ROOT,
                            env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)

    def simulators():
        pids = []
        for d in os.listdir("/proc"):
            try:
                cmd = open(f"/proc/{d}/cmdline", "rb").read() if d.isdigit() else b""
                environ = open(f"/proc/{d}/environ", "rb").read() if cmd.startswith(b"vvp") else b""
            except OSError:
                continue
            if f"TMPDIR={tmp_path}".encode() in environ.split(b"\0"):
                pids.append(int(d))
        return pids
    try:
        deadline = time.monotonic() + 120
        while not simulators() and proc.poll() is None and time.monotonic() < deadline:
            time.sleep(0.1)
        assert simulators(), "no simulator started"
        proc.send_signal(signal.SIGTERM)
        out, err = proc.communicate(timeout=30)
        assert proc.returncode == 130 and err.strip().splitlines()[-1].startswith("error: interrupted (SIGTERM)")
        assert simulators() == []
    finally:
        for p in [*simulators(), proc.pid]:
            try:
                os.kill(p, signal.SIGKILL)
            except ProcessLookupError:
                pass
        proc.wait()


def test_output_piped_into_a_reader_that_stops_early_ends_quietly(tmp_path):
    """`python -m accel_tb.quality.test_times --from LOG | head -1`: the table's print met a closed pipe and the
    command ended in a BrokenPipeError traceback; now status 141 and nothing on stderr, as a shell tool."""
    log = tmp_path / "run.log"
    n = 5000        # a table longer than a pipe holds, so the writer meets the closed end
    log.write_text("".join(f"0.01s call     tests/t.py::test_{i}\n" for i in range(n)) + f"== {n} passed in 1.0s ==\n")
    r = subprocess.run(["bash", "-o", "pipefail", "-c", f"{sys.executable} -m accel_tb.quality.test_times --from {log} "
                        f"--top {n} | head -1"], capture_output=True, text=True, cwd=ROOT)
    assert r.stdout.startswith(f"{n} passed") and r.stderr == "" and r.returncode == 141, (r.returncode, r.stderr)


@pytest.mark.parametrize("args", [["-m", "accel_tb.quality.mutation", "--list"],
                                  ["-m", "golden_py.export", "--check", "{folder}"]], ids=["mutate-list", "export-check"])
def test_other_commands_writing_into_a_closed_pipe_end_quietly(args, tmp_path):
    """`make mutate --list | head` printed a BrokenPipeError traceback (exit 1) and `export --check | true` said
    'error: [Errno 32] Broken pipe' as bad input (exit 2): now 141 and nothing on stderr (a probe). The pipe's
    reader is closed before the command starts, so its first write meets it (`| head` raced the pipe's buffer)."""
    folder = tmp_path / "g"
    if "{folder}" in args:
        assert subprocess.run([sys.executable, "-m", "golden_py.export", "--checkpoint",
                               str(ROOT / "checkpoints" / "vgg16_a4w4.pt"), "--out", str(folder)], cwd=ROOT,
                              capture_output=True).returncode == 0
    read_end, write_end = os.pipe()
    os.close(read_end)
    try:
        r = subprocess.run([sys.executable, *(a.format(folder=folder) for a in args)], stdout=write_end,
                           stderr=subprocess.PIPE, text=True, cwd=ROOT)
    finally:
        os.close(write_end)
    assert r.stderr == "" and r.returncode == 141, (r.returncode, r.stderr[-2000:])


def test_a_replay_piped_into_head_ends_with_141_not_blaming_the_simulator(tmp_path):
    """`accel-replay DIR | head -1`: the simulator died of SIGPIPE and the command said 'the simulator stopped
    (return code -13)', exit 1 (a check failed), or printed hundreds of logging tracebacks (a probe); now 141, and
    no traceback, cocotb's own start-up lines' included (up to four printed until the simulator's first entry point
    was ours: runner.entry_points)."""
    folder = tmp_path / "g"
    assert subprocess.run([sys.executable, "-m", "golden_py.export", "--checkpoint",
                           str(ROOT / "checkpoints" / "vgg16_a4w4.pt"), "--out", str(folder)], cwd=ROOT,
                          capture_output=True).returncode == 0
    r = subprocess.run(["bash", "-o", "pipefail", "-c", f"{sys.executable} -m accel_tb.cli.replay {folder} --sim icarus "
                        f"| head -1"], capture_output=True, text=True, cwd=ROOT)
    assert r.returncode == 141 and "the simulator stopped" not in r.stderr, (r.returncode, r.stderr[-1500:])
    assert "Logging error" not in r.stderr and "Traceback" not in r.stderr, r.stderr[-1500:]


def test_the_simulator_s_first_entry_point_quiets_broken_pipes_and_keeps_cocotb_s(monkeypatch):
    """runner.entry_points: ours first, then cocotb's own default list as pygpi holds it (every one of them, in
    order); a user's own PYGPI_USERS is left alone."""
    from pygpi import entry

    from accel_tb.design import runner
    monkeypatch.delenv("PYGPI_USERS", raising=False)
    users = runner.entry_points().split(",")
    assert users[0] == runner.QUIET_ENTRY and "cocotb.regression:_run_regression" in users
    module, func = users[0].split(":")
    assert callable(getattr(__import__(module, fromlist=[func]), func))
    seen = []
    monkeypatch.setattr(entry.importlib, "import_module", lambda name: seen.append(name) or type("M", (), {})())
    monkeypatch.setattr(entry.operator, "attrgetter", lambda name: lambda module: (lambda: None))
    monkeypatch.delenv("PYGPI_USERS", raising=False)
    entry.load_entry()      # cocotb's defaults, as pygpi runs them without the variable
    assert [u.split(":")[0] for u in users[1:]] == seen, (users, seen)
    monkeypatch.setenv("PYGPI_USERS", "mine:entry")
    assert runner.entry_points() is None


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM], ids=["SIGINT", "SIGTERM"])
def test_a_one_process_command_ends_in_one_line(sig, tmp_path):
    """golden_py's commands (export, evaluate, training, bench_tiling, card) start no processes: the guard without a
    clean-up (golden_py.cliargs.interruptible) gives them the same ending, where SIGTERM ended them at once and
    Ctrl-C printed a traceback (an interrupted training: a resumable run)."""
    script = tmp_path / "cmd.py"
    script.write_text("import sys, time\nfrom golden_py.cliargs import interruptible\n\n"
                      "@interruptible\ndef main(argv=None):\n    print('started', flush=True)\n    time.sleep(300)\n\n"
                      "sys.exit(main())\n")
    proc = subprocess.Popen([sys.executable, str(script)], cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True)
    assert proc.stdout.readline() == "started\n"
    proc.send_signal(sig)
    out, err = proc.communicate(timeout=30)
    assert proc.returncode == 130 and err.strip().splitlines() == [
        f"error: interrupted ({signal.Signals(sig).name}): stopped"], (proc.returncode, err)
