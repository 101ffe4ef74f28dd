"""What core adapters need to talk to a course-style core (see accel_tb.adapter and examples/skeleton_core):

- tick(dut, **pins):           drive pins on the falling edge, return after the rising edge that samples them
- RegisteredInputs:            the same, one cycle later (testbenches that pass every field through a flop)
- pulse_reset(dut, cycles, polarity): reset of either polarity
- start_clock(dut):            100 MHz clock on dut.clk (in the simulator, not in Python)
- InstructionWord:             named fields packed into one instruction word, LSB first, with defaults
- pack_lanes / unpack_lanes:   course words: row 0 / column 0 in the low bits, two's complement lanes
- now_cycle():                 the current clock cycle (for cycle counts in the summary)
"""
from __future__ import annotations

from cocotb.triggers import FallingEdge, RisingEdge

from accel_host.fields import Field, Layout
from accel_host.packing import pack_lanes, unpack_lanes

from .sim import drive, now_cycle, pulse_reset, start_clock, tick

__all__ = ["tick", "RegisteredInputs", "pulse_reset", "start_clock", "InstructionWord", "pack_lanes",
           "unpack_lanes", "now_cycle", "drive"]


class InstructionWord(Layout):
    """InstructionWord([("load", 1), ("execute", 1), ...], defaults={"CEN_xmem": 1}) -- fields LSB first;
    pack(**fields) fills the rest from defaults (e.g. active-low enables held high)."""

    def __init__(self, fields: list[tuple[str, int]], defaults: dict | None = None, name: str = "INST"):
        super().__init__(name, [Field(n, w, "") for n, w in fields], f"{name} word")
        self.defaults = dict(defaults or {})

    def pack(self, **values) -> int:
        return super().pack(**{**self.defaults, **values})


class RegisteredInputs:
    """Pins as a course testbench drives them through a flop (`inst_q <= inst_w` at every posedge): the
    values given to tick() reach the pins one cycle later."""

    def __init__(self, dut, clk: str = "clk", **initial):
        self.dut, self.clk = dut, getattr(dut, clk)
        self.pending = dict(initial)
        drive(dut, **initial)

    async def tick(self, **pins):
        await FallingEdge(self.clk)
        drive(self.dut, **self.pending)
        self.pending = pins
        await RisingEdge(self.clk)
