"""Small cocotb helpers shared by testbenches and core adapters: clock, reset, pin driving, cycle count."""
from __future__ import annotations

import random

import cocotb
from cocotb.clock import Clock
from cocotb.triggers import FallingEdge, RisingEdge, Timer
from cocotb.utils import get_sim_time

from accel_host.packing import unpack_lanes

CLOCK_NS = 10


def start_clock(dut, period_ns: int = CLOCK_NS, clk: str = "clk"):
    """The clock toggles in the simulator's C++ side (cocotb's GPI clock): a Python clock wakes the
    interpreter twice per cycle and caps Verilator at a fraction of its speed."""
    cocotb.start_soon(Clock(getattr(dut, clk), period_ns, unit="ns", impl="gpi").start())


async def pulse_reset(dut, cycles: int = 3, polarity: int = 1, signal: str = "rst", clk: str = "clk"):
    """Hold `signal` at `polarity` for `cycles` rising edges, then release it (active-low: polarity=0)."""
    rst, edge = getattr(dut, signal), RisingEdge(getattr(dut, clk))
    rst.value = polarity
    for _ in range(cycles):
        await edge
    rst.value = 1 - polarity
    await edge


async def start(dut, reset: bool = True, cycles: int = 2, **idle):
    """Drive the idle input values given as keywords, start a 100 MHz clock on dut.clk and pulse dut.rst
    (when the block has one). Inputs must be defined before the first edge after reset, or X gets in."""
    drive(dut, **idle)
    start_clock(dut)
    if reset and hasattr(dut, "rst"):
        await pulse_reset(dut, cycles)
    else:
        await RisingEdge(dut.clk)


def drive(dut, **pins):
    for name, value in pins.items():
        getattr(dut, name).value = value


async def tick(dut, clk: str = "clk", **pins):
    """Drive pins on the falling edge and return after the next rising edge: the way course testbenches
    (`#0.5 clk = 0; ... #0.5 clk = 1;`) apply one instruction per cycle."""
    await FallingEdge(getattr(dut, clk))
    drive(dut, **pins)
    await RisingEdge(getattr(dut, clk))


def now_cycle(period_ns: int = CLOCK_NS) -> int:
    return int(get_sim_time("ns") // period_ns)


async def settle():
    """Let combinational logic settle after driving inputs (for purely combinational blocks)."""
    await Timer(1, unit="ns")


def param(dut, name: str) -> int:
    return int(getattr(dut, name).value)


def signed(v: int, bits: int) -> int:
    v &= (1 << bits) - 1
    return v - (1 << bits) if v >> (bits - 1) else v


def lanes(value, n: int, width: int, signed_: bool = False, unknown=lambda bits: None) -> list:
    """Split a word into n lanes (lane 0 = LSBs): an int, or a signal's value as cocotb reads it. A lane
    holding X or Z comes back as unknown(its bits) (None by default); the others as ints."""
    if isinstance(value, int):
        return unpack_lanes(value, n, width, signed_)
    bits = str(value).upper()
    if all(c in "01" for c in bits):
        return unpack_lanes(int(bits, 2), n, width, signed_)
    bits = bits.rjust(n * width, "0")
    out = []
    for i in range(n):
        chunk = bits[len(bits) - (i + 1) * width: len(bits) - i * width]
        out.append(unknown(chunk) if set(chunk) - {"0", "1"} else unpack_lanes(int(chunk, 2), 1, width, signed_)[0])
    return out


def seeded_random(label: str) -> random.Random:
    """Per-testbench RNG from the printed, settable cocotb seed (COCOTB_RANDOM_SEED)."""
    return random.Random(f"{cocotb.RANDOM_SEED}-{label}")
