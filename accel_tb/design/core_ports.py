"""The accelerator core's top-level names the testbench touches, and the RTL constants it reads (no cocotb
import: the CLIs use it to build)."""
import re
from functools import cache
from pathlib import Path

from accel_host.config import CoreConfig

RTL = Path(__file__).resolve().parents[2] / "rtl"

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
           "sequencer.ic", "sequencer.blk", "sequencer.a2", "sequencer.act_region")


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
    return (f"// generated by accel_tb.design.core_ports.clocked_top_text() from rtl/core.v: do not edit\n"
            f"`include \"fields.vh\"\n"
            f"module {CLOCKED_TOP} #({head['params']}) ({chr(10).join(ports)}\n);\n"
            f"    reg clk = 1'b0;\n"
            f"    always #{HALF_PERIOD_NS} clk = ~clk;\n"
            f"    wire [{n_inv[1]}-1:0] assert_fired = u.assert_fired;\n"
            f"    core #({overrides}) u (.*);\n"
            f"endmodule\n")


def clocked_top_source() -> Path:
    """CLOCKED_TOP's file in the build folder (runner.generated_file)."""
    from accel_tb.design.runner import BUILD, generated_file  # noqa: PLC0415
    return generated_file(BUILD / CLOCKED_TOP / f"{CLOCKED_TOP}.v", clocked_top_text())


# simulated cycles from which a network run takes the -O2 model (runner.build's long_run): the quick model
# compiles in about a third of the time and simulates about 3.7x slower (runner.build), so below about a
# million cycles the compile it saves outweighs the slower run (layers 27 and 29: about 10 k cycles an image)
LONG_RUN_CYCLES = 1_000_000


def network_run(long_run: bool = True) -> dict:
    """runner.run's (and build's) arguments for the whole network on this project's core: the self-clocked top,
    only the names the network reads public, Verilator's timing support (for the clock's delay), and -O2 unless
    `long_run` is false (a few layers: see LONG_RUN_CYCLES)."""
    from accel_tb.design.runner import CORE_SOURCES, rtl_sources  # noqa: PLC0415
    return dict(toplevel=CLOCKED_TOP, sources=[*rtl_sources(*CORE_SOURCES), clocked_top_source()],
                public=public_names(), long_run=long_run, timing=True)
