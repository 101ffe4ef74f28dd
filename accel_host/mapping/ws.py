"""Weight-stationary mapping onto rtl/core.v.

Weights: the whole layer's weight tiles are written once (reused for every image and chunk); fold
f = ic_tile*9 + kij of output-channel tile o at word (o - first tile of its group)*n_ic*9 + f. When they do
not fit the weight memory, output-channel tiles run in groups that do.

Activations: a chunk of output rows y0..y0+n-1 needs padded input rows y0..y0+n+1 of every input-channel
tile: tile i at words [i*S, (i+1)*S), S = (n+2)*(W+2), positions row-major. Chunks exist only when the
activation memory or the accumulator cannot hold the whole layer.

One command per output-channel tile and chunk; it streams only the n*W positions per fold that feed an
output (not the padding), and the next fold's weights ride on the current fold's first token.

Activation modes: with a_bits = A_W (4) a tile is ROWS input channels, row r = channel r. With a_bits =
A_W/2 (2-bit activations, command bit a2) a tile is 2*ROWS input channels: row r carries channels 2r (low
half of its A_W bits) and 2r+1 (high half), and PE (r, c) holds a low and a high weight. A weight word
always has room for both: low weights at lane r*COLS + c, high weights in the upper half.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from ..config import CoreConfig, sum_bound
from ..cycles import ws_chunk_cycles
from ..fields import COMMAND
from ..packing import pack_rows
from .base import Command, Issued, LayerShape, Layout, MappingError, ceil_div
from .dataflow import Dataflow, register


@dataclass
class WeightStationary:
    cfg: CoreConfig
    shape: LayerShape
    a_bits: int = 4                               # the layer's activation width: A_W, or A_W/2 (2-bit mode)
    layout: Layout = Layout()
    n_ic: int = 0
    n_oc: int = 0
    chunk_rows: int = 0
    groups: list = field(default_factory=list)    # [[oc tile, ...], ...] sharing the weight memory

    name = "ws"

    def __post_init__(self):
        cfg, s = self.cfg, self.shape
        if min(s.in_channels, s.out_channels, s.height, s.width) < 1:
            raise MappingError(f"layer {s}: every dimension must be at least 1")
        if self.a_bits not in (cfg.a_w, cfg.a_w // 2):
            raise MappingError(f"{self.a_bits}-bit activations: the core takes {cfg.a_w}-bit, or {cfg.a_w // 2}-bit "
                               f"in its 2-bit mode")
        self.lanes = cfg.a_w // self.a_bits                 # input channels per array row
        self.ic_per_tile = cfg.rows * self.lanes
        self.n_ic, self.n_oc = ceil_div(s.in_channels, self.ic_per_tile), ceil_div(s.out_channels, cfg.cols)
        pw = s.width + 2
        bound = sum_bound(self.n_ic * self.ic_per_tile, self.a_bits, cfg.w_w)
        if bound >= 1 << (cfg.acc_w - 1):
            raise MappingError(f"layer {s}: sums may reach {bound}, ACC_W={cfg.acc_w} is too narrow "
                               f"(needs {bound.bit_length() + 1})")
        tile_bound = self.ic_per_tile * ((1 << self.a_bits) - 1) * (1 << (cfg.w_w - 1))
        if tile_bound >= 1 << (cfg.psum_w - 1):
            raise MappingError(f"psums may reach {tile_bound}, PSUM_W={cfg.psum_w} is too narrow")
        for name, v in (("padded width", pw), ("input-channel tiles", self.n_ic)):
            if v > (1 << COMMAND.widths["pw"]) - 1:
                raise MappingError(f"layer {s}: {name} {v} exceeds the command's 8-bit field")
        lay = self.layout
        ch = min(s.height, (1 << COMMAND.widths["oh"]) - 1)
        while ch > 0 and (lay.act_offset + self.n_ic * (ch + 2) * pw > cfg.act_depth
                          or lay.acc_offset + ch * s.width > cfg.acc_depth):
            ch -= 1
        if ch == 0:
            raise MappingError(f"layer {s}: one output row needs {self.n_ic * 3 * pw} activation words and "
                               f"{s.width} accumulator words; ACT_DEPTH={cfg.act_depth}, ACC_DEPTH={cfg.acc_depth}")
        self.chunk_rows = ch
        per_tile = self.n_ic * 9
        if lay.wgt_offset + per_tile > cfg.wgt_depth:
            raise MappingError(f"layer {s}: one output-channel tile needs {per_tile} weight words, "
                               f"WGT_DEPTH={cfg.wgt_depth}")
        per_group = min(self.n_oc, (cfg.wgt_depth - lay.wgt_offset) // per_tile)
        self.groups = [list(range(g, min(self.n_oc, g + per_group))) for g in range(0, self.n_oc, per_group)]

    # ------------------------------------------------------------------------------------------ words
    def weight_words(self, w_tiles, group: list[int]) -> list[tuple[int, int]]:
        """w_tiles (n_ic, n_oc, C, ic_per_tile, 9) -> (addr, word) of one group; PE (r, c)'s low weight at
        lane r*COLS + c, its high weight (2-bit mode: channel 2r+1) at the same lane of the upper half."""
        cfg = self.cfg
        sel = np.asarray(w_tiles)[:, group].transpose(1, 0, 4, 3, 2)       # (g, n_ic, 9, ic_per_tile, C)
        sel = sel.reshape(-1, cfg.rows, self.lanes, cfg.cols)                # channel 2r+j -> (r, j)
        lo = pack_rows(sel[:, :, 0, :].reshape(-1, cfg.rows * cfg.cols), cfg.w_w)
        if self.lanes == 1:
            return list(enumerate(lo, start=self.layout.wgt_offset))
        hi = pack_rows(sel[:, :, 1, :].reshape(-1, cfg.rows * cfg.cols), cfg.w_w)
        half = cfg.rows * cfg.cols * cfg.w_w
        return [(self.layout.wgt_offset + i, lw | (hw << half)) for i, (lw, hw) in enumerate(zip(lo, hi))]

    def chunks(self) -> list[tuple[int, int]]:
        """(first output row, output rows) of each chunk."""
        h = self.shape.height
        return [(y0, min(self.chunk_rows, h - y0)) for y0 in range(0, h, self.chunk_rows)]

    def act_words(self, a_tiles, chunk) -> list[tuple[int, int]]:
        """a_tiles (n_ic, ic_per_tile, P) of one image -> (addr, word) of the chunk's padded rows; channel j
        of a tile at bits [j*a_bits +: a_bits] (row r at lane r in 4-bit mode; channels 2r, 2r+1 in row r's
        low and high half in 2-bit mode)."""
        y0, rows = chunk
        s = self.shape
        a = np.asarray(a_tiles).reshape(self.n_ic, self.ic_per_tile, s.height + 2, s.width + 2)
        part = a[:, :, y0:y0 + rows + 2, :].transpose(0, 2, 3, 1).reshape(-1, self.ic_per_tile)
        return list(enumerate(pack_rows(part, self.a_bits), start=self.layout.act_offset))

    def outputs(self, chunk) -> int:
        """Output vectors each emitting command of a chunk sends."""
        return chunk[1] * self.shape.width

    def issue(self, group: list[int], chunk, first_id: int, relu: bool, image: int):
        """(Command, Issued or None) pairs of a chunk; None for the empty command (it reports nothing)."""
        y0, rows = chunk
        s, lay = self.shape, self.layout
        pw = s.width + 2
        stride = (rows + 2) * pw
        a2 = int(self.lanes == 2)
        out, cid = [], first_id
        if lay.empty_command:
            # nothing to stream in each of the three ways a command can be empty: no rows, no columns, no tiles
            for oh, ow, n_ic in ((0, s.width, self.n_ic), (rows, 0, self.n_ic), (rows, s.width, 0)):
                out.append((Command(act_base=lay.act_offset, act_stride=stride, wgt_base=lay.wgt_offset, acc_base=0,
                                    pw=pw, oh=oh, ow=ow, n_ic=n_ic, relu=int(relu), id=cid & 0xFFFF, a2=a2), None))
                cid += 1
        for j, o in enumerate(group):
            chain = [(i, 1) for i in range(self.n_ic)] if lay.split_ic else [(0, self.n_ic)]
            for k, (i0, n) in enumerate(chain):
                cmd = Command(act_base=lay.act_offset + i0 * stride, act_stride=stride,
                              wgt_base=lay.wgt_offset + j * self.n_ic * 9 + i0 * 9, acc_base=lay.acc_offset,
                              pw=pw, oh=rows, ow=s.width, n_ic=n, relu=int(relu), clear=int(k == 0),
                              emit=int(k == len(chain) - 1), id=cid & 0xFFFF, a2=a2)
                out.append((cmd, Issued(image, o, y0, i0)))
                cid += 1
        return out

    # ------------------------------------------------------------------------------------------ keys
    def psum_position(self, issued: Issued, nij: int) -> int:
        """The layer's padded input position of a psum the core reports at chunk position nij."""
        return nij + issued.y0 * (self.shape.width + 2)

    def out_position(self, issued: Issued, acc_addr: int) -> int:
        """The layer's output position (row-major o_nij) of a result at accumulator address acc_addr."""
        return acc_addr - self.layout.acc_offset + issued.y0 * self.shape.width

    def streamed_positions(self) -> list[list[int]]:
        """Per kij, the padded positions whose psums the core streams (those that feed an output)."""
        s = self.shape
        pw = s.width + 2
        return [[(oy + k // 3) * pw + ox + k % 3 for oy in range(s.height) for ox in range(s.width)]
                for k in range(9)]

    # ------------------------------------------------------------------------------------------ costs
    @property
    def ideal_cycles(self) -> float:
        """MACs / (array size x channels per row): 2-bit mode does two MACs per PE and cycle."""
        return self.shape.macs / (self.cfg.rows * self.cfg.cols * self.lanes)

    def tokens(self) -> int:
        """Tokens streamed for one image: the compute cycles when folds overlap."""
        return sum(self.n_oc * self.n_ic * 9 * rows * self.shape.width for _, rows in self.chunks())

    def model_cycles(self) -> int:
        """Cycles per image from accel_host.cycles: each chunk of a group's commands fills the pipeline once."""
        chain = self.n_ic if self.layout.split_ic else 1
        empty = 3 * int(self.layout.empty_command)
        per_chunk = [ws_chunk_cycles(self.cfg, len(g) * self.n_ic * 9 * rows * self.shape.width, len(g) * chain + empty)
                     for g in self.groups for _, rows in self.chunks()]
        return sum(per_chunk)

    def scalesim_cycles(self) -> int:
        """SCALE-Sim's weight-stationary estimate: 2R + C + T - 2 per fold, folds not overlapped."""
        r, c = self.cfg.rows, self.cfg.cols
        return sum(self.n_ic * self.n_oc * 9 * (2 * r + c + rows * self.shape.width - 2) for _, rows in self.chunks())


WS = register(Dataflow("ws", "weight-stationary", WeightStationary, os_bit=0, makes_psums=True))
