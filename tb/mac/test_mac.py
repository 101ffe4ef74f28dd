"""MAC: both activation modes exhaustively, at random psum inputs, against Python integer math.

mode 0: every (4-bit activation, 4-bit weight) pair, the high weight random (it must not matter);
mode 1: every (2-bit low, 2-bit high activation, low weight, high weight) combination."""
import cocotb
import pytest

from accel_tb.design.runner import rtl_sources, run
from accel_tb.vip.sim import param, seeded_random, settle, signed


@cocotb.test()
async def test_mac_exhaustive(dut):
    a_w, w_w, p_w = param(dut, "A_W"), param(dut, "W_W"), param(dut, "PSUM_W")
    h = a_w // 2
    rng = seeded_random("mac")
    lim = 1 << (p_w - 1)
    weights = range(-(1 << (w_w - 1)), 1 << (w_w - 1))
    checked = 0

    async def check(a, w0, w1, mode, expected_product):
        nonlocal checked
        p = rng.randint(-lim // 2, lim // 2 - 1)
        dut.a.value, dut.mode.value = a, mode
        dut.w0.value, dut.w1.value = w0 & ((1 << w_w) - 1), w1 & ((1 << w_w) - 1)
        dut.psum_in.value = p & ((1 << p_w) - 1)
        await settle()
        got = signed(int(dut.psum_out.value), p_w)
        assert got == p + expected_product, (f"mode {mode} a={a:0{a_w}b} w0={w0} w1={w1} psum_in={p}: got {got}, "
                                             f"expected {p + expected_product}")
        checked += 1

    for a in range(1 << a_w):
        for w in weights:
            await check(a, w, rng.choice(weights), 0, a * w)
    for lo in range(1 << h):
        for hi in range(1 << h):
            for w0 in weights:
                for w1 in weights:
                    await check((hi << h) | lo, w0, w1, 1, lo * w0 + hi * w1)
    dut._log.info(f"{checked} combinations checked in both modes")


@pytest.mark.parametrize("psum_w", [12, 16])
def test_mac(psum_w, sim):
    run(toplevel="mac", sources=rtl_sources("mac"), test_module="test_mac", parameters={"PSUM_W": psum_w}, sim=sim)

