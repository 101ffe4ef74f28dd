"""Tiled psum reference of a weight-stationary R x C array (the seed notebooks' cells 8-9, vectorised).

The array holds an R (input channels) x C (output channels) weight tile for one kernel position kij;
activations of the zero-padded input stream through it one padded position nij at a time, and column c
emits psum[c] = sum_r w[c, r] * a[r, nij]. The SFU then sums, for each output position, the 9 psums of the
kernel window over all input-channel tiles.

Channel counts that are not multiples of the array size are zero-padded: padded rows multiply by zero
weights and padded columns produce psums of 0 that are dropped from the output.

Integer arrays in numpy (int64): torch is not imported here, so that reading and checking a course folder, or a
stored job, never pays its import (about 1.4 s a process). The inputs may be torch tensors (the extraction's
integers): they are read as numpy arrays.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass
class TiledLayer:
    rows: int
    cols: int
    in_channels: int
    out_channels: int
    height: int                # unpadded input height = output height (3x3, pad 1, stride 1)
    width: int
    a_tiles: np.ndarray        # (n_ic, R, P) activations per ic tile and padded position, P = (H+2)(W+2)
    w_tiles: np.ndarray        # (n_ic, n_oc, C, R, 9) weights per tile, column (oc) x row (ic) x kij
    psum: np.ndarray           # (n_ic, n_oc, C, P, 9) what each column emits per padded nij and kij
    out: np.ndarray            # (OC, H*W) accumulated output per output channel and output nij

    @property
    def n_ic(self) -> int:
        return self.a_tiles.shape[0]

    @property
    def n_oc(self) -> int:
        return self.w_tiles.shape[1]

    @property
    def padded_width(self) -> int:
        return self.width + 2

    @property
    def out_relu(self) -> np.ndarray:
        return np.maximum(self.out, 0)

    def padded_nij(self, o_nij: int, kij: int) -> int:
        """The padded input position whose psum at kernel position kij feeds output position o_nij."""
        oi, oj = divmod(o_nij, self.width)
        ki, kj = divmod(kij, 3)
        return (oi + ki) * self.padded_width + oj + kj

    def out_tiles(self) -> np.ndarray:
        """(n_oc, C, H*W): every oc tile's output (out_tile of each)."""
        return np.stack([self.out_tile(o) for o in range(self.n_oc)])

    def out_tile(self, oc_tile: int) -> np.ndarray:
        """(C, H*W) output of one oc tile, zero rows for padded channels."""
        c = self.cols
        o = np.zeros((c, self.out.shape[1]), dtype=np.int64)
        part = self.out[oc_tile * c:(oc_tile + 1) * c]
        o[:len(part)] = part
        return o


def ceil_div(a: int, b: int) -> int:
    return -(-a // b)


def ints(x) -> np.ndarray:
    """An integer array (int64) of x: a numpy array, a list, or a torch tensor (read through numpy)."""
    return np.asarray(x).astype(np.int64, copy=False)


def tile_activations(a_int, rows: int) -> np.ndarray:
    """(IC, H, W) -> (n_ic, R, (H+2)(W+2)) zero-padded both spatially and in channels."""
    a_int = ints(a_int)
    ic, h, w = a_int.shape
    n_ic = ceil_div(ic, rows)
    a = np.zeros((n_ic * rows, h + 2, w + 2), dtype=np.int64)
    a[:ic, 1:h + 1, 1:w + 1] = a_int
    return a.reshape(n_ic, rows, (h + 2) * (w + 2))


def tile_weights(w_int, rows: int, cols: int) -> np.ndarray:
    """(OC, IC, 3, 3) -> (n_ic, n_oc, C, R, 9)."""
    w_int = ints(w_int)
    oc, ic = w_int.shape[:2]
    n_ic, n_oc = ceil_div(ic, rows), ceil_div(oc, cols)
    w = np.zeros((n_oc * cols, n_ic * rows, 9), dtype=np.int64)
    w[:oc, :ic] = w_int.reshape(oc, ic, 9)
    return np.ascontiguousarray(w.reshape(n_oc, cols, n_ic, rows, 9).transpose(2, 0, 1, 3, 4))


def output_gather_index(h: int, w: int) -> np.ndarray:
    """(H*W, 9) padded nij feeding each (output nij, kij)."""
    q, k = np.arange(h * w)[:, None], np.arange(9)[None, :]
    return (q // w + k // 3) * (w + 2) + q % w + k % 3


def tile_layer(a_int, w_int, rows: int = 8, cols: int = 8) -> TiledLayer:
    """Tiled psums and accumulated output of one image's layer. a_int: (IC, H, W); w_int: (OC, IC, 3, 3)."""
    a_int, w_int = ints(a_int), ints(w_int)
    if a_int.ndim != 3 or w_int.ndim != 4 or tuple(w_int.shape[2:]) != (3, 3):
        raise ValueError(f"expected a_int (IC,H,W) and w_int (OC,IC,3,3), got {tuple(a_int.shape)} and "
                         f"{tuple(w_int.shape)}")
    if a_int.shape[0] != w_int.shape[1]:
        raise ValueError(f"input channels differ: activations {a_int.shape[0]}, weights {w_int.shape[1]}")
    oc, ic = w_int.shape[:2]
    _, h, w = a_int.shape
    return compute_tiles(tile_activations(a_int, rows), tile_weights(w_int, rows, cols),
                         h, w, in_channels=ic, out_channels=oc)


def compute_tiles(a_t, w_t, h: int, w: int,
                  in_channels: int | None = None, out_channels: int | None = None) -> TiledLayer:
    """psums and outputs from already tiled activations (n_ic, R, P) and weights (n_ic, n_oc, C, R, 9)."""
    a_t, w_t = ints(a_t), ints(w_t)
    n_ic, rows, p = a_t.shape
    _, n_oc, cols = w_t.shape[:3]
    if w_t.shape[0] != n_ic or w_t.shape[3] != rows or p != (h + 2) * (w + 2):
        raise ValueError(f"tiles do not fit: activations {tuple(a_t.shape)}, weights {tuple(w_t.shape)}, "
                         f"{h}x{w} input")
    ic = in_channels if in_channels is not None else n_ic * rows
    oc = out_channels if out_channels is not None else n_oc * cols
    psum = tiled_psums(a_t, w_t)
    gathered = psum[:, :, :, output_gather_index(h, w), np.arange(9)]  # (n_ic, n_oc, C, HW, 9)
    out = gathered.sum(axis=(0, 4)).reshape(-1, h * w)[:oc]            # (OC, HW)
    return TiledLayer(rows=rows, cols=cols, in_channels=ic, out_channels=oc, height=h, width=w,
                      a_tiles=a_t, w_tiles=w_t, psum=psum, out=out)


def tiled_psums(a_t: np.ndarray, w_t: np.ndarray) -> np.ndarray:
    """psum[..., i, o, c, p, k] = sum_r w_t[i, o, c, r, k] * a_t[..., i, r, p]: what column c of the array emits
    for padded position p at kernel position k (a_t may lead with an image axis). A float64 matrix product per
    tile (BLAS) is exact here (|psum| <= R * max|a| * max|w| << 2^53) and far faster than integer einsum."""
    n_ic, n_oc, cols, rows, _ = w_t.shape
    lead, p = a_t.shape[:-3], a_t.shape[-1]
    wm = w_t.transpose(0, 1, 2, 4, 3).reshape(n_ic, n_oc * cols * 9, rows).astype(np.float64)
    prod = np.matmul(wm, a_t.astype(np.float64))                       # (..., n_ic, n_oc*C*9, P)
    prod = np.rint(prod).astype(np.int64).reshape(*lead, n_ic, n_oc, cols, 9, p)
    return np.ascontiguousarray(np.moveaxis(prod, -1, -2))             # (..., n_ic, n_oc, C, P, 9)
