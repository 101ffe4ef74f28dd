"""The accelerator core's top-level names the testbench touches, and the RTL constants it reads (no cocotb
import: the CLIs use it to build)."""
import re
from functools import cache
from pathlib import Path

from accel_host.config import CoreConfig

RTL = Path(__file__).resolve().parents[2] / "rtl"

INPUTS = ("clk", "rst", "act_wr_valid", "act_wr_addr", "act_wr_data", "wgt_wr_valid", "wgt_wr_addr",
          "wgt_wr_data", "cmd_valid", "cmd_data", "out_ready")
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
WATCHED = ("issue", "q_valid", "q_ready", "q_data", "out_space_ok", "out_count", "of_valid", "inflight",
           "credits_free", "credit_ok", "sequencer.state", "sequencer.releases", "sequencer.last_os",
           "sequencer.ic", "sequencer.blk", "sequencer.a2")


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
