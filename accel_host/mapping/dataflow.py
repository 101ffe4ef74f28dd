"""The Dataflow type: what the rest of the project knows of a dataflow, registered once by its module.

A dataflow's module (ws.py, os.py) defines its mapping class (layer -> memory words and commands, the issue
keys that read the core's reports back, the cycle model) and registers a Dataflow naming it. Everything that
offers or loops over dataflows reads the registry: the command-line choices (accel-run/accel-network
--dataflow), the coverage bins, the random tests' draws, the network report's columns, the configuration
file's flow.dataflow. Adding a dataflow is one module here plus its RTL and its tests (docs/rtl.md).
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass


@dataclass(frozen=True)
class Dataflow:
    name: str                   # "ws": the command-line choice, report key and coverage bin
    title: str                  # "weight-stationary"
    mapping: type               # the mapping class (cfg, shape, a_bits, layout) -> words, commands, cycles
    os_bit: int                 # the command's os field that selects it in rtl/sequencer.v
    makes_psums: bool           # partial sums on the core's psum port (else finished sums: checked as such)
    min_channels: Callable[[int, int, int], int] = lambda rows, a_w, a_bits: 1
    """(rows, a_w, a_bits) -> input channels from which every layer fits (the random tests draw from it)."""


DATAFLOWS: dict[str, Dataflow] = {}


def register(df: Dataflow) -> Dataflow:
    if df.name in DATAFLOWS or df.name == "auto":
        raise ValueError(f"dataflow {df.name!r} registered twice (or named like the 'auto' choice)")
    if any(d.os_bit == df.os_bit for d in DATAFLOWS.values()):
        raise ValueError(f"dataflow {df.name!r}: command os bit {df.os_bit} already selects another dataflow")
    DATAFLOWS[df.name] = df
    return df


def ordered() -> list[Dataflow]:
    """The registered dataflows by their command bit (ws first: the default everywhere)."""
    return sorted(DATAFLOWS.values(), key=lambda d: d.os_bit)


def names() -> list[str]:
    return [d.name for d in ordered()]


def choices() -> tuple[str, ...]:
    """What a --dataflow option offers: every dataflow, and 'auto' (the faster by the cycle models)."""
    return (*names(), "auto")


def of_command(os_bit: int) -> Dataflow:
    """The dataflow a command's os bit selects."""
    return next(d for d in DATAFLOWS.values() if d.os_bit == int(os_bit))


def other(name: str) -> str:
    """A dataflow other than `name` (the random tests' switch)."""
    return next(d for d in names() if d != name)
