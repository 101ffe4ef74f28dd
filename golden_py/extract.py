"""Capture a QuantConv2d layer's input/output with hooks and turn them into exact integers.

a_int = round(a_q / (alpha_a / (2^a_bit - 1))), w_int = round(weight_q / (alpha_w / (2^(w_bit-1) - 1))),
and conv(a_int, w_int) * a_scale * w_scale reproduces the float layer.
"""
from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn as nn
import torch.nn.functional as F

from .model import normalize
from .quant import QuantConv2d, act_levels, quantize_act, weight_levels


class LayerError(ValueError):
    pass


@dataclass
class LayerInts:
    index: int                 # position in model.features
    a_int: torch.Tensor        # (N, IC, H, W) int64
    w_int: torch.Tensor        # (OC, IC, 3, 3) int64
    a_scale: float
    w_scale: float
    out_int: torch.Tensor      # (N, OC, H, W) int64: conv(a_int, w_int), padding 1
    float_out: torch.Tensor    # the layer's float output as PyTorch computed it
    next_input: torch.Tensor   # what the module after the conv received (ReLU/BN input side)
    next_module: str

    @property
    def relu_int(self) -> torch.Tensor:
        return self.out_int.clamp(min=0)

    def recovered(self) -> torch.Tensor:
        return self.out_int.double() * self.a_scale * self.w_scale


def int_conv(a_int: torch.Tensor, w_int: torch.Tensor, padding: int = 1) -> torch.Tensor:
    """Exact integer 2-D convolution (float64 is exact for these magnitudes: |sum| << 2^53)."""
    return F.conv2d(a_int.double(), w_int.double(), padding=padding).round().long()


def to_int(values: torch.Tensor, scale: float, lo: int, hi: int, what: str) -> torch.Tensor:
    ints = torch.round(values.double() / scale)
    err = (ints * scale - values.double()).abs().max().item() if values.numel() else 0.0
    if err > 1e-4 * max(1.0, scale):
        raise LayerError(f"{what}: values are not on the quantization grid (max error {err:.3g})")
    ints = ints.long()
    if ints.numel() and (ints.min() < lo or ints.max() > hi):
        raise LayerError(f"{what}: integers {int(ints.min())}..{int(ints.max())} outside {lo}..{hi}")
    return ints


def quant_layer(model: nn.Module, index: int) -> QuantConv2d:
    feats = model.features
    if not 0 <= index < len(feats) or not isinstance(feats[index], QuantConv2d):
        valid = [i for i, m in enumerate(feats) if isinstance(m, QuantConv2d)]
        got = type(feats[index]).__name__ if 0 <= index < len(feats) else "out of range"
        raise LayerError(f"features[{index}] is {got}, not a QuantConv2d; QuantConv2d layers: {valid}")
    return feats[index]


@torch.no_grad()
def extract_layer(model: nn.Module, index: int, images_u8: torch.Tensor) -> LayerInts:
    """Run uint8 images through the model and return layer `index`'s exact integer view."""
    conv = quant_layer(model, index)
    # the module that consumes the conv's output: an Identity slot (notebook 003's removed BN) is skipped
    nxt = next(m for m in list(model.features)[index + 1:] if not isinstance(m, nn.Identity))
    captured: dict[str, torch.Tensor] = {}
    # Clones: the model's ReLUs are in-place and would overwrite the captured conv output.
    hooks = [conv.register_forward_hook(
                 lambda m, i, o: captured.update(inp=i[0].detach().clone(), out=o.detach().clone())),
             nxt.register_forward_hook(lambda m, i, o: captured.update(nxt=o.detach().clone()))]
    model.eval()
    try:
        model(normalize(images_u8))
    finally:
        for h in hooks:
            h.remove()
    a_q = quantize_act(captured["inp"], conv.act_alpha, conv.a_bit)
    # The first layer sees the signed normalised image: the course's activation quantizer has no lower clamp.
    a_lo = 0 if index > 0 else -(1 << 30)
    a_int = to_int(a_q, conv.a_scale, a_lo, act_levels(conv.a_bit), f"features[{index}] activations")
    wl = weight_levels(conv.w_bit)
    w_int = to_int(conv.weight_q, conv.w_scale, -wl, wl, f"features[{index}] weights")
    return LayerInts(index=index, a_int=a_int, w_int=w_int, a_scale=conv.a_scale, w_scale=conv.w_scale,
                     out_int=int_conv(a_int, w_int), float_out=captured["out"], next_input=captured["nxt"],
                     next_module=type(nxt).__name__)


def integrity_errors(layer: LayerInts) -> dict[str, float]:
    """Mean abs errors of the integer path against PyTorch: the conv output, and (when the next module is
    a ReLU) the ReLU'd output the next layer receives -- the seed notebooks' "psum integrity" check."""
    rec = layer.recovered()
    errs = {"conv": (rec - layer.float_out.double()).abs().mean().item()}
    if layer.next_module == "ReLU":
        errs["relu"] = (rec.clamp(min=0) - layer.next_input.double()).abs().mean().item()
    return errs
