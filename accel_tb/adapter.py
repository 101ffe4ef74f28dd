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
run_layer drives the four hooks above for every image and tile pair, reporting what outputs() returns.
Cores that sequence whole layers themselves override run_layer instead (this project's own core does).
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
    two_bit: bool = False           # a 2-bit activation mode (2*rows input channels per tile)
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

    def streamed_psums(self, job):
        """Per kij, the padded positions whose psums this core reports (default: every position)."""
        return None

    # ---------------------------------------------------------------------------------------- default flow
    async def run_layer(self, job, sink):
        """Single-tile flow of the course cores: per image and tile pair, load activations, run the nine
        kernel positions, read the outputs. Multi-tile layers need a core that accumulates across input
        tiles (geometry.multi_tile) and an adapter that overrides this method."""
        if job.n_ic != 1 or job.n_oc != 1:
            raise AdapterError(f"{type(self).__name__}: layer has {job.n_ic} x {job.n_oc} tiles; this adapter "
                               f"runs single-tile layers ({self.geometry.rows} x {self.geometry.cols} channels)")
        self.cycles["first_input"] = now_cycle()
        for n in range(job.images):
            await self.load_activations(job.a_tiles[n, 0].tolist())
            for kij in range(9):
                await self.run_kernel(kij, job.w_tiles[0, 0, :, :, kij].tolist())
            report = sink.sum if self.output_kind == "sum" else sink.output
            for o_nij, values in await self.outputs():
                report(n, 0, int(o_nij), [v if isinstance(v, str) else int(v) for v in values])
                self.cycles["last_output"] = now_cycle()


def check_hooks(cls) -> None:
    """An adapter implements start() and either run_layer() or the three hooks it drives; a missing one is
    said before anything is built (the default raises NotImplementedError inside the simulation)."""
    missing = [] if cls.start is not CoreAdapter.start else ["start()"]
    if cls.run_layer is CoreAdapter.run_layer:
        missing += [f"{h}()" for h in ("load_activations", "run_kernel", "outputs")
                    if getattr(cls, h) is getattr(CoreAdapter, h)]
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
