"""The Makefile's judge of variables given on make's command line that it does not read itself (run as a plain
script, before anything is installed: it imports nothing of this project).

    python3 accel_tb/cli/make_vars.py "KNOWN NAMES ..." NAME ...

A name that looks like one of the Makefile's own -- another case (`golden`), a letter or two off (`CORUPT`,
`ROW`), or one name the start of the other (`GOLDEN_DIR`, `GOLD`) -- is a mistake that would run the default
test and pass: it prints one line saying which name was meant, and the Makefile stops. Any other name passes
into the recipes' environment, as make does (`make test ACCEL_PGO=1`, `make COCOTB_LOG_LEVEL=DEBUG`, a wrapper
makefile's `V=1`)."""
from __future__ import annotations

import sys


def distance(a: str, b: str) -> int:
    """Levenshtein distance."""
    row = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        prev, row[0] = row[0], i
        for j, cb in enumerate(b, 1):
            prev, row[j] = row[j], min(row[j] + 1, row[j - 1] + 1, prev + (ca != cb))
    return row[-1]


def meant(name: str, known: list[str]) -> str | None:
    """The Makefile variable `name` looks like a mistake for, or None."""
    up = name.upper()
    if up in known:                 # another case of one of its names: that one
        return up
    close = [(distance(up, k), k) for k in known
             if (min(len(up), len(k)) >= 4 and (up.startswith(k) or k.startswith(up)))
             or distance(up, k) <= (1 if min(len(up), len(k)) <= 4 else 2)]
    return min(close)[1] if close else None     # the nearest (images= is IMAGES, not IMAGE)


def main(argv: list[str]) -> int:
    known = argv[0].split()
    for name in argv[1:]:
        k = meant(name, known)
        if k:
            print(f"{name}: not a variable of this Makefile; did you mean {k}? (a setting for the environment "
                  f"goes before make: NAME=value make ...)")
            return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
