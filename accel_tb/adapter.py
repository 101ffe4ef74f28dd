"""The core-adapter API: how any accelerator core runs under this environment's checks.

An adapter knows one core's pins and protocol and nothing about golden values. It declares the core's
geometry and capabilities and implements a few async hooks; the environment (accel_tb.env.environment) builds the
layer (from a checkpoint or a course folder), checks every value the adapter reports, counts what is
missing, duplicated or unexpected, and prints the summary.

Minimal adapter (a single-tile course core; see examples/skeleton_core/adapter.py for a complete one):

    from accel_tb.adapter import CoreAdapter, Geometry

    class MyCore(CoreAdapter):
        geometry = Geometry(rows=8, cols=8)

        async def start(self):                      # clock, pin defaults, reset
            ...
        async def load_activations(self, tile):     # tile[r][p]: row r, padded position p (ints)
            ...
        async def run_kernel(self, kij, weights):   # weights[c][r]: column c, row r (signed ints)
            ...
        async def outputs(self):                    # [(o_nij, [COLS ints]), ...] as the core sent them
            ...

Reporting: `run_layer` gets a `sink` (the checker) and calls sink.output(image, oc_tile, o_nij, values) for
every output word; cores with a psum port may also call sink.psum(...) and sink.sum(...). The default
run_layer drives the four hooks above for every image and output-channel tile (one input-channel tile:
each output tile is its own pass over the loaded activations), reporting what outputs() returns (a lane
read as X/Z with helpers.unpack_lanes is a mismatch naming the value, the position and the cycle it was
read at). Cores that sequence whole layers themselves override
run_layer instead (this project's own core does).

The layer, for the hooks: before any hook runs, the default flow sets `self.layer` (LayerFacts: height,
width, positions = padded positions (H+2)*(W+2), outputs = H*W, padded_width, and `padded[o_nij][kij]`,
the padded position that output o_nij reads at kernel position kij, as a table) and `self.job` (the whole
LayerJob; its activations, weights and expected values are numpy int64 arrays). An adapter reads its loop bounds and addresses from them instead of hard-coding a 4x4 layer.

Psums and sums from the hooks (a core with a psum port, Geometry(psum_monitor=True)): inside run_kernel,
`self.report_psum(p, values)` reports the psum of padded position p at the kernel position running;
inside outputs(), `self.report_sum(o_nij, values)` the sum before ReLU. The image, output tile and kernel
position are the flow's. `reports` (class attribute) names the kinds the adapter reports when it is not
all three: e.g. reports = ("psum", "relu") for a psum port and an output port without a sum port.

2-bit activations (Geometry(two_bit=True), the course's Part 2): a layer of a_bits = geometry.a_bits / 2
has 2 * rows input channels per tile. The default flow first calls set_mode(a_bits) (once per layer, every
layer, 4-bit ones too), then hands the hooks the layer's channels as they are: tile[ch][p] and
weights[c][ch] with ch in 0 .. 2*rows - 1. Packing them is the core's business; in the course's packing
row r carries channels 2r (low half of the lane) and 2r + 1 (high half): helpers.pair_lanes. The
2a4w network's layer 27 (16 -> 16 on 4x4) is one input tile of 16 channels on 8 rows, two output tiles.
"""
from __future__ import annotations

import importlib.util
import inspect
import os
import sys
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from accel_tb.vip.sim import now_cycle

# what an adapter's outputs() returns, as the summary words it: the outputs after ReLU (every course core),
# or the sums before it
OUTPUT_WORDS = {"relu": "outputs", "sum": "sums before ReLU"}


class AdapterError(RuntimeError):
    """An adapter file that cannot be loaded or does not implement the API."""


@dataclass(frozen=True)
class Geometry:
    """What the core is and can do. Every entry point (accel-byoc, pytest --golden, make, Environment.check)
    refuses a layer that does not fit it (fit_problem): more input channels than a tile without multi_tile,
    a side over max_side, an expected value outside psum_bits."""
    rows: int                       # input channels per tile (array rows)
    cols: int                       # output channels per tile (array columns)
    a_bits: int = 4                 # unsigned activation bits
    w_bits: int = 4                 # signed weight bits
    psum_bits: int = 16             # width of one signed output/psum lane as the core reports it: a layer whose
    #                                 expected values do not fit it is refused (fit_problem)
    max_side: int | None = 4        # largest input height/width (H = W) it holds; None = any
    multi_tile: bool = False        # layers with more than rows input / cols output channels
    two_bit: bool = False           # a 2-bit activation mode (2*rows input channels per tile; set_mode())
    output_stationary: bool = False  # the core can run output-stationary: on a run of dataflow "os" it makes no
    #                                  psums, so none are expected of it (Environment.checker)
    psum_monitor: bool = False      # reports psums (sink.psum / report_psum) and sums besides outputs


@dataclass(frozen=True)
class LayerFacts:
    """What the hooks need to know of the running layer (self.layer in the default flow)."""
    height: int
    width: int
    in_channels: int
    out_channels: int
    a_bits: int
    padded_width: int               # W + 2
    positions: int                  # padded positions, (H + 2) * (W + 2): the activation words of a tile
    outputs: int                    # output positions, H * W
    padded: tuple                   # padded[o_nij][kij]: the padded position output o_nij reads at kernel position kij


def layer_facts(job) -> LayerFacts:
    pw = job.width + 2
    padded = tuple(tuple((o // job.width + k // 3) * pw + o % job.width + k % 3 for k in range(9))
                   for o in range(job.height * job.width))
    return LayerFacts(job.height, job.width, job.in_channels, job.out_channels, job.a_bits, pw,
                      pw * (job.height + 2), job.height * job.width, padded)


def fit_problem(adapter_cls, job_or_shape, a_bits: int | None = None, name: str | None = None,
                declares: str = "(Geometry.multi_tile=False)"):
    """Why a layer does not fit a core (None when it does). adapter_cls: an adapter class or instance;
    job_or_shape: a LayerJob (its expected values are checked against psum_bits too) or anything with
    in_channels, out_channels and height (a_bits given, else its a_bits)."""
    g = adapter_cls.geometry
    name = name or getattr(adapter_cls, "__name__", type(adapter_cls).__name__)
    shape = job_or_shape
    what = getattr(shape, "name", None) or str(shape)
    try:
        per_tile = tile_rows(g, a_bits or shape.a_bits)
    except AdapterError as e:
        return f"layer {what}: {e}"
    if not g.multi_tile and shape.in_channels > per_tile:
        return (f"layer {what} needs several input-channel tiles; {name} declares a single-tile {g.rows}x{g.cols} "
                f"core {declares}")
    if shape.out_channels > g.cols and not runs_output_tiles(adapter_cls):
        return (f"layer {what} needs several output-channel tiles; {name} overrides run_layer and declares a "
                f"single-tile {g.rows}x{g.cols} core {declares}")
    if g.max_side is not None and shape.height > g.max_side:
        return f"layer {what}: input side {shape.height} exceeds {name}'s max_side={g.max_side}"
    expected = getattr(shape, "expected", None) or {}
    lo, hi = -(1 << (g.psum_bits - 1)), (1 << (g.psum_bits - 1)) - 1
    for kind in ("psum", "sum", "relu"):
        e = expected.get(kind)
        e = None if e is None else np.asarray(e)       # a tensor, or a stored job's array
        if e is not None and e.size and (int(e.min()) < lo or int(e.max()) > hi):
            v = int(e.min()) if int(e.min()) < lo else int(e.max())
            return (f"layer {what}: an expected {kind} value ({v}) does not fit {name}'s psum_bits={g.psum_bits} "
                    f"({lo} .. {hi})")
    return None


def tile_rows(g: Geometry, a_bits: int) -> int:
    """Input channels per tile for a layer with a_bits-bit activations: the rows, doubled in 2-bit mode."""
    if a_bits == g.a_bits:
        return g.rows
    if a_bits * 2 == g.a_bits and g.two_bit:
        return 2 * g.rows
    raise AdapterError(f"{a_bits}-bit activations: this core takes {g.a_bits}-bit"
                       + ("" if g.two_bit else " only (no 2-bit mode)"))


class CoreAdapter:
    """Base class of core adapters. `self.dut` is the cocotb handle of the core's top level."""

    geometry: Geometry = Geometry(rows=8, cols=8)
    # the kinds this adapter reports, when not what psum_monitor implies (psum, sum, relu with it; output_kind
    # without it): e.g. ("psum", "relu"), a psum port and an output port after ReLU, no sum port
    reports: tuple | None = None
    # what outputs() returns: "relu", the outputs after ReLU (the course cores), or "sum", the sums before
    # it (a core whose output port shows the raw sum); the checker compares them as that kind
    output_kind: str = "relu"
    # Verilog parameters of the top that the core must be built with ({"nij_len": 36}); --param beats them
    params: dict = {}

    def __init__(self, dut, **options):
        self.dut = dut
        self.options = options
        self.log = dut._log
        self.cycles = {}            # filled by run_layer: first_input, first_command, last_output
        self.layer: LayerFacts | None = None    # the running layer (default flow), for the hooks
        self._at = None             # (sink, image, oc_tile, kij) while the default flow runs

    # ---------------------------------------------------------------------------------------- reporting
    def report_psum(self, p: int, values) -> None:
        """From run_kernel (default flow): the psums of padded position p at the kernel position running."""
        sink, n, o, kij = self._where("report_psum")
        sink.psum(n, o, 0, kij, int(p), _values(values), f"cycle {now_cycle()}")

    def report_sum(self, o_nij: int, values) -> None:
        """From outputs() (default flow): the sum before ReLU of output position o_nij."""
        sink, n, o, _ = self._where("report_sum")
        sink.sum(n, o, int(o_nij), _values(values), f"cycle {now_cycle()}")

    def _where(self, what):
        if self._at is None:
            raise AdapterError(f"{what}() is for the hooks of the default run_layer; an adapter that overrides "
                               f"run_layer reports with sink.psum / sink.sum")
        return self._at

    # ---------------------------------------------------------------------------------------- hooks
    async def start(self):
        raise NotImplementedError("start(): start the clock, set pin defaults, reset the core")

    async def load_activations(self, tile):
        raise NotImplementedError("load_activations(tile): write one input-channel tile")

    async def run_kernel(self, kij, weights):
        raise NotImplementedError("run_kernel(kij, weights): load one kernel position's weights and stream")

    async def outputs(self):
        raise NotImplementedError("outputs(): accumulate, and return [(o_nij, values)] as the core emits them")

    async def set_mode(self, a_bits):
        raise NotImplementedError("set_mode(a_bits): select the core's 4-bit or 2-bit activation mode "
                                  "(geometry.two_bit)")

    def streamed_psums(self, job):
        """Per kij, the padded positions whose psums this core reports (default: every position)."""
        return None

    # ---------------------------------------------------------------------------------------- default flow
    async def run_layer(self, job, sink):
        """Flow of the course cores: (set_mode,) then per image load the activations and, per output-channel
        tile, run the nine kernel positions and read the outputs (an output tile needs nothing of the one
        before it). Several input-channel tiles need a core that accumulates across them
        (geometry.multi_tile) and an adapter that overrides this method. self.job is the layer running."""
        if job.n_ic != 1:
            raise AdapterError(f"{type(self).__name__}: layer has {job.n_ic} input-channel tiles; this adapter "
                               f"runs one ({job.rows} input channels on {self.geometry.rows} rows)")
        self.job, self.layer = job, layer_facts(job)
        if self.geometry.two_bit:
            await self.set_mode(job.a_bits)
        self.cycles["first_input"] = now_cycle()
        report = sink.sum if self.output_kind == "sum" else sink.output
        try:
            for n in range(job.images):
                self._at = (sink, n, 0, None)
                await self.load_activations(job.a_tiles[n, 0].tolist())
                for o in range(job.n_oc):
                    for kij in range(9):
                        self._at = (sink, n, o, kij)
                        await self.run_kernel(kij, job.w_tiles[0, o, :, :, kij].tolist())
                    self._at = (sink, n, o, None)
                    for o_nij, values in await self.outputs():
                        # an X/Z lane (helpers.Unknown) keeps the cycle it was read at
                        report(n, o, int(o_nij), _values(values))
                        self.cycles["last_output"] = now_cycle()
        finally:
            self._at = None

    run_layer.output_tiles = True   # runs layers of several output-channel tiles (runs_output_tiles)


def _values(values) -> list:
    """Lanes as reported: ints, or strings (helpers.Unknown) for lanes that held X or Z."""
    return [v if isinstance(v, str) else int(v) for v in values]


def runs_output_tiles(adapter) -> bool:
    """Whether an adapter (class or instance: an instance may set its own geometry) runs layers of more output
    channels than its columns: a multi-tile core, or a flow that runs the output tiles one after another (the
    default run_layer, or one marked like it)."""
    cls = adapter if isinstance(adapter, type) else type(adapter)
    return adapter.geometry.multi_tile or getattr(cls.run_layer, "output_tiles", False)


def pair_lanes(channels, lane_bits: int = 4) -> list[int]:
    """2-bit mode, the course's packing: 2R channel values -> R lanes, lane r = channel 2r in the low half
    (bits lane_bits/2 - 1 .. 0) and channel 2r + 1 in the high half."""
    half = lane_bits // 2
    if len(channels) % 2:
        raise ValueError(f"pair_lanes: {len(channels)} channels, not an even number")
    return [int(channels[2 * r]) | int(channels[2 * r + 1]) << half for r in range(len(channels) // 2)]


def build_params(cls) -> dict:
    """The Verilog parameters an adapter class asks its core to be built with: the [params] of its
    configuration (a SkeletonAdapter subclass naming one, or what --config runs), then its `params`;
    accel-byoc's --param beats both. Values as strings (the runner's form)."""
    cfg_params = getattr(getattr(cls, "config", None), "params", None) or {}
    return {k: str(v) for k, v in {**cfg_params, **cls.params}.items()}


def geometry_problem(g) -> str | None:
    """What is wrong with an adapter's `geometry` (one line), or None: a Geometry whose sizes are integers in the
    ranges the flow takes (a psum_bits of 0 or a cols of "8" stopped with a traceback deep in the run)."""
    if not isinstance(g, Geometry):
        return f"geometry is a {type(g).__name__}, not an accel_tb.adapter.Geometry(rows=..., cols=...)"
    for name, lo, hi in (("rows", 1, 64), ("cols", 1, 64), ("a_bits", 1, 8), ("w_bits", 2, 8), ("psum_bits", 2, 64)):
        v = getattr(g, name)
        if isinstance(v, bool) or not isinstance(v, int) or not lo <= v <= hi:
            return f"Geometry.{name} = {v!r}: must be an integer in {lo}..{hi}"
    if g.max_side is not None and (isinstance(g.max_side, bool) or not isinstance(g.max_side, int) or g.max_side < 1):
        return f"Geometry.max_side = {g.max_side!r}: must be an integer >= 1, or None (any side)"
    for name in ("multi_tile", "two_bit", "output_stationary", "psum_monitor"):
        if not isinstance(getattr(g, name), bool):
            return f"Geometry.{name} = {getattr(g, name)!r}: must be True or False"
    return None


def check_hooks(cls) -> None:
    """An adapter implements start() and either run_layer() or the hooks it drives (set_mode too when it
    declares a 2-bit mode), and declares a sound geometry; a missing hook or a bad size is said before
    anything is built (the default raises NotImplementedError inside the simulation)."""
    if why := geometry_problem(getattr(cls, "geometry", None)):
        raise AdapterError(f"adapter {cls.__name__}: {why}")
    missing = [] if cls.start is not CoreAdapter.start else ["start()"]
    if getattr(cls.run_layer, "output_tiles", False):    # the default flow, or one that calls it
        hooks = ("load_activations", "run_kernel", "outputs") + (("set_mode",) if cls.geometry.two_bit else ())
        missing += [f"{h}()" for h in hooks if getattr(cls, h) is getattr(CoreAdapter, h)]
    if missing:
        raise AdapterError(f"adapter {cls.__name__}: {', '.join(missing)} not implemented (see accel_tb/adapter.py)")


def load_adapter_class(spec: str):
    """'path/to/file.py:ClassName' or 'path/to/file.py' (its one CoreAdapter subclass) or 'module:Class'."""
    path, _, cls_name = spec.partition(":") if not spec.endswith(".py") else (spec, "", "")
    if path.endswith(".py"):
        file = Path(path)
        if not file.is_file():
            raise AdapterError(f"adapter {file}: file not found")
        mod_name = f"accel_user_adapter_{abs(hash(str(file.resolve())))}"
        spec_ = importlib.util.spec_from_file_location(mod_name, file)
        module = importlib.util.module_from_spec(spec_)
        sys.modules[mod_name] = module
        try:
            spec_.loader.exec_module(module)
        except Exception as e:
            hint = ""
            if type(e).__name__ == "ConfigError" and str(e).endswith(": file not found") and \
                    not Path(str(e).removesuffix(": file not found")).is_absolute():
                # load_config("team.toml") in the adapter reads from where the command runs, not beside the adapter
                name = Path(str(e).removesuffix(": file not found")).name
                hint = (f" (a relative path is read from the working folder {Path.cwd()}, not the adapter's; "
                        f"name the file beside it as load_config(Path(__file__).with_name({name!r})))")
            raise AdapterError(f"adapter {file}: import failed: {type(e).__name__}: {e}{hint}") from e
    else:
        given = Path(path)
        usage = "an adapter is path/to/adapter.py[:ClassName] or an importable module[:ClassName]"
        if not path.strip():
            raise AdapterError(f"adapter {spec}: no file or module before ':' ({usage})")
        importable = all(part.isidentifier() for part in path.split("."))
        try:
            found = importlib.util.find_spec(path) if importable else None
            # a folder without __init__.py imports as an empty namespace package: a folder, not an adapter
            on_path = found is not None and (found.origin is not None or not given.is_dir())
        except ModuleNotFoundError:         # a parent that is no module ("c" of c.toml)
            on_path = False
        except Exception:  # noqa: BLE001 -- a parent package failing to import: said by the import below
            on_path = importable
        if not on_path:    # an importable module or package (a folder of that name on sys.path) is taken as such
            if given.is_dir():
                raise AdapterError(f"adapter {path}: a folder; give the adapter's .py file ({usage})")
            if given.exists():
                hint = "; a .toml describing a course-skeleton core goes to --config" if given.suffix == ".toml" else ""
                raise AdapterError(f"adapter {path}: not a Python file (.py){hint}")
            if "/" in path or os.sep in path or path.startswith(".") or not importable:
                raise AdapterError(f"adapter {path}: file not found ({usage})")
        try:
            module = importlib.import_module(path)
        except ImportError as e:
            raise AdapterError(f"adapter module {path}: {e} ({usage})") from e
        except Exception as e:          # the module's own code failed on import: one line, as for a file
            raise AdapterError(f"adapter module {path}: import failed: {type(e).__name__}: {e}") from e
    classes = [c for _, c in inspect.getmembers(module, inspect.isclass)
               if issubclass(c, CoreAdapter) and c is not CoreAdapter and c.__module__ == module.__name__]
    if cls_name:
        found = [c for c in classes if c.__name__ == cls_name]
        if not found:
            raise AdapterError(f"adapter {spec}: no CoreAdapter subclass named {cls_name} "
                               f"(found: {[c.__name__ for c in classes]})")
        return found[0]
    if len(classes) != 1:
        raise AdapterError(f"adapter {path}: expected one CoreAdapter subclass, found "
                           f"{[c.__name__ for c in classes] or 'none'}; name it as {path}:ClassName")
    return classes[0]
