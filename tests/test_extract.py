from pathlib import Path

import numpy as np
import pytest
import torch

from golden_py.checkpoint import CheckpointError, load_model
from golden_py.data import load_samples
from golden_py.extract import LayerError, extract_layer, int_conv, integrity_errors
from golden_py.model import VGG16Quant
from golden_py.quant import QuantConv2d

COMMITTED = Path(__file__).resolve().parents[1] / "checkpoints" / "vgg16_a4w4.pt"


@pytest.mark.parametrize("index", [3, 24, 27, 29, 39])
def test_integer_recovery_random_model(random_model, index):
    """The extracted integers against the course's formulas, written independently from the captured float
    input (notebook 003: x_int = round(clamp(x / alpha, 0, 1) * (2^b - 1)); w_int = round(weight_q / delta))."""
    images, _, _ = load_samples()
    conv = random_model.features[index]
    captured = {}
    h = conv.register_forward_hook(lambda m, i, o: captured.update(x=i[0].detach().clone()))
    random_model(__import__("golden_py.model", fromlist=["normalize"]).normalize(images[:4]))
    h.remove()
    layer = extract_layer(random_model, index, images[:4])
    alpha = conv.act_alpha.item()
    x_int = torch.round(torch.clamp(captured["x"].double() / alpha, 0, 1) * 15).long()
    assert torch.equal(layer.a_int, x_int)
    delta = conv.weight_quant.wgt_alpha.item() / 7
    assert torch.equal(layer.w_int, torch.round(conv.weight_q.double() / delta).long())
    assert layer.a_int.max() > 0 and layer.w_int.abs().max() > 0     # a non-trivial layer
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
    # independent reference for the ReLU'd integers: the float layer's output, rescaled, through PyTorch's ReLU
    ref = torch.round(torch.relu(layer.float_out.double()) / (layer.a_scale * layer.w_scale)).long()
    assert torch.equal(layer.relu_int, ref)


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
    with pytest.raises(CheckpointError, match="junk.pt: not a torch checkpoint .neither torch.save's zip archive"):
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


def _course_file(tmp_path, model, name, extra_keys=True):
    """A checkpoint as the course notebooks save it: the state_dict with the course's module names, the
    quantized-weight caches the course's QuantConv2d keeps, best_prec, epoch and an optimizer state."""
    sd = dict(model.state_dict())
    if extra_keys:
        for i, m in enumerate(model.features):
            if isinstance(m, QuantConv2d):
                sd[f"features.{i}.weight_q"] = torch.zeros_like(m.weight)
    p = tmp_path / name
    torch.save({"epoch": 150, "state_dict": sd, "best_prec": 91.42,
                "optimizer": {"state": {}, "param_groups": [{"lr": 0.01, "params": [0, 1]}]}}, p)
    return p


@pytest.mark.parametrize("squeeze,a_bit,identity", [(8, 4, False), (8, 4, True), (16, 2, True)],
                         ids=["4a4w-nb001", "4a4w-nb003", "2a4w-nb003"])
def test_course_checkpoints_load_by_their_shapes(tmp_path, squeeze, a_bit, identity):
    torch.manual_seed(squeeze + identity)
    ref = VGG16Quant(squeeze=squeeze, a_bit=a_bit, squeeze_identity=identity)
    p = _course_file(tmp_path, ref, "course.pth")
    model, meta = load_model(p)
    assert (model.squeeze, model.a_bit, model.squeeze_identity) == (squeeze, a_bit, identity)
    assert meta["best_prec"] == 91.42 and "course notebook checkpoint" in meta["source"]
    assert model.features[27].in_channels == squeeze and isinstance(model.features[28], torch.nn.Identity) == identity
    for k, v in ref.state_dict().items():
        assert torch.equal(v, model.state_dict()[k]), k
    x = torch.randint(0, 256, (2, 3, 32, 32), dtype=torch.uint8)
    from golden_py.model import normalize
    ref.eval()
    assert torch.equal(ref(normalize(x)), model(normalize(x)))


def test_course_checkpoint_that_is_neither_variant(tmp_path):
    bad = VGG16Quant(squeeze=8)
    sd = bad.state_dict()
    sd["features.27.weight"] = torch.zeros(12, 12, 3, 3)
    p = tmp_path / "odd.pth"
    torch.save({"state_dict": sd, "best_prec": 50.0}, p)
    with pytest.raises(CheckpointError, match=r"odd.pth: neither course variant: features.27.weight is \(12, 12, 3, 3\)"):
        load_model(p)
    sd = VGG16Quant(squeeze=8).state_dict()
    del sd["features.29.weight"]
    torch.save({"state_dict": sd}, p)
    with pytest.raises(CheckpointError, match="no 8->512 conv at features.29"):
        load_model(p)


def test_2a4w_layer27_integers_integrity_and_tiling():
    """The 2a4w checkpoint's features[27]: 2-bit activations (integers 0..3, scale alpha/3), the psum
    integrity check against the next layer's input below 1e-3 (as notebook 003), and the 2-bit-mode tiling
    (16 input channels per tile) equal to the integer conv."""
    from golden_py.tiling import tile_layer
    model, _ = load_model(COMMITTED.parent / "vgg16_a2w4.pt")
    assert isinstance(model.features[28], torch.nn.Identity)
    images, _, _ = load_samples()
    layer = extract_layer(model, 27, images[:8])
    conv = model.features[27]
    assert layer.a_scale == pytest.approx(conv.act_alpha.item() / 3)
    assert set(layer.a_int.unique().tolist()) <= {0, 1, 2, 3} and layer.a_int.max() == 3
    assert layer.next_module == "ReLU"                      # Identity at 28 skipped: ReLU at 29
    errs = integrity_errors(layer)
    assert errs["conv"] < 1e-3 and errs["relu"] < 1e-3
    for n in range(2):
        t = tile_layer(layer.a_int[n], layer.w_int, 16, 8)
        assert t.n_ic == 1 and t.n_oc == 2
        assert np.array_equal(t.out, int_conv(layer.a_int[n:n + 1], layer.w_int)[0].reshape(16, -1))
