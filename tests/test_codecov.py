"""`make codecov` (accel_tb.quality.codecov): the coverage-data parser, the waivers, the command's report and exit
statuses, and one real Verilator coverage build (accel_tb.design.runner with ACCEL_CODECOV)."""
from __future__ import annotations

import json
import re
import subprocess
import sys
import textwrap

import pytest

from accel_tb.design import runner
from accel_tb.design.runner import ROOT
from accel_tb.quality.codecov import CodecovError, classify, load_waivers, parse_dat, rtl_points

FIFO = ROOT / "rtl" / "fifo.v"


def point(file, line, col, page, comment, count, hier="fifo", span=None):
    """One line of a Verilator coverage file (SystemC::Coverage-3): \\x01key\\x02value pairs in quotes."""
    keys = [("f", str(file)), ("l", str(line)), ("n", str(col)), ("t", page.split("_")[1].split("/")[0]),
            ("page", page), ("o", comment)] + ([("S", span)] if span else []) + [("h", hier)]
    return "C '" + "".join(f"\x01{k}\x02{v}" for k, v in keys) + f"' {count}\n"


# a tiny file in the real format, on real lines of rtl/fifo.v: line 41 `if (pop) rd_ptr <= ...` taken and
# not taken, line 28's expression with a quote in its term (32'sh1) never true, a bit of `count` that never fell
TINY = "# SystemC::Coverage-3\n" + "".join([
    point(FIFO, 41, 13, "v_branch/fifo", "if", 1021, span="41"),
    point(FIFO, 41, 14, "v_branch/fifo", "else", 0),
    point(FIFO, 31, 5, "v_line/fifo", "block", 3003, span="31"),
    point(FIFO, 28, 47, "v_expr/fifo", "((DEPTH == 32'sh1)==1) => 1", 0),
    point(FIFO, 15, 37, "v_toggle/fifo", "count[1]:0->1", 4),
    point(FIFO, 15, 37, "v_toggle/fifo", "count[1]:1->0", 0),
    # the same point in a parametrized copy of the module (another page name): one source point, counts summed
    point(FIFO, 31, 5, "v_line/fifo__W10", "block", 7, hier="core.u_fifo"),
    # a test's temporary copy of the RTL is not the design
    point("/tmp/elsewhere/fifo.v", 41, 13, "v_branch/fifo", "if", 0),
])


def test_parse_sums_duplicates_keeps_quotes_and_drops_files_outside_rtl():
    pts = parse_dat(TINY, "tiny.dat")
    assert len(pts) == 7                      # the parametrized copy merged into its source point
    rtl = {(p.line, p.kind, p.name): p for p in rtl_points(pts)}
    assert len(rtl) == 6 and all(p.file == "rtl/fifo.v" for p in rtl.values())
    assert rtl[(31, "line", "block")].count == 3010
    assert rtl[(41, "branch", "if")].count == 1021 and rtl[(41, "branch", "else")].count == 0
    assert rtl[(28, "expr", "((DEPTH == 32'sh1)==1) => 1")].count == 0
    assert rtl[(15, "toggle", "count[1]:1->0")].signal == "count[1]"


@pytest.mark.parametrize("bad", ["C 'no count'\n", "X something 3\n", "C '\x01f\x02rtl/fifo.v\x01n\x023' 4\n"])
def test_parse_refuses_a_line_that_is_no_point(bad):
    with pytest.raises(CodecovError, match=r"^tiny.dat:2: "):
        parse_dat("# SystemC::Coverage-3\n" + bad, "tiny.dat")


def _no_waivers(tmp_path):
    """A waivers file with no waiver (a --waivers path that is not there is an error)."""
    f = tmp_path / "none.toml"
    f.write_text("# no waivers\n")
    return f


def _waivers(tmp_path, text):
    """A waivers file; a line, branch or expr waiver without `source` gets its line's text (required since a
    probe: the tests of other rules give what any waiver must)."""
    blocks = textwrap.dedent(text).split("[[waiver]]")
    for i, b in enumerate(blocks[1:], 1):
        f, k, n = (re.search(rf'^{key} = "?([^"\n]+)"?$', b, re.M) for key in ("file", "kind", "line"))
        if "source" not in b and f and k and k[1] != "toggle" and n and n[1].isdigit() and (ROOT / f[1]).is_file():
            src = (ROOT / f[1]).read_text().splitlines()[int(n[1]) - 1].strip()
            blocks[i] = b.rstrip("\n") + f"\nsource = {json.dumps(src)}\n"
    f = tmp_path / "w.toml"
    f.write_text("[[waiver]]".join(blocks))
    return f


def test_waivers_split_covered_waived_and_uncovered(tmp_path):
    w = load_waivers(_waivers(tmp_path, """
        [[waiver]]
        file = "rtl/fifo.v"
        kind = "expr"
        line = 28
        reason = "DEPTH == 1 is a parameter"
        [[waiver]]
        file = "rtl/fifo.v"
        kind = "toggle"
        signal = "count"
        reason = "a bit of the count"
        """))
    c = classify(rtl_points(parse_dat(TINY)), w)
    fifo = c["files"]["rtl/fifo.v"]
    assert fifo["expr"] == {"covered": 0, "waived": 1, "uncovered": 0}
    assert fifo["toggle"] == {"covered": 1, "waived": 1, "uncovered": 0}
    assert fifo["branch"] == {"covered": 1, "waived": 0, "uncovered": 1}     # no waiver: a gap
    assert [(p.line, p.name) for p in c["uncovered"]] == [(41, "else")]
    # without the waivers the same points are gaps
    c = classify(rtl_points(parse_dat(TINY)), [])
    assert sorted((p.line, p.kind) for p in c["uncovered"]) == [(15, "toggle"), (28, "expr"), (41, "branch")]


def test_toggle_waiver_bit_ranges_and_scope_wildcards():
    """A toggle waiver names a signal, one bit, a bit range or a wildcard generate scope, and nothing more: the
    negatives are the bits just outside a range, other scopes and other signals."""
    from accel_tb.quality.codecov import signal_matches
    assert signal_matches("addr", "addr[3]") and signal_matches("addr", "addr") and not signal_matches("addr", "addr2[3]")
    assert signal_matches("addr[3]", "addr[3]") and not signal_matches("addr[3]", "addr[4]")
    assert signal_matches("addr[15:10]", "addr[10]") and signal_matches("addr[15:10]", "addr[15]")
    assert not signal_matches("addr[15:10]", "addr[9]") and not signal_matches("addr[15:10]", "addr[16]")
    assert not signal_matches("addr[15:10]", "addr")
    p = "g_row[0].g_col[*].p_i[23:8]"
    assert signal_matches(p, "g_row[0].g_col[7].p_i[8]") and signal_matches(p, "g_row[0].g_col[12].p_i[23]")
    assert not signal_matches(p, "g_row[1].g_col[7].p_i[8]") and not signal_matches(p, "g_row[0].g_col[7].p_i[7]")
    assert not signal_matches(p, "g_row[0].g_col[7].a_i[8]")
    assert signal_matches("g_row[15].g_col[*].uv_i", "g_row[15].g_col[3].uv_i")
    assert not signal_matches("g_row[15].g_col[*].uv_i", "g_row[14].g_col[3].uv_i")
    assert signal_matches("g_tok[8:15].payload[7:4]", "g_tok[8].payload[4]")
    assert signal_matches("g_tok[8:15].payload[7:4]", "g_tok[15].payload[7]")
    assert not signal_matches("g_tok[8:15].payload[7:4]", "g_tok[7].payload[4]")
    assert not signal_matches("g_tok[8:15].payload[7:4]", "g_tok[16].payload[4]")
    assert not signal_matches("g_tok[8:15].payload[7:4]", "g_tok[9].payload[8]")
    assert signal_matches("g_row[15].g_col[1:2].uv_i", "g_row[15].g_col[2].uv_i")
    assert not signal_matches("g_row[15].g_col[1:2].uv_i", "g_row[15].g_col[3].uv_i")


@pytest.mark.parametrize("entry", [
    'kind = "branch"\nline = 29',               # a line with no branch point
    'kind = "toggle"\nsignal = "counter"',      # names no signal (count is not counter)
    'kind = "line"\nline = 41',                 # line 41 has branch points, no line point
])
def test_stale_waiver_is_refused(tmp_path, entry):
    w = load_waivers(_waivers(tmp_path, f'[[waiver]]\nfile = "rtl/fifo.v"\n{entry}\nreason = "r"\n'))
    with pytest.raises(CodecovError, match="matches no coverage point .stale waiver"):
        classify(rtl_points(parse_dat(TINY)), w, "w.toml")


def test_waiver_of_a_file_the_run_did_not_simulate_is_not_judged(tmp_path):
    w = load_waivers(_waivers(tmp_path, '[[waiver]]\nfile = "rtl/mac.v"\nkind = "line"\nline = 1\nreason = "r"\n'))
    c = classify(rtl_points(parse_dat(TINY)), w)
    assert c["not_judged"] == w


MALFORMED = [
    ('[[waiver]]\nfile = "rtl/fifo.v"\nkind = "line"\nline = 28\n', "waiver 1: reason: missing"),
    # a line's waiver pins its line by text (an optional source, or source = "t", held for any line: a probe)
    ('[[waiver]]\nfile = "rtl/fifo.v"\nkind = "line"\nline = 28\nreason = "r"\n', "waiver 1: source: missing"),
    ('[[waiver]]\nfile = "rtl/fifo.v"\nkind = "line"\nline = 28\nsource = "p"\nreason = "r"\n',
     "waiver 1: source: 'p' is too short to pin line 28"),
    ('[[waiver]]\nfile = "rtl/fifo.v"\nkind = "lines"\nline = 28\nreason = "r"\n', "waiver 1: kind: must be one of"),
    ('[[waiver]]\nfile = "rtl/fifo.v"\nkind = "line"\nline = 9999\nreason = "r"\n', "waiver 1: line: must be a line of"),
    ('[[waiver]]\nfile = "rtl/fifo.v"\nkind = "line"\nline = "28"\nreason = "r"\n', "waiver 1: line: must be a line"),
    ('[[waiver]]\nfile = "rtl/nosuch.v"\nkind = "line"\nline = 2\nreason = "r"\n', "waiver 1: file: 'rtl/nosuch.v'"),
    ('[[waiver]]\nfile = "rtl/fifo.v"\nkind = "toggle"\nline = 2\nsignal = "count"\nreason = "r"\n',
     "waiver 1: line: not a field of a toggle waiver"),
    ('[[waiver]]\nfile = "rtl/fifo.v"\nkind = "line"\nline = 28\nreason = " "\n', "waiver 1: reason: must say why"),
    ('[[waiver]]\nfile = "rtl/fifo.v"\nkind = "toggle"\nsignal = "count[1:3]"\nreason = "r"\n',
     "waiver 1: signal: 'count[1:3]': a bit range is [high:low]"),
    ('[[waiver]\nfile = 1\n', "not TOML"),
    ('[[waivers]]\nfile = "rtl/fifo.v"\n', "unknown table 'waivers'"),
]


def _codecov(tmp_path, *args, dat=TINY):
    out = tmp_path / "out"
    (out / "dat").mkdir(parents=True, exist_ok=True)
    if dat is not None:
        (out / "dat" / "run1.dat").write_text(dat)
    return subprocess.run([sys.executable, "-m", "accel_tb.quality.codecov", "--no-run", "--out", str(out), *args],
                          cwd=ROOT, capture_output=True, text=True), out


@pytest.mark.parametrize("text,needle", MALFORMED)
def test_malformed_waivers_file_is_one_line_naming_file_and_field(tmp_path, one_line_error, text, needle):
    f = tmp_path / "bad.toml"
    f.write_text(text)
    r, _ = _codecov(tmp_path, "--waivers", str(f))
    one_line_error(r, str(f), needle)


def test_stale_waiver_stops_the_command(tmp_path, one_line_error):
    f = _waivers(tmp_path, '[[waiver]]\nfile = "rtl/fifo.v"\nkind = "branch"\nline = 29\nreason = "r"\n')
    r, _ = _codecov(tmp_path, "--waivers", str(f))
    one_line_error(r, "waiver 1 (rtl/fifo.v line 29, branch)", "stale waiver")


@pytest.mark.parametrize("args,dat,needle", [
    ([], None, "holds no coverage file to read again (run without --no-run)"),
    ([], "C 'broken\n", "run1.dat"),                   # verilator_coverage refuses it, or the parser does
    (["-k", "fifo"], TINY, "--no-run runs no test"),
    (["--gaps", "-1"], TINY, "--gaps -1"),
    (["--jobs", "many"], TINY, "--jobs many"),
    (["--waivers", "nosuch.toml"], TINY, "--waivers nosuch.toml: file not found"),   # was zero waivers
    # points on sources rtl/ does not have (old data re-read by --no-run): were counted as covered
    ([], TINY.replace("rtl/fifo.v", "rtl/nosuch.v"), "a point on rtl/nosuch.v:"),
])
def test_bad_input_is_one_line(tmp_path, one_line_error, args, dat, needle):
    r, _ = _codecov(tmp_path, *args, dat=dat)
    one_line_error(r, needle)


def test_report_table_json_annotation_and_fail_on_gap(tmp_path):
    r, out = _codecov(tmp_path, "--waivers", str(_no_waivers(tmp_path)))
    assert r.returncode == 0, r.stderr
    assert "rtl/fifo.v" in r.stdout and "/tmp/elsewhere" not in r.stdout
    assert "rtl/fifo.v:41: if (pop) rd_ptr <= next_ptr(rd_ptr);    [branch else]" in r.stdout
    assert "rtl/fifo.v:15: count: count[1]:1->0" in r.stdout
    doc = json.loads((out / "codecov.json").read_text())
    assert doc["totals"]["branch"] == {"covered": 1, "waived": 0, "uncovered": 1}
    assert doc["totals"]["line"] == {"covered": 1, "waived": 0, "uncovered": 0}
    assert (out / "annotated" / "fifo.v").is_file() and (out / "merged.dat").is_file()
    # the gaps fail the command only when asked
    r, _ = _codecov(tmp_path, "--waivers", str(_no_waivers(tmp_path)), "--fail-on-gap")
    assert r.returncode == 1 and "FAIL: 3 points neither covered nor waived" in r.stdout
    # ... and every gap waived passes it
    w = _waivers(tmp_path, """
        [[waiver]]
        file = "rtl/fifo.v"
        kind = "expr"
        line = 28
        reason = "DEPTH == 1 is a parameter"
        [[waiver]]
        file = "rtl/fifo.v"
        kind = "toggle"
        signal = "count[1]"
        reason = "r"
        [[waiver]]
        file = "rtl/fifo.v"
        kind = "branch"
        line = 41
        reason = "r"
        """)
    r, _ = _codecov(tmp_path, "--waivers", str(w), "--fail-on-gap")
    assert r.returncode == 0 and "PASS: 0 points neither covered nor waived" in r.stdout, r.stdout + r.stderr


def test_coverage_build_is_its_own_model():
    args = dict(toplevel="fifo", sim="verilator", parameters={}, sources=[FIFO], includes=[], waves=False)
    normal = runner._tag(build_args=runner._verilator_args(False), **args)
    cov = runner._tag(build_args=runner._verilator_args(False, codecov=True), codecov=True, **args)
    assert cov != normal and cov.endswith("-codecov") and not normal.endswith("-codecov")
    assert set(runner.CODECOV_ARGS) <= set(runner._verilator_args(False, codecov=True))
    assert not set(runner.CODECOV_ARGS) & set(runner._verilator_args(False))


TINY_RTL = """\
module cc_tiny (input wire clk, input wire rst, input wire sel, input wire [3:0] a, output reg [3:0] y);
    always @(posedge clk) begin
        if (rst) y <= 4'd0;
        else if (sel) y <= ~a;
        else y <= a;
    end
endmodule
"""

# the cocotb test never raises sel: line 4's branch is provably never taken
TINY_TEST = """\
import cocotb
from cocotb.clock import Clock
from cocotb.triggers import RisingEdge


@cocotb.test()
async def test_tiny(dut):
    cocotb.start_soon(Clock(dut.clk, 10, unit="ns").start())
    dut.sel.value, dut.rst.value, dut.a.value = 0, 1, 0
    await RisingEdge(dut.clk)
    dut.rst.value = 0
    for v in range(16):
        dut.a.value = v
        await RisingEdge(dut.clk)
"""


def test_verilator_coverage_run_writes_its_own_file_with_hits_and_gaps(tmp_path, monkeypatch):
    """A real build and run: the coverage model writes a .dat of its own into ACCEL_CODECOV, in which the
    branch the test takes is hit and the one it never takes is not (the negative)."""
    (tmp_path / "cc_tiny.v").write_text(TINY_RTL)
    (tmp_path / "cc_tiny_test.py").write_text(TINY_TEST)
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.setattr(runner, "BUILD", tmp_path / "build")
    monkeypatch.setenv("ACCEL_CODECOV", str(tmp_path / "cov"))
    for _ in range(2):   # two runs on one model: two files, never one overwritten
        res = runner.run(toplevel="cc_tiny", sources=[tmp_path / "cc_tiny.v"], test_module="cc_tiny_test",
                         sim="verilator", includes=[])
    assert res["run_dir"].parent.parent.name.endswith("-codecov")
    dats = sorted((tmp_path / "cov").glob("cc_tiny-*.dat"))
    assert len(dats) == 2
    pts = {(p.line, p.kind, p.name): p.count for p in parse_dat(dats[0].read_text(), str(dats[0]))}
    # Verilator files each statement under the line of the `if` that selects it (v_line points here)
    assert pts[(4, "line", "else")] >= 16            # `else y <= a;`: every cycle after reset
    assert pts[(4, "line", "if")] == 0               # `else if (sel) y <= ~a;`: never
    assert pts[(3, "line", "elsif")] >= 1            # the reset
    assert pts[(1, "toggle", "sel:0->1")] == 0       # sel never rose: toggle coverage is on too
    assert pts[(1, "toggle", "a[3]:0->1")] >= 1


def test_a_selection_of_no_test_is_one_line(tmp_path, one_line_error):
    """pytest's exit 5 (nothing collected) is bad input, not an empty report; no simulation runs."""
    r = subprocess.run([sys.executable, "-m", "accel_tb.quality.codecov", "--out", str(tmp_path / "out"), "--jobs", "0",
                        "-k", "no_test_has_this_name", "--pytest-args", "tb/fifo"],
                       cwd=ROOT, capture_output=True, text=True)
    one_line_error(r, "tb/fifo -k 'no_test_has_this_name' selects no test")
    assert not list((tmp_path / "out" / "dat").glob("*.dat"))


def test_waiver_whose_line_moved_is_refused(tmp_path):
    """A waiver's `source` must be on its line: after an RTL edit moves the code, the waiver is refused (one line
    naming the file and field) instead of waiving whatever now sits there; the shipped waivers all hold."""
    from accel_tb.quality.codecov import CodecovError, load_waivers
    (tmp_path / "rtl").mkdir()
    (tmp_path / "rtl" / "x.v").write_text("module x;\n  assign a = b;\nendmodule\n")
    w = tmp_path / "w.toml"
    w.write_text('[[waiver]]\nfile = "rtl/x.v"\nkind = "line"\nline = 2\nsource = "assign a"\nreason = "r"\n')
    assert load_waivers(w, root=tmp_path)[0].line == 2
    w.write_text('[[waiver]]\nfile = "rtl/x.v"\nkind = "line"\nline = 1\nsource = "assign a"\nreason = "r"\n')
    with pytest.raises(CodecovError, match=r"waiver 1: source: line 1 of rtl/x.v does not read 'assign a'"):
        load_waivers(w, root=tmp_path)
    assert len(load_waivers(ROOT / "docs" / "codecov_waivers.toml")) >= 1
