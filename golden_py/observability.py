"""Which weights a run's comparisons can see (numpy only): what a checker says it did not check.

A weight (output channel o, input channel i, kernel position k) changes a compared value only where it meets a
non-zero activation at a position whose value is compared: an output position (where sums or outputs are
compared) or a padded position whose psum is compared. Where the outputs after ReLU are all that is compared, a
weight that meets non-zero activations only where its output's sum is <= 0 is hidden from a change that keeps
those sums <= 0. accel_tb.env.checker.LayerChecker (every simulator path) and `golden_py.export --check` (the
folder alone) both say these counts.
"""
from __future__ import annotations

import numpy as np

from .tiling import output_gather_index


def psum_positions(mask, streamed=None):
    """psum_positions(i, k) for unobservable(): the padded positions whose psums of input tile i at kernel
    position k are compared -- those the core streams (streamed[k]; None: psums not compared at all) that the
    folder gives (mask (n_ic, n_oc, 1, P, 9) of the positions its psum files hold; None: every one)."""
    def positions(i, k):
        if streamed is None:
            return []
        return [q for q in streamed[k] if mask is None or mask[i, :, 0, q, k].any()]
    return positions


def unobservable(a_tiles, w_tiles, height: int, width: int, in_channels: int, out_channels: int,
                 outputs_compared: bool, psum_positions) -> tuple[int, int, list[tuple[int, int]], np.ndarray] | None:
    """Weights that meet only zero activations at every position a comparison reads. a_tiles (N, n_ic, R, P),
    w_tiles (n_ic, n_oc, C, R, 9); psum_positions(i, k): the padded positions whose psums of input tile i at
    kernel position k are compared (empty where none are). (count, weights of the layer, the (input channel,
    kernel position) pairs, the (n_ic, R, 9) mask of those seen through a psum); None where the activation and
    weight layouts differ (not judged)."""
    a, w = np.asarray(a_tiles), np.asarray(w_tiles)
    if a.shape[1:3] != w.shape[0:1] + w.shape[3:4]:
        return None
    pw = width + 2
    seen_psum = np.zeros(a.shape[1:3] + (9,), dtype=bool)     # (n_ic, R, 9)
    seen = np.zeros(a.shape[1:3] + (9,), dtype=bool)
    for k in range(9):
        outputs = {(y + k // 3) * pw + x + k % 3 for y in range(height) for x in range(width)} \
            if outputs_compared else set()
        for i in range(a.shape[1]):
            psums = set(psum_positions(i, k))
            seen_psum[i, :, k] = (a[:, i][:, :, sorted(psums)] != 0).any(axis=(0, 2))
            seen[i, :, k] = (a[:, i][:, :, sorted(outputs | psums)] != 0).any(axis=(0, 2))
    rows = a.shape[2]
    pairs = [(i * rows + r, k) for i, r, k in zip(*np.nonzero(~seen)) if i * rows + r < in_channels]
    return len(pairs) * out_channels, in_channels * out_channels * 9, pairs, seen_psum


def clamped(a_tiles, w_tiles, height: int, width: int, in_channels: int, out_channels: int, seen_psum) -> int:
    """Weights that meet non-zero activations only where their output's sum is <= 0 (and no psum of theirs is
    compared: seen_psum, from unobservable): hidden behind the ReLU when the outputs after it are all that is
    compared."""
    a, w = np.asarray(a_tiles), np.asarray(w_tiles)
    met = a[:, :, :, output_gather_index(height, width)]                # (N, n_ic, R, HW, 9)
    sums = np.einsum("nirqk,iocrk->nocq", met, w)                      # (N, n_oc, C, HW)
    nonzero = (met != 0).astype(np.int64)
    # (n_ic, n_oc, C, R, 9): the weight meets a non-zero activation at an output whose sum is above 0
    shows = np.einsum("nirqk,nocq->iocrk", nonzero, (sums > 0).astype(np.int64)) > 0
    reaches = nonzero.any(axis=(0, 3))[:, None, None]                   # (n_ic, 1, 1, R, 9)
    hidden = reaches & ~shows & ~np.asarray(seen_psum)[:, None, None]
    n_ic, n_oc, cols, rows, _ = w.shape
    real = ((np.arange(n_ic)[:, None, None, None, None] * rows + np.arange(rows)[None, None, None, :, None]
             < in_channels) &
            (np.arange(n_oc)[None, :, None, None, None] * cols + np.arange(cols)[None, None, :, None, None]
             < out_channels))
    return int((hidden & real).sum())


def summary_lines(counted, clamped_count: int, outputs_compared: bool) -> list[str]:
    """The lines a checker prints for unobservable()'s result and clamped()'s count (none where all is seen)."""
    lines = []
    if counted and counted[0]:
        n, total, pairs = counted[:3]
        channels = sorted({c for c, _ in pairs})
        why = "meet only zero activations" if outputs_compared else \
            "reach no value compared (no sum or output compared; at these kernel positions no psum, or only zeros)"
        lines.append(f"weights not observable: {n} of {total} {why} in this run (input "
                     f"channel{'s' if len(channels) > 1 else ''} {', '.join(map(str, channels[:8]))}"
                     f"{' ...' if len(channels) > 8 else ''} at {len(pairs)} (channel, kernel position) pair"
                     f"{'s' if len(pairs) > 1 else ''}): a wrong one there changes no value checked")
    if counted and clamped_count:
        lines.append(f"weights seen only through outputs the ReLU holds at 0: {clamped_count} of {counted[1]} meet "
                     f"non-zero activations only where their output's sum is <= 0 in this run (no sum "
                     f"compared, nor a psum of theirs): a wrong one that keeps those sums <= 0 changes no value checked")
    return lines
