"""Map one conv layer (3x3, pad 1, stride 1) of one image onto the core, and say what it must produce.

Memory layout: input-channel tile i occupies act words [i*P, (i+1)*P), P = (H+2)*(W+2) padded positions in
row-major order. Output-channel tile o uses weight words [o*n_ic*9, (o+1)*n_ic*9), fold f = i*9 + kij at
word o*n_ic*9 + f. One command per output-channel tile, which streams only the H*W useful positions per
fold and accumulates into accumulator addresses 0..H*W-1.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import torch

from golden_py.tiling import TiledLayer, tile_layer

from .layout import Command, CoreConfig, pack_act_word, pack_weight_tile


class MappingError(ValueError):
    pass


def check_acc_width(n_ic: int, cfg: CoreConfig) -> None:
    """Reject layers whose sums could overflow the accumulator: n_ic*ROWS*9 products of at most
    (2^A_W - 1) * 2^(W_W-1) in magnitude (the bound proven in rtl/sfu.v)."""
    bound = n_ic * cfg.rows * 9 * ((1 << cfg.a_w) - 1) * (1 << (cfg.w_w - 1))
    if bound >= 1 << (cfg.acc_w - 1):
        raise MappingError(f"{n_ic * cfg.rows} input channels: sums may reach {bound}, "
                           f"ACC_W={cfg.acc_w} is too narrow")


@dataclass
class LayerPlan:
    cfg: CoreConfig
    tiles: TiledLayer
    act_words: list[tuple[int, int]]
    wgt_words: list[tuple[int, int]]
    commands: list[Command]
    relu: bool
    # expected values, keyed as the checker sees them
    psums: dict = field(default_factory=dict)     # (id, ic, kij, nij) -> [COLS ints]
    sums: dict = field(default_factory=dict)      # (id, acc_addr) -> [COLS ints], raw accumulated
    outputs: dict = field(default_factory=dict)   # (id, acc_addr) -> [COLS ints], what the out port sends

    @property
    def macs(self) -> int:
        t = self.tiles
        return t.in_channels * t.out_channels * 9 * t.height * t.width

    @property
    def ideal_cycles(self) -> float:
        return self.macs / (self.cfg.rows * self.cfg.cols)

    def describe_psum(self, key) -> str:
        cid, ic, kij, nij = key
        return f"cmd {cid} (oc tile {cid - self.commands[0].id}) ic_tile={ic} kij={kij} nij={nij}"

    def describe_out(self, key) -> str:
        cid, addr = key
        return f"cmd {cid} (oc tile {cid - self.commands[0].id}) output nij={addr}"


def map_layer(a_int: torch.Tensor, w_int: torch.Tensor, cfg: CoreConfig, relu: bool = True,
              first_id: int = 0) -> LayerPlan:
    """a_int (IC, H, W) unsigned, w_int (OC, IC, 3, 3) signed -> plan for the core."""
    return map_tiles(tile_layer(a_int, w_int, cfg.rows, cfg.cols), cfg, relu, first_id)


def map_tiles(t: TiledLayer, cfg: CoreConfig, relu: bool = True, first_id: int = 0) -> LayerPlan:
    """Plan from an already tiled layer (golden_py.tiling), e.g. one read from course-format files."""
    if (t.rows, t.cols) != (cfg.rows, cfg.cols):
        raise MappingError(f"vectors are tiled for a {t.rows}x{t.cols} array, the core is {cfg.rows}x{cfg.cols}")
    p = (t.height + 2) * (t.width + 2)
    hw = t.height * t.width
    amax, wmax = (1 << cfg.a_w) - 1, (1 << (cfg.w_w - 1)) - 1
    if t.a_tiles.min() < 0 or t.a_tiles.max() > amax:
        raise MappingError(f"activations {int(t.a_tiles.min())}..{int(t.a_tiles.max())} outside 0..{amax}")
    if t.w_tiles.min() < -wmax - 1 or t.w_tiles.max() > wmax:
        raise MappingError(f"weights {int(t.w_tiles.min())}..{int(t.w_tiles.max())} outside {-wmax - 1}..{wmax}")
    checks = [("act_depth", t.n_ic * p, cfg.act_depth), ("wgt_depth", t.n_oc * t.n_ic * 9, cfg.wgt_depth),
              ("acc_depth", hw, cfg.acc_depth)]
    for name, need, have in checks:
        if need > have:
            raise MappingError(f"layer needs {need} words of {name}, the core has {have}")
    if t.width + 2 > 255 or t.height > 255 or t.n_ic > 255:
        raise MappingError("layer exceeds the command's 8-bit size fields")
    check_acc_width(t.n_ic, cfg)

    act_words = [(i * p + n, pack_act_word(t.a_tiles[i, :, n].tolist(), cfg))
                 for i in range(t.n_ic) for n in range(p)]
    wgt_words = []
    commands = []
    plan = LayerPlan(cfg=cfg, tiles=t, act_words=act_words, wgt_words=wgt_words, commands=commands, relu=relu)
    for o in range(t.n_oc):
        base = o * t.n_ic * 9
        for i in range(t.n_ic):
            for k in range(9):
                wgt_words.append((base + i * 9 + k, pack_weight_tile(t.w_tiles[i, o, :, :, k].tolist(), cfg)))
        cid = first_id + o
        commands.append(Command(act_base=0, act_stride=p, wgt_base=base, acc_base=0, pw=t.width + 2,
                                oh=t.height, ow=t.width, n_ic=t.n_ic, relu=int(relu), id=cid))
        for i in range(t.n_ic):
            for k in range(9):
                for on in range(hw):
                    nij = t.padded_nij(on, k)
                    plan.psums[(cid, i, k, nij)] = t.psum[i, o, :, nij, k].tolist()
        out = t.out_tile(o)
        for on in range(hw):
            col = out[:, on].tolist()
            plan.sums[(cid, on)] = col
            plan.outputs[(cid, on)] = [max(0, v) for v in col] if relu else col
    return plan
