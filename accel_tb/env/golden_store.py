"""A checkpoint layer's job (tiled activations and weights, expected psums, sums and outputs) kept on disk as
plain integer arrays, so that the simulations after the first one on the same layer need neither torch nor the
golden model: importing torch is about two thirds of a short core simulation (1.1-1.4 s of about 2 s,
measured with py-spy), and the regression runs layer 27 of image 0 in dozens of them.

What makes an entry (its file name is a SHA-256 over all of it): the checkpoint file's bytes, the layer, the
image indices, the geometry the job was tiled for, whether psums were asked, the source text of the code
that computes a job (golden_py, the checker, the environment and the adapter module's tiling rule) and the
installed torch's version. An image folder of the user's (`data_dir`) is never stored: only the bundled
samples, whose file is hashed too. A file that cannot be read back whole, or whose arrays disagree with its
own header, is computed again and replaced. Files are numpy .npz read with allow_pickle=False (nothing in them
is unpickled); each is written under a temporary name and renamed, so parallel simulations never see half of
one. `make clean` removes them with the rest of build/.
"""
from __future__ import annotations

import dataclasses
import hashlib
import importlib.metadata
import json
import os
import tempfile
import zipfile
from pathlib import Path

import numpy as np

from accel_tb.env.checker import KINDS, LayerJob

ROOT = Path(__file__).resolve().parents[2]
# the code whose text decides what a job holds: a change to any of it makes every stored job stale
SOURCES = (*sorted((ROOT / "golden_py").glob("*.py")), ROOT / "accel_tb" / "env" / "checker.py",
           ROOT / "accel_tb" / "env" / "environment.py", ROOT / "accel_tb" / "adapter.py", Path(__file__))
SAMPLES = ROOT / "golden_py" / "samples" / "cifar10_test_samples.npz"    # golden_py.data.SAMPLES_FILE
META = ("name", "rows", "cols", "in_channels", "out_channels", "height", "width", "relu", "a_bits")
VERSION = 1


def store_dir() -> Path:
    """build/golden under the build folder (ACCEL_BUILD_DIR, as the models')."""
    return Path(os.environ.get("ACCEL_BUILD_DIR", ROOT / "build")) / "golden"


def _file_digest(path: Path) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def key(spec: dict, geometry, psums: bool) -> str | None:
    """The entry's name for a checkpoint layer spec (checkpoint, layer, images, data_dir), or None when the
    job is not to be stored (a user's image folder)."""
    if spec.get("data_dir"):
        return None
    geo = dataclasses.asdict(geometry) if dataclasses.is_dataclass(geometry) else repr(geometry)
    parts = {"version": VERSION, "checkpoint": _file_digest(spec["checkpoint"]), "layer": int(spec["layer"]),
             "images": [int(i) for i in spec["images"]], "samples": _file_digest(SAMPLES),
             "geometry": geo, "psums": bool(psums), "code": [_file_digest(p) for p in SOURCES],
             "torch": importlib.metadata.version("torch")}
    return hashlib.sha256(json.dumps(parts, sort_keys=True, default=str).encode()).hexdigest()[:32]


def load(name: str) -> LayerJob | None:
    """The stored job, with numpy arrays in place of tensors; None when there is none or it does not hold."""
    path = store_dir() / f"{name}.npz"
    if not path.is_file():
        return None
    try:
        with np.load(path, allow_pickle=False) as z:
            meta = json.loads(str(z["meta"]))
            arrays = {k: np.array(z[k]) for k in z.files if k != "meta"}
        job = LayerJob(**{k: meta[k] for k in META}, a_tiles=arrays.pop("a_tiles"), w_tiles=arrays.pop("w_tiles"))
        job.expected = {k: arrays[k] for k in KINDS if k in arrays}
        if set(job.expected) != set(meta["expected"]) or job.a_tiles.shape[0] != len(meta["images"]):
            return None
        return job
    except (OSError, ValueError, KeyError, TypeError, EOFError, zipfile.BadZipFile):
        return None


def save(name: str, job: LayerJob, images) -> None:
    """Store a job (tensors or arrays); a failure to write is no failure of the run (the next one computes)."""
    d = store_dir()
    try:
        d.mkdir(parents=True, exist_ok=True)
        meta = {k: getattr(job, k) for k in META} | {"expected": sorted(job.expected), "images": list(images)}
        arrays = {"a_tiles": np.asarray(job.a_tiles), "w_tiles": np.asarray(job.w_tiles),
                  **{k: np.asarray(v) for k, v in job.expected.items()}}
        fd, tmp = tempfile.mkstemp(prefix=f".{name}-", suffix=".npz", dir=d)
        with os.fdopen(fd, "wb") as f:
            np.savez(f, meta=np.array(json.dumps(meta)), **arrays)
        os.replace(tmp, d / f"{name}.npz")
    except OSError:
        pass
