"""FIFO: random pushes and pops with back-pressure on both sides, against a Python deque."""
from collections import deque

import cocotb
import pytest
from cocotb.triggers import ReadOnly, RisingEdge, Timer

from accel_tb.design.runner import rtl_sources, run
from accel_tb.vip.sim import param, seeded_random, start


@cocotb.test()
async def test_fifo_random(dut):
    width, depth = param(dut, "WIDTH"), param(dut, "DEPTH")
    rng = seeded_random("fifo")
    model: deque = deque()
    await start(dut, in_valid=0, out_ready=0, in_data=0)
    pushes = pops = 0
    full_seen = empty_seen = False
    for cycle in range(3000):
        phase = (cycle // 300) % 3   # alternate fill-biased, drain-biased and balanced traffic
        push_p, pop_p = [(0.8, 0.3), (0.3, 0.8), (0.5, 0.5)][phase]
        iv, orr = int(rng.random() < push_p), int(rng.random() < pop_p)
        data = rng.getrandbits(width)
        dut.in_valid.value, dut.in_data.value, dut.out_ready.value = iv, data, orr
        await ReadOnly()
        in_ready, out_valid = int(dut.in_ready.value), int(dut.out_valid.value)
        assert in_ready == (len(model) < depth), f"cycle {cycle}: in_ready={in_ready} with {len(model)} stored"
        assert out_valid == (len(model) > 0), f"cycle {cycle}: out_valid={out_valid} with {len(model)} stored"
        assert int(dut.count.value) == len(model)
        if out_valid:
            assert int(dut.out_data.value) == model[0], f"cycle {cycle}: head {int(dut.out_data.value)} != {model[0]}"
        full_seen |= not in_ready
        empty_seen |= not out_valid
        popped = out_valid and orr
        if popped:
            model.popleft()
            pops += 1
        if iv and in_ready:
            model.append(data)
            pushes += 1
        await RisingEdge(dut.clk)
        await Timer(1, unit="ns")
    assert full_seen and empty_seen, "traffic never filled or never emptied the FIFO"
    dut._log.info(f"{pushes} pushes, {pops} pops checked")


@pytest.mark.parametrize("width,depth", [(8, 1), (16, 3), (32, 16)])
def test_fifo(width, depth, sim):
    run(toplevel="fifo", sources=rtl_sources("fifo"), test_module="test_fifo",
        parameters={"WIDTH": width, "DEPTH": depth}, sim=sim)
