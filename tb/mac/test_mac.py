"""MAC: every (activation, weight) pair at random psum inputs, against Python integer math."""
import cocotb
import pytest

from accel_tb.runner import rtl_sources, run
from accel_tb.sim import param, seeded_random, settle, signed


@cocotb.test()
async def test_mac_exhaustive(dut):
    a_w, w_w, p_w = param(dut, "A_W"), param(dut, "W_W"), param(dut, "PSUM_W")
    rng = seeded_random("mac")
    lim = 1 << (p_w - 1)
    checked = 0
    for a in range(1 << a_w):
        for w in range(-(1 << (w_w - 1)), 1 << (w_w - 1)):
            p = rng.randint(-lim // 2, lim // 2 - 1)
            dut.a.value = a
            dut.w.value = w & ((1 << w_w) - 1)
            dut.psum_in.value = p & ((1 << p_w) - 1)
            await settle()
            got = signed(int(dut.psum_out.value), p_w)
            assert got == p + a * w, f"a={a} w={w} psum_in={p}: got {got}, expected {p + a * w}"
            checked += 1
    dut._log.info(f"{checked} (a, w) pairs checked")


@pytest.mark.parametrize("psum_w", [12, 16])
def test_mac(psum_w, sim):
    run(toplevel="mac", sources=rtl_sources("mac"), test_module="test_mac", parameters={"PSUM_W": psum_w}, sim=sim)
