"""The regression's time, test by test: runs `make test`'s suite (tests and tb, `-n JOBS --dist worksteal`) with
pytest's `--durations=0` and prints what docs/verification.md quotes -- pytest's wall time, the test-seconds
(setup, call and teardown summed over the workers) per folder, and the slowest tests.

    python -m accel_tb.quality.test_times [--cold] [--jobs 2] [--top 20] [--log FILE]
    python -m accel_tb.quality.test_times --from FILE      # the table of a log already written

--cold builds every model again (an empty build folder and compiler cache, both temporary), as after an RTL
edit or on a fresh clone; without it the models and stored golden jobs already built are reused. The table is
printed, not judged: a time is the machine's (say which machine when quoting it).
"""
from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
import tempfile
from collections import Counter
from pathlib import Path

from accel_tb.design.runner import ROOT

DURATION = re.compile(r"^\s*([\d.]+)s (setup|call|teardown)\s+(\S+)")
SUMMARY = re.compile(r"^=*\s*(.*\b(?:passed|failed)\b.*) in ([\d.]+)s")


def parse(text: str) -> tuple[dict[str, float], str, float]:
    """(seconds per test id, setup + call + teardown; pytest's summary line; its wall seconds) of a log of
    `pytest --durations=0`. ValueError when the log has no durations or no summary."""
    per_test: Counter = Counter()
    summary, wall = "", 0.0
    for line in text.splitlines():
        if m := DURATION.match(line):
            per_test[m[3]] += float(m[1])
        elif m := SUMMARY.match(line):
            summary, wall = m[1].strip(" ="), float(m[2])
    if not per_test:
        raise ValueError("no durations in the log (was it run with --durations=0?)")
    if not summary:
        raise ValueError("no pytest summary line in the log (did the run finish?)")
    return dict(per_test), summary, wall


def folder(test_id: str) -> str:
    """tb/<block> for the block testbenches, the file for tests/."""
    path = test_id.split("::")[0]
    return "/".join(path.split("/")[:2]) if path.startswith("tb/") else path


def table(per_test: dict[str, float], summary: str, wall: float, top: int = 20) -> list[str]:
    total = sum(per_test.values())
    by_folder = Counter()
    for t, s in per_test.items():
        by_folder[folder(t)] += s
    lines = [f"{summary}: **{wall:.1f} s** wall, {total:.0f} test-seconds", "",
             "| folder or file | test-seconds | share |", "|---|---|---|"]
    big = [(f, s) for f, s in by_folder.most_common() if s >= 0.02 * total]
    lines += [f"| `{f}` | {s:.1f} | {100 * s / total:.0f}% |" for f, s in big]
    rest = total - sum(s for _, s in big)
    if len(big) < len(by_folder):
        lines.append(f"| the other {len(by_folder) - len(big)} (under 2% each) | {rest:.1f} | {100 * rest / total:.0f}% |")
    lines += ["", f"| the {top} slowest tests | s |", "|---|---|"]
    lines += [f"| `{t}` | {s:.1f} |" for t, s in sorted(per_test.items(), key=lambda kv: -kv[1])[:top]]
    return lines


def main(argv=None) -> int:
    from golden_py.cliargs import ArgumentParser  # noqa: PLC0415 (one-line option errors)
    ap = ArgumentParser(prog="python -m accel_tb.quality.test_times", description=__doc__,
                        formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--cold", action="store_true", help="an empty build folder and compiler cache (temporary)")
    ap.add_argument("--jobs", type=int, default=2, help="pytest workers (make test's JOBS)")
    ap.add_argument("--top", type=int, default=20, help="slowest tests listed")
    ap.add_argument("--log", default="", help="also keep pytest's output in this file")
    ap.add_argument("--from", dest="from_log", default="", help="only print the table of this pytest log")
    args = ap.parse_args(argv)
    for flag, value in (("--jobs", args.jobs), ("--top", args.top)):
        if value < 1:
            print(f"error: {flag} {value}: must be >= 1", file=sys.stderr)
            return 2
    if args.from_log:
        try:
            text = Path(args.from_log).read_text(errors="replace")
        except OSError as e:
            print(f"error: --from {args.from_log}: {e.strerror}", file=sys.stderr)
            return 2
        status = 0
    else:
        with tempfile.TemporaryDirectory(prefix="accel-test-times-") as tmp:
            env = dict(os.environ)
            if args.cold:
                env.update(ACCEL_BUILD_DIR=str(Path(tmp) / "build"), CCACHE_DIR=str(Path(tmp) / "ccache"))
            r = subprocess.run([sys.executable, "-m", "pytest", "-q", "-n", str(args.jobs), "--dist", "worksteal",
                                "--durations=0", "tests", "tb"], cwd=ROOT, env=env, capture_output=True, text=True)
        text, status = r.stdout + r.stderr, r.returncode
        if args.log:
            Path(args.log).write_text(text)
    try:
        per_test, summary, wall = parse(text)
    except ValueError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2 if args.from_log else (status or 1)
    print("\n".join(table(per_test, summary, wall, args.top)))
    return status


if __name__ == "__main__":
    sys.exit(main())
