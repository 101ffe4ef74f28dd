"""What core adapters need to talk to a course-style core (see accel_tb.adapter and examples/skeleton_core):

- tick(dut, **pins):           drive pins on the falling edge, return after the rising edge that samples them
- RegisteredInputs:            the same, one cycle later (testbenches that pass every field through a flop);
                               RegisteredInputs(dut, direct=("reset",)) drives the pins named there at once
                               (a reset or mode pin that does not go through the testbench's flop)
- pulse_reset(dut, cycles, polarity): reset of either polarity
- start_clock(dut):            100 MHz clock on dut.clk (in the simulator, not in Python)
- InstructionWord:             named fields packed into one instruction word, LSB first, with defaults
- pair_lanes(channels):        2-bit mode: 2R channel values -> R lanes, channel 2r low, 2r + 1 high (course Part 2)
- pack_lanes / unpack_lanes:   course words: row 0 / column 0 in the low bits, two's complement lanes;
                               unpack_lanes(dut.sig.value, ...) returns a lane that holds X or Z as Unknown
                               (never equal to a number: the checker reports it as a located mismatch)
- now_cycle():                 the current clock cycle (for cycle counts in the summary)

When to sample an output (both simulators; tb/adapter_api/test_helpers_timing.py): tick() returns in the
time step of the rising edge, before that edge's register updates are visible. A read right after
`await tick(dut, **pins)` therefore sees what the core drove during the cycle in which `pins` were applied:
a combinational output of those pins, and a registered output as the edges *before* this one left it.
What the rising edge itself registered (the flop that sampled `pins`) is seen after the next tick(), or
in the same time step after `await ReadOnly()` (read only: drive nothing until the next falling edge, which
tick() awaits first). An adapter that reads a registered output right after the tick() whose pins produce
it reads the previous cycle's value: one cycle early.
"""
from __future__ import annotations

from cocotb.triggers import FallingEdge, RisingEdge

from accel_host.fields import Field, WordLayout
from accel_host.packing import pack_lanes
from accel_tb.adapter import pair_lanes
from accel_tb.vip.sim import drive, lanes, now_cycle, pulse_reset, start_clock, tick

__all__ = ["tick", "RegisteredInputs", "pulse_reset", "start_clock", "InstructionWord", "pack_lanes",
           "unpack_lanes", "Unknown", "now_cycle", "drive", "pair_lanes"]


class Unknown(str):
    """A lane that held X or Z (its bits as the simulator showed them, e.g. 'XXXX' or 'X01Z'): a string, so
    it is never equal to an expected number and the checker reports it as a mismatch at its position, with
    the cycle it was read at (`cycle`)."""
    cycle: int | None = None

    def __new__(cls, bits: str, cycle: int | None = None):
        u = super().__new__(cls, bits)
        u.cycle = cycle
        return u


def unpack_lanes(word, n: int, width: int, signed: bool) -> list:
    """Lane i of a word at bits [i*width +: width]. `word` is an int or a signal's value as cocotb reads it
    (`dut.sfu_out.value`): lanes holding X or Z come back as Unknown (with the cycle), the others as ints."""
    return lanes(word, n, width, signed, unknown=lambda bits: Unknown(bits, _cycle_or_none()))


def _cycle_or_none():
    try:
        return now_cycle()
    except Exception:   # noqa: BLE001 -- outside a simulation (a value given as a string)
        return None


class InstructionWord(WordLayout):
    """InstructionWord([("load", 1), ("execute", 1), ...], defaults={"CEN_xmem": 1}) -- fields LSB first;
    pack(**fields) fills the rest from defaults (e.g. active-low enables held high)."""

    def __init__(self, fields: list[tuple[str, int]], defaults: dict | None = None, name: str = "INST"):
        super().__init__(name, [Field(n, w, "") for n, w in fields], f"{name} word")
        self.defaults = dict(defaults or {})

    def pack(self, **values) -> int:
        return super().pack(**{**self.defaults, **values})


class RegisteredInputs:
    """Pins as a course testbench drives them through a flop (`inst_q <= inst_w` at every posedge): the
    values given to tick() reach the pins one cycle later. Pins named in `direct` (e.g. a reset or a mode pin
    the testbench drives without its flop) are driven in the tick() that names them, with no delay; the
    others keep their one-cycle delay, so one tick() may mix both."""

    def __init__(self, dut, clk: str = "clk", direct=(), **initial):
        self.dut, self.clk = dut, getattr(dut, clk)
        self.direct = frozenset([direct] if isinstance(direct, str) else direct)
        self.pending = {k: v for k, v in initial.items() if k not in self.direct}
        drive(dut, **initial)

    async def tick(self, **pins):
        await FallingEdge(self.clk)
        now = {k: v for k, v in pins.items() if k in self.direct}
        drive(self.dut, **self.pending, **now)
        self.pending = {k: v for k, v in pins.items() if k not in self.direct}
        await RisingEdge(self.clk)
