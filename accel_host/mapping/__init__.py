"""Mapping a 3x3 / pad 1 / stride 1 conv layer onto the core: one Dataflow per module.

A mapping says which memory words to write, which commands to issue, and how to read what the core
reports (command id, tile, position) back into the layer's own coordinates. It computes no expected
values: those come from golden_py.
"""
import dataclasses

from ..cycles import fill_delay
from .base import Command, Issued, LayerShape, Layout, MappingError, ceil_div
from .dataflow import DATAFLOWS, Dataflow, choices, names, of_command, ordered, other
from .os import OutputStationary
from .ws import WeightStationary

__all__ = ["LayerShape", "MappingError", "Command", "Issued", "Layout", "WeightStationary", "OutputStationary",
           "ceil_div", "DATAFLOWS", "Dataflow", "choices", "names", "of_command", "ordered", "other", "mapping",
           "first_step_fill_delay"]


def mapping(cfg, shape, a_bits=4, dataflow="ws", layout=None):
    """The mapping of a layer in a dataflow: 'ws', 'os', or 'auto' (the one the cycle models say is faster
    among those that fit)."""
    layout = layout or Layout()
    if dataflow != "auto":
        return DATAFLOWS[dataflow].mapping(cfg, shape, a_bits, layout)
    options = []
    for df in ordered():
        try:
            options.append(df.mapping(cfg, shape, a_bits, layout))
        except MappingError:
            pass
    if not options:
        return WeightStationary(cfg, shape, a_bits, layout)     # raises the weight-stationary error
    return min(options, key=lambda m: m.model_cycles())


def first_step_fill_delay(m, wgt_fill: bool = True) -> int:
    """accel_host.cycles.fill_delay of a mapping's first step (first weight group, first chunk, image 0) when
    its first command starts the fills (the activations', and the weights' unless they were written before)."""
    cmds = [c for c, _ in m.issue(m.groups[0], m.chunks()[0], 0, True, image=0)]
    cmds[0] = dataclasses.replace(cmds[0], act_fill=1, wgt_fill=int(wgt_fill))
    return fill_delay(cmds)

