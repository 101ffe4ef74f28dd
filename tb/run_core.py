"""Run the core-level VGG layer test (or replay course-format vectors) and print its summary.

    python tb/run_core.py --sim icarus                     # layer 27 of bundled image 0, 8x8 array
    python tb/run_core.py --sim verilator --golden DIR     # replay a course-format folder
This is what `make` runs; `make SIM=icarus GOLDEN=DIR WAVES=1 ROWS=16 COLS=16 IMAGE=3` set the options.
"""
from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path[:0] = [str(HERE), str(HERE.parent)]

from accel.layout import CoreConfig  # noqa: E402
from accel.runner import CORE_SOURCES, absolute_inputs, rtl_sources, run  # noqa: E402


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--sim", default=os.environ.get("SIM", "verilator"), choices=("verilator", "icarus"))
    ap.add_argument("--rows", type=int, default=8)
    ap.add_argument("--cols", type=int, default=8)
    ap.add_argument("--checkpoint", default=str(HERE.parent / "checkpoints" / "vgg16_a4w4.pt"))
    ap.add_argument("--layer", type=int, default=27)
    ap.add_argument("--image", type=int, default=0, help="bundled sample index (or test-set index with --data-dir)")
    ap.add_argument("--data-dir", default="")
    ap.add_argument("--golden", default="", help="course-format folder to replay instead of the checkpoint layer")
    ap.add_argument("--waves", action="store_true", help="write an FST waveform into the build folder")
    ap.add_argument("--seed", type=int, default=None)
    args = ap.parse_args(argv)
    args.checkpoint, args.data_dir = absolute_inputs(args.checkpoint, args.data_dir)
    if args.golden and not Path(args.golden).is_dir():
        print(f"error: --golden {args.golden}: not a folder", file=sys.stderr)
        return 2
    env = {"CHECKPOINT": args.checkpoint, "LAYER": args.layer, "IMAGE": args.image, "DATA_DIR": args.data_dir,
           "GOLDEN": str(Path(args.golden).resolve()) if args.golden else ""}
    from cocotb_tools.runner import get_results
    params = CoreConfig(rows=args.rows, cols=args.cols).parameters()
    xml = run(toplevel="core", sources=rtl_sources(*CORE_SOURCES), test_module="test_core", parameters=params,
              sim=args.sim, testcase="test_vgg_layer", extra_env=env, waves=args.waves, seed=args.seed,
              module_dir=HERE / "core")
    tests, failed = get_results(xml)
    print(f"{'PASS' if tests and not failed else 'FAIL'}: {tests - failed} passed, {failed} failed "
          f"({args.sim}, {args.rows}x{args.cols})")
    return 0 if tests and not failed else 1


if __name__ == "__main__":
    sys.exit(main())
