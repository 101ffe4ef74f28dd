"""The commands' argument parser: argparse's, except that a malformed option is one line on stderr,
`error: ...`, exit status 2 (argparse prints its whole usage first), like every other bad input."""
from __future__ import annotations

import argparse
import sys


class ArgumentParser(argparse.ArgumentParser):
    def error(self, message: str):
        print(f"error: {message} (see {self.prog} --help)", file=sys.stderr)
        sys.exit(2)
