"""Classify images with the whole VGG16 on the simulated accelerator and print the per-layer report.

    python tb/run_network.py --images 4 [--layers 3,7] [--report-dir reports] [--data-dir DIR]
This is `make network IMAGES=4`. It also serves as the benchmark: the report ends with wall time per image
and simulated cycles per second. Verilator is the default; --sim icarus works for single layers
(--layers 27), the whole network takes hours under Icarus.
"""
from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path[:0] = [str(HERE), str(HERE.parent), str(HERE / "network")]

from accel.runner import CORE_SOURCES, absolute_inputs, rtl_sources, run  # noqa: E402


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--sim", default=os.environ.get("SIM", "verilator"), choices=("verilator", "icarus"))
    ap.add_argument("--images", type=int, default=1)
    ap.add_argument("--first-image", type=int, default=0)
    ap.add_argument("--layers", default="", help="comma list of features[] indices (default: all with unsigned input)")
    ap.add_argument("--checkpoint", default=str(HERE.parent / "checkpoints" / "vgg16_a4w4.pt"))
    ap.add_argument("--data-dir", default="", help="take images from this CIFAR-10 test set")
    ap.add_argument("--report-dir", default=str(HERE.parent / "reports"))
    ap.add_argument("--corrupt-layer", type=int, default=-1, help="negative test: corrupt a weight tile there")
    args = ap.parse_args(argv)
    args.checkpoint, args.data_dir = absolute_inputs(args.checkpoint, args.data_dir)
    from cocotb_tools.runner import get_results
    from test_network import NET_PARAMS
    env = {"IMAGES": args.images, "FIRST_IMAGE": args.first_image, "LAYERS": args.layers,
           "CHECKPOINT": args.checkpoint, "DATA_DIR": args.data_dir, "REPORT_DIR": str(Path(args.report_dir).resolve()),
           "CORRUPT_LAYER": args.corrupt_layer}
    xml = run(toplevel="core", sources=rtl_sources(*CORE_SOURCES), test_module="test_network",
              parameters=NET_PARAMS, sim=args.sim, testcase="test_network", extra_env=env,
              module_dir=HERE / "network")
    tests, failed = get_results(xml)
    print(f"report: {Path(args.report_dir) / 'network_report.json'}, {Path(args.report_dir) / 'utilization.png'}")
    print(f"{'PASS' if tests and not failed else 'FAIL'}: {tests - failed} passed, {failed} failed")
    return 0 if tests and not failed else 1


if __name__ == "__main__":
    sys.exit(main())
