"""OFIFO: columns arrive skewed (column c, c cycles late) with gaps and a stalling reader; each popped
vector must hold one entry per column, in order."""

import cocotb
import pytest
from cocotb.triggers import ReadOnly, RisingEdge, Timer

from accel_host.packing import pack_lanes, unpack_lanes
from accel_tb.design.runner import rtl_sources, run
from accel_tb.vip.sim import param, seeded_random, start


@cocotb.test()
async def test_ofifo_deskew(dut):
    cols, p_w, depth = param(dut, "COLS"), param(dut, "PSUM_W"), param(dut, "DEPTH")
    rng = seeded_random("ofifo")
    n = 200
    vectors = [[rng.randrange(1 << p_w) for _ in range(cols)] for _ in range(n)]
    starts, t = [], 0
    for _ in range(n):
        t += 1 + (rng.random() < 0.3) * rng.randint(1, 4)
        starts.append(t)
    arrivals = {}   # cycle -> {col: value}
    for i, s in enumerate(starts):
        for c in range(cols):
            arrivals.setdefault(s + c, {})[c] = vectors[i][c]
    await start(dut, in_valid=0, in_data=0, out_ready=0)
    got = []
    for cycle in range(starts[-1] + cols + 4 * n):
        arr = arrivals.get(cycle, {})
        dut.in_valid.value = pack_lanes([int(c in arr) for c in range(cols)], 1)
        dut.in_data.value = pack_lanes([arr.get(c, 0) for c in range(cols)], p_w)
        ready = int(rng.random() < 0.7)
        dut.out_ready.value = ready
        await ReadOnly()
        if int(dut.out_valid.value) and ready:
            got.append(unpack_lanes(int(dut.out_data.value), cols, p_w, signed=False))
        await RisingEdge(dut.clk)
        await Timer(1, unit="ns")
        if len(got) == n:
            break
    assert got == vectors, f"{len(got)} vectors out; first difference at {next((i for i, (a, b) in enumerate(zip(got, vectors)) if a != b), len(got))}"
    dut._log.info(f"{n} vectors de-skewed across {cols} columns (depth {depth})")


@pytest.mark.parametrize("cols", [8, 16])
def test_ofifo(cols, sim):
    run(toplevel="ofifo", sources=rtl_sources("fifo", "ofifo"), test_module="test_ofifo",
        parameters={"COLS": cols, "DEPTH": 64}, sim=sim)
