"""A checkpoint layer's job (tiled activations and weights, expected psums, sums and outputs) kept on disk as
plain integer arrays, so that the simulations after the first one on the same layer need neither torch nor the
golden model: importing torch is about two thirds of a short core simulation (1.1-1.4 s of about 2 s,
measured with py-spy), and the regression runs layer 27 of image 0 in dozens of them.

What makes an entry (its file name is a SHA-256 over all of it): the checkpoint file's bytes, the layer, the
image indices, the geometry the job was tiled for, whether psums were asked, the source text of the code
that computes a job (golden_py, the checker, the environment and the adapter module's tiling rule) and the
installed torch's version. An image folder of the user's (`data_dir`) is never stored: only the bundled
samples, whose file is hashed too. A file that cannot be read back whole, whose arrays disagree with its own
header, or whose expected values disagree with its own activations and weights (verify) is computed again and
replaced; so is one written under another name (its header holds its key, images and layer: a copied entry) or
lacking a kind a checkpoint layer gives. What is not checked without torch: that the stored activations and
weights are the checkpoint's (an entry rewritten by hand to agree with itself is taken; build/ is trusted as the
user's own; `make clean` or removing build/golden recomputes every entry). The name a job carries (its first word the checkpoint file) is the one this run gives the file. Files are numpy .npz read with allow_pickle=False (nothing in them
is unpickled); each is written under a temporary name and renamed, so parallel simulations never see half of
one. `make clean` removes them with the rest of build/.

Under the jobs (layers/), each checkpoint layer's integer activations and weights for its images (LayerIntsEntry,
the same key without the geometry): a job for another geometry (a 4x4, 16x16 or 64x64 core, a course skeleton's)
is tiled from them in numpy, so torch runs once per layer and images rather than once per geometry. A layer
entry holds the convolution golden_py computed too, and is checked when read as a job is (load_layer).

Beside the jobs, each checkpoint's outline (checkpoint_outline: its modules' types, each conv's channels and
bits, keyed by the file's bytes, the same code and torch), which the commands check a layer choice against and
size a core by: a command on a checkpoint it has read before imports no torch either.
"""
from __future__ import annotations

import dataclasses
import hashlib
import importlib.metadata
import importlib.util
import json
import os
import tempfile
import zipfile
from pathlib import Path

import numpy as np

from accel_tb.env.checker import KINDS, LayerJob

ROOT = Path(__file__).resolve().parents[2]
ENV = Path(__file__).resolve().parent
# golden_py as Python imports it (an installed copy may not be the one beside this file), found without
# importing it (it imports torch)
GOLDEN_PY = Path(importlib.util.find_spec("golden_py").submodule_search_locations[0])
# the code whose text decides what a job holds: a change to any of it makes every stored job stale
SOURCES = (*sorted(GOLDEN_PY.glob("*.py")), ENV / "checker.py", ENV / "environment.py", ENV.parent / "adapter.py",
           Path(__file__))
SAMPLES = GOLDEN_PY / "samples" / "cifar10_test_samples.npz"    # golden_py.data.SAMPLES_FILE
META = ("rows", "cols", "in_channels", "out_channels", "height", "width", "relu", "a_bits")
VERSION = 2      # 2: an entry's header holds its key, images and layer


def store_dir() -> Path:
    """build/golden under the build folder (ACCEL_BUILD_DIR, as the models')."""
    return Path(os.environ.get("ACCEL_BUILD_DIR") or ROOT / "build").resolve() / "golden"


def _file_digest(path: Path) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def key(spec: dict, geometry, psums: bool) -> str | None:
    """The entry's name for a checkpoint layer spec (checkpoint, layer, images, data_dir), or None when the
    job is not to be stored (a user's image folder)."""
    geo = dataclasses.asdict(geometry) if dataclasses.is_dataclass(geometry) else repr(geometry)
    return _key(spec, {"geometry": geo, "psums": bool(psums)})


def layer_key(spec: dict) -> str | None:
    """The name of a checkpoint layer's integer activations and weights (LayerIntsEntry), which every geometry
    tiles alike; None for a user's image folder."""
    return _key(spec, {"kind": "layer ints"})


def _key(spec: dict, more: dict) -> str | None:
    if spec.get("data_dir"):
        return None
    parts = {"version": VERSION, "checkpoint": _file_digest(spec["checkpoint"]), "layer": int(spec["layer"]),
             "images": [int(i) for i in spec["images"]], "samples": _file_digest(SAMPLES),
             "code": [_file_digest(p) for p in SOURCES], "torch": importlib.metadata.version("torch"), **more}
    return hashlib.sha256(json.dumps(parts, sort_keys=True, default=str).encode()).hexdigest()[:32]


def load(name: str, label: str, spec: dict | None = None, psums: bool | None = None) -> LayerJob | None:
    """The stored job, with numpy arrays, its name starting with `label` (the checkpoint file as this run names
    it); None when there is none, when it was written under another name (copied: its header holds its own
    key), for other images or another layer than `spec` asks, without every kind a checkpoint layer gives (psum
    when `psums`, sum and relu), or when it does not hold together (verify)."""
    path = store_dir() / f"{name}.npz"
    if not path.is_file():
        return None
    try:
        with np.load(path, allow_pickle=False) as z:
            meta = json.loads(str(z["meta"]))
            arrays = {k: np.array(z[k]) for k in z.files if k != "meta"}
        if meta.get("key") != name:
            return None
        if spec is not None and (meta.get("images") != [int(i) for i in spec["images"]]
                                 or meta.get("layer") != int(spec["layer"])):
            return None
        fields = {k: meta[k] for k in META} | {"name": label + meta["name"]}
        job = LayerJob(**fields, a_tiles=arrays.pop("a_tiles"), w_tiles=arrays.pop("w_tiles"))
        job.expected = {k: arrays[k] for k in KINDS if k in arrays}
        kinds = {"sum", "relu"} | ({"psum"} if psums else set())
        if psums is not None and set(job.expected) != kinds:
            return None
        if set(job.expected) != set(meta["expected"]) or verify(job, len(meta["images"])):
            return None
        return job
    except (OSError, ValueError, KeyError, TypeError, EOFError, zipfile.BadZipFile):
        return None


def verify(job: LayerJob, images: int) -> str | None:
    """What does not hold in a stored job, or None: every array's shape against the header, and every expected
    value against the stored activations and weights (psums recomputed from them, sums from the psums, outputs
    from the sums), so that an entry whose values were changed by hand or by a fault is computed again. The
    activations and weights themselves, as extracted from the checkpoint, are taken as stored."""
    r, c, h, w = job.rows, job.cols, job.height, job.width
    n_ic, n_oc, p = -(-job.in_channels // r), -(-job.out_channels // c), (h + 2) * (w + 2)
    want = {"a_tiles": (images, n_ic, r, p), "w_tiles": (n_ic, n_oc, c, r, 9), "psum": (images, n_ic, n_oc, c, p, 9),
            "sum": (images, n_oc, c, h * w), "relu": (images, n_oc, c, h * w)}
    arrays = {"a_tiles": job.a_tiles, "w_tiles": job.w_tiles, **job.expected}
    for k, a in arrays.items():
        if a.shape != want[k] or a.dtype.kind not in "iu":
            return f"{k}: shape {a.shape} {a.dtype}, expected {want[k]} integers"
    from golden_py.tiling import output_gather_index, tiled_psums  # noqa: PLC0415 (numpy only)
    psum = tiled_psums(job.a_tiles, job.w_tiles)                              # (N, n_ic, n_oc, C, P, 9)
    if "psum" in job.expected and not np.array_equal(psum, job.expected["psum"]):
        return "psum: differs from the stored activations and weights"
    out = psum[:, :, :, :, output_gather_index(h, w), np.arange(9)].sum(axis=(1, 5))   # (N, n_oc, C, HW)
    if "sum" in job.expected and not np.array_equal(out, job.expected["sum"]):
        return "sum: differs from the stored activations and weights"
    if "relu" in job.expected and not np.array_equal(np.maximum(out, 0) if job.relu else out, job.expected["relu"]):
        return "relu: differs from the stored sums"
    return None


def save(name: str, job: LayerJob, images, label: str, layer: int | None = None) -> None:
    """Store a job (its name without `label`, the checkpoint file's name as this run gave it; its own key, images
    and layer in its header); a failure to write is no failure of the run (the next one computes it again)."""
    d = store_dir()
    try:
        d.mkdir(parents=True, exist_ok=True)
        meta = {k: getattr(job, k) for k in META} | {"name": job.name.removeprefix(label),
                                                      "expected": sorted(job.expected),
                                                      "images": [int(i) for i in images], "key": name,
                                                      "layer": None if layer is None else int(layer)}
        arrays = {"a_tiles": np.asarray(job.a_tiles), "w_tiles": np.asarray(job.w_tiles),
                  **{k: np.asarray(v) for k, v in job.expected.items()}}
        _write_whole(d / f"{name}.npz", "wb", lambda f: np.savez(f, meta=np.array(json.dumps(meta)), **arrays))
    except (OSError, TypeError, ValueError):
        pass


# ------------------------------------------------------------------------------------- a layer's integers
@dataclasses.dataclass
class LayerIntsEntry:
    """A checkpoint layer's integer activations (N, IC, H, W) and weights (OC, IC, 3, 3) for some images, with
    what a job's name and tiling need: computed with torch once per layer and images, tiled for each geometry
    in numpy (a 4x4, 8x8, 16x16 or 64x64 core, with or without psums, a course skeleton's: one torch run, where
    each geometry's job ran the model again)."""
    a_int: np.ndarray
    w_int: np.ndarray
    relu: bool
    a_bit: int
    w_bit: int
    labels: list
    out_int: np.ndarray     # (N, OC, H, W): golden_py's convolution of a_int and w_int (torch's), checked when read


def _layer_path(name: str) -> Path:
    return store_dir() / "layers" / f"{name}.npz"


def load_layer(name: str, spec: dict) -> LayerIntsEntry | None:
    """The stored integers of `spec`'s layer; None when there are none, when the entry was written under another
    name or for other images or another layer, or when it does not hold together: shapes and the images' count
    against its header, values outside the layer's activation and weight ranges, the stored convolution against
    one recomputed from the stored activations and weights (golden_py.tiling's reference, numpy: a changed
    activation or weight is found, as a job entry's expected values find theirs), and the layer's channels,
    activation bits and ReLU against the checkpoint's stored outline where there is one. Not checked, as for a job entry: that the integers are the
    checkpoint's (an entry rewritten to agree with itself is taken)."""
    path = _layer_path(name)
    if not path.is_file():
        return None
    try:
        with np.load(path, allow_pickle=False) as z:
            meta = json.loads(str(z["meta"]))
            a, w, out = np.array(z["a_int"]), np.array(z["w_int"]), np.array(z["out_int"])
        images = [int(i) for i in spec["images"]]
        if meta.get("key") != name or meta.get("images") != images or meta.get("layer") != int(spec["layer"]):
            return None
        entry = LayerIntsEntry(a, w, bool(meta["relu"]), int(meta["a_bit"]), int(meta["w_bit"]),
                               [int(v) for v in meta["labels"]], out)
        ok = (all(x.dtype.kind in "iu" for x in (a, w, out)) and a.ndim == 4 and a.shape[0] == len(images)
              and w.shape == (w.shape[0], a.shape[1], 3, 3) and len(entry.labels) == len(images)
              and out.shape == (a.shape[0], w.shape[0], a.shape[2], a.shape[3])
              and 0 < entry.a_bit <= 8 and 0 < entry.w_bit <= 8 and a.size and w.size
              and a.min() >= 0 and a.max() < 1 << entry.a_bit
              and w.min() >= -(1 << (entry.w_bit - 1)) and w.max() < 1 << (entry.w_bit - 1))
        from golden_py.tiling import tile_layer  # noqa: PLC0415 (numpy only; the reference verify() uses)
        if not ok or not np.array_equal(np.stack([tile_layer(x, w).out for x in a]).reshape(out.shape), out):
            return None
        _, f = _outline_file(spec["checkpoint"])
        outline = _stored_outline(f) if f is not None else None
        if outline is not None:
            layer = int(spec["layer"])
            conv = outline.convs.get(layer)
            if conv is None or (conv.in_channels, conv.out_channels, conv.a_bit, outline.relu_after(layer)) \
                    != (a.shape[1], w.shape[0], entry.a_bit, entry.relu):
                return None
        return entry
    except (OSError, ValueError, KeyError, TypeError, EOFError, zipfile.BadZipFile):
        return None


def save_layer(name: str, entry: LayerIntsEntry, spec: dict) -> None:
    """Store a layer's integers (its key, images and layer in its header); a failure to write is no failure."""
    path = _layer_path(name)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        meta = {"key": name, "images": [int(i) for i in spec["images"]], "layer": int(spec["layer"]),
                "relu": entry.relu, "a_bit": entry.a_bit, "w_bit": entry.w_bit, "labels": entry.labels}
        _write_whole(path, "wb", lambda f: np.savez(f, meta=np.array(json.dumps(meta)), a_int=np.asarray(entry.a_int),
                                                   w_int=np.asarray(entry.w_int), out_int=np.asarray(entry.out_int)))
    except (OSError, TypeError, ValueError):
        pass


def _write_whole(path: Path, mode: str, write) -> None:
    """write(file) under a temporary name beside path, then renamed over it: a parallel reader sees the old file or
    the new one, never half of one."""
    fd, tmp = tempfile.mkstemp(prefix=f".{path.stem}-", suffix=path.suffix, dir=path.parent)
    with os.fdopen(fd, mode) as f:
        write(f)
    os.chmod(tmp, 0o644)        # mkstemp's 0600 would hide it from another user of a shared build folder
    os.replace(tmp, path)


# ------------------------------------------------------------------------------------- checkpoint outline
@dataclasses.dataclass
class Conv:
    """One conv of a checkpoint's features, as the commands check a layer choice and size a core."""
    in_channels: int
    out_channels: int
    a_bit: int


@dataclasses.dataclass
class Outline:
    """What the commands need of a checkpoint before a simulation: the type of every module of its features and
    each conv's channels and activation bits (the whole model and torch only where a job is computed)."""
    features: list          # type names, in order: QuantConv2d, BatchNorm2d, ReLU, MaxPool2d, Identity, ...
    convs: dict             # feature index -> Conv
    a_bit: int

    def quant_conv_indices(self) -> list[int]:
        return sorted(self.convs)

    def relu_after(self, layer: int) -> bool:
        """Whether features[layer]'s output goes through a ReLU next (Identity slots skipped)."""
        after = [t for t in self.features[layer + 1:] if t != "Identity"]
        return bool(after) and after[0] == "ReLU"

    def side_before(self, layer: int, image_side: int = 32) -> int:
        """Input height (= width) of features[layer] for a 32x32 image: halved by every max-pool before it."""
        return image_side >> sum(name == "MaxPool2d" for name in self.features[:layer])


def outline_of(model) -> Outline:
    """The outline of a loaded golden_py model."""
    from golden_py.quant import QuantConv2d  # noqa: PLC0415
    return Outline([type(m).__name__ for m in model.features],
                   {i: Conv(m.in_channels, m.out_channels, m.a_bit) for i, m in enumerate(model.features)
                    if isinstance(m, QuantConv2d)}, model.a_bit)


def _digest_or_none(path) -> str | None:
    try:
        return _file_digest(path)
    except OSError:
        return None


def _outline_from_json(d) -> Outline | None:
    """A stored outline as written by checkpoint_outline, or None when it is not one: every module a type name,
    at least one conv, each at an index of the list where that list names a QuantConv2d (and every QuantConv2d
    one of them), positive channel counts, 2- or 4-bit activations."""
    try:
        features, convs, a_bit = d["features"], d["convs"], d["a_bit"]
    except (KeyError, TypeError):
        return None
    if not (isinstance(features, list) and features and all(isinstance(n, str) and n for n in features)
            and isinstance(convs, dict) and convs and a_bit in (2, 4)):
        return None
    out = {}
    for i, c in convs.items():
        if not (isinstance(i, str) and i.isdigit() and int(i) < len(features) and isinstance(c, list) and len(c) == 3
                and all(isinstance(x, int) and not isinstance(x, bool) for x in c) and c[0] >= 1 and c[1] >= 1
                and c[2] in (2, 4) and features[int(i)] == "QuantConv2d"):
            return None
        out[int(i)] = Conv(*c)
    if sum(n == "QuantConv2d" for n in features) != len(out):
        return None
    return Outline(list(features), out, a_bit)


def _stored_outline(f: Path) -> Outline | None:
    """The outline stored in f, or None (no file, or one that is not an outline)."""
    try:
        return _outline_from_json(json.loads(f.read_text()))
    except (OSError, ValueError):
        return None


def outline_file(path) -> Path | None:
    """Where the outline of the checkpoint file `path` is stored, or would be (None for a file that cannot be read)."""
    return _outline_file(path)[1]


def _outline_file(path) -> tuple[dict | None, Path | None]:
    """The key parts and the file of a checkpoint's stored outline; (None, None) for a file that cannot be read."""
    try:
        parts = {"version": VERSION, "checkpoint": _file_digest(path), "code": [_file_digest(p) for p in SOURCES],
                 "torch": importlib.metadata.version("torch")}
    except OSError:                                      # missing or unreadable: load_model says which
        return None, None
    name = hashlib.sha256(json.dumps(parts, sort_keys=True).encode()).hexdigest()[:32]
    return parts, store_dir() / f"outline-{name}.json"


def check_stored_outline(path, model) -> None:
    """Where a job is computed from the model: a stored outline of the same file must be the model's. One that is
    not (a file edited by hand: its name hashes the checkpoint's bytes) is removed and the run stops with one
    line, since the command checked its layer against it."""
    _, f = _outline_file(path)
    stored = _stored_outline(f) if f is not None else None
    if stored is not None and stored != outline_of(model):
        f.unlink(missing_ok=True)
        raise ValueError(f"{f}: a stored outline that does not describe {path} (edited?): removed; run the command "
                         f"again")


def checkpoint_outline(path) -> Outline:
    """The checkpoint's outline, read from build/golden when this file's bytes were loaded before by the same
    code and torch (the key of a stored job's, without the layer), else by golden_py.checkpoint.load_model
    (which raises CheckpointError on a file it refuses: nothing is stored then). Reading a stored outline imports
    no torch: a command that refuses a layer, or runs a layer whose job is stored, answers at once. The stored
    JSON is checked for shape when read and recomputed when it does not hold. An outline only checks the layer
    chosen and sizes the core: every expected value still comes from the checkpoint (a stored job, or the
    model), so a stored outline cannot make a layer pass."""
    parts, f = _outline_file(path)
    stored = _stored_outline(f) if f is not None else None
    if stored is not None:
        return stored
    from golden_py.checkpoint import load_model  # noqa: PLC0415 (torch)
    model, _ = load_model(path)
    outline = outline_of(model)
    # stored only if the file still holds the bytes its name hashes (a checkpoint rewritten meanwhile would
    # give the new file's outline the old name)
    if f is not None and _digest_or_none(path) == parts["checkpoint"]:
        d = {"features": outline.features, "a_bit": outline.a_bit,
             "convs": {str(i): [c.in_channels, c.out_channels, c.a_bit] for i, c in outline.convs.items()}}
        try:
            f.parent.mkdir(parents=True, exist_ok=True)
            _write_whole(f, "w", lambda out: json.dump(d, out))
        except OSError:
            pass
    return outline
