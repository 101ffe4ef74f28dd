"""Map a whole conv layer (any channel count, up to 32x32) onto the core, chunking output rows when the
activation memory or the accumulator cannot hold the layer at once.

Weights: output-channel tile o, input-channel tile i, kernel position k at word (o*n_ic + i)*9 + k; the
whole layer's weights are written once and reused for every image and chunk. If they exceed the weight
memory, output-channel tiles are processed in groups that fit.
Activations of a chunk (output rows y0..y0+ch-1) are padded rows y0..y0+ch+1 of every input-channel tile:
tile i at words [i*S, (i+1)*S), S = (ch+2)*(W+2). One command per output-channel tile and chunk.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from golden_py.tiling import ceil_div, tile_activations, tile_weights

from .layout import Command, CoreConfig
from .mapper import MappingError, check_acc_width


def pack_nibbles(lanes: np.ndarray) -> list[int]:
    """(words, n) array of 4-bit lanes (two's complement allowed) -> ints, lane j at bits [4j+3:4j]."""
    u = (lanes.astype(np.int64) & 15).astype(np.uint8)
    if u.shape[1] % 2:
        u = np.concatenate([u, np.zeros((u.shape[0], 1), np.uint8)], axis=1)
    b = u[:, 0::2] | (u[:, 1::2] << 4)
    return [int.from_bytes(row.tobytes(), "little") for row in b]


@dataclass
class Chunk:
    y0: int
    rows: int                     # output rows in this chunk
    act_words: list               # (addr, word)
    commands: list                # Command per oc tile in the group


@dataclass
class LayerMap:
    cfg: CoreConfig
    in_channels: int
    out_channels: int
    height: int
    width: int
    n_ic: int
    n_oc: int
    groups: list                  # [(oc tiles, weight words)]
    chunk_rows: int

    @property
    def macs(self) -> int:
        return self.in_channels * self.out_channels * 9 * self.height * self.width

    def ideal_cycles(self) -> float:
        return self.macs / (self.cfg.rows * self.cfg.cols)

    def scalesim_cycles(self) -> int:
        """SCALE-Sim weight-stationary estimate: 2R + C + T - 2 per fold, folds not overlapped."""
        r, c = self.cfg.rows, self.cfg.cols
        total = 0
        for y0 in range(0, self.height, self.chunk_rows):
            t = min(self.chunk_rows, self.height - y0) * self.width
            total += self.n_ic * self.n_oc * 9 * (2 * r + c + t - 2)
        return total


def plan_layer(in_channels: int, out_channels: int, height: int, width: int, w_int: torch.Tensor,
               cfg: CoreConfig) -> LayerMap:
    n_ic, n_oc = ceil_div(in_channels, cfg.rows), ceil_div(out_channels, cfg.cols)
    pw = width + 2
    check_acc_width(n_ic, cfg)
    if pw > 255 or n_ic > 255:
        raise MappingError(f"layer exceeds the command's 8-bit fields (pw={pw}, n_ic={n_ic})")
    # largest chunk of output rows whose activations and sums fit
    ch = height
    while ch > 0 and (n_ic * (ch + 2) * pw > cfg.act_depth or ch * width > cfg.acc_depth or ch > 255):
        ch -= 1
    if ch == 0:
        raise MappingError(f"one output row of {in_channels} channels x {width} does not fit "
                           f"ACT_DEPTH={cfg.act_depth} / ACC_DEPTH={cfg.acc_depth}")
    per_tile = n_ic * 9
    if per_tile > cfg.wgt_depth:
        raise MappingError(f"one output-channel tile needs {per_tile} weight words, WGT_DEPTH={cfg.wgt_depth}")
    tiles_per_group = min(n_oc, cfg.wgt_depth // per_tile)
    wt = tile_weights(w_int.long(), cfg.rows, cfg.cols)             # (n_ic, n_oc, C, R, 9)
    groups = []
    for g0 in range(0, n_oc, tiles_per_group):
        ocs = list(range(g0, min(n_oc, g0 + tiles_per_group)))
        # word order: (oc tile in group, ic tile, kij); lanes: r*COLS + c
        sel = wt[:, ocs].permute(1, 0, 4, 3, 2).reshape(-1, cfg.rows * cfg.cols).numpy()
        words = list(enumerate(pack_nibbles(sel)))
        groups.append((ocs, words))
    return LayerMap(cfg, in_channels, out_channels, height, width, n_ic, n_oc, groups, ch)


def chunks(lm: LayerMap, a_int: torch.Tensor, ocs: list[int], first_id: int, relu: bool) -> list[Chunk]:
    """Chunks of one image (a_int: IC, H, W) for one group of output-channel tiles."""
    cfg = lm.cfg
    a_t = tile_activations(a_int.long(), cfg.rows)                   # (n_ic, R, (H+2)(W+2))
    pw = lm.width + 2
    a_t = a_t.reshape(lm.n_ic, cfg.rows, lm.height + 2, pw)
    out = []
    cid = first_id
    for y0 in range(0, lm.height, lm.chunk_rows):
        rows = min(lm.chunk_rows, lm.height - y0)
        s = (rows + 2) * pw
        part = a_t[:, :, y0:y0 + rows + 2, :].permute(0, 2, 3, 1).reshape(-1, cfg.rows).numpy()
        act_words = list(enumerate(pack_nibbles(part)))
        cmds = []
        for j, o in enumerate(ocs):
            cmds.append(Command(act_base=0, act_stride=s, wgt_base=j * lm.n_ic * 9, acc_base=0, pw=pw, oh=rows,
                                ow=lm.width, n_ic=lm.n_ic, relu=int(relu), id=cid & 0xFFFF))
            cid += 1
        out.append(Chunk(y0, rows, act_words, cmds))
    return out
