"""What every dataflow shares: the layer's shape, the mapping error, the command the core takes, what a
command id stands for, and the layout variants the random tests draw."""
from __future__ import annotations

from dataclasses import dataclass

from ..fields import COMMAND


class MappingError(ValueError):
    """The layer does not fit the core (memories, accumulator width, command fields)."""


@dataclass(frozen=True)
class LayerShape:
    """A 3x3 convolution, padding 1, stride 1: output height/width = input height/width."""
    in_channels: int
    out_channels: int
    height: int
    width: int

    @property
    def macs(self) -> int:
        return self.in_channels * self.out_channels * 9 * self.height * self.width

    def __str__(self) -> str:
        return f"{self.in_channels}->{self.out_channels} on {self.height}x{self.width}"


def ceil_div(a: int, b: int) -> int:
    return -(-a // b)


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
    a2: int = 0
    os: int = 0
    act_region: int = 0
    wgt_region: int = 0
    act_fill: int = 0       # rtl/core.v: the host writes the region's words while this command reads them
    wgt_fill: int = 0

    def pack(self) -> int:
        return COMMAND.pack(**self.__dict__)

    def check(self, rows: int) -> None:
        """Refuse a command the core would drop or get wrong, output-stationary ones only:
        - its last block has more positions (ow) than the array has rows: the flush would reserve more credits
          than a block may hold, so the sequencer drops it and no output would ever come;
        - its blocks are shorter than 2 * ROWS - 1 steps (9 * n_ic): a sum handed to the drain chain at row
          r + j reaches row r's input j cycles later, 2j after the same release token passed row r (pe.v: tokens are
          skewed a cycle per row), so with blocks that short the next release (or flush),
          delayed by a credit wait, can meet a climbing sum and overwrite it; the core relies on it (the
          mapper's min_channels never makes one) and the formal proofs' 2x2 core (2 * 2 - 1 <= 9) cannot
          reach it, so the host library enforces it.
        An empty command (oh, ow or n_ic zero: the sequencer drops it) passes."""
        if not self.os or 0 in (self.oh, self.ow, self.n_ic):
            return
        if not self.ow <= rows:
            raise ValueError(f"command {self.id}: output-stationary ow={self.ow} exceeds the array's {rows} rows "
                             f"(the core drops such a command)")
        if 9 * self.n_ic < 2 * rows - 1:
            raise ValueError(f"command {self.id}: output-stationary n_ic={self.n_ic} gives blocks of {9 * self.n_ic} "
                             f"steps, fewer than the {2 * rows - 1} (2 * ROWS - 1) the drain chain of {rows} rows "
                             f"needs (a finished sum could be lost)")

    @classmethod
    def unpack(cls, word: int) -> Command:
        return cls(**COMMAND.unpack(word))

    @property
    def tokens(self) -> int:
        return self.n_ic * 9 * self.oh * self.ow


@dataclass(frozen=True)
class Issued:
    """What a command id stands for: image, output-channel tile, the chunk's first output row and, for a
    command that covers part of a chain, its first input-channel tile."""
    image: int
    oc_tile: int
    y0: int                 # WS: the chunk's first output row; OS: the chunk's first output position
    ic0: int = 0
    os: bool = False        # an output-stationary command: its psum-port vectors are finished sums


@dataclass(frozen=True)
class Layout:
    """Where a mapping puts things, beyond the defaults the network uses (offsets 0, one command per tile):
    the random tests draw these to exercise every command field.

    act/wgt/acc_offset: the first activation, weight and accumulator word used; split_ic: one command per
    input-channel tile, chained (the first clears the sums, the last emits them); empty_command: an extra
    command with nothing to stream (the sequencer drops it) before each chunk's commands."""
    act_offset: int = 0
    wgt_offset: int = 0
    acc_offset: int = 0
    split_ic: bool = False
    empty_command: bool = False
