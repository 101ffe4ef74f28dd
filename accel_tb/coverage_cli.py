"""`make coverage`: functional coverage of the core, merged over the runs that collect it, as a table.

    python -m accel_tb.coverage_cli [--out reports/coverage] [--sim icarus]

Runs, each exporting its coverage database: the closure (the checkpoint layers of both activation modes, then
constrained-random layers until every bin is hit), the random-layer tests of both modes with their crossed
pauses, and the layer sequence 2-bit / 4-bit / 2-bit. Merges them (cocotb-coverage's merge_coverage) into
OUT/coverage.yml, prints every coverpoint, writes OUT/coverage.txt, and exits 1 unless 100% of the bins
were hit. Random runs print their seed (COCOTB_RANDOM_SEED) to replay them.
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

import yaml

from accel_host.config import CoreConfig

from .runner import CORE_SOURCES, ROOT, SIMULATORS, RunError, rtl_sources, run

CK4, CK2 = str(ROOT / "checkpoints" / "vgg16_a4w4.pt"), str(ROOT / "checkpoints" / "vgg16_a2w4.pt")


def layer(ck, image=0):
    return {"checkpoint": ck, "layer": 27, "images": [image], "data_dir": None}


RUNS = [
    ("closure", "test_coverage_closure", {"layers": [layer(CK4), layer(CK2)]}),
    ("random 4-bit", "test_random_layers", {"trials": 9}),
    ("random 2-bit", "test_random_layers", {"trials": 9, "a_bits": 2}),
    ("2-bit / 4-bit / 2-bit", "test_layer_sequence", {"sequence": [layer(CK2), layer(CK4), layer(CK2, 1)]}),
    ("random WS/OS alternating", "test_random_layers", {"trials": 8, "dataflow": "alternate"}),
]


def table(merged: dict) -> tuple[list[str], int, int]:
    lines = [f"{'coverpoint':<32} {'bins':>5} {'hit':>5} {'coverage':>9}"]
    size = hit = 0
    for name in sorted(merged):
        item = merged[name]
        if "bins:_hits" not in item:
            continue
        bins = item["bins:_hits"]
        n, h = len(bins), sum(1 for v in bins.values() if v >= item.get("at_least", 1))
        size, hit = size + n, hit + h
        lines.append(f"{name:<32} {n:>5} {h:>5} {100 * h / n:>8.1f}%")
        lines += [f"    missing: {b}" for b, v in bins.items() if v < item.get("at_least", 1)]
    lines.append(f"{'total':<32} {size:>5} {hit:>5} {100 * hit / max(size, 1):>8.1f}%")
    return lines, size, hit


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
    for name, testcase, config in RUNS:
        path = out / f"{name.replace(' ', '_').replace('/', '')}.yml"
        path.unlink(missing_ok=True)
        try:
            run(toplevel="core", sources=rtl_sources(*CORE_SOURCES), test_module="accel_tb.layer_tests",
                parameters=params, sim=args.sim, testcase=testcase,
                config={"adapter": "accel", **config, "coverage": str(path)})
        except (RunError, AssertionError) as e:
            print(f"error: coverage run '{name}' failed: {e}", file=sys.stderr)
            return 1
        files.append(str(path))
    from cocotb_coverage.coverage import merge_coverage
    merged_path = out / "coverage.yml"
    merge_coverage(lambda *a: None, str(merged_path), *files)
    merged = yaml.safe_load(merged_path.read_text())
    lines, size, hit = table(merged)
    text = "\n".join([f"functional coverage, merged over {len(files)} runs ({', '.join(n for n, _, _ in RUNS)}):",
                      *lines, ""])
    (out / "coverage.txt").write_text(text)
    print(text, end="")
    print(f"{'PASS' if hit == size else 'FAIL'}: {hit}/{size} bins hit; {merged_path}")
    return 0 if hit == size else 1


if __name__ == "__main__":
    sys.exit(main())
