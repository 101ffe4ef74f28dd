"""Output-stationary mapping onto rtl/core.v (command bit os).

A block is ROWS output positions (row-major over H x W, one per array row) x COLS output channels (one per
column, an output-channel tile); every PE keeps one output's sum while the reduction runs in time: one step
per input channel (a pair of channels with 2-bit activations) and kernel position, T = 9 * steps per block.

Activations: for block b and step t = (channel step s, kij), one word of ROWS lanes: lane r holds the
activation that position b*ROWS + r needs at that step (the padded input position under the kernel position;
zero past the layer's last position); with 2-bit activations the lane holds channels 2s (low half) and 2s+1
(high half). Words b*T .. b*T + T - 1, shared by every output-channel tile (an im2col layout: 9x the words of
the weight-stationary layout, the price of one read per step).
Weights: for output-channel tile o, step t at word o_in_group*T + t: column c's {high, low} weight at
[c*2*W_W +: 2*W_W] (high only used with 2-bit activations).
Commands: one per output-channel tile and chunk of blocks (oh = blocks, ow = positions in the last block,
n_ic = steps per kernel position); the accumulator address of position p is the layout's acc_offset + p - the
chunk's first position. The layout's act/wgt offsets move the words (and act_base/wgt_base) likewise.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from ..config import CoreConfig, sum_bound
from ..cycles import os_chunk_cycles
from ..fields import COMMAND
from ..packing import pack_rows
from .base import Command, Issued, LayerShape, Layout, MappingError, ceil_div
from .dataflow import Dataflow, register


@dataclass
class OutputStationary:
    cfg: CoreConfig
    shape: LayerShape
    a_bits: int = 4
    layout: Layout = Layout()
    n_oc: int = 0
    steps: int = 0                     # channel steps per kernel position
    T: int = 0                         # steps per block
    blocks: int = 0
    chunk_blocks: int = 0
    groups: list = field(default_factory=list)

    name = "os"

    def __post_init__(self):
        cfg, s = self.cfg, self.shape
        lay = self.layout
        if lay.split_ic or lay.empty_command:
            raise MappingError("the output-stationary mapping takes the layout's offsets only (no split_ic, "
                               "no empty_command)")
        if min(s.in_channels, s.out_channels, s.height, s.width) < 1:
            raise MappingError(f"layer {s}: every dimension must be at least 1")
        if self.a_bits not in (cfg.a_w, cfg.a_w // 2):
            raise MappingError(f"{self.a_bits}-bit activations: the core takes {cfg.a_w}-bit, or {cfg.a_w // 2}-bit")
        self.lanes = cfg.a_w // self.a_bits
        self.ic_per_tile = cfg.rows * self.lanes           # only for the tiled inputs the jobs carry
        self.steps = ceil_div(s.in_channels, self.lanes)
        self.T = 9 * self.steps
        self.n_oc = ceil_div(s.out_channels, cfg.cols)
        self.blocks = ceil_div(s.height * s.width, cfg.rows)
        if self.T < 2 * cfg.rows - 1:
            raise MappingError(f"layer {s}: {self.T} steps per block; output-stationary needs at least "
                               f"{2 * cfg.rows - 1} (the drain of a block overlaps the next)")
        if self.steps > (1 << COMMAND.widths["n_ic"]) - 1:
            raise MappingError(f"layer {s}: {self.steps} channel steps exceed the command's n_ic field")
        bound = sum_bound(self.steps * self.lanes, self.a_bits, cfg.w_w)
        if bound >= 1 << (cfg.psum_w - 1):
            raise MappingError(f"layer {s}: output-stationary sums may reach {bound}; each PE keeps a whole sum, "
                               f"PSUM_W={cfg.psum_w} is too narrow (needs {bound.bit_length() + 1})")
        if bound >= 1 << (cfg.acc_w - 1):
            raise MappingError(f"layer {s}: sums may reach {bound}, ACC_W={cfg.acc_w} is too narrow")
        cb = min(self.blocks, (cfg.act_depth - lay.act_offset) // self.T, (cfg.acc_depth - lay.acc_offset) // cfg.rows,
                 255)
        if cb < 1:
            raise MappingError(f"layer {s}: one block needs {self.T} activation words and {cfg.rows} accumulator "
                               f"words; ACT_DEPTH={cfg.act_depth}, ACC_DEPTH={cfg.acc_depth}"
                               + (f" (from offsets {lay.act_offset}, {lay.acc_offset})"
                                  if lay.act_offset or lay.acc_offset else ""))
        self.chunk_blocks = cb
        per_group = (cfg.wgt_depth - lay.wgt_offset) // self.T
        if per_group < 1:
            raise MappingError(f"layer {s}: one output-channel tile needs {self.T} weight words, WGT_DEPTH={cfg.wgt_depth}"
                               + (f" (from offset {lay.wgt_offset})" if lay.wgt_offset else ""))
        per_group = min(self.n_oc, per_group)
        self.groups = [list(range(g, min(self.n_oc, g + per_group))) for g in range(0, self.n_oc, per_group)]

    # ------------------------------------------------------------------------------------------ helpers
    def chunks(self) -> list[tuple[int, int]]:
        """(first block, blocks) of each chunk."""
        return [(b0, min(self.chunk_blocks, self.blocks - b0)) for b0 in range(0, self.blocks, self.chunk_blocks)]

    def _positions(self, chunk):
        b0, nb = chunk
        return range(b0 * self.cfg.rows, min((b0 + nb) * self.cfg.rows, self.shape.height * self.shape.width))

    def outputs(self, chunk) -> int:
        return len(self._positions(chunk))

    # ------------------------------------------------------------------------------------------ words
    def act_words(self, a_tiles, chunk) -> list[tuple[int, int]]:
        """a_tiles (n_ic, ic_per_tile, P) of one image -> the chunk's step words, lane r = its block's row r."""
        s, cfg = self.shape, self.cfg
        a = np.asarray(a_tiles).reshape(-1, s.height + 2, s.width + 2)          # all channels, padded
        ic_total = a.shape[0]
        b0, nb = chunk
        hw = s.height * s.width
        pos = np.arange(b0 * cfg.rows, (b0 + nb) * cfg.rows)
        valid = pos < hw
        oy, ox = np.divmod(np.where(valid, pos, 0), s.width)
        words = np.zeros((nb, self.steps, 9, cfg.rows), np.int64)               # (block, step, kij, row)
        for k in range(9):
            ky, kx = divmod(k, 3)
            for j in range(self.lanes):
                ch = np.arange(self.steps) * self.lanes + j
                ok = ch < ic_total
                vals = np.zeros((self.steps, pos.size), np.int64)
                vals[ok] = a[ch[ok]][:, oy + ky, ox + kx]
                vals[:, ~valid] = 0
                words[:, :, k, :] += (vals.reshape(self.steps, nb, cfg.rows).transpose(1, 0, 2) << (j * self.a_bits))
        return list(enumerate(pack_rows(words.reshape(-1, cfg.rows), cfg.a_w), start=self.layout.act_offset))

    def weight_words(self, w_tiles, group: list[int]) -> list[tuple[int, int]]:
        """w_tiles (n_ic, n_oc, C, ic_per_tile, 9) -> each tile's step words; column c's low weight at lane
        2c, its high weight at lane 2c+1."""
        cfg = self.cfg
        w = np.asarray(w_tiles)                                                  # (n_ic, n_oc, C, R', 9)
        n_ic, _, cols, rp, _ = w.shape
        w = w.transpose(1, 2, 0, 3, 4).reshape(w.shape[1], cols, n_ic * rp, 9)   # (n_oc, C, channels, 9)
        out = []
        for j, o in enumerate(group):
            lanes = np.zeros((self.steps, 9, cols, 2), np.int64)
            for lane in range(self.lanes):
                ch = np.arange(self.steps) * self.lanes + lane
                ok = ch < w.shape[2]
                lanes[ok, :, :, lane] = w[o][:, ch[ok], :].transpose(1, 2, 0)
            words = pack_rows(lanes.reshape(self.T, cols * 2), cfg.w_w)
            out += [(self.layout.wgt_offset + j * self.T + t, word) for t, word in enumerate(words)]
        return out

    def issue(self, group: list[int], chunk, first_id: int, relu: bool, image: int):
        b0, nb = chunk
        positions = self._positions(chunk)
        last = len(positions) - (nb - 1) * self.cfg.rows
        out = []
        for j, o in enumerate(group):
            lay = self.layout
            cmd = Command(act_base=lay.act_offset, act_stride=self.T, wgt_base=lay.wgt_offset + j * self.T,
                          acc_base=lay.acc_offset, pw=0, oh=nb, ow=last,
                          n_ic=self.steps, relu=int(relu), id=(first_id + j) & 0xFFFF, a2=int(self.lanes == 2), os=1)
            out.append((cmd, Issued(image, o, positions[0], os=True)))
        return out

    # ------------------------------------------------------------------------------------------ keys
    def out_position(self, issued: Issued, acc_addr: int) -> int:
        """The layer's output position of a sum at accumulator address acc_addr (the output port's)."""
        return issued.y0 + acc_addr - self.layout.acc_offset

    def finished_position(self, issued: Issued, block: int, row: int) -> int:
        """The layer's output position of a finished sum on the psum port, tagged with its block (ic) and row
        (nij) within the command: independent of acc_base."""
        return issued.y0 + block * self.cfg.rows + row

    def psum_position(self, issued: Issued, nij: int) -> int:
        raise MappingError("an output-stationary command reports finished sums, not psums")

    def streamed_positions(self) -> list[list[int]]:
        return [[] for _ in range(9)]

    # ------------------------------------------------------------------------------------------ costs
    @property
    def ideal_cycles(self) -> float:
        return self.shape.macs / (self.cfg.rows * self.cfg.cols * self.lanes)

    def tokens(self) -> int:
        return self.n_oc * self.blocks * self.T

    def model_cycles(self) -> int:
        return sum(os_chunk_cycles(self.cfg, nb * self.T, len(g), self.outputs((b0, nb)) - (nb - 1) * self.cfg.rows)
                   for g in self.groups for b0, nb in self.chunks())

    def scalesim_cycles(self) -> int:
        """SCALE-Sim's output-stationary estimate: T + 2R + C - 2 cycles per block and output-channel tile,
        blocks not overlapped (fill, T steps, drain)."""
        r, c = self.cfg.rows, self.cfg.cols
        return self.n_oc * self.blocks * (self.T + 2 * r + c - 2)


def min_channels(rows: int, a_w: int, a_bits: int) -> int:
    """A block runs 9 steps per channel step and needs at least 2 * ROWS - 1 of them (the drain of a block
    overlaps the next): the fewest input channels of an output-stationary layer (with 2-bit activations, a
    whole number of channel pairs: every layer with at least this many fits)."""
    return (a_w // a_bits) * ceil_div(2 * rows - 1, 9)


OS = register(Dataflow("os", "output-stationary", OutputStationary, os_bit=1, makes_psums=False,
                       min_channels=min_channels))
