"""`make codecov`: Verilator's code coverage of rtl/, collected over the regression's simulations, as a table.

    python -m accel_tb.quality.codecov [--out reports/codecov] [--jobs auto] [-k EXPR] [--pytest-args "tb/core"]
                               [--waivers docs/codecov_waivers.toml] [--gaps 40] [--fail-on-gap] [--no-run]
                               [--seed 1]

Runs the regression's testbenches (pytest tb) with every simulation forced onto Verilator (--sim verilator,
the suite's own switch) and ACCEL_CODECOV set, so that each model is built with line, branch, toggle and
expression coverage (accel_tb.design.runner) and each run writes its counts to OUT/dat/. Icarus has no code
coverage: runs that a test pins to Icarus add nothing. Under --sim verilator a test parametrized
[icarus]/[verilator] runs the same Verilator simulation twice, so the [icarus] copies are deselected
(-k "not icarus"). Then:
  OUT/merged.dat      every run merged by verilator_coverage --write
  OUT/annotated/      rtl/ sources annotated with their counts (verilator_coverage --annotate, --annotate-min 1)
  OUT/codecov.json    per file and kind: covered, waived, uncovered points; every uncovered point
  OUT/codecov.txt     the table printed
Kinds (Verilator's pages): line (v_line), branch (v_branch: both come from --coverage-line), toggle (every
bit's 0->1 and 1->0), expr (the terms of an expression). A point is covered when its count is at least 1.
Points are the source's: Verilator keeps one copy of a module per parametrization (fifo__W10_D28, ...), and
the table counts a source point once, covered when any copy hit it (verilator_coverage's own summary, in the
last line, counts every copy). A toggle point is a bit of a signal: the widest model tested decides how many
bits a signal has. Only files under rtl/ are counted (a test's own RTL copy in a temporary folder is not the
design).

Waivers (--waivers, TOML): [[waiver]] tables of file (rtl/x.v), kind, line (line/branch/expr) or signal (toggle:
a name waives all its bits, name[3] one bit, name[15:10] bits 10..15; a generate scope's index may be [*] or
a range [8:15]), and reason. A waiver that matches no point of a file this run
simulated is stale: one line, exit 2, as is a malformed file. --fail-on-gap exits 1 when a point is neither
covered nor waived (`make codecov` passes it: every point is covered or waived). Exit 1 also when a test failed.
--no-run reports from the .dat files already in OUT/dat (no simulation). --seed (default 1) is the
COCOTB_RANDOM_SEED of every simulation that does not pin its own: the random layers draw the same layers on every
run, so the figure and its waivers reproduce (another seed may leave other bits untoggled).
"""
from __future__ import annotations

import argparse
import functools
import json
import os
import re
import shlex
import shutil
import subprocess
import sys
import time
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

from accel_tb.design.blocks import BLOCKS
from accel_tb.design.interrupt import interruptible
from accel_tb.design.runner import CODECOV_VAR, ROOT, ensure_tools_on_path

KINDS = ("line", "branch", "toggle", "expr")
PAGE_KIND = {"v_line": "line", "v_branch": "branch", "v_toggle": "toggle", "v_expr": "expr"}
WAIVERS = ROOT / "docs" / "codecov_waivers.toml"
# the testbenches that simulate rtl/: every block's folder (the inventory) and the replays of course folders.
# Left out by default: tb/network (whole networks: hours under coverage, the core's RTL at other parameters),
# tb/byoc (the example core is not rtl/), tb/lint and tb/adapter_api (no rtl/ simulation); --pytest-args tb
# takes them all.
DEFAULT_SELECTION = sorted({f"tb/{b.tb}" for b in BLOCKS.values()} | {"tb/replay"})
# under --sim verilator the [icarus] variant of a test runs the very simulation its [verilator] twin runs; the
# 64x64 core's coverage model takes more than 7 minutes and 4 GB to compile (the same source as the 8x8 and
# 16x16 models that run, at larger parameters)
DEFAULT_K = "not icarus and not 64x64"


class CodecovError(Exception):
    """Bad input (a malformed .dat or waivers file, a stale waiver): one line, exit 2."""


@dataclass(frozen=True)
class Point:
    """One coverage point of the source (instances of a module share it: Verilator's default)."""
    file: str      # relative to the repository (rtl/fifo.v) when under it, else as Verilator wrote it
    line: int
    column: int
    kind: str      # line, branch, toggle, expr (or Verilator's page name for other kinds)
    name: str      # Verilator's comment: 'if'/'else', 'count[1]:0->1', '(a==0) => 0'
    count: int

    @property
    def signal(self) -> str:
        """toggle points: the bit without its direction ('count[1]')."""
        return self.name.rsplit(":", 1)[0] if self.kind == "toggle" else ""


def _fields(key: str) -> dict:
    # SystemC::Coverage-3 keys: \x01name\x02value pairs (f file, l line, n column, page, o comment, h hierarchy)
    out = {}
    for part in key.split("\x01"):
        if "\x02" in part:
            k, v = part.split("\x02", 1)
            out[k] = v
    return out


@functools.cache
def _relative(file: str, root: Path) -> str:
    # once per file name: the merged data of a regression has millions of points on a dozen files
    path = Path(file)
    if path.is_absolute():
        try:
            return path.resolve().relative_to(root.resolve()).as_posix()
        except ValueError:
            pass
    return file


def parse_dat(text: str, source: str = "coverage data", root: Path = ROOT) -> list[Point]:
    """The points of a Verilator coverage file, duplicates (instances, runs) summed; raises CodecovError
    naming the file and line of a line that is not coverage data."""
    merged: dict[tuple, int] = {}
    for n, line in enumerate(text.splitlines(), start=1):
        if not line.strip() or line.startswith("#"):
            continue
        # C '<key>' <count>: the key may hold quotes itself (an expression's 32'sh1), so split at the last one
        body, sep, count = line.rpartition("' ")
        if not line.startswith("C '") or not sep or not count.strip().isdigit():
            raise CodecovError(f"{source}:{n}: not a coverage point (C '<key>' <count>): {line[:60]!r}")
        f = _fields(body[3:])
        page = f.get("page", "")
        try:
            lineno, column = int(f["l"]), int(f.get("n", 0))
            file = f["f"]
        except (KeyError, ValueError):
            raise CodecovError(f"{source}:{n}: coverage point without a file (f) and line (l): {line[:60]!r}") \
                from None
        file = _relative(file, root)
        kind = PAGE_KIND.get(page.split("/", 1)[0], page.split("/", 1)[0] or "?")
        # the page names the module (a parametrized copy of it too): the point is the source's, not the copy's
        k = (file, lineno, column, kind, f.get("o", ""))
        merged[k] = merged.get(k, 0) + int(count)
    return [Point(*k, count=c) for k, c in merged.items()]


def rtl_points(points: list[Point]) -> list[Point]:
    return [p for p in points if p.file.startswith("rtl/") and p.kind in KINDS]


_BIT_RANGE = re.compile(r"^(.+)\[(\d+):(\d+)\]$")


def _signal_regex(pattern: str) -> str:
    """A waiver's signal as a regex: a generate scope's index may be [*] (any) or [a:b] (a..b); the dots of a
    hierarchical name separate scopes."""
    parts = []
    for part in pattern.split("."):
        out, pos = [], 0
        for m in re.finditer(r"\[(\*|(\d+):(\d+))\]", part):
            out.append(re.escape(part[pos:m.start()]))
            if m.group(1) == "*":
                out.append(r"\[\d+\]")
            else:
                lo, hi = sorted((int(m.group(2)), int(m.group(3))))
                out.append(r"\[(?:" + "|".join(str(i) for i in range(lo, hi + 1)) + r")\]")
            pos = m.end()
        out.append(re.escape(part[pos:]))
        parts.append("".join(out))
    return r"\.".join(parts)


@functools.cache
def _compiled(pattern: str) -> tuple[re.Pattern, int | None, int | None]:
    # once per waiver: classify() asks every waiver of a file about each of its toggle points (~10^6 calls)
    m = _BIT_RANGE.match(pattern)
    if m:
        return re.compile(_signal_regex(m.group(1)) + r"\[(\d+)\]"), int(m.group(3)), int(m.group(2))
    return re.compile(_signal_regex(pattern) + r"(?:\[\d+\])*"), None, None


def signal_matches(pattern: str, signal: str) -> bool:
    """A toggle waiver's signal against a point's bit ('count[1]', 'g_row[0].g_col[3].p_i[8]', 'uv_i'):
    'name' waives every bit of name, 'name[3]' one bit, 'name[15:10]' bits 10..15; a scope index may be [*]
    (any generate index) or [a:b] (indices a..b): 'g_row[0].g_col[*].p_i[23:8]', 'g_tok[8:15].payload[7:4]'."""
    regex, lo, hi = _compiled(pattern)
    m = regex.fullmatch(signal)
    if m is None or lo is None:
        return m is not None
    return lo <= int(m.group(1)) <= hi


@dataclass
class Waiver:
    index: int
    file: str
    kind: str
    reason: str
    line: int | None = None
    signal: str | None = None
    matched: list = field(default_factory=list)

    def matches(self, p: Point) -> bool:
        if p.file != self.file or p.kind != self.kind:
            return False
        if self.kind == "toggle":
            return signal_matches(self.signal, p.signal)
        return p.line == self.line

    def __str__(self):
        where = f"signal {self.signal}" if self.kind == "toggle" else f"line {self.line}"
        return f"waiver {self.index} ({self.file} {where}, {self.kind})"


MIN_SOURCE = 8       # characters of a line a waiver's source gives (or the whole line, when shorter)


def load_waivers(path: Path, root: Path = ROOT) -> list[Waiver]:
    """[[waiver]] entries of a TOML file; a missing file is no waivers. Raises CodecovError naming the file
    and the field of the first entry that is malformed."""
    if not path.exists():
        return []
    try:
        data = tomllib.loads(path.read_text())
    except (OSError, UnicodeDecodeError) as e:
        raise CodecovError(f"{path}: cannot be read ({getattr(e, 'strerror', None) or e})") from None
    except tomllib.TOMLDecodeError as e:
        raise CodecovError(f"{path}: not TOML ({e})") from None
    unknown = sorted(set(data) - {"waiver"})
    if unknown:
        raise CodecovError(f"{path}: unknown table {unknown[0]!r} (only [[waiver]] entries)")
    entries = data.get("waiver", [])
    if not isinstance(entries, list) or not all(isinstance(e, dict) for e in entries):
        raise CodecovError(f"{path}: waiver: must be [[waiver]] tables")
    out = []
    for i, e in enumerate(entries, start=1):
        where = f"{path}: waiver {i}"
        kind = e.get("kind")
        if kind not in KINDS:
            raise CodecovError(f"{where}: kind: must be one of {', '.join(KINDS)} (got {kind!r})")
        wanted = {"file", "kind", "reason", "signal" if kind == "toggle" else "line"}
        extra = sorted(set(e) - wanted - ({"source"} if kind != "toggle" else set()))
        if extra:
            raise CodecovError(f"{where}: {extra[0]}: not a field of a {kind} waiver "
                               f"(fields: {', '.join(sorted(wanted))})")
        for name in sorted(wanted):
            if name not in e:
                raise CodecovError(f"{where}: {name}: missing")
        file, reason = e["file"], e["reason"]
        if not isinstance(file, str) or not file.startswith("rtl/") or not (root / file).is_file():
            raise CodecovError(f"{where}: file: {file!r} is no file under rtl/")
        if not isinstance(reason, str) or not reason.strip():
            raise CodecovError(f"{where}: reason: must say why (a non-empty string)")
        w = Waiver(i, file, kind, reason.strip())
        if kind == "toggle":
            if not isinstance(e["signal"], str) or not e["signal"].strip():
                raise CodecovError(f"{where}: signal: must be a signal name")
            w.signal = e["signal"].strip()
            m = _BIT_RANGE.match(w.signal)
            if m and int(m.group(2)) < int(m.group(3)):
                raise CodecovError(f"{where}: signal: {w.signal!r}: a bit range is [high:low]")
        else:
            line = e["line"]
            n_lines = len((root / file).read_text().splitlines())
            if isinstance(line, bool) or not isinstance(line, int) or not 1 <= line <= n_lines:
                raise CodecovError(f"{where}: line: must be a line of {file} (1..{n_lines}), got {line!r}")
            w.line = line
            # source: text the line must hold, so that a waiver whose line moved under an RTL edit is refused
            # instead of waiving whatever now sits there
            # (required, and enough of the line to pin it: an optional one, or source = "t", held for any line: a probe)
            src = e.get("source")
            text = (root / file).read_text().splitlines()[line - 1]
            if src is None:
                raise CodecovError(f"{where}: source: missing: the text of line {line} the waiver is for "
                                   f"({text.strip()!r}), so that an RTL edit that moves the line is found")
            if not isinstance(src, str) or not src.strip() or src.strip() not in text:
                raise CodecovError(f"{where}: source: line {line} of {file} does not read {src!r} "
                                   f"(the RTL moved: point the waiver at the line that does)")
            if len(src.strip()) < MIN_SOURCE and src.strip() != text.strip():
                raise CodecovError(f"{where}: source: {src!r} is too short to pin line {line} (at least "
                                   f"{MIN_SOURCE} characters of it, or the whole line)")
        out.append(w)
    return out


def classify(points: list[Point], waivers: list[Waiver], source: str = "waivers") -> dict:
    """Per file and kind: covered / waived / uncovered counts, the uncovered points, and the waivers' fate.
    Raises CodecovError on the first stale waiver: one that matches no point of a file this data has
    (a file the run did not simulate cannot judge it: such waivers are listed as not judged)."""
    files: dict[str, dict] = {}
    uncovered: list[Point] = []
    for p in sorted(points, key=lambda p: (p.file, p.line, p.column, p.kind, p.name)):
        cell = files.setdefault(p.file, {k: {"covered": 0, "waived": 0, "uncovered": 0} for k in KINDS})[p.kind]
        hits = [w for w in waivers if w.matches(p)]
        for w in hits:
            w.matched.append(p)
        if p.count >= 1:
            cell["covered"] += 1
        elif hits:
            cell["waived"] += 1
        else:
            cell["uncovered"] += 1
            uncovered.append(p)
    not_judged = []
    for w in waivers:
        if w.file not in files:
            not_judged.append(w)
        elif not w.matched:
            raise CodecovError(f"{source}: {w} matches no coverage point (stale waiver: remove it or fix it)")
    # a waiver whose points are all hit waives nothing now: said, not refused (a restricted run may not hit them)
    all_hit = [w for w in waivers if w.matched and all(p.count >= 1 for p in w.matched)]
    return {"files": files, "uncovered": uncovered, "not_judged": not_judged, "all_hit": all_hit}


def _pct(n: int, d: int) -> str:
    return f"{100 * n / d:6.1f}%" if d else "     -"


def totals(files: dict) -> dict:
    out = {k: {"covered": 0, "waived": 0, "uncovered": 0} for k in KINDS}
    for kinds in files.values():
        for k, c in kinds.items():
            for f in c:
                out[k][f] += c[f]
    return out


def table(files: dict) -> list[str]:
    """One row per file and kind: covered, waived, uncovered, total, covered % and (covered + waived) %."""
    head = f"{'file':<20} {'kind':<7} {'covered':>8} {'waived':>7} {'uncovered':>10} {'total':>7} {'cov%':>7} " \
           f"{'+waived':>7}"
    lines = [head, "-" * len(head)]

    def rows(name, kinds):
        first = True
        for k in KINDS:
            c = kinds[k]
            t = c["covered"] + c["waived"] + c["uncovered"]
            if not t:
                continue
            lines.append(f"{name if first else '':<20} {k:<7} {c['covered']:>8} {c['waived']:>7} {c['uncovered']:>10} "
                         f"{t:>7} {_pct(c['covered'], t):>7} {_pct(c['covered'] + c['waived'], t):>7}")
            first = False
    for name in sorted(files):
        rows(name, files[name])
    lines.append("-" * len(head))
    rows("total", totals(files))
    return lines


def _source_line(file: str, line: int, root: Path = ROOT) -> str:
    try:
        return (root / file).read_text().splitlines()[line - 1].strip()
    except (OSError, IndexError):
        return ""


def gap_lists(uncovered: list[Point], root: Path = ROOT) -> tuple[list[dict], list[dict]]:
    """Uncovered points as source lines (line, branch, expr points grouped by file:line, with the source text)
    and as signals (toggle points grouped by signal: the bits and directions never seen)."""
    by_line: dict[tuple, list[Point]] = {}
    by_signal: dict[tuple, list[Point]] = {}
    # bits in numeric order (q[2] before q[10]), as a reader looks for them
    natural = [(p, [int(t) if t.isdigit() else t for t in re.split(r"(\d+)", p.name)]) for p in uncovered]
    for p, _ in sorted(natural, key=lambda pk: (pk[0].file, pk[0].line, pk[1])):
        if p.kind == "toggle":
            by_signal.setdefault((p.file, p.line, p.signal.split("[", 1)[0]), []).append(p)
        else:
            by_line.setdefault((p.file, p.line), []).append(p)
    lines = [{"file": f, "line": n, "points": [f"{p.kind} {p.name}".strip() for p in ps],
              "source": _source_line(f, n, root)} for (f, n), ps in sorted(by_line.items())]
    signals = [{"file": f, "line": n, "signal": s, "points": [p.name for p in ps]}
               for (f, n, s), ps in sorted(by_signal.items())]
    return lines, signals


def gap_text(lines: list[dict], signals: list[dict], limit: int) -> list[str]:
    out = [f"uncovered lines ({len(lines)}; line, branch and expression points never hit):"]
    for g in lines[:limit]:
        out.append(f"  {g['file']}:{g['line']}: {g['source']}    [{'; '.join(g['points'])}]")
    if len(lines) > limit:
        out.append(f"  ... {len(lines) - limit} more in codecov.json (--gaps N lists more)")
    out.append(f"signals with bits that never toggled ({len(signals)}):")
    for g in signals[:limit]:
        shown = ", ".join(g["points"][:6]) + (f", ... ({len(g['points'])} points)" if len(g["points"]) > 6 else "")
        out.append(f"  {g['file']}:{g['line']}: {g['signal']}: {shown}")
    if len(signals) > limit:
        out.append(f"  ... {len(signals) - limit} more in codecov.json")
    return out


def _verilator_coverage(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(["verilator_coverage", *args], capture_output=True, text=True)


def run_pytest(dat_dir: Path, jobs: str, selection: list[str], k: str | None, seed: int | None = None) -> int:
    """The regression's tests, every simulation on Verilator with code coverage into dat_dir; seed: the
    COCOTB_RANDOM_SEED of every simulation that does not pin its own (the random layers' draws, so that the
    figure and its waivers reproduce)."""
    cmd = [sys.executable, "-m", "pytest", "-q", "--sim", "verilator", "-n", jobs]
    if jobs != "0":
        cmd += ["--dist", "worksteal"]
    kexpr = f"({k}) and {DEFAULT_K}" if k else DEFAULT_K
    cmd += ["-k", kexpr, *selection]
    # absolute: some tests run their simulation from a folder of their own
    env = {**os.environ, CODECOV_VAR: str(dat_dir.resolve())}
    if seed is not None:
        env["COCOTB_RANDOM_SEED"] = str(seed)
    print(f"codecov: {shlex.join(cmd[1:])}  ({CODECOV_VAR}={dat_dir}"
          + (f", COCOTB_RANDOM_SEED={seed}" if seed is not None else "") + ")", flush=True)
    return subprocess.run(cmd, cwd=ROOT, env=env).returncode


def report(out: Path, waivers_path: Path, gaps: int, fail_on_gap: bool, pytest_info: dict) -> int:
    dats = sorted((out / "dat").glob("*.dat"))
    if not dats:        # (--no-run is refused before this with nothing to read)
        raise CodecovError(f"{out / 'dat'}: no coverage file: the selection ran no Verilator simulation")
    waivers = load_waivers(waivers_path)
    # each run's file is read before the merge: verilator_coverage copies a malformed line into merged.dat,
    # where the error could no longer name the run's file
    for dat in dats:
        parse_dat(dat.read_text(errors="replace"), str(dat))
    merged = out / "merged.dat"
    r = _verilator_coverage("--write", str(merged), *map(str, dats))
    if r.returncode:
        said = (r.stderr or r.stdout).strip().splitlines()
        raise CodecovError(f"verilator_coverage --write failed: {said[0] if said else f'exit {r.returncode}'}")
    points = parse_dat(merged.read_text(), str(merged))
    rtl = rtl_points(points)
    if not rtl:
        raise CodecovError(f"{merged}: no coverage point of a file under rtl/")
    # every point on a line of today's rtl/ (data of other sources, a --no-run over an old folder, counted a
    # point on rtl/nosuch.v or a line past a file's end as covered: a probe)
    lengths: dict[str, int | None] = {}
    for pt in rtl:
        if pt.file not in lengths:
            f = ROOT / pt.file
            lengths[pt.file] = len(f.read_text(errors="replace").splitlines()) if f.is_file() else None
        if lengths[pt.file] is None or not 1 <= pt.line <= lengths[pt.file]:
            where = "a file rtl/ does not have" if lengths[pt.file] is None else \
                f"past its last line ({lengths[pt.file]})"
            raise CodecovError(f"{merged}: a point on {pt.file}:{pt.line}, {where}: coverage data of other sources "
                               f"(run without --no-run, or clear {out / 'dat'})")
    # the annotated sources are rtl/'s only: a test's temporary RTL copy may be gone by now
    rtl_dat = out / "rtl.dat"
    with open(merged) as src, open(rtl_dat, "w") as dst:
        for line in src:
            file = line.split("\x01f\x02", 1)[1].split("\x01", 1)[0] if "\x01f\x02" in line else None
            if not line.startswith("C ") or (file and _relative(file, ROOT).startswith("rtl/")):
                dst.write(line)
    shutil.rmtree(out / "annotated", ignore_errors=True)
    r = _verilator_coverage("--annotate", str(out / "annotated"), "--annotate-min", "1", str(rtl_dat))
    if r.returncode:
        said = (r.stderr or r.stdout).strip().splitlines()
        raise CodecovError(f"verilator_coverage --annotate failed: {said[0] if said else f'exit {r.returncode}'}")
    verilator_summary = [line.rstrip() for line in r.stdout.splitlines() if line.strip()]
    c = classify(rtl, waivers, str(waivers_path))
    files = c["files"]
    tot = totals(files)
    lines, signals = gap_lists(c["uncovered"])
    text = [f"code coverage of rtl/ (Verilator), merged over {len(dats)} simulation runs; "
            f"waivers: {len(waivers)} from {waivers_path}", *table(files), ""]
    summary = []
    for k in KINDS:
        t = sum(tot[k].values())
        if t:
            summary.append(f"{k} {_pct(tot[k]['covered'], t).strip()} ({tot[k]['covered']}/{t})")
    text.append("total: " + ", ".join(summary))
    text += gap_text(lines, signals, gaps)
    for w in c["not_judged"]:
        text.append(f"note: {w} not judged: this run simulated no model of {w.file}")
    for w in c["all_hit"]:
        text.append(f"note: {w}: all {len(w.matched)} of its points are hit now (the waiver may go)")
    text.append(f"annotated sources: {out / 'annotated'} (verilator_coverage: {'; '.join(verilator_summary[1:5])})")
    (out / "codecov.txt").write_text("\n".join(text) + "\n")
    doc = {"runs": len(dats), "pytest": pytest_info, "waivers": str(waivers_path),
           "files": files, "totals": tot, "uncovered_lines": lines, "untoggled_signals": signals,
           "waivers_not_judged": [str(w) for w in c["not_judged"]],
           "waivers_all_hit": [str(w) for w in c["all_hit"]], "verilator_coverage": verilator_summary}
    (out / "codecov.json").write_text(json.dumps(doc, indent=1) + "\n")
    print("\n".join(text))
    gap = sum(tot[k]["uncovered"] for k in KINDS)
    failed = pytest_info.get("exit") not in (None, 0)
    if failed:
        print(f"FAIL: the regression failed (pytest exit {pytest_info['exit']}); the coverage above is from the "
              f"runs that ended")
        return 1
    if gap and fail_on_gap:
        print(f"FAIL: {gap} points neither covered nor waived (--fail-on-gap)")
        return 1
    print(f"{'PASS' if not gap else 'done'}: {gap} points neither covered nor waived; {out / 'codecov.json'}")
    return 0


@interruptible
def main(argv=None) -> int:
    from golden_py.cliargs import ArgumentParser  # noqa: PLC0415 (one-line option errors)
    ap = ArgumentParser(prog="python -m accel_tb.quality.codecov", description=__doc__,
                        formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", default=str(ROOT / "reports" / "codecov"))
    ap.add_argument("--jobs", "-n", default="auto", help="pytest-xdist workers (auto, 0 = in process, N)")
    ap.add_argument("-k", default=None, help="pytest -k expression restricting the tests")
    ap.add_argument("--pytest-args", default=None,
                    help=f"test paths/options replacing the default selection ({' '.join(DEFAULT_SELECTION)})")
    ap.add_argument("--waivers", default=str(WAIVERS))
    ap.add_argument("--gaps", type=int, default=40, help="uncovered lines and signals listed (all in the JSON)")
    ap.add_argument("--fail-on-gap", action="store_true", help="exit 1 when a point is neither covered nor waived")
    ap.add_argument("--no-run", action="store_true", help="report from the .dat files already in OUT/dat")
    ap.add_argument("--seed", type=int, default=1,
                    help="COCOTB_RANDOM_SEED of the simulations that do not pin their own (default 1: the published "
                         "figure and its waivers are this seed's)")
    args = ap.parse_args(argv)
    if args.gaps < 0:
        ap.error(f"--gaps {args.gaps}: must be 0 or more")
    if args.jobs != "auto" and not (args.jobs.isdigit()):
        ap.error(f"--jobs {args.jobs}: must be auto or a number")
    if args.no_run and (args.k or args.pytest_args):
        ap.error("--no-run runs no test: -k and --pytest-args do not apply")
    try:
        selection = shlex.split(args.pytest_args) if args.pytest_args is not None else DEFAULT_SELECTION
    except ValueError as e:
        ap.error(f"--pytest-args: {e}")
    out = Path(args.out)
    ensure_tools_on_path()
    if not shutil.which("verilator_coverage"):
        print("error: verilator_coverage not found on PATH: run `make setup` (it installs Verilator)", file=sys.stderr)
        return 2
    try:
        if out.exists() and not out.is_dir():
            raise CodecovError(f"--out {out}: is a file, not a folder")
        if args.no_run and not any((out / "dat").glob("*.dat")):
            # nothing to read again: said before anything is made (it created the folder, then said the selection
            # it did not run ran no simulation)
            raise CodecovError(f"--no-run: {out / 'dat'} holds no coverage file to read again (run without --no-run)")
        (out / "dat").mkdir(parents=True, exist_ok=True)
        # the waivers are judged before any simulation: a malformed file should not cost a regression; a file
        # given that is not there is an error (it meant zero waivers, and gaps blamed on the coverage: a probe)
        if not Path(args.waivers).is_file():
            raise CodecovError(f"--waivers {args.waivers}: " + ("is a folder, not a TOML file"
                                                                if Path(args.waivers).is_dir() else "file not found"))
        load_waivers(Path(args.waivers))
        # --no-run re-reads the .dat files already there: the report says so, not the selection it did not run
        info: dict = ({"selection": selection, "k": args.k, "seed": args.seed} if not args.no_run else
                      {"no_run": f"the .dat files already in {out / 'dat'} were read again; which run wrote them "
                                 f"is not known to this report"})
        if not args.no_run:
            for old in (out / "dat").glob("*.dat"):   # a previous run's counts are not this run's
                old.unlink()
            start = time.monotonic()
            info["exit"] = run_pytest(out / "dat", args.jobs, selection, args.k, args.seed)
            info["seconds"] = round(time.monotonic() - start, 1)
            if info["exit"] not in (0, 1):
                what = "selects no test" if info["exit"] == 5 else f"could not run (pytest exit {info['exit']})"
                raise CodecovError(f"the test selection {shlex.join(selection)}"
                                   f"{f' -k {args.k!r}' if args.k else ''} {what}")
            print(f"codecov: pytest exit {info['exit']} after {info['seconds']} s", flush=True)
        return report(out, Path(args.waivers), args.gaps, args.fail_on_gap, info)
    except CodecovError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    except OSError as e:
        print(f"error: {getattr(e, 'filename', None) or out}: {e.strerror or e}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
