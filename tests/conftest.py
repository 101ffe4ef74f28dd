import pickle

import numpy as np
import pytest
import torch

from accel_tb.design.runner import write_bytecode_caches
from golden_py.checkpoint import save_inference
from golden_py.model import VGG16Quant

write_bytecode_caches()     # before xdist starts its workers: they and every process they start inherit it


@pytest.fixture(scope="session")
def random_model():
    """A VGG16_quant with random weights but realistic BN statistics (a few train-mode passes)."""
    torch.manual_seed(1)
    m = VGG16Quant()
    m.train()
    with torch.no_grad():
        for _ in range(3):
            m(torch.randn(16, 3, 32, 32))
    m.eval()
    return m


@pytest.fixture(scope="session")
def random_ckpt(tmp_path_factory, random_model):
    p = tmp_path_factory.mktemp("ckpt") / "random.pt"
    save_inference(random_model, p, {"note": "random weights, for tests"})
    return p


@pytest.fixture
def fake_cifar():
    """Writes a random-pixel CIFAR-10 folder in the official layout (n images per batch) under a root."""
    def make(root, n=20):
        d = root / "cifar-10-batches-py"
        d.mkdir(parents=True)
        rng = np.random.default_rng(0)
        for name in [f"data_batch_{i}" for i in range(1, 6)] + ["test_batch"]:
            with open(d / name, "wb") as f:
                pickle.dump({b"data": rng.integers(0, 256, (n, 3072), dtype=np.uint8),
                             b"labels": [int(v) for v in rng.integers(0, 10, n)]}, f, protocol=2)
        return d
    return make


def _one_line_error(r, *needles):
    """Exit 2, one line on stderr starting with 'error:', no traceback, naming what is wrong."""
    err = r.stderr.strip().splitlines()
    assert r.returncode == 2, (r.returncode, r.stdout[-500:], r.stderr[-1500:])
    assert len(err) == 1 and err[0].startswith("error: ") and "Traceback" not in r.stderr, r.stderr
    for n in needles:
        assert n in err[0], err[0]
    return err[0]


@pytest.fixture
def one_line_error():
    """The bad-input assertion of the command-line tests: a completed process's one-line error, exit 2."""
    return _one_line_error
