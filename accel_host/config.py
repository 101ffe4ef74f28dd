"""The core's parameters, and core configurations derived from the layers they must run."""
from __future__ import annotations

from dataclasses import asdict, dataclass, replace


class ConfigError(ValueError):
    """A core configuration that cannot be built or cannot run the requested layers."""


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
    cmd_depth: int = 4
    out_depth: int = 8

    def __post_init__(self):
        for name, lo, hi in (("rows", 1, 64), ("cols", 1, 64), ("acc_w", 2, 48), ("psum_w", 2, 48)):
            v = getattr(self, name)
            if not isinstance(v, int) or not lo <= v <= hi:
                raise ConfigError(f"{name}={v}: must be an integer in {lo}..{hi}")
        for name in ("act_depth", "wgt_depth", "acc_depth", "cmd_depth", "out_depth"):
            v = getattr(self, name)
            if not isinstance(v, int) or not 2 <= v <= 1 << 16:
                raise ConfigError(f"{name}={v}: must be an integer in 2..65536 (16-bit addresses)")
        if self.acc_w < self.psum_w:
            raise ConfigError(f"acc_w={self.acc_w} < psum_w={self.psum_w}: the accumulator must hold at least a psum")
        if self.out_depth < 3:
            raise ConfigError(f"out_depth={self.out_depth}: the SFU needs room for 2 results in flight, at least 3")

    @property
    def credits(self) -> int:
        """Tokens the core lets into the array before their psums leave the OFIFO: core.v's CREDITS
        (also the OFIFO and tag FIFO depth), sized above the pipeline latency so steady state never stalls."""
        return 2 * (self.rows + self.cols) + 8

    @property
    def act_word_bits(self) -> int:
        return self.rows * self.a_w

    @property
    def wgt_word_bits(self) -> int:
        """A weight word holds a low and a high weight per PE (the high ones used in 2-bit mode)."""
        return 2 * self.rows * self.cols * self.w_w

    def parameters(self) -> dict:
        """Verilog parameters of rtl/core.v."""
        return {"ROWS": self.rows, "COLS": self.cols, "A_W": self.a_w, "W_W": self.w_w,
                "PSUM_W": self.psum_w, "ACC_W": self.acc_w, "ACT_DEPTH": self.act_depth,
                "WGT_DEPTH": self.wgt_depth, "ACC_DEPTH": self.acc_depth, "CMD_DEPTH": self.cmd_depth,
                "OUT_DEPTH": self.out_depth}

    def as_dict(self) -> dict:
        return asdict(self)

    def with_(self, **changes) -> CoreConfig:
        return replace(self, **changes)


def sum_bound(in_channels_padded: int, a_w: int, w_w: int) -> int:
    """Largest |sum| of one output: in_channels * 9 products of at most (2^a_w - 1) * 2^(w_w-1) (the bound
    stated in rtl/sfu.v)."""
    return in_channels_padded * 9 * ((1 << a_w) - 1) * (1 << (w_w - 1))


def signed_bits(bound: int) -> int:
    """Two's complement width that holds -bound..bound."""
    return bound.bit_length() + 1


def for_network(shapes, rows: int = 8, cols: int = 8, a_w: int = 4, w_w: int = 4, cmd_depth: int = 256,
                max_chunk_positions: int | None = None, output_stationary: bool = True) -> CoreConfig:
    """A configuration that runs every layer of `shapes` (LayerShape list) in one chunk of output rows per
    layer, its whole weights held at once: memory depths rounded up to powers of two, ACC_W from the widest
    layer's sum bound, PSUM_W from one tile's bound -- or, with output_stationary, from the widest whole sum,
    since each PE then keeps an entire output (the output-stationary activation layout, 9x larger, is
    chunked by its mapping within the same memories)."""
    from .mapping.base import ceil_div  # noqa: PLC0415 (mapping imports config)

    def pow2(n):
        return 1 << max(1, (n - 1).bit_length())
    act = wgt = acc = 2
    acc_bound = 0
    for s in shapes:
        n_ic, n_oc = ceil_div(s.in_channels, rows), ceil_div(s.out_channels, cols)
        positions = s.height * s.width if max_chunk_positions is None else min(s.height * s.width, max_chunk_positions)
        act = max(act, n_ic * (s.height + 2) * (s.width + 2))
        wgt = max(wgt, n_oc * n_ic * 9)
        acc = max(acc, positions)
        acc_bound = max(acc_bound, sum_bound(n_ic * rows, a_w, w_w))
    psum_w = max(16, signed_bits(rows * ((1 << a_w) - 1) * (1 << (w_w - 1))))
    if output_stationary:
        psum_w = max(psum_w, signed_bits(acc_bound))
    return CoreConfig(rows=rows, cols=cols, a_w=a_w, w_w=w_w, psum_w=psum_w,
                      acc_w=max(16, psum_w, signed_bits(acc_bound)), act_depth=min(1 << 16, pow2(act)),
                      wgt_depth=min(1 << 16, pow2(wgt)), acc_depth=min(1 << 16, pow2(acc)), cmd_depth=cmd_depth)
