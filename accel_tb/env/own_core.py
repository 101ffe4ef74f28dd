"""The adapter of this project's own core (rtl/core.v): it runs through the same API as any team's core.

It maps each layer with accel_host's weight-stationary mapping, writes memories and commands through
valid/ready sources, and places every psum, sum and output the core reports (by command id, tile and
position) back into the layer's coordinates for the checker. Pause generators can be set on every
valid/ready boundary: activation writes, weight writes, commands, and the output port's ready. On the
whole-network top (core_ports.CLOCKED_TOP) the memory writes and the watch of outputs, commands and busy run
inside the simulator instead (env.host_io; host_io=False keeps them in Python), with the same handshakes.
"""
from __future__ import annotations

import atexit
import dataclasses
import itertools

import cocotb
from cocotb.triggers import Event, FallingEdge, First, ReadOnly, RisingEdge, Timer

from accel_host.config import CoreConfig
from accel_host.cycles import fill_delay
from accel_host.fields import COMMAND, KIJ_FINISHED
from accel_host.mapping import DATAFLOWS, Issued, LayerShape, Layout, WeightStationary, mapping
from accel_host.packing import unpack_lanes
from accel_tb.adapter import CoreAdapter, Geometry
from accel_tb.design.core_ports import CLOCKED_TOP, HOST_IO_INPUTS, OUTPUTS, rtl_states
from accel_tb.env.host_io import EventLog, HostIO, StreamedSource, has_host_io
from accel_tb.vip.ports import ReadyDriver, ValidMonitor, ValidReadyMonitor, ValidReadySource, pauses
from accel_tb.vip.sim import CLOCK_NS, now_cycle, pulse_reset, seeded_random, start_clock


def config_from_dut(dut) -> CoreConfig:
    """The core's parameters as built, cross-checked against its port widths."""
    def p(name):
        return int(getattr(dut, name).value)
    cfg = CoreConfig(rows=p("ROWS"), cols=p("COLS"), a_w=p("A_W"), w_w=p("W_W"), psum_w=p("PSUM_W"),
                     acc_w=p("ACC_W"), act_depth=p("ACT_DEPTH"), wgt_depth=p("WGT_DEPTH"), acc_depth=p("ACC_DEPTH"),
                     cmd_depth=p("CMD_DEPTH"), out_depth=p("OUT_DEPTH"))
    assert len(dut.act_wr_data) == cfg.act_word_bits and len(dut.wgt_wr_data) == cfg.wgt_word_bits
    assert len(dut.psum_data) == cfg.cols * cfg.psum_w and len(dut.out_data) == cfg.cols * cfg.acc_w
    return cfg


def _in_a_row(words, base: int) -> bool:
    """Whether the (address, word) pairs are the addresses base, base + 1, ... in order: what a fill writes."""
    return [a for a, _ in words] == list(range(base, base + len(words)))


class AccelCore(CoreAdapter):
    """Options: pause kinds per boundary (act=, wgt=, cmd=, out= : none | random | bursty), monitor_psums
    (the psum and sum ports; default True, the whole-network run checks outputs only), label (seeds the
    pause generators), host_io (the network top's writes and event log in the simulator,
    accel_tb.env.host_io: on by default where the top has them and nothing pauses or scrambles a port)."""

    def __init__(self, dut, act="none", wgt="none", cmd="none", out="none", monitor_psums=True,
                 label="core", flip_mode=False, four_state=False, scramble=None, host_io=True,
                 host_io_rotate=None, fill_with_first_word=False, **options):
        super().__init__(dut, **options)
        self.cfg = config_from_dut(dut)
        c = self.cfg
        self.geometry = Geometry(rows=c.rows, cols=c.cols, a_bits=c.a_w, w_bits=c.w_w, psum_bits=c.acc_w,
                                 max_side=None, multi_tile=True, two_bit=c.a_w % 2 == 0, psum_monitor=True)
        self.rng = seeded_random(label)
        self.pause_kinds = {"act": act, "wgt": wgt, "cmd": cmd, "out": out}
        # random payload on the write ports while valid is low: on for every paused (stress) run by default
        self.scramble = scramble if scramble is not None else any(k != "none" for k in self.pause_kinds.values())
        self.monitor_psums = monitor_psums
        self.flip_mode = flip_mode      # negative tests only: a host that sends the wrong activation mode
        self.self_clocked = dut._name == CLOCKED_TOP   # the whole-network top makes its own clock
        self.four_state = four_state    # check every output port for X/Z every cycle (Icarus: 4-state)
        # the writes and the output port handled in the simulator (env.host_io): only the plain flow (no pauses,
        # no scrambled idle payload), whose handshakes the streamers make cycle for cycle as the sources do
        self.host_io = (host_io and has_host_io(dut) and not self.scramble
                        and all(k == "none" for k in self.pause_kinds.values()))
        self.io = self.capture = None
        self.host_io_rotate = host_io_rotate    # bytes of event log before it moves to the other file (None:
        #                                         EventLog.ROTATE_BYTES)
        self.on_command = None          # called with every Command issued (coverage)
        self.x_seen: list = []          # (cycle, port, value) of outputs that held X or Z
        self.issued: dict[int, Issued] = {}
        self.route: dict[int, tuple] = {}   # command id -> (mapping, sink), when several layers are in flight
        self.mapping: WeightStationary | None = None
        self._mapped = None             # (job, its run fields, its mapping): layer_mapping's one entry
        self.sink = None
        self.outputs_seen = 0
        self._done, self._target = None, 0
        # the busy port's contract (checked by the adapter, event-driven): busy is high whenever an accepted
        # command's outputs are still due, and low once every output of the layer has left
        self.cmd_outputs: dict[int, int] = {}   # command id -> outputs it emits
        self.owed = 0                           # outputs of every command the core has accepted
        self.busy_faults: list[str] = []
        self.stats: dict = {}       # per layer run: cycles and memory words
        # memory regions (rtl/core.v): each layer step's activations go to the region the previous step did not
        # use, each weight group's likewise, so the host writes one while the core computes from the other
        self.act_free = 0
        self.wgt_free = 0
        self.prefetched = None      # (words, region) of weights written ahead by prefetch_weights
        # a run's first step, with nothing computing yet, fills its regions while its first command reads them
        # (the command's act_fill/wgt_fill, rtl/core.v): the core starts on the words as they arrive
        self.fill_first_step = True
        # a test's option: each fill's first words go in the very cycle its command does (the region is still
        # free then: rtl/core.v counts a write at the base in that cycle as the fill's first word)
        self.fill_with_first_word = fill_with_first_word
        self._writers: list = []    # the running layer's background writes (run_layer cancels them with it)

    async def start(self):
        d = self.dut
        for sig in ("act_wr_valid", "wgt_wr_valid", "cmd_valid", "act_wr_addr", "act_wr_region", "act_wr_data",
                    "wgt_wr_addr", "wgt_wr_region", "wgt_wr_data", "cmd_data", "out_ready"):
            getattr(d, sig).value = 0
        if not self.self_clocked:
            start_clock(d)
        if has_host_io(d):      # the top's own write ports, nothing captured, until host_io takes them
            for sig in HOST_IO_INPUTS:
                getattr(d, sig).value = 0
        await pulse_reset(d, cycles=3)
        k = self.pause_kinds
        junk = self.rng if self.scramble else None
        if self.host_io:
            self.io = HostIO(d)
            atexit.register(self.io.close)
            self.act = StreamedSource(self.io, "act", self.cfg.act_word_bits, self.cfg.act_depth)
            self.wgt = StreamedSource(self.io, "wgt", self.cfg.wgt_word_bits, self.cfg.wgt_depth)
        else:
            self.act = ValidReadySource(d, "act_wr", d.clk, ["addr", "region", "data"],
                                        pause=pauses(k["act"], self.rng), scramble=junk)
            self.wgt = ValidReadySource(d, "wgt_wr", d.clk, ["addr", "region", "data"],
                                        pause=pauses(k["wgt"], self.rng), scramble=junk)
        self.cmd = ValidReadySource(d, "cmd", d.clk, ["data"], pause=pauses(k["cmd"], self.rng), scramble=junk)
        out_pause = pauses(k["out"], self.rng)
        self.ready = ReadyDriver(d.out_ready, d.clk, out_pause)
        if self.host_io:    # the monitors' work from the top's event log
            self.capture = EventLog(self.io, self._on_out, self._on_logged_cmd, self._on_busy_fell,
                                    self.host_io_rotate)
            atexit.register(self.capture.close)
        else:
            self.cmd_mon = ValidReadyMonitor(d, "cmd", d.clk, ["data"], self._on_cmd)
            cocotb.start_soon(self._busy_falls())
            self.out_mon = ValidReadyMonitor(d, "out", d.clk, ["data", "addr", "id"], self._on_out)
        if self.monitor_psums:
            self.acc_mon = ValidMonitor(d, "acc", d.clk, ["data", "addr", "id"], self._on_acc)
            self.psum_mon = ValidMonitor(d, "psum", d.clk, ["data", "kij", "nij", "ic", "id"], self._on_psum)
        if self.four_state:
            cocotb.start_soon(self._four_state())

    async def _four_state(self):
        """From the first cycle after reset: no output port may hold X or Z (meaningful under Icarus, which
        models 4 states; Verilator has only 0 and 1)."""
        handles = [(n, getattr(self.dut, n)) for n in OUTPUTS]
        edge = RisingEdge(self.dut.clk)
        while True:
            await ReadOnly()
            for name, h in handles:
                text = str(h.value)
                if any(c not in "01" for c in text):
                    self.x_seen.append((now_cycle(), name, text))
            await edge

    # ---------------------------------------------------------------------------------------- busy
    def _on_cmd(self, t):
        """A command taken (cmd_valid && cmd_ready): its outputs are due, and from the next cycle on (the
        command queue holds it) busy must be high."""
        if self._command_taken(t):
            cocotb.start_soon(self._busy_after_command())

    def _on_logged_cmd(self, t, cycle, busy_after):
        """A command from the event log: _on_cmd, and its busy check with busy as it was in the cycle after."""
        if self._command_taken(t):
            self._busy_check("the cycle after a command was taken", cycle, busy_after)

    def _command_taken(self, t) -> int:
        """The outputs a taken command owes (counted in owed)."""
        n = self.cmd_outputs.pop(COMMAND.unpack(t["data"])["id"], 0)   # popped: ids repeat from layer to layer
        self.owed += n
        return n

    def _on_busy_fell(self, cycle):
        self._busy_check("busy fell", cycle, 0)

    async def _busy_after_command(self):
        await RisingEdge(self.dut.clk)
        await ReadOnly()
        self._busy_check("the cycle after a command was taken")

    async def _busy_falls(self):
        while True:
            await FallingEdge(self.dut.busy)
            await ReadOnly()
            self._busy_check("busy fell")

    def _outputs_now(self) -> int:
        """Outputs transferred so far: the monitor's count (with host_io, the outputs read from the event log up
        to the event being checked)."""
        return self.capture.outputs if self.capture is not None else self.outputs_seen

    def _busy_check(self, when: str, cycle=None, busy=None):
        """The busy contract at a cycle (now, from the ports; or one from the event log, with busy as it was)."""
        busy = str(self.dut.busy.value) if busy is None else str(busy)
        cycle = now_cycle() if cycle is None else cycle
        if self.owed > self._outputs_now() and busy == "0" and len(self.busy_faults) < 20:
            seen = self._outputs_now()
            self.busy_faults.append(f"busy low at cycle {cycle} ({when}) with {self.owed - seen} "
                                    f"outputs due (owed {self.owed}, seen {seen}, last output "
                                    f"{self.stats.get('last_output')})")

    # ---------------------------------------------------------------------------------------- RTL checks
    INVARIANTS = ("credits", "ofifo overflow", "tag fifo overflow", "out fifo overflow", "tag for every psum",
                  "sram read/write conflict")
    PORT_CHECKS = ("busy",)     # checked by the adapter from the ports (above), reported beside the invariants

    def fired_invariants(self) -> list[str]:
        """The core's simulation checks (rtl/core.v, assert_fired) that fired since reset."""
        if not hasattr(self.dut, "assert_fired"):
            return ["assert_fired not found: the core was built with SYNTHESIS defined"]
        v = int(self.dut.assert_fired.value)
        return [name for i, name in enumerate(self.INVARIANTS) if v >> i & 1] + self.busy_faults[:1] + (
            [f"busy: {len(self.busy_faults) - 1} more"] if len(self.busy_faults) > 1 else [])

    def idle_inputs(self):
        """Drop every valid (after a cancelled layer) so that nothing is half-sent across a reset."""
        for sig in ("act_wr_valid", "wgt_wr_valid", "cmd_valid"):
            getattr(self.dut, sig).value = 0

    async def reset(self):
        """Reset the core between layers (sources idle, monitors keep watching); outputs of the commands it
        cancels are no longer due. Python ports only (refused with host_io)."""
        self._python_ports("reset")     # the event log has no reset marker: a command is logged an edge late
        self.owed = self.outputs_seen
        self.busy_faults = []           # like the RTL's assert_fired: what fired before a reset was reported then
        self.prefetched = None
        await pulse_reset(self.dut, cycles=3)

    def set_pauses(self, act="none", wgt="none", cmd="none", out="none"):
        """Change the pause generators between layers (the random tests cross them); scrambled idle payload
        comes with them."""
        self._python_ports("set_pauses")
        for src in (self.act, self.wgt, self.cmd):
            src.scramble = self.rng
        self.act.pause = pauses(act, self.rng)
        self.wgt.pause = pauses(wgt, self.rng)
        self.cmd.pause = pauses(cmd, self.rng)
        self.ready.stop()
        out_pause = pauses(out, self.rng)
        self.ready = ReadyDriver(self.dut.out_ready, self.dut.clk, out_pause)

    def hold_output(self, cycles: int):
        """Hold out_ready low for the next `cycles` cycles, then keep it high (the output-buffer test)."""
        self._python_ports("hold_output")
        self.ready.stop()
        self.ready = ReadyDriver(self.dut.out_ready, self.dut.clk,
                                 itertools.chain(itertools.repeat(True, cycles), itertools.repeat(False)))

    def _python_ports(self, what: str):
        if self.host_io:
            raise RuntimeError(f"AccelCore.{what}: the ports are driven by the top's host I/O (env.host_io); "
                               f"construct the adapter with host_io=False")

    def layer_mapping(self, job):
        """The job's mapping: job.dataflow 'ws' (default), 'os', or 'auto' (the faster by the model). Mapped
        once per job (the checker's streamed positions and the run ask for it in turn)."""
        key = (job.dataflow, job.layout, job.a_bits)
        if self._mapped is None or self._mapped[0] is not job or self._mapped[1] != key:
            self._mapped = (job, key, mapping(self.cfg, self._shape(job), job.a_bits, job.dataflow,
                                              job.layout or Layout()))
        return self._mapped[2]

    def streamed_psums(self, job):
        return self.layer_mapping(job).streamed_positions()

    @staticmethod
    def _shape(job) -> LayerShape:
        return LayerShape(job.in_channels, job.out_channels, job.height, job.width)

    # ---------------------------------------------------------------------------------------- monitors
    def _lanes(self, word, width):
        return unpack_lanes(word, self.cfg.cols, width, signed=True)

    def _on_out(self, t, cycle=None):
        """An output transfer; cycle: the edge that took it (the Python monitor samples before that edge)."""
        self.outputs_seen += 1
        self.stats["last_output"] = now_cycle() + 1 if cycle is None else cycle
        if self._done is not None and self.outputs_seen >= self._target:
            self._done.set()
        iss = self.issued.get(t["id"])
        m, sink = self.route.get(t["id"], (self.mapping, self.sink))
        vals = self._lanes(t["data"], self.cfg.acc_w)
        if iss is None:
            sink.unexpected("relu", f"output of unknown command id {t['id']} addr {t['addr']}", vals)
        else:
            sink.output(iss.image, iss.oc_tile, m.out_position(iss, t["addr"]), vals)

    def _on_acc(self, t):
        iss = self.issued.get(t["id"])
        m, sink = self.route.get(t["id"], (self.mapping, self.sink))
        vals = self._lanes(t["data"], self.cfg.acc_w)
        if iss is None:
            sink.unexpected("sum", f"sum of unknown command id {t['id']} addr {t['addr']}", vals)
        else:
            sink.sum(iss.image, iss.oc_tile, m.out_position(iss, t["addr"]), vals)

    def _on_psum(self, t):
        iss = self.issued.get(t["id"])
        m, sink = self.route.get(t["id"], (self.mapping, self.sink))
        vals = self._lanes(t["data"], self.cfg.psum_w)
        if iss is not None and iss.os:
            # an output-stationary command's vectors are finished sums, one per position: kij 15, ic the block
            # and nij the row of its position (rtl/sequencer.v); placed by both and compared with the sum
            rows = self.cfg.rows
            if t["kij"] != KIJ_FINISHED or t["nij"] >= rows:
                sink.unexpected("os_psum", f"output-stationary vector of command {t['id']} tagged kij={t['kij']} "
                                f"nij={t['nij']} (a finished sum has kij {KIJ_FINISHED} and nij < {rows})", vals)
            else:
                sink.finished_sum(iss.image, iss.oc_tile, m.finished_position(iss, t["ic"], t["nij"]), vals)
            return
        if iss is None:
            sink.unexpected("psum", f"psum of unknown command id {t['id']}", vals)
        else:
            sink.psum(iss.image, iss.oc_tile, iss.ic0 + t["ic"], t["kij"], m.psum_position(iss, t["nij"]), vals)

    # ---------------------------------------------------------------------------------------- the layer
    async def run_layer(self, job, sink, first_id: int = 0, timeout_factor: int = 4, prefetch=None):
        """Weights of each group of output-channel tiles written once, then per image and chunk (a step) the
        activations and one command per tile. Loads overlap compute through the core's two memory regions: a
        step's activations, and a group's weights, are written into the region the step or group before did
        not use while that one computes (a write into a region still in use waits, rtl/core.v); a step's
        commands are sent once the step before has delivered every output. prefetch: (job, dataflow) of the
        next layer, whose first weight group goes into the other weight region (prefetch_weights) from this
        layer's first step on when it has one weight group, else behind its last step."""
        self.sink = sink
        m = self.layer_mapping(job)
        self.mapping = m
        self.issued, self.route = {}, {}
        if not DATAFLOWS[m.name].makes_psums and self.monitor_psums:
            sink.expect_finished_sums()
        st = self.stats = {"first_input": None, "first_command": None, "last_output": None,
                           "compute_cycles": [0] * job.images, "act_words": [0] * job.images, "wgt_words": 0,
                           "prefetched_wgt_words": 0,
                           "tokens": m.tokens(), "ideal_cycles": m.ideal_cycles, "model_cycles": m.model_cycles(),
                           "fill_cycles": 0,   # the cycle model's waits of the run's filling steps (all images)
                           "scalesim_cycles": m.scalesim_cycles(), "chunks": len(m.chunks()), "dataflow": m.name}
        ahead, self.prefetched = self.prefetched, None
        self._writers = []  # background writes of this run: cancelled with it (a reset, a timeout)
        try:
            await self._run_steps(job, m, st, first_id, timeout_factor, prefetch, ahead)
        finally:
            for task in self._writers:
                if not task.done():
                    task.cancel()

    async def _run_steps(self, job, m, st, first_id, timeout_factor, prefetch, ahead):
        sink = self.sink
        cid, pending, fetching = first_id, None, None
        pinned = None       # the region of weights prefetched for another run: this one leaves it alone
        for gi, group in enumerate(m.groups):
            words = m.weight_words(job.w_tiles, group)
            writing = wgt_fill = None
            if gi == 0 and ahead is not None and ahead[0] == words:
                wgt_region = ahead[1]       # the same words, written behind the previous layer
                self.wgt_free = wgt_region ^ 1
                st["prefetched_wgt_words"] = len(words)
                ahead = None
            else:
                if ahead is not None:
                    # weights prefetched for a later run (this is another dataflow's run of the layer, say):
                    # every group of this run goes to the other region, one after the other (a write into it
                    # waits while the group before still computes, rtl/core.v)
                    pinned = ahead[1]
                    self.wgt_free = pinned ^ 1
                wgt_region = self.wgt_free
                if pinned is None:
                    self.wgt_free ^= 1
                st["wgt_words"] += len(words)
                if pending is None and self.fill_first_step:
                    wgt_fill = words    # written with the first step's activations, behind its first command
                else:   # written beside the first step's activations (the two ports are apart)
                    writing = cocotb.start_soon(self._write(self.wgt, words, wgt_region))
                    self._writers.append(writing)
            for n in range(job.images):
                for chunk in m.chunks():
                    acts = m.act_words(job.a_tiles[n], chunk)
                    act_region = self.act_free
                    self.act_free ^= 1
                    fill = pending is None and self.fill_first_step and bool(acts)
                    if not fill:
                        st["act_words"][n] += await self._write(self.act, acts, act_region)
                        self._first_input(self.act.first_cycle)
                    pairs = m.issue(group, chunk, cid, job.relu, image=n)
                    pairs = [(dataclasses.replace(c, act_region=act_region, wgt_region=wgt_region), iss)
                             for c, iss in pairs]
                    if fill:    # the first command starts the fills (act_base, wgt_base: where the words begin)
                        c0, iss0 = pairs[0]
                        assert c0.act_base == acts[0][0] and (not wgt_fill or c0.wgt_base == wgt_fill[0][0])
                        pairs[0] = (dataclasses.replace(c0, act_fill=1, wgt_fill=int(bool(wgt_fill))), iss0)
                    cmds = [c for c, _ in pairs]
                    if self.flip_mode:
                        cmds = [dataclasses.replace(c, a2=1 - c.a2) for c in cmds]
                    if writing is not None:
                        await writing
                        writing = None
                        self._first_input(self.wgt.first_cycle)
                    if pending is not None:
                        await self._finish_step(*pending)
                    for c, iss in pairs:
                        if iss is not None:
                            self.issued[c.id] = iss
                        self.cmd_outputs[c.id] = m.outputs(chunk) if iss is not None and c.emit else 0
                        if self.on_command:
                            self.on_command(c)
                    cid = (cid + len(cmds)) & 0xFFFF
                    emitting = sum(1 for c, iss in pairs if iss is not None and c.emit)
                    target = self.outputs_seen + emitting * m.outputs(chunk)
                    start = now_cycle()
                    filling = None
                    if fill:    # the first command, then the words and the other commands (awaited below)
                        filling, sending = await self._fill_step(cmds, acts, act_region, wgt_fill, wgt_region, st)
                        wgt_fill = None
                    if prefetch is not None and fetching is None and len(m.groups) == 1:
                        # one weight group: the weight port is free from here on (a fill's weight words are
                        # written), and the other region too
                        self.wgt_free = wgt_region ^ 1
                        fetching = cocotb.start_soon(self.prefetch_weights(*prefetch))
                        self._writers.append(fetching)
                    if filling is None:
                        await self.send_commands(cmds)
                    else:
                        await sending
                        st["act_words"][n] += await filling
                        self._first_input(self.act.first_cycle)
                    st["first_command"] = st["first_command"] or self.cmd.first_cycle
                    budget = timeout_factor * sum(c.tokens for c in cmds) + 200 + 20 * (self.cfg.rows + self.cfg.cols)
                    pending = (target, start, budget, n, self.cmd.first_cycle)
        if prefetch is not None:
            if fetching is None:
                self.wgt_free = wgt_region ^ 1      # the last group's region is in use, the other is not
            await (fetching if fetching is not None else self.prefetch_weights(*prefetch))
        elif pinned is not None:
            self.prefetched, self.wgt_free = ahead, pinned ^ 1     # still there for the run it was written for
        if pending is not None:
            await self._finish_step(*pending)
        # the layer's span ends at its last output, or later where the next layer's weights took longer to write
        st["span_end"] = max(st["last_output"] or 0, self.wgt.last_cycle if prefetch is not None else 0)
        for _ in range(5):  # stray extra outputs show up as duplicates/unexpected
            await RisingEdge(self.dut.clk)
        await ReadOnly()
        if self.capture is not None:
            self.capture.drain(settled=False)      # the read-only phase: nothing driven
        if str(self.dut.busy.value) != "0":
            self.busy_faults.append(f"busy still {self.dut.busy.value} at cycle {now_cycle()}, 5 cycles after the "
                                    f"layer's last output")
        await RisingEdge(self.dut.clk)
        if hasattr(sink, "rtl_checks"):
            sink.rtl_checks(self.fired_invariants(), len(self.INVARIANTS) + len(self.PORT_CHECKS),
                            self.x_seen if self.four_state else None)

    async def _fill_step(self, cmds, acts, act_region, wgt_words, wgt_region, st):
        """A step whose words are written while it computes: its first command (act_fill, and wgt_fill with
        wgt_words) goes first -- a word written before it would land in the free region and not count for the
        fill -- (or with its first words: fill_with_first_word), then the words in address order from each base, and the step's other commands beside them from the next cycle
        (the cycle model's fill_delay counts on them queued behind the first). Returns once the weight words are
        written (the weight port is free), with the tasks writing the activations and sending the commands."""
        self.check_commands(cmds)
        st["fill_cycles"] += fill_delay(cmds)   # the cycle model's waits, beside model_cycles (per image)

        def start_writers():    # each cancelled with the run (self._writers)
            act = cocotb.start_soon(self._write(self.act, acts, act_region))
            wgt = cocotb.start_soon(self._write(self.wgt, wgt_words, wgt_region)) if wgt_words else None
            self._writers.extend(t for t in (act, wgt) if t is not None)
            return act, wgt

        if self.fill_with_first_word:
            if self.pause_kinds["cmd"] != "none":   # a first word before its command would not count
                raise ValueError("fill_with_first_word needs a command port without pauses")
            act, wgt = start_writers()
        await self.cmd.send_all([{"data": cmds[0].pack()}])
        first_command = self.cmd.first_cycle

        async def send_rest():
            if cmds[1:]:
                await self.cmd.send_all({"data": c.pack()} for c in cmds[1:])
            self.cmd.first_cycle = first_command    # the step's first command, as send_commands leaves it

        if not self.fill_with_first_word:
            act, wgt = start_writers()
        sending = cocotb.start_soon(send_rest())
        self._writers.append(sending)
        if wgt is not None:
            await wgt
            self._first_input(self.wgt.first_cycle)
        return act, sending

    def _first_input(self, cycle):
        st = self.stats
        st["first_input"] = cycle if st["first_input"] is None else min(st["first_input"], cycle)

    async def _finish_step(self, target, start, budget, image, first_command):
        """Wait for a step's outputs; its compute cycles run from its first command to its last output."""
        await self._wait_outputs(target, start, budget)
        self.stats["compute_cycles"][image] += self.stats["last_output"] - first_command

    @staticmethod
    async def _write(source, words, region: int) -> int:
        """Write (addr, word) pairs into a memory region through its source (the core holds each write while a
        command still reads that region); returns how many."""
        return await source.send_all({"addr": a, "region": region, "data": w} for a, w in words)

    async def prefetch_weights(self, job, dataflow=None):
        """Write the first weight group of `job` (in `dataflow`, default the job's; its activations are not
        read) into the free weight region now, while the core may still compute; the next run_layer whose first
        group has exactly these words (addresses and values) uses them instead of writing them again. Returns
        the words written (0, and nothing written, for a layer that does not fit the core)."""
        if dataflow is not None:
            job = dataclasses.replace(job, dataflow=dataflow)
        try:
            m = mapping(self.cfg, self._shape(job), job.a_bits, job.dataflow, job.layout or Layout())
        except ValueError:      # the layer does not fit (MappingError): its own run reports it, not this one
            return 0
        words = m.weight_words(job.w_tiles, m.groups[0])
        region = self.wgt_free
        self.wgt_free ^= 1
        await self._write(self.wgt, words, region)
        self.prefetched = (words, region)
        return len(words)

    def check_commands(self, cmds) -> None:
        """Every command checked against the core before the first is sent (Command.check)."""
        for cmd in cmds:
            cmd.check(self.cfg.rows)

    async def send_commands(self, cmds) -> None:
        """The commands checked (check_commands), then sent."""
        self.check_commands(cmds)
        await self.cmd.send_all({"data": cmd.pack()} for cmd in cmds)

    def stream_words(self, job) -> tuple[int, int] | None:
        """(activation words, weight words) the job takes in a stream, or None when it is not one image, one
        weight group and one chunk."""
        m = self.layer_mapping(job)
        if job.images != 1 or len(m.groups) != 1 or len(m.chunks()) != 1:
            return None
        acts = m.act_words(job.a_tiles[0], m.chunks()[0])
        wgts = m.weight_words(job.w_tiles, m.groups[0])
        return max([a + 1 for a, _ in acts], default=0), max([a + 1 for a, _ in wgts], default=0)

    async def run_stream(self, items, write_attempts: int = 0, extra_cycles: int = 0, timeout_factor: int = 6,
                         fill: bool = False, refill: bool = False, events: dict | None = None) -> dict:
        """Several layers back to back, as a host that does not wait: items [(job, sink)], each job one
        image, one weight group and one chunk. Every job's words are written first, each at its own offsets in
        one memory region, then every command of every job is sent without waiting for outputs -- dataflows
        and activation modes switching from one command to the next -- and every value is placed by its
        command id into its own job's checker. write_attempts: host writes tried, one cycle each, at up to that
        many cycles where the sequencer reads its memories and as many where it reads nothing but a queued
        command or a preload still uses the region, with other data at one of the last job's words (activation
        and weight words in turn),
        alternately into the stream's region (each must be refused: act_wr_ready low, else it would land and
        that job's values would differ) and into the other region (each must be taken: the host fills that
        one meanwhile). fill: the words are written behind the first command instead, which starts fills of both
        regions (act_fill, wgt_fill: rtl/core.v), while the other commands go in beside them; between the fill's
        words, at random, a host write at another word of the stream (below the fill's level: a word the
        commands may have read, or above it: not yet its turn) is tried for one cycle, and must be refused
        (`_fill_writer`); the writes tried while the sequencer reads start once the fill is written. refill: the
        last layer's activations go to the first layer's addresses instead (other data where the layers before
        still read), by a fill its first command starts (act_fill alone), sent right behind the others: that
        command must wait at the port until no earlier command holds the region (rtl/core.v's fill_ok); its words
        go in once it has entered (no other activation write is tried meanwhile). Returns the flow events seen (for the test's assertions), in `events` when given (so that a caller
        has them after a failure too)."""
        self._python_ports("run_stream")
        d, c = self.dut, self.cfg
        plan, act_off, wgt_off = [], 0, 0
        act_region, wgt_region = self.act_free, self.wgt_free
        if fill and refill:
            raise ValueError("a stream fills at its first command or refills at its last layer, not both")
        for k, (job, sink) in enumerate(items):
            m = self.layer_mapping(job)
            if job.images != 1 or len(m.groups) != 1 or len(m.chunks()) != 1:
                raise ValueError(f"{job.name}: a stream takes one image, one weight group and one chunk per layer")
            chunk = m.chunks()[0]
            last_refilled = refill and k == len(items) - 1    # its activations at the first layer's addresses
            base = 0 if last_refilled else act_off
            acts = [(a + base, w) for a, w in m.act_words(job.a_tiles[0], chunk)]
            wgts = [(a + wgt_off, w) for a, w in m.weight_words(job.w_tiles, m.groups[0])]
            plan.append((job, sink, m, chunk, acts, base, wgt_off, wgts))
            if not DATAFLOWS[m.name].makes_psums and self.monitor_psums:
                sink.expect_finished_sums()
            act_off = max([a + 1 for a, _ in acts], default=act_off) if not last_refilled else act_off
            wgt_off = max([a + 1 for a, _ in wgts], default=wgt_off)
            if act_off > c.act_depth or wgt_off > c.wgt_depth:
                raise ValueError(f"the stream's layers need {act_off} activation and {wgt_off} weight words, the "
                                 f"core holds {c.act_depth} and {c.wgt_depth}")
            if not fill:
                await self._write(self.wgt, wgts, wgt_region)
                if not last_refilled:
                    await self._write(self.act, acts, act_region)
        self.issued, self.route, self.sink, self.mapping = {}, {}, items[0][1], plan[0][2]
        refilling = refill and bool(plan[-1][4])    # the last layer has activation words to refill
        cmds, target, cid, refill_at = [], self.outputs_seen, 0, None
        for k, (job, sink, m, chunk, acts, ao, wo, _) in enumerate(plan):
            refill_at = len(cmds)      # the last layer's first command, when it refills
            refilled = refilling and k == len(plan) - 1
            pairs = m.issue(m.groups[0], chunk, cid, job.relu, image=0)
            for cmd, iss in pairs:
                cmd = dataclasses.replace(cmd, act_base=cmd.act_base + ao, wgt_base=cmd.wgt_base + wo,
                                          act_region=act_region, wgt_region=wgt_region,
                                          act_fill=int(refilled and len(cmds) == refill_at))
                if self.on_command:      # the coverage model's command fields (as run_layer does)
                    self.on_command(cmd)
                self.cmd_outputs[cmd.id] = m.outputs(chunk) if iss is not None and cmd.emit else 0
                if iss is not None:
                    self.issued[cmd.id], self.route[cmd.id] = iss, (m, sink)
                    target += m.outputs(chunk) if cmd.emit else 0
                cmds.append(cmd)
            cid += len(pairs)
        events = events if events is not None else {}
        events.update({"layers": len(plan), "commands": len(cmds), "write_attempts": 0, "writes_accepted_while_reading": 0,
                  "other_region_attempts": 0, "other_region_accepted": 0, "weight_write_attempts": 0,
                  "attempts_while_only_queued": 0, "attempts_while_alone": 0,
                  "dataflow_switches": sum(a[2].name != b[2].name for a, b in zip(plan, plan[1:])),
                  "mode_switches": sum(a[0].a_bits != b[0].a_bits for a, b in zip(plan, plan[1:])),
                  "os_credit_wait_cycles": 0, "os_flush_credit_wait_cycles": 0, "cmd_queue_full_cycles": 0,
                  "fill": False, "fill_words": 0, "fill_stray_attempts": 0, "fill_stray_accepted": 0,
                  "fill_wait_cycles": 0, "refill": refill, "fill_command_wait_cycles": 0})
        later = {"act": plan[-1][4], "wgt": plan[-1][7]}   # the last layer's words: read last, so a write that
        #                                                   lands is seen in its values
        start = now_cycle()
        words = {"act": sorted(a for p in plan for a in p[4]), "wgt": sorted(w for p in plan for w in p[7])}
        # a fill starts at the first command's bases and needs the words from there on, in a row (the stream's
        # layers sit one after the other from offset 0; a layout that left gaps would never be filled)
        if fill and not all(not ws or _in_a_row(ws, b)
                            for ws, b in ((words["act"], cmds[0].act_base), (words["wgt"], cmds[0].wgt_base))):
            raise ValueError("a filling stream needs its words in a row from its first command's bases")
        if fill:
            events["fill"] = True
            cmds[0] = dataclasses.replace(cmds[0], act_fill=int(bool(words["act"])), wgt_fill=int(bool(words["wgt"])))
            self.check_commands(cmds)
            await self.cmd.send_all([{"data": cmds[0].pack()}])
            writers = [cocotb.start_soon(self._fill_writer(mem, words[mem], region, events))
                       for mem, region in (("act", act_region), ("wgt", wgt_region)) if words[mem]]
            self._writers += writers
            await self.cmd.send_all({"data": cmd.pack()} for cmd in cmds[1:])
            for w in writers:
                await w
        refiller, port = None, {"act": True}     # port: the watch may try activation writes
        if refilling:
            acts = sorted(plan[-1][4])
            if not _in_a_row(acts, cmds[refill_at].act_base):
                raise ValueError("a refill needs its words in a row from its first command's base")
            entered = self.cmd.accepted + refill_at + 1     # the command source's count once it has entered

            async def refill_words():
                # from the cycle after its command entered (the fill has begun): a word tried earlier could land
                # while the region is free, before the stream's first command or in a gap between two; from then
                # on the writer has the activation port (the watch's tries there stop: one at the level would
                # rightly land)
                while self.cmd.accepted < entered:
                    await RisingEdge(d.clk)
                    await ReadOnly()    # the source has counted the transfer its edge took
                port["act"] = False
                await self._fill_writer("act", acts, act_region, events)
            refiller = cocotb.start_soon(refill_words())
            self._writers.append(refiller)
        watch = cocotb.start_soon(self._stream_watch(events, write_attempts, later, {"act": act_region, "wgt": wgt_region},
                                                     port))
        if not fill:
            await self.send_commands(cmds)
        budget = timeout_factor * sum(cmd.tokens for cmd in cmds) + 200 * len(plan) + 20 * (c.rows + c.cols) + extra_cycles
        await self._wait_outputs(target, start, budget)
        if refiller is not None:
            await refiller
        for _ in range(5):
            await RisingEdge(d.clk)
        watch.cancel()
        d.act_wr_valid.value = d.wgt_wr_valid.value = 0
        for _, sink, *_ in plan:
            if hasattr(sink, "rtl_checks"):
                sink.rtl_checks(self.fired_invariants(), len(self.INVARIANTS) + len(self.PORT_CHECKS), None)
        return events

    async def _fill_writer(self, mem: str, words, region: int, events: dict):
        """A fill's words, in address order, on one write port driven here (valid held until ready), with
        random idle cycles between them (so the commands catch up and wait for words) and, at random before a
        word, one cycle of a write to another word of the fill with other data: below the level (a word the
        commands may already have read) or above it (not its turn yet). Each such write must be refused (ready
        low); one that landed would change a value the checker compares. Counts the cycles where the sequencer
        waits for a word of a fill: fold 0's preload for its weight word, a token for its activation word (a
        weight-stationary fold's first token waiting for the next fold's weights is not counted), an
        output-stationary step for either word."""
        d = self.dut
        rng = seeded_random(f"fill-{mem}")
        valid, addr, data, reg, ready = (getattr(d, f"{mem}_wr_{n}") for n in ("valid", "addr", "data", "region", "ready"))
        bits = len(data)
        pre, run, os_ = (rtl_states()[k] for k in ("S_PRE", "S_RUN", "S_OS"))
        async def cycle(a, w) -> int:
            addr.value, data.value, reg.value, valid.value = a, w, region, 1
            await ReadOnly()
            taken = int(ready.value)
            if mem == "act":    # counted once, on one writer
                state, act_ok, wgt_ok = int(d.u_seq.state.value), int(d.act_ok.value), int(d.wgt_ok.value)
                events["fill_wait_cycles"] += int((state == pre and not wgt_ok) or (
                    state in (run, os_) and not int(d.issue.value) and not (act_ok and (wgt_ok or state == run))))
            await RisingEdge(d.clk)
            return taken

        await RisingEdge(d.clk)
        for i, (a, w) in enumerate(words):
            if rng.random() < 0.15:
                stray = rng.choice([j for j in range(len(words)) if j != i])
                events["fill_stray_attempts"] += 1
                events["fill_stray_accepted"] += await cycle(words[stray][0], words[stray][1] ^ ((1 << bits) - 1))
            while rng.random() < 0.3:
                valid.value = 0
                await RisingEdge(d.clk)
            while not await cycle(a, w):
                pass
            events["fill_words"] += 1
        valid.value = 0

    async def _stream_watch(self, events, write_attempts, words, region, port=None):
        """Per cycle of a stream (read at the falling edge, where this cycle's values are settled): the
        output-stationary sequencer waiting for credits, a full command queue, and the host writes tried while
        the stream's region is in use -- the sequencer reads it, a command that reads it waits in the queue, or a
        preload is on its way down the weight banks -- one cycle each, at most every other cycle, activation and
        weight words in turn, every other one into the region the stream does not use. Three kinds of cycle have
        a budget each: a command waiting or a preload on its way (the sequencer reading nothing), the sequencer
        reading while another command or a preload also holds the region, and the sequencer reading with
        nothing else holding it (the stream's last command: the region is in use only because it runs, and a
        weight write is tried there first). A preload alone holds the weight region, not the activation one (an
        activation write would rightly land): a weight word is tried then. port["act"] false: no activation
        write is tried (another writer has the port)."""
        d, seq, rows = self.dut, self.dut.u_seq, self.cfg.rows
        rng = seeded_random("stream-writes")
        trying = None
        waiting = (rtl_states()["S_OS"], rtl_states()["S_FLUSH"])   # where an OS command waits for credits
        last_state = None
        while True:
            await FallingEdge(d.clk)
            if trying:
                getattr(d, f"{trying}_wr_valid").value, trying = 0, None
            state, reading = int(seq.state.value), int(d.issue.value)
            if state in waiting and not reading and int(d.credits_free.value) < rows:
                events["os_credit_wait_cycles"] += 1
            # the flush of a command's last block waiting (S_FLUSH for another cycle): the part of the credit waits
            # above that is the flush's, not a release's (S_OS)
            events["os_flush_credit_wait_cycles"] += int(state == last_state == waiting[1])
            last_state = state
            events["cmd_queue_full_cycles"] += int(not int(d.fifo_ready.value))   # not a fill's wait (cmd_ready)
            # a fill command held at the port while its region is in use (fill_ok), the queue having room
            events["fill_command_wait_cycles"] += int(int(d.cmd_valid.value) and int(d.fifo_ready.value)
                                                      and not int(d.cmd_ready.value))
            tries = events["write_attempts"] + events["other_region_attempts"]
            held = bool(int(d.q_valid.value) or int(d.preloading.value))
            queued, alone = not reading and held, reading and not held
            # each kind of cycle has its own budget: the reading cycles are many, the others few and short
            kind = "attempts_while_only_queued" if queued else "attempts_while_alone" if alone else None
            spent = events[kind] if kind else \
                tries - events["attempts_while_only_queued"] - events["attempts_while_alone"]
            if (reading or queued) and spent < write_attempts and rng.random() < (0.2 if kind is None else 0.5):
                n = events["attempts_while_alone"] if alone else tries
                mem = "wgt" if (n // 2 % 2) ^ alone else "act"
                act_held = (reading or int(d.q_valid.value)) and (port is None or port["act"])
                if mem == "act" and not act_held:
                    mem = "wgt"
                if not words[mem]:
                    continue
                bits = self.cfg.act_word_bits if mem == "act" else self.cfg.wgt_word_bits
                addr, word = rng.choice(words[mem])
                other = n % 2 == 1
                getattr(d, f"{mem}_wr_addr").value = addr
                getattr(d, f"{mem}_wr_data").value = word ^ ((1 << bits) - 1)
                getattr(d, f"{mem}_wr_region").value = region[mem] ^ other
                getattr(d, f"{mem}_wr_valid").value, trying = 1, mem
                await ReadOnly()     # ready may depend on the region just driven
                taken = int(getattr(d, f"{mem}_wr_ready").value)
                events["weight_write_attempts"] += mem == "wgt"
                events["attempts_while_only_queued"] += queued
                events["attempts_while_alone"] += alone
                if other:
                    events["other_region_attempts"] += 1
                    events["other_region_accepted"] += taken
                else:
                    events["write_attempts"] += 1
                    events["writes_accepted_while_reading"] += taken

    async def _wait_outputs(self, target, start, budget):
        """Sleeps until the output monitor has counted `target` outputs (no per-cycle wake-ups: the whole
        network waits millions of cycles here), or fails after `budget` cycles."""
        if self.outputs_seen >= target:
            return
        if self.capture is not None:
            if not await self.capture.wait(target, budget):
                raise TimeoutError(f"only {self.outputs_seen}/{target} outputs after {budget} cycles "
                                   f"(core busy={int(self.dut.busy.value)})")
            return
        self._target, self._done = target, Event()
        timer = Timer(budget * CLOCK_NS, unit="ns")
        fired = await First(self._done.wait(), timer)
        self._done = None
        await Timer(1, unit="ps")   # the monitor set the event in the read-only phase: leave it before driving
        if fired is timer:
            raise TimeoutError(f"only {self.outputs_seen}/{target} outputs after {budget} cycles "
                               f"(core busy={int(self.dut.busy.value)})")
