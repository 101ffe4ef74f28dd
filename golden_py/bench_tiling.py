"""Benchmark: vectorised tiling reference vs the seed notebooks' loop of nn.Linear calls.

    python -m golden_py.bench_tiling [--checkpoint PATH] [--layer 3] [--array 8] [--seed-kij 1]

The seed loop (one nn.Linear per kij, ic tile, oc tile and padded position) is timed on its first
--seed-kij kernel positions and extrapolated to all 9 (each kij costs the same); its psums are checked
equal to the vectorised ones for the positions it computed.
"""
from __future__ import annotations

import argparse
import sys
import time

from .cliargs import ArgumentParser, interruptible
from .tiling import tile_layer

# torch (about 1.4 s to import) is imported once the options and the checkpoint's path are judged: a bad one is
# one line without it


def seed_loop(a_tiles, w_tiles, kijs):
    """The seed notebook's cell 8, as written there (float tensors, a fresh nn.Linear per call)."""
    import torch
    import torch.nn as nn
    n_ic, rows, p = a_tiles.shape
    n_oc, cols = w_tiles.shape[1], w_tiles.shape[2]
    a = a_tiles.float()
    w = w_tiles.float()
    psum = torch.zeros(n_ic, n_oc, cols, p, 9)
    for kij in kijs:
        for ic_tile in range(n_ic):
            for oc_tile in range(n_oc):
                for nij in range(p):
                    m = nn.Linear(rows, cols, bias=False)
                    m.weight = nn.Parameter(w[ic_tile, oc_tile, :, :, kij])
                    psum[ic_tile, oc_tile, :, nij, kij] = m(a[ic_tile, :, nij]).detach()
    return psum


@interruptible
def main(argv=None) -> int:
    ap = ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--checkpoint", default=None, help="take the layer's integers from this checkpoint "
                    "(default: random integers of the layer's shape)")
    ap.add_argument("--layer", type=int, default=3)
    ap.add_argument("--array", type=int, default=8)
    ap.add_argument("--seed-kij", type=int, default=1, help="kernel positions the seed loop runs (1..9)")
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args(argv)
    for flag, value, lo, hi in (("--repeat", args.repeat, 1, None), ("--seed-kij", args.seed_kij, 1, 9),
                                ("--array", args.array, 1, 64)):
        if value < lo or (hi is not None and value > hi):
            print(f"error: {flag} {value}: must be " + (f"in {lo}..{hi}" if hi is not None else f">= {lo}"), file=sys.stderr)
            return 2
    if args.checkpoint:
        from .checkpoint_file import CheckpointError, checkpoint_path
        try:
            checkpoint_path(args.checkpoint)
        except CheckpointError as e:
            print(f"error: --checkpoint {e}", file=sys.stderr)
            return 2
    import torch
    if args.checkpoint:
        from .checkpoint import CheckpointError, load_model
        from .data import load_samples
        from .extract import LayerError, extract_layer
        try:
            model, _ = load_model(args.checkpoint)
            li = extract_layer(model, args.layer, load_samples()[0][:1])
        except CheckpointError as e:   # missing, truncated, not a checkpoint: one line, as golden_py.export
            print(f"error: --checkpoint {e}", file=sys.stderr)
            return 2
        except LayerError as e:
            print(f"error: --layer {args.layer}: {e}", file=sys.stderr)
            return 2
        a, w = li.a_int[0], li.w_int
    else:
        from .model import VGG16Quant
        from .quant import QuantConv2d
        features = VGG16Quant().features
        convs = [i for i, m in enumerate(features) if isinstance(m, QuantConv2d)]
        if args.layer not in convs:
            print(f"error: --layer {args.layer}: not a QuantConv2d of VGG16_quant; choose one of {convs}", file=sys.stderr)
            return 2
        conv = features[args.layer]
        g = torch.Generator().manual_seed(0)
        side = {0: 32, 3: 32, 7: 16, 10: 16, 14: 8, 17: 8, 20: 8, 24: 4, 27: 4, 29: 4}.get(args.layer, 2)
        a = torch.randint(0, 16, (conv.in_channels, side, side), generator=g)
        w = torch.randint(-7, 8, (conv.out_channels, conv.in_channels, 3, 3), generator=g)
    ic, h = a.shape[0], a.shape[1]
    oc = w.shape[0]
    times = []
    for _ in range(args.repeat):
        t0 = time.perf_counter()
        t = tile_layer(a, w, args.array, args.array)
        times.append(time.perf_counter() - t0)
    vec = min(times)
    kijs = range(max(1, min(9, args.seed_kij)))
    t0 = time.perf_counter()
    ps = seed_loop(torch.from_numpy(t.a_tiles), torch.from_numpy(t.w_tiles), kijs)
    seed_part = time.perf_counter() - t0
    seed_full = seed_part * 9 / len(kijs)
    equal = torch.equal(ps[..., list(kijs)].round().long(), torch.from_numpy(t.psum[..., list(kijs)]))
    calls = t.n_ic * t.n_oc * t.psum.shape[3] * 9
    print(f"layer features[{args.layer}]: {ic}->{oc} on {h}x{h}, array {args.array}x{args.array}: "
          f"{t.n_ic}x{t.n_oc} tiles, {t.psum.shape[3]} padded positions, {t.psum.size} psums")
    print(f"vectorised tile_layer: {vec:.3f} s (best of {args.repeat})")
    print(f"seed loop: {seed_part:.1f} s for {len(kijs)}/9 kij ({calls * len(kijs) // 9} nn.Linear calls) "
          f"-> {seed_full:.1f} s for all 9 (extrapolated)")
    print(f"psums equal on the positions both computed: {equal}")
    print(f"speed-up: {seed_full / vec:.0f}x")
    return 0 if equal else 1


if __name__ == "__main__":
    sys.exit(main())
