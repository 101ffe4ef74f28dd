"""Bit layouts of the core's memory words, commands and result vectors (see rtl/core.v, rtl/sequencer.v)."""
from __future__ import annotations

from dataclasses import dataclass, fields

CMD_W = 115


@dataclass(frozen=True)
class CoreConfig:
    rows: int = 8
    cols: int = 8
    a_w: int = 4
    w_w: int = 4
    psum_w: int = 16
    acc_w: int = 16
    act_depth: int = 1024
    wgt_depth: int = 256
    acc_depth: int = 256

    @property
    def act_word_bits(self) -> int:
        return self.rows * self.a_w

    @property
    def wgt_word_bits(self) -> int:
        return self.rows * self.cols * self.w_w

    def parameters(self) -> dict:
        return {"ROWS": self.rows, "COLS": self.cols, "A_W": self.a_w, "W_W": self.w_w,
                "PSUM_W": self.psum_w, "ACC_W": self.acc_w, "ACT_DEPTH": self.act_depth,
                "WGT_DEPTH": self.wgt_depth, "ACC_DEPTH": self.acc_depth}


# (name, lsb, width) in the order of rtl/sequencer.v's field table
_FIELDS = [("act_base", 0, 16), ("act_stride", 16, 16), ("wgt_base", 32, 16), ("acc_base", 48, 16),
           ("pw", 64, 8), ("oh", 72, 8), ("ow", 80, 8), ("n_ic", 88, 8), ("relu", 96, 1),
           ("clear", 97, 1), ("emit", 98, 1), ("id", 99, 16)]


@dataclass(frozen=True)
class Command:
    act_base: int
    act_stride: int
    wgt_base: int
    acc_base: int
    pw: int
    oh: int
    ow: int
    n_ic: int
    relu: int = 1
    clear: int = 1
    emit: int = 1
    id: int = 0

    def pack(self) -> int:
        word = 0
        for name, lsb, width in _FIELDS:
            v = getattr(self, name)
            if not 0 <= v < (1 << width):
                raise ValueError(f"command field {name}={v} does not fit {width} bits")
            word |= v << lsb
        return word

    @classmethod
    def unpack(cls, word: int) -> "Command":
        return cls(**{name: (word >> lsb) & ((1 << width) - 1) for name, lsb, width in _FIELDS})

    @property
    def folds(self) -> int:
        return self.n_ic * 9

    @property
    def tokens(self) -> int:
        return self.folds * self.oh * self.ow


assert {f.name for f in fields(Command)} == {n for n, _, _ in _FIELDS}


def pack_lanes(values, width: int) -> int:
    """Lane i at bits [i*width +: width]; negative values in two's complement."""
    mask = (1 << width) - 1
    word = 0
    for i, v in enumerate(values):
        v = int(v)
        if not -(1 << (width - 1)) <= v < (1 << width):
            raise ValueError(f"lane {i}: value {v} does not fit {width} bits")
        word |= (v & mask) << (i * width)
    return word


def unpack_lanes(word: int, n: int, width: int, signed: bool) -> list[int]:
    mask = (1 << width) - 1
    out = []
    for i in range(n):
        v = (word >> (i * width)) & mask
        if signed and v >> (width - 1):
            v -= 1 << width
        out.append(v)
    return out


def pack_act_word(acts, cfg: CoreConfig) -> int:
    """ROWS activations of one padded position; row r at [r*A_W +: A_W] (the course's line read as binary)."""
    if len(acts) != cfg.rows:
        raise ValueError(f"activation word needs {cfg.rows} rows, got {len(acts)}")
    return pack_lanes(acts, cfg.a_w)


def pack_weight_tile(tile, cfg: CoreConfig) -> int:
    """tile[c][r] (COLS x ROWS) -> one weight word; PE (r, c) reads bits [(r*COLS + c)*W_W +: W_W]."""
    if len(tile) != cfg.cols or any(len(col) != cfg.rows for col in tile):
        raise ValueError(f"weight tile must be {cfg.cols} columns x {cfg.rows} rows")
    return pack_lanes([tile[c][r] for r in range(cfg.rows) for c in range(cfg.cols)], cfg.w_w)
