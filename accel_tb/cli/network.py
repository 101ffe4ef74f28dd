"""accel-network: classify images with the whole VGG16 on the simulated core and print the per-layer report.

    accel-network --images 4 [--rows 16 --cols 16] [--layers 3,7] [--report-dir reports] [--data-dir DIR]
    accel-network --images 256 --data-dir DIR --workers 2 [--chunk 32] [--scheduler ADDR | --cluster farm.yaml]

This is `make network IMAGES=4` (`WORKERS=2` shards it). It is also the benchmark: the report ends with wall
time per image and simulated cycles per second. The core's memory depths and accumulator width are derived
from the layers (stated in the report). Verilator is the default; Icarus is practical for single layers.
With --workers > 1, --scheduler or --cluster the images are sharded over simulator processes with Dask
(accel_tb.network.farm); finished chunks are cached in --cache, so a rerun continues where the last one stopped.
A run of about twenty images or more (core_ports.PGO_RUN_CYCLES) takes a profile-guided model: built once, with a
training run and a second compile (about half a minute more), it simulates about a quarter faster; once built, a
shorter run of the same core takes it too. ACCEL_PGO=1 or 0 forces it on or off.
"""
from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

from accel_host.config import ConfigError, for_network
from accel_host.mapping import LayerShape, MappingError, choices, mapping, names
from accel_tb.cli import inputs
from accel_tb.cli.inputs import InputError
from accel_tb.design.core_ports import LONG_RUN_CYCLES, network_run, profile_guided, profile_training
from accel_tb.design.interrupt import interruptible
from accel_tb.design.runner import ROOT, BuildError, RunError, run
from golden_py.cliargs import ArgumentParser


def model_words(kind: str) -> list[str]:
    """What a PASS/FAIL line says of the model: ["<kind> model"] (runner.build_kind: "-O2", "quick",
    "MAKEFLAGS OPT_FAST", "profile-guided", "unprofiled", "icarus"); nothing for a model built before its kind was
    recorded."""
    return [f"{kind} model"] if kind else []


def network_shapes(outline, layers):
    """LayerShape of every conv that runs on the core (input side from the max-pools before it); outline:
    accel_tb.env.golden_store.Outline."""
    return {i: LayerShape(c.in_channels, c.out_channels, outline.side_before(i), outline.side_before(i))
            for i, c in outline.convs.items() if i in layers}


@interruptible
def main(argv=None) -> int:
    from accel_tb.network.farm import WORKER_WAIT_S, WORKER_WAIT_VAR  # noqa: PLC0415
    ap = ArgumentParser(prog="accel-network", description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--sim", default=os.environ.get("SIM") or "verilator")
    ap.add_argument("--images", type=int, default=1)
    ap.add_argument("--first-image", type=int, default=0)
    ap.add_argument("--layers", default=None, help="comma list of features[] indices (default: all with unsigned input)")
    ap.add_argument("--checkpoint", default=str(ROOT / "checkpoints" / "vgg16_a4w4.pt"))
    ap.add_argument("--data-dir", default=None, help="take images from this CIFAR-10 test set")
    ap.add_argument("--rows", type=int, default=8)
    ap.add_argument("--cols", type=int, default=8)
    ap.add_argument("--report-dir", default=str(ROOT / "reports"))
    ap.add_argument("--corrupt-layer", type=int, default=None, help="negative test: corrupt a weight there")
    ap.add_argument("--seed", type=int, default=None, help="refused: the whole-network run draws nothing at random")
    ap.add_argument("--dataflow", default="auto", choices=choices(),
                    help="per layer the faster by the cycle model (default), or one forced for every layer")
    ap.add_argument("--compare", action="store_true", help="also run every layer in the other dataflow and "
                    "report both measured cycle counts")
    ap.add_argument("--workers", type=int, default=1,
                    help="local Dask workers (simulator processes); not used with --scheduler or --cluster")
    ap.add_argument("--chunk", type=int, default=0,
                    help="images per task (default or 0: spread evenly over the workers -- --workers, the scheduler's "
                         "connected worker threads or the farm file's jobs x worker threads per job -- in chunks of <= 32)")
    ap.add_argument("--scheduler", default=None, help="address of a running Dask scheduler")
    ap.add_argument("--cluster", default=None, help="farm file (YAML) for dask-jobqueue: see accel_tb/network/farm.py. "
                    "Checked before anything is built, its scheduler's submit and cancel commands on PATH "
                    f"(sbatch/scancel, bsub/bkill, qsub/qdel, condor_submit/condor_rm) included. The run waits at most {WORKER_WAIT_S} s for the first worker of the "
                    f"submitted jobs (or of --scheduler) to connect, then fails (exit 1); {WORKER_WAIT_VAR}=seconds "
                    "sets another wait")
    ap.add_argument("--retries", type=int, default=None, help="attempts after a chunk crashes (default 2; sharded "
                    "runs only)")
    ap.add_argument("--cache", default=None, help="finished chunks, to resume (default reports/chunks; sharded runs "
                    "only: a single-process run keeps none)")
    ap.add_argument("--no-cache", action="store_true", help="recompute every chunk (sharded runs only)")
    ap.add_argument("--python-io", action="store_true",
                    help="drive the core's write ports and watch its outputs from Python, as the layer tests do, "
                         "instead of the top's host I/O in the simulator (the same cycles and checks, slower; for "
                         "comparisons)")
    ap.add_argument("--fail-plan", default=None, help=argparse.SUPPRESS)   # tests: {"first image": crashes}
    ap.add_argument("--io-log-rotate", type=int, default=None, help=argparse.SUPPRESS)  # tests: bytes of event
    #                                                                   log before it moves to its other file
    args = ap.parse_args(argv)
    try:
        args.sim = inputs.check_sim(args.sim)
        if args.seed is not None:       # it was taken and dropped: no run of this command depends on it
            raise InputError(f"--seed {args.seed}: the whole-network run draws nothing at random (its stimulus is the "
                             f"images and the checkpoint, its ports unpaused); seeds replay the random layer tests "
                             f"(accel-run, COCOTB_RANDOM_SEED)")
        # COCOTB_RANDOM_SEED in the environment (set for the random tests) is judged, and passed on as before
        args.seed = inputs.check_seed(None)
        from accel_tb.design.runner import (  # noqa: PLC0415
            BuildError,
            pgo_blocked,
            pgo_from_env,
            require_simulator,
            waves_from_env,
        )
        from accel_tb.design.runtime_store import use_from_env  # noqa: PLC0415
        try:      # WAVES, ACCEL_PGO, ACCEL_QUICK_COMPILE (pgo_blocked reads it) and ACCEL_RUNTIME_STORE reach every
            # simulation (and every worker) from the environment: judged here
            use_from_env()
            if not (args.scheduler or args.cluster):    # this machine builds and runs (a farm's workers: theirs)
                require_simulator(args.sim, "build")
                require_simulator(args.sim, "run")
            waves = waves_from_env()
            blocked = pgo_blocked(args.sim, waves)
            if pgo_from_env() and blocked:
                raise InputError(f"ACCEL_PGO=1: no profile-guided model with {blocked}")
        except (BuildError, ValueError) as e:
            raise InputError(str(e)) from None
        inputs.check_array(args.rows, args.cols)
        # what needs no model first: the first read of a checkpoint imports torch (seconds)
        for flag, value, least in (("--workers", args.workers, 1), ("--chunk", args.chunk, 0),
                                   ("--retries", args.retries, 0)):
            if value is not None and value < least:
                raise InputError(f"{flag} {value}: must be >= {least}")
        if waves and (args.workers > 1 or args.scheduler or args.cluster):
            # every worker's simulator writes the same waveform file, and a cached chunk writes none
            raise InputError("WAVES=1: a sharded run's workers would write one waveform over each other (and a "
                             "cached chunk none); run it in one process (--workers 1) for a waveform")
        if not (args.workers > 1 or args.scheduler or args.cluster):
            # options of the sharded run only: taken and dropped, a long single-process run looked resumable
            given = [flag for flag, on in (("--cache", args.cache is not None), ("--no-cache", args.no_cache),
                                           ("--chunk", args.chunk != 0), ("--retries", args.retries is not None))
                     if on]
            if given:
                raise InputError(f"{given[0]}: only a sharded run (--workers N > 1, --scheduler or --cluster) keeps "
                                 f"chunks and retries them; this one runs in one process")
        args.cache = args.cache if args.cache is not None else str(ROOT / "reports" / "chunks")
        args.retries = args.retries if args.retries is not None else 2
        if args.cluster and args.scheduler:
            raise InputError("--scheduler and --cluster: give one (a running scheduler, or a farm file to start one)")
        farm_threads = None
        if args.cluster or args.scheduler:
            from accel_tb.network.farm import (
                FarmError,
                farm_workers,
                probe_scheduler,
                require_submit_command,
                worker_wait_seconds,
            )
            try:
                worker_wait_seconds()
            except FarmError as e:
                raise InputError(str(e)) from None
        if args.cluster:   # the whole farm file, and its submit command on PATH
            try:
                farm_threads = farm_workers(args.workers, None, args.cluster)
                require_submit_command(args.cluster)
            except FarmError as e:
                raise InputError(f"--cluster {e}") from None
        if args.scheduler:
            try:
                probe_scheduler(args.scheduler)
            except FarmError as e:
                raise InputError(str(e)) from None
        if args.layers is not None:     # given empty, it is refused: never the whole network in its place
            try:
                layers = [int(v) for v in args.layers.split(",")]
            except ValueError:
                raise InputError(f"--layers {args.layers or repr(args.layers)}: expected a comma list of "
                                 f"integers") from None
            twice = sorted({v for v in layers if layers.count(v) > 1})
            if twice:
                raise InputError(f"--layers {args.layers}: layer {twice[0]} given twice")
        if Path(args.cache).exists() and not Path(args.cache).is_dir():
            raise InputError(f"--cache {args.cache}: exists and is not a folder")
        data_dir = inputs.check_data_dir(args.data_dir)
        images = inputs.check_images(args.first_image, args.images, data_dir, "--first-image")
        outline = inputs.load_checkpoint(args.checkpoint)
        convs = outline.quant_conv_indices()[1:]
        if args.layers is not None:
            for layer in layers:
                inputs.check_layer(outline, layer)
        else:
            layers = convs
        if args.corrupt_layer is not None and args.corrupt_layer not in layers:
            raise InputError(f"--corrupt-layer {args.corrupt_layer}: not among the layers run ({layers})")
        shapes = network_shapes(outline, layers)
        try:
            # the network's core whichever layers run: --layers picks layers, not another design (a subset runs
            # on the parameters of the whole network's run, so every run of a checkpoint shares one model)
            cfg = for_network(network_shapes(outline, convs).values(), args.rows, args.cols)
            a_bits = outline.a_bit
            cycles = 0   # per image, by the cycle models: a run of a few layers takes the quick build
            for s in shapes.values():
                if args.dataflow == "auto":
                    mapping(cfg, s, a_bits, names()[0])
                cycles += mapping(cfg, s, a_bits, args.dataflow).model_cycles()
            total = len(images) * (2 if args.compare else 1) * cycles
            long_run = total >= LONG_RUN_CYCLES
        except (MappingError, ConfigError) as e:
            raise InputError(f"the network does not fit a {args.rows}x{args.cols} core: {e}") from None
        pgo = not blocked and profile_guided(total, cfg.parameters(), args.sim)
        report_dir = Path(args.report_dir).resolve()
        try:
            report_dir.mkdir(parents=True, exist_ok=True)
        except OSError as e:
            raise InputError(f"--report-dir {report_dir}: {e.strerror}") from None
    except InputError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    config = {"adapter": "accel", "checkpoint": inputs.absolute(args.checkpoint), "images": images,
              "data_dir": data_dir, "layers": layers if args.layers else None, "corrupt_layer": args.corrupt_layer,
              "dataflow": args.dataflow, "compare": args.compare, "host_io": not args.python_io,
              "host_io_rotate": None if args.io_log_rotate is None else max(1, args.io_log_rotate),
              "report_dir": str(report_dir)}
    (report_dir / "network_report.json").unlink(missing_ok=True)
    # trained on the network's last layers whichever run it is: the core is the network's, so one profile-guided
    # model serves every run of it (a subset's training would have been taken by the full runs after it)
    training = profile_training(config, convs) if pgo else None
    if args.workers > 1 or args.scheduler or args.cluster:
        return sharded(args, config, cfg, images, report_dir, farm_threads, long_run=long_run, training=training,
                       layers=layers)
    try:
        result = run(**network_run(long_run, training), test_module="accel_tb.cocotb_tests.network", parameters=cfg.parameters(),
                     sim=args.sim, testcase="test_network", config=config, seed=args.seed, expect_fail=True)
    except RunError as e:   # a build that failed (a simulator missing, RTL that does not compile) is status 2
        print(f"error: {e}", file=sys.stderr)
        return 2 if isinstance(e, BuildError) else 1
    written = report_dir / "network_report.json"
    violations = []
    if written.is_file():
        print(f"report: {written}, {report_dir / 'utilization.png'}")
        # the cycle models as the performance bound: a layer above it fails the run (the report says which)
        violations = json.loads(written.read_text()).get("cycle_bound_violations") or []
    else:
        print("no report written (the run stopped before the end)")
    ok = result["failed"] == 0 and not violations
    print(f"{'PASS' if ok else 'FAIL'}: {result['tests'] - result['failed']} passed, {result['failed']} failed "
          f"({', '.join([args.sim, f'{args.rows}x{args.cols}', *model_words(result['build'])])})"
          + (f"; cycle bound exceeded: {'; '.join(violations)}" if violations else ""))
    return 0 if ok else 1



def sharded(args, config, cfg, images, report_dir, farm_threads=None, long_run: bool = True,
            training: dict | None = None, layers: list[int] | None = None) -> int:
    """The Dask run; `farm_threads`: what a farm file runs at once (farm_workers, reckoned before the checkpoint
    was read); `long_run`, `training`: the -O2 model, the profile-guided one (core_ports.network_run)."""
    from accel_tb.network.farm import FarmError, clear_cache, default_chunk, farm_workers, run_sharded
    from accel_tb.network.report import build_report, print_report, save_report
    cache = Path(args.cache).resolve()
    try:   # a farm file or scheduler address that does not work is bad input: refused before the build
        workers = farm_threads or farm_workers(args.workers, args.scheduler, args.cluster)
    except FarmError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    chunk = args.chunk or default_chunk(len(images), workers)
    try:
        cache.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        print(f"error: --cache {args.cache}: cannot create the folder ({e.strerror})", file=sys.stderr)
        return 2
    try:
        if args.no_cache:
            clear_cache(cache)
        raws, failures, timing = run_sharded(
            {k: v for k, v in config.items() if k != "report_dir"}, cfg.parameters(), args.sim, images, chunk,
            workers, cache, retries=args.retries, scheduler=args.scheduler, cluster_file=args.cluster,
            fail_plan=json.loads(args.fail_plan) if args.fail_plan else None, long_run=long_run,
            training=training)
    except (FarmError, RunError, OSError) as e:   # RunError: the host's build (a simulator missing, bad RTL)
        print(f"error: {e}", file=sys.stderr)
        return 2 if isinstance(e, BuildError) else 1
    done = [i for r in raws for i in r["images"]]
    if not raws:
        print("\n".join(failures) or "no chunk finished")
        print(f"FAIL: no chunk of the {len(images)} images finished")
        return 1
    report = build_report(raws, config, cfg.as_dict())
    # per worker-second, from the chunks end to end (start-up included: a worker pays it for every chunk)
    rate = timing["images_run"] / timing["task_seconds"] if timing["task_seconds"] else 0.0
    report["farm"] = {**timing, "chunk": chunk, "failures": failures,
                      "images_missing": [i for i in images if i not in done],
                      "images_per_hour": 3600 * timing["images_run"] / timing["wall_seconds"] if timing["wall_seconds"] else 0,
                      "images_per_worker_hour": 3600 * rate,
                      "projected_hours_10000_images": {str(w): round(10000 / (w * rate) / 3600, 2) if rate else None
                                                       for w in (2, 64, 512)}}
    print_report(print, report)
    save_report(report, report_dir)
    f = report["farm"]
    print(f"farm: {timing['images_run']} images run, {timing['images_cached']} from the cache, wall "
          f"{timing['wall_seconds']:.1f} s, {f['images_per_hour']:.0f} images/hour on {workers} worker(s); "
          f"projected for 10,000 images: " + ", ".join(f"{h} h on {w}" for w, h in f["projected_hours_10000_images"].items()))
    if timing["startup_seconds_per_chunk"] is not None:
        print(f"farm: each chunk spent {timing['startup_seconds_per_chunk']:.1f} s (median) beyond its simulation "
              f"(simulator start-up and report) of {timing['task_seconds'] / timing['chunks_run']:.1f} s per chunk "
              f"end to end; larger --chunk spreads it over more images")
    for line in failures:
        print(f"FAILED CHUNK {line}")
    # every image asked for, once, each through every layer asked for: a chunk missing or a result of other
    # images (a cache entry copied from another key) is no PASS, whatever the agreement counts
    covered = sorted(done) == sorted(images) and (layers is None or all(
        sorted(int(k) for k in r["stats"]) == sorted(layers) for r in raws))
    violations = report["cycle_bound_violations"]
    ok = (not failures and not report["layer_mismatches"] and covered and not violations
          and report["prediction_agreement"] == f"{len(images)}/{len(images)}")
    print(f"report: {report_dir / 'network_report.json'}")
    print(f"{'PASS' if ok else 'FAIL'}: {len(done)}/{len(images)} images, agreement {report['prediction_agreement']}, "
          f"labels {report['label_accuracy']}, layers with mismatches {len(report['layer_mismatches'])}"
          + (f", {len(failures)} chunk(s) failed: images {report['farm']['images_missing']}" if failures else "")
          + ("" if covered or failures else f", not covered: images missing {report['farm']['images_missing']}, "
                                              f"layers run per chunk {[sorted(int(k) for k in r['stats']) for r in raws]}"
                                              f" of {layers or 'all'}")
          + (f", cycle bound exceeded: {'; '.join(violations)}" if violations else "")
          + "".join(f" ({words})" for words in model_words(timing["model"])))
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
