"""cocotb testbench for rtl/core.v: driver (memory writes, commands), monitors (psum, sum and output
ports), output backpressure, and the keyed scoreboards that check against a LayerPlan as values appear."""
from __future__ import annotations

import random

import cocotb
from cocotb.triggers import ReadOnly, RisingEdge
from cocotb.utils import get_sim_time

from .layout import CoreConfig, unpack_lanes
from .sim import start_clock
from .mapper import LayerPlan
from .scoreboard import KeyedScoreboard


def config_from_dut(dut) -> CoreConfig:
    """Widths from the DUT's parameters, cross-checked against its port widths."""
    def param(name):
        return int(getattr(dut, name).value)
    cfg = CoreConfig(rows=param("ROWS"), cols=param("COLS"), a_w=param("A_W"), w_w=param("W_W"),
                     psum_w=param("PSUM_W"), acc_w=param("ACC_W"), act_depth=param("ACT_DEPTH"),
                     wgt_depth=param("WGT_DEPTH"), acc_depth=param("ACC_DEPTH"))
    assert len(dut.act_wr_data) == cfg.act_word_bits and len(dut.wgt_wr_data) == cfg.wgt_word_bits
    assert len(dut.psum_data) == cfg.cols * cfg.psum_w and len(dut.out_data) == cfg.cols * cfg.acc_w
    return cfg


def seeded_random(label: str) -> random.Random:
    """Per-testbench RNG from the printed, settable cocotb seed (COCOTB_RANDOM_SEED)."""
    return random.Random(f"{cocotb.RANDOM_SEED}-{label}")


class CoreTB:
    def __init__(self, dut, out_ready_prob: float = 1.0, in_idle_prob: float = 0.0, label: str = "core"):
        self.dut = dut
        self.cfg = config_from_dut(dut)
        self.rng = seeded_random(label)
        self.out_ready_prob = out_ready_prob   # < 1: random backpressure on the output port
        self.in_idle_prob = in_idle_prob       # > 0: random idle cycles between driven words
        self.cycle = 0
        self.first_input_cycle: int | None = None
        self.first_cmd_cycle: int | None = None
        self.last_output_cycle: int | None = None
        self.outputs_seen = 0
        self.psum_sb: KeyedScoreboard | None = None
        self.sum_sb: KeyedScoreboard | None = None
        self.out_sb: KeyedScoreboard | None = None
        self.psum_obs: list = []   # (id, ic, kij, nij, values) when recording instead of checking
        self.out_obs: list = []
        for sig in ("act_wr_valid", "wgt_wr_valid", "cmd_valid"):
            getattr(dut, sig).value = 0
        dut.out_ready.value = 0
        dut.act_wr_addr.value = 0
        dut.act_wr_data.value = 0
        dut.wgt_wr_addr.value = 0
        dut.wgt_wr_data.value = 0
        dut.cmd_data.value = 0
        start_clock(dut)

    async def reset(self):
        self.dut.rst.value = 1
        for _ in range(3):
            await RisingEdge(self.dut.clk)
        self.dut.rst.value = 0
        await RisingEdge(self.dut.clk)
        cocotb.start_soon(self._monitor())
        cocotb.start_soon(self._backpressure())

    # ------------------------------------------------------------------------------------- checking
    def check_against(self, plan: LayerPlan, log=None):
        log = log or self.dut._log.error
        self.psum_sb = KeyedScoreboard("psum", plan.describe_psum, log=log)
        self.psum_sb.expect_all(plan.psums)
        self.sum_sb = KeyedScoreboard("sum", plan.describe_out, log=log)
        self.sum_sb.expect_all(plan.sums)
        self.out_sb = KeyedScoreboard("relu" if plan.relu else "out", plan.describe_out, log=log)
        self.out_sb.expect_all(plan.outputs)

    @property
    def scoreboards(self):
        return [sb for sb in (self.psum_sb, self.sum_sb, self.out_sb) if sb is not None]

    # ------------------------------------------------------------------------------------- driving
    async def _idle(self):
        while self.in_idle_prob and self.rng.random() < self.in_idle_prob:
            await RisingEdge(self.dut.clk)

    async def _push(self, valid, ready, assign):
        await self._idle()
        assign()
        valid.value = 1
        while True:
            await RisingEdge(self.dut.clk)
            if int(ready.value):
                break
        valid.value = 0
        return self.cycle

    async def write(self, which: str, words):
        """Write (addr, word) pairs through the act_wr_* or wgt_wr_* port."""
        d = self.dut
        addr, data = getattr(d, f"{which}_wr_addr"), getattr(d, f"{which}_wr_data")
        for a, w in words:
            def assign(a=a, w=w):
                addr.value = a
                data.value = w
            c = await self._push(getattr(d, f"{which}_wr_valid"), getattr(d, f"{which}_wr_ready"), assign)
            if self.first_input_cycle is None:
                self.first_input_cycle = c

    async def send_commands(self, commands):
        d = self.dut
        for cmd in commands:
            def assign(c=cmd):
                d.cmd_data.value = c.pack()
            c = await self._push(d.cmd_valid, d.cmd_ready, assign)
            if self.first_cmd_cycle is None:
                self.first_cmd_cycle = c

    async def run_plan(self, plan: LayerPlan, timeout_cycles: int | None = None):
        """Load a plan through the core's ports, run its commands, wait for every output."""
        await self.write("act", plan.act_words)
        await self.write("wgt", plan.wgt_words)
        target = self.outputs_seen + len(plan.outputs)
        await self.send_commands(plan.commands)
        budget = timeout_cycles or (4 * sum(c.tokens for c in plan.commands) + 2000)
        start = self.cycle
        while self.outputs_seen < target:
            await RisingEdge(self.dut.clk)
            if self.cycle - start > budget:
                raise TimeoutError(f"only {self.outputs_seen}/{target} outputs after {budget} cycles")
        for _ in range(5):  # let stray extra outputs show up as duplicates/unexpected
            await RisingEdge(self.dut.clk)

    # ------------------------------------------------------------------------------------- monitors
    async def _backpressure(self):
        d = self.dut
        while True:
            d.out_ready.value = 1 if self.out_ready_prob >= 1 or self.rng.random() < self.out_ready_prob else 0
            await RisingEdge(d.clk)

    async def _monitor(self):
        d, cfg = self.dut, self.cfg
        while True:
            await RisingEdge(d.clk)
            self.cycle += 1
            await ReadOnly()
            t = f"{get_sim_time('ns'):.0f} ns"
            if int(d.psum_valid.value):
                key = (int(d.psum_id.value), int(d.psum_ic.value), int(d.psum_kij.value), int(d.psum_nij.value))
                vals = unpack_lanes(int(d.psum_data.value), cfg.cols, cfg.psum_w, signed=True)
                if self.psum_sb:
                    self.psum_sb.observe(key, vals, t)
                else:
                    self.psum_obs.append((*key, vals))
            if int(d.acc_valid.value) and self.sum_sb:
                key = (int(d.acc_id.value), int(d.acc_addr.value))
                self.sum_sb.observe(key, unpack_lanes(int(d.acc_data.value), cfg.cols, cfg.acc_w, True), t)
            if int(d.out_valid.value) and int(d.out_ready.value):
                key = (int(d.out_id.value), int(d.out_addr.value))
                vals = unpack_lanes(int(d.out_data.value), cfg.cols, cfg.acc_w, signed=True)
                self.outputs_seen += 1
                self.last_output_cycle = self.cycle
                if self.out_sb:
                    self.out_sb.observe(key, vals, t)
                else:
                    self.out_obs.append((*key, vals))

    # ------------------------------------------------------------------------------------- report
    def summary(self, plan: LayerPlan) -> str:
        lines = [sb.summary() for sb in self.scoreboards]
        cycles = (self.last_output_cycle or 0) - (self.first_input_cycle or 0)
        compute = (self.last_output_cycle or 0) - (self.first_cmd_cycle or 0)
        lines.append(f"cycles: {cycles} from first input to last output ({compute} from first command); "
                     f"ideal {plan.ideal_cycles:.0f} (MACs {plan.macs} / {plan.cfg.rows}x{plan.cfg.cols}); "
                     f"ratio {cycles / plan.ideal_cycles:.2f}x")
        return "\n".join(lines)

    def assert_clean(self):
        bad = [sb.summary() for sb in self.scoreboards if sb.errors]
        assert not bad, "checker found errors:\n" + "\n".join(bad)
        assert all(sb.compared > 0 for sb in self.scoreboards), "a checker compared nothing"

