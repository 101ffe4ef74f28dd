"""The README is a map and docs/ holds the details: this keeps both true.

- README.md stays a map: at most MAX_README_LINES lines, and it links every page of docs/.
- Every relative link of README.md and docs/*.md reaches a file of the repository, and every `#anchor` (in the
  page or `page.md#anchor`) names a heading of its target, by GitHub's rule (heading_slug).
- Every command of a README shell block (```sh, bash, shell, console) is run here (RUN: cheap ones, each must
  exit 0 within RUN_TIMEOUT_S) or its block is marked `<!-- docs-test: not run: <reason> -->` on the line
  before it. An unmarked block with a command RUN does not hold fails (shell_block_problems).
- The figures of the README's results table that a committed report holds are compared with that report
  (RESULTS: each row's figures, written as the README prints them, computed from the report); a row the
  table gains must be added to RESULTS, with its report, the tests that check it, or what no report backs.
  `python tests/test_docs.py` prints which row is backed by what.

Nothing here simulates: the commands run are --help and listings, the reports are read from docs/ and
checkpoints/.
"""
from __future__ import annotations

import json
import re
import shlex
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
README = ROOT / "README.md"
DOCS = ROOT / "docs"
MAX_README_LINES = 250
RUN_TIMEOUT_S = 60

try:
    import tomllib
except ImportError:                                         # Python 3.10
    tomllib = None


def pages() -> list[Path]:
    return [README, *sorted(DOCS.glob("*.md"))]


def rel(path: Path) -> str:
    return str(path.relative_to(ROOT))


# ------------------------------------------------------------------------------------------ markdown
FENCE = re.compile(r"^\s{0,3}(`{3,}|~{3,})\s*([\w+-]*)")


@dataclass
class Block:
    lang: str
    line: int               # 1-based line of the opening fence
    lines: list[str]
    before: str             # the last non-blank line before the fence


def code_blocks(text: str) -> list[Block]:
    out, lines, i = [], text.splitlines(), 0
    while i < len(lines):
        m = FENCE.match(lines[i])
        if not m:
            i += 1
            continue
        fence, start = m.group(1), i
        before = next((lines[j].strip() for j in range(i - 1, -1, -1) if lines[j].strip()), "")
        i += 1
        body = []
        while i < len(lines) and not lines[i].strip().startswith(fence[0] * len(fence)):
            body.append(lines[i])
            i += 1
        out.append(Block(m.group(2).lower(), start + 1, body, before))
        i += 1
    return out


def prose_lines(text: str) -> list[tuple[int, str]]:
    """(line number, line) outside fenced code blocks."""
    out, fence = [], None
    for n, line in enumerate(text.splitlines(), 1):
        m = FENCE.match(line)
        if fence is None and m:
            fence = m.group(1)
        elif fence is not None and line.strip().startswith(fence[0] * len(fence)):
            fence = None
        elif fence is None:
            out.append((n, line))
    return out


def heading_slug(heading: str) -> str:
    """GitHub's anchor of a heading: the rendered text, lowercased, punctuation dropped except - and _,
    spaces turned into -."""
    text = re.sub(r"!?\[([^\]]*)\]\([^)]*\)", r"\1", heading)       # links and images: their text
    text = re.sub(r"<[^>]+>", "", text).replace("`", "")
    return re.sub(r"[^\w\- ]", "", text.strip().lower()).replace(" ", "-")


def anchors(text: str) -> set[str]:
    seen: dict[str, int] = {}
    out = set()
    for _, line in prose_lines(text):
        m = re.match(r"^\s{0,3}#{1,6}\s+(.*?)\s*#*\s*$", line)
        if m:
            slug = heading_slug(m.group(1))
            out.add(slug if slug not in seen else f"{slug}-{seen[slug]}")
            seen[slug] = seen.get(slug, 0) + 1
    return out


LINK = re.compile(r"\]\(\s*<?([^)\s>]+)>?(?:\s+\"[^\"]*\")?\s*\)")


def links(text: str) -> list[tuple[int, str]]:
    """(line, target) of every inline link and image outside code (blocks and spans)."""
    body = "\n".join(line for _, line in prose_lines_keep_numbers(text))
    body = re.sub(r"(`+)((?:(?!\n\n).)+?)\1", lambda m: re.sub(r"[^\n]", " ", m.group(0)), body, flags=re.S)
    return [(body.count("\n", 0, m.start()) + 1, m.group(1)) for m in LINK.finditer(body)]


def prose_lines_keep_numbers(text: str) -> list[tuple[int, str]]:
    """Every line, with the lines of code blocks blanked (so that line numbers stay the file's)."""
    keep = dict(prose_lines(text))
    return [(n, keep.get(n, "")) for n in range(1, len(text.splitlines()) + 1)]


def link_problems(page: Path, root: Path = ROOT) -> list[str]:
    problems = []
    text = page.read_text()
    for line, target in links(text):
        if re.match(r"^[a-z][a-z0-9+.-]*:", target):          # http:, https:, mailto:
            continue
        path, _, anchor = target.partition("#")
        dest = (page.parent / path).resolve() if path else page
        where = f"{page.relative_to(root)}:{line}: ({target})"
        if root.resolve() not in [dest, *dest.parents]:
            problems.append(f"{where} leaves the repository")
        elif not dest.exists():
            problems.append(f"{where} {path} does not exist")
        elif anchor and dest.suffix == ".md":
            if anchor not in anchors(dest.read_text()):
                problems.append(f"{where} no heading of {dest.relative_to(root.resolve())} has the anchor #{anchor}")
        elif anchor and not re.fullmatch(r"L\d+(-L\d+)?", anchor):
            problems.append(f"{where} #{anchor} on a file that is not markdown")
    return problems


# ------------------------------------------------------------------------------------------ README commands
SHELL = {"sh", "bash", "shell", "console", "zsh"}
NOT_RUN = re.compile(r"^<!--\s*docs-test:\s*not run:\s*(.*?)\s*-->$")

# The README's commands this test runs (as the README shows them, comments left out): cheap, no simulator.
RUN = [
    "accel-run --help",
    "accel-byoc --help",
    "accel-network --help",
    "python -m accel_tb.cli.badinput --table",
    "python -m accel_tb.quality.formal --list",
]


def shell_commands(block: Block) -> list[tuple[int, str]]:
    """(line, command) of a shell block: continuation lines joined, comments and prompts dropped, the words
    joined by one blank."""
    out, pending, first = [], "", 0
    for n, line in enumerate(block.lines, block.line + 1):
        if not pending:
            first = n
        pending += line.rstrip()[:-1] + " " if line.rstrip().endswith("\\") else line
        if line.rstrip().endswith("\\"):
            continue
        words = shlex.split(re.sub(r"^\s*\$\s+", "", pending), comments=True)
        pending = ""
        if words:
            out.append((first, " ".join(words)))
    return out


def shell_block_problems(text: str, run=RUN, name: str = "README.md") -> tuple[list[str], list[str], list[str]]:
    """(problems, commands run, blocks not run with their reasons) of the shell blocks of `text`."""
    problems, ran, not_run = [], [], []
    for b in code_blocks(text):
        if b.lang not in SHELL:
            continue
        m = NOT_RUN.match(b.before)
        if m:
            if m.group(1):
                not_run.append(f"{name}:{b.line}: {m.group(1)}")
            else:
                problems.append(f"{name}:{b.line}: `<!-- docs-test: not run: -->` gives no reason")
            continue
        if "docs-test" in b.before:
            problems.append(f"{name}:{b.line}: not a marker this test reads: {b.before}")
        for line, cmd in shell_commands(b):
            if cmd in run:
                ran.append(cmd)
            else:
                problems.append(f"{name}:{line}: `{cmd}` is neither run by tests/test_docs.py (RUN) nor in a block "
                                f"marked <!-- docs-test: not run: <reason> -->")
    return problems, ran, not_run


def argv(cmd: str) -> list[str]:
    """The command as this checkout runs it: a console script through its entry point (pyproject.toml), python
    as this interpreter."""
    words = shlex.split(cmd)
    if words[0] in ("python", "python3"):
        return [sys.executable, *words[1:]]
    scripts = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["scripts"]
    if words[0] in scripts:
        mod, fn = scripts[words[0]].split(":")
        return [sys.executable, "-c", f"import sys; sys.argv[0] = {words[0]!r}; from {mod} import {fn}; "
                f"sys.exit({fn}())", *words[1:]]
    raise AssertionError(f"{cmd}: tests/test_docs.py runs python and the console scripts of pyproject.toml only")


# ------------------------------------------------------------------------------------------ results table
Loader = Callable[[str], dict]


def load_json(path: str) -> dict:
    return json.loads((ROOT / path).read_text())


def layer(report: dict, index: int) -> dict:
    return next(x for x in report["layers"] if x["index"] == index)


def pct(x: float, digits: int = 2) -> str:
    return f"{100 * x:.{digits}f}%"


Figures = list[tuple[str, str]]      # (the figure as the README prints it, where it comes from)


def fig_layer27(load: Loader) -> Figures:
    from accel_host.config import CoreConfig
    from accel_host.mapping import LayerShape, WeightStationary
    src = "docs/network_report_8img.json"
    l27 = layer(load(src), 27)
    model = WeightStationary(CoreConfig(), LayerShape(8, 8, 4, 4)).model_cycles()
    return [(f"{l27['compute_cycles']:.0f} from the command", f"{src} layer 27 compute_cycles"),
            (f"{model} from the command", "accel_host.cycles (the WS cycle model)"),
            (f"ideal {l27['ideal_cycles']:.0f}", f"{src} layer 27 ideal_cycles"),
            (f"{l27['macs_per_image']:,} MACs", f"{src} layer 27 macs_per_image")]


def fig_layer27_2bit(load: Loader) -> Figures:
    from accel_host.config import CoreConfig
    from accel_host.mapping import LayerShape, WeightStationary
    src = "docs/network_report_a2w4_8img.json"
    rep = load(src)
    l27 = layer(rep, 27)
    model = WeightStationary(CoreConfig(), LayerShape(16, 16, 4, 4), a_bits=2).model_cycles()
    return [(f"{l27['compute_cycles']:.0f} from the command per image in the 8-image network report",
             f"{src} layer 27 compute_cycles (per image: the first image's fill waits over the 8)"),
            (f"the model's {model} cycles from the command", "accel_host.cycles (the WS cycle model, 2-bit)"),
            (f"ideal {l27['ideal_cycles']:.0f}", f"{src} layer 27 ideal_cycles"),
            (f"{l27['macs_per_image']:,} MACs", f"{src} layer 27 macs_per_image"),
            (f"({l27['in_channels']}→{l27['out_channels']} on {l27['height']}×{l27['width']}",
             f"{src} layer 27 shape"),
            ("in the 2-bit mode" if l27["a_bits"] == 2 else f"{l27['a_bits']}-bit", f"{src} layer 27 a_bits"),
            (f", {rep['array'].replace('x', '×')} |", f"{src} array")]


def fig_layer27_os(load: Loader) -> Figures:
    from accel_host.config import CoreConfig
    from accel_host.mapping import LayerShape, OutputStationary
    os_src, ws_src = "docs/network_report_os_8img.json", "docs/network_report_8img.json"
    os27, ws27 = layer(load(os_src), 27), layer(load(ws_src), 27)
    model = OutputStationary(CoreConfig(), LayerShape(8, 8, 4, 4)).model_cycles()
    os_c, ws_c = os27["compute_cycles"], ws27["compute_cycles"]
    return [(f"**{os_c:.0f} cycles** from the command", f"{os_src} layer 27 compute_cycles ({os27['dataflow']})"),
            (f"**{ws27['dataflows']['os']['cycles']:.0f} cycles**", f"{ws_src} layer 27 run OS (--compare)"),
            (f"**{model} cycles**", "accel_host.cycles (the OS cycle model)"),
            (f"(WS: {ws_c:.0f}, +{100 * (os_c - ws_c) / ws_c:.1f}%)", f"{ws_src} layer 27 compute_cycles")]


def fig_network(load: Loader) -> Figures:
    s8, s16 = "docs/network_report_8img.json", "docs/network_report_16x16_8img.json"
    r8, r16 = load(s8), load(s16)
    figs = []
    for src, rep, shown in ((s8, r8, "8×8"), (s16, r16, "16×16")):
        figs.append((f"{shown}: {pct(rep['totals_per_image']['utilization'])}", f"{src} totals_per_image.utilization"))
        figs.append((f"{rep['outputs_compared']:,} outputs bit-exact" if not rep["layer_mismatches"] else
                     f"{len(rep['layer_mismatches'])} layers with mismatches", f"{src} outputs_compared, layer_mismatches"))
        figs.append((f"{rep['prediction_agreement']} agree", f"{src} prediction_agreement"))
        figs.append((f"on the core, {rep['images']} images", f"{src} images"))
    figs.append((f"{pct(r8['totals_per_image']['utilization_with_loads'])} counting the host's memory writes",
                 f"{s8} totals_per_image.utilization_with_loads"))
    s2 = "docs/network_report_a2w4_8img.json"
    r2 = load(s2)
    figs.append((f"{r2['array'].replace('x', '×')}: {pct(r2['totals_per_image']['utilization_with_loads'])} counting the "
                 "writes", f"{s2} totals_per_image.utilization_with_loads"))
    os16 = [x["index"] for x in r16["layers"] if x["dataflow"] == "os"]
    figs.append((f"(OS on layers {' and '.join(map(str, os16))})", f"{s16} layers[].dataflow"))
    figs.append(("(WS on every layer" if all(x["dataflow"] == "ws" for x in r8["layers"]) else "(not WS on every layer",
                 f"{s8} layers[].dataflow"))
    return figs


def fig_256(load: Loader) -> Figures:
    src = "docs/network_report_256img.json"
    rep = load(src)
    right, n = (int(x) for x in rep["label_accuracy"].split("/"))
    return [(f"{rep['images']} test images, {rep['farm']['workers']} workers", f"{src} images, farm.workers"),
            (f"{rep['prediction_agreement']} agree with PyTorch", f"{src} prediction_agreement"),
            (f"{len(rep['layer_mismatches'])} mismatching layers", f"{src} layer_mismatches"),
            (f"labels {right}/{n} ({100 * right / n:.1f}%)", f"{src} label_accuracy"),
            (f"{rep['farm']['images_per_hour']:.0f} images/hour", f"{src} farm.images_per_hour")]


def fig_checkpoints(load: Loader) -> Figures:
    a4, a2 = "checkpoints/vgg16_a4w4.json", "checkpoints/vgg16_a2w4.json"
    return [(f"4a4w {load(a4)['top1_cifar10_test_jpeg_rebuilt_10000']:.2f}%", f"{a4} top1_cifar10_test_jpeg_rebuilt_10000"),
            (f"2a4w {load(a2)['top1_cifar10_test_10000']:.2f}%", f"{a2} top1_cifar10_test_10000")]


def fig_mutation(load: Loader) -> Figures:
    src = "docs/mutation_report.json"
    rep = load(src)
    s = rep["summary"]
    decided = s["killed"] + s["timeout"] + s["survived"]
    figs = [(f"**{s['score']:.1f}%** of {decided} test-decidable mutants", f"{src} summary.score, killed+timeout+survived"),
            (f"{s['mutants']} drawn of {sum(rep['sites'].values())} sites", f"{src} summary.mutants, sites"),
            (f"{s['killed']} killed", f"{src} summary.killed"),
            (f"{s['survived']} survived", f"{src} summary.survived"),
            (f"{s['equivalent']} solver-proven equivalent", f"{src} summary.equivalent"),
            (f"{s['lint']} caught by lint only", f"{src} summary.lint"),
            (f"{s['invalid']} invalid", f"{src} summary.invalid")]
    if s["timeout"]:
        figs.append((f"{s['timeout']} timed out", f"{src} summary.timeout"))
    if decided and abs(100 * (s["killed"] + s["timeout"]) / decided - s["score"]) > 1e-6:
        figs.append(("(the report's score is not killed+timeout over the decided)", f"{src} summary"))
    return figs


def fig_codecov(load: Loader) -> Figures:
    src = "docs/codecov_report.json"
    t = load(src)["totals"]

    total = {k: t[k]["covered"] + t[k]["waived"] + t[k]["uncovered"] for k in t}

    def pct(k, with_waived=False):
        return 100 * (t[k]["covered"] + (t[k]["waived"] if with_waived else 0)) / total[k]
    # covered and waived apart: a waived point is no covered one (an evidence review counted "line 100%" as 96.8)
    figs = [(f"line {pct('line'):.1f}% covered, {t['line']['waived']} of {total['line']} points waived", f"{src} totals.line"),
            (f"branch {pct('branch'):.0f}% covered ({t['branch']['covered']})", f"{src} totals.branch"),
            (f"toggle {pct('toggle'):.1f}% covered, {100 * t['toggle']['waived'] / total['toggle']:.1f}% waived "
             f"({t['toggle']['waived']:,} of {total['toggle']:,} points", f"{src} totals.toggle"),
            (f"expr {pct('expr'):.1f}% covered, {t['expr']['waived']} of {total['expr']} waived", f"{src} totals.expr"),
            (f"{load(src)['runs']} Verilator runs", f"{src} runs")]
    left = sum(t[k]["uncovered"] for k in t)
    if left:   # the figures above read as closed: a report with gaps must say so
        figs.append((f"{left} points neither covered nor waived", f"{src} totals"))
    return figs


def fig_synth(load: Loader) -> Figures:
    src = "docs/synth_report.json"
    r8 = next(r for r in load(src)["sizes"] if r["size"] == "8x8")
    e, g = r8["ecp5"], r8["generic"]
    e16 = next(r for r in load(src)["sizes"] if r["size"] == "16x16")["ecp5"]
    return [(f"**{e['fmax_mhz']} MHz**", f"{src} 8x8 ecp5.fmax_mhz"), (f"{e['lut4']:,} LUT4", f"{src} 8x8 ecp5.lut4"),
            (f"{e['lutram']} distributed RAMs", f"{src} 8x8 ecp5.lutram"),
            (f"{e['ff']:,} flip-flops", f"{src} 8x8 ecp5.ff"), (f"{e['dsp']} MULT18X18D", f"{src} 8x8 ecp5.dsp"),
            (f"{e['bram']} DP16KD", f"{src} 8x8 ecp5.bram"), (f"{g['latches']} latches", f"{src} 8x8 generic.latches"),
            (f"{e16['lut4']:,} LUT4, {e16['ff']:,} flip-flops, {e16['fmax_mhz']} MHz", f"{src} 16x16 ecp5")]


@dataclass
class Row:
    figures: Callable[[Loader], Figures] | None = None      # the figures a committed report holds
    checked_by: tuple[str, ...] = ()                          # tests that assert the row's other figures
    not_backed: str = ""                                      # what neither a report nor a test holds


# every row of the README's results table, by its first cell
RESULTS: dict[str, Row] = {
    "layer 27 on the core, 8×8": Row(
        fig_layer27, ("tb/core/test_core.py::test_core_vgg_layer27_8x8",),
        "169 cycles from the first write, 170 from the command, 5 waits and 1.18×: measured by `make SIM=icarus`, no "
        "report (the test bounds the cycles from the command by the cycle model plus accel_host.cycles.fill_delay)"),
    "same, in course terms": Row(not_backed="the course's figures and an estimate, not a run of this project"),
    "values checked per run": Row(checked_by=("tb/core/test_core.py::test_core_vgg_layer27_8x8",)),
    "layer 27 of the 2a4w network (16→16 on 4×4, 36,864 MACs) in the 2-bit mode, 8×8": Row(
        fig_layer27_2bit, ("tb/core/test_core.py::test_core_2bit_layer27",),
        "316 from the command and 315 from the first memory write: measured by the run, no report; the 256 sums are "
        "not asserted"),
    "layer 27 output-stationary, 8×8": Row(
        fig_layer27_os, ("tb/core/test_core.py::test_core_os_layer27",),
        "171 from the first memory write: measured by the run, no report"),
    "whole VGG16 on the core, 8 images": Row(fig_network),
    "256 test images, 2 workers": Row(fig_256),
    "2 workers against 1 process, same images": Row(
        not_backed="wall-clock runs on two machines (docs/network.md); their reports are not committed"),
    "`make test`, every model built again (a fresh clone, or the loop after an RTL edit)": Row(
        not_backed="measured by `make test-times` (docs/verification.md#the-current-table); a time, no report"),
    "simulation speed, 8×8 network": Row(
        not_backed="measured side by side (docs/network.md#simulation-speed); no report committed"),
    "the course-skeleton core (`examples/skeleton_core`), layer 27, 2 images": Row(
        checked_by=("tb/byoc/test_byoc.py::test_example_config_passes",),
        not_backed="3,260 cycles and 11.32×: measured by `make byoc-example`, no report"),
    "the same core output-stationary (sums out through the OFIFO), layer 27, 2 images": Row(
        checked_by=("tb/byoc/test_byoc.py::test_example_config_output_stationary_passes",),
        not_backed="1,872 cycles and 6.50×: no report (the test bounds the cycles below 2,400)"),
    "the same core in its 2-bit mode (course Part 2), 2a4w layer 27 (16→16), 2 images": Row(
        not_backed="512 outputs and 7,312 cycles: no report (tb/byoc/test_byoc.py::test_example_config_2bit_passes "
                   "checks one image's 256)"),
    "tiling reference, layer 3 (64→64 on 32×32), 8×8 array": Row(
        not_backed="timed by `python -m golden_py.bench_tiling`, no report"),
    "checkpoints": Row(fig_checkpoints),
    "mutation score, a sample of `rtl/` mutants through the regression's tests": Row(fig_mutation),
    "functional coverage, 32 coverpoints, 130 bins": Row(
        checked_by=("tb/core/test_coverage.py::test_coverage_closure_hits_every_bin",
                    "tb/core/test_coverage.py::test_streams_close_the_cross_bins"),
        not_backed="the merged run of `make coverage` writes reports/, which is not committed"),
    "code coverage of `rtl/` (Verilator)": Row(fig_codecov),
    "design cost, 8×8 core on an ECP5 (LFE5U-85F)": Row(
        fig_synth, ("tests/test_synth.py::test_core_synthesizes_without_latches_or_multiple_drivers",),
        "the seeds 2-4 (docs/synth.md), the original design's 38.5 MHz, 9,573 flip-flops and 133 multipliers, and "
        "2.48× (169 cycles at 76.8 MHz against 210 at 38.5): docs/synth.md"),
    "formal proofs (SymbiYosys + Boolector)": Row(
        checked_by=("tests/test_formal.py::test_fifo_properties_are_proven",
                    "tests/test_formal.py::test_core_sram_invariant_proven_and_its_fault_build_fails_it",
                    "tests/test_formal.py::test_auxiliary_invariants_fail_on_a_core_that_drops_tags"),
        not_backed="docs/formal.md's measured table (no JSON report); the tests prove FIFO depth 3 and invariant 5 "
                   "and show the auxiliary invariants failing on a core that drops tags (prove_counts: make formal)"),
}


def results_rows(text: str) -> list[tuple[int, str, str]]:
    """(line, first cell, the whole row) of the README's results table."""
    lines = text.splitlines()
    start = lines.index("## Results")
    rows, in_table = [], False
    for n, line in enumerate(lines[start + 1:], start + 2):
        if line.startswith("## "):
            break
        if line.startswith("|"):
            if in_table and not re.match(r"^\|[-| :]+\|$", line):
                rows.append((n, line.strip("|").split(" | ")[0].strip(), line))
            in_table = True
        elif in_table:
            break
    return rows


def figure_problems(text: str, load: Loader = load_json, results=None) -> tuple[list[str], list[str]]:
    """(problems, what backs each row) of the README's results table."""
    results = RESULTS if results is None else results
    problems, backing = [], []
    rows = results_rows(text)
    if not rows:
        problems.append("README.md: no results table under ## Results")
    for line, key, row in rows:
        spec = results.get(key)
        if spec is None:
            problems.append(f"README.md:{line}: results row {key!r} is not in tests/test_docs.py RESULTS: name its "
                            f"report, the tests that check it, or what backs none of it")
            continue
        parts = []
        if spec.figures is not None:
            figs = spec.figures(load)
            for shown, source in figs:
                if shown not in row:
                    problems.append(f"README.md:{line}: row {key!r} does not say {shown!r} ({source})")
            parts.append("checked against " + "; ".join(sorted({s.split(' ')[0] for _, s in figs})))
        for test in spec.checked_by:
            path, _, name = test.partition("::")
            if not re.search(rf"^def {re.escape(name)}\(", (ROOT / path).read_text(), re.M):
                problems.append(f"tests/test_docs.py: RESULTS names {test}, which does not exist")
        if spec.checked_by:
            parts.append("checked by " + ", ".join(spec.checked_by))
        if spec.not_backed:
            parts.append("not backed by a report: " + spec.not_backed)
        backing.append(f"{key}: " + ("; ".join(parts) or "nothing"))
    for key in set(results) - {k for _, k, _ in rows}:
        problems.append(f"tests/test_docs.py: RESULTS row {key!r} is not in the README's results table")
    return problems, backing


def mutation_table_problems(page: Path = DOCS / "strength.md", load: Loader = load_json) -> list[str]:
    """The per-module table of docs/strength.md against docs/mutation_report.json (its first such table; the
    earlier runs' tables follow it)."""
    rep = load("docs/mutation_report.json")
    cols = ("killed", "timeout", "survived", "equivalent", "lint", "invalid")
    want: dict[str, list[int]] = {}
    for m in rep["mutants"]:
        counts = want.setdefault(m["module"], [0] * (1 + len(cols)))
        counts[0] += 1
        counts[1 + cols.index(m["verdict"])] += 1
    want["total"] = [rep["summary"]["mutants"]] + [rep["summary"][c] for c in cols]
    got = {}
    for line in page.read_text().splitlines():
        words = line.split()
        if len(words) == 9 and words[0] in want and words[-1].endswith("%"):
            got.setdefault(words[0], [int(w) for w in words[1:8]])     # the page's first table: the report's
    return [f"{page.name}: mutation table row {m}: {got.get(m)} where the report has {w}"
            for m, w in want.items() if got.get(m) != w]


# ------------------------------------------------------------------------------------------ tests
def test_readme_is_a_map():
    n = len(README.read_text().splitlines())
    assert n <= MAX_README_LINES, f"README.md has {n} lines (at most {MAX_README_LINES}): move details to docs/"
    linked = {(README.parent / t.partition("#")[0]).resolve() for _, t in links(README.read_text())}
    assert not [p for p in DOCS.glob("*.md") if p.resolve() not in linked], "docs pages the README does not link"


@pytest.mark.parametrize("page", pages(), ids=rel)
def test_links_and_anchors_resolve(page):
    assert not link_problems(page), "\n".join(link_problems(page))


def test_a_broken_link_or_anchor_is_found(tmp_path):
    (tmp_path / "docs").mkdir()
    (tmp_path / "docs" / "a.md").write_text("# A page\n\n## Simulation speed (8×8, `-O2`)\n\n```sh\n# not a heading\n```\n")
    page = tmp_path / "README.md"
    page.write_text("[ok](docs/a.md#simulation-speed-88--o2) [ok](#map) `[not a link](nowhere.md)`\n\n# Map\n\n"
                    "[gone](docs/b.md) [bad](docs/a.md#not-a-heading) [bad](#nowhere)\n")
    problems = link_problems(page, tmp_path)
    assert [p.split(": ", 1)[1] for p in problems] == [
        "(docs/b.md) docs/b.md does not exist",
        "(docs/a.md#not-a-heading) no heading of docs/a.md has the anchor #not-a-heading",
        "(#nowhere) no heading of README.md has the anchor #nowhere"], problems


def test_heading_slugs_follow_github():
    assert heading_slug("The RTL (`rtl/`)") == "the-rtl-rtl"
    assert heading_slug("Test-set scale: the sharded run") == "test-set-scale-the-sharded-run"
    assert heading_slug("2-bit activations") == "2-bit-activations"
    assert heading_slug("Simulation speed (8×8, `-O2`)") == "simulation-speed-88--o2"     # × is a symbol: dropped
    assert heading_slug("A course-skeleton core: a configuration file, no Python") == \
        "a-course-skeleton-core-a-configuration-file-no-python"
    assert anchors("# x\n## x\n### x\n") == {"x", "x-1", "x-2"}


def test_readme_shell_blocks_are_run_or_marked():
    problems, ran, not_run = shell_block_problems(README.read_text())
    assert not problems, "\n".join(problems)
    assert sorted(set(ran)) == sorted(RUN), f"RUN lists commands the README no longer shows: {set(RUN) - set(ran)}"
    print("\n".join(["run:", *ran, "not run:", *not_run]))


def test_an_unmarked_block_fails_the_check():
    text = ("```sh\naccel-run --help   # shown\nmake test\n```\n\n<!-- docs-test: not run: builds -->\n```sh\n"
            "make network\n```\n\n<!-- docs-test: not run: -->\n```bash\nmake x\n```\n\n```python\nimport os\n```\n")
    problems, ran, not_run = shell_block_problems(text)
    assert ran == ["accel-run --help"] and not_run == ["README.md:7: builds"]
    assert len(problems) == 2 and problems[0].startswith("README.md:3: `make test` is neither run") and \
        "gives no reason" in problems[1], problems


def test_a_continued_line_is_one_command():
    block = Block("sh", 1, ["python -m golden_py.train --data-dir DIR \\", "    --epochs 3   # three", "# only a comment"], "")
    assert shell_commands(block) == [(2, "python -m golden_py.train --data-dir DIR --epochs 3")]


@pytest.mark.parametrize("cmd", RUN)
def test_readme_command_runs(cmd):
    if tomllib is None:
        pytest.skip("reading pyproject.toml needs Python 3.11")
    r = subprocess.run(argv(cmd), cwd=ROOT, capture_output=True, text=True, timeout=RUN_TIMEOUT_S,
                       env={**__import__("os").environ, "PYTHONPATH": str(ROOT)})
    assert r.returncode == 0 and r.stdout.strip(), f"{cmd}: exit {r.returncode}\n{r.stdout[-2000:]}\n{r.stderr[-2000:]}"


def test_results_figures_match_the_reports():
    problems, backing = figure_problems(README.read_text())
    print("\n".join(backing))
    assert not problems, "\n".join(problems)


def test_a_changed_figure_fails_the_comparison():
    text = README.read_text()
    assert figure_problems(text)[0] == []
    # the README changed: one count of the mutation row, one utilization
    s = load_json("docs/mutation_report.json")["summary"]
    killed = f"{s['killed']} killed, {s['survived']} survived"
    assert killed in text
    changed = text.replace(killed, f"{s['killed'] + 1} killed, {s['survived']} survived").replace("8×8: 99.97%", "8×8: 99.98%")
    problems = figure_problems(changed)[0]
    assert len(problems) == 2 and any(f"'{s['killed']} killed'" in p for p in problems) and \
        any("'8×8: 99.97%'" in p for p in problems), problems

    # the report changed: the README's figure no longer matches it
    def load(path):
        rep = load_json(path)
        if path == "docs/mutation_report.json":
            rep["summary"] = dict(rep["summary"], survived=rep["summary"]["survived"] + 1)
        return rep
    problems = figure_problems(text, load)[0]
    assert any(f"'{s['survived'] + 1} survived'" in p for p in problems), problems
    # a new row that RESULTS does not know
    row = "| checkpoints |"
    problems = figure_problems(text.replace(row, "| a new figure | 1 | `make x` |\n" + row, 1))[0]
    assert any("'a new figure' is not in tests/test_docs.py RESULTS" in p for p in problems), problems


def test_mutation_table_matches_the_report():
    assert not mutation_table_problems()


def test_a_changed_mutation_table_fails(tmp_path):
    page = tmp_path / "strength.md"
    text = (DOCS / "strength.md").read_text()
    row = re.search(r"^sequencer +(\d+) +(\d+)", text, re.M)
    assert row, "docs/strength.md has no sequencer row in its mutation table"
    page.write_text(text.replace(row.group(0), row.group(0)[:-len(row.group(2))] + str(int(row.group(2)) - 1), 1))
    problems = mutation_table_problems(page)
    assert len(problems) == 1 and "row sequencer" in problems[0], problems


if __name__ == "__main__":
    for line in figure_problems(README.read_text())[1]:
        print(line)


# ------------------------------------------------------------------ module paths named in the docs
MODULE_REF = re.compile(r"\baccel_tb(?:\.[A-Za-z_]\w*)+")
RUN_MODULE = re.compile(r"(?:python3?|\$\(PY\)) -m (accel_tb(?:\.\w+)+)")


def stale_module_refs(texts: dict[str, str]) -> list[str]:
    """Every dotted accel_tb name the texts mention resolves (a module, or a name in one), and every
    `python -m accel_tb.X` runs X as a command (it has a __main__ block): a package moved or renamed leaves
    none of them behind."""
    import importlib
    out = []
    for where, text in texts.items():
        for ref in sorted(set(MODULE_REF.findall(text))):
            parts, obj = ref.split("."), None
            for i in range(len(parts), 0, -1):
                try:
                    obj = importlib.import_module(".".join(parts[:i]))
                except ImportError:
                    continue
                for name in parts[i:]:
                    obj = getattr(obj, name, None)
                break
            if obj is None:
                out.append(f"{where}: {ref} does not resolve")
        for mod in sorted(set(RUN_MODULE.findall(text))):
            spec = importlib.util.find_spec(mod)
            if spec is None or not spec.origin or "__name__ == \"__main__\"" not in Path(spec.origin).read_text():
                out.append(f"{where}: python -m {mod} is not a command")
    return out


def test_module_paths_in_the_docs_resolve():
    files = [*pages(), ROOT / "Makefile", *sorted((ROOT / ".github" / "workflows").glob("*.yml")),
             *sorted((ROOT / "examples").rglob("*.md")), *sorted((ROOT / "examples").rglob("*.toml"))]
    texts = {p.relative_to(ROOT).as_posix(): p.read_text() for p in files}
    assert stale_module_refs(texts) == []


def test_a_stale_module_path_is_found():
    """Negative: a module that moved, a name that is not there, and a module without a command."""
    assert stale_module_refs({"x.md": "run `python -m accel_tb.mutation`; see accel_tb.vip.sim.nothing_here; "
                                      "python -m accel_tb.vip.sim"}) == [
        "x.md: accel_tb.mutation does not resolve", "x.md: accel_tb.vip.sim.nothing_here does not resolve",
        "x.md: python -m accel_tb.mutation is not a command", "x.md: python -m accel_tb.vip.sim is not a command"]


# ------------------------------------------------------------------ docs/network.md's per-layer table
def network_table_problems(text: str, r8: dict, r16: dict) -> list[str]:
    """Each layer row of docs/network.md's 8x8 | 16x16 table against the two reports: the 8x8 cycles, ideal
    cycles, utilization and SCALE-Sim estimate, and the 16x16 dataflow, cycles, WS and OS cycles."""
    rows = {int(m.group(1)): m.group(0) for m in re.finditer(r"^ +(\d+) +\d+->\d+@\d+x\d+ .*\|.*$", text, re.M)}
    out = []
    if set(rows) != {x["index"] for x in r8["layers"]}:
        return [f"docs/network.md: table layers {sorted(rows)} are not the report's"]
    by16 = {x["index"]: x for x in r16["layers"]}
    for l8 in r8["layers"]:
        left, right = rows[l8["index"]].split("|")
        l16 = by16[l8["index"]]
        want_left = [f"{l8['macs_per_image']}", f"{l8['compute_cycles']:.0f}", f"{l8['ideal_cycles']:.0f}",
                     pct(l8["utilization"]), f"{l8['scalesim_cycles']}", pct(l8["utilization_with_loads"])]
        want_right = [l16["dataflow"], f"{l16['compute_cycles']:.0f}", pct(l16["utilization"]),
                      f"{l16['dataflows']['ws']['cycles']:.0f}", f"{l16['dataflows']['os']['cycles']:.0f}"]
        for side, want in ((left.split(), want_left), (right.split(), want_right)):
            out += [f"docs/network.md layer {l8['index']}: {w} not in its row" for w in want if w not in side]
    return out


def test_network_table_matches_the_reports():
    text = (DOCS / "network.md").read_text()
    r8, r16 = (json.loads((DOCS / f).read_text()) for f in ("network_report_8img.json",
                                                             "network_report_16x16_8img.json"))
    assert network_table_problems(text, r8, r16) == []


def test_a_changed_network_table_figure_is_found():
    """Negative: one cycle count of the table changed by one."""
    text = (DOCS / "network.md").read_text()
    r8, r16 = (json.loads((DOCS / f).read_text()) for f in ("network_report_8img.json",
                                                             "network_report_16x16_8img.json"))
    l27 = next(x for x in r8["layers"] if x["index"] == 27)
    row = next(line for line in text.splitlines() if re.match(r"^ +27 ", line))
    bad = text.replace(row, row.replace(f" {l27['compute_cycles']:.0f} ", f" {l27['compute_cycles'] + 1:.0f} ", 1))
    assert network_table_problems(bad, r8, r16) == [f"docs/network.md layer 27: {l27['compute_cycles']:.0f} not in its row"]
