"""Mapping a 3x3 / pad 1 / stride 1 conv layer onto the core: one Dataflow per module.

A mapping says which memory words to write, which commands to issue, and how to read what the core
reports (command id, tile, position) back into the layer's own coordinates. It computes no expected
values: those come from golden_py.
"""
from .base import LayerShape, MappingError
from .ws import WeightStationary, ceil_div

__all__ = ["LayerShape", "MappingError", "WeightStationary", "ceil_div", "DATAFLOWS"]

DATAFLOWS = {"ws": WeightStationary}
