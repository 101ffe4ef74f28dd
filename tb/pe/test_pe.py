"""PE: random tokens (activation, valid, wsel, mode, weight loads) and psums, against a cycle model, in both
activation modes: one 4-bit activation times the low weight, or two 2-bit activations times low and high."""

import cocotb
import pytest
from cocotb.triggers import ReadOnly, RisingEdge, Timer

from accel_tb.runner import rtl_sources, run
from accel_tb.sim import param, seeded_random, signed, start


class PEModel:
    def __init__(self, col, w_w, a_w):
        self.col, self.w_w, self.h = col, w_w, a_w // 2
        self.w = [(0, 0), (0, 0)]      # per buffer: (low, high)
        self.payload = None            # no reset value: undefined until the first load

    def step(self, a, valid, wsel, mode, wl, wl_data, p_in, p_w):
        """Outputs registered at this edge, from the inputs before it."""
        lo, hi = self.w[wsel]
        if mode:
            product = (a & ((1 << self.h) - 1)) * lo + (a >> self.h) * hi
        else:
            product = a * lo
        if wl:
            mine = wl_data >> (self.col * 2 * self.w_w)
            self.w[1 - wsel] = (signed(mine, self.w_w), signed(mine >> self.w_w, self.w_w))
            self.payload = wl_data      # the payload register moves only with a load
        return {"a_out": a, "valid_out": valid, "wsel_out": wsel, "mode_out": mode, "wl_out": wl,
                "wl_data_out": self.payload, "p_out": signed(p_in + product, p_w)}


@cocotb.test()
async def test_pe_random(dut):
    cols, col, w_w, a_w, p_w = (param(dut, n) for n in ("COLS", "COL", "W_W", "A_W", "PSUM_W"))
    rng = seeded_random("pe")
    model = PEModel(col, w_w, a_w)
    await start(dut, a_in=0, valid_in=0, wsel_in=0, mode_in=0, wl_in=0, wl_data_in=0, p_in=0)
    for cycle in range(3000):
        ins = dict(a=rng.randrange(1 << a_w), valid=rng.randrange(2), wsel=rng.randrange(2),
                   mode=int(cycle >= 1000 and (cycle >= 2000 or rng.random() < 0.5)),
                   wl=int(rng.random() < 0.2), wl_data=rng.getrandbits(cols * 2 * w_w),
                   p_in=rng.randint(-1000, 1000), p_w=p_w)
        dut.a_in.value, dut.valid_in.value, dut.wsel_in.value = ins["a"], ins["valid"], ins["wsel"]
        dut.mode_in.value = ins["mode"]
        dut.wl_in.value, dut.wl_data_in.value = ins["wl"], ins["wl_data"]
        dut.p_in.value = ins["p_in"] & ((1 << p_w) - 1)
        exp = model.step(**ins)
        await RisingEdge(dut.clk)
        await ReadOnly()
        for name, e in exp.items():
            if e is None:
                continue
            got = int(getattr(dut, name).value)
            if name == "p_out":
                got = signed(got, p_w)
            assert got == e, f"cycle {cycle}: {name} = {got}, expected {e} (inputs {ins})"
        await Timer(1, unit="ns")   # leave the read-only phase before driving again


@pytest.mark.parametrize("cols,col", [(8, 0), (8, 7), (16, 9)])
def test_pe(cols, col, sim):
    run(toplevel="pe", sources=rtl_sources("mac", "pe"), test_module="test_pe",
        parameters={"COLS": cols, "COL": col}, sim=sim)
