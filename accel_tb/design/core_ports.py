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


@cache
def rtl_states(module: str = "sequencer") -> dict[str, int]:
    """The state encoding of an RTL module, read from its `localparam [..] S_X = N'dV, ...` (the tests that
    watch the sequencer's state use these names, not copies of the numbers)."""
    text = (RTL / f"{module}.v").read_text()
    states = {name: int(val) for name, val in re.findall(r"\b(S_[A-Z0-9_]+)\s*=\s*\d+'d(\d+)", text)}
    if not states:
        raise ValueError(f"rtl/{module}.v: no S_* state localparams found")
    return states
