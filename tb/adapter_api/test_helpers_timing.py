"""The adapter helpers' timing, on a probe (probe.v): what a read right after tick() sees, and
RegisteredInputs with registered and direct pins mixed."""
from __future__ import annotations

from pathlib import Path

import cocotb
import pytest
from cocotb.triggers import FallingEdge, ReadOnly, RisingEdge

from accel_tb.design.runner import run
from accel_tb.helpers import RegisteredInputs, start_clock, tick

HERE = Path(__file__).parent


@cocotb.test()
async def test_read_after_tick(dut):
    dut.rst.value, dut.d.value = 1, 0
    start_clock(dut)
    await RisingEdge(dut.clk)
    await tick(dut, rst=0, d=0)
    seen = []
    for v in (5, 6, 7):
        await tick(dut, d=v)
        # right after tick(): the values of the cycle in which d=v was driven, before its edge took effect
        seen.append((int(dut.y.value), int(dut.q.value)))
        await ReadOnly()
        seen.append(("after ReadOnly", int(dut.q.value)))
    dut._log.info(f"seen {seen}")
    assert seen == [(6, 0), ("after ReadOnly", 5), (7, 5), ("after ReadOnly", 6), (8, 6), ("after ReadOnly", 7)], seen


@cocotb.test()
async def test_registered_and_direct_pins(dut):
    """RegisteredInputs(direct=("rst",)): rst takes effect in the tick() that names it, d one cycle later."""
    pins = RegisteredInputs(dut, direct=("rst",), rst=1, d=0)
    start_clock(dut)
    await pins.tick(rst=1, d=0)
    await pins.tick(rst=0, d=9)
    assert (int(dut.rst.value), int(dut.d.value)) == (0, 0), "rst direct, d=9 still in the flop"
    await pins.tick(rst=0, d=10)
    assert (int(dut.rst.value), int(dut.d.value), int(dut.y.value)) == (0, 9, 10)
    await pins.tick(d=11)
    await ReadOnly()
    before = int(dut.cnt.value)
    assert before == 3 and int(dut.q.value) == 10, (before, int(dut.q.value))
    await pins.tick(rst=1, d=12)            # a reset mid-run, in the same tick as a registered pin
    assert (int(dut.rst.value), int(dut.d.value)) == (1, 11)
    await ReadOnly()
    assert (int(dut.cnt.value), int(dut.q.value)) == (0, 0), "the reset took effect at this tick's edge"
    await pins.tick(rst=0, d=13)
    await ReadOnly()
    assert (int(dut.cnt.value), int(dut.q.value)) == (1, 12)
    # the default (no direct pins) delays every pin: rst arrives one tick late
    await FallingEdge(dut.clk)
    late = RegisteredInputs(dut, rst=0, d=0)
    await late.tick(rst=1, d=1)
    assert int(dut.rst.value) == 0
    await late.tick(rst=0, d=2)
    assert int(dut.rst.value) == 1


@pytest.mark.parametrize("which", ["icarus", "verilator"])
def test_tick_timing(which, request):
    run(toplevel="probe", sources=[HERE / "probe.v"], test_module="test_helpers_timing", sim=request.config.forced_sim or which,
        testcase=["test_read_after_tick", "test_registered_and_direct_pins"], includes=[])
