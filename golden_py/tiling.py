"""Tiled psum reference of a weight-stationary R x C array (the seed notebooks' cells 8-9, vectorised).

The array holds an R (input channels) x C (output channels) weight tile for one kernel position kij;
activations of the zero-padded input stream through it one padded position nij at a time, and column c
emits psum[c] = sum_r w[c, r] * a[r, nij]. The SFU then sums, for each output position, the 9 psums of the
kernel window over all input-channel tiles.

Channel counts that are not multiples of the array size are zero-padded: padded rows multiply by zero
weights and padded columns produce psums of 0 that are dropped from the output.
"""
from __future__ import annotations

from dataclasses import dataclass

import torch


@dataclass
class TiledLayer:
    rows: int
    cols: int
    in_channels: int
    out_channels: int
    height: int                # unpadded input height = output height (3x3, pad 1, stride 1)
    width: int
    a_tiles: torch.Tensor      # (n_ic, R, P) activations per ic tile and padded position, P = (H+2)(W+2)
    w_tiles: torch.Tensor      # (n_ic, n_oc, C, R, 9) weights per tile, column (oc) x row (ic) x kij
    psum: torch.Tensor         # (n_ic, n_oc, C, P, 9) what each column emits per padded nij and kij
    out: torch.Tensor          # (OC, H*W) accumulated output per output channel and output nij

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
    def out_relu(self) -> torch.Tensor:
        return self.out.clamp(min=0)

    def padded_nij(self, o_nij: int, kij: int) -> int:
        """The padded input position whose psum at kernel position kij feeds output position o_nij."""
        oi, oj = divmod(o_nij, self.width)
        ki, kj = divmod(kij, 3)
        return (oi + ki) * self.padded_width + oj + kj

    def out_tile(self, oc_tile: int) -> torch.Tensor:
        """(C, H*W) output of one oc tile, zero rows for padded channels."""
        c = self.cols
        o = torch.zeros(c, self.out.shape[1], dtype=torch.long)
        part = self.out[oc_tile * c:(oc_tile + 1) * c]
        o[:len(part)] = part
        return o


def ceil_div(a: int, b: int) -> int:
    return -(-a // b)


def tile_activations(a_int: torch.Tensor, rows: int) -> torch.Tensor:
    """(IC, H, W) -> (n_ic, R, (H+2)(W+2)) zero-padded both spatially and in channels."""
    ic, h, w = a_int.shape
    n_ic = ceil_div(ic, rows)
    a = torch.zeros(n_ic * rows, h + 2, w + 2, dtype=torch.long)
    a[:ic, 1:h + 1, 1:w + 1] = a_int
    return a.reshape(n_ic, rows, (h + 2) * (w + 2))


def tile_weights(w_int: torch.Tensor, rows: int, cols: int) -> torch.Tensor:
    """(OC, IC, 3, 3) -> (n_ic, n_oc, C, R, 9)."""
    oc, ic = w_int.shape[:2]
    n_ic, n_oc = ceil_div(ic, rows), ceil_div(oc, cols)
    w = torch.zeros(n_oc * cols, n_ic * rows, 9, dtype=torch.long)
    w[:oc, :ic] = w_int.reshape(oc, ic, 9)
    return w.reshape(n_oc, cols, n_ic, rows, 9).permute(2, 0, 1, 3, 4).contiguous()


def output_gather_index(h: int, w: int) -> torch.Tensor:
    """(H*W, 9) padded nij feeding each (output nij, kij)."""
    oi, oj = torch.meshgrid(torch.arange(h), torch.arange(w), indexing="ij")
    ki, kj = torch.meshgrid(torch.arange(3), torch.arange(3), indexing="ij")
    return ((oi.reshape(-1, 1) + ki.reshape(1, -1)) * (w + 2) + oj.reshape(-1, 1) + kj.reshape(1, -1))


def tile_layer(a_int: torch.Tensor, w_int: torch.Tensor, rows: int = 8, cols: int = 8) -> TiledLayer:
    """Tiled psums and accumulated output of one image's layer. a_int: (IC, H, W); w_int: (OC, IC, 3, 3)."""
    if a_int.dim() != 3 or w_int.dim() != 4 or tuple(w_int.shape[2:]) != (3, 3):
        raise ValueError(f"expected a_int (IC,H,W) and w_int (OC,IC,3,3), got {tuple(a_int.shape)} and "
                         f"{tuple(w_int.shape)}")
    if a_int.shape[0] != w_int.shape[1]:
        raise ValueError(f"input channels differ: activations {a_int.shape[0]}, weights {w_int.shape[1]}")
    oc, ic = w_int.shape[:2]
    _, h, w = a_int.shape
    return compute_tiles(tile_activations(a_int.long(), rows), tile_weights(w_int.long(), rows, cols),
                         h, w, in_channels=ic, out_channels=oc)


def compute_tiles(a_t: torch.Tensor, w_t: torch.Tensor, h: int, w: int,
                  in_channels: int | None = None, out_channels: int | None = None) -> TiledLayer:
    """psums and outputs from already tiled activations (n_ic, R, P) and weights (n_ic, n_oc, C, R, 9)."""
    n_ic, rows, p = a_t.shape
    _, n_oc, cols = w_t.shape[:3]
    if w_t.shape[0] != n_ic or w_t.shape[3] != rows or p != (h + 2) * (w + 2):
        raise ValueError(f"tiles do not fit: activations {tuple(a_t.shape)}, weights {tuple(w_t.shape)}, "
                         f"{h}x{w} input")
    ic = in_channels if in_channels is not None else n_ic * rows
    oc = out_channels if out_channels is not None else n_oc * cols
    # float64 matmul is exact here (|psum| <= R*max|a|*max|w| << 2^53) and far faster than int64 einsum.
    psum = torch.einsum("iocrk,irp->iocpk", w_t.double(), a_t.double()).round().long()
    idx = output_gather_index(h, w)                                   # (HW, 9)
    k = torch.arange(9)
    gathered = psum[:, :, :, idx, k]                                  # (n_ic, n_oc, C, HW, 9)
    out = gathered.sum(dim=(0, 4)).reshape(-1, h * w)[:oc]            # (OC, HW)
    return TiledLayer(rows=rows, cols=cols, in_channels=ic, out_channels=oc, height=h, width=w,
                      a_tiles=a_t, w_tiles=w_t, psum=psum, out=out)
