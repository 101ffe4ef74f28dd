"""CIFAR-10 from the official python-version folder, and the bundled sample images.

The folder is `cifar-10-batches-py/` with pickled `data_batch_1..5` and `test_batch`, as the CIFAR-10 site
distributes it. The batches are pickles, so they are read through a restricted unpickler that admits only
the three numpy globals the official files hold: a crafted batch file cannot run code. Augmentation runs on whole batches in-process: DataLoader workers would compete with the
training threads for the 2 cores of the reference machine.
"""
from __future__ import annotations

import os
import pickle
from contextlib import contextmanager
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    import torch

ENV_VAR = "CIFAR10_DIR"
BATCH_DIR = "cifar-10-batches-py"
TRAIN_FILES = [f"data_batch_{i}" for i in range(1, 6)]
TEST_FILES = ["test_batch"]
SAMPLES_FILE = "cifar10_test_samples.npz"


class DataError(RuntimeError):
    """Missing or malformed dataset files; the message names the file."""


def resolve_data_dir(data_dir: str | os.PathLike | None) -> Path:
    """The folder holding the batch files: DIR/cifar-10-batches-py or DIR itself; default $CIFAR10_DIR."""
    if data_dir is None:
        data_dir = os.environ.get(ENV_VAR)
        if not data_dir:
            raise DataError(f"no CIFAR-10 folder given: pass --data-dir DIR or set ${ENV_VAR}")
    root = Path(data_dir)
    for cand in (root / BATCH_DIR, root):
        if (cand / "test_batch").is_file():
            return cand
    raise DataError(f"{root}: no CIFAR-10 batches found (expected {root / BATCH_DIR}/test_batch "
                    f"and data_batch_1..5, the official python-version layout)")


class _BatchUnpickler(pickle.Unpickler):
    """Admits only the globals that CIFAR-10 batches reference: numpy's array reconstructors, ndarray and dtype
    (the official python-2 files), and _codecs.encode (how python 3 writes bytes at protocol 2); each of them
    only builds data."""
    _ALLOWED = {("numpy.core.multiarray", "_reconstruct"), ("numpy._core.multiarray", "_reconstruct"),
                ("numpy.core.numeric", "_frombuffer"), ("numpy._core.numeric", "_frombuffer"),
                ("numpy", "ndarray"), ("numpy", "dtype"), ("_codecs", "encode")}

    def find_class(self, module, name):
        if (module, name) not in self._ALLOWED:
            raise pickle.UnpicklingError(f"refused global {module}.{name} (a CIFAR-10 batch holds only numpy "
                                         f"arrays, lists, bytes and numbers)")
        return super().find_class(module, name)


def safe_unpickle(f):
    return _BatchUnpickler(f, encoding="bytes").load()


def download(root: str | os.PathLike | None) -> Path:
    """The standard download, torchvision.datasets.CIFAR10(root, download=True), where torchvision imports
    (it does on ordinary machines; it is never required: the built-in reader reads any official folder)."""
    if root is None:
        root = os.environ.get(ENV_VAR)
        if not root:
            raise DataError(f"--download needs a folder: pass --data-dir DIR or set ${ENV_VAR}")
    try:
        from torchvision.datasets import CIFAR10
    except Exception as e:  # ImportError, or a CUDA build that fails while importing
        raise DataError(f"--download uses torchvision, which does not import here ({type(e).__name__}: "
                        f"{str(e).splitlines()[0] if str(e) else ''}); put the official cifar-10-batches-py "
                        f"folder under {root} instead") from None
    for train in (True, False):
        CIFAR10(root=str(root), train=train, download=True)
    return resolve_data_dir(root)


def ensure_downloaded(root) -> Path:
    """The folder's batches, downloading them first (torchvision) when it has none."""
    try:
        return resolve_data_dir(root)
    except DataError:
        return download(root)


def _load_batch(path: Path) -> tuple[np.ndarray, np.ndarray]:
    if not path.is_file():
        raise DataError(f"{path}: missing CIFAR-10 batch file")
    try:
        with open(path, "rb") as f:
            d = safe_unpickle(f)
        if not isinstance(d, dict):
            raise DataError(f"{path}: not a CIFAR-10 python batch (a {type(d).__name__}, not a dict)")
        data = np.asarray(d[b"data"], dtype=np.uint8)
        labels = np.asarray(d[b"labels"], dtype=np.int64)
    except DataError:
        raise
    except Exception as e:  # pickle errors come in many types; all mean the same to the user
        raise DataError(f"{path}: not a CIFAR-10 python batch ({type(e).__name__}: {e})") from e
    if data.ndim != 2 or data.shape[1] != 3072 or len(labels) != len(data):
        raise DataError(f"{path}: unexpected shape data={data.shape} labels={labels.shape}")
    if labels.min() < 0 or labels.max() > 9:
        raise DataError(f"{path}: labels outside 0..9")
    return data.reshape(-1, 3, 32, 32), labels


def load_split(data_dir, train: bool) -> tuple[torch.Tensor, torch.Tensor]:
    """uint8 images (N,3,32,32) and int64 labels of the train or test split."""
    import torch  # noqa: PLC0415 -- not at import: the folder checks stay fast (torch takes seconds)
    folder = resolve_data_dir(data_dir)
    parts = [_load_batch(folder / name) for name in (TRAIN_FILES if train else TEST_FILES)]
    images = np.concatenate([p[0] for p in parts])
    labels = np.concatenate([p[1] for p in parts])
    return torch.from_numpy(images), torch.from_numpy(labels)


@contextmanager
def _open_samples():
    """The bundled samples' npz (images, labels, indices), read lazily by key."""
    ref = resources.files("golden_py") / "samples" / SAMPLES_FILE
    with resources.as_file(ref) as p, np.load(p) as z:
        yield z


def load_samples() -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """The bundled exact CIFAR-10 test images: (uint8 images, labels, their test-set indices)."""
    import torch  # noqa: PLC0415
    with _open_samples() as z:
        return (torch.from_numpy(z["images"].copy()), torch.from_numpy(z["labels"].astype(np.int64)),
                torch.from_numpy(z["indices"].astype(np.int64)))


def _check_indices(idx, count: int, bundled: bool) -> None:
    bad = [i for i in idx if not 0 <= i < count]
    if bad and bundled:
        raise DataError(f"bundled samples: image index {bad[0]} out of range 0..{count - 1} "
                        f"(use --data-dir for the full test set)")
    if bad:
        raise DataError(f"test set: image index {bad[0]} out of range 0..{count - 1}")


def check_indices(indices, data_dir=None) -> None:
    """load_images' file and range checks without torch (a command refuses a bad --images at once)."""
    if data_dir is None:
        with _open_samples() as z:
            count = len(z["labels"])
    else:
        folder = resolve_data_dir(data_dir)
        count = sum(len(_load_batch(folder / name)[1]) for name in TEST_FILES)
    _check_indices(list(indices), count, data_dir is None)


def load_images(indices, data_dir=None) -> tuple[torch.Tensor, torch.Tensor]:
    """Test images by index: from the dataset when data_dir is given, else from the bundled samples
    (where index N means the N-th bundled sample)."""
    idx = list(indices)
    if data_dir is None:
        images, labels, _ = load_samples()
    else:
        images, labels = load_split(data_dir, train=False)
    _check_indices(idx, len(images), data_dir is None)
    return images[idx], labels[idx]


def augment(batch_u8: torch.Tensor, gen: torch.Generator, pad: int = 4) -> torch.Tensor:
    """Random crop with zero padding plus random horizontal flip, for a whole uint8 batch at once."""
    import torch  # noqa: PLC0415
    n, c, h, w = batch_u8.shape
    padded = torch.nn.functional.pad(batch_u8, (pad, pad, pad, pad))
    oy = torch.randint(0, 2 * pad + 1, (n,), generator=gen)
    ox = torch.randint(0, 2 * pad + 1, (n,), generator=gen)
    rows = (oy[:, None] + torch.arange(h))[:, None, :, None]
    cols = (ox[:, None] + torch.arange(w))[:, None, None, :]
    out = padded[torch.arange(n)[:, None, None, None], torch.arange(c)[None, :, None, None], rows, cols]
    flip = torch.rand(n, generator=gen) < 0.5
    return torch.where(flip[:, None, None, None], out.flip(3), out)
