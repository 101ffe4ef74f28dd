"""The commands' argument parser: argparse's, except that a malformed option is one line on stderr,
`error: ...`, exit status 2 (argparse prints its whole usage first), like every other bad input; and that an
empty value is refused: `--golden ""` (a script's unset variable) ran the default layer and passed, `--sim ""`
the default simulator."""
from __future__ import annotations

import argparse
import functools
import os
import select
import signal
import sys
import threading
from pathlib import Path


class ArgumentParser(argparse.ArgumentParser):
    def error(self, message: str):
        print(f"error: {message} (see {self.prog} --help)", file=sys.stderr)
        sys.exit(2)

    def parse_known_args(self, args=None, namespace=None):
        self._given = {}        # each value-taking option's first value on this command line (_get_values)
        return super().parse_known_args(args, namespace)

    def _get_values(self, action, arg_strings):
        # the strings of the command line only (a default of "" goes through _get_value, not here)
        for arg_string in arg_strings:
            if not arg_string.strip():     # even where the default is "": a script's unset list is no 'all'
                name = "/".join(action.option_strings) or action.metavar or action.dest
                self.error(f"argument {name}: an empty value {arg_string!r}"
                           + (" (leave the option out for its default)" if action.option_strings and not
                              action.required else ""))
        # an option that takes one value, given twice: argparse keeps the last and drops the first unread
        # (`accel-run --golden A --golden B` checked B alone, `export --check A --check B` said B consistent)
        if type(action) is argparse._StoreAction and action.option_strings:
            given = getattr(self, "_given", {})
            if action.dest in given:
                self.error(f"argument {'/'.join(action.option_strings)}: given twice ({given[action.dest]}, then "
                           f"{' '.join(arg_strings)}): give it once")
            given[action.dest] = " ".join(arg_strings)
        return super()._get_values(action, arg_strings)


class OptionError(ValueError):
    """A value of an option that cannot be used: its message is the one line the command prints after `error: `."""


def out_folder(path: str | Path, flag: str = "--out") -> Path:
    """A folder a command writes its results into, made now with its parents: a file in its place, a path under a
    file or a place that cannot be written stops the command here, in one line, not after its work (the
    quality tools once made it only to write their table, after minutes or hours)."""
    p = Path(path)
    if p.exists() and not p.is_dir():
        raise OptionError(f"{flag} {p}: exists and is not a folder")
    try:
        p.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        raise OptionError(f"{flag} {p}: cannot make the folder ({e.strerror or e})") from None
    if not os.access(p, os.W_OK | os.X_OK):
        raise OptionError(f"{flag} {p}: not writable")
    return p


def out_file(path: str | Path, flag: str) -> Path:
    """A file a command writes at its end: its folder made now (out_folder), the path not a folder."""
    p = Path(path)
    if p.is_dir():
        raise OptionError(f"{flag} {p}: is a folder, not a file")
    out_folder(p.parent, f"{flag} {p}: its folder")
    if p.exists() and not os.access(p, os.W_OK):
        raise OptionError(f"{flag} {p}: not writable")
    return p


class Interrupted(KeyboardInterrupt):
    """KeyboardInterrupt raised by the guard's handler (after its clean-up), naming the signal."""

    def __init__(self, signum: int):
        super().__init__(signal.Signals(signum).name)


def stdout_gone() -> bool:
    """Whether standard output is a pipe whose reader has closed it (poll says POLLERR on its write end)."""
    try:
        poller = select.poll()
        poller.register(sys.stdout.fileno(), select.POLLOUT)
        return any(ev & (select.POLLERR | select.POLLHUP) for _, ev in poller.poll(0))
    except (OSError, ValueError, AttributeError):
        return False


def broken_pipe_status() -> int:
    """In `except BrokenPipeError:` of a command's top: 141 when the reader of its output went away (`| head`),
    the command ending as a shell tool does, without the traceback (or the second one Python prints when it
    flushes the dead pipe at exit); another pipe of the command's is a real error, raised again."""
    if not stdout_gone():
        raise
    os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
    return 141


def interruptible(main=None, *, stop=None):
    """A command's main(): run from the command line (no arguments: the console script, `python -m`), SIGINT and
    SIGTERM end it with one line and status 130 (SIGTERM, as `kill` or a cancelled job sends, ended it at once, and
    Ctrl-C printed a traceback), after `stop()` (accel_tb.design.interrupt: the processes it started), and output
    piped into a reader that stops early (`| head`) ends it quietly with status 141. Called with its argv (a test,
    another command), it is left as it is: an interrupt there is the caller's."""
    if main is None:
        return functools.partial(interruptible, stop=stop)

    def handler(signum, frame):
        signal.signal(signal.SIGINT, signal.SIG_IGN)        # a second Ctrl-C does not cut the clean-up short
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        if stop is not None:
            stop()
        raise Interrupted(signum)

    @functools.wraps(main)
    def wrapped(*args, **kwargs):
        if args or kwargs or threading.current_thread() is not threading.main_thread():
            return main(*args, **kwargs)
        before = {s: signal.signal(s, handler) for s in (signal.SIGINT, signal.SIGTERM)}
        try:
            return main(*args, **kwargs)
        except KeyboardInterrupt as e:
            name = str(e) if isinstance(e, Interrupted) else "SIGINT"
            said = "what the command had started is stopped" if stop is not None else "stopped"
            print(f"error: interrupted ({name}): {said}", file=sys.stderr, flush=True)
            return 130
        except BrokenPipeError:
            return broken_pipe_status()
        finally:
            for s, h in before.items():
                signal.signal(s, h)
    return wrapped
