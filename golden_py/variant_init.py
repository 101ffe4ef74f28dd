"""Start one VGG16_quant variant from another: widen the squeeze block, then fit the activation quantizers.

Notebook 003 starts the 2a4w network (squeeze 16, 2-bit activations) from the 4a4w one (squeeze 8). Left
fresh, the squeeze block's three convolutions and two BatchNorms cut the network in two, and the first
epochs of fine-tuning only rebuild what the 4a4w model already knew (45% top-1 after one epoch here).

`widen` instead copies the narrow block into the wide one so that the wide model computes the same function
(Net2Net-style widening): every channel of the narrow block appears k = wide/narrow times. Two properties of
these layers make the copy the same function without rescaling any weight (up to float rounding and the
std's n-1, which move a few values across a quantizer's rounding boundary):
- QuantConv2d normalises its weight over the whole tensor before quantizing, and tiling a tensor keeps its
  mean and (up to n-1 vs kn-1 in the unbiased std) its spread, so every copied weight quantizes as before;
- a convolution that reads k copies of each input channel therefore sums every product k times: its output
  is k times the narrow one. ReLU and max-pooling commute with a positive scale, so the next activation
  quantizer takes alpha * k (same levels), and the next BatchNorm takes running mean * k and variance * k^2.
Small noise on the copies (`noise`, relative to each tensor's std) lets training pull the copies apart;
without it they would receive identical gradients for ever.

`calibrate` fits the model to a new activation width without training: each QuantConv2d's act_alpha is set,
in forward order, to the clip that minimises the mean squared quantization error of its input on a batch of
training images (later layers see the already re-quantized earlier ones), then the BatchNorm running
statistics are re-estimated on the same images, and both are repeated once.
"""
from __future__ import annotations

import torch
import torch.nn as nn

from .quant import QuantConv2d, quantize_act


class VariantError(ValueError):
    """The two models cannot be mapped onto each other."""


def _tile_index(n_dst: int, n_src: int, what: str) -> torch.Tensor:
    if n_dst % n_src:
        raise VariantError(f"{what}: {n_dst} channels is not a multiple of {n_src}")
    return torch.arange(n_dst) % n_src


@torch.no_grad()
def widen(src: nn.Module, dst: nn.Module, noise: float = 0.0, generator: torch.Generator | None = None) -> list[str]:
    """Copy src (narrow squeeze block) into dst (squeeze a multiple of src's), function-preserving up to
    `noise`. Both must have the same layer sequence apart from Identity modules. Returns the dst modules that
    were widened."""
    src_mods = [m for m in src.features if not isinstance(m, nn.Identity)]
    dst_mods = [(i, m) for i, m in enumerate(dst.features) if not isinstance(m, nn.Identity)]
    if [type(m) for m in src_mods] != [type(m) for _, m in dst_mods]:
        raise VariantError("the two models' layer sequences differ (beyond Identity modules)")
    widened, scale = [], 1.0
    for s, (i, d) in zip(src_mods, dst_mods):
        if isinstance(d, QuantConv2d):
            o_idx = _tile_index(d.out_channels, s.out_channels, f"features.{i} outputs")
            i_idx = _tile_index(d.in_channels, s.in_channels, f"features.{i} inputs")
            w = s.weight[o_idx][:, i_idx].clone()
            if noise and (d.out_channels != s.out_channels or d.in_channels != s.in_channels):
                copies = (torch.arange(d.out_channels) >= s.out_channels).view(-1, 1, 1, 1) | \
                         (torch.arange(d.in_channels) >= s.in_channels).view(1, -1, 1, 1)
                jitter = torch.randn(w.shape, generator=generator) * (noise * float(s.weight.std()))
                w += jitter * copies
            d.weight.copy_(w)
            d.weight_quant.wgt_alpha.copy_(s.weight_quant.wgt_alpha)
            d.act_alpha.copy_(s.act_alpha * scale)
            if d.weight.shape != s.weight.shape:
                widened.append(f"features.{i}")
            scale *= d.in_channels // s.in_channels
        elif isinstance(d, nn.BatchNorm2d):
            idx = _tile_index(d.num_features, s.num_features, f"features.{i}")
            d.weight.copy_(s.weight[idx])
            d.bias.copy_(s.bias[idx])
            d.running_mean.copy_(s.running_mean[idx] * scale)
            d.running_var.copy_(s.running_var[idx] * scale * scale)
            d.num_batches_tracked.copy_(s.num_batches_tracked)
            if d.num_features != s.num_features:
                widened.append(f"features.{i}")
            scale = 1.0
    if scale != 1.0:
        raise VariantError("the last convolution's output is not normalised by a BatchNorm")
    dst.classifier.load_state_dict(src.classifier.state_dict())
    return widened


def mse_alpha(x: torch.Tensor, a_bit: int, steps: int = 100, sample: int = 1 << 20) -> float:
    """The clip alpha in (0, max x] whose a_bit quantization of x has the least mean squared error, measured
    on at most `sample` elements of x drawn at random with a fixed seed (the whole batch costs minutes for
    the same choice; a stride would pick the same few positions of every feature map)."""
    top = float(x.max())
    x = x.reshape(-1)
    if x.numel() > sample:
        x = x[torch.randint(0, x.numel(), (sample,), generator=torch.Generator().manual_seed(0))]
    if top <= 0:
        return 1.0
    best, best_err = top, None
    for k in range(1, steps + 1):
        alpha = top * k / steps
        err = float((quantize_act(x, torch.tensor(alpha), a_bit) - x).pow(2).mean())
        if best_err is None or err < best_err:
            best, best_err = alpha, err
    return best


@torch.no_grad()
def calibrate(model: nn.Module, images: torch.Tensor, rounds: int = 2) -> dict:
    """Fit every act_alpha to its input (MSE) and re-estimate BatchNorm statistics on `images` (normalised
    float batch). Returns {module name: alpha} of the last round."""
    convs = [(n, m) for n, m in model.named_modules() if isinstance(m, QuantConv2d)]
    bns = [m for m in model.modules() if isinstance(m, nn.BatchNorm2d)]
    saved = [m.momentum for m in bns]
    alphas = {}

    def fit(name):
        def hook(mod, args):
            alphas[name] = mse_alpha(args[0].float(), mod.a_bit)
            mod.act_alpha.fill_(alphas[name])
        return hook
    for _ in range(rounds):
        handles = [m.register_forward_pre_hook(fit(n)) for n, m in convs]
        model.eval()
        try:
            model(images)
        finally:
            for h in handles:
                h.remove()
        for m in bns:
            m.reset_running_stats()
            m.momentum = None           # cumulative average over the calibration batch
        model.train()
        try:
            model(images)
        finally:
            for m, mom in zip(bns, saved):
                m.momentum = mom
            model.eval()
    return alphas
