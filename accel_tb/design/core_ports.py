"""The accelerator core's top-level names the testbench touches, and the RTL constants it reads (no cocotb
import: the CLIs use it to build)."""
import os
import re
from functools import cache
from pathlib import Path

from accel_host.config import CoreConfig

# the sources the constants are read from: this checkout's rtl/, or (ACCEL_RTL_DIR, set by make mutate for a
# mutant's run and its simulations) the run's unmutated copy, so that an edit of rtl/ during a run changes nothing
RTL = Path(os.environ.get("ACCEL_RTL_DIR") or Path(__file__).resolve().parents[2] / "rtl")

INPUTS = ("clk", "rst", "act_wr_valid", "act_wr_addr", "act_wr_region", "act_wr_data", "wgt_wr_valid",
          "wgt_wr_addr", "wgt_wr_region", "wgt_wr_data", "cmd_valid", "cmd_data", "out_ready")
OUTPUTS = ("act_wr_ready", "wgt_wr_ready", "cmd_ready", "out_valid", "out_data", "out_addr", "out_id",
           "psum_valid", "psum_data", "psum_kij", "psum_nij", "psum_ic", "psum_id", "acc_valid", "acc_data",
           "acc_addr", "acc_id", "busy")


def public_names() -> list[str]:
    """Everything the adapter reads or drives on the top module in the network run: ports, the parameters it
    reads back (config_from_dut), the RTL assertion flags. A Verilator build with only these public runs
    faster (accel_tb.design.runner._public_config); tests that read internal signals build with all public."""
    return [*INPUTS, *OUTPUTS, *CoreConfig().parameters(), "assert_fired"]


# Internal signals the layer tests read besides the ports: the stream watch (own_core.run_stream), the
# functional-coverage watcher (quality.coverage) and the output hold of the command-stream test
# (layer_tests). The core's own sequencer's are named "sequencer.<signal>" (the module, as Verilator's
# configuration file names it; the tests reach them as dut.u_seq.<signal>).
WATCHED = ("issue", "q_valid", "preloading", "q_ready", "q_data", "out_space_ok", "out_count", "of_valid", "inflight",
           "credits_free", "credit_ok", "sequencer.state", "sequencer.releases", "sequencer.last_os",
           "sequencer.ic", "sequencer.blk", "sequencer.a2", "sequencer.act_region", "act_ok", "wgt_ok", "fifo_ready")


def testbench_names() -> list[str]:
    """What the layer tests (accel_tb.cocotb_tests.layer_tests) touch on this project's core: the network's
    names and the internal signals they watch. A Verilator model with only these public compiles in about
    half the time of one with every signal public (measured on the 8x8 and 16x16 cores; docs/verification.md)
    and runs faster; a test that reads a name not listed here stops with cocotb's AttributeError."""
    return [*public_names(), *WATCHED]


@cache
def rtl_states(module: str = "sequencer") -> dict[str, int]:
    """The state encoding of an RTL module, read from its `localparam [..] S_X = N'dV, ...` (the tests that
    watch the sequencer's state use these names, not copies of the numbers)."""
    text = (RTL / f"{module}.v").read_text()
    states = {name: int(val) for name, val in re.findall(r"\b(S_[A-Z0-9_]+)\s*=\s*\d+'d(\d+)", text)}
    if not states:
        raise ValueError(f"rtl/{module}.v: no S_* state localparams found")
    return states


def own_core_run() -> dict:
    """runner.run's arguments for a layer test on this project's core: top, sources, test module and the
    names made public (a user's core keeps every signal public: its adapter may read any)."""
    from accel_tb.design.runner import CORE_SOURCES, rtl_sources  # noqa: PLC0415 (runner imports cocotb_tools)
    return dict(toplevel="core", sources=rtl_sources(*CORE_SOURCES), test_module="accel_tb.cocotb_tests.layer_tests",
                public=testbench_names())


# The whole-network top: the core with its clock generated inside the simulator (`always #5`), every other port
# and parameter the core's. cocotb's GPI clock writes the clock through VPI twice a cycle and wakes the
# simulator's callback machinery each time; a clock the simulator makes itself costs none of that: measured on
# one image of the network, 270-273 k simulated cycles/s with the GPI clock, 332-335 k with this one (same
# cycles, same results; docs/network.md). Generated from rtl/core.v's own header, so it cannot drift from it.
CLOCKED_TOP = "core_clk"
HALF_PERIOD_NS = 5      # accel_tb.vip.sim.CLOCK_NS / 2: cycles are counted from the simulation time
# Its rising edges come at 10k+5 ns (the GPI clock's at 10k): now_cycle() reads k at a rising edge either way,
# but k+1 at the falling edge after it (10k+10 ns); the network path samples nothing at falling edges.


# The whole-network top's host I/O in the simulator (accel_tb.env.host_io; the network's adapter in bulk mode):
# the host's writes are driven through the core's valid/ready write ports by a streamer per port, from a batch
# the adapter writes to a file, and every output transfer, every command transfer and every fall of busy is
# appended to a log the adapter reads in batches and checks in order. The handshakes are the core's own, cycle
# for cycle as the Python sources drive them (valid up from the falling edge after the request, held from word
# to word); what leaves Python is the two wake-ups per word, and the monitors' value-change callbacks that
# Verilator checks after every evaluation. io_bulk low: the top's own write ports drive the core, as before.
# Names: <port>_st_* of a streamer, io_* of the log.
STREAM_PORTS = ("act", "wgt")
HOST_IO_PORTS = """    // host I/O in the simulator (accel_tb.env.host_io): its controls and status
    input  wire [8*256-1:0]          io_dir,         // the folder of the batch and capture files
    input  wire                      io_bulk,        // 1: the streamers drive the write ports
    input  wire                      act_st_req,     // toggled: a batch of act_st_words words in <io_dir>/act.bin
    input  wire [31:0]               act_st_words,
    output reg                       act_st_done,    // toggled at the edge that took a batch's last word
    output reg  [63:0]               act_st_first,   // the cycles of a batch's first and last transfer
    output reg  [63:0]               act_st_last,
    output reg  [31:0]               act_st_bytes,    // the bytes its batch file gave (the adapter checks them)
    input  wire                      wgt_st_req,
    input  wire [31:0]               wgt_st_words,
    output reg                       wgt_st_done,
    output reg  [63:0]               wgt_st_first,
    output reg  [63:0]               wgt_st_last,
    output reg  [31:0]               wgt_st_bytes,
    input  wire                      io_capture,     // 1: the events go to <io_dir>/log<io_out_file>.txt
    input  wire                      io_out_file,    // changed: the next event starts the other file
    input  wire [31:0]               io_out_target,
    output reg  [31:0]               io_out_count,   // output transfers logged
    output reg  [31:0]               io_log_lines,   // lines logged (every kind: the adapter counts what it reads)
    // high from the cycle whose edge takes the target's transfer (valid and ready are up): the adapter wakes
    // where the Python monitor would, and reads that last transfer from the ports
    output wire                      io_out_reached
"""
HOST_IO_INPUTS = tuple(re.findall(r"^\s*input\s+wire\s+(?:\[[^\]]+\]\s+)?(\w+)", HOST_IO_PORTS, re.M))
HOST_IO_OUTPUTS = tuple(re.findall(r"^\s*output\s+(?:reg|wire)\s+(?:\[[^\]]+\]\s+)?(\w+)", HOST_IO_PORTS, re.M))
HOST_IO_CONNECT = ", ".join(f".{p}_wr_{f}({p}_io_{f})" for p in STREAM_PORTS for f in ("valid", "addr", "region", "data"))
_STREAMER = """
    // ---- <p>: a batch of host writes, {region, addr[15:0], data} per word of <io_dir>/<p>.bin ($fread: each
    // word big-endian in whole bytes)
    localparam integer <P>_DW = <WIDTH>;
    localparam integer <P>_SD = <DEPTH>;
    reg  [<P>_DW+16:0] <p>_st_mem [0:<P>_SD-1];
    reg  [31:0] <p>_st_n = 0, <p>_st_i = 0;
    integer     <p>_st_fd;
    reg         <p>_st_gen = 0, <p>_st_seen = 0;
    initial begin <p>_st_done = 0; <p>_st_first = 0; <p>_st_last = 0; <p>_st_bytes = 0; end
    // the request is loaded at the falling edge after it: valid is up for the next rising edge, as a Python
    // source that raised it after an edge
    always @(negedge clk) if (<p>_st_req != <p>_st_gen) begin
        <p>_st_bytes = 0;
        if (<p>_st_words != 0) begin
            <p>_st_fd = $fopen({io_dir, "/<p>.bin"}, "rb");
            if (<p>_st_fd != 0) begin
                <p>_st_bytes = $fread(<p>_st_mem, <p>_st_fd, 0, <p>_st_words);
                $fclose(<p>_st_fd);
            end
        end
        <p>_st_n <= <p>_st_words;
        <p>_st_gen <= <p>_st_req;
    end
    wire [31:0] <p>_st_at = <p>_st_gen != <p>_st_seen ? 32'd0 : <p>_st_i;
    // a request toggled again (the adapter cancelled the batch) drops valid at once
    wire        <p>_st_valid = io_bulk && <p>_st_at < <p>_st_n && <p>_st_req == <p>_st_gen;
    wire [<P>_DW+16:0] <p>_st_word = <p>_st_mem[<p>_st_at[$clog2(<P>_SD)-1:0]];
    always @(posedge clk) begin
        <p>_st_seen <= <p>_st_gen;
        <p>_st_i <= <p>_st_at + {31'd0, <p>_st_valid && <p>_wr_ready};
        if (<p>_st_valid && <p>_wr_ready) begin
            if (<p>_st_at == 0) <p>_st_first <= io_cycle;
            <p>_st_last <= io_cycle;
            if (<p>_st_at + 1 == <p>_st_n) <p>_st_done <= !<p>_st_done;
        end
    end
    wire             <p>_io_valid  = io_bulk ? <p>_st_valid : <p>_wr_valid;
    // payload 0 while valid is low (no X from words not loaded, under Icarus)
    wire [<P>_DW+16:0] <p>_st_out = <p>_st_valid ? <p>_st_word : {(<P>_DW+17){1'b0}};
    wire [15:0]      <p>_io_addr   = io_bulk ? <p>_st_out[<P>_DW +: 16] : <p>_wr_addr;
    wire             <p>_io_region = io_bulk ? <p>_st_out[<P>_DW + 16] : <p>_wr_region;
    wire [<P>_DW-1:0] <p>_io_data  = io_bulk ? <p>_st_out[<P>_DW-1:0] : <p>_wr_data;
"""
_HOST_IO = ("""
    // ---- host I/O in the simulator (accel_tb.env.host_io), generated: see core_ports.HOST_IO_PORTS
    reg [63:0] io_cycle = 0;        // rising edges before this one: accel_tb.vip.sim.now_cycle() at an edge
    always @(posedge clk) io_cycle <= io_cycle + 1;
""" + "".join(_STREAMER.replace("<p>", p).replace("<P>", p.upper()).replace("<DEPTH>", f"{p.upper()}_DEPTH")
              .replace("<WIDTH>", f"<{p}_wr_data>") for p in STREAM_PORTS) + """
    // ---- the event log, a line per event in the order they happened, <io_dir>/log0.txt or log1.txt:
    //   "c <cycle> <cmd_data, hex> <busy in the cycle after>"   a command taken at that edge
    //   "b <cycle>"                                          busy fell at that edge
    //   "o <cycle> <id> <addr> <data, hex>"                   an output taken at that edge
    // A command's and busy's lines are written at the edge after theirs (busy after the command is known
    // then), before that edge's output line.
    integer io_fd = 0;
    reg io_file_seen = 0;
    initial begin io_out_count = 0; io_log_lines = 0; end
    wire io_out_now = io_capture && out_valid && out_ready;
    assign io_out_reached = io_capture && io_out_count + {31'd0, io_out_now} >= io_out_target;
    reg io_cmd_was = 0, io_busy_was = 0;
    reg [<cmd_data>-1:0] io_cmd_data_was = 0;
    always @(posedge clk) if (io_capture) begin
        if (io_out_now || io_cmd_was || (io_busy_was && !busy)) begin
            if (io_fd != 0 && io_out_file != io_file_seen) begin    // the adapter read all of it
                $fclose(io_fd);
                io_fd = 0;
            end
            io_file_seen = io_out_file;
            if (io_fd == 0)
                io_fd = $fopen({io_dir, io_out_file ? "/log1.txt" : "/log0.txt"}, "w");
            if (io_cmd_was)
                $fwrite(io_fd, "c %0d %h %0d\\n", io_cycle - 1, io_cmd_data_was, busy);
            if (io_busy_was && !busy)
                $fwrite(io_fd, "b %0d\\n", io_cycle - 1);
            if (io_out_now)
                $fwrite(io_fd, "o %0d %0d %0d %h\\n", io_cycle, out_id, out_addr, out_data);
            $fflush(io_fd);
        end
        io_out_count <= io_out_count + {31'd0, io_out_now};
        io_log_lines <= io_log_lines + {31'd0, io_out_now} + {31'd0, io_cmd_was} + {31'd0, io_busy_was && !busy};
        io_cmd_was <= cmd_valid && cmd_ready;
        io_cmd_data_was <= cmd_data;
        io_busy_was <= busy;
    end
""")


def clocked_top_text() -> str:
    """Verilog of CLOCKED_TOP: rtl/core.v's parameter list and ports (all but clk) copied, the core inside
    connected by name, its assertion flags brought up to the top (the adapter reads assert_fired there)."""
    text = (RTL / "core.v").read_text()
    head = re.search(r"^module core #\((?P<params>.*?)^\) \((?P<ports>.*?)^\);", text, re.M | re.S)
    if not head:
        raise ValueError("rtl/core.v: its header 'module core #( ... ) ( ... );' was not found")
    params = re.findall(r"^\s*parameter\s+integer\s+(\w+)", head["params"], re.M)
    if len(re.findall(r"\bparameter\b", re.sub(r"//[^\n]*", "", head["params"]))) != len(params):
        # a parameter written another way would be copied to the top but not passed down: the core would run
        # on its default while the testbench reads the override from the top
        raise ValueError("rtl/core.v: every parameter must read 'parameter integer NAME = ...', one per line")
    ports = [line for line in head["ports"].splitlines() if not re.search(r"\bclk\s*,", line)]
    if len(ports) == len(head["ports"].splitlines()):
        raise ValueError("rtl/core.v: no clk port in its header")
    width = re.search(r"reg\s+\[(\w+)-1:0\]\s+assert_fired;", text)
    if not width:
        raise ValueError("rtl/core.v: no 'reg [N-1:0] assert_fired;'")
    n_inv = re.search(rf"localparam\s+integer\s+{width[1]}\s*=\s*(\d+);", text)
    if not n_inv:
        raise ValueError(f"rtl/core.v: no 'localparam integer {width[1]} = <number>;' for assert_fired's width")
    overrides = ", ".join(f".{p}({p})" for p in params)
    host_io = _HOST_IO     # the widths of the ports it drives or logs, as the header declares them ($bits of a
    for port in ("act_wr_data", "wgt_wr_data", "cmd_data"):     # port in a localparam is 1 under Icarus 11)
        w = re.search(rf"^\s*input\s+wire\s+\[(.+?)-1:0\]\s+{port}\b", head["ports"], re.M)
        if not w:
            raise ValueError(f"rtl/core.v: no 'input wire [W-1:0] {port}' in its header")
        host_io = host_io.replace(f"<{port}>", f"({w[1]})")
    ports[-1] += ","
    return (f"// generated by accel_tb.design.core_ports.clocked_top_text() from rtl/core.v: do not edit\n"
            f"`include \"fields.vh\"\n"
            f"module {CLOCKED_TOP} #({head['params']}) ({chr(10).join(ports)}\n{HOST_IO_PORTS});\n"
            f"    reg clk = 1'b0;\n"
            f"    always #{HALF_PERIOD_NS} clk = ~clk;\n"
            f"    wire [{n_inv[1]}-1:0] assert_fired = u.assert_fired;\n"
            f"    core #({overrides}) u (.*, {HOST_IO_CONNECT});\n"
            f"{host_io}"
            f"endmodule\n")


def clocked_top_source() -> Path:
    """CLOCKED_TOP's file in the build folder (runner.generated_file)."""
    from accel_tb.design.runner import BUILD, generated_file  # noqa: PLC0415
    return generated_file(BUILD / CLOCKED_TOP / f"{CLOCKED_TOP}.v", clocked_top_text())


# simulated cycles from which a network run takes the -O2 model (runner.build's long_run): measured on the whole
# network's 8x8 core (2026-12-06, Intel Xeon AVX-512, compiler cache empty, Verilator's runtime included) the
# quick model compiles in 19.9 CPU-seconds against 23.1 and simulates one image (3.46 M cycles) in 19.6 s against
# 7.1 (177 k against 487 k cycles/s): the 3.2 s its compile saves are worth about 0.9 M cycles of the slower run
# (layers 27 and 29: about 10 k cycles an image)
LONG_RUN_CYCLES = 1_000_000
# simulated cycles from which a network run takes the profile-guided model (runner.ProfileRun). Measured on the
# 8x8 whole-network model (2-core Intel Xeon, AVX-512; docs/network.md#simulation-speed): its build takes 55.7 s
# against 22.8 s for the -O2 one with the compiler cache cold, 52.5 s against 6.8 s with the -O2 model's objects
# cached (the profile's stages go past the cache), i.e. 32.9-45.7 s more, and it simulates about 0.58 us less
# per cycle (about 400 k -> 520 k cycles/s): 57-79 M cycles to break even, about twenty images. A model once
# built is reused by every later run of the same core, shorter ones too (profile_guided).
PGO_RUN_CYCLES = 70_000_000
# the training run: the last layers of the run (on the whole network features[36] and [39]: about 0.3 M
# cycles on 8x8, a few seconds), one image
TRAINING_LAYERS = 2


def network_run(long_run: bool = True, training: dict | None = None) -> dict:
    """runner.run's (and build's) arguments for the whole network on this project's core: the self-clocked top,
    only the names the network reads public, Verilator's timing support (for the clock's delay), and -O2 unless
    `long_run` is false (a few layers: see LONG_RUN_CYCLES); `training` (profile_training's configuration):
    the profile-guided model (PGO_RUN_CYCLES)."""
    from accel_tb.design.runner import CORE_SOURCES, ProfileRun, rtl_sources  # noqa: PLC0415
    train = ProfileRun("accel_tb.cocotb_tests.network", "test_network", training) if training else None
    return dict(toplevel=CLOCKED_TOP, sources=[*rtl_sources(*CORE_SOURCES), clocked_top_source()],
                public=[*public_names(), *HOST_IO_INPUTS, *HOST_IO_OUTPUTS], long_run=long_run or train is not None,
                timing=True, train=train)


def profile_training(config: dict, layers: list[int]) -> dict:
    """The profile-guided build's training run for a network run of `config` on the core of `layers` (the
    checkpoint's convs on the core, in order: accel-network passes all of them, whichever layers it runs, since
    the core is the whole network's and so is its one profile-guided model): the same run (checkpoint, dataflow,
    I/O path, data) on its first image and the last TRAINING_LAYERS layers -- the same model, the same code
    paths, a few seconds. No report is written and nothing is corrupted."""
    return {**config, "images": list(config["images"][:1]), "layers": list(layers[-TRAINING_LAYERS:]),
            "corrupt_layer": None, "report_dir": None, "plot": False}


def profile_guided(cycles: int, parameters: dict | None = None, sim: str = "verilator") -> bool:
    """Whether a network run of `cycles` simulated cycles (all images) takes the profile-guided model:
    ACCEL_PGO=0/1 decides; else PGO_RUN_CYCLES, or, for a shorter run, whether that model of this core
    (`parameters`, `sim`) is already built and trained (an earlier long run paid for its build: the shorter
    run simulates on it for nothing). Raises runner.BuildError on another ACCEL_PGO value."""
    from accel_tb.design.runner import built_profile_guided, pgo_from_env  # noqa: PLC0415
    forced = pgo_from_env()
    if forced is not None:
        return forced
    if cycles >= PGO_RUN_CYCLES:
        return True
    if parameters is None:
        return False
    spec = network_run(True)
    return built_profile_guided(spec["toplevel"], spec["sources"], parameters, sim, public=spec["public"],
                                timing=spec["timing"])
