"""The whole network as the accelerator runs it: host steps between integer conv layers.

The network is cut into segments: runs of modules the host applies in float (the first conv, BN, ReLU,
max-pool, ...) and conv layers computed as exact integers, conv(a_int, w_int). Between them the host
does what PyTorch does: scale the integer output back (out_int * a_scale * w_scale), then the following
modules, then the next layer quantizes its input. The golden run and the RTL run walk the same segments;
the RTL run only replaces the integer conv, so their per-layer integers must match bit for bit.
"""
from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn as nn

from .extract import to_int
from .model import VGG16Quant
from .quant import QuantConv2d, act_levels, quantize_act, quantize_weight, weight_levels


@dataclass
class ConvStep:
    index: int
    conv: QuantConv2d
    w_int: torch.Tensor
    a_scale: float
    w_scale: float

    def quantize_input(self, x: torch.Tensor) -> torch.Tensor:
        a_q = quantize_act(x, self.conv.act_alpha, self.conv.a_bit)
        return to_int(a_q, self.a_scale, 0, act_levels(self.conv.a_bit), f"features[{self.index}] activations")

    def dequantize_output(self, out_int: torch.Tensor) -> torch.Tensor:
        return (out_int.double() * (self.a_scale * self.w_scale)).float()


@dataclass
class HostStep:
    modules: list[nn.Module]
    indices: list[int]

    def __call__(self, x: torch.Tensor) -> torch.Tensor:
        for m in self.modules:
            x = m(x)
        return x


def segments(model: VGG16Quant, int_layers: list[int] | None = None) -> list:
    """Host/conv steps of model.features. int_layers: QuantConv2d indices computed as integers (default:
    every QuantConv2d except features[0], whose input is the signed normalised image)."""
    qconv = model.quant_conv_indices()
    int_layers = [i for i in qconv if i != 0] if int_layers is None else list(int_layers)
    bad = [i for i in int_layers if i not in qconv or i == 0]
    if bad:
        raise ValueError(f"features{bad} cannot run as integer layers (QuantConv2d with unsigned input: "
                         f"{[i for i in qconv if i != 0]})")
    steps: list = []
    host: HostStep | None = None
    with torch.no_grad():
        for i, m in enumerate(model.features):
            if i in int_layers:
                w_scale = m.weight_quant.wgt_alpha.item() / weight_levels(m.w_bit)
                w_q = quantize_weight(m.weight, m.weight_quant.wgt_alpha, m.w_bit)
                wl = weight_levels(m.w_bit)
                w_int = to_int(w_q, w_scale, -wl, wl, f"features[{i}] weights")
                steps.append(ConvStep(i, m, w_int, m.act_alpha.item() / act_levels(m.a_bit), w_scale))
                host = None
            else:
                if host is None:
                    host = HostStep([], [])
                    steps.append(host)
                host.modules.append(m)
                host.indices.append(i)
    return steps
