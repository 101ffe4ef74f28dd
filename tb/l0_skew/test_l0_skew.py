"""L0 skew: lane i of the output equals lane i of the input i cycles earlier, and a reset empties every
stage (a token caught in the skew must not appear after it)."""

import cocotb
import pytest
from cocotb.triggers import ReadOnly, RisingEdge, Timer

from accel_host.packing import pack_lanes
from accel_tb.design.runner import rtl_sources, run
from accel_tb.vip.sim import lanes, param, seeded_random, start


@cocotb.test()
async def test_skew_random(dut):
    n_lanes, w = param(dut, "LANES"), param(dut, "W")
    rng = seeded_random("l0")
    getattr(dut, "in").value = 0                         # the port is named `in`, a Python keyword
    await start(dut)
    history = []
    checked = 0
    reset_at = 300
    for cycle in range(500):
        vec = [rng.getrandbits(w) for _ in range(n_lanes)]
        history.append(vec)
        getattr(dut, "in").value = pack_lanes(vec, w)
        dut.rst.value = int(cycle == reset_at)
        await ReadOnly()
        out = lanes(dut.out.value, n_lanes, w)
        for i in range(n_lanes):
            if cycle - i >= 0:
                src = cycle - i
                # lane 0 is combinational; a stage loaded at or before the reset edge is cleared by it
                want = 0 if (i > 0 and src <= reset_at < cycle) else history[src][i]
                assert out[i] == want, f"cycle {cycle} lane {i}: {out[i]} != {want}"
                checked += 1
        await RisingEdge(dut.clk)
        await Timer(1, unit="ns")
    dut._log.info(f"{checked} lane values checked, a reset at cycle {reset_at} among them")


@pytest.mark.parametrize("lanes,w", [(8, 39), (16, 71), (1, 4)])
def test_l0_skew(lanes, w, sim):
    run(toplevel="l0_skew", sources=rtl_sources("l0_skew"), test_module="test_l0_skew",
        parameters={"LANES": lanes, "W": w}, sim=sim)
