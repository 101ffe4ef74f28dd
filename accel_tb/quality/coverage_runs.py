"""`make coverage`: functional coverage of the core, merged over the runs that collect it, as a table.

    python -m accel_tb.quality.coverage_runs [--out reports/coverage] [--sim icarus]

Runs, each exporting its coverage database and the cycle of every bin's first hit: the closure (the
checkpoint layers of both activation modes, then constrained-random layers until every bin but the
core.cross.* ones is hit), the random-layer tests of both modes with their crossed pauses, the layer sequence
2-bit / 4-bit / 2-bit, random layers alternating WS and OS, and random command streams from a pinned seed
(they close the core.cross.* bins: dataflow x held output, credit stall, back-to-back command, switches,
multi-tile, host write while busy). Merges them (cocotb-coverage's merge_coverage) into OUT/coverage.yml,
adds to every coverpoint there the run that hit each bin first (the earliest run in RUNS order, with the
cycle; also OUT/first_hit.json), prints every coverpoint and bin, writes OUT/coverage.txt, and exits 1 unless
100% of the bins were hit. Random runs print their seed (COCOTB_RANDOM_SEED) to replay them; the stream run's
is pinned (STREAM_SEED).
"""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import yaml

from accel_host.config import CoreConfig
from accel_tb.design.core_ports import own_core_run
from accel_tb.design.interrupt import interruptible
from accel_tb.design.runner import ROOT, SIMULATORS, RunError, run
from accel_tb.quality.coverage import TABLE_HEAD, first_hit_path, table_row

CK4, CK2 = str(ROOT / "checkpoints" / "vgg16_a4w4.pt"), str(ROOT / "checkpoints" / "vgg16_a2w4.pt")


def layer(ck, image=0):
    return {"checkpoint": ck, "layer": 27, "images": [image], "data_dir": None}


# the command streams are drawn from this pinned seed (recorded here, printed by cocotb): the same streams, the
# same bins, on every run
STREAM_SEED = 2026
# the streams' output sides in turn: held from the first output-stationary command, held from the first
# command, paused at random, free (accel_tb.cocotb_tests.layer_tests.test_command_stream)
STREAM = {"streams": 4, "layers": 5, "hold": 400, "write_attempts": 20, "closure": True,
          "outputs": ["hold", "hold-all", "random:0.7", "none"]}

# (name, cocotb test, configuration, COCOTB_RANDOM_SEED or None for a fresh one); first hits are credited to the
# earliest run in this order
RUNS = [
    ("closure", "test_coverage_closure", {"layers": [layer(CK4), layer(CK2)]}, None),
    ("random 4-bit", "test_random_layers", {"trials": 9}, None),
    ("random 2-bit", "test_random_layers", {"trials": 9, "a_bits": 2}, None),
    ("2-bit / 4-bit / 2-bit", "test_layer_sequence", {"sequence": [layer(CK2), layer(CK4), layer(CK2, 1)]}, None),
    ("random WS/OS alternating", "test_random_layers", {"trials": 8, "dataflow": "alternate"}, None),
    ("command streams", "test_command_stream", STREAM, STREAM_SEED),
]


def merge_first_hits(runs) -> dict:
    """runs: [(run name, cocotb test, first-hit file)] in RUNS order. Every bin -> {run, test, cycle} of its
    first hit: the earliest run that hit it (RUNS order, not the cycle: each run starts at cycle 0), at the
    cycle that run first hit it."""
    merged = {}
    for name, testcase, path in runs:
        hits = json.loads(Path(path).read_text()) if Path(path).is_file() else {}
        for key, cycle in sorted(hits.items(), key=lambda kv: kv[1]):
            merged.setdefault(key, {"run": name, "test": testcase, "cycle": cycle})
    return merged


def table(merged: dict, first: dict | None = None) -> tuple[list[str], int, int]:
    """Every coverpoint, then each of its bins: the run that hit it first (first: merge_first_hits), or
    'missing'."""
    first = first or {}
    lines = [TABLE_HEAD]
    size = hit = 0
    for name in sorted(merged):
        item = merged[name]
        if "bins:_hits" not in item:
            continue
        bins = item["bins:_hits"]
        n, h = len(bins), sum(1 for v in bins.values() if v >= item.get("at_least", 1))
        size, hit = size + n, hit + h
        lines.append(table_row(name, n, h))
        for b, v in bins.items():
            if v < item.get("at_least", 1):
                lines.append(f"    missing: {b}")
            else:
                f = first.get(f"{name}: {b}")
                lines.append(f"    {b}: first hit by '{f['run']}' ({f['test']}) at cycle {f['cycle']}" if f else
                             f"    {b}: hit (no first-hit record)")
    lines.append(table_row("total", size, hit))
    return lines, size, hit


@interruptible
def main(argv=None) -> int:
    from golden_py.cliargs import ArgumentParser  # noqa: PLC0415 (one-line option errors)
    ap = ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", default=str(ROOT / "reports" / "coverage"))
    ap.add_argument("--sim", default="verilator", type=str.lower, choices=SIMULATORS)
    args = ap.parse_args(argv)
    out = Path(args.out)
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        print(f"error: --out {out}: {e.strerror}", file=sys.stderr)
        return 2
    params = CoreConfig(acc_w=24).parameters()
    files = []
    firsts = []
    for name, testcase, config, seed in RUNS:
        path = out / f"{name.replace(' ', '_').replace('/', '')}.yml"
        path.unlink(missing_ok=True)
        first_hit_path(path).unlink(missing_ok=True)
        try:
            run(**own_core_run(), parameters=params, sim=args.sim, testcase=testcase, seed=seed,
                config={"adapter": "accel", **config, "coverage": str(path)})
        except (RunError, AssertionError) as e:
            print(f"error: coverage run '{name}' failed: {e}", file=sys.stderr)
            return 1
        files.append(str(path))
        firsts.append((name, testcase, first_hit_path(path)))
    from cocotb_coverage.coverage import merge_coverage
    merged_path = out / "coverage.yml"
    merge_coverage(lambda *a: None, str(merged_path), *files)
    merged = yaml.safe_load(merged_path.read_text())
    first = merge_first_hits(firsts)
    for name, item in merged.items():    # the merged database names each bin's first hit too
        if "bins:_hits" in item:
            item["first_hit"] = {b: first[f"{name}: {b}"] for b in item["bins:_hits"] if f"{name}: {b}" in first}
    merged_path.write_text(yaml.safe_dump(merged, sort_keys=False))
    (out / "first_hit.json").write_text(json.dumps(first, indent=1))
    lines, size, hit = table(merged, first)
    text = "\n".join([f"functional coverage, merged over {len(files)} runs ({', '.join(r[0] for r in RUNS)}):",
                      *lines, ""])
    # the closure's plan is stimulus written for the bins it closes: what the other runs reach without it is
    # the figure that stimulus not aimed at the bins earns
    others = out / "coverage_without_closure.yml"
    merge_coverage(lambda *a: None, str(others), *[f for (name, *_), f in zip(RUNS, files) if name != "closure"])
    _, _, hit_o = table(yaml.safe_load(others.read_text()) or {})    # bins hit, counted as for the merged runs
    without = f"without the closure run (its plan is written for the bins it closes): {hit_o}/{size} bins hit"
    (out / "coverage.txt").write_text(text + without + "\n")
    print(text, end="")
    print(without)
    print(f"{'PASS' if hit == size else 'FAIL'}: {hit}/{size} bins hit; {merged_path}")
    return 0 if hit == size else 1


if __name__ == "__main__":
    sys.exit(main())
