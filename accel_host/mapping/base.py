"""What every dataflow shares: the layer's shape and the mapping error."""
from __future__ import annotations

from dataclasses import dataclass


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
