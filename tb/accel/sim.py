"""Small cocotb helpers shared by the block testbenches."""
from __future__ import annotations

import cocotb
from cocotb.clock import Clock
from cocotb.triggers import RisingEdge, Timer


async def start(dut, reset: bool = True, cycles: int = 2, **idle):
    """Drive the idle input values given as keywords, start a 100 MHz clock on dut.clk and pulse dut.rst
    (when the block has one). Inputs must be defined before the first edge after reset, or X gets in."""
    for name, value in idle.items():
        getattr(dut, name).value = value
    start_clock(dut)
    if reset and hasattr(dut, "rst"):
        dut.rst.value = 1
        for _ in range(cycles):
            await RisingEdge(dut.clk)
        dut.rst.value = 0
    await RisingEdge(dut.clk)


def start_clock(dut, period_ns: int = 10):
    """The clock toggles in the simulator's C++ side (cocotb's GPI clock): the default Python clock wakes
    the interpreter twice per cycle and caps Verilator at a fraction of its speed."""
    cocotb.start_soon(Clock(dut.clk, period_ns, unit="ns", impl="gpi").start())


async def settle():
    """Let combinational logic settle after driving inputs (for purely combinational blocks)."""
    await Timer(1, unit="ns")


def param(dut, name: str) -> int:
    return int(getattr(dut, name).value)


def signed(v: int, bits: int) -> int:
    v &= (1 << bits) - 1
    return v - (1 << bits) if v >> (bits - 1) else v


def lanes(value, n: int, width: int, signed_: bool = False) -> list:
    """Split a LogicArray into n lanes (lane 0 = LSBs); lanes holding X/Z come back as None."""
    bits = str(value)
    out = []
    for i in range(n):
        chunk = bits[len(bits) - (i + 1) * width: len(bits) - i * width]
        if set(chunk) - {"0", "1"}:
            out.append(None)
            continue
        v = int(chunk, 2)
        out.append(signed(v, width) if signed_ else v)
    return out
