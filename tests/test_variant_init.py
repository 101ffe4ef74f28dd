"""golden_py.variant_init: the 2a4w network started from the 4a4w one (widened squeeze block, calibrated clips)."""
import copy

import pytest
import torch
import torch.nn as nn

from golden_py import train
from golden_py.checkpoint import load_model
from golden_py.model import VGG16Quant
from golden_py.quant import QuantConv2d, quantize_act
from golden_py.variant_init import VariantError, calibrate, mse_alpha, widen


def _wide(src, noise=0.0, a_bit=4):
    dst = VGG16Quant(squeeze=16, a_bit=a_bit)
    widened = widen(src, dst, noise=noise, generator=torch.Generator().manual_seed(3))
    return dst.eval(), widened


def test_widening_preserves_the_function(random_model):
    """The squeeze-16 copy of a squeeze-8 model computes the same function: its weights tile the narrow ones
    (each quantizes as before), the doubled sums are undone by the next clip and BatchNorm. Not bit for bit:
    a tiled tensor's unbiased std differs by sqrt((kn-1)/(k(n-1))) and float sums change order, which moves a
    few values across a rounding boundary of the quantizers (the 4a4w checkpoint: logits within 0.13,
    all predictions equal on 256 test images)."""
    wide, widened = _wide(random_model)
    assert widened == ["features.24", "features.25", "features.27", "features.30"]
    # own generator: the global one's state depends on which tests ran before (train.main seeds it)
    x = torch.randn(32, 3, 32, 32, generator=torch.Generator().manual_seed(5))
    with torch.no_grad():
        a, b = random_model(x), wide(x)
    assert torch.equal(a.argmax(1), b.argmax(1))
    assert (a - b).abs().max() <= 0.05 * a.abs().max()
    # a fresh squeeze block instead (what --init did before --widen) is another function
    fresh = VGG16Quant(squeeze=16).eval()
    train.transfer_matching(random_model, fresh)
    with torch.no_grad():
        assert (a - fresh(x)).abs().max() > 0.05 * a.abs().max()
    # the doubled sum of the 16->16 conv is carried by the next clip, not by a weight
    assert wide.features[30].act_alpha.item() == pytest.approx(2 * random_model.features[29].act_alpha.item())
    w8, w16 = random_model.features[27].weight, wide.features[27].weight
    assert torch.equal(w16[8:, 8:], w8) and torch.equal(w16[:8, :8], w8)


def test_widening_noise_breaks_the_symmetry_of_the_copies_only(random_model):
    wide, _ = _wide(random_model, noise=0.01)
    w8, w16 = random_model.features[27].weight, wide.features[27].weight
    assert torch.equal(w16[:8, :8], w8)                     # the first copy is the original
    assert not torch.equal(w16[8:, 8:], w8)                 # the others are jittered
    assert (w16[8:, 8:] - w8).abs().max() < 0.1 * w8.std()
    assert torch.equal(wide.features[0].weight, random_model.features[0].weight)


def test_widening_refuses_models_that_do_not_map(random_model):
    narrow = VGG16Quant(squeeze=8)
    with pytest.raises(VariantError, match="not a multiple"):
        widen(VGG16Quant(squeeze=16), narrow)
    other = VGG16Quant(squeeze=8)
    other.features[0] = nn.Identity()       # a layer missing
    with pytest.raises(VariantError, match="sequences differ"):
        widen(random_model, other)


def test_mse_alpha_is_the_least_error_clip():
    x = torch.rand(10_000) ** 2 * 4            # skewed, like post-ReLU activations
    best = mse_alpha(x, 2)
    err = lambda a: float((quantize_act(x, torch.tensor(a), 2) - x).pow(2).mean())  # noqa: E731
    assert 0 < best < float(x.max())
    for a in (best * 0.8, best * 1.2, float(x.max())):
        assert err(best) <= err(a)
    assert mse_alpha(torch.zeros(10), 2) == 1.0


def test_calibration_sets_every_clip_and_the_batchnorm_statistics(random_model):
    model, _ = _wide(random_model, a_bit=2)
    images = torch.randn(16, 3, 32, 32)
    alphas = calibrate(model, images)
    convs = {n: m for n, m in model.named_modules() if isinstance(m, QuantConv2d)}
    assert set(alphas) == set(convs)
    seen = {}
    hooks = [m.register_forward_pre_hook(lambda mod, a, n=n: seen.__setitem__(n, a[0])) for n, m in convs.items()]
    bn = model.features[1]
    got_bn_in = []
    hooks.append(bn.register_forward_pre_hook(lambda mod, a: got_bn_in.append(a[0])))
    with torch.no_grad():
        model(images)
    for h in hooks:
        h.remove()
    for n, m in convs.items():
        assert m.act_alpha.item() == pytest.approx(alphas[n]) and 0 < alphas[n] != 8.0
    # the first clip sees the images themselves; later ones saw the previous round's statistics
    assert alphas["features.0"] == pytest.approx(mse_alpha(images, 2))
    assert alphas["features.3"] == pytest.approx(mse_alpha(seen["features.3"].float(), 2), rel=0.05)
    assert torch.allclose(bn.running_mean, got_bn_in[0].mean((0, 2, 3)), atol=1e-5)
    # the squeeze block's last BatchNorm holds the statistics of its input in a train-mode pass (every BN on
    # batch statistics, as in the calibration pass); momentum is restored and the model left in eval mode
    assert not model.training and all(m.momentum == 0.1 for m in model.modules() if isinstance(m, nn.BatchNorm2d))
    probe, seen31 = copy.deepcopy(model).train(), []
    probe.features[31].register_forward_pre_hook(lambda mod, a: seen31.append(a[0]))
    with torch.no_grad():
        probe(images)
    assert torch.allclose(model.features[31].running_mean, seen31[0].mean((0, 2, 3)), rtol=1e-4, atol=1e-5)


def test_train_cli_widens_and_calibrates(tmp_path, fake_cifar, random_ckpt):
    fake_cifar(tmp_path / "data", n=16)
    out = tmp_path / "run"
    argv = ["--data-dir", str(tmp_path / "data"), "--out", str(out), "--init", str(random_ckpt), "--squeeze", "16",
            "--a-bit", "2", "--widen", "--calibrate-images", "8", "--epochs", "1", "--batch-size", "8",
            "--eval-images", "8", "--threads", "1", "--limit-batches", "2"]
    assert train.main(argv) == 0
    _, meta = load_model(out / "model.pt")
    assert meta["init"].startswith("widened from") and "calibrated on 8 training images" in meta["init"]
    assert meta["recipe"]["widen"] is True and meta["recipe"]["calibrate_images"] == 8


def test_resume_keeps_the_calibrated_start_and_accepts_older_states(tmp_path, fake_cifar, random_ckpt, monkeypatch):
    """An interrupted calibrated run resumes from its state without calibrating again; a state written before
    --widen/--calibrate-images existed resumes as if they had their defaults."""
    fake_cifar(tmp_path / "data", n=16)
    out = tmp_path / "run"
    argv = ["--data-dir", str(tmp_path / "data"), "--out", str(out), "--init", str(random_ckpt), "--squeeze", "16",
            "--a-bit", "2", "--widen", "--calibrate-images", "8", "--epochs", "2", "--batch-size", "8",
            "--eval-images", "8", "--threads", "1", "--limit-batches", "2"]
    real_save = train.save_inference

    def stop_at_2(model, path, meta):
        if meta["epochs_trained"] == 2:
            raise KeyboardInterrupt
        real_save(model, path, meta)
    monkeypatch.setattr(train, "save_inference", stop_at_2)
    with pytest.raises(KeyboardInterrupt):
        train.main(argv)
    monkeypatch.setattr(train, "save_inference", real_save)

    def no_calibration(*a, **k):
        raise AssertionError("calibrated again on resume")
    monkeypatch.setattr(train, "calibrate", no_calibration)
    assert train.main(argv + ["--resume"]) == 0
    _, meta = load_model(out / "model.pt")
    assert meta["epochs_trained"] == 2 and "calibrated on 8 training images" in meta["init"]

    plain = tmp_path / "plain"
    base = ["--data-dir", str(tmp_path / "data"), "--out", str(plain), "--epochs", "1", "--batch-size", "8",
            "--eval-images", "8", "--threads", "1", "--limit-batches", "2"]
    assert train.main(base) == 0
    st = torch.load(plain / "state.pt", weights_only=True)
    for k in ("widen", "calibrate_images"):
        del st["recipe"][k]
    torch.save(st, plain / "state.pt")
    assert train.main(base + ["--resume"]) == 0
    assert train.main(base + ["--resume", "--lr", "0.5"]) == 2      # a real difference is still refused


def test_widen_and_calibrate_need_init(tmp_path, capsys):
    for extra in (["--widen"], ["--calibrate-images", "4"]):
        with pytest.raises(SystemExit) as e:
            train.main(["--data-dir", str(tmp_path), "--epochs", "1"] + extra)
        assert e.value.code == 2 and "need --init" in capsys.readouterr().err


def test_widen_refuses_a_model_of_the_same_shape(tmp_path, fake_cifar, random_ckpt, capsys):
    fake_cifar(tmp_path / "data", n=16)
    with pytest.raises(SystemExit) as e:
        train.main(["--data-dir", str(tmp_path / "data"), "--out", str(tmp_path / "r"), "--init", str(random_ckpt),
                    "--widen", "--epochs", "1"])
    assert e.value.code == 2 and "already has the requested architecture" in capsys.readouterr().err
