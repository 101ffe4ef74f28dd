"""L0 skew: lane i of the output equals lane i of the input i cycles earlier."""

import cocotb
import pytest
from cocotb.triggers import ReadOnly, RisingEdge, Timer

from accel_host.packing import pack_lanes
from accel_tb.runner import rtl_sources, run
from accel_tb.sim import lanes, param, seeded_random, start


@cocotb.test()
async def test_skew_random(dut):
    n_lanes, w = param(dut, "LANES"), param(dut, "W")
    rng = seeded_random("l0")
    await start(dut, reset=False)
    history = []
    checked = 0
    for cycle in range(500):
        vec = [rng.getrandbits(w) for _ in range(n_lanes)]
        history.append(vec)
        getattr(dut, "in").value = pack_lanes(vec, w)   # the port is named `in`, a Python keyword
        await ReadOnly()
        out = lanes(dut.out.value, n_lanes, w)
        for i in range(n_lanes):
            if cycle - i >= 0:
                assert out[i] == history[cycle - i][i], f"cycle {cycle} lane {i}"
                checked += 1
        await RisingEdge(dut.clk)
        await Timer(1, unit="ns")
    dut._log.info(f"{checked} lane values checked")


@pytest.mark.parametrize("lanes,w", [(8, 39), (16, 71), (1, 4)])
def test_l0_skew(lanes, w, sim):
    run(toplevel="l0_skew", sources=rtl_sources("l0_skew"), test_module="test_l0_skew",
        parameters={"LANES": lanes, "W": w}, sim=sim)
