"""SFU: random psum vectors with tags (address, clear, last, relu), often hitting the same address a cycle or
two apart (the sums written after a word was read ahead, and in the take's own cycle), with random output-space
stalls and vectors late behind their tags; against a Python accumulator.

The SFU reads the accumulator ahead (sfu.v): the testbench keeps the tag queue as core.v does -- a head and the
tags behind it -- and issues the read (rd_en, rd_addr) in the cycle a tag becomes the head."""
from collections import deque

import cocotb
import pytest
from cocotb.triggers import ReadOnly, RisingEdge, Timer

from accel_host.packing import pack_lanes, unpack_lanes
from accel_tb.design.runner import rtl_sources, run
from accel_tb.vip.sim import param, seeded_random, signed, start


@cocotb.test()
async def test_sfu_random(dut):
    cols, p_w, acc_w, depth = (param(dut, n) for n in ("COLS", "PSUM_W", "ACC_W", "DEPTH"))
    rng = seeded_random("sfu")
    acc: dict = {}
    expected = []     # (addr, sums, relu)
    lim = 1 << (p_w - 2)
    await start(dut, in_valid=0, out_space_ok=0, in_psum=0, in_addr=0, in_clear=0, in_last=0, in_relu=0,
                rd_en=0, rd_addr=0)
    outs = []
    queue, head = deque(), None      # tags behind the head, and the head (the next vector's tag)
    stage1 = None                    # the address stage 1 writes this cycle (the vector taken last cycle)
    known = set()                    # addresses a tag so far wrote (a tag without clear adds to the word)

    def sample():
        if int(dut.out_valid.value):
            outs.append((int(dut.out_addr.value), unpack_lanes(int(dut.out_data.value), cols, acc_w, True),
                         unpack_lanes(int(dut.acc_data.value), cols, acc_w, True)))

    fired = 0
    stale = [0, 0, 0]     # heads whose newest value was a sum written: in the take's cycle, last, the one before
    writes = []           # the addresses of the sums written since the head was read, oldest first
    recent = []
    for cycle in range(4000):
        if len(queue) < 6 and rng.random() < 0.85:     # a tag arrives (its vector some cycles later)
            r = rng.random()     # often the last tag's address, or the one before it (a sum two writes back)
            addr = (recent[-1] if r < 0.35 and recent else recent[0] if r < 0.55 and len(recent) == 2
                    else rng.randrange(min(depth, 8)))
            queue.append(dict(addr=addr, psum=[rng.randint(-lim, lim) for _ in range(cols)],
                              clear=int(addr not in known or rng.random() < 0.2), last=int(rng.random() < 0.3),
                              relu=rng.randrange(2), wait=rng.choice((0, 0, 0, 1, 3))))
            known.add(addr)
            recent = (recent + [addr])[-2:]
        space = int(rng.random() < 0.8)
        present = head is not None and head["wait"] == 0
        take = present and bool(space)
        dut.out_space_ok.value = space
        dut.in_valid.value = int(present)
        if head is not None:
            dut.in_psum.value = pack_lanes(head["psum"], p_w)
            dut.in_addr.value = head["addr"]
            dut.in_clear.value, dut.in_last.value, dut.in_relu.value = head["clear"], head["last"], head["relu"]
        else:   # no head: the tag ports hold whatever (the SFU must not keep anything from them)
            dut.in_addr.value = rng.randrange(min(depth, 8))
        loads = (head is None or take) and bool(queue)
        dut.rd_en.value = int(loads)
        dut.rd_addr.value = queue[0]["addr"] if loads else rng.randrange(min(depth, 8))
        await ReadOnly()
        sample()
        if take:
            assert int(dut.in_ready.value) == 1
            p = head
            newer = [a == p["addr"] for a in ([stage1] if stage1 is not None else []) + writes[::-1][:2]]
            if True in newer:
                stale[newer.index(True) if stage1 is not None else newer.index(True) + 1] += 1
            base = [0] * cols if p["clear"] else acc[p["addr"]]
            # the accumulator wraps at ACC_W like the hardware (the mapper proves real layers never do)
            acc[p["addr"]] = [signed(b + v, acc_w) for b, v in zip(base, p["psum"])]
            if p["last"]:
                s = acc[p["addr"]]
                expected.append((p["addr"], [max(0, x) for x in s] if p["relu"] else s, s))
            fired += 1
        elif head is not None:
            head["wait"] = max(0, head["wait"] - 1)
        # the sums written at or after the head's read (the memory returns the old word in the read's cycle)
        if loads:
            writes = []
        if stage1 is not None:
            writes.append(stage1)
        stage1 = head["addr"] if take else None
        if take:
            head = None
        if loads:
            head = queue.popleft()
        await RisingEdge(dut.clk)
        await Timer(1, unit="ns")
    # idle the input before draining: a vector left valid would fire again on every drain cycle
    dut.in_valid.value = 0
    dut.rd_en.value = 0
    for _ in range(3):
        await ReadOnly()
        sample()
        await RisingEdge(dut.clk)
        await Timer(1, unit="ns")
    for i, (g, e) in enumerate(zip(outs, expected)):
        assert g == e, f"result {i}: got {g}, expected {e}"
    assert len(outs) == len(expected), f"{len(outs)} results, expected {len(expected)}"
    # each way a word read ahead goes stale, exercised often (counted from the stream, not from the RTL)
    assert min(stale) > 20, stale
    dut._log.info(f"{fired} psum vectors, {len(expected)} results; heads whose word was stale, the newest value a "
                  f"sum written in the take's cycle {stale[0]}, the last before it {stale[1]}, the one before {stale[2]}")


@pytest.mark.parametrize("cols,acc_w", [(8, 16), (16, 24)])
def test_sfu(cols, acc_w, sim):
    run(toplevel="sfu", sources=rtl_sources("sram_1r1w", "sfu"), test_module="test_sfu",
        parameters={"COLS": cols, "ACC_W": acc_w, "DEPTH": 64}, sim=sim)
