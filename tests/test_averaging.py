import math

import pytest
import torch
import torch.nn as nn

from golden_py import train
from golden_py.averaging import WeightAverage
from golden_py.checkpoint import load_model


def _tiny(seed):
    torch.manual_seed(seed)
    m = nn.Sequential(nn.Linear(3, 4), nn.BatchNorm1d(4))
    with torch.no_grad():
        m[1].weight.normal_()
        m[1].bias.normal_()
    m.train()
    m(torch.randn(8, 3))  # gives BN running statistics and num_batches_tracked their own values per model
    return m


def test_average_is_the_mean_of_snapshots():
    models = [_tiny(s) for s in range(3)]
    for _ in range(2):
        models[2](torch.randn(8, 3))  # the last snapshot has tracked more batches
    avg = WeightAverage()
    for m in models:
        avg.update(m)
    assert avg.count == 3
    out = _tiny(9)
    avg.copy_to(out)
    sds = [m.state_dict() for m in models]
    for k, v in out.state_dict().items():
        if v.is_floating_point():
            want = sum(sd[k] for sd in sds) / 3
            assert torch.allclose(v, want, rtol=0, atol=1e-6), k
            assert not torch.equal(v, sds[0][k]), k  # really averaged, not the first snapshot kept
        else:
            assert torch.equal(v, sds[2][k]), k


def test_average_state_round_trip_and_errors():
    avg = WeightAverage()
    with pytest.raises(ValueError, match="no snapshot"):
        avg.copy_to(_tiny(0))
    avg.update(_tiny(0))
    avg.update(_tiny(1))
    again = WeightAverage()
    again.load_state_dict(avg.state_dict())
    again.update(_tiny(2))
    avg.update(_tiny(2))
    assert again.count == avg.count == 3
    assert all(torch.equal(again.avg[k], avg.avg[k]) for k in avg.avg)
    with pytest.raises(ValueError, match="keys differ"):
        avg.update(nn.Linear(3, 4))


def test_lr_schedule_with_and_without_swa():
    total, warmup = 100, 10
    plain = [train.lr_factor(s, total, warmup) for s in range(total)]
    assert plain[warmup - 1] == 1.0 and plain[0] == 1 / warmup
    assert plain[-1] == pytest.approx(0.5 * (1 + math.cos(math.pi * 89 / 90)))
    assert all(a >= b for a, b in zip(plain[warmup:], plain[warmup + 1:]))
    swa = [train.lr_factor(s, total, warmup, swa_start=60, swa_factor=0.2) for s in range(total)]
    assert swa[:warmup] == plain[:warmup] and swa[warmup] == 1.0
    assert all(a > b for a, b in zip(swa[warmup:60], swa[warmup + 1:61]))  # anneals down to the SWA lr ...
    assert swa[59] > 0.2 and set(swa[60:]) == {0.2}                       # ... and holds it
    assert {train.lr_factor(s, total, 0, swa_start=0, swa_factor=0.5) for s in range(total)} == {0.5}


def _train_argv(data, out, swa=("--swa-from", "1", "--swa-lr", "0.01"), epochs=3):
    return ["--data-dir", str(data), "--out", str(out), "--epochs", str(epochs), "--batch-size", "8",
            "--limit-batches", "1", "--eval-images", "8", "--warmup-epochs", "0", "--lr", "0.02", *swa]


def test_swa_training_resumes_exactly_and_saves_the_average(tmp_path, fake_cifar, monkeypatch):
    """A run interrupted after epoch 2 and resumed, or a shorter run extended, ends with the same average as
    an uninterrupted one, and model.pt holds that average (snapshots of epochs 2 and 3), not the running
    weights."""
    fake_cifar(tmp_path / "data", n=16)
    assert train.main(_train_argv(tmp_path / "data", tmp_path / "whole")) == 0

    saves = []
    real_save = train.save_inference

    def save_then_stop(model, path, meta):
        saves.append(meta["epochs_trained"])
        if meta["epochs_trained"] == 3:
            raise KeyboardInterrupt
        real_save(model, path, meta)

    monkeypatch.setattr(train, "save_inference", save_then_stop)
    with pytest.raises(KeyboardInterrupt):
        train.main(_train_argv(tmp_path / "data", tmp_path / "cut"))
    monkeypatch.setattr(train, "save_inference", real_save)
    assert saves == [1, 2, 3]
    assert train.main(_train_argv(tmp_path / "data", tmp_path / "cut") + ["--resume"]) == 0

    # a 2-epoch run extended to 3 by resuming: the lr is constant in the SWA phase, so nothing differs
    assert train.main(_train_argv(tmp_path / "data", tmp_path / "short", epochs=2)) == 0
    assert train.main(_train_argv(tmp_path / "data", tmp_path / "short", epochs=3) + ["--resume"]) == 0

    whole, meta = load_model(tmp_path / "whole" / "model.pt")
    assert meta["swa_snapshots"] == 2
    for other in ("cut", "short"):
        m, _ = load_model(tmp_path / other / "model.pt")
        for k, v in whole.state_dict().items():
            assert torch.equal(v, m.state_dict()[k]), (other, k)
    st = torch.load(tmp_path / "whole" / "state.pt", weights_only=True)
    assert st["swa"]["count"] == 2
    w = "features.0.weight"
    assert torch.equal(whole.state_dict()[w], st["swa"]["avg"][w].float())
    assert not torch.equal(whole.state_dict()[w], st["model"][w].float())
    # resuming with other SWA settings, or a cosine run with another length, is refused, not silently mixed
    assert train.main(_train_argv(tmp_path / "data", tmp_path / "cut", swa=()) + ["--resume"]) == 2
    assert train.main(_train_argv(tmp_path / "data", tmp_path / "plain", swa=(), epochs=1)) == 0
    assert train.main(_train_argv(tmp_path / "data", tmp_path / "plain", swa=(), epochs=2) + ["--resume"]) == 2


def test_swa_argument_errors(tmp_path, capsys):
    for extra, msg in [(["--swa-from", "1"], "positive --swa-lr"), (["--swa-lr", "0.01"], "needs --swa-from"),
                       (["--swa-from", "3", "--swa-lr", "0.01"], "must be in"),
                       (["--swa-from", "0", "--swa-lr", "0.01", "--warmup-epochs", "1"], "must end by")]:
        with pytest.raises(SystemExit) as e:
            train.main(["--data-dir", str(tmp_path), "--epochs", "3"] + extra)
        assert e.value.code == 2 and msg in capsys.readouterr().err
