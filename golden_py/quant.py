"""Quantizers of the course's QAT scheme, and the QuantConv2d that uses them.

Weights (b = w_bit - 1 magnitude bits): normalise over the layer, clip w_n / alpha_w to [-1, 1], round the
magnitude to (2^b - 1) levels, rescale by alpha_w. Activations: clip a / alpha_a at 1 from above only,
round to (2^b - 1) levels, rescale. Both alphas are learnable with straight-through gradients.
"""
from __future__ import annotations

import torch
import torch.nn as nn
import torch.nn.functional as F


class _WeightQuant(torch.autograd.Function):
    @staticmethod
    def forward(ctx, w_n, alpha, levels: int):
        x = w_n / alpha
        xc = x.clamp(-1.0, 1.0)
        q = torch.sign(xc) * torch.round(xc.abs() * levels) / levels
        ctx.save_for_backward(x)
        return q * alpha

    @staticmethod
    def backward(ctx, grad_out):
        (x,) = ctx.saved_tensors
        clipped = x.abs() > 1.0
        grad_in = grad_out.masked_fill(clipped, 0.0)
        grad_alpha = (grad_out * torch.sign(x) * clipped).sum().reshape(())
        return grad_in, grad_alpha, None


class _ActQuant(torch.autograd.Function):
    @staticmethod
    def forward(ctx, a, alpha, levels: int):
        x = a / alpha
        q = torch.round(x.clamp(max=1.0) * levels) / levels
        ctx.save_for_backward(x)
        return q * alpha

    @staticmethod
    def backward(ctx, grad_out):
        (x,) = ctx.saved_tensors
        over = x > 1.0
        grad_in = grad_out.masked_fill(over, 0.0)
        grad_alpha = (grad_out * over).sum().reshape(())
        return grad_in, grad_alpha, None


def weight_levels(w_bit: int) -> int:
    """Magnitude levels of a signed w_bit weight: 7 for 4 bits (integers -7..7)."""
    return 2 ** (w_bit - 1) - 1


def act_levels(a_bit: int) -> int:
    """Levels of an unsigned a_bit activation: 15 for 4 bits (integers 0..15)."""
    return 2 ** a_bit - 1


def normalize_weight(w: torch.Tensor) -> torch.Tensor:
    # Statistics are detached: the course treats them as constants in backward.
    mean = w.detach().mean()
    std = w.detach().std()  # unbiased, as torch.std defaults
    return (w - mean) / std


def quantize_weight(w: torch.Tensor, alpha: torch.Tensor, w_bit: int) -> torch.Tensor:
    return _WeightQuant.apply(normalize_weight(w), alpha, weight_levels(w_bit))


def quantize_act(a: torch.Tensor, alpha: torch.Tensor, a_bit: int) -> torch.Tensor:
    return _ActQuant.apply(a, alpha, act_levels(a_bit))


class WeightQuantizer(nn.Module):
    def __init__(self, w_bit: int = 4, alpha: float = 3.0):
        super().__init__()
        self.w_bit = w_bit
        self.wgt_alpha = nn.Parameter(torch.tensor(float(alpha)))

    def forward(self, w: torch.Tensor) -> torch.Tensor:
        return quantize_weight(w, self.wgt_alpha, self.w_bit)


class QuantConv2d(nn.Conv2d):
    """3x3 conv (pad 1, no bias by default) on quantized input and quantized weight.

    After each forward, `weight_q` holds the quantized weight used, so integer extraction reads it instead
    of re-deriving it.
    """

    def __init__(self, in_channels, out_channels, kernel_size=3, stride=1, padding=1, bias=False,
                 w_bit: int = 4, a_bit: int = 4):
        super().__init__(in_channels, out_channels, kernel_size, stride=stride, padding=padding, bias=bias)
        self.w_bit = w_bit
        self.a_bit = a_bit
        self.weight_quant = WeightQuantizer(w_bit)
        self.act_alpha = nn.Parameter(torch.tensor(8.0))
        self.weight_q: torch.Tensor | None = None

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        # Quantize in fp32 even under bf16 autocast: rounding to 15 levels needs the mantissa.
        with torch.autocast(device_type=x.device.type, enabled=False):
            w_q = self.weight_quant(self.weight.float())
            x_q = quantize_act(x.float(), self.act_alpha, self.a_bit)
        self.weight_q = w_q.detach()
        return F.conv2d(x_q, w_q, self.bias, self.stride, self.padding, self.dilation, self.groups)

    # Integer view -----------------------------------------------------------------------------------
    @property
    def w_scale(self) -> float:
        return self.weight_quant.wgt_alpha.item() / weight_levels(self.w_bit)

    @property
    def a_scale(self) -> float:
        return self.act_alpha.item() / act_levels(self.a_bit)

    def extra_repr(self) -> str:
        return super().extra_repr() + f", w_bit={self.w_bit}, a_bit={self.a_bit}"
