"""The Makefile's judge of variables given on make's command line that it does not read itself (run as a plain
script, before anything is installed: it imports nothing of this project).

    python3 accel_tb/cli/make_vars.py "KNOWN NAMES ..." "GOALS ..." NAME ...

A name spelled like an option of the command a goal runs, which the Makefile does not pass on (`make mutate
SAMPLE=5` ran all 240 default mutants, `make synth FREQ=50` aimed at 100 MHz), stops make with the command line
that takes it. A name that looks like one of the Makefile's own -- another case (`golden`), a letter or two off (`CORUPT`,
`ROW`), or one name the start of the other (`GOLDEN_DIR`, `GOLD`) -- is a mistake that would run the default
test and pass: it prints one line saying which name was meant, and the Makefile stops. Any other name passes
into the recipes' environment, as make does (`make test ACCEL_PGO=1`, `make COCOTB_LOG_LEVEL=DEBUG`, a wrapper
makefile's `V=1`)."""
from __future__ import annotations

import sys

# The command each goal runs, as a user types it, its module and its options (tests/test_make_variables.py keeps
# every list equal to the module's --help): a variable named like one of the options (FREQ for --freq,
# EQUIV_TIMEOUT for --equiv-timeout) that the Makefile does not read is an option the user meant to give.
_Q = "python -m accel_tb.quality."
GOAL_COMMANDS = {
    "run": ("accel-run", "accel_tb.cli.run",
            "--sim --checkpoint --layer --image --images --data-dir --golden --waves --seed --corrupt --report --rows "
            "--cols --dataflow"),
    "network": ("accel-network", "accel_tb.cli.network",
                "--sim --images --first-image --layers --checkpoint --data-dir --rows --cols --report-dir "
                "--corrupt-layer --seed --dataflow --compare --workers --chunk --scheduler --cluster --retries --cache "
                "--no-cache --python-io"),
    "byoc": ("accel-byoc", "accel_tb.cli.byoc",
             "--adapter --config --rtl --top --include --param --dataflow --sim --checkpoint --layer --image --images "
             "--data-dir --golden --waves --seed --corrupt --report"),
    "coverage": (_Q + "coverage_runs", "accel_tb.quality.coverage_runs", "--out --sim"),
    "codecov": (_Q + "codecov", "accel_tb.quality.codecov",
                "--out --jobs --pytest-args --waivers --gaps --fail-on-gap --no-run --seed"),
    "mutate": (_Q + "mutation", "accel_tb.quality.mutation",
               "--sample --all --matrix --equiv-timeout --jobs --seed --timeout --modules --out --list --only --merge"),
    "synth": (_Q + "synth", "accel_tb.quality.synth", "--sizes --no-pnr --seed --freq --out"),
    "formal": (_Q + "formal", "accel_tb.quality.formal", "--only --out --timeout --list"),
    "test-times": (_Q + "test_times", "accel_tb.quality.test_times",
                   "--cold --no-runtime-store --jobs --top --log --from --processes --cpu"),
    "export": ("python -m golden_py.export", "golden_py.export",
               "--checkpoint --layer --image --data-dir --rows --cols --psum-bits --no-psums --out --force --check"),
}
GOAL_COMMANDS["byoc-example"] = GOAL_COMMANDS["byoc"]


def option_of(name: str, goals: list[str]) -> tuple[str, str, str] | None:
    """(goal, its command, the option) that the variable `name` spells, or None."""
    opt = "--" + name.lower().replace("_", "-")
    for goal in goals:
        cmd, _, opts = GOAL_COMMANDS.get(goal, ("", "", ""))
        if opt in opts.split():
            return goal, cmd, opt
    return None


def distance(a: str, b: str) -> int:
    """Levenshtein distance."""
    row = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        prev, row[0] = row[0], i
        for j, cb in enumerate(b, 1):
            prev, row[j] = row[j], min(row[j] + 1, row[j - 1] + 1, prev + (ca != cb))
    return row[-1]


# names other tools give what this Makefile calls otherwise, and the goals where they are taken for it
# (cocotb's makefiles' TOPLEVEL is the top module only where a goal reads TOP; elsewhere it passes, as make does)
ALIASES = {"TOPLEVEL": ("TOP", ("byoc", "byoc-example")), "TOP_LEVEL": ("TOP", ("byoc", "byoc-example")),
           "ARRAY": ("ROWS and COLS", None), "ARRAY_SIZE": ("ROWS and COLS", None)}


def _abbreviates(short: str, name: str) -> bool:
    """IMGS of IMAGES: the same first letter, its letters in order within the name, at most three left out."""
    if len(short) < 3 or short[0] != name[0] or not 0 < len(name) - len(short) <= 3:
        return False
    rest = iter(name)
    return all(c in rest for c in short)


def meant(name: str, known: list[str], goals: list[str] = ()) -> str | None:
    """The Makefile variable `name` looks like a mistake for, or None."""
    up = name.upper()
    if up in known:                 # another case of one of its names: that one
        return up
    if up in ALIASES:
        target, where = ALIASES[up]
        if all(k in known for k in target.split(" and ")) and (where is None or set(where) & set(goals)):
            return target
        if where is not None:
            return None
    close = [(distance(up, k), k) for k in known
             if (min(len(up), len(k)) >= 4 and (up.startswith(k) or k.startswith(up)))
             or (len(k) >= 4 and up.endswith("_" + k))                  # NUM_IMAGES, N_IMAGES
             or distance(up, k) <= (1 if min(len(up), len(k)) <= 4 else 2) or _abbreviates(up, k)]
    return min(close)[1] if close else None     # the nearest (images= is IMAGES, not IMAGE)


def main(argv: list[str]) -> int:
    known, goals = argv[0].split(), argv[1].split() or ["run"]
    for name in argv[2:]:
        hit = option_of(name, goals) if name.upper() not in known else None   # golden=: the Makefile's GOLDEN
        if hit:
            goal, cmd, opt = hit
            print(f"{name}: make {goal} does not pass it on to its command; give the option itself: {cmd} {opt} ... "
                  f"(see {cmd} --help)")
            return 1
        k = meant(name, known, goals)
        if k:
            print(f"{name}: not a variable of this Makefile; did you mean {k}? (a setting for the environment "
                  f"goes before make: NAME=value make ...)")
            return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
