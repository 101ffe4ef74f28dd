"""The core-adapter API: how any accelerator core runs under this environment's checks.

An adapter knows one core's pins and protocol and nothing about golden values. It declares the core's
geometry and capabilities and implements a few async hooks; the environment (accel_tb.env) builds the
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
each output tile is its own pass over the loaded activations), reporting what outputs() returns.
Cores that sequence whole layers themselves override run_layer instead (this project's own core does).

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
import sys
from dataclasses import dataclass
from pathlib import Path

from .sim import now_cycle


# what an adapter's outputs() returns, as the summary words it: the outputs after ReLU (every course core),
# or the sums before it
OUTPUT_WORDS = {"relu": "outputs", "sum": "sums before ReLU"}


class AdapterError(RuntimeError):
    """An adapter file that cannot be loaded or does not implement the API."""


@dataclass(frozen=True)
class Geometry:
    """What the core is and can do."""
    rows: int                       # input channels per tile (array rows)
    cols: int                       # output channels per tile (array columns)
    a_bits: int = 4                 # unsigned activation bits
    w_bits: int = 4                 # signed weight bits
    psum_bits: int = 16             # width of one output lane as the core reports it
    max_side: int | None = 4        # largest input height/width (H = W) it holds; None = any
    multi_tile: bool = False        # layers with more than rows input / cols output channels
    two_bit: bool = False           # a 2-bit activation mode (2*rows input channels per tile; set_mode())
    output_stationary: bool = False
    psum_monitor: bool = False      # reports psums (sink.psum) besides outputs


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
        self.job = job
        if self.geometry.two_bit:
            await self.set_mode(job.a_bits)
        self.cycles["first_input"] = now_cycle()
        report = sink.sum if self.output_kind == "sum" else sink.output
        for n in range(job.images):
            await self.load_activations(job.a_tiles[n, 0].tolist())
            for o in range(job.n_oc):
                for kij in range(9):
                    await self.run_kernel(kij, job.w_tiles[0, o, :, :, kij].tolist())
                for o_nij, values in await self.outputs():
                    report(n, o, int(o_nij), [v if isinstance(v, str) else int(v) for v in values])
                    self.cycles["last_output"] = now_cycle()

    run_layer.output_tiles = True   # runs layers of several output-channel tiles (runs_output_tiles)


def runs_output_tiles(cls) -> bool:
    """Whether an adapter class runs layers of more output channels than its columns: a multi-tile core, or
    a flow that runs the output tiles one after another (the default run_layer, or one marked like it)."""
    return cls.geometry.multi_tile or getattr(cls.run_layer, "output_tiles", False)


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


def check_hooks(cls) -> None:
    """An adapter implements start() and either run_layer() or the hooks it drives (set_mode too when it
    declares a 2-bit mode); a missing one is said before anything is built (the default raises
    NotImplementedError inside the simulation)."""
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
            raise AdapterError(f"adapter {file}: import failed: {type(e).__name__}: {e}") from e
    else:
        try:
            module = importlib.import_module(path)
        except ImportError as e:
            raise AdapterError(f"adapter module {path}: {e}") from e
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
