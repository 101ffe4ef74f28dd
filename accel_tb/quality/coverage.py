"""Functional coverage of the core (cocotb-coverage 2.0): what the tests actually exercised.

Coverpoints (all bins must be hit; `make coverage` prints them):
  core.layer.*      input/output-channel tile counts, activation mode, activation and weight extremes
  core.cmd.*        command fields: non-zero bases, clear/emit off (chains), the empty command, ReLU, 2-bit mode,
                    a mode switch between consecutive commands; the dataflow (WS/OS) crossed with the mode,
                    a switch WS -> OS and OS -> WS, output-stationary commands of 1, 2 and 3+ blocks
  core.psum.*       every kernel position x the class of the output position it feeds (corner, edge, interior);
                    psum sign and magnitude (small, or at least a quarter of one tile's bound)
  core.sum.*        sums by sign and by their share of the proven accumulator bound (at least half of it)
  core.relu.*       what ReLU received: negative, zero, positive
  core.flow.*       per cycle: output back-pressure while valid, an emit stalled by the output FIFO, a full
                    command FIFO, a credit stall (either dataflow), back-to-back commands (either dataflow)
  core.region.*     per cycle: a host write taken while the sequencer runs (into the memory region it does not
                    read) and one held (its region in use); closed by the random command streams too
  core.cross.*      the dataflow the sequencer is in (that of the command it runs or ran last) crossed with: the
                    output held, a credit stall, a back-to-back command, a dataflow switch, a mode switch, a
                    second or later tile of one command, a host write attempted while the sequencer is busy;
                    and a back-to-back command that switches the dataflow or the mode, by its dataflow.
                    These are closed by the random command streams (STREAM_CLOSED), not by the closure's plan
The adapter of this project's core calls `command()` for every command; the checker's observers feed psums,
sums and outputs; `watch()` samples the flow and cross bins from the core's signals every cycle (what the
core did, not what a test meant to do). Every bin's first hit (the cycle) is kept: `export()` writes it
beside the database, and `make coverage` names the run that hit each bin first.
"""
from __future__ import annotations

import json
from pathlib import Path

import cocotb
import numpy as np
from cocotb.triggers import ReadOnly, RisingEdge
from cocotb_coverage.coverage import CoverCross, CoverPoint, coverage_db

from accel_host.config import CoreConfig, sum_bound
from accel_host.fields import COMMAND
from accel_host.mapping import names, of_command
from accel_tb.design.core_ports import rtl_states
from accel_tb.vip.sim import now_cycle

TILE_BINS = ["1", "2", "3+"]


def _tiles(n):
    return "1" if n == 1 else "2" if n == 2 else "3+"


def position_class(y, x, h, w):
    on_y, on_x = y in (0, h - 1), x in (0, w - 1)
    return "corner" if on_y and on_x else "edge" if on_y or on_x else "interior"


# the signed weight's extremes at the core's W_W (4: -8, -7, 7): the most negative, its neighbour, the largest
_W_TOP = 1 << (CoreConfig().w_w - 1)
W_EXTREMES = [-_W_TOP, -_W_TOP + 1, _W_TOP - 1]


@CoverPoint("core.layer.ic_tiles", xf=lambda j: _tiles(j.n_ic), bins=TILE_BINS)
@CoverPoint("core.layer.oc_tiles", xf=lambda j: _tiles(j.n_oc), bins=TILE_BINS)
@CoverPoint("core.layer.a_bits", xf=lambda j: j.a_bits, bins=[2, 4])
@CoverPoint("core.layer.act_extremes", xf=lambda j: (int(j.a_tiles.min()) == 0, int(j.a_tiles.max()) == (1 << j.a_bits) - 1),
            bins=[(True, True)], bins_labels=["zero and max present"])
@CoverPoint("core.layer.weight_extremes", xf=lambda j: sorted(set(W_EXTREMES) & set(np.unique(np.asarray(j.w_tiles)).tolist())),
            rel=lambda got, want: want in got, bins=W_EXTREMES, inj=False)
def sample_layer(job):
    pass


@CoverPoint("core.cmd.act_base", xf=lambda c, prev: "nonzero" if c.act_base else "zero", bins=["zero", "nonzero"])
@CoverPoint("core.cmd.wgt_base", xf=lambda c, prev: "nonzero" if c.wgt_base else "zero", bins=["zero", "nonzero"])
@CoverPoint("core.cmd.acc_base", xf=lambda c, prev: "nonzero" if c.acc_base else "zero", bins=["zero", "nonzero"])
@CoverPoint("core.cmd.clear", xf=lambda c, prev: c.clear, bins=[0, 1])
@CoverPoint("core.cmd.emit", xf=lambda c, prev: c.emit, bins=[0, 1])
@CoverPoint("core.cmd.empty", xf=lambda c, prev: c.oh * c.ow * c.n_ic == 0, bins=[False, True])
@CoverPoint("core.cmd.relu", xf=lambda c, prev: c.relu, bins=[0, 1])
@CoverPoint("core.cmd.a2", xf=lambda c, prev: c.a2, bins=[0, 1])
@CoverPoint("core.cmd.mode_switch", xf=lambda c, prev: prev is not None and prev.a2 != c.a2, bins=[True])
@CoverPoint("core.cmd.dataflow", xf=lambda c, prev: of_command(c.os).name, bins=names())
@CoverCross("core.cmd.dataflow_x_a2", items=["core.cmd.dataflow", "core.cmd.a2"])
@CoverPoint("core.cmd.dataflow_switch", xf=lambda c, prev: _switch(prev, c),
            bins=[f"{a} -> {b}" for a in names() for b in names() if a != b])
@CoverPoint("core.cmd.os_blocks", xf=lambda c, prev: _os_blocks(c), bins=["1", "2", "3+"])
def sample_command(cmd, prev):
    pass


def _switch(prev, c):
    """'ws -> os' / 'os -> ws' when consecutive commands change the dataflow (the core must drain first)."""
    if prev is None or prev.os == c.os:
        return None
    return f"{of_command(prev.os).name} -> {of_command(c.os).name}"


def _os_blocks(c):
    """Blocks of ROWS output positions in an output-stationary command (its oh field); None for WS."""
    return _tiles(c.oh) if c.os and c.oh else None


def _psum_bin(v, tile_bound):
    if v == 0:
        return "zero"
    big = abs(v) * 4 >= tile_bound
    return ("pos" if v > 0 else "neg") + (" >= 1/4 tile bound" if big else "")


PSUM_VALUE_BINS = ["neg >= 1/4 tile bound", "neg", "zero", "pos", "pos >= 1/4 tile bound"]


@CoverPoint("core.psum.kij", xf=lambda kij, cls, b: kij, bins=list(range(9)))
@CoverPoint("core.psum.position", xf=lambda kij, cls, b: cls, bins=["corner", "edge", "interior"])
@CoverCross("core.psum.kij_x_position", items=["core.psum.kij", "core.psum.position"])
@CoverPoint("core.psum.value", xf=lambda kij, cls, b: b, bins=PSUM_VALUE_BINS)
def sample_psum(kij, cls, value_bin):
    pass


def _sum_bin(v, bound):
    if v == 0:
        return "zero"
    half = abs(v) * 2 >= bound
    return ("pos" if v > 0 else "neg") + (" >= 1/2 bound" if half else "")


@CoverPoint("core.sum.value", xf=lambda b: b, bins=["neg >= 1/2 bound", "neg", "zero", "pos", "pos >= 1/2 bound"])
def sample_sum(value_bin):
    pass


@CoverPoint("core.relu.input", xf=lambda v: "neg" if v < 0 else "zero" if v == 0 else "pos", bins=["neg", "zero", "pos"])
def sample_relu_input(v):
    pass


FLOW_BINS = ["output back-pressure while valid", "emit stalled by the output FIFO", "command FIFO full",
             "credit stall", "back-to-back commands"]
REGION_BINS = ["host write taken while busy", "host write held"]


@CoverPoint("core.region.write", xf=lambda e: e, bins=REGION_BINS)
def sample_region(event):
    pass


@CoverPoint("core.flow.event", xf=lambda e: e, bins=FLOW_BINS)
def sample_flow(event):
    pass


CROSS_EVENTS = ["output held", "credit stall", "back-to-back command", "dataflow switch", "mode switch",
                "multi-tile", "host write while busy"]
DATAFLOWS = names()       # the registered dataflows (accel_host.mapping)
# closed by the random command streams (test_command_stream in make coverage's RUNS), not by the closure's plan
STREAM_CLOSED = ("core.cross.", "core.region.")


@CoverPoint("core.cross.dataflow", xf=lambda d, e: d, bins=DATAFLOWS)
@CoverPoint("core.cross.event", xf=lambda d, e: e, bins=CROSS_EVENTS)
@CoverCross("core.cross.dataflow_x_event", items=["core.cross.dataflow", "core.cross.event"])
def sample_cross(dataflow, event):
    pass


@CoverPoint("core.cross.b2b_dataflow", xf=lambda d, s: d, bins=DATAFLOWS)
@CoverPoint("core.cross.b2b_switch", xf=lambda d, s: s, bins=["dataflow switch", "mode switch"])
@CoverCross("core.cross.b2b_dataflow_x_switch", items=["core.cross.b2b_dataflow", "core.cross.b2b_switch"])
def sample_b2b_switch(dataflow, switch):
    """A command accepted back to back (it waited behind the previous one) that switches the dataflow or the
    mode; dataflow: the new command's."""


S_IDLE, S_RUN, S_OS, S_FLUSH = (rtl_states()[s] for s in ("S_IDLE", "S_RUN", "S_OS", "S_FLUSH"))

# first hit of every bin in this process (one run per simulator process): 'coverpoint: bin' -> cycle
FIRST_HIT: dict[str, int] = {}


def _track_first_hits():
    """A callback on every bin that records the cycle of its first hit (cocotb-coverage calls a bin's callback
    on each hit; after the first it returns at once)."""
    for name, item in coverage_db.items():
        if not isinstance(item, (CoverPoint, CoverCross)) or not hasattr(item, "detailed_coverage"):
            continue
        labels = getattr(item, "_labels_bins", None) if getattr(item, "_bins_labels", None) else None
        for raw in list(item._hits):
            key = f"{name}: {labels[raw] if labels else raw}"

            def hit(key=key):
                if key not in FIRST_HIT:
                    FIRST_HIT[key] = now_cycle()
            item.add_bins_callback(hit, raw)


_track_first_hits()


class CoreCoverage:
    """Connects the samplers to an adapter of this project's core and to the checkers of its layers."""

    def __init__(self, adapter):
        self.adapter = adapter
        self.prev_cmd = None
        self.job = None
        adapter.on_command = self.command

    def command(self, cmd):
        sample_command(cmd, self.prev_cmd)
        self.prev_cmd = cmd

    def layer(self, job, checker):
        self.job = job
        sample_layer(job)
        self.tile_bound = job.rows * ((1 << job.a_bits) - 1) * 8
        self.bound = sum_bound(job.n_ic * job.rows, job.a_bits, 4)
        checker.observers.append(self)

    # checker observer
    def psum(self, image, oc_tile, ic_tile, kij, p, values):
        j = self.job
        pr, pc = divmod(p, j.padded_width)
        cls = position_class(pr - kij // 3, pc - kij % 3, j.height, j.width)
        for v in values:
            sample_psum(kij, cls, _psum_bin(v, self.tile_bound))

    def sum(self, image, oc_tile, o_nij, values):
        for v in values:
            sample_sum(_sum_bin(v, self.bound))
            if self.job.relu:
                sample_relu_input(v)

    def output(self, image, oc_tile, o_nij, values):
        pass

    async def watch(self, dut):
        """Per cycle, from the core's signals (the flow and cross bins), read in the read-only phase before
        the clock edge: what the core does this cycle."""
        edge = RisingEdge(dut.clk)
        seq = dut.u_seq
        rows = self.adapter.geometry.rows
        sig = {n: h for n, h in (("rst", dut.rst), ("state", seq.state),
                                 ("credit_ok", dut.credit_ok), ("credits_free", dut.credits_free),
                                 ("space", dut.out_space_ok),
                                 ("of_valid", dut.of_valid), ("q_valid", dut.q_valid), ("q_ready", dut.q_ready),
                                 ("cmd_valid", dut.cmd_valid), ("cmd_ready", dut.cmd_ready),
                                 ("out_valid", dut.out_valid), ("out_ready", dut.out_ready),
                                 ("act_wr_valid", dut.act_wr_valid), ("wgt_wr_valid", dut.wgt_wr_valid),
                                 ("act_wr_ready", dut.act_wr_ready), ("wgt_wr_ready", dut.wgt_wr_ready))}
        level = dict.fromkeys(("output held", "credit stall", "multi-tile", "host write while busy"), False)
        behind = False      # the command at the head of the queue waited while the sequencer ran another
        seen_cmd = False    # a command was accepted since reset (the sequencer's last_os and a2 hold it; they are
        #                     not reset, so they are read only after one)
        while True:
            await ReadOnly()
            v = {n: int(h.value) for n, h in sig.items()}
            if v["rst"]:
                behind = seen_cmd = False
                await edge
                continue
            df = of_command(int(seq.last_os.value)).name if seen_cmd else None    # no command, no dataflow
            state = v["state"]
            if v["out_valid"] and not v["out_ready"]:
                sample_flow("output back-pressure while valid")
            if v["of_valid"] and not v["space"]:
                sample_flow("emit stalled by the output FIFO")
            if v["cmd_valid"] and not v["cmd_ready"]:
                sample_flow("command FIFO full")
            # the memories' two regions (rtl/core.v): a write lands while the sequencer reads the other region,
            # or waits while its own region is in use
            if state != S_IDLE and any(v[f"{m}_wr_valid"] and v[f"{m}_wr_ready"] for m in ("act", "wgt")):
                sample_region("host write taken while busy")
            if any(v[f"{m}_wr_valid"] and not v[f"{m}_wr_ready"] for m in ("act", "wgt")):
                sample_region("host write held")
            # credit stall: WS issues a token per credit; OS reserves ROWS credits at a block's release (its
            # first step, from the second block on) and at the flush (sequencer.v: releases, room)
            if state == S_RUN:
                stalled = not v["credit_ok"]        # credits_free != 0 (core.v)
            elif state == S_OS:
                stalled = v["credits_free"] < rows and int(seq.releases.value)
            else:
                stalled = state == S_FLUSH and v["credits_free"] < rows
            if stalled:
                sample_flow("credit stall")
            # a second or later tile of one command: WS input-channel tile ic, OS block blk of ROWS positions
            multi = (state == S_RUN and int(seq.ic.value) != 0) or (state == S_OS and int(seq.blk.value) != 0)
            now = {"output held": bool(v["out_valid"] and not v["out_ready"]), "credit stall": bool(stalled),
                   "multi-tile": multi,
                   "host write while busy": bool((v["act_wr_valid"] or v["wgt_wr_valid"]) and state != S_IDLE)}
            for event, on in now.items():   # a level counted once, at its first cycle
                if on and not level[event] and df:
                    sample_cross(df, event)
                level[event] = on
            if v["q_valid"] and v["q_ready"]:          # the sequencer accepts the head of the queue
                fields = COMMAND.unpack(int(dut.q_data.value))     # each field at its own width
                new_df = of_command(fields["os"]).name
                switches = []
                if seen_cmd and new_df != df:
                    switches.append("dataflow switch")
                if seen_cmd and fields["a2"] != int(seq.a2.value):
                    switches.append("mode switch")
                for sw in switches:
                    sample_cross(new_df, sw)
                    if behind:
                        sample_b2b_switch(new_df, sw)
                if behind:
                    sample_flow("back-to-back commands")
                    sample_cross(new_df, "back-to-back command")
                behind, seen_cmd = False, True
            elif v["q_valid"] and state != S_IDLE:
                behind = True
            await edge


def holes(only=None, skip=()) -> list[str]:
    """Every bin not hit yet, as 'coverpoint: bin'; only / skip: coverpoint name prefixes to keep / leave out."""
    out = []
    for name, item in coverage_db.items():
        if (only and not name.startswith(tuple(only))) or (skip and name.startswith(tuple(skip))):
            continue
        if isinstance(item, (CoverPoint, CoverCross)) and hasattr(item, "detailed_coverage"):
            for b, hits in item.detailed_coverage.items():
                if hits < item.at_least:
                    out.append(f"{name}: {b}")
    return out


TABLE_HEAD = f"{'coverpoint':<32} {'bins':>5} {'hit':>5} {'coverage':>9}"


def table_row(name: str, size: int, hit: int) -> str:
    """One coverpoint's line of a coverage table (this run's, or make coverage's merged one)."""
    return f"{name:<32} {size:>5} {hit:>5} {100 * hit / max(size, 1):>8.1f}%"


def table() -> list[str]:
    """This run's coverpoints, a line each."""
    return [TABLE_HEAD] + [table_row(name, item.size, item.coverage) for name, item in sorted(coverage_db.items())
                           if isinstance(item, (CoverPoint, CoverCross))]


def first_hit_path(coverage_yml) -> Path:
    """Where export() writes the first-hit map beside a run's coverage database."""
    p = Path(coverage_yml)
    return p.with_name(p.stem + ".first_hit.json")


def export(coverage_yml):
    """The run's database (YAML) and, beside it, the cycle of every bin's first hit in this run."""
    coverage_db.export_to_yaml(str(coverage_yml))
    first_hit_path(coverage_yml).write_text(json.dumps(FIRST_HIT, indent=1))


def start_watch(dut, cov: CoreCoverage):
    cocotb.start_soon(cov.watch(dut))
