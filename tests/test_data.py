import subprocess
import sys
from pathlib import Path

import pytest
import torch

from golden_py.data import DataError, augment, check_indices, load_images, load_samples, load_split, resolve_data_dir

ROOT = Path(__file__).resolve().parents[1]


def test_reads_official_layout(tmp_path, fake_cifar):
    d = fake_cifar(tmp_path)
    assert resolve_data_dir(tmp_path) == d and resolve_data_dir(d) == d
    x, y = load_split(tmp_path, train=True)
    assert x.shape == (100, 3, 32, 32) and x.dtype == torch.uint8 and y.shape == (100,)


def test_missing_and_corrupt(tmp_path, monkeypatch, fake_cifar):
    monkeypatch.delenv("CIFAR10_DIR", raising=False)
    with pytest.raises(DataError, match="--data-dir"):
        resolve_data_dir(None)
    with pytest.raises(DataError, match="no CIFAR-10 batches"):
        resolve_data_dir(tmp_path)
    d = fake_cifar(tmp_path)
    (d / "data_batch_3").write_bytes(b"garbage")
    with pytest.raises(DataError, match="data_batch_3: not a CIFAR-10 python batch"):
        load_split(tmp_path, train=True)
    (d / "data_batch_3").unlink()
    with pytest.raises(DataError, match="data_batch_3: missing"):
        load_split(tmp_path, train=True)


def test_bundled_samples():
    x, y, idx = load_samples()
    assert x.shape[1:] == (3, 32, 32) and x.dtype == torch.uint8 and len(x) == len(y) == len(idx) >= 8
    assert idx.tolist() == list(range(len(idx)))


@pytest.mark.parametrize("where", ["folder", "bundled"])
def test_check_indices_agrees_with_load_images(tmp_path, fake_cifar, where):
    """The commands' quick range check (no torch) refuses exactly what load_images refuses."""
    data_dir = str(tmp_path) if where == "folder" else None
    if data_dir:
        fake_cifar(tmp_path, n=20)
    count = 20 if data_dir else len(load_samples()[0])
    for idx in ([0], [count - 1], [count], [-1], [0, count + 5]):
        try:
            load_images(idx, data_dir)
            loaded = None
        except DataError as e:
            loaded = str(e)
        try:
            check_indices(idx, data_dir)
            checked = None
        except DataError as e:
            checked = str(e)
        assert checked == loaded, idx
        assert (loaded is None) == all(0 <= i < count for i in idx), idx


def test_check_indices_does_not_import_torch(tmp_path, fake_cifar):
    fake_cifar(tmp_path)
    code = ("import sys; from golden_py.data import check_indices; "
            f"check_indices([19], {str(tmp_path)!r}); check_indices([0], None); print('torch' in sys.modules)")
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT)
    assert r.returncode == 0 and r.stdout.strip() == "False", r.stderr


def test_augment_shapes_and_content():
    x = torch.arange(2 * 3 * 32 * 32, dtype=torch.int64).reshape(2, 3, 32, 32).to(torch.uint8)
    g = torch.Generator().manual_seed(0)
    y = augment(x, g)
    assert y.shape == x.shape
    g1, g2 = torch.Generator().manual_seed(5), torch.Generator().manual_seed(5)
    assert torch.equal(augment(x, g1), augment(x, g2))  # reproducible from the seed (resumable training)


def test_evaluate_cli_errors(tmp_path, random_ckpt, fake_cifar):
    r = subprocess.run([sys.executable, "-m", "golden_py.evaluate", "--checkpoint", str(random_ckpt),
                        "--data-dir", str(tmp_path)], cwd=ROOT, capture_output=True, text=True)
    assert r.returncode == 2 and "no CIFAR-10 batches found" in r.stderr
    fake_cifar(tmp_path)
    r = subprocess.run([sys.executable, "-m", "golden_py.evaluate", "--checkpoint", str(random_ckpt),
                        "--data-dir", str(tmp_path)], cwd=ROOT, capture_output=True, text=True)
    assert r.returncode == 0 and r.stdout.strip().splitlines()[-1].startswith("top1=")


def test_download_uses_torchvision_when_it_imports(tmp_path, monkeypatch, fake_cifar):
    """--download calls torchvision.datasets.CIFAR10(root, train=..., download=True) and then reads the
    folder with the built-in reader; without torchvision it is a clear error."""
    import sys
    import types

    from golden_py.data import download, ensure_downloaded
    calls = []

    class FakeCIFAR10:
        def __init__(self, root, train, download):
            calls.append((root, train, download))
            if not (tmp_path / "cifar-10-batches-py").exists():
                fake_cifar(tmp_path)

    tv = types.ModuleType("torchvision")
    tv.datasets = types.ModuleType("torchvision.datasets")
    tv.datasets.CIFAR10 = FakeCIFAR10
    monkeypatch.setitem(sys.modules, "torchvision", tv)
    monkeypatch.setitem(sys.modules, "torchvision.datasets", tv.datasets)
    assert ensure_downloaded(tmp_path) == tmp_path / "cifar-10-batches-py"
    assert calls == [(str(tmp_path), True, True), (str(tmp_path), False, True)]
    assert ensure_downloaded(tmp_path) == tmp_path / "cifar-10-batches-py" and len(calls) == 2   # no re-download
    monkeypatch.setitem(sys.modules, "torchvision.datasets", None)   # import fails like a CUDA-only build
    with pytest.raises(DataError, match="--download uses torchvision, which does not import here"):
        download(tmp_path / "other")
