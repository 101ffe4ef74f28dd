import pytest
import torch

from golden_py.checkpoint import CheckpointError, load_model
from golden_py.data import load_samples
from golden_py.extract import LayerError, extract_layer, int_conv, integrity_errors

from pathlib import Path

COMMITTED = Path(__file__).resolve().parents[1] / "checkpoints" / "vgg16_a4w4.pt"


@pytest.mark.parametrize("index", [3, 24, 27, 29, 39])
def test_integer_recovery_random_model(random_model, index):
    images, _, _ = load_samples()
    layer = extract_layer(random_model, index, images[:4])
    assert layer.a_int.min() >= 0 and layer.a_int.max() <= 15
    assert layer.w_int.min() >= -7 and layer.w_int.max() <= 7
    errs = integrity_errors(layer)
    assert errs["conv"] < 1e-3
    if "relu" in errs:
        assert errs["relu"] < 1e-3


def test_integrity_on_committed_checkpoint():
    model, _ = load_model(COMMITTED)
    images, _, _ = load_samples()
    layer = extract_layer(model, 27, images)
    assert tuple(layer.a_int.shape) == (16, 8, 4, 4) and tuple(layer.w_int.shape) == (8, 8, 3, 3)
    assert layer.next_module == "ReLU"
    errs = integrity_errors(layer)
    assert errs["conv"] < 1e-3 and errs["relu"] < 1e-3
    assert torch.equal(layer.relu_int, layer.out_int.clamp(min=0))


def test_integrity_check_detects_wrong_scale(random_model):
    images, _, _ = load_samples()
    layer = extract_layer(random_model, 27, images[:2])
    layer.a_scale *= 1.01  # a plausible bug: wrong alpha in the scale
    assert integrity_errors(layer)["conv"] > 1e-3


def test_int_conv_is_exact():
    a = torch.randint(0, 16, (1, 3, 5, 5))
    w = torch.randint(-7, 8, (2, 3, 3, 3))
    out = int_conv(a, w)
    ap = torch.nn.functional.pad(a, (1, 1, 1, 1))
    manual = sum(int(ap[0, c, 2 + i, 3 + j]) * int(w[1, c, i, j]) for c in range(3) for i in range(3) for j in range(3))
    assert int(out[0, 1, 2, 3]) == manual


def test_layer_index_must_be_quantconv(random_model):
    with pytest.raises(LayerError, match=r"features\[25\] is BatchNorm2d"):
        extract_layer(random_model, 25, torch.zeros(1, 3, 32, 32, dtype=torch.uint8))
    with pytest.raises(LayerError, match="out of range"):
        extract_layer(random_model, 99, torch.zeros(1, 3, 32, 32, dtype=torch.uint8))


def test_bad_checkpoints(tmp_path):
    with pytest.raises(CheckpointError, match="not found"):
        load_model(tmp_path / "nope.pt")
    junk = tmp_path / "junk.pt"
    junk.write_bytes(b"not a checkpoint")
    with pytest.raises(CheckpointError, match="junk.pt: not a readable"):
        load_model(junk)
    other = tmp_path / "other.pt"
    torch.save({"arch": {"name": "ResNet18"}, "state_dict": {}}, other)
    with pytest.raises(CheckpointError, match="arch 'ResNet18', expected"):
        load_model(other)
    wrong = tmp_path / "wrong.pt"
    torch.save({"arch": {"name": "VGG16_quant", "squeeze": 8, "a_bit": 4, "w_bit": 4},
                "state_dict": {"features.0.weight": torch.zeros(1)}}, wrong)
    with pytest.raises(CheckpointError, match="does not fit"):
        load_model(wrong)
