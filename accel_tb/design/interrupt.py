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

import functools
import os
import signal
import sys
import threading
import time

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


def stop_descendants(grace: float = GRACE_S) -> int:
    """SIGTERM to every descendant, then SIGKILL to those still there after `grace` seconds; how many there were."""
    first = _to_stop()
    for sig, wait in ((signal.SIGTERM, grace), (signal.SIGKILL, 0.0)):
        left = _to_stop()
        for p in left:
            try:
                os.kill(p, sig)
            except (ProcessLookupError, PermissionError):
                pass
        deadline = time.monotonic() + wait
        while left and time.monotonic() < deadline:
            time.sleep(0.05)
            left = _to_stop()
        if not left:
            break
    return len(first)


class Interrupted(KeyboardInterrupt):
    """KeyboardInterrupt raised by the handler, after the process tree was stopped."""

    def __init__(self, signum: int):
        super().__init__(signal.Signals(signum).name)


def _handler(signum, frame):
    signal.signal(signal.SIGINT, signal.SIG_IGN)        # a second Ctrl-C does not cut the clean-up short
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    stop_descendants()
    raise Interrupted(signum)


def interruptible(main):
    """A command's main(): SIGINT and SIGTERM stop what it started and end it with one line and status 130 (the
    handlers it found are put back when it returns, as a test that calls main() in-process needs)."""
    @functools.wraps(main)
    def wrapped(*args, **kwargs):
        if threading.current_thread() is not threading.main_thread():
            return main(*args, **kwargs)
        before = {s: signal.signal(s, _handler) for s in (signal.SIGINT, signal.SIGTERM)}
        try:
            return main(*args, **kwargs)
        except KeyboardInterrupt as e:
            name = str(e) if isinstance(e, Interrupted) else "SIGINT"
            print(f"error: interrupted ({name}): what the command had started is stopped", file=sys.stderr, flush=True)
            return 130
        finally:
            for s, h in before.items():
                signal.signal(s, h)
    return wrapped
