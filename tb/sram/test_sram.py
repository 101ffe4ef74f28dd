"""SRAMs: random reads and writes against a dict, single-port and 1R1W (read-before-write)."""

import cocotb
import pytest
from cocotb.triggers import ReadOnly, RisingEdge, Timer

from accel_tb.design.runner import rtl_sources, run
from accel_tb.vip.sim import param, seeded_random, start


@cocotb.test()
async def test_sram_sp_random(dut):
    width, depth = param(dut, "WIDTH"), param(dut, "DEPTH")
    rng = seeded_random("sram_sp")
    mem: dict = {}
    await start(dut, reset=False)
    reads = 0
    for cycle in range(3000):
        en, we = int(rng.random() < 0.8), int(rng.random() < 0.5)
        addr = rng.randrange(min(depth, 64)) if rng.random() < 0.7 else rng.randrange(depth)
        data = rng.getrandbits(width)
        dut.en.value, dut.we.value, dut.addr.value, dut.wdata.value = en, we, addr, data
        await RisingEdge(dut.clk)
        await ReadOnly()
        if en and we:
            mem[addr] = data
        elif en and addr in mem:   # the read issued at this edge is visible right after it
            assert int(dut.rdata.value) == mem[addr], f"cycle {cycle}: read of {addr}"
            reads += 1
        await Timer(1, unit="ns")
    assert reads > 500
    dut._log.info(f"{reads} reads checked")


@cocotb.test()
async def test_sram_1r1w_random(dut):
    width, depth = param(dut, "WIDTH"), param(dut, "DEPTH")
    rng = seeded_random("sram_1r1w")
    mem: dict = {}
    await start(dut, reset=False)
    reads = collisions = 0
    for cycle in range(3000):
        ren, we = int(rng.random() < 0.7), int(rng.random() < 0.6)
        # every other cycle the whole depth (each address bit toggles), else the first 16 words (collisions)
        span = depth if rng.random() < 0.5 else min(depth, 16)
        raddr, waddr = rng.randrange(span), rng.randrange(span)
        data = rng.getrandbits(width)
        dut.ren.value, dut.raddr.value, dut.we.value, dut.waddr.value, dut.wdata.value = ren, raddr, we, waddr, data
        await RisingEdge(dut.clk)
        await ReadOnly()
        if ren and raddr in mem:   # the old value, even when the same edge writes that address
            assert int(dut.rdata.value) == mem[raddr], f"cycle {cycle}: read of {raddr}"
            reads += 1
        collisions += ren and we and raddr == waddr
        if we:
            mem[waddr] = data
        await Timer(1, unit="ns")
    assert reads > 500 and collisions > 10
    dut._log.info(f"{reads} reads checked, {collisions} same-address read/write cycles")


@pytest.mark.parametrize("width,depth", [(32, 64), (256, 128)])
def test_sram_sp(width, depth, sim):
    run(toplevel="sram_sp", sources=rtl_sources("sram_sp"), test_module="test_sram",
        testcase="test_sram_sp_random", parameters={"WIDTH": width, "DEPTH": depth}, sim=sim)


@pytest.mark.parametrize("width,depth", [(128, 16), (384, 256)])
def test_sram_1r1w(width, depth, sim):
    run(toplevel="sram_1r1w", sources=rtl_sources("sram_1r1w"), test_module="test_sram",
        testcase="test_sram_1r1w_random", parameters={"WIDTH": width, "DEPTH": depth}, sim=sim)
