"""PE: random tokens (activation, valid, wsel, mode, dataflow, block starts, weight loads), psums and drain-chain
inputs, against a cycle model (the PE passes the activation and valid east, not the control), in both
activation modes and both dataflows: weight-stationary (one 4-bit activation times the low weight, or two 2-bit
activations times low and high; the psum moves south) and output-stationary (the weights come from the north
and move south, the sum stays, and a block start hands it to the upward drain chain)."""

import cocotb
import pytest
from cocotb.triggers import ReadOnly, RisingEdge, Timer

from accel_tb.design.runner import rtl_sources, run
from accel_tb.vip.sim import param, seeded_random, signed, start


class PEModel:
    def __init__(self, w_w, a_w):
        self.w_w, self.h = w_w, a_w // 2
        self.w = [None, None]          # per buffer: (low, high); no reset value: undefined until loaded
        self.acc, self.has_block, self.up, self.up_v = 0, 0, 0, 0

    def product(self, a, lo, hi, mode):
        return (a & ((1 << self.h) - 1)) * lo + (a >> self.h) * hi if mode else a * lo

    def step(self, a, valid, wsel, mode, os, first, wl, wl_w, p_in, up_in, up_v_in, p_w):
        """Outputs registered at this edge, from the inputs before it."""
        if os:
            north = p_in & ((1 << (2 * self.w_w)) - 1)
            lo, hi = signed(north, self.w_w), signed(north >> self.w_w, self.w_w)
            total = (0 if first else self.acc) + self.product(a, lo, hi, mode)
            p_out = north
        else:
            if self.w[wsel] is None:    # a bank never loaded: the psum is undefined (not compared)
                total = p_out = None
            else:
                lo, hi = self.w[wsel]
                total = signed(p_in, p_w) + self.product(a, lo, hi, mode)
                p_out = signed(total, p_w)
        if wl:      # wl_w_in is driven with random bits on every cycle: only a load may take it
            self.w[1 - wsel] = (signed(wl_w, self.w_w), signed(wl_w >> self.w_w, self.w_w))
        if os and first and self.has_block:
            self.up, self.up_v = self.acc, 1
        else:
            self.up, self.up_v = up_in, up_v_in
        if os and first:
            self.acc, self.has_block = (signed(total, p_w) if valid else 0), valid
        elif os and valid:
            self.acc, self.has_block = signed(total, p_w), 1
        # the token's control (wsel, mode, os, first, wl) is not passed on: mac_array carries it per diagonal
        return {"a_out": a, "valid_out": valid, "p_out": p_out, "up_out": self.up, "up_v_out": self.up_v}


@cocotb.test()
async def test_pe_random(dut):
    w_w, a_w, p_w = (param(dut, n) for n in ("W_W", "A_W", "PSUM_W"))
    rng = seeded_random("pe")
    model = PEModel(w_w, a_w)
    await start(dut, a_in=0, valid_in=0, wsel_in=0, mode_in=0, os_in=0, first_in=0, wl_in=0, wl_w_in=0, p_in=0,
                up_in=0, up_v_in=0)
    for cycle in range(4000):
        phase = cycle // 1000      # WS 4-bit, WS mixed modes, OS, OS and WS mixed
        os = int(phase == 2 or (phase == 3 and rng.random() < 0.5))
        ins = dict(a=rng.randrange(1 << a_w), valid=rng.randrange(2), wsel=rng.randrange(2),
                   mode=int(phase >= 1 and rng.random() < 0.5), os=os, first=int(os and rng.random() < 0.1),
                   wl=int(rng.random() < 0.2), wl_w=rng.getrandbits(2 * w_w),
                   p_in=rng.randint(-1000, 1000) if not os else rng.getrandbits(2 * w_w),
                   up_in=rng.randint(-2000, 2000), up_v_in=rng.randrange(2), p_w=p_w)
        dut.a_in.value, dut.valid_in.value, dut.wsel_in.value = ins["a"], ins["valid"], ins["wsel"]
        dut.mode_in.value, dut.os_in.value, dut.first_in.value = ins["mode"], ins["os"], ins["first"]
        dut.wl_in.value, dut.wl_w_in.value = ins["wl"], ins["wl_w"]
        dut.p_in.value = ins["p_in"] & ((1 << p_w) - 1)
        dut.up_in.value, dut.up_v_in.value = ins["up_in"] & ((1 << p_w) - 1), ins["up_v_in"]
        exp = model.step(**ins)
        await RisingEdge(dut.clk)
        await ReadOnly()
        for name, e in exp.items():
            if e is None:
                continue
            got = int(getattr(dut, name).value)
            if name == "p_out" and not ins["os"] or name == "up_out":
                got = signed(got, p_w)
            assert got == e, f"cycle {cycle}: {name} = {got}, expected {e} (inputs {ins})"
        await Timer(1, unit="ns")   # leave the read-only phase before driving again


@pytest.mark.parametrize("a_w,w_w", [(4, 4), (8, 6)])
def test_pe(a_w, w_w, sim):
    run(toplevel="pe", sources=rtl_sources("mac", "pe"), test_module="test_pe",
        parameters={"A_W": a_w, "W_W": w_w}, sim=sim)
