"""The core environment: an adapter (any core), the layer to run, the checker, the summary and the report.

Layer tests, folder replays, random layers, the user's own cores and the whole network all go through
`Environment.check`: build the job, check every value the adapter reports, summarise.
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from cocotb.triggers import SimTimeoutError, with_timeout

from accel_host.cycles import per_image
from accel_host.mapping import DATAFLOWS
from accel_tb.adapter import OUTPUT_WORDS, AdapterError, CoreAdapter, fit_problem, load_adapter_class, tile_rows
from accel_tb.env.checker import LayerChecker, LayerJob, job_from_folder, job_from_ints
from accel_tb.vip.sim import CLOCK_NS, now_cycle


def is_own_core(spec: str | None) -> bool:
    """Whether an adapter spec (make_adapter's) names this project's core."""
    return not spec or spec == "accel"


def make_adapter(dut, spec: str | None, options: dict | None = None) -> CoreAdapter:
    """spec None / 'accel': this project's core; 'skeleton': accel_tb.env.skeleton configured by the option
    'config' (a SkeletonConfig.to_dict()); else a user adapter 'file.py[:Class]'."""
    if is_own_core(spec):
        from accel_tb.env.own_core import AccelCore  # noqa: PLC0415 (only this core needs its host library)
        return AccelCore(dut, **(options or {}))
    if spec == "skeleton":   # accel-byoc --config: the course-skeleton adapter, its configuration in the options
        from accel_tb.env.skeleton import config_class  # noqa: PLC0415
        options = dict(options or {})
        return config_class(options.pop("config"))(dut, **options)
    return load_adapter_class(spec)(dut, **(options or {}))


def output_kind(adapter) -> str:
    """'relu' or 'sum': the kind an adapter's outputs are compared as (its attribute output_kind)."""
    return getattr(adapter, "output_kind", "relu")


def checkpoint_job(spec: dict, geometry, psums: bool = True) -> LayerJob:
    """spec: checkpoint, layer, images (indices), data_dir (None: the bundled samples). Computed by golden_py
    the first time, then read from accel_tb.env.golden_store (no torch) while nothing it depends on changes."""
    from accel_tb.env import golden_store  # noqa: PLC0415
    name = golden_store.key(spec, geometry, psums)
    label = Path(spec["checkpoint"]).name       # the job's name starts with it: the file as the user named it
    job = golden_store.load(name, label, spec, psums) if name else None
    if job is None:
        job = computed_checkpoint_job(spec, geometry, psums).as_arrays()
        # stored only if nothing it hashes changed while it was computed (a checkpoint rewritten by a training
        # run, a source edited during a regression): else the job of the new files would take the old name
        if name and golden_store.key(spec, geometry, psums) == name:
            golden_store.save(name, job, spec["images"], label, spec["layer"])
    job.image_ids = tuple(int(i) for i in spec["images"])      # the reports name the test set's images
    return job


def computed_checkpoint_job(spec: dict, geometry, psums: bool = True) -> LayerJob:
    """The job of a checkpoint layer: its integer activations and weights (layer_ints: golden_py and torch the
    first time, then golden_store's layer entry, which every geometry shares), tiled and their expected values
    computed for this geometry (numpy)."""
    from accel_tb.env import golden_store  # noqa: PLC0415
    name = golden_store.layer_key(spec)
    ints = golden_store.load_layer(name, spec) if name else None
    if ints is None:
        ints = layer_ints(spec)
        if name and golden_store.layer_key(spec) == name:     # nothing it hashes changed meanwhile (checkpoint_job)
            golden_store.save_layer(name, ints, spec)
    rows, cols = tile_rows(geometry, ints.a_bit), geometry.cols
    (n, ic, h, w), oc = ints.a_int.shape, ints.w_int.shape[0]
    mode = f", {ints.a_bit}-bit activations" if ints.a_bit != geometry.a_bits else ""
    desc = (f"{Path(spec['checkpoint']).name} features[{spec['layer']}] ({ic}->{oc}{mode} on {h}x{w}), "
            f"image{'s' if n > 1 else ''} " + ", ".join(f"{i} (label {y})" for i, y in zip(spec["images"], ints.labels)))
    return job_from_ints(desc, ints.a_int, ints.w_int, rows, cols, relu=ints.relu, a_bits=ints.a_bit, psums=psums)


def layer_ints(spec: dict):
    """A checkpoint layer's integers for the images of `spec`, computed by golden_py (torch)."""
    from accel_tb.env.golden_store import LayerIntsEntry, check_stored_outline, outline_of  # noqa: PLC0415
    from golden_py.checkpoint import load_model  # noqa: PLC0415
    from golden_py.data import load_images
    from golden_py.extract import extract_layer
    model, _ = load_model(spec["checkpoint"])
    check_stored_outline(spec["checkpoint"], model)      # what the command checked the layer against
    images, labels = load_images(spec["images"], spec.get("data_dir") or None)
    li = extract_layer(model, spec["layer"], images)
    conv = model.features[spec["layer"]]
    return LayerIntsEntry(li.a_int.numpy().astype(np.int64), li.w_int.numpy().astype(np.int64),
                          outline_of(model).relu_after(spec["layer"]), int(conv.a_bit), int(conv.w_bit), [int(y) for y in labels],
                          li.out_int.numpy().astype(np.int64))


def folder_job(path: str) -> LayerJob:
    from golden_py.coursefmt import read_folder  # noqa: PLC0415
    return job_from_folder(read_folder(path))


def random_job(rng, geometry, a_bits: int | None = None, max_tiles: int = 2, max_side: int = 5,
               relu: bool | None = None, name: str = "random", extreme: str | None = None,
               shape: tuple | None = None, min_ic: int = 1, rect: bool = False) -> LayerJob:
    """A random layer of at least min_ic input channels; extreme "pos" / "neg" makes every activation
    maximal and output channel 0's weights all 7 / all -8, so its sums reach 7/8 / all of the proven
    accumulator bound. rect: height and width drawn apart (a core of our own takes any; the course
    skeleton's adapters take square layers), so that positions per layer -- and an output-stationary
    layer's last block -- take every count, not only squares."""
    a_bits = a_bits or geometry.a_bits
    rows, cols, w_bits = tile_rows(geometry, a_bits), geometry.cols, geometry.w_bits
    ic = rng.randint(min_ic, max(min_ic, max_tiles * rows + 3))
    oc = rng.randint(1, max_tiles * cols + 3)
    side = rng.randint(1, max_side)
    width = rng.randint(1, max_side) if rect else side
    if shape:                      # (ic, oc, side) or (ic, oc, height, width)
        ic, oc, side = shape[:3]
        width = shape[3] if len(shape) > 3 else side
    g = np.random.default_rng(rng.getrandbits(32))      # numpy: a random layer's simulation imports no torch
    a = g.integers(0, 1 << a_bits, (1, ic, side, width), dtype=np.int64)
    # extremes on purpose: whole rows of maximal activations and weights push sums toward their bound
    if rng.random() < 0.25:
        a[:, : max(1, ic // 2)] = (1 << a_bits) - 1
    wmax = (1 << (w_bits - 1)) - 1
    w = g.integers(-wmax - 1, wmax + 1, (oc, ic, 3, 3), dtype=np.int64)
    if extreme:
        a[:] = (1 << a_bits) - 1
        w[0] = wmax if extreme == "pos" else -wmax - 1
    relu = bool(rng.getrandbits(1)) if relu is None else relu
    return job_from_ints(f"{name} {ic}->{oc} on {side}x{width}", a, w, rows, cols, relu=relu, a_bits=a_bits)


def min_channels(geometry, a_bits: int, dataflow: str) -> int:
    """The fewest input channels a layer of `dataflow` may have on this array (accel_host.mapping's registry:
    output-stationary needs 2 * ROWS - 1 steps per block)."""
    if dataflow not in DATAFLOWS:       # 'auto': the mapping picks one that fits; weight-stationary takes any
        return 1
    return DATAFLOWS[dataflow].min_channels(geometry.rows, geometry.a_bits, a_bits)


def adapter_cycle_budget(job: LayerJob) -> int:
    """The cycles any core may take for a layer before its run is stopped as a finding: 100 per padded
    position, kernel position and tile pair of every image (the course skeleton takes about 5), plus 10,000
    for loading and draining."""
    return 100 * job.images * job.n_ic * job.n_oc * 9 * job.padded_width * (job.height + 2) + 10_000


@dataclass
class Result:
    job: LayerJob
    checker: LayerChecker
    stats: dict

    def cycle_line(self) -> str | None:
        st = self.stats
        if not st.get("last_output"):
            return None
        ideal = self.job.macs * self.job.images / (self.job.rows * self.job.cols)
        parts = []
        if st.get("first_input") is not None:
            total = st["last_output"] - st["first_input"]
            parts.append(f"{total} from first input to last output")
        if st.get("first_command") is not None:
            parts.append(f"({st['last_output'] - st['first_command']} from first command)")
        # the ratio over the layer's whole span: from its first write or command, whichever came first (a step
        # that fills its memory regions sends its command before its words)
        starts = [st[k] for k in ("first_input", "first_command") if st.get(k) is not None]
        ratio = (st["last_output"] - min(starts)) / ideal if st.get("first_input") is not None else None
        macs = f"MACs {self.job.macs}" + (f" x {self.job.images} images" if self.job.images > 1 else "")
        return (f"cycles: {' '.join(parts)}; ideal {ideal:.0f} ({macs} / {self.job.rows}x{self.job.cols})"
                + (f"; ratio {ratio:.2f}x" if ratio else ""))

    def summary_lines(self) -> list[str]:
        lines = self.checker.summary_lines()
        c = self.cycle_line()
        return lines + ([c] if c else [])

    def report(self) -> dict:
        rep = self.checker.report()
        st = self.stats
        rep["what"] = self.job.name
        if st.get("last_output") is not None and st.get("first_input") is not None:
            rep["cycles"] = st["last_output"] - st["first_input"]
        if st.get("last_output") is not None and st.get("first_command") is not None:
            rep["cycles_from_command"] = st["last_output"] - st["first_command"]
        rep["ideal_cycles"] = self.job.macs * self.job.images / (self.job.rows * self.job.cols)
        if st.get("model_cycles") is not None:
            # with the waits of a filling step (accel_host.cycles.fill_delay) spread over the images
            rep["model_cycles_per_image"] = per_image(st["model_cycles"], st.get("fill_cycles", 0), self.job.images)
        rep["summary"] = self.summary_lines()
        return rep


class Environment:
    def __init__(self, dut, adapter: CoreAdapter, coverage=None):
        self.dut, self.adapter = dut, adapter
        self.log = dut._log
        self.coverage = coverage        # accel_tb.quality.coverage.CoreCoverage, when the run collects coverage

    async def start(self):
        await self.adapter.start()

    def checker(self, job: LayerJob, kinds=None, log=None) -> LayerChecker:
        """The job's checker, judging what this adapter reports: psums and sums where it has those ports
        (output-stationary commands make no psums), outputs always. The job's arrays become numpy (as_arrays)."""
        job.as_arrays()
        a = self.adapter
        g = a.geometry
        if (job.rows, job.cols) != (tile_rows(g, job.a_bits), g.cols):
            raise ValueError(f"{job.name}: {job.a_bits}-bit activations tiled {job.rows}x{job.cols}, the core is "
                             f"{g.rows}x{g.cols} ({tile_rows(g, job.a_bits)} input channels per tile)")
        reason = "not monitored in this run"
        streamed = a.streamed_psums(job)
        # a core that declares an output-stationary dataflow makes no psums on a run of that dataflow
        df = DATAFLOWS.get(job.dataflow)
        os_run = g.output_stationary and df is not None and not df.makes_psums and streamed is None
        if kinds is None:
            monitored = g.psum_monitor and getattr(a, "monitor_psums", True)
            kinds = ("psum", "sum", "relu") if monitored else (output_kind(a),)
            declared = getattr(a, "reports", None)
            if declared:            # an adapter that reports some of the kinds (e.g. a psum port, no sum port)
                kinds = tuple(declared)
                reason = f"{type(a).__name__} reports {', '.join(declared)} only (its `reports`)"
            elif not g.psum_monitor:
                reason = f"{type(a).__name__} reports {OUTPUT_WORDS[output_kind(a)]} only"
            if "psum" in kinds and (os_run or (streamed is not None and not any(streamed))):
                kinds = tuple(k for k in kinds if k != "psum")
                reason = "the output-stationary dataflow makes no partial sums; its finished sums are checked"
        return LayerChecker(job, log=log or self.log.error, streamed=streamed, kinds=kinds, unchecked_reason=reason)

    async def check(self, job: LayerJob, kinds=None, corrupt: str | None = None, log=None) -> Result:
        """Run one job through the adapter, every reported value checked as it appears."""
        a = self.adapter
        checker = self.checker(job, kinds, log)
        if self.coverage is not None:
            self.coverage.layer(job, checker)
        if corrupt:
            if corrupt not in checker.scoreboards:    # the commands refuse this before the build
                raise ValueError(f"corrupt={corrupt}: no {corrupt} values are checked against the core in this run "
                                 f"(checked: {', '.join(checker.scoreboards) or 'none'})")
            where = checker.corrupt_one(corrupt)
            self.log.warning(f"NEGATIVE TEST: corrupted expectation at {where}")
            job.corrupted = where
        problem = fit_problem(a, job)
        if problem:     # every entry point (accel-byoc, pytest --golden, make, this API): one line, nothing run
            checker.adapter_stopped(f"the layer does not fit the core: {problem}")
            return Result(job, checker, {})
        budget = adapter_cycle_budget(job)
        try:
            # a user's core that never delivers must end, as a finding: this project's core keeps its own,
            # tighter budget (own_core), the bound here is for any adapter's flow
            await with_timeout(a.run_layer(job, checker), budget * CLOCK_NS, "ns")
        except SimTimeoutError:
            waiting = getattr(a, "waiting", None)   # an adapter that says what it waits on (accel_tb.env.skeleton)
            checker.adapter_stopped(f"the layer did not end within {budget} cycles (100 per streamed position, "
                                    f"kernel position and tile, plus 10,000): the core never delivered every output"
                                    + (f"; the adapter was in {waiting}" if waiting else ""))
        except AdapterError as e:
            # a located finding about a pin (X/Z where the flow polls it) is its own line, cycle included
            checker.adapter_stopped(str(e) if str(e).startswith("pins.")
                                    else f"run_layer raised AdapterError at cycle {now_cycle()}: {e}")
        except ValueError as e:
            if "non-0/1" not in str(e):
                checker.adapter_stopped(f"run_layer raised ValueError at cycle {now_cycle()}: {e}")
            else:   # the adapter took int() of a signal holding X or Z: a finding about the core, not a crash
                checker.adapter_stopped(f"the adapter read a signal holding X or Z at cycle {now_cycle()} ({e}); "
                                        f"read outputs with accel_tb.helpers.unpack_lanes(signal.value, ...) to "
                                        f"have each X/Z lane located")
        except Exception as e:  # noqa: BLE001 -- a core that does not complete, a top without the adapter's
            # pins, a parameter that breaks the adapter's widths: one finding in the summary, exit status 1
            checker.adapter_stopped(f"run_layer raised {type(e).__name__} at cycle {now_cycle()}: {e}")
        stats = dict(getattr(a, "stats", {}) or {})
        stats.update({k: v for k, v in a.cycles.items() if v is not None})
        return Result(job, checker, stats)


def write_report(path: str | None, data: dict):
    if path:
        Path(path).write_text(json.dumps(data, indent=1, default=str))
