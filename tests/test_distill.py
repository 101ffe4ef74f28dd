"""Knowledge distillation (golden_py.distill) and train.py --teacher."""
import json

import pytest
import torch
import torch.nn.functional as F

from golden_py import train
from golden_py.card import main as card_main
from golden_py.checkpoint import load_model
from golden_py.distill import distillation_loss, frozen_teacher
from golden_py.model import VGG16Quant


def test_distillation_loss_mixes_cross_entropy_and_softened_kl():
    g = torch.Generator().manual_seed(0)
    s, t = torch.randn(6, 10, generator=g), torch.randn(6, 10, generator=g)
    y = torch.randint(0, 10, (6,), generator=g)
    ce = F.cross_entropy(s, y, label_smoothing=0.1)
    assert torch.equal(distillation_loss(s, t, y, 0.0, 4.0, 0.1), ce)
    # KL written out from its definition, per sample, averaged over the batch
    p_t, p_s = F.softmax(t / 4, 1), F.softmax(s / 4, 1)
    kl = (p_t * (p_t.log() - p_s.log())).sum(1).mean()
    got = distillation_loss(s, t, y, 0.9, 4.0, 0.1)
    assert torch.allclose(got, 0.1 * ce + 0.9 * 16 * kl, rtol=1e-5)
    # a student that copies the teacher pays only the hard term
    assert torch.allclose(distillation_loss(t, t, y, 1.0, 2.0), torch.tensor(0.0), atol=1e-6)
    assert distillation_loss(s, t, y, 1.0, 2.0) > 0


def test_frozen_teacher_has_no_gradients_and_keeps_its_statistics():
    m = frozen_teacher(VGG16Quant())
    bn = m.features[1]
    before = bn.running_mean.clone()
    m(torch.randn(2, 3, 32, 32) * 5)
    assert not m.training and all(not p.requires_grad for p in m.parameters())
    assert torch.equal(bn.running_mean, before)


def test_train_cli_distils_and_records_the_teacher(tmp_path, fake_cifar, random_ckpt):
    fake_cifar(tmp_path / "data", n=16)
    out = tmp_path / "run"
    argv = ["--data-dir", str(tmp_path / "data"), "--out", str(out), "--init", str(random_ckpt), "--teacher",
            str(random_ckpt), "--epochs", "1", "--batch-size", "8", "--eval-images", "8", "--threads", "1", "--limit-batches", "2"]
    assert train.main(argv) == 0
    _, meta = load_model(out / "model.pt")
    assert meta["teacher"]["path"] == str(random_ckpt) and len(meta["teacher"]["sha256"]) == 64
    assert meta["recipe"]["kd_weight"] == 0.9 and meta["recipe"]["kd_temperature"] == 4.0
    # the init checkpoint's provenance comes along: a second stage from this model carries both stages
    assert meta["init_checkpoint"]["file"] == str(random_ckpt) and "command" not in meta["init_checkpoint"]
    out2 = tmp_path / "run2"
    assert train.main(["--data-dir", str(tmp_path / "data"), "--out", str(out2), "--init", str(out / "model.pt"),
                       "--epochs", "1", "--batch-size", "8", "--eval-images", "8", "--threads", "1", "--limit-batches", "2"]) == 0
    _, meta2 = load_model(out2 / "model.pt")
    first = meta2["init_checkpoint"]
    assert first["command"] == meta["command"] and first["teacher"] == meta["teacher"]
    assert first["init_checkpoint"]["file"] == str(random_ckpt)
    card = tmp_path / "card.json"
    assert card_main(["--checkpoint", str(out2 / "model.pt"), "--run", str(out2), "--data-dir", str(tmp_path / "data"),
                      "--provenance", "random pixels", "--out", str(card)]) == 0
    stage1 = json.loads(card.read_text())["init_checkpoint"]
    assert "--data-dir DIR" in stage1["command"] and str(tmp_path / "data") not in stage1["command"]
    # the teacher is part of the recipe: resuming without it is refused
    i = argv.index("--teacher")
    assert train.main(argv[:i] + argv[i + 2:] + ["--resume"]) == 2


def test_teacher_options_are_checked(tmp_path, fake_cifar, capsys):
    fake_cifar(tmp_path / "data", n=16)
    base = ["--data-dir", str(tmp_path / "data"), "--out", str(tmp_path / "r"), "--epochs", "1"]
    for extra in (["--kd-weight", "0.5"], ["--teacher", "t.pt", "--kd-weight", "1.5"],
                  ["--teacher", "t.pt", "--kd-temperature", "0"]):
        with pytest.raises(SystemExit) as e:
            train.main(base + extra)
        assert e.value.code == 2
    assert train.main(base + ["--teacher", str(tmp_path / "missing.pt")]) == 2
    assert "--teacher" in capsys.readouterr().err
