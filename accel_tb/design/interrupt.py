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
import select
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
            seen.setdefault(p, _start_time(p) or "")
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


class Interrupted(KeyboardInterrupt):
    """KeyboardInterrupt raised by the handler, after the process tree was stopped."""

    def __init__(self, signum: int):
        super().__init__(signal.Signals(signum).name)


def _handler(signum, frame):
    signal.signal(signal.SIGINT, signal.SIG_IGN)        # a second Ctrl-C does not cut the clean-up short
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    stop_descendants()
    raise Interrupted(signum)


def _stdout_gone() -> bool:
    """Whether standard output is a pipe whose reader has closed it (poll says POLLERR on its write end)."""
    try:
        poller = select.poll()
        poller.register(sys.stdout.fileno(), select.POLLOUT)
        return any(ev & (select.POLLERR | select.POLLHUP) for _, ev in poller.poll(0))
    except (OSError, ValueError, AttributeError):
        return False


def interruptible(main):
    """A command's main(): run from the command line (no arguments: the console script, `python -m`), SIGINT and
    SIGTERM stop what it started and end it with one line and status 130, and output piped into a reader that
    stops early (`| head`) ends it quietly with status 141. Called with its argv (a test, another
    command), it is left as it is: an interrupt there is the caller's, whose other processes are not the command's
    to stop."""
    @functools.wraps(main)
    def wrapped(*args, **kwargs):
        if args or kwargs or threading.current_thread() is not threading.main_thread():
            return main(*args, **kwargs)
        before = {s: signal.signal(s, _handler) for s in (signal.SIGINT, signal.SIGTERM)}
        try:
            return main(*args, **kwargs)
        except KeyboardInterrupt as e:
            name = str(e) if isinstance(e, Interrupted) else "SIGINT"
            print(f"error: interrupted ({name}): what the command had started is stopped", file=sys.stderr, flush=True)
            return 130
        except BrokenPipeError:
            if not _stdout_gone():      # another pipe of the command's: a real error
                raise
            # the reader of the output went away (`| head`): the command ends as a shell tool does, without the
            # traceback (or the second one Python prints when it flushes the dead pipe at exit)
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
            return 141
        finally:
            for s, h in before.items():
                signal.signal(s, h)
    return wrapped
