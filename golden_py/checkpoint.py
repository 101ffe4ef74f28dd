"""Saving and loading the trained model, with errors that name the file and what is wrong with it."""
from __future__ import annotations

from pathlib import Path

import torch

from .model import VGG16Quant

FORMAT = "golden_py.vgg16_quant/1"
# Conv and linear weights are stored as fp16 to keep the committed file small; the stored values are the
# model (evaluation loads exactly them), so the quoted accuracy is that of the file, not of a finer copy.
_HALF_MIN_NUMEL = 4096


class CheckpointError(RuntimeError):
    pass


def save_inference(model: VGG16Quant, path: str | Path, meta: dict) -> None:
    sd = {}
    for k, v in model.state_dict().items():
        v = v.detach().cpu()
        if v.is_floating_point() and v.numel() >= _HALF_MIN_NUMEL:
            v = v.half()
        sd[k] = v.clone()
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(path.suffix + ".tmp")
    torch.save({"format": FORMAT, "arch": model.arch(), "state_dict": sd, "meta": meta}, tmp)
    tmp.replace(path)


def load_model(path: str | Path) -> tuple[VGG16Quant, dict]:
    """Model in eval mode and fp32, plus the checkpoint's metadata. Accepts inference checkpoints and the
    training state files written by golden_py.train."""
    path = Path(path)
    if not path.is_file():
        raise CheckpointError(f"{path}: checkpoint not found")
    try:
        ck = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as e:
        raise CheckpointError(f"{path}: not a readable torch checkpoint ({type(e).__name__}: {e})") from e
    if not isinstance(ck, dict) or "state_dict" not in ck or "arch" not in ck:
        raise CheckpointError(f"{path}: not a golden_py checkpoint (no 'arch'/'state_dict' entries)")
    arch, sd = ck["arch"], ck["state_dict"]
    if not isinstance(arch, dict) or arch.get("name") != "VGG16_quant":
        got = arch.get("name") if isinstance(arch, dict) else type(arch).__name__
        raise CheckpointError(f"{path}: arch {got!r}, expected a dict naming 'VGG16_quant'")
    for key, allowed in (("squeeze", (8, 16)), ("a_bit", (2, 4)), ("w_bit", (4,))):
        if arch.get(key) not in allowed:
            raise CheckpointError(f"{path}: arch[{key!r}] = {arch.get(key)!r}, expected one of {allowed}")
    if not isinstance(sd, dict) or not all(isinstance(k, str) and isinstance(v, torch.Tensor) for k, v in sd.items()):
        bad = next((k for k, v in sd.items() if not isinstance(v, torch.Tensor)), None) if isinstance(sd, dict) else None
        raise CheckpointError(f"{path}: state_dict must map names to tensors"
                              + (f" ({bad!r} holds a {type(sd[bad]).__name__})" if bad else
                                 f" (it is a {type(sd).__name__})"))
    for k, v in sd.items():
        if v.is_floating_point() and not torch.isfinite(v).all():
            raise CheckpointError(f"{path}: {k} holds NaN or infinite values (not finite)")
    model = VGG16Quant(squeeze=arch["squeeze"], a_bit=arch["a_bit"], w_bit=arch["w_bit"],
                       num_classes=arch.get("num_classes", 10))
    sd = {k: v.float() if v.is_floating_point() else v for k, v in sd.items()}
    try:
        missing, unexpected = model.load_state_dict(sd, strict=False)
    except RuntimeError as e:  # shape mismatches
        first = str(e).strip().splitlines()[-1].strip()
        raise CheckpointError(f"{path}: state_dict does not fit VGG16_quant{arch}: {first}") from e
    if missing or unexpected:
        raise CheckpointError(f"{path}: state_dict does not fit VGG16_quant{arch}: "
                              f"missing {missing[:4]}, unexpected {unexpected[:4]}")
    model.eval()
    return model, dict(ck.get("meta", {}))
