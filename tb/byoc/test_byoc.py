"""Verify-your-own-core: the course-skeleton core of examples/skeleton_core through its adapter, this
project's core through the same API, and the user command run from a folder outside the repository."""
from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys

import pytest

from accel_tb.design.runner import ROOT, run

EXAMPLE = ROOT / "examples" / "skeleton_core"
CHECKPOINT = str(ROOT / "checkpoints" / "vgg16_a4w4.pt")
TWO_IMAGES = {"checkpoint": CHECKPOINT, "layer": 27, "images": [0, 1], "data_dir": None}
# the 2a4w network's layer 27: 16 -> 16 on 4x4, 16 input channels on the 8 rows in 2-bit mode, two output tiles
TWO_BIT = {"checkpoint": str(ROOT / "checkpoints" / "vgg16_a2w4.pt"), "layer": 27, "images": [0], "data_dir": None}
TWO_BIT_WHAT = "vgg16_a2w4.pt features[27] (16->16, 2-bit activations on 4x4)"


def run_skeleton(sim, tmp_path, params=None, corrupt=None, expect_fail=False, layer=TWO_IMAGES):
    report = tmp_path / "report.json"
    config = {"adapter": str(EXAMPLE / "adapter.py"), "layer": layer, "corrupt": corrupt,
              "report": str(report)}
    result = run(toplevel="core", sources=sorted((EXAMPLE / "rtl").glob("*.v")), test_module="accel_tb.cocotb_tests.layer_tests",
                 parameters=params or {}, sim=sim, testcase="test_layer", config=config, includes=[],
                 expect_fail=expect_fail)
    return result, json.loads(report.read_text())


@pytest.mark.parametrize("which", ["icarus", "verilator"])
def test_skeleton_core_layer27_two_images(which, request, tmp_path):
    result, rep = run_skeleton(request.config.forced_sim or which, tmp_path)
    assert rep["relu"]["compared"] == 2 * 16 * 8 and rep["relu"]["mismatches"] == 0
    assert rep["not_provided"] == []      # psums and sums exist but this core reports outputs only
    assert any("SkeletonCore reports outputs only" in line for line in rep["summary"])


def test_skeleton_core_fails_on_a_corrupted_expectation(sim, tmp_path):
    result, rep = run_skeleton(sim, tmp_path, corrupt="relu", expect_fail=True)
    assert result["failed"] == 1 and rep["relu"]["mismatches"] == 1
    assert rep["relu"]["reports"][0].startswith(f"relu MISMATCH {rep['corrupted']}")


def test_skeleton_core_fails_without_relu(sim, tmp_path):
    """Negative: the SFU's ReLU removed (RELU_EN=0) -- negative sums leak out and are located."""
    result, rep = run_skeleton(sim, tmp_path, params={"RELU_EN": 0}, expect_fail=True)
    assert result["failed"] == 1 and rep["relu"]["mismatches"] > 0
    first = rep["relu"]["reports"][0]
    assert first.startswith("relu MISMATCH image ") and "expected 0 got -" in first


def test_skeleton_core_2bit_layer27(sim, tmp_path):
    """The Python adapter in the core's 2-bit mode: 16 channels paired on 8 rows, both output tiles."""
    result, rep = run_skeleton(sim, tmp_path, layer=TWO_BIT)
    assert rep["what"].startswith(TWO_BIT_WHAT)
    assert rep["relu"]["compared"] == 16 * 16 and rep["relu"]["mismatches"] == 0 and rep["relu"]["missing"] == 0


def test_own_core_two_images_through_the_same_api(sim, tmp_path):
    report = tmp_path / "r.json"
    from accel_host.config import CoreConfig
    from accel_tb.design.core_ports import own_core_run
    run(**own_core_run(),
        parameters=CoreConfig().parameters(), sim=sim, testcase="test_layer",
        config={"adapter": "accel", "layer": TWO_IMAGES, "report": str(report)})
    rep = json.loads(report.read_text())
    assert rep["relu"]["compared"] == 2 * 16 * 8 and rep["psum"]["compared"] == 2 * 9 * 16 * 8


def test_user_command_from_outside_the_repository(tmp_path):
    """An adapter and RTL that live outside the repository, run with the user command from their folder."""
    mine = tmp_path / "my_team"
    shutil.copytree(EXAMPLE, mine)
    r = subprocess.run([sys.executable, "-m", "accel_tb.cli.byoc", "--adapter", "adapter.py", "--rtl", "rtl/*.v",
                        "--top", "core", "--images", "2", "--sim", "icarus"], cwd=mine, capture_output=True, text=True)
    out = r.stdout.strip().splitlines()
    assert r.returncode == 0, r.stdout[-3000:] + r.stderr[-3000:]
    assert out[-1].startswith("PASS") and any(l.startswith("relu: 32/32 vectors, 256 values compared, 0 mismatches")
                                              for l in out)
    bad = subprocess.run([sys.executable, "-m", "accel_tb.cli.byoc", "--adapter", "missing.py", "--rtl", "rtl/*.v",
                          "--top", "core"], cwd=mine, capture_output=True, text=True)
    assert bad.returncode == 2 and bad.stderr.strip() == "error: --adapter missing.py: file not found"


# ---------------------------------------------------------------------------------------------- --config
def run_config(sim, tmp_path, toml: str | None = None, corrupt=None, expect_fail=False, layer=TWO_IMAGES,
               adapter=None):
    """The example core through accel_tb.env.skeleton, configured by the example's file or by `toml` (adapter: a
    SkeletonAdapter subclass's file instead, reading skeleton.toml beside it)."""
    from accel_tb.env.skeleton_config import load_config
    path = EXAMPLE / "skeleton.toml"
    if toml is not None:
        path = tmp_path / "skeleton.toml"
        path.write_text(toml)
    cfg = load_config(path)
    report = tmp_path / "report.json"
    config = {"adapter": "skeleton", "adapter_options": {"config": cfg.to_dict()}, "layer": layer,
              "corrupt": corrupt, "report": str(report)}
    if adapter is not None:
        config = {**config, "adapter": str(adapter), "adapter_options": {}}
    result = run(toplevel="core", sources=sorted((EXAMPLE / "rtl").glob("*.v")), test_module="accel_tb.cocotb_tests.layer_tests",
                 parameters={k: str(v) for k, v in cfg.params.items()}, sim=sim, testcase="test_layer",
                 config=config, includes=[], expect_fail=expect_fail)
    return result, json.loads(report.read_text())


def test_example_config_passes(sim, tmp_path):
    result, rep = run_config(sim, tmp_path)
    assert result["failed"] == 0 and rep["relu"]["compared"] == 2 * 16 * 8 and rep["relu"]["mismatches"] == 0
    assert any("skeleton.toml reports outputs only" in line for line in rep["summary"])


def test_example_config_fails_on_a_corrupted_expectation(sim, tmp_path):
    result, rep = run_config(sim, tmp_path, corrupt="relu", expect_fail=True)
    assert result["failed"] == 1 and rep["relu"]["mismatches"] == 1
    assert rep["relu"]["reports"][0].startswith(f"relu MISMATCH {rep['corrupted']}")


def test_config_with_the_wrong_relu_side_fails(sim, tmp_path):
    """Negative: the file says sfp_out shows the sums before ReLU; the core's ReLU zeroes the negative ones,
    and the first is located."""
    toml = (EXAMPLE / "skeleton.toml").read_text().replace('output = "relu"', 'output = "sum"')
    result, rep = run_config(sim, tmp_path, toml, expect_fail=True)
    assert result["failed"] == 1 and rep["sum"]["mismatches"] > 0
    first = rep["sum"]["reports"][0]
    assert first.startswith("sum MISMATCH image ") and " got 0" in first


def test_config_of_sums_before_relu_drained_by_count(sim, tmp_path):
    """A core without ReLU (RELU_EN=0) and without ofifo_valid's use: its sums compared, the OFIFO read
    after a fixed wait."""
    toml = ((EXAMPLE / "skeleton.toml").read_text().replace('output = "relu"', 'output = "sum"')
            .replace('drain = "valid"', 'drain = "count"').replace('ofifo_valid = "ofifo_valid"\n', "")
            .replace("RELU_EN = 1", "RELU_EN = 0"))
    result, rep = run_config(sim, tmp_path, toml)
    assert result["failed"] == 0 and rep["sum"]["compared"] == 2 * 16 * 8 and rep["sum"]["mismatches"] == 0


def test_example_config_2bit_passes(sim, tmp_path):
    """The 2a4w network's layer 27 through the configuration: the mode pin follows the layer's activation
    bits, every output of both output tiles compared."""
    result, rep = run_config(sim, tmp_path, layer=TWO_BIT)
    assert result["failed"] == 0 and rep["what"].startswith(TWO_BIT_WHAT)
    assert rep["relu"]["compared"] == 16 * 16 and rep["relu"]["mismatches"] == 0 and rep["relu"]["missing"] == 0


def test_example_config_2bit_fails_on_a_corrupted_expectation(sim, tmp_path):
    result, rep = run_config(sim, tmp_path, corrupt="relu", expect_fail=True, layer=TWO_BIT)
    assert result["failed"] == 1 and rep["relu"]["mismatches"] == 1
    assert rep["relu"]["reports"][0].startswith(f"relu MISMATCH {rep['corrupted']}")


# the pairing turned around (channel 2r+1 in the low half of row r's lane): what a team gets wrong
SWAPPED_PAIRS = """from pathlib import Path
from accel_tb.env.skeleton import SkeletonAdapter, load_config


class SwappedPairs(SkeletonAdapter):
    config = load_config(Path(__file__).with_name("skeleton.toml"))

    async def load_activations(self, tile):
        await super().load_activations([tile[ch ^ 1] for ch in range(len(tile))])
"""


def test_2bit_pairs_the_wrong_way_round_fail(sim, tmp_path):
    """Negative: channel 2r+1 paired low (the core multiplies the low half by channel 2r's weight): the outputs
    differ and the first is located."""
    shutil.copy(EXAMPLE / "skeleton.toml", tmp_path / "skeleton.toml")
    (tmp_path / "swapped.py").write_text(SWAPPED_PAIRS)
    result, rep = run_config(sim, tmp_path, expect_fail=True, layer=TWO_BIT, adapter=tmp_path / "swapped.py")
    assert result["failed"] == 1 and rep["relu"]["mismatches"] > 0
    assert rep["relu"]["reports"][0].startswith("relu MISMATCH image 0 oc tile ")



# A variant of the example core made here (no public code) whose PE pairs its FIRST load word with the HIGH
# activation (bits 3:2) and the second with the low one, as some teams' mac_tile.v do (b_q1 <= first word).
# The sum over a row's two channels is the same whichever way a pair is named, so mode.even_channel alone
# says it: "high" puts channel 2r in bits 3:2, next to its weight, the first kernel word of the column.
def first_word_high_variant(tmp_path):
    rtl = tmp_path / "rtl"
    shutil.copytree(EXAMPLE / "rtl", rtl)
    tile = (rtl / "mac_tile.v").read_text()
    old = ".mode(mode), .a(a_q), .b(b_q), .b1(b1_q),"
    assert old in tile
    (rtl / "mac_tile.v").write_text(tile.replace(old, ".mode(mode), .a(a_q), .b(mode ? b1_q : b_q), .b1(b_q),"))
    return sorted(rtl.glob("*.v"))


def test_2bit_first_kernel_word_paired_high_needs_even_channel_high(sim, tmp_path):
    """The first-word-high variant passes with mode.even_channel = "high"; with the default ("low") every
    channel is multiplied by its pair's weight and the first wrong output is located."""
    src = first_word_high_variant(tmp_path)
    toml = (EXAMPLE / "skeleton.toml").read_text()
    high = toml.replace("two_bit = 1 ", 'two_bit = 1\neven_channel = "high"\n', 1)
    assert 'even_channel = "high"' in high
    result, rep = run_variant(sim, tmp_path, high, src, layer=TWO_BIT)
    assert result["failed"] == 0 and rep["relu"]["compared"] == 16 * 16 and rep["relu"]["mismatches"] == 0
    result, rep = run_variant(sim, tmp_path, toml, src, layer=TWO_BIT, expect_fail=True)
    assert result["failed"] == 1 and rep["relu"]["mismatches"] > 0
    assert rep["relu"]["reports"][0].startswith("relu MISMATCH image 0 oc tile 0 (channels 0-7) output nij=")


OS_TOML = (EXAMPLE / "skeleton.toml").read_text().replace('dataflow = "ws"', 'dataflow = "os"')


def test_example_config_output_stationary_passes(sim, tmp_path):
    """The example core with os = 1: every PE sums its own output, the sums leave through the OFIFO; both
    images, every output checked."""
    assert 'dataflow = "os"' in OS_TOML
    result, rep = run_config(sim, tmp_path, OS_TOML)
    assert result["failed"] == 0 and rep["relu"]["compared"] == 2 * 16 * 8 and rep["relu"]["mismatches"] == 0
    assert rep["cycles"] < 2400        # not the weight-stationary flow (3,260 cycles for the two images)


def test_example_config_output_stationary_fails_on_a_corrupted_expectation(sim, tmp_path):
    result, rep = run_config(sim, tmp_path, OS_TOML, corrupt="relu", expect_fail=True)
    assert result["failed"] == 1 and rep["relu"]["mismatches"] == 1
    assert rep["relu"]["reports"][0].startswith(f"relu MISMATCH {rep['corrupted']}")


# the drained sums taken in row order (the OFIFO delivers the last row's first): what a team gets wrong
OS_ROWS_REVERSED = """from pathlib import Path
from accel_tb.env.skeleton import SkeletonAdapter, load_config


class RowsReversed(SkeletonAdapter):
    config = load_config(Path(__file__).with_name("skeleton.toml"))

    async def os_outputs(self, base, hw):
        got = await super().os_outputs(base, hw)
        return [(o_nij, values) for (o_nij, _), (_, values) in zip(got, reversed(got))]
"""


def test_output_stationary_rows_in_the_wrong_order_fail(sim, tmp_path):
    """Negative: the drained block's sums matched to positions in the wrong order: located mismatches."""
    (tmp_path / "skeleton.toml").write_text(OS_TOML)
    (tmp_path / "reversed.py").write_text(OS_ROWS_REVERSED)
    result, rep = run_config(sim, tmp_path, OS_TOML, expect_fail=True, adapter=tmp_path / "reversed.py")
    assert result["failed"] == 1 and rep["relu"]["mismatches"] > 0
    assert rep["relu"]["reports"][0].startswith("relu MISMATCH image 0 oc tile 0 (channels 0-7) output nij=")


# a team's top in front of the example core: its own pin names, an active-low reset, a 35-bit instruction
# whose bit 34 must be set while the outputs are read, and a version pin that must be tied to 1
TEAM_TOP = """module team_core (input CLK, input rst_n, input [34:0] Inst, input [31:0] d_xmem, input l0_version,
                  output valid, output [127:0] sfp_out);
    wire [127:0] out;
    core u (.clk(CLK), .reset(~rst_n), .mode(1'b0), .os(1'b0), .inst(Inst[33:0]), .D_xmem(d_xmem), .ofifo_valid(valid),
           .sfu_out(out));
    assign sfp_out = (Inst[34] && l0_version) ? out : 128'd0;
endmodule
"""


def _byoc(cwd, *args):
    return subprocess.run([sys.executable, "-m", "accel_tb.cli.byoc", *args], cwd=cwd, capture_output=True, text=True)


def test_init_round_trip_on_the_example_core(tmp_path):
    """accel-byoc init on the example's sources writes a configuration that passes accel-byoc --config as it is."""
    mine = tmp_path / "my_team"
    shutil.copytree(EXAMPLE / "rtl", mine / "rtl")
    r = _byoc(mine, "init", "--rtl", "rtl/*.v", "--top", "core")
    assert r.returncode == 0 and "checked: skeleton.toml agrees with core's ports" in r.stdout, r.stdout + r.stderr
    r = _byoc(mine, "--config", "skeleton.toml", "--rtl", "rtl/*.v", "--top", "core", "--sim", "icarus")
    out = r.stdout.strip().splitlines()
    assert r.returncode == 0 and out[-1].startswith("PASS"), r.stdout[-3000:] + r.stderr[-3000:]
    assert any(l.startswith("relu: 16/16 vectors, 128 values compared, 0 mismatches") for l in out)


def test_team_top_from_init_to_pass_and_a_wrong_phase_fails(tmp_path):
    """init on a top with the team's own names proposes what the ports tell and prints what they do not (the
    tie's value, bit 34); with those two said, the run passes; with bit 34 set only outside the readout
    ("run"), the outputs read 0 and the first is located."""
    mine = tmp_path / "team"
    shutil.copytree(EXAMPLE / "rtl", mine / "rtl")
    (mine / "rtl" / "team_core.v").write_text(TEAM_TOP)
    r = _byoc(mine, "init", "--rtl", "rtl/*.v", "--top", "team_core")
    assert r.returncode == 0, r.stderr
    assert "could not decide: tie.l0_version" in r.stdout and "could not decide: inst[34]" in r.stdout
    assert 'decided: reset.active = "low" from the name rst_n' in r.stdout
    text = (mine / "skeleton.toml").read_text()
    for line in ('clk = "CLK"', 'reset = "rst_n"', 'inst = "Inst"', 'D_xmem = "d_xmem"', 'ofifo_valid = "valid"',
                 'sfp_out = "sfp_out"', "width = 35", 'active = "low"', "l0_version = 0"):
        assert line in text.splitlines(), line
    good = text.replace("l0_version = 0", "l0_version = 1").replace(
        "[reset]", '[inst.extra.relu]\nbits = 34\nvalue = 1\nwhen = "readout"\n\n[reset]')
    (mine / "good.toml").write_text(good)
    (mine / "wrong.toml").write_text(good.replace('when = "readout"', 'when = "run"'))
    run_args = ("--rtl", "rtl/*.v", "--top", "team_core", "--sim", "icarus")
    r = _byoc(mine, "--config", "good.toml", *run_args)
    assert r.returncode == 0 and r.stdout.strip().splitlines()[-1].startswith("PASS"), r.stdout[-3000:] + r.stderr
    r = _byoc(mine, "--config", "wrong.toml", *run_args)
    assert r.returncode == 1, r.stdout[-3000:] + r.stderr
    assert "relu MISMATCH image 0 oc tile 0 (channels 0-7) output nij=" in r.stdout and " got 0" in r.stdout


# ------------------------------------------------------------------- the course testbench's own steps
# Variants of the example core made here from its RTL (no public code): the course ofifo.v's registered read
# (the OFIFO pops a cycle after ofifo_rd), an SFU that only reset clears and that applies ReLU on the idle
# word after the last acc (registered), and optionally one more output register (ReLU seen a word later).
ONE_IMAGE = {**TWO_IMAGES, "images": [0]}


def course_variant(tmp_path, out_reg=False, top=None):
    rtl = tmp_path / "rtl"
    shutil.copytree(EXAMPLE / "rtl", rtl)
    ofifo = (rtl / "ofifo.v").read_text()
    ofifo = ofifo.replace("    genvar i;", "    reg rd_en;\n    always @(posedge clk) rd_en <= reset ? 1'b0 : rd;\n"
                          "    genvar i;", 1).replace("if (rd && o_valid)", "if (rd_en && o_valid)")
    sfu = (rtl / "sfu.v").read_text()
    old = "else if (acc)  psum_q <= (acc_q ? psum_q : {psum_bw{1'b0}}) + x;"
    new = ("else if (acc)  psum_q <= psum_q + x;\n                else if (RELU_EN != 0 && psum_q[psum_bw-1]) "
           "psum_q <= {psum_bw{1'b0}};")
    out = "wire [psum_bw-1:0]       o = (RELU_EN != 0 && psum_q[psum_bw-1]) ? {psum_bw{1'b0}} : psum_q;"
    assert old in sfu and out in sfu and "if (rd_en && o_valid)" in ofifo
    sfu = sfu.replace(old, new).replace(out, (
        "reg [psum_bw-1:0] out_q;\n            always @(posedge clk) out_q <= psum_q;\n"
        "            wire [psum_bw-1:0] o = out_q;") if out_reg else "wire [psum_bw-1:0] o = psum_q;")
    (rtl / "ofifo.v").write_text(ofifo)
    (rtl / "sfu.v").write_text(sfu)
    if top:
        (rtl / "top.v").write_text(top)
    return sorted(rtl.glob("*.v"))


COURSE_TOML = (EXAMPLE / "skeleton.toml").read_text().replace("ofifo_latency = 0", "ofifo_latency = 1")


def run_variant(sim, tmp_path, toml, sources, params=None, expect_fail=False, top="core", layer=ONE_IMAGE):
    from accel_tb.env.skeleton_config import load_config
    path = tmp_path / "v.toml"
    path.write_text(toml)
    cfg = load_config(path)
    report = tmp_path / "report.json"
    config = {"adapter": "skeleton", "adapter_options": {"config": cfg.to_dict()}, "layer": layer,
              "report": str(report)}
    result = run(toplevel=top, sources=sources, test_module="accel_tb.cocotb_tests.layer_tests",
                 parameters={**{k: str(v) for k, v in cfg.params.items()}, **(params or {})}, sim=sim,
                 testcase="test_layer", config=config, includes=[], expect_fail=expect_fail)
    return result, json.loads(report.read_text())


def test_course_ofifo_and_sfu_pass_with_the_course_steps(sim, tmp_path):
    """The registered OFIFO read (ofifo_latency = 1) and the SFU cleared only by reset (per_output), its ReLU
    registered on the idle word: every output checked after ReLU."""
    result, rep = run_variant(sim, tmp_path, COURSE_TOML, course_variant(tmp_path))
    assert result["failed"] == 0 and rep["relu"]["compared"] == 16 * 8 and rep["relu"]["mismatches"] == 0


def test_course_ofifo_with_latency_0_fails_at_the_first_output(sim, tmp_path):
    """Negative: the pmem writes in ofifo_rd's own cycle take each word one address off: nij=0 is wrong."""
    toml = COURSE_TOML.replace("ofifo_latency = 1", "ofifo_latency = 0")
    result, rep = run_variant(sim, tmp_path, toml, course_variant(tmp_path), expect_fail=True)
    assert result["failed"] == 1 and rep["relu"]["mismatches"] > 0
    assert " output nij=0 (y=0, x=0) " in rep["relu"]["reports"][0]


def test_sfu_cleared_only_by_reset_fails_without_per_output(sim, tmp_path):
    """Negative: without the reset before each output, the SFU adds onto the last one: nij=0 right, later wrong."""
    toml = COURSE_TOML.replace("per_output = true", "per_output = false")
    result, rep = run_variant(sim, tmp_path, toml, course_variant(tmp_path), expect_fail=True)
    assert result["failed"] == 1 and rep["relu"]["mismatches"] > 0
    assert " output nij=0 " not in rep["relu"]["reports"][0]


def test_relu_registered_on_the_idle_word_is_checked(sim, tmp_path):
    """Negative: the same SFU without its ReLU (RELU_EN=0): the raw sums are sampled and refused, so the ReLU
    above was really checked (before the sampling fix these cores showed raw sums)."""
    result, rep = run_variant(sim, tmp_path, COURSE_TOML, course_variant(tmp_path), params={"RELU_EN": "0"},
                              expect_fail=True)
    assert result["failed"] == 1 and "expected 0 got -" in rep["relu"]["reports"][0]


def test_readout_wait_for_an_sfu_output_register(sim, tmp_path):
    """One more register after the ReLU: readout_wait = 1 passes, 0 samples the sum before ReLU and fails."""
    src = course_variant(tmp_path, out_reg=True)
    result, rep = run_variant(sim, tmp_path, COURSE_TOML.replace("readout_wait = 0", "readout_wait = 1"), src)
    assert result["failed"] == 0 and rep["relu"]["mismatches"] == 0 and rep["relu"]["compared"] == 16 * 8
    result, rep = run_variant(sim, tmp_path, COURSE_TOML, src, expect_fail=True)
    assert result["failed"] == 1 and "expected 0 got -" in rep["relu"]["reports"][0]


# the valid a bit of a status bus, and the valid port itself left undriven (Z) or stuck low
STATUS_TOP = """module vtop (input clk, input reset, input mode, input os, input [33:0] inst, input [31:0] D_xmem,
             output ofifo_valid, output stuck, output [4:0] sigs, output [127:0] sfu_out);
    wire v;
    core u (.clk(clk), .reset(reset), .mode(mode), .os(os), .inst(inst), .D_xmem(D_xmem), .ofifo_valid(v),
            .sfu_out(sfu_out));
    assign sigs = {v, 4'b0000};
    assign stuck = 1'b0;
endmodule
"""


def test_valid_as_a_bit_of_a_bus_and_an_undriven_valid_named(sim, tmp_path):
    src = course_variant(tmp_path, top=STATUS_TOP)
    toml = COURSE_TOML.replace('ofifo_valid = "ofifo_valid"', 'ofifo_valid = "sigs[4]"')
    result, rep = run_variant(sim, tmp_path, toml, src, top="vtop")
    assert result["failed"] == 0 and rep["relu"]["mismatches"] == 0 and rep["relu"]["compared"] == 16 * 8
    result, rep = run_variant(sim, tmp_path, COURSE_TOML, src, top="vtop", expect_fail=True)
    why = rep["adapter_stopped"] if "adapter_stopped" in rep else " ".join(rep["summary"])
    assert "pins.ofifo_valid `ofifo_valid` is Z at cycle " in why and "the top does not drive it" in why, why
    assert "Cannot convert" not in why


def test_a_valid_stuck_low_times_out_naming_the_drain(sim, tmp_path):
    src = course_variant(tmp_path, top=STATUS_TOP)
    toml = COURSE_TOML.replace('ofifo_valid = "ofifo_valid"', 'ofifo_valid = "stuck"')
    result, rep = run_variant(sim, tmp_path, toml, src, top="vtop", expect_fail=True)
    text = " ".join(rep["summary"])
    assert "the layer did not end within" in text
    assert "the adapter was in drain (kernel position 0): 0 of 36 words moved to pmem" in text
    assert "for pins.ofifo_valid `stuck` to go high" in text
    # nothing at all came out: the reset's polarity is named as a cause (a probe's wrong reset.active timed out so)
    assert 'nothing came out at all: is reset.active right ("high" now' in text


# the course's depth-16 FIFOs (fifo_depth16.v: the L0 rows and the OFIFO columns) hold fewer words than layer
# 27's 36 positions: a core built on them is driven as its core_tb.v does, L0 written and the OFIFO read while
# the array executes (flow.drain = "stream"; Yr-Nemsis/ECE284_Project's core is one, docs/public_cores.md)
def shallow_fifos(src):
    rtl = src[0].parent
    edits = {"fifo_reg.v": [("mem[wptr] <= in", "mem[wptr[3:0]] <= in"), ("out  <= mem[rptr]", "out  <= mem[rptr[3:0]]")],
             "l0.v": [(".depth(64)", ".depth(16)")],
             "ofifo.v": [("mem [0:63]", "mem [0:15]"), ("[5:0]]", "[3:0]]"), ("reg [6:0]", "reg [4:0]"), ("7'd", "5'd")]}
    for name, pairs in edits.items():
        text = (rtl / name).read_text()
        for old, new in pairs:
            assert old in text, (name, old)
            text = text.replace(old, new)
        (rtl / name).write_text(text)
    return src


def test_depth_16_fifos_pass_streamed_and_fail_otherwise(sim, tmp_path):
    src = shallow_fifos(course_variant(tmp_path))
    stream = COURSE_TOML.replace('drain = "valid"', 'drain = "stream"\ndrain_wait = 16')
    result, rep = run_variant(sim, tmp_path, stream, src)
    assert result["failed"] == 0 and rep["relu"]["compared"] == 16 * 8 and rep["relu"]["mismatches"] == 0
    # negatives: loaded and drained after the run (the default flow), the FIFOs overrun and the drain waits for
    # words that were lost (as Yr-Nemsis's core did); the reads a cycle early (valid low as word 0 pops: one
    # line); too late (the OFIFO overruns before the reads keep up: located mismatches)
    result, rep = run_variant(sim, tmp_path, COURSE_TOML, src, expect_fail=True)
    text = " ".join(rep["summary"])
    assert result["failed"] == 1 and "the adapter was in drain (kernel position 0): " in text, text
    result, rep = run_variant(sim, tmp_path, stream.replace("drain_wait = 16", "drain_wait = 15"), src,
                              expect_fail=True)
    assert result["failed"] == 1 and re.search(
        r'flow.drain = "stream" \(kernel position 0\): pins.ofifo_valid `ofifo_valid` is low at cycle \d+, where '
        r"word 0 of 36 pops: the reads start 15 cycles after the first execute word", rep["adapter_stopped"])
    result, rep = run_variant(sim, tmp_path, stream.replace("drain_wait = 16", "drain_wait = 28"), src,
                              expect_fail=True)
    assert result["failed"] == 1 and rep["relu"]["mismatches"] > 0
    # a cycle early without pins.ofifo_valid written out (not read then): located mismatches, not a pass
    unnamed = stream.replace('ofifo_valid = "ofifo_valid"\n', "", 1).replace("drain_wait = 16", "drain_wait = 15")
    assert not any(line.startswith("ofifo_valid") for line in unnamed.splitlines())
    result, rep = run_variant(sim, tmp_path, unnamed, src, expect_fail=True)
    assert result["failed"] == 1 and rep["relu"]["mismatches"] > 0 and "adapter_stopped" not in rep


# a ReLU strobe on the IFIFO's bit (inst[5]: Yr-Nemsis/ECE284_Project's SFP applies ReLU on it, one word after
# the last acc): the course variant's SFU with its registered ReLU taken on that bit instead of always
def relu_strobe(src):
    rtl = src[0].parent
    sfu, corelet = (rtl / "sfu.v").read_text(), (rtl / "corelet.v").read_text()
    for text, old in ((sfu, "    input                      acc,\n"), (sfu, "else if (RELU_EN != 0 && psum_q[psum_bw-1])"),
                      (corelet, ".acc(acc), .in(sfu_in)")):
        assert old in text, old
    (rtl / "sfu.v").write_text(sfu.replace("    input                      acc,\n", "    input                      acc,\n"
                                           "    input                      relu,\n")
                               .replace("else if (RELU_EN != 0 && psum_q[psum_bw-1])", "else if (relu && psum_q[psum_bw-1])"))
    (rtl / "corelet.v").write_text(corelet.replace(".acc(acc), .in(sfu_in)", ".acc(acc), .relu(inst[5]), .in(sfu_in)"))
    return src


def test_a_relu_strobe_on_the_ififo_bit_of_a_core_without_one(sim, tmp_path):
    """inst.fields.ififo_wr = "none" frees bit 5 for [inst.extra.relu] (weight-stationary: the os pin tied 0):
    the outputs after ReLU pass; without the strobe the SFU shows the raw sums, refused."""
    src = relu_strobe(course_variant(tmp_path))
    base = COURSE_TOML.replace('os = "os"', "", 1) + '\n[inst.fields]\nififo_wr = "none"\n\n[tie]\nos = 0\n'
    strobe = base + '\n[inst.extra.relu]\nbits = 5\nvalue = 1\nwhen = "after_acc"\n'
    result, rep = run_variant(sim, tmp_path, strobe, src)
    assert result["failed"] == 0 and rep["relu"]["compared"] == 16 * 8 and rep["relu"]["mismatches"] == 0
    result, rep = run_variant(sim, tmp_path, base, src, expect_fail=True)
    assert result["failed"] == 1 and "expected 0 got -" in rep["relu"]["reports"][0]


# an activation memory read combinationally (Q shows memory[A] in the read's own cycle, as DingyeC/
# ece284_Final_Project's sram_32b_w2048.v does; the course SRAM registers the address): flow.xmem_latency = 0
def comb_xmem(src):
    rtl = src[0].parent
    core = (rtl / "core.v").read_text()
    assert "    sram #(.width(bw*row), .depth(2048)) xmem (" in core
    (rtl / "core.v").write_text(core.replace("    sram #(.width(bw*row), .depth(2048)) xmem (",
                                             "    sram_comb #(.width(bw*row), .depth(2048)) xmem ("))
    (rtl / "sram_comb.v").write_text(
        "module sram_comb #(parameter width = 32, parameter depth = 2048) (input CLK, input [width-1:0] D,\n"
        "    output [width-1:0] Q, input CEN, input WEN, input [$clog2(depth)-1:0] A);\n"
        "    reg [width-1:0] memory [0:depth-1];\n"
        "    assign Q = (!CEN && WEN) ? memory[A] : {width{1'b0}};\n"
        "    always @(posedge CLK) if (!CEN && !WEN) memory[A] <= D;\nendmodule\n")
    return sorted(rtl.glob("*.v"))


def test_an_xmem_read_combinationally_passes_with_latency_0_and_fails_without(sim, tmp_path):
    src = comb_xmem(course_variant(tmp_path))
    comb = COURSE_TOML.replace("ofifo_latency = 1", "ofifo_latency = 1\nxmem_latency = 0")
    result, rep = run_variant(sim, tmp_path, comb, src)
    assert result["failed"] == 0 and rep["relu"]["compared"] == 16 * 8 and rep["relu"]["mismatches"] == 0
    result, rep = run_variant(sim, tmp_path, COURSE_TOML, src, expect_fail=True)     # negative: the default 1
    assert result["failed"] == 1 and rep["relu"]["mismatches"] > 0
    # streamed, too (each word into L0 in its read's cycle, execute a cycle after)
    stream = comb.replace('drain = "valid"', 'drain = "stream"\ndrain_wait = 16')
    result, rep = run_variant(sim, tmp_path, stream, shallow_fifos(src))
    assert result["failed"] == 0 and rep["relu"]["compared"] == 16 * 8 and rep["relu"]["mismatches"] == 0


def test_init_reads_a_combinational_xmem_and_its_file_passes(tmp_path):
    """accel-byoc init on the course variant with a combinational activation memory: xmem_latency = 0 decided
    from the memory's source and written, and the file passes as it is (the default 1 fails: above)."""
    mine = tmp_path / "team"
    src = comb_xmem(course_variant(mine))
    r = _byoc(mine, "init", "--rtl", "rtl/*.v", "--top", "core")
    assert r.returncode == 0, r.stdout + r.stderr
    assert "decided: flow.xmem_latency = 0 from sram_comb.v: module sram_comb (the memory core writes D_xmem into) " \
           "reads combinationally" in r.stdout, r.stdout
    assert "xmem_latency = 0" in (mine / "skeleton.toml").read_text().splitlines() and "fifo_depth" not in r.stdout
    r = _byoc(mine, "--config", "skeleton.toml", "--rtl", *map(str, src), "--top", "core", "--sim", "icarus")
    out = r.stdout.strip().splitlines()
    assert r.returncode == 0 and out[-1].startswith("PASS"), r.stdout[-3000:] + r.stderr[-3000:]
    assert any(l.startswith("relu: 16/16 vectors, 128 values compared, 0 mismatches") for l in out)


# a port declared outside the port list (as several public course tops declare `output l0_valid;`): Icarus takes
# it, Verilator's and Yosys's descriptions refuse it
LOOSE_PORT_TOP = """module ltop (clk, reset, mode, os, inst, D_xmem, ofifo_valid, sfu_out);
    input clk, reset, mode, os;
    input [33:0] inst;
    input [31:0] D_xmem;
    output ofifo_valid;
    output [127:0] sfu_out;
    output l0_valid;
    core u (.clk(clk), .reset(reset), .mode(mode), .os(os), .inst(inst), .D_xmem(D_xmem),
            .ofifo_valid(ofifo_valid), .sfu_out(sfu_out));
endmodule
"""


def test_a_top_only_icarus_describes_is_checked_before_the_build(tmp_path):
    """--sim icarus on a top Verilator and Yosys cannot describe: Icarus's description checks the file before the
    build (a wrong pin, an `inst` wider than the port: one line, exit 2; both once went into the run, the
    second passing), and the right file runs and passes."""
    if not shutil.which("iverilog"):
        pytest.fail("iverilog not on PATH: this test needs it (make setup)")
    mine = tmp_path / "team"
    mine.mkdir()
    course_variant(mine, top=LOOSE_PORT_TOP)
    toml = COURSE_TOML.replace("RELU_EN = 1", "")       # ltop has no parameters
    args = ("--rtl", "rtl/*.v", "--top", "ltop", "--sim", "icarus", "--images", "1")
    for name, text, line in [
            ("pin.toml", toml.replace('ofifo_valid = "ofifo_valid"', 'ofifo_valid = "valid_o"'),
             "pins.ofifo_valid: the top module ltop has no port 'valid_o'"),
            ("wide.toml", toml.replace("width = 34", "width = 35"),
             "pins.inst: inst is 34 bits wide in ltop, the config gives 35 (inst.width)")]:
        assert text != toml
        (mine / name).write_text(text)
        r = _byoc(mine, "--config", name, *args)
        assert r.returncode == 2 and line in r.stderr and "Traceback" not in r.stderr, r.stdout[-3000:] + r.stderr
        assert not r.stdout.strip(), r.stdout[-3000:]           # refused before any simulation
    (mine / "c.toml").write_text(toml)
    r = _byoc(mine, "--config", "c.toml", *args)
    assert "not checked" not in r.stderr, r.stderr
    assert r.returncode == 0 and r.stdout.strip().splitlines()[-1].startswith("PASS"), r.stdout[-3000:] + r.stderr


def test_pins_not_described_are_checked_at_start(tmp_path):
    """The adapter's own check at start() (the run's path when no tool on PATH described the top; here the
    library's, which skips the command's check): a width, a tie of a port the top lacks and a tie too wide are
    each one line naming the key, the run failed, no traceback."""
    src = course_variant(tmp_path)
    for toml, line in [(COURSE_TOML.replace("width = 34", "width = 35"),
                        "pins.inst: inst is 34 bits wide in core, the config gives 35 (inst.width)"),
                       (COURSE_TOML + "\n[tie]\nl0_version = 1\n", "tie.l0_version: the top module core has no port 'l0_version'"),
                       (COURSE_TOML.replace('os = "os"', "", 1) + "\n[tie]\nos = 2\n", "tie.os: 2 does not fit the 1-bit port")]:
        assert toml != COURSE_TOML
        _, rep = run_variant("icarus", tmp_path, toml, src, expect_fail=True)
        text = " ".join(rep["summary"])
        assert line in text and "Traceback" not in text, text


# ---------------------------------------------------------------------------- the adapter API's hooks
# Adapters written here, next to a copy of the example's adapter.py: each imports it and changes one thing.
_IMPORT_EXAMPLE = '''import importlib.util
from pathlib import Path
import dataclasses

from accel_tb.helpers import unpack_lanes

_spec = importlib.util.spec_from_file_location("team_adapter", Path(__file__).with_name("adapter.py"))
_mod = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(_mod)
'''
# a psum port seen from the hooks: the OFIFO word written into pmem, reported with report_psum (hook flow,
# no run_layer of its own); the core has no sum port, so it declares the kinds it reports
PSUM_ADAPTER = _IMPORT_EXAMPLE + '''

class PsumCore(_mod.SkeletonCore):
    geometry = dataclasses.replace(_mod.SkeletonCore.geometry, psum_monitor=True)
    reports = ("psum", "relu")

    async def step(self, data=0, **fields):
        await super().step(data, **fields)
        if fields.get("ofifo_rd") and fields.get("CEN_pmem") == 0:
            # read right after the step: the word pmem took at that step's edge (helpers: when to sample)
            self.report_psum(fields["A_pmem"] % self.layer.positions,
                             unpack_lanes(self.dut.ofifo_out.value, 8, 16, signed=True))
'''
# an adapter that takes int() of a signal holding X (the X-writing adapter of the bad-input table underneath)
INT_X_ADAPTER = '''

class IntOfX(XInputCore):
    async def outputs(self):
        n, results = self.layer.positions, []
        for o_nij in range(self.layer.outputs):
            addrs = [k * n + self.layer.padded[o_nij][k] for k in range(9)]
            for t in range(10):
                await self.step(CEN_pmem=0 if t < 9 else 1, A_pmem=addrs[min(t, 8)], acc=int(t > 0))
            await self.step()
            word = int(self.dut.sfu_out.value)          # the naive read: a ValueError on X
            results.append((o_nij, _mod.unpack_lanes(word, 8, 16, signed=True)))
        return results
'''


def run_team_adapter(sim, tmp_path, name, text, corrupt=None, expect_fail=False, layer=ONE_IMAGE, cls=""):
    mine = tmp_path / f"my_team_{name.removesuffix('.py')}_{corrupt}"
    shutil.copytree(EXAMPLE, mine)
    (mine / name).write_text(text)
    report = tmp_path / "report.json"
    config = {"adapter": str(mine / name) + (f":{cls}" if cls else ""), "layer": layer, "corrupt": corrupt, "report": str(report)}
    result = run(toplevel="core", sources=sorted((mine / "rtl").glob("*.v")), test_module="accel_tb.cocotb_tests.layer_tests",
                 sim=sim, testcase="test_layer", config=config, includes=[], expect_fail=expect_fail)
    return result, json.loads(report.read_text())


def test_psums_reported_from_the_hooks(sim, tmp_path):
    """A hook-based adapter reports psums (report_psum) besides outputs: every psum checked, and a corrupted
    psum expectation fails located at its kernel and padded position."""
    result, rep = run_team_adapter(sim, tmp_path, "psum_adapter.py", PSUM_ADAPTER)
    assert rep["psum"]["compared"] == 9 * 36 * 8 and rep["psum"]["mismatches"] == 0 and rep["psum"]["missing"] == 0
    assert rep["relu"]["compared"] == 16 * 8 and rep["relu"]["mismatches"] == 0
    assert rep["not_checked"] == {"sum": "PsumCore reports psum, relu only (its `reports`)"}
    result, rep = run_team_adapter(sim, tmp_path, "psum_adapter.py", PSUM_ADAPTER, corrupt="psum", expect_fail=True)
    assert result["failed"] == 1 and rep["psum"]["mismatches"] == 1
    assert rep["psum"]["reports"][0].startswith(f"psum MISMATCH {rep['corrupted']}") and " at cycle " in rep["psum"]["reports"][0]


@pytest.mark.prefer("icarus")
def test_x_on_an_output_is_a_located_mismatch_with_its_cycle(tmp_path):
    """Icarus (4 states): one activation word written as X; the outputs it feeds are mismatches naming the
    value X/Z, the output position, the lane and the cycle, never a traceback."""
    from accel_tb.cli.badinput import X_ADAPTER
    result, rep = run_team_adapter("icarus", tmp_path, "x_adapter.py", X_ADAPTER, expect_fail=True)
    first = rep["relu"]["reports"][0]
    assert re.fullmatch(r"relu MISMATCH image 0 oc tile 0 \(channels 0-7\) output nij=\d+ \(y=\d, x=\d\) col=\d: "
                        r"expected -?\d+ got X/Z value [X01Z]*X[X01Z]* read at cycle \d+", first), first
    assert "adapter_stopped" not in rep and rep["relu"]["missing"] == 0
    result, rep = run_team_adapter("icarus", tmp_path, "x_int_adapter.py", X_ADAPTER + INT_X_ADAPTER, expect_fail=True,
                                   cls="IntOfX")
    assert re.fullmatch(r"the adapter read a signal holding X or Z at cycle \d+ \(.*non-0/1.*\); read outputs with "
                        r"accel_tb.helpers.unpack_lanes\(signal.value, ...\) to have each X/Z lane located",
                        rep["adapter_stopped"]), rep["adapter_stopped"]
