"""How much throughput two processes get from this machine, against one: the ceiling for `--workers 2`.

    python -m accel_tb.network.scaling [--rounds 5] [--sim-images 1] [--farm-images 0] [--data-dir DIR] [--json F]

Each probe runs alone, then two copies side by side, in interleaved rounds (the host's speed drifts, so
alone and pair are measured close together), and reports the medians and 2 x alone / pair, the throughput of
two processes in units of one:
- `chain`: a C loop of one dependent xorshift chain (little instruction-level parallelism, no memory);
- `ilp`: four independent xorshift chains (the core's execution units busy, still no memory);
- `sim` (with --sim-images N): the whole-network simulation of N images in one simulator process
  (`accel-network`, no Dask), the work each farm worker does; its figure is the simulated wall per image
  from the report (start-up excluded);
- `farm` (with --farm-images N): end to end, one process over N images against
  `accel-network --workers 2 --chunk N/2 --no-cache` over the same N (one chunk per worker, so one
  start-up each, as the single process has): the images/hour ratio of the issue.
A machine whose two CPUs are two independent cores gives about 2.0 for every probe; hyper-threads sharing one
core, or a host that runs other guests on them, give less for `ilp` and `sim` while `chain` stays near 2.0.
The loops need a C compiler (`cc`, as Verilator does).
"""
from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from golden_py.cliargs import ArgumentParser

SIM_RUN = "a network simulation (run accel-network alone to see why)"   # what a failed sim/farm probe names
LOOPS = {
    "chain": "x ^= x << 13; x ^= x >> 7; x ^= x << 17; acc += x & 0xff;",
    "ilp": ("a ^= a << 13; a ^= a >> 7; a ^= a << 17; b ^= b << 13; b ^= b >> 7; b ^= b << 17; "
            "c ^= c << 13; c ^= c >> 7; c ^= c << 17; x ^= x << 13; x ^= x >> 7; x ^= x << 17; "
            "acc += (a ^ b ^ c ^ x) & 0xff;"),
}
C_TEMPLATE = """#include <stdio.h>
#include <stdint.h>
#include <stdlib.h>
int main(int argc, char **argv) {
    uint64_t n = strtoull(argv[1], 0, 10), a = 1, b = 2, c = 3, x = 4, acc = 0;
    for (uint64_t i = 0; i < n; i++) { %s }
    printf("%%llu\\n", (unsigned long long)acc);   /* printed, so the loop is not optimised away */
    return 0;
}
"""


class ScalingError(Exception):
    pass


def pair_ratio(alone: list[float], pair: list[float]) -> dict:
    """Medians of the per-round times and the two-process throughput in units of one process: two copies
    finish 2 units of work in the pair's time, one copy 1 unit in the alone time."""
    if not alone or len(alone) != len(pair) or min(alone + pair) <= 0:
        raise ScalingError("need the same positive number of alone and pair timings")
    ma, mp = statistics.median(alone), statistics.median(pair)
    return {"alone_s": alone, "pair_s": pair, "median_alone_s": ma, "median_pair_s": mp,
            "ratio_per_round": [2 * a / p for a, p in zip(alone, pair)], "ratio": 2 * ma / mp}


def farm_ratio(one: list[float], two: list[float]) -> dict:
    """One process and two workers over the same images: the images/hour ratio is the ratio of the walls."""
    if not one or len(one) != len(two) or min(one + two) <= 0:
        raise ScalingError("need the same positive number of one-process and two-worker timings")
    return {"one_process_s": one, "two_workers_s": two, "ratio_per_round": [o / t for o, t in zip(one, two)],
            "ratio": statistics.median(one) / statistics.median(two)}


def compile_loop(name: str, folder: Path) -> Path:
    cc = shutil.which("cc") or shutil.which("gcc")
    if cc is None:
        raise ScalingError("no C compiler (cc/gcc) on PATH for the loop probes")
    src, exe = folder / f"{name}.c", folder / name
    src.write_text(C_TEMPLATE % LOOPS[name])
    subprocess.run([cc, "-O2", "-o", str(exe), str(src)], check=True)
    return exe


def timed(commands: list[list[str]], env=None, what: str | None = None) -> float:
    """Wall time of the commands started together, until the last one ends."""
    t = time.perf_counter()
    procs = [subprocess.Popen(c, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env) for c in commands]
    codes = [p.wait() for p in procs]
    if any(codes):
        raise ScalingError(f"{what or commands[0][0]} exited with {codes}")
    return time.perf_counter() - t


def calibrate_iterations(exe: Path, seconds: float) -> int:
    n = 50_000_000
    while True:
        t = timed([[str(exe), str(n)]])
        if t > 0.5:
            return max(1, int(n * seconds / t))
        n *= 4


def network_cmd(images: int, data_dir: str | None, *extra: str) -> list[str]:
    """The `accel-network` command line every sim and farm run uses."""
    cmd = [sys.executable, "-m", "accel_tb.cli.network", "--images", str(images), *extra]
    return cmd + (["--data-dir", data_dir] if data_dir else [])


def _report(folder: Path) -> dict:
    return json.loads((folder / "network_report.json").read_text())


def sim_seconds_per_image(folders: list[Path], images: int, data_dir: str | None, env) -> float:
    """The slowest of the simulator processes started together (their simulated wall per image)."""
    timed([network_cmd(images, data_dir, "--report-dir", str(d)) for d in folders], env,
          what=SIM_RUN)
    return max(_report(d)["wall_seconds_per_image"] for d in folders)


def main(argv=None) -> int:
    ap = ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--seconds", type=float, default=3.0, help="length of one loop run alone")
    ap.add_argument("--sim-images", type=int, default=0, help="also the simulator probe, over N images")
    ap.add_argument("--farm-images", type=int, default=0, help="also the farm probe, over N images")
    ap.add_argument("--data-dir", default=None, help="CIFAR-10 test set for the sim and farm probes")
    ap.add_argument("--json", default=None, help="write the timings here")
    args = ap.parse_args(argv)
    if args.rounds < 1 or args.seconds <= 0 or args.sim_images < 0 or args.farm_images < 0:
        print("error: --rounds, --seconds must be positive, --sim-images, --farm-images non-negative", file=sys.stderr)
        return 2
    if args.farm_images == 1:
        print("error: --farm-images 1: two workers need at least 2 images (one chunk each)", file=sys.stderr)
        return 2
    if args.data_dir and not Path(args.data_dir).is_dir():
        print(f"error: --data-dir {args.data_dir}: not a folder", file=sys.stderr)
        return 2
    if args.json and not Path(args.json).resolve().parent.is_dir():
        print(f"error: --json {args.json}: its folder does not exist", file=sys.stderr)
        return 2
    env = {**os.environ, "OMP_NUM_THREADS": "1"}   # one thread per process, as in every farm worker
    results = {"cpus": os.cpu_count(), "rounds": args.rounds}
    try:
        with tempfile.TemporaryDirectory(prefix="scaling-") as tmp:
            tmp = Path(tmp)
            for name in LOOPS:
                exe = compile_loop(name, tmp)
                cmd = [str(exe), str(calibrate_iterations(exe, args.seconds))]
                alone, pair = [], []
                for _ in range(args.rounds):
                    alone.append(timed([cmd]))
                    pair.append(timed([cmd, cmd]))
                results[name] = pair_ratio(alone, pair)
                print(f"{name:>5}: alone {results[name]['median_alone_s']:.2f} s, pair "
                      f"{results[name]['median_pair_s']:.2f} s -> {results[name]['ratio']:.3f}x", flush=True)
            if args.sim_images:
                alone, pair = [], []
                for r in range(args.rounds):
                    alone.append(sim_seconds_per_image([tmp / f"a{r}"], args.sim_images, args.data_dir, env))
                    pair.append(sim_seconds_per_image([tmp / f"b{r}", tmp / f"c{r}"], args.sim_images,
                                                      args.data_dir, env))
                results["sim"] = pair_ratio(alone, pair)
                print(f"  sim: alone {results['sim']['median_alone_s']:.2f} s/image, side by side (slower of two) "
                      f"{results['sim']['median_pair_s']:.2f} s/image -> {results['sim']['ratio']:.3f}x", flush=True)
            if args.farm_images:
                n = args.farm_images
                one, two, one_sim, two_sim = [], [], [], []
                for r in range(args.rounds):
                    d1, d2 = tmp / f"f1_{r}", tmp / f"f2_{r}"
                    one.append(timed([network_cmd(n, args.data_dir, "--report-dir", str(d1))], env,
                                     what=SIM_RUN))
                    # its own cache folder: --no-cache empties the cache it is given, never the user's
                    two.append(timed([network_cmd(n, args.data_dir, "--report-dir", str(d2), "--workers", "2",
                                                  "--no-cache", "--cache", str(tmp / f"cache_{r}"),
                                                  "--chunk", str((n + 1) // 2))], env,
                                     what="a farm run (run accel-network --workers 2 alone to see why)"))
                    one_sim.append(_report(d1)["wall_seconds"])
                    two_sim.append(max(c["wall"] for c in _report(d2)["raw"]))
                results["farm"] = {"images": args.farm_images, **farm_ratio(one, two),
                                   # the simulations' own walls: the rest of each end-to-end wall is start-up,
                                   # Dask (two workers) and reports
                                   "one_process_sim_s": one_sim, "two_workers_slowest_chunk_sim_s": two_sim}
                print(f" farm: {args.farm_images} images, one process {statistics.median(one):.1f} s (simulation "
                      f"{statistics.median(one_sim):.1f} s), 2 workers {statistics.median(two):.1f} s (slower chunk's "
                      f"simulation {statistics.median(two_sim):.1f} s) -> {results['farm']['ratio']:.3f}x images/hour",
                      flush=True)
    except (ScalingError, subprocess.CalledProcessError) as e:
        print(f"error: {e}", file=sys.stderr)
        return 1
    if args.json:
        try:
            Path(args.json).write_text(json.dumps(results, indent=1))
        except OSError as e:
            print(f"error: --json {args.json}: {e.strerror}", file=sys.stderr)
            return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
