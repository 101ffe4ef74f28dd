"""MAC: both activation modes exhaustively, at random psum inputs, against Python integer math.

mode 0: every (4-bit activation, 4-bit weight) pair, the high weight random (it must not matter);
mode 1: every (2-bit low, 2-bit high activation, low weight, high weight) combination."""
import subprocess

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


@pytest.mark.slow       # three compiles and a training run: make test, not make smoke
@pytest.mark.prefer("verilator")
def test_profile_guided_build_trains_then_compiles_from_the_counts(sim, tmp_path, monkeypatch):
    """runner.build's profile-guided path end to end with the real toolchain, on the smallest model (the long
    network runs take it for the whole-network model: the same steps, a larger model): the instrumented model
    runs the training test and leaves its counts (the model's and Verilator's runtime's) beside the objects,
    the model is compiled again from them with link-time optimisation -- the compile finds them (GCC's
    -Wmissing-profile is read), no instrumentation is left in it -- and it passes its test."""
    from accel_tb.design import runner
    blocked = runner.pgo_blocked(sim, runner.waves_from_env())
    if blocked:
        pytest.skip(f"no profile-guided build with {blocked}")
    monkeypatch.setattr(runner, "BUILD", tmp_path)        # a build of its own, never a cached one
    train = runner.ProfileRun("test_mac", "test_mac_exhaustive", {})
    res = runner.run(toplevel="mac", sources=rtl_sources("mac"), test_module="test_mac", sim=sim,
                     long_run=True, train=train)
    build_dir = res["run_dir"].parent.parent
    assert res["build"] == "profile-guided" and build_dir.name.endswith("-pgo")
    counts = sorted(p.name for p in build_dir.glob("*.gcda"))
    assert any(c.startswith("Vtop") for c in counts) and "verilated.gcda" in counts, counts
    symbols = subprocess.run(["nm", str(build_dir / "mac")], capture_output=True, text=True, check=True).stdout
    assert "__gcov_" not in symbols, "the final model is still instrumented"
    assert list(build_dir.glob("runs/profile-training-*/sim.log")), "no training run with its log"
