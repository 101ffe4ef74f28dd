"""Ctrl-C and SIGTERM for the commands: one line, status 130, and nothing they started left running.

A command's work runs in its descendants: simulators under cocotb's runner, make and the compilers, the yowasp
tools under SBY or nextpnr, the suite's pytest workers, the farm's Dask nanny, workers and their simulators. On
an interrupt Python raised KeyboardInterrupt in the command alone (a SIGTERM, as `kill` or a cancelled CI job
sends, ended it at once), and subprocess.run killed only the direct child: the grandchildren were re-parented and
ran on (a chunk's simulators to its end, codecov's whole regression, nextpnr, a solver past formal's timeout), and
a traceback was printed where every other bad ending is one line. Here the handler first stops the command's
whole process tree (SIGTERM, then SIGKILL for what is still there after a grace period), while it is still
whole, then the command unwinds (its temporary folders go) and ends with `error: interrupted` and status 130.
"""
from __future__ import annotations

import os
import signal
import time
from pathlib import Path

from golden_py import cliargs

GRACE_S = 2.0       # what a descendant gets to end on SIGTERM (SBY stops its tools, a Dask nanny its workers)


def descendants(pid: int | None = None) -> list[int]:
    """Every process below `pid` (this one), parents before their children, from /proc (Linux); [] elsewhere."""
    pid = os.getpid() if pid is None else pid
    children: dict[int, list[int]] = {}
    try:
        entries = os.listdir("/proc")
    except OSError:
        return []
    for d in entries:
        if not d.isdigit():
            continue
        try:
            with open(f"/proc/{d}/stat") as f:
                after_name = f.read().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            continue
        if after_name[0] != "Z":            # a zombie has ended already
            children.setdefault(int(after_name[1]), []).append(int(d))
    out, todo = [], [pid]
    while todo:
        for c in children.get(todo.pop(0), []):
            out.append(c)
            todo.append(c)
    return out


def _cleaner(pid: int) -> bool:
    """multiprocessing's resource tracker (Dask's processes start one): it frees their semaphores and shared memory
    once they are gone, and ends when this process does; stopped with them, it printed a traceback per name."""
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as f:
            return b"multiprocessing.resource_tracker" in f.read()
    except OSError:
        return False


def _to_stop() -> list[int]:
    return [p for p in descendants() if not _cleaner(p)]


def working_in(folder: Path) -> list[int]:
    """Live processes whose working folder is `folder` or below it (Linux /proc; [] elsewhere): those a tool ran
    in a task's folder, found when they are no longer below it (re-parented, or in a session of their own)."""
    found, root = [], str(folder)
    try:
        entries = os.listdir("/proc")
    except OSError:
        return []
    for d in entries:
        try:
            if d.isdigit() and os.readlink(f"/proc/{d}/cwd").startswith(root):
                found.append(int(d))
        except OSError:
            continue            # ended meanwhile, or a zombie (no working folder)
    return found


def kill_tree(pid: int, alive: bool = True, extra=None, group: bool = False, wait_s: float = 5.0) -> None:
    """SIGKILL to `pid` and every process below it (alive=False: the process has ended, its pid may be another's:
    not below it), those extra() names (a task's folder's: working_in), and with group its process group, again
    until none is left (one orphaned by a kill is no longer below it) or wait_s seconds have passed. What make
    mutate's pool (a mutant's simulator, its make and compilers, an elaboration check's iverilog in a session of
    its own) and make formal's timeout (SBY's solvers in groups of their own) stop with."""
    deadline = time.monotonic() + wait_s
    while True:
        pids = set(descendants(pid) if alive else []) | set(extra() if extra else [])
        for p in [*([pid] if alive else []), *pids]:
            try:
                os.kill(p, signal.SIGKILL)
            except (ProcessLookupError, PermissionError):
                pass
        if group:
            try:
                os.killpg(pid, signal.SIGKILL)
            except (ProcessLookupError, PermissionError):
                pass
        if not pids or time.monotonic() > deadline:
            return
        time.sleep(0.05)


def _start_time(pid: int) -> str | None:
    """The process's start time (/proc's field 22): with its pid, what names one process, not its pid's next owner."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[19]
    except (OSError, IndexError):
        return None


def stop_descendants(grace: float = GRACE_S) -> None:
    """SIGTERM to every descendant, then SIGKILL to every one still there after `grace` seconds. Every process seen
    in the tree is remembered (by pid and start time): one whose parent ended on SIGTERM is re-parented out of the
    tree (a Dask worker's simulator, a sleep under a shell) and would otherwise escape the SIGKILL."""
    seen: dict[int, str] = {}

    def scan() -> list[int]:
        now = _to_stop()
        for p in now:
            if p not in seen:            # its start time read once, when first seen (not on every 50 ms scan)
                seen[p] = _start_time(p) or ""
        return now
    for p in scan():
        try:
            os.kill(p, signal.SIGTERM)
        except (ProcessLookupError, PermissionError):
            pass
    deadline = time.monotonic() + grace
    while scan() and time.monotonic() < deadline:
        time.sleep(0.05)
    for p, started in seen.items():
        if _start_time(p) == started and started:       # still the same process (ended ones have no stat)
            try:
                os.kill(p, signal.SIGKILL)
            except (ProcessLookupError, PermissionError):
                pass


# the guard itself is the commands' shared one (golden_py.cliargs), given this module's clean-up
interruptible = cliargs.interruptible(stop=stop_descendants)
