"""The layer checker: what a core must produce for one conv layer, keyed in the layer's own coordinates, and
three keyed scoreboards that judge each value as it appears.

Keys, whatever the core:
  psum  (image, oc_tile, ic_tile, kij, p)   p = padded input position (row-major over (H+2) x (W+2))
  sum   (image, oc_tile, o_nij)             the accumulated output before ReLU (COLS lanes)
  relu  (image, oc_tile, o_nij)             what the output port sends (ReLU'd when the layer has ReLU)

Expected values come from golden_py (a checkpoint's layer, or random integers) or from a course-format
folder's files. A kind the input does not provide is reported as "not provided" and checks nothing; a
folder's psum values at positions the core never streams are verified against the folder's own activation
and weight files instead, and named file:line when they contradict them.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np

from accel_tb.vip.scoreboard import KeyedScoreboard
from golden_py import observability

if TYPE_CHECKING:     # golden_py is imported where a job is computed, torch only where a checkpoint is read: a
    from golden_py.tiling import TiledLayer  # simulation of a stored job or of a folder imports neither

KINDS = ("psum", "sum", "relu")


def signed_bits(lo: int, hi: int) -> int:
    """The two's-complement width that holds every integer from lo to hi (1 for 0..0, 2 for -2..1)."""
    return max(hi.bit_length() if hi > 0 else 0, (-lo - 1).bit_length() if lo < 0 else 0) + 1


class CheckFailed(AssertionError):
    """A run's findings, each already said in its summary: the cocotb test fails on it, and its log line carries
    the message without a Python traceback (accel_tb.cocotb_tests drops it: a student read every FAIL as a crash
    of the tool, a probe)."""
    said_in_summary = True


@dataclass
class LayerJob:
    """One conv layer (3x3, pad 1, stride 1) for N images, tiled for a rows x cols array."""
    name: str
    rows: int
    cols: int
    in_channels: int
    out_channels: int
    height: int
    width: int
    # integer numpy arrays (int64), whatever made the job (golden_py's tiling, a folder, a stored job)
    a_tiles: np.ndarray              # (N, n_ic, R, P) activations per image, input-channel tile, padded position
    w_tiles: np.ndarray              # (n_ic, n_oc, C, R, 9)
    relu: bool = True
    a_bits: int = 4
    expected: dict = field(default_factory=dict)   # kind -> array, or absent when not provided
    folder: object = None            # golden_py.coursefmt.CourseVectors when replaying a folder
    # how the job is run (not what it computes): the dataflow ('auto': the faster by the cycle models), the
    # mapping's layout variant (accel_host.mapping.Layout; None: the default), and, in a negative test, the
    # expectation that was corrupted on purpose
    dataflow: str = "ws"
    layout: object = None
    corrupted: str | None = None
    # the images' own numbers (a checkpoint's test-set indices) for the reports; None: 0..N-1 (a folder, a draw)
    image_ids: tuple | None = None

    @property
    def images(self) -> int:
        return self.a_tiles.shape[0]

    @property
    def n_ic(self) -> int:
        return self.w_tiles.shape[0]

    @property
    def n_oc(self) -> int:
        return self.w_tiles.shape[1]

    @property
    def padded_width(self) -> int:
        return self.width + 2

    @property
    def macs(self) -> int:
        return self.in_channels * self.out_channels * 9 * self.height * self.width

    def as_arrays(self) -> LayerJob:
        """The job with numpy arrays (int64) for its activations, weights and expected values, whatever made
        it (golden_py's tensors, or a stored job): what the checker and every adapter see (self.job)."""
        self.a_tiles, self.w_tiles = np.asarray(self.a_tiles), np.asarray(self.w_tiles)
        self.expected = {k: np.asarray(v) for k, v in self.expected.items()}
        return self

    def tiles(self, image: int) -> TiledLayer:
        from golden_py.tiling import compute_tiles  # noqa: PLC0415
        return compute_tiles(self.a_tiles[image], self.w_tiles, self.height, self.width,
                             in_channels=self.in_channels, out_channels=self.out_channels)

    def padded_nij(self, o_nij: int, kij: int) -> int:
        oi, oj = divmod(o_nij, self.width)
        return (oi + kij // 3) * self.padded_width + oj + kij % 3


def job_from_ints(name: str, a_int, w_int, rows: int, cols: int, relu: bool = True,
                  a_bits: int = 4, psums: bool = True) -> LayerJob:
    """A layer from integer activations (N, IC, H, W) and weights (OC, IC, 3, 3) (numpy arrays or torch
    tensors); expected values computed by golden_py's tiling reference (psums only when asked: the whole
    network does not monitor them, and its sums come from torch's convolution)."""
    from golden_py.tiling import ints, tile_activations, tile_weights  # noqa: PLC0415
    if not psums:
        raw = _conv_outputs(a_int, w_int, cols)
    a_int, w_int = ints(a_int), ints(w_int)
    n, ic, h, w = a_int.shape
    oc = w_int.shape[0]
    a_t = np.stack([tile_activations(a_int[i], rows) for i in range(n)])
    w_t = tile_weights(w_int, rows, cols)
    job = LayerJob(name, rows, cols, ic, oc, h, w, a_t, w_t, relu=relu, a_bits=a_bits)
    if psums:
        tiles = [job.tiles(i) for i in range(n)]
        raw = np.stack([t.out_tiles() for t in tiles])                       # (N, n_oc, C, HW)
        job.expected = {"psum": np.stack([t.psum for t in tiles])}         # (N, n_ic, n_oc, C, P, 9)
    else:
        job.expected = {}
    job.expected.update({"sum": raw, "relu": np.maximum(raw, 0) if relu else raw})
    return job


def _conv_outputs(a_int, w_int, cols: int) -> np.ndarray:
    """(N, n_oc, C, HW) accumulated outputs straight from a 3x3 convolution (padding 1), zero rows for padded
    channels: without psums to check, the per-kij psum tensor that the tiled reference sums (einsum over every
    tile, position and kij) is not needed; 0.9 s of golden work per image over the whole network becomes
    about a tenth of that. float64 is exact here, as in compute_tiles (|sum| << 2^53)."""
    import torch  # noqa: PLC0415
    n, _, h, w = a_int.shape
    oc = w_int.shape[0]
    a_int, w_int = torch.as_tensor(a_int), torch.as_tensor(w_int)
    out = torch.nn.functional.conv2d(a_int.double(), w_int.double(), padding=1).round().long()   # (N, OC, H, W)
    n_oc = -(-oc // cols)
    raw = np.zeros((n, n_oc * cols, h * w), dtype=np.int64)
    raw[:, :oc] = out.reshape(n, oc, h * w).numpy()
    return raw.reshape(n, n_oc, cols, h * w)


def job_from_folder(v, relu: bool = True) -> LayerJob:
    """A course-format folder (golden_py.coursefmt.CourseVectors): its files are the expectation."""
    side = v.side
    job = LayerJob(f"golden vectors {v.folder}" + (f" ({v.a_bits}-bit activations)" if v.a_bits != 4 else ""),
                   v.channels, v.cols, v.n_ic * v.channels, v.n_oc * v.cols, side, side, v.a_tiles[None], v.w_tiles,
                   relu=relu, a_bits=v.a_bits, folder=v)
    given = {"psum": v.psum, "sum": v.out_raw, "relu": v.out}
    job.expected = {k: given[k][None] for k in v.expected_kinds}
    return job


class LayerChecker:
    """Scoreboards for the kinds a job provides, fed by a core adapter through psum() / sum() / output()."""

    def __init__(self, job: LayerJob, log=print, streamed=None, kinds=KINDS, max_reports: int = 20,
                 unchecked_reason: str = "not monitored in this run"):
        """streamed: per kij, the padded positions whose psums the core streams (default: all)."""
        self.job, self.log = job, log
        self.unchecked_reason = unchecked_reason
        self.kinds = [k for k in kinds if k in job.expected]
        self.not_provided = [k for k in KINDS if k not in job.expected]
        self.not_monitored = [k for k in KINDS if k in job.expected and k not in kinds]
        p = job.padded_width * (job.height + 2)
        self.streamed = streamed if streamed is not None else [list(range(p))] * 9
        self.scoreboards: dict[str, KeyedScoreboard] = {}
        for kind in self.kinds:
            label = "out" if kind == "relu" and not job.relu else kind
            describe = self.describe_psum if kind == "psum" else (lambda key, k=kind: self.describe_out(key, k))
            sb = KeyedScoreboard(label, describe, log=log,
                                 max_reports=max_reports)
            self.scoreboards[kind] = sb
        self._expect()
        self.folder_check = self._folder_consistency()
        self.observers: list = []       # called with every observation too (functional coverage)
        self.assertions = None          # (fired invariant names, invariants checked), from the adapter
        self.x_seen = None              # outputs seen holding X/Z (4-state check), when it ran
        self.stopped = None             # why the adapter stopped before the layer's end (an X/Z it could not read)
        self.finished_unchecked = None  # why an output-stationary run's finished sums went uncompared
        self._finished_relu = False     # ... or compared through ReLU (a folder that gives outputs only)

    # ------------------------------------------------------------------------------------------ expectations
    def _expect(self):
        j = self.job
        if "psum" in self.scoreboards:
            ps = j.expected["psum"]                                        # (N, n_ic, n_oc, C, P, 9)
            given = j.folder.psum_mask if j.folder is not None else None   # a folder may give some positions only
            self.scoreboards["psum"].expect_all({
                (n, o, i, k, p): ps[n, i, o, :, p, k].tolist()
                for n in range(j.images) for o in range(j.n_oc) for i in range(j.n_ic)
                for k in range(9) for p in self.streamed[k] if given is None or given[i, o, 0, p, k]})
        for kind in ("sum", "relu"):
            if kind in self.scoreboards:
                self.scoreboards[kind].expect_all(self._by_position(j.expected[kind]))

    def _by_position(self, e) -> dict:
        """(N, n_oc, C, HW) expected outputs -> {(image, oc_tile, output position): the C lanes}."""
        j = self.job
        flat = np.asarray(e).transpose(0, 1, 3, 2).reshape(-1, j.cols).tolist()
        keys = [(n, o, q) for n in range(j.images) for o in range(j.n_oc) for q in range(j.height * j.width)]
        return dict(zip(keys, flat))

    def _folder_consistency(self):
        """Every number a folder gives that the core does not report (psums at positions the core never
        streams, or of a core that reports outputs only; sums of a core without a sum port; twin files) is
        checked against the folder's own activation and weight files, so that nothing it holds goes unchecked
        whichever command replays it."""
        v = self.job.folder
        if v is None:
            return None
        from golden_py.folder_check import check_vectors  # noqa: PLC0415
        kinds = [k for k in ("sum", "relu") if k not in self.scoreboards]
        mask = None
        if v.psum is not None:
            kinds.append("psum")
            mask = np.ones_like(v.psum, dtype=bool)
            if "psum" in self.scoreboards:
                for k, positions in enumerate(self.streamed):
                    mask[:, :, :, positions, k] = False
        rep = check_vectors(v, only=mask, kinds=kinds)
        for p in rep.problems:
            self.log(f"folder MISMATCH {p}")
        return rep

    # ------------------------------------------------------------------------------------------ observations
    def psum(self, image, oc_tile, ic_tile, kij, p, values, time=""):
        sb = self.scoreboards.get("psum")
        given = self.job.folder.psum_mask if self.job.folder is not None else None
        # a folder that gives some psums only (notebook 003's psum_{k}.txt, notebook 000's psum.txt): the
        # core's psums elsewhere have nothing to be compared with, and are not counted as unexpected
        if sb is not None and (given is None or not (0 <= ic_tile < given.shape[0] and 0 <= oc_tile < given.shape[1]
                                                     and 0 <= kij < 9 and 0 <= p < given.shape[3])
                               or given[ic_tile, oc_tile, 0, p, kij]):
            sb.observe((image, oc_tile, ic_tile, kij, p), values, time)
        for o in self.observers:
            o.psum(image, oc_tile, ic_tile, kij, p, values)

    def expect_finished_sums(self):
        """An output-stationary run: the core's psum port carries each position's finished sum (one vector per
        position, tagged with its block and row) instead of psums. Each is compared, on a scoreboard of its own
        ('os_psum'), with the expected sum of its position (kind 'sum'), or, when a folder gives only outputs,
        with the expected output through the layer's ReLU; with neither, only the vectors' tags are checked
        (the adapter's) and the values are reported as not checked."""
        if "os_psum" in self.scoreboards:
            return
        j = self.job
        sb = KeyedScoreboard("os_psum", lambda key: self.describe_out(key, "sum"), log=self.log)
        self._finished_relu = False
        if "sum" in j.expected:
            sb.expect_all(self._by_position(j.expected["sum"]))
        elif "relu" in j.expected:
            sb.expect_all(self._by_position(j.expected["relu"]))
            self._finished_relu = j.relu
        else:
            self.finished_unchecked = "no sums or outputs given to compare the finished sums with"
            self.log(f"os_psum: values not checked ({self.finished_unchecked}); their tags are")
        self.scoreboards["os_psum"] = sb

    def finished_sum(self, image, oc_tile, o_nij, values, time=""):
        """A finished output-stationary sum seen on the psum port (see expect_finished_sums)."""
        sb = self.scoreboards["os_psum"]       # KeyError: the adapter did not call expect_finished_sums
        if self.finished_unchecked:
            return
        if self._finished_relu:
            values = [max(v, 0) if isinstance(v, int) else v for v in values]
        sb.observe((image, oc_tile, o_nij), values, time)

    def sum(self, image, oc_tile, o_nij, values, time=""):
        sb = self.scoreboards.get("sum")
        if sb is not None:
            sb.observe((image, oc_tile, o_nij), values, time)
        for o in self.observers:
            o.sum(image, oc_tile, o_nij, values)

    def output(self, image, oc_tile, o_nij, values, time=""):
        sb = self.scoreboards.get("relu")
        if sb is not None:
            sb.observe((image, oc_tile, o_nij), values, time)
        for o in self.observers:
            o.output(image, oc_tile, o_nij, values)

    def rtl_checks(self, fired: list[str], checked: int, x_seen=None):
        """The core's own simulation checks (RTL assertions) and the 4-state check, reported by the adapter."""
        self.assertions = (list(fired), checked)
        if fired:
            self.log(f"RTL ASSERTION fired: {', '.join(fired)}")
        if x_seen is not None:
            self.x_seen = list(x_seen)
            for cycle, port, value in self.x_seen[:5]:
                self.log(f"4-STATE: {port} = {value} at cycle {cycle}")

    def adapter_stopped(self, why: str):
        self.stopped = why
        self.log(f"ADAPTER STOPPED: {why}")

    def unexpected(self, kind: str, what: str, values, time=""):
        """An observation the adapter could not place in the layer (e.g. an unknown command id)."""
        sb = self.scoreboards.get(kind)
        if sb is not None:
            sb.observe(("?", what), values, time)

    # ------------------------------------------------------------------------------------------ reporting
    def _image(self, n) -> str:
        """Image n of the job as the user gave it (`accel-run --image 3`: image 3, not the run's image 0)."""
        ids = self.job.image_ids
        return f"image {ids[n]}" if ids is not None and 0 <= n < len(ids) else f"image {n}"

    def _channels(self, oc_tile):
        c = self.job.cols
        return f"channels {oc_tile * c}-{oc_tile * c + c - 1}"

    def describe_psum(self, key) -> str:
        if key[0] == "?":
            return str(key[1])
        n, o, i, k, p = key
        pr, pc = divmod(p, self.job.padded_width)
        s = f"{self._image(n)} oc tile {o} ({self._channels(o)}) ic_tile={i} kij={k} nij={p} (padded row {pr}, col {pc})"
        v = self.job.folder
        if v is not None and v.psum_files:
            s += f" [{v.psum_line(i, o, k, p)}]"
        return s

    def describe_out(self, key, kind: str = "relu") -> str:
        """An output position; for a folder, the line of the file that gives this kind (sums or after ReLU)."""
        if key[0] == "?":
            return str(key[1])
        n, o, q = key
        y, x = divmod(q, self.job.width)
        s = f"{self._image(n)} oc tile {o} ({self._channels(o)}) output nij={q} (y={y}, x={x})"
        v = self.job.folder
        if v is not None and v.out_files:
            m = v.out_files.get(("raw" if kind == "sum" else "relu", o))
            s += f" [{m.where(q)}]" if m is not None else ""
        return s

    @property
    def errors(self) -> int:
        n = sum(sb.errors for sb in self.scoreboards.values())
        n += len(self.assertions[0]) if self.assertions else 0
        n += len(self.x_seen) if self.x_seen else 0
        n += 1 if self.stopped else 0
        return n + (self.folder_check.mismatches if self.folder_check else 0)

    @property
    def compared(self) -> int:
        return sum(sb.compared for sb in self.scoreboards.values()) + (
            self.folder_check.total if self.folder_check else 0)

    def unobservable_weights(self) -> tuple[int, int, list[tuple[int, int]]] | None:
        """Weights no run of this job can check: those of an input channel and kernel position that meet only
        zero activations, in every image, at every position a comparison reads (the output positions, and the
        padded positions whose psums are compared): a wrong one changes no value checked. (count, weights of the
        layer, the (input channel, kernel position) pairs); None where the activation and weight layouts differ
        (not judged). Counted once (the summary and the report both say it)."""
        if not hasattr(self, "_unobservable"):
            self._unobservable = self._count_unobservable()
        return self._unobservable

    def _compared_outputs(self) -> tuple[bool, bool]:
        """(sums compared, outputs after ReLU compared): the sum and relu scoreboards, and an output-stationary
        run's finished sums as the one or the other (through ReLU where the folder gives outputs only; neither
        where they went uncompared)."""
        finished = "os_psum" in self.scoreboards and not self.finished_unchecked
        return ("sum" in self.scoreboards or (finished and not self._finished_relu),
                "relu" in self.scoreboards or (finished and self._finished_relu))

    def _count_unobservable(self):
        job = self.job
        given = job.folder.psum_mask if job.folder is not None else None   # a folder may give some psums only
        positions = observability.psum_positions(given, self.streamed if "psum" in self.scoreboards else None)
        # outputs reach a comparison only where an accumulated value is compared (a folder of psums alone, or
        # of kernel position 0's psum.txt, compares none: the other positions' weights were counted as checked)
        counted = observability.unobservable(job.a_tiles, job.w_tiles, job.height, job.width, job.in_channels,
                                             job.out_channels, any(self._compared_outputs()), positions)
        if counted is None:
            return None
        self._seen_psum = counted[3]
        return counted[:3]

    def value_ranges(self) -> dict[str, tuple[int, int, int]]:
        """kind -> (least, greatest, two's-complement bits they need) of the expected values of each kind compared
        (psum, sum, relu; an output-stationary run's finished sums as os_psum): a core that loses the bits above
        them passes this run (a probe: sums wrapped at 8 bits passed one image of layer 27, whose sums need 9), so
        the summary says how wide the expected values were."""
        out = {}
        finished = "os_psum" in self.scoreboards and not self.finished_unchecked
        sources = {"psum": "psum", "sum": "sum", "relu": "relu",
                   "os_psum": ("relu" if self._finished_relu else "sum") if finished else None}
        for kind, source in sources.items():
            values = self.job.expected.get(source) if kind in self.scoreboards and source else None
            if values is not None and np.size(values):
                lo, hi = int(np.min(values)), int(np.max(values))
                out[kind] = (lo, hi, signed_bits(lo, hi))
        return out

    def clamped_weights(self) -> int:
        """Weights seen only through outputs after the ReLU (no sum compared, nor a psum of theirs) whose every
        output they reach is held at 0 in this run (golden_py.observability.clamped): a wrong one that keeps those
        sums <= 0 changes no value checked (a probe: 248 of 576 sign flips passed a folder of out.txt alone, where
        the summary named only the 144 that meet zero activations). 0 where sums are compared."""
        if not hasattr(self, "_clamped"):
            self._clamped = 0
            sums, relu = self._compared_outputs()
            if relu and not sums and self.unobservable_weights() is not None:
                job = self.job
                self._clamped = observability.clamped(job.a_tiles, job.w_tiles, job.height, job.width,
                                                      job.in_channels, job.out_channels, self._seen_psum)
        return self._clamped

    def derived(self) -> dict[str, str]:
        """The kinds whose expected values the folder does not give but that are derived from its other files
        (compared all the same, but not against a file of that kind)."""
        v = self.job.folder
        if v is None:
            return {}
        out = {"sum": "the psum files summed over kernel positions and input tiles (the folder has no sums file)"
               if v.sums_derived else None,
               "relu": "max(0, sum) of the sums (the folder has no after-ReLU file)" if v.relu_derived else None}
        return {k: why for k, why in out.items() if why}

    def summary_lines(self) -> list[str]:
        lines = []
        fc = self.folder_check
        derived = self.derived()
        for kind in KINDS:
            by_folder = fc.compared.get(kind) if fc is not None else None
            if kind in self.scoreboards:
                lines.append(self.scoreboards[kind].summary())
                if kind in derived:
                    lines.append(f"{kind}: expected values derived: {derived[kind]}")
                if by_folder is not None:
                    lines.append(f"{kind} at positions the core never streams: {by_folder} values checked against "
                                 f"the folder's activation x weight files")
            elif by_folder is not None:
                lines.append(f"{kind}: not reported by the core ({self.unchecked_reason}); {by_folder} values checked "
                             f"against the folder's activation x weight files")
            elif kind in self.not_monitored:
                lines.append(f"{kind}: provided but not checked ({self.unchecked_reason})")
            else:
                lines.append(f"{kind}: not provided")
        if "os_psum" in self.scoreboards:
            lines.append(f"os_psum: values not checked ({self.finished_unchecked}); tags checked"
                         if self.finished_unchecked else self.scoreboards["os_psum"].summary() +
                         " (output-stationary finished sums on the psum port" +
                         (", through ReLU: the folder gives outputs only)" if self._finished_relu else ")"))
        if fc is not None and "twin files" in fc.compared:
            lines.append(f"twin files: {fc.compared['twin files']} values checked against the files they repeat")
        hidden = self.unobservable_weights()
        lines += observability.summary_lines(hidden, self.clamped_weights() if hidden else 0,
                                             any(self._compared_outputs()))
        ranges = self.value_ranges()
        if ranges:
            lines.append("expected values span " + ", ".join(f"{k} {lo}..{hi} ({bits}-bit signed)"
                                                           for k, (lo, hi, bits) in ranges.items())
                         + ": a core that loses bits above these passes this run (more images or layers reach more)")
        if fc is not None and fc.compared:
            lines.append(f"folder consistency: {fc.total} values, {fc.mismatches} differences")
        v = self.job.folder
        if v is not None:
            lines.append(f"reading: {v.reading()}")
        if self.assertions is not None:
            fired, checked = self.assertions
            lines.append(f"rtl assertions: {checked} invariants checked every cycle, "
                         + (f"FIRED: {', '.join(fired)}" if fired else "none fired"))
        if self.stopped:
            lines.append(f"adapter stopped: {self.stopped}")
        if self.x_seen is not None:
            lines.append("4-state: every output port 0/1 on every cycle after reset" if not self.x_seen else
                         f"4-state: {len(self.x_seen)} X/Z values on output ports, first {self.x_seen[0][1]} at "
                         f"cycle {self.x_seen[0][0]}")
        return lines

    def report(self) -> dict:
        rep = {k: {"compared": sb.compared, "mismatches": sb.mismatches, "missing": len(sb.missing),
                   "duplicates": sb.duplicates, "unexpected": sb.unexpected, "reports": sb.reports[:20]}
               for k, sb in self.scoreboards.items()}
        rep["not_provided"] = self.not_provided
        rep["derived"] = self.derived()
        hidden = self.unobservable_weights()
        if hidden is not None:
            rep["weights_not_observable"] = {"count": hidden[0], "of": hidden[1],
                                             "channel_kernel_pairs": [list(map(int, p)) for p in hidden[2][:64]]}
            rep["weights_only_through_clamped_outputs"] = self.clamped_weights()
        rep["value_ranges"] = {k: {"min": lo, "max": hi, "bits": bits} for k, (lo, hi, bits) in self.value_ranges().items()}
        rep["not_checked"] = {k: self.unchecked_reason for k in self.not_monitored}
        if self.finished_unchecked:
            rep["not_checked"]["os_psum values"] = self.finished_unchecked
        if self.assertions is not None:
            rep["rtl_assertions"] = {"checked": self.assertions[1], "fired": self.assertions[0]}
        if self.stopped:
            rep["adapter_stopped"] = self.stopped
        if self.x_seen is not None:
            rep["four_state"] = {"x_or_z": len(self.x_seen), "first": [list(x) for x in self.x_seen[:5]]}
        if self.folder_check is not None:
            rep["folder_consistency"] = {"compared": self.folder_check.total, "by_kind": self.folder_check.compared,
                                         "mismatches": self.folder_check.mismatches,
                                         "reports": self.folder_check.problems,
                                         "firsts": list(self.folder_check.firsts.values())}
        return rep

    def assert_clean(self):
        bad = [sb.summary() for sb in self.scoreboards.values() if sb.errors]
        if self.assertions and self.assertions[0]:
            bad.append(f"RTL assertions fired: {', '.join(self.assertions[0])}")
        if self.stopped:
            bad.append(f"adapter stopped: {self.stopped}")
        if self.x_seen:
            bad.append(f"4-state: {len(self.x_seen)} X/Z values on output ports, first {self.x_seen[0][:2]}")
        if self.folder_check and self.folder_check.mismatches:
            bad.append(f"{self.folder_check.mismatches} values of the folder that the core does not report contradict "
                       f"the folder's other files (recomputed from its activation and weight files, or a twin against "
                       f"the file it repeats): " + "; ".join(self.folder_check.firsts.values()))
        if bad:
            raise CheckFailed("checker found errors:\n" + "\n".join(bad))
        assert self.compared > 0 and all(sb.compared > 0 for k, sb in self.scoreboards.items()
                                         if not (k == "os_psum" and self.finished_unchecked)), \
            "a checker compared nothing"

    def corrupt_one(self, kind: str = "relu") -> str:
        """Negative test: change one expected value; returns where."""
        sb = self.scoreboards[kind]
        key = sorted(k for k in sb.expected)[len(sb.expected) // 2]
        lane = min(3, len(sb.expected[key]) - 1)
        sb.expected[key] = list(sb.expected[key])
        sb.expected[key][lane] += 1
        desc = self.describe_psum(key) if kind == "psum" else self.describe_out(key, kind)
        return f"{desc} col={lane}"
