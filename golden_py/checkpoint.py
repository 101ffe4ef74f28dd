"""Saving and loading the trained model, with errors that name the file and what is wrong with it."""
from __future__ import annotations

import re
import warnings
from pathlib import Path

import torch

from .checkpoint_file import CheckpointError, checkpoint_path
from .model import VGG16Quant

FORMAT = "golden_py.vgg16_quant/1"
# Conv and linear weights are stored as fp16 to keep the committed file small; the stored values are the
# model (evaluation loads exactly them), so the quoted accuracy is that of the file, not of a finer copy.
_HALF_MIN_NUMEL = 4096


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
    path = checkpoint_path(path)
    try:
        with open(path, "rb") as f:
            head = f.read(4)
    except OSError as e:
        raise CheckpointError(f"{path}: cannot read ({e.strerror or e})") from None
    if not (head.startswith(b"PK\x03\x04") or head[:1] == b"\x80"):   # torch.save's zip, or an older raw pickle
        raise CheckpointError(f"{path}: not a torch checkpoint (neither torch.save's zip archive nor a pickle: it "
                              f"starts with {head!r})")
    try:
        with warnings.catch_warnings():     # torch warns in two lines about a raw pickle's protocol: one line here
            warnings.simplefilter("ignore", UserWarning)
            ck = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as e:
        text = re.sub(r"\x1b\[[0-9;]*m", "", str(e)).strip()
        if "Weights only load failed" in text and "Unsupported global" in text:
            # torch's own message goes on to advise weights_only=False, i.e. running the file's code: never here
            raise CheckpointError(f"{path}: holds objects that torch.load builds only by running code from the "
                                  f"file; refused, never unpickled (a checkpoint of tensors and plain values "
                                  f"loads)") from e
        # one line, plain, so that every command's error stays one line: the weights-only unpickler's own reason
        # where torch gives one (a damaged pickle: 'Unsupported operand 255'), never its advice to load the file
        # with weights_only=False; else the first line
        reason = re.search(r"WeightsUnpickler error:\s*(.*?)\s*(?:Check the documentation|$)", text, re.S)
        first = " ".join(reason.group(1).split()) if reason else (text.splitlines() or [""])[0].strip()
        raise CheckpointError(f"{path}: not a readable torch checkpoint ({type(e).__name__}: {first})") from e
    if isinstance(ck, dict) and "state_dict" in ck and "arch" not in ck:
        return from_course_checkpoint(ck, path)
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
    _check_values(sd, path)
    model = VGG16Quant(squeeze=arch["squeeze"], a_bit=arch["a_bit"], w_bit=arch["w_bit"],
                       num_classes=arch.get("num_classes", 10), squeeze_identity=arch.get("squeeze_identity"))
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


def from_course_checkpoint(ck: dict, path: Path) -> tuple[VGG16Quant, dict]:
    """A checkpoint saved by the course's notebooks: {'state_dict': ..., 'best_prec': ..., ...} with the
    course's module names. The variant comes from the tensor shapes: the squeeze layer features.27 is 8->8
    (4a4w, notebook 001) or 16->16 (2a4w, notebook 003), and the squeeze-to-512 conv sits at features.29
    (notebook 001's numbering) or features.30 (notebook 003's, with an Identity at 28)."""
    sd = ck["state_dict"]
    if not isinstance(sd, dict):
        raise CheckpointError(f"{path}: state_dict is a {type(sd).__name__}, not a dict")
    sd = {k[len("module."):] if k.startswith("module.") else k: v for k, v in sd.items()}   # DataParallel saves
    w27 = sd.get("features.27.weight")
    if not isinstance(w27, torch.Tensor) or w27.dim() != 4 or w27.shape[0] != w27.shape[1] or w27.shape[0] not in (8, 16):
        got = tuple(w27.shape) if isinstance(w27, torch.Tensor) else "missing"
        raise CheckpointError(f"{path}: neither course variant: features.27.weight is {got}, expected the 8->8 "
                              f"(4a4w) or 16->16 (2a4w) squeeze conv (8, 8, 3, 3) or (16, 16, 3, 3)")
    s = w27.shape[0]
    identity = None
    for idx, ident in ((29, False), (30, True)):
        w = sd.get(f"features.{idx}.weight")
        if isinstance(w, torch.Tensor) and tuple(w.shape) == (512, s, 3, 3):
            identity = ident
    if identity is None:
        raise CheckpointError(f"{path}: no {s}->512 conv at features.29 (notebook 001's numbering) or features.30 "
                              f"(notebook 003's): not a course VGG16_quant")
    a_bit = 4 if s == 8 else 2
    model = VGG16Quant(squeeze=s, a_bit=a_bit, squeeze_identity=identity)
    # weight_q is the quantized weight the course's layer caches: derived, not state
    state = {k: v.float() if v.is_floating_point() else v for k, v in sd.items()
             if isinstance(v, torch.Tensor) and not k.endswith("weight_q")}
    _check_values(state, path)
    try:
        missing, unexpected = model.load_state_dict(state, strict=False)
    except RuntimeError as e:
        raise CheckpointError(f"{path}: course state_dict does not fit VGG16_quant (squeeze {s}): "
                              f"{str(e).strip().splitlines()[-1].strip()}") from e
    if missing or unexpected:
        raise CheckpointError(f"{path}: course state_dict does not fit VGG16_quant (squeeze {s}): missing "
                              f"{missing[:4]}, unexpected {unexpected[:4]}")
    model.eval()
    meta = {"source": f"course notebook checkpoint ({'2a4w, notebook 003' if s == 16 else '4a4w'} numbering "
                      f"{'003' if identity else '001'})"}
    for key in ("best_prec", "epoch"):
        if isinstance(ck.get(key), (int, float)) or (isinstance(ck.get(key), torch.Tensor) and ck[key].numel() == 1):
            meta[key] = float(ck[key])
    return model, meta


def _check_values(sd: dict, path) -> None:
    """Every float finite, and every quantizer's alpha (act_alpha, wgt_alpha: its scale) above 0: a scale of 0
    or below gives integers off the 4-bit grid, found only inside a simulation (a traceback there) before."""
    for k, v in sd.items():
        if v.is_floating_point() and not torch.isfinite(v).all():
            raise CheckpointError(f"{path}: {k} holds NaN or infinite values (not finite)")
        if k.endswith(("act_alpha", "wgt_alpha")) and v.is_floating_point() and not (v > 0).all():
            raise CheckpointError(f"{path}: {k} = {v.flatten()[0].item():g}: a quantizer's alpha (its scale) must be "
                                  f"above 0")
