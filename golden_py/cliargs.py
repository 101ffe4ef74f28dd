"""The commands' argument parser: argparse's, except that a malformed option is one line on stderr,
`error: ...`, exit status 2 (argparse prints its whole usage first), like every other bad input; and that an
empty value is refused: `--golden ""` (a script's unset variable) ran the default layer and passed, `--sim ""`
the default simulator."""
from __future__ import annotations

import argparse
import sys


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
