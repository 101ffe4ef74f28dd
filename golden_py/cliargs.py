"""The commands' argument parser: argparse's, except that a malformed option is one line on stderr,
`error: ...`, exit status 2 (argparse prints its whole usage first), like every other bad input; and that an
empty value is refused: `--golden ""` (a script's unset variable) ran the default layer and passed, `--sim ""`
the default simulator."""
from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path


class ArgumentParser(argparse.ArgumentParser):
    def error(self, message: str):
        print(f"error: {message} (see {self.prog} --help)", file=sys.stderr)
        sys.exit(2)

    def _get_values(self, action, arg_strings):
        # the strings of the command line only (a default of "" goes through _get_value, not here)
        for arg_string in arg_strings:
            if not arg_string.strip():     # even where the default is "": a script's unset list is no 'all'
                name = "/".join(action.option_strings) or action.metavar or action.dest
                self.error(f"argument {name}: an empty value {arg_string!r}"
                           + (" (leave the option out for its default)" if action.option_strings and not
                              action.required else ""))
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
