"""The course-skeleton adapter: the course's Part 1 testbench sequence (core_tb.v) for any core of the
skeleton family, every core-specific fact taken from a configuration (accel_tb.env.skeleton_config; the file
format is docs/byoc_config.md):

    accel-byoc --config skeleton.toml --rtl "rtl/*.v" --top core

Per image: activations into xmem; per kernel position a reset (reset.per_kernel), the kernel into xmem at
flow.weights_at, xmem -> L0, load into the PEs, activations xmem -> L0, execute, OFIFO -> pmem (polling the
valid pin, or after a fixed wait); then per output the SFU accumulates its nine psums read from pmem and the
adapter reports sfp_out, after ReLU or before it (flow.output).

A team whose core departs from the sequence in one place subclasses it and overrides that hook:

    from accel_tb.env.skeleton import SkeletonAdapter, load_config

    class MyCore(SkeletonAdapter):
        config = load_config(Path(__file__).with_name("skeleton.toml"))

        async def load_weights(self):          # e.g. a core that latches the kernel in fewer cycles
            ...

Hooks, in the order the flow calls them: start, set_mode (a core with a 2-bit mode: pins.mode or
mode.field), load_activations (write_xmem), run_kernel (kernel_reset, write_kernel, xmem_to_l0, load_weights,
execute, drain), outputs (accumulate, read_output).

2-bit mode (course Part 2): the mode select carries mode.two_bit for the whole layer; each xmem activation
word holds row r's lane = {channel 2r+1 (high), channel 2r (low)}; the kernel of one position is two words a
column (weights_at + 2c: the channels 2r, weights_at + 2c + 1: the channels 2r+1), each PE keeping the first
two values that reach it, so load stays up a column's worth of cycles longer.

Output-stationary (flow.dataflow = "os", or --dataflow os on a file that names pins.os; 4-bit layers):
run_output_stationary. PE (r, c) sums output position base + r of output channel c: per image, output tile
and block of `rows` positions a reset (clearing the sums), then per kernel position os_stream (activations
through L0, lane r the input of position base + r channel after channel; weights through the IFIFO, lane c
output channel c's; execute), then os_drain (load drains the sums south through the OFIFO, last row first,
into pmem) and os_outputs (the SFU shows each sum after ReLU). That is the OFIFO readout; a core that shows
every PE's sum on a wide bus, or recalls the sums from pmem by address, overrides os_drain / os_outputs
(docs/byoc_config.md, "Readout kinds"; not run here). Three flows of
the issue are not run yet and their hooks raise: accumulation in the SFU during the run
(accumulate_during_run), results read from pmem by address (read_pmem) and a wide PE bus readout
(read_pe_bus).
"""
from __future__ import annotations

from cocotb.triggers import FallingEdge, NextTimeStep, ReadOnly, RisingEdge

from accel_tb.adapter import AdapterError, CoreAdapter, Geometry, pair_lanes
from accel_tb.design.portdesc import Port
from accel_tb.env.skeleton_config import ACTIVE_LOW, ConfigError, SkeletonConfig, check_ports, load_config, used_pins
from accel_tb.helpers import pack_lanes, unpack_lanes
from accel_tb.vip.sim import drive, now_cycle, pulse_reset, start_clock

__all__ = ["SkeletonAdapter", "load_config", "NOT_YET"]

NOT_YET = ("not supported by the config adapter yet: subclass SkeletonAdapter and override {hook}() "
           "(docs/byoc_config.md)")


class SkeletonAdapter(CoreAdapter):
    """A course-skeleton core driven from a SkeletonConfig (class attribute `config`, or the `config`
    option: a SkeletonConfig or its to_dict())."""

    config: SkeletonConfig | None = None
    geometry: Geometry = Geometry(rows=8, cols=8)

    def __init_subclass__(cls, **kw):
        super().__init_subclass__(**kw)
        if cls.__dict__.get("config") is not None:   # a subclass naming its file: the geometry is the file's
            cls.geometry = cls.config.geometry

    def __init__(self, dut, config=None, **options):
        super().__init__(dut, **options)
        cfg = config if config is not None else type(self).config
        if cfg is None:
            raise ValueError(f"{type(self).__name__}: no configuration (set `config = load_config(...)`)")
        self.cfg = SkeletonConfig.from_dict(cfg) if isinstance(cfg, dict) else cfg
        self.geometry = self.cfg.geometry
        self.pins = self.cfg.pins
        self.clk = self.handle("clk")
        self.output_kind = self.cfg.output
        self.job = None
        self._idle = {name: 1 for name in ACTIVE_LOW}
        self.mode = self.cfg.mode_four_bit     # the mode select's value (set_mode)
        self.dataflow = options.get("dataflow") or self.cfg.dataflow   # --dataflow beats the file
        self.waiting = None        # what the flow waits on now (named when the layer's cycle budget runs out)
        self._sampled = None       # sfp_out as sampled by accumulate() (read_output returns it)

    # ------------------------------------------------------------------------------------------ pins
    def handle(self, role: str):
        """The top's port of a pin role; a port the top lacks is one line naming the configuration key."""
        name = self.pins[role].split("[")[0]
        try:
            return getattr(self.dut, name)
        except AttributeError:
            raise AdapterError(f"{self.cfg.name}: pins.{role} = {self.pins[role]!r}: the top "
                               f"{getattr(self.dut, '_name', '')} has no port {name!r}") from None

    async def sample(self, role: str, what: str = "value"):
        """A pin's value once the rising edge just passed has settled (ReadOnly: what that edge registered),
        then on to the next time step (inputs may be driven again). A 1-bit pin (ofifo_valid, or a bit of a
        bus: "bus[4]") returns an int and X/Z there is one line naming the pin, key and cycle; a bus returns
        its LogicArray."""
        await ReadOnly()
        spec = self.pins[role]
        value = self.handle(role).value
        await NextTimeStep()
        if "[" not in spec and len(value) > 1:
            return value
        if "[" in spec:
            bit = int(spec[:-1].split("[")[1])
            rng = list(value.range) if hasattr(value, "range") else list(range(len(value) - 1, -1, -1))
            if bit not in rng:
                raise AdapterError(f"pins.{role} `{spec}`: the port has bits {rng[0]}..{rng[-1]}, not {bit}")
            ch = str(value)[rng.index(bit)]
        else:
            ch = str(value)[-1]
        if ch in "01":
            return int(ch)
        why = {"z": "the top does not drive it", "x": "undefined (an unreset register, or two drivers)"}
        raise AdapterError(f"pins.{role} `{spec}` is {ch.upper()} at cycle {now_cycle()}: "
                           f"{why.get(ch.lower(), 'not a 0 or 1')}" + (f" ({what})" if what != "value" else ""))

    def check_pins(self):
        """What of the configuration the simulator's handles show, for a top no tool described before the build
        (accel_tb.cli.run's note; the library's callers): every pin and tie a port, each pin as wide as the
        configuration says, each tie's value fits: skeleton_config.check_ports's own checks and lines, on the
        ports the handles show. Directions and inputs nobody drives are not seen here."""
        names = {n.split("[")[0] for n in used_pins(self.cfg).values()} | set(self.cfg.tie)
        ports = {}
        bus_bits = {n.split("[")[0] for n in used_pins(self.cfg).values() if "[" in n}
        for name in names:
            try:
                width = len(getattr(self.dut, name))
            except AttributeError:
                continue            # named by check_ports, with its key
            # a bit of a bus (pins.ofifo_valid = "sig[4]"): the bus may be [7:4]; sample() checks the bit against
            # the handle's own range as it reads it
            ports[name] = Port(name, None, None if name in bus_bits else width)
        try:
            check_ports(self.cfg, ports, getattr(self.dut, "_name", ""), complete=False)
        except ConfigError as e:
            raise AdapterError(str(e).replace(f"{self.cfg.path}: ", f"{self.cfg.name}: ", 1)) from None

    # ------------------------------------------------------------------------------------------ words
    def word(self, readout: bool = False, **fields) -> int:
        """The instruction word: the course fields given (active-low enables idle high, the rest 0) and the
        extra fields whose `when` covers this phase."""
        values = {**self._idle, **fields}
        w = 0
        for name, value in values.items():
            lsb, n = self.cfg.fields[name]
            if not 0 <= value < (1 << n):
                raise ValueError(f"{name}={value} does not fit its {n} bit(s) in {self.cfg.name}")
            w |= value << lsb
        after_acc = readout == "after_acc"      # the idle words after the last acc (a one-word ReLU pulse)
        for e in self.cfg.extra:
            if {"always": True, "run": not readout, "readout": bool(readout), "after_acc": after_acc}[e.when]:
                w |= e.value << e.lsb
        if self.cfg.mode_field is not None:
            w |= self.mode << self.cfg.mode_field[0]
        return w

    async def step(self, data=0, readout: bool = False, **fields):
        """One clock cycle: the word (and D_xmem) driven on the falling edge, return after the rising edge."""
        await FallingEdge(self.clk)
        drive(self.dut, **{self.pins["inst"]: self.word(readout, **fields), self.pins["D_xmem"]: data})
        await RisingEdge(self.clk)

    async def reset(self, cycles: int, readout: bool = False):
        """Reset for `cycles` edges, the idle word driven with it (the word before may write a memory)."""
        await FallingEdge(self.clk)        # driven with the words (and never from a read-only phase)
        drive(self.dut, **{self.pins["inst"]: self.word(readout), self.pins["D_xmem"]: 0})
        await pulse_reset(self.dut, cycles=cycles, polarity=self.cfg.reset_active, signal=self.pins["reset"],
                          clk=self.pins["clk"])

    # ------------------------------------------------------------------------------------------ hooks
    async def start(self):
        self.check_pins()
        # the mode pin is driven from the start (4-bit until a layer says otherwise), never left Z
        mode_pin = {self.pins["mode"]: self.mode} if "mode" in self.pins else {}
        if "os" in self.pins:
            mode_pin[self.pins["os"]] = int(self.dataflow == "os")
        drive(self.dut, **self.cfg.tie, **mode_pin, **{self.pins["inst"]: self.word(), self.pins["D_xmem"]: 0})
        start_clock(self.dut, clk=self.pins["clk"])
        await pulse_reset(self.dut, cycles=self.cfg.reset_cycles, polarity=self.cfg.reset_active,
                          signal=self.pins["reset"], clk=self.pins["clk"])

    async def run_layer(self, job, sink):
        """The base class's single-tile flow, the layer kept for its size (padded width, output count); the
        outputs are reported as the kind the core shows (output_kind = flow.output: after or before ReLU)."""
        self.job = job
        if self.cfg.accumulate != "readout":
            return await self.accumulate_during_run(job, sink)
        if self.dataflow == "os":
            return await self.run_output_stationary(job, sink)
        return await super().run_layer(job, sink)

    run_layer.output_tiles = True      # the base class's flow: output-channel tiles one after another

    @property
    def two_bit_layer(self) -> bool:
        return self.job is not None and self.job.a_bits * 2 == self.cfg.bits

    async def set_mode(self, a_bits):
        """The mode select (pin or instruction field) to the layer's value, held for the whole layer."""
        self.mode = self.cfg.mode_value(a_bits)
        if "mode" in self.pins:
            await FallingEdge(self.clk)
            drive(self.dut, **{self.pins["mode"]: self.mode})
        await self.step()

    # ------------------------------------------------------------------------------ output-stationary
    async def run_output_stationary(self, job, sink):
        if job.n_ic != 1 or job.a_bits != self.cfg.bits:
            raise AdapterError(f"{self.cfg.name}: the output-stationary flow runs {self.cfg.bits}-bit layers of one "
                               f"input-channel tile ({job.n_ic} tiles of {job.a_bits}-bit activations given)")
        rows, hw = self.cfg.rows, job.height * job.width
        report = sink.sum if self.output_kind == "sum" else sink.output
        self.cycles["first_input"] = now_cycle()
        for n in range(job.images):
            a = job.a_tiles[n, 0].tolist()                      # a[ch][p]
            for o in range(job.n_oc):
                w = job.w_tiles[0, o].tolist()                  # w[c][ch][kij]
                for base in range(0, hw, rows):
                    await self.reset(self.cfg.reset_per_kernel_cycles)     # every PE's sum back to 0
                    for kij in range(9):
                        await self.os_stream(job, a, w, base, kij)
                    await self.os_drain()
                    for o_nij, values in await self.os_outputs(base, hw):
                        report(n, o, o_nij, values)
                        self.cycles["last_output"] = now_cycle()

    run_output_stationary.output_tiles = True

    async def os_stream(self, job, a, w, base, kij):
        """One kernel position of a block: step i carries input channel i, row r the activation that output
        position base + r takes from it (0 past the layer's last position), column c the weight of output
        channel c; both through xmem (activations at 0, weights at weights_at) into L0 and the IFIFO."""
        hw, steps = job.height * job.width, len(a)
        for i in range(steps):
            lanes = [a[i][job.padded_nij(base + r, kij)] if base + r < hw else 0 for r in range(self.cfg.rows)]
            await self.write_xmem(i, lanes)
            await self.write_xmem(self.cfg.weights_at + i, [w[c][i][kij] for c in range(self.cfg.cols)])
        await self.xmem_to_l0(0, steps)
        await self.xmem_to_l0(self.cfg.weights_at, steps, into="ififo_wr")
        for _ in range(steps):     # L0 and the IFIFO popped together: row r and column c meet at PE (r, c)
            await self.step(l0_rd=1, ififo_rd=1, execute=1)

    async def os_drain(self):
        """Once the last pair has reached the last PE: load drains the sums south, one row a cycle (the last
        row's first) into the OFIFO, then OFIFO -> pmem[0 .. rows - 1]."""
        for _ in range(self.cfg.wait_after_execute()):
            await self.step()
        for _ in range(self.cfg.rows):
            await self.step(load=1)
        await self.drain(0, self.cfg.rows)

    async def os_outputs(self, base, hw):
        """pmem[k] holds row rows - 1 - k's sums: the SFU accumulates that one word and shows it."""
        results = []
        for k in range(self.cfg.rows):
            o_nij = base + self.cfg.rows - 1 - k
            if o_nij < hw:
                await self.accumulate([k])
                results.append((o_nij, self.read_output()))
        return results

    async def load_activations(self, tile):
        """tile[r][p] -> xmem[p]: one word per padded position, row r in lane r (2-bit layers: tile[ch][p],
        channels 2r and 2r+1 paired in lane r, 2r low)."""
        for p in range(len(tile[0])):
            column = [tile[ch][p] for ch in range(len(tile))]
            if self.two_bit_layer and self.cfg.even_channel == "high":    # channel 2r in the lane's high half
                column = [column[ch ^ 1] for ch in range(len(column))]
            await self.write_xmem(p, pair_lanes(column, self.cfg.bits) if self.two_bit_layer else column)

    async def write_xmem(self, addr: int, lanes):
        await self.step(pack_lanes(lanes, self.cfg.bits), CEN_xmem=0, WEN_xmem=0, A_xmem=addr)

    async def run_kernel(self, kij, weights):
        """weights[c][r]: as in the course's weight_itile0_otile0_kij{kij}.txt, line c = column c."""
        await self.kernel_reset()
        await self.write_kernel(weights)
        await self.xmem_to_l0(self.cfg.weights_at, self.cfg.cols * self.weights_per_pe())
        await self.load_weights()
        await self.step()
        n = self.positions()
        if self.cfg.drain == "stream":
            return await self.stream(kij, n)
        await self.xmem_to_l0(0, n)
        await self.execute(n)
        await self.drain(kij, n)

    async def stream(self, kij: int, n: int):
        """flow.drain = "stream", for a core whose L0 or OFIFO holds fewer words than a layer's positions (the
        course's depth-16 FIFOs): everything in the same cycles. Cycle t reads xmem word t, L0 takes it at
        t + X (X = flow.xmem_latency, 1 for the course SRAM), the array executes at t = X + 1 .. n + X (L0 holds
        a word before it is read); the OFIFO's reads run back to back from flow.drain_wait cycles after the
        first execute word, each pmem write flow.ofifo_latency cycles after its read (the word pops there).
        With pins.ofifo_valid named, valid is checked high in each pop's cycle: a read before its word is there
        is one line, not a shifted layer."""
        base, lat, x = kij * n, self.cfg.ofifo_latency, self.cfg.xmem_latency
        first_read = x + 1 + self.cfg.wait_in_stream()
        end = max(n + x + 1, first_read + n + lat)
        self.waiting = (f"stream (kernel position {kij}): {end} cycles, the OFIFO's reads from cycle {first_read} "
                        f"(flow.drain_wait = {self.cfg.wait_in_stream()})")
        for t in range(end):
            fields = {}
            if t < n:
                fields.update(CEN_xmem=0, A_xmem=t)
            if x <= t < n + x:
                fields["l0_wr"] = 1
            if x + 1 <= t < n + x + 1:
                fields.update(l0_rd=1, execute=1)
            if 0 <= t - first_read < n:
                fields["ofifo_rd"] = 1
            word = t - first_read - lat
            if 0 <= word < n:
                fields.update(CEN_pmem=0, WEN_pmem=0, A_pmem=base + word)
                if self.cfg.stream_valid and not await self.sample("ofifo_valid"):
                    raise AdapterError(
                        f"{self.cfg.name}: flow.drain = \"stream\" (kernel position {kij}): pins.ofifo_valid "
                        f"`{self.pins['ofifo_valid']}` is low at cycle {now_cycle()}, where word {word} of {n} pops: "
                        f"the reads start {self.cfg.wait_in_stream()} cycles after the first execute word "
                        f"(flow.drain_wait), before that word reached the OFIFO")
            await self.step(**fields)
        self.waiting = None

    def positions(self) -> int:
        """Padded positions of the layer running (xmem words of one activation tile)."""
        job = self.job
        return job.padded_width * (job.height + 2) if job is not None else self.cfg.positions

    async def kernel_reset(self):
        if self.cfg.reset_per_kernel:        # the course testbench resets before every kernel position
            await self.reset(self.cfg.reset_per_kernel_cycles)

    def weights_per_pe(self) -> int:
        return 2 if self.two_bit_layer else 1

    async def write_kernel(self, weights):
        """weights[c][r] -> xmem[weights_at + c]; 2-bit layers (weights[c][ch]): column c's channels 2r at
        weights_at + 2c, its channels 2r + 1 at weights_at + 2c + 1 (a PE keeps the first two it sees)."""
        k = self.weights_per_pe()
        for c in range(self.cfg.cols):
            for j in range(k):
                await self.write_xmem(self.cfg.weights_at + k * c + j, weights[c][j::k])

    async def xmem_to_l0(self, base: int, n: int, into: str = "l0_wr"):
        """Read n xmem words from base; each reaches L0 (or the IFIFO: into="ififo_wr") flow.xmem_latency
        cycles after its read (the course SRAM's registered address: 1; a memory read combinationally: 0)."""
        lat = self.cfg.xmem_latency
        for t in range(n + lat):
            await self.step(CEN_xmem=0 if t < n else 1, A_xmem=base + min(t, n - 1), **{into: int(t >= lat)})

    async def load_weights(self):
        """Each row pops its weights; load stays up until the last column (k + 1 cycles per tile for k
        weights a PE: 2, or 3 in 2-bit mode) and the last row (rows - 1 cycles of skew) have latched theirs."""
        cols, rows, k = self.cfg.cols, self.cfg.rows, self.weights_per_pe()
        for t in range((k + 1) * cols + rows + 1):
            await self.step(l0_rd=int(t < k * cols), load=1)

    async def execute(self, n: int):
        for _ in range(n):
            await self.step(l0_rd=1, execute=1)

    async def drain(self, kij: int, n: int):
        """OFIFO -> pmem[kij * n + position]: as the valid pin says a word is there, or after a fixed wait.
        flow.ofifo_latency = L: the OFIFO pops L cycles after ofifo_rd (the course ofifo.v registers rd), so
        each pmem write comes L words after its read; with drain = "valid" a read is issued only when the valid
        pin, settled after the last edge, is high and no read is still on its way (one word every L + 1
        cycles); with drain = "count" the reads run back to back as core_tb.v's do (rd leads the writes)."""
        base, lat = kij * n, self.cfg.ofifo_latency
        if self.cfg.drain == "count":
            for _ in range(self.cfg.wait_after_execute()):
                await self.step()
            for t in range(n + lat):
                pm = dict(CEN_pmem=0, WEN_pmem=0, A_pmem=base + t - lat) if t >= lat else {}
                await self.step(ofifo_rd=int(t < n), **pm)
            return
        moved, since = 0, now_cycle()
        while moved < n:
            self.waiting = (f"drain (kernel position {kij}): {moved} of {n} words moved to pmem, waiting since "
                            f"cycle {since} for pins.ofifo_valid `{self.pins['ofifo_valid']}` to go high"
                            + (f"; nothing came out at all: is reset.active right (\"{'high' if self.cfg.reset_active else 'low'}\" "
                               f"now; a core held in reset moves nothing)?" if kij == 0 and moved == 0 else ""))
            if await self.sample("ofifo_valid"):
                if lat == 0:
                    await self.step(ofifo_rd=1, CEN_pmem=0, WEN_pmem=0, A_pmem=base + moved)
                else:
                    await self.step(ofifo_rd=1)
                    for _ in range(lat - 1):
                        await self.step()
                    await self.step(CEN_pmem=0, WEN_pmem=0, A_pmem=base + moved)
                moved += 1
                since = now_cycle()
            else:
                await self.step()
        self.waiting = None

    async def outputs(self):
        """Per output position, the SFU accumulates its nine psums read from pmem; returns what it shows."""
        job = self.job
        if self.cfg.read_from != "sfp_out":
            return await (self.read_pmem() if self.cfg.read_from == "pmem" else self.read_pe_bus())
        n = self.positions()
        results = []
        for o_nij in range(job.height * job.width):
            await self.accumulate([k * n + job.padded_nij(o_nij, k) for k in range(9)])
            results.append((o_nij, self.read_output()))
        return results

    async def accumulate(self, addrs):
        """(reset.per_output: a reset first.) Read each address at t, accumulate the word read at t - 1, then
        one idle word and flow.readout_wait more; sfp_out is sampled once the last idle word's rising edge has
        settled: it shows what that edge registered (a ReLU the SFU applies on the word after the last acc)."""
        if self.cfg.reset_per_output:      # an SFU whose accumulator only reset clears (core_tb.v resets here)
            await self.reset(self.cfg.reset_per_output_cycles, readout=True)
        last = len(addrs) - 1
        for t in range(len(addrs) + 1):
            await self.step(CEN_pmem=0 if t <= last else 1, A_pmem=addrs[min(t, last)], acc=int(t > 0),
                            readout=True)
        for _ in range(1 + self.cfg.readout_wait):
            await self.step(readout="after_acc")
        self._sampled = await self.sample("sfp_out")

    def read_output(self) -> list:
        # the value itself, not int() of it: a lane holding X/Z is then reported where it appears
        value, self._sampled = self._sampled, None
        if value is None:      # an accumulate() of a subclass that did not sample: the pin as it is now
            value = self.handle("sfp_out").value
        return unpack_lanes(value, self.cfg.cols, self.cfg.psum_bits, signed=True)

    # ------------------------------------------------------------------------------------------ not yet
    async def accumulate_during_run(self, job, sink):
        raise NotImplementedError("flow.accumulate = 'run': " + NOT_YET.format(hook="accumulate_during_run"))

    async def read_pmem(self):
        raise NotImplementedError("flow.read_from = 'pmem': " + NOT_YET.format(hook="read_pmem"))

    async def read_pe_bus(self):
        raise NotImplementedError("flow.read_from = 'pe_bus': " + NOT_YET.format(hook="read_pe_bus"))


def config_class(cfg: SkeletonConfig | dict) -> type:
    """The adapter class of one configuration (what --config runs): its geometry the file's, its name the
    file's, so that the summary names the file."""
    cfg = SkeletonConfig.from_dict(cfg) if isinstance(cfg, dict) else cfg
    return type(cfg.name, (SkeletonAdapter,), {"config": cfg, "__module__": __name__})
