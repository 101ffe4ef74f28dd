"""Core-level tests of rtl/core.v through its adapter (accel_tb.env.own_core) and the layer checker.

The cocotb tests live in accel_tb.cocotb_tests.layer_tests; these pytest functions configure and run them, and each
negative test asserts that the run FAILS where it must.
"""
from __future__ import annotations

import json
import os

import pytest

from accel_host.config import CoreConfig
from accel_host.cycles import check_bound
from accel_host.mapping import LayerShape, OutputStationary, WeightStationary, first_step_fill_delay
from accel_tb.design.core_ports import own_core_run
from accel_tb.design.runner import BUILD, CORE_SOURCES, ROOT, RunError, run

CHECKPOINT = str(ROOT / "checkpoints" / "vgg16_a4w4.pt")
LAYER27 = {"checkpoint": CHECKPOINT, "layer": 27, "images": [0], "data_dir": None}
# layer 29 (8 -> 512 on 4x4): 64 commands whose results leave while the next command streams, so output
# back-pressure reaches the SFU, the OFIFO and the credits
LAYER29 = dict(LAYER27, layer=29)


def run_core(sim, config, rows=8, cols=8, testcase="test_layer", params=None, tmp_path=None, expect_fail=False,
             **kw):
    """Run a layer test on the core; returns (result, report dict)."""
    report = tmp_path / f"report-{testcase}.json"
    config = {"adapter": "accel", **config, "report": str(report)}
    result = run(**own_core_run(),
                 parameters=params or CoreConfig(rows=rows, cols=cols).parameters(), sim=sim, testcase=testcase,
                 config=config, expect_fail=expect_fail, **kw)
    rep = json.loads(report.read_text()) if report.is_file() else {}
    return result, rep


def assert_layer27_counts(rep, cols, rows=8):
    # 9 kij x 16 streamed positions x the lanes of every column tile, per row tile; 16 outputs x those lanes
    # (layer 27: 8 channels in, 8 out; an array under 8x8 tiles it)
    lanes, row_tiles = -(-8 // cols) * cols, -(-8 // rows)
    assert rep["psum"]["compared"] == 9 * 16 * lanes * row_tiles and rep["psum"]["mismatches"] == 0
    assert rep["sum"]["compared"] == 16 * lanes and rep["relu"]["compared"] == 16 * lanes
    assert all(rep[k]["missing"] == rep[k]["duplicates"] == rep[k]["unexpected"] == 0 for k in ("psum", "sum", "relu"))


@pytest.mark.parametrize("which", ["icarus", "verilator"])
def test_core_vgg_layer27_8x8(which, request, tmp_path):
    """Layer 27 of image 0 on the 8x8 core, under both simulators (the README's `make SIM=...`)."""
    sim = request.config.forced_sim or which
    result, rep = run_core(sim, {"layer": LAYER27}, tmp_path=tmp_path)
    assert_layer27_counts(rep, 8)
    # performance guard: the bound comes from the design's cycle model (accel_host.cycles), not from a run
    m = WeightStationary(CoreConfig(), LayerShape(8, 8, 4, 4))
    bound = m.model_cycles() + first_step_fill_delay(m)   # the first step fills its regions as it reads
    assert check_bound(rep["cycles_from_command"], bound, "layer 27") is None


@pytest.mark.prefer("icarus")
def test_core_vgg_layer27_64x64(sim, tmp_path):
    """The top of the documented array range (`make SIM=icarus ROWS=64 COLS=64`): CREDITS = 2 * (64 + 64) + 8
    = 264 needs a 9-bit credit counter, and the sequencer's 8-bit reserve once entered it as [8:0] -- Icarus
    read the missing bit as X and the layer timed out with no output."""
    from accel_tb.cli.inputs import layer_core_config  # the core the command builds for this layer and size
    cfg = layer_core_config(LayerShape(8, 8, 4, 4), 64, 64)
    result, rep = run_core(sim, {"layer": LAYER27}, params=cfg.parameters(), tmp_path=tmp_path)
    assert_layer27_counts(rep, 64)


def test_core_regions_with_depths_that_are_not_powers_of_two(sim, tmp_path):
    """Both memory regions in use on memories whose depths are not powers of two (rtl/core.v: a region is the
    depth rounded up to a power of two): layer 27 for two images on a 4x4 core with 50 activation and 20 weight
    words, so two weight groups and two chunks per image, each step and group in the region the one before did
    not use, written while that one computes; every value checked."""
    cfg = CoreConfig(rows=4, cols=4, act_depth=50, wgt_depth=20)
    result, rep = run_core(sim, {"layer": dict(LAYER27, images=[0, 1])}, params=cfg.parameters(), tmp_path=tmp_path)
    assert result["failed"] == 0
    # 2 row tiles x 2 column tiles of layer 27 (8 -> 8) on 4x4, two images: every psum, sum and output compared
    assert rep["relu"]["compared"] == 2 * 16 * 8 and rep["psum"]["compared"] == 2 * 9 * 16 * 8 * 2
    assert all(rep[k]["mismatches"] == rep[k]["missing"] == 0 for k in ("psum", "sum", "relu"))


@pytest.mark.parametrize("rows,cols", [(4, 4)], ids=["4x4"])
def test_core_vgg_layer27_small_array(rows, cols, sim, tmp_path):
    """Layer 27 on an array smaller than the layer (`make ROWS=4 COLS=4`): its 8 channels in and out in tiles."""
    from accel_tb.cli.inputs import layer_core_config
    cfg = layer_core_config(LayerShape(8, 8, 4, 4), rows, cols)
    result, rep = run_core(sim, {"layer": LAYER27}, params=cfg.parameters(), tmp_path=tmp_path)
    assert_layer27_counts(rep, cols, rows)


# one 16x16 model for every 16x16 test (one compile): random layers of three 16-channel tiles need ACC_W > 16,
# output-stationary ones PSUM_W 24 (a PE holds a whole sum) and WGT_DEPTH 512 (9 x channels words per tile)
PARAMS_16X16 = CoreConfig(rows=16, cols=16, psum_w=24, acc_w=24, wgt_depth=512).parameters()


@pytest.mark.prefer("verilator")
def test_core_vgg_layer27_16x16(sim, tmp_path):
    result, rep = run_core(sim, {"layer": LAYER27}, params=PARAMS_16X16, tmp_path=tmp_path)
    assert_layer27_counts(rep, 16)


@pytest.mark.prefer("verilator")
@pytest.mark.parametrize("params", [CoreConfig().parameters(), PARAMS_16X16], ids=["8x8", "16x16"])
def test_core_random_layers(sim, params, tmp_path):
    """Random layers (several tiles, odd channel counts, extreme values) with every crossing of pause kinds
    on the input boundaries (activation, weight and command writes) and the output's ready."""
    result, rep = run_core(sim, {"trials": 9}, testcase="test_random_layers", params=params, tmp_path=tmp_path)
    assert len(rep["trials"]) == 9 and all(t["relu" if "relu" in t else "out"]["compared"] > 0 for t in rep["trials"])


@pytest.mark.parametrize("kind", ["relu", "sum", "psum"])
def test_core_detects_corrupted_expectation(kind, sim, tmp_path):
    """Negative: one expected value off by one must fail the layer test at that location, for every kind."""
    result, rep = run_core(sim, {"layer": LAYER27, "corrupt": kind}, tmp_path=tmp_path, expect_fail=True)
    assert (result["tests"], result["failed"]) == (1, 1)
    assert rep[kind]["mismatches"] == 1 and sum(rep[k]["mismatches"] for k in ("psum", "sum", "relu")) == 1
    assert rep[kind]["reports"][0].startswith(f"{kind} MISMATCH {rep['corrupted']}")


def test_core_detects_stuck_psum_bit(sim, tmp_path):
    """Negative: an RTL fault (psum bit 2 of PE row 5, column 6 stuck at 1) must fail the layer test."""
    params = CoreConfig().parameters() | {"FAULT_ROW": 5, "FAULT_COL": 6, "FAULT_BIT": 2}
    result, rep = run_core(sim, {"layer": LAYER27}, params=params, tmp_path=tmp_path, expect_fail=True)
    assert (result["tests"], result["failed"]) == (1, 1)
    assert rep["psum"]["mismatches"] > 0
    assert all("col=6" in r for r in rep["psum"]["reports"] if "MISMATCH" in r)


def test_core_waves(sim, tmp_path):
    """WAVES: the layer test writes an FST waveform (core.fst under Icarus, dump.fst under Verilator)."""
    result, rep = run_core(sim, {"layer": LAYER27}, tmp_path=tmp_path, waves=True)
    build = result["run_dir"].parents[1]
    fst = [p for p in list(result["run_dir"].glob("*.fst")) + list(build.glob("*.fst")) if p.stat().st_size > 1000]
    assert fst, f"no FST waveform in {result['run_dir']} or {build}"


def test_core_that_reads_a_fill_early_fails(sim, tmp_path):
    """Negative: layer 27's first step fills its memory regions while its command reads them (act_fill,
    wgt_fill: rtl/core.v); a sequencer that does not wait for the fill's level (FAULT_INV=6) reads words the
    host has not written yet, and the layer test must fail on their values (the RTL assertion fires too)."""
    params = CoreConfig().parameters() | {"FAULT_INV": 6}
    result, rep = run_core(sim, {"layer": LAYER27}, params=params, tmp_path=tmp_path, expect_fail=True)
    assert (result["tests"], result["failed"]) == (1, 1)
    assert rep["psum"]["mismatches"] > 0 and rep["relu"]["mismatches"] + rep["relu"]["missing"] > 0


@pytest.mark.parametrize("a_bits", [4, 2], ids=["4bit", "2bit"])
def test_fill_whose_first_words_go_with_its_command(a_bits, sim, tmp_path):
    """A host that writes a fill's first activation and weight words in the very cycle its command enters (the
    region is still free, so they land): the core counts each as its fill's first word (rtl/core.v), the layer
    runs to the end and every value is right. (Before, the level restarted at the base and the next word, off
    the level, waited forever.)"""
    layer = LAYER27 if a_bits == 4 else LAYER27_2BIT
    result, rep = run_core(sim, {"layer": layer, "adapter_options": {"fill_with_first_word": True}},
                           tmp_path=tmp_path)
    assert result["failed"] == 0 and rep["relu"]["compared"] > 0
    assert all(rep[k]["mismatches"] == rep[k]["missing"] == 0 for k in ("psum", "sum", "relu"))
    assert rep["cycles"] == rep["cycles_from_command"]      # the first write and the command: one cycle


def test_performance_guard_catches_lost_fold_overlap(sim, tmp_path):
    """Negative: a sequencer that idles 2 cycles after every fold (FOLD_GAP, the fold overlap lost) still
    computes every value right, and only the performance guard notices."""
    params = CoreConfig().parameters() | {"FOLD_GAP": 2}
    result, rep = run_core(sim, {"layer": LAYER27}, params=params, tmp_path=tmp_path)
    assert_layer27_counts(rep, 8)                                   # functionally clean ...
    m = WeightStationary(CoreConfig(), LayerShape(8, 8, 4, 4))
    bound = m.model_cycles() + first_step_fill_delay(m)   # the first step fills its regions as it reads
    violation = check_bound(rep["cycles_from_command"], bound, "layer 27")
    assert violation == f"layer 27: {bound + 16} cycles exceed the design's bound of {bound} (+16)"   # 8 gaps x 2


def test_run_with_no_test_is_an_error(sim, tmp_path):
    """A run in which no cocotb test executes (renamed testcase, filter matching nothing) fails."""
    with pytest.raises(RunError, match="no cocotb test ran"):
        run_core(sim, {"layer": LAYER27}, testcase="test_that_does_not_exist", tmp_path=tmp_path)


def test_missing_simulator_is_one_line_with_the_way_out(sim, tmp_path, monkeypatch):
    """No simulator on PATH: a RunError naming the tool, `make setup` and the other simulator, before any
    build (cocotb's runner alone says only 'executable not found')."""
    import accel_tb.design.runner as runner
    monkeypatch.setattr(runner, "BUILD", tmp_path / "build")   # an unbuilt model: the build step is reached
    monkeypatch.setenv("PATH", str(tmp_path))                  # an empty PATH: no simulator at all
    other = "icarus" if sim == "verilator" else "verilator"
    with pytest.raises(RunError, match=rf"not found on PATH: run `make setup`.*SIM={other}"):
        run_core(sim, {"layer": LAYER27}, tmp_path=tmp_path)
    assert not list((tmp_path / "build").rglob(".built"))


def test_user_environment_cannot_override_the_run(sim, tmp_path, monkeypatch):
    """GOLDEN, ACCEL_TB_CONFIG or CHECKPOINT in the caller's environment do not reach the simulation."""
    bogus = tmp_path / "bogus.json"
    bogus.write_text(json.dumps({"golden": str(tmp_path / "nowhere")}))
    for var, value in (("ACCEL_TB_CONFIG", str(bogus)), ("GOLDEN", str(tmp_path)), ("CHECKPOINT", "/nonexistent")):
        monkeypatch.setenv(var, value)
    result, rep = run_core(sim, {"layer": LAYER27}, tmp_path=tmp_path)
    assert rep["what"].startswith("vgg16_a4w4.pt features[27]")
    assert os.environ["ACCEL_TB_CONFIG"] == str(bogus)   # restored for the caller


def test_core_replay_user_vectors(sim, golden, tmp_path, request):
    """`pytest tb --golden DIR`: replay a user's course-format folder (only this test sees DIR) through the
    same checker as accel-replay; its summary lines (what was checked, not provided, not read) are printed
    at the end of the session (tb/conftest.py)."""
    if not golden:
        import os
        pytest.skip("no --golden DIR given" + (" (GOLDEN in the environment is make's; pytest takes --golden DIR)"
                                               if os.environ.get("GOLDEN") else ""))
    from accel_tb.cli.inputs import check_folder, layer_core_config  # the core accel-replay builds for the folder
    v = check_folder(golden)
    cfg = layer_core_config(LayerShape(v.n_ic * v.channels, v.n_oc * v.cols, v.side, v.side), v.rows, v.cols, v.a_bits)
    result, rep = run_core(sim, {"golden": golden}, params=cfg.parameters(), tmp_path=tmp_path, expect_fail=True)
    request.node.user_properties.append(("replay_summary", [f"SUMMARY {rep.get('what', golden)}",
                                                            *rep.get("summary", [])]))
    assert result["failed"] == 0, "the replay found differences:\n" + "\n".join(rep.get("summary", []))


# ------------------------------------------------------------------------------------------ 2-bit mode
CHECKPOINT_2BIT = str(ROOT / "checkpoints" / "vgg16_a2w4.pt")
LAYER27_2BIT = {"checkpoint": CHECKPOINT_2BIT, "layer": 27, "images": [0], "data_dir": None}


@pytest.mark.parametrize("which", ["icarus", "verilator"])
def test_core_2bit_layer27(which, request, tmp_path):
    """features[27] of the 2a4w checkpoint (16->16 on 4x4) in 2-bit mode: 16 input channels on 8 rows."""
    result, rep = run_core(request.config.forced_sim or which, {"layer": LAYER27_2BIT}, tmp_path=tmp_path)
    # 2 oc tiles x 9 kij x 16 positions x 8 columns; 2 oc tiles x 16 outputs x 8 columns
    assert rep["psum"]["compared"] == 2 * 9 * 16 * 8 and rep["relu"]["compared"] == 2 * 16 * 8
    assert rep["what"].startswith("vgg16_a2w4.pt features[27] (16->16, 2-bit activations")
    assert rep["ideal_cycles"] == 36864 / (16 * 8)
    m = WeightStationary(CoreConfig(), LayerShape(16, 16, 4, 4), a_bits=2)
    bound = m.model_cycles() + first_step_fill_delay(m)   # the first step fills its regions as it reads
    assert check_bound(rep["cycles_from_command"], bound, "2-bit layer 27") is None


@pytest.mark.parametrize("reset_between", [False, True], ids=["no_reset", "reset"])
def test_core_mode_switch(reset_between, sim, tmp_path):
    """A 2-bit layer, then a 4-bit layer, then the 2-bit layer again in one simulation: the mode is a
    command bit, nothing is rebuilt; with and without a reset between layers (as the course asks)."""
    seq = [LAYER27_2BIT, LAYER27, dict(LAYER27_2BIT, images=[1])]
    result, rep = run_core(sim, {"sequence": seq, "reset_between": reset_between}, testcase="test_layer_sequence",
                           tmp_path=tmp_path)
    assert [r["relu"]["compared"] for r in rep["sequence"]] == [256, 128, 256]
    assert all(r[k]["mismatches"] == 0 for r in rep["sequence"] for k in ("psum", "sum", "relu"))


@pytest.mark.prefer("verilator")
def test_core_2bit_random_layers(sim, tmp_path):
    """Random layers in 2-bit mode (up to 3 tiles of 16 channels), pauses crossed on every boundary."""
    # three 16-channel tiles of 2-bit activations: |sum| <= 48*9*3*8 = 10368 fits the default ACC_W=16
    result, rep = run_core(sim, {"trials": 9, "a_bits": 2}, testcase="test_random_layers", tmp_path=tmp_path)
    assert len(rep["trials"]) == 9 and all("2-bit" in t["what"] for t in rep["trials"])


def test_core_2bit_wrong_mode_fails(sim, tmp_path):
    """Negative: the 2-bit layer sent with the mode bit cleared (read as 4-bit activations) must fail."""
    result, rep = run_core(sim, {"layer": LAYER27_2BIT, "adapter_options": {"flip_mode": True}}, tmp_path=tmp_path,
                           expect_fail=True)
    assert result["failed"] == 1 and rep["psum"]["mismatches"] > 0 and rep["relu"]["mismatches"] > 0


def test_core_2bit_corrupted_expectation_fails(sim, tmp_path):
    result, rep = run_core(sim, {"layer": LAYER27_2BIT, "corrupt": "relu"}, tmp_path=tmp_path, expect_fail=True)
    assert result["failed"] == 1 and rep["relu"]["mismatches"] == 1


# ------------------------------------------------------------------------------------------ output-stationary
OS_NOT_CHECKED = {"psum": "the output-stationary dataflow makes no partial sums; its finished sums are checked"}


@pytest.mark.parametrize("which", ["icarus", "verilator"])
@pytest.mark.parametrize("a_bits", [4, 2])
def test_core_os_layer27(which, a_bits, request, tmp_path):
    """features[27] in the output-stationary dataflow (command bit os): every sum and every ReLU output
    checked, the psums reported as not made; the cycle count within the OS model's bound."""
    sim = request.config.forced_sim or which
    layer = LAYER27 if a_bits == 4 else LAYER27_2BIT
    result, rep = run_core(sim, {"layer": layer, "dataflow": "os"}, tmp_path=tmp_path)
    n_oc = 1 if a_bits == 4 else 2
    assert rep["sum"]["compared"] == rep["relu"]["compared"] == n_oc * 16 * 8
    assert "psum" not in rep and rep["not_checked"] == OS_NOT_CHECKED
    # the psum port's vectors are the finished sums, each compared with its position's sum
    assert rep["os_psum"]["compared"] == n_oc * 16 * 8 and rep["os_psum"]["mismatches"] == 0
    ic = 8 if a_bits == 4 else 16
    m = OutputStationary(CoreConfig(), LayerShape(ic, 8 * n_oc, 4, 4), a_bits=a_bits)
    bound = m.model_cycles() + first_step_fill_delay(m)   # the first step fills its regions as it reads
    assert check_bound(rep["cycles_from_command"], bound, "OS layer 27") is None


@pytest.mark.prefer("verilator")
@pytest.mark.parametrize("params", [CoreConfig().parameters(), PARAMS_16X16], ids=["8x8", "16x16"])
def test_core_os_random_layers(sim, params, tmp_path):
    """Random output-stationary layers (partial blocks, several output-channel tiles and chunks, 4-bit),
    every crossing of pause kinds on the inputs and the output. An OS tile keeps 9 x channels weight words:
    up to 35 channels on 16x16 need WGT_DEPTH 512. Sides up to 7 on 16x16, so that blocks fill rows 8-15 too
    (up to 49 positions: several blocks of 16)."""
    side = 7 if params["ROWS"] == 16 else 5
    result, rep = run_core(sim, {"trials": 9, "dataflow": "os", "max_side": side}, testcase="test_random_layers",
                           params=params, tmp_path=tmp_path)
    assert len(rep["trials"]) == 9 and all(t["sum"]["compared"] > 0 and "psum" not in t for t in rep["trials"])


@pytest.mark.prefer("verilator")
@pytest.mark.parametrize("a_bits", [4, 2])
def test_core_dataflow_alternation(a_bits, sim, tmp_path):
    """WS and OS layers in turn on one core, no reset between them (the sequencer drains before a switch);
    random shapes and pauses."""
    result, rep = run_core(sim, {"trials": 8, "dataflow": "alternate", "a_bits": a_bits},
                           testcase="test_random_layers", tmp_path=tmp_path)
    assert ["psum" in t for t in rep["trials"]] == [True, False] * 4


def test_core_dataflow_and_mode_sequence(sim, tmp_path):
    """Checkpoint layers WS 4-bit, OS 4-bit, OS 2-bit, WS 2-bit, OS 4-bit in one simulation, no reset."""
    seq = [dict(LAYER27, dataflow="ws"), dict(LAYER27, dataflow="os"), dict(LAYER27_2BIT, dataflow="os"),
           dict(LAYER27_2BIT, dataflow="ws"), dict(LAYER27, images=[1], dataflow="os")]
    result, rep = run_core(sim, {"sequence": seq}, testcase="test_layer_sequence", tmp_path=tmp_path)
    assert [r["relu"]["compared"] for r in rep["sequence"]] == [128, 128, 256, 256, 128]
    assert ["psum" in r for r in rep["sequence"]] == [True, False, False, True, False]
    assert all(r[k]["mismatches"] == 0 for r in rep["sequence"] for k in ("sum", "relu"))


def test_core_os_detects_stuck_accumulator_bit(sim, tmp_path):
    """Negative: bit 2 of PE (5, 6)'s sum stuck at 1 must fail the OS layer, at column 6 only."""
    params = CoreConfig().parameters() | {"FAULT_ROW": 5, "FAULT_COL": 6, "FAULT_BIT": 2}
    result, rep = run_core(sim, {"layer": LAYER27, "dataflow": "os"}, params=params, tmp_path=tmp_path,
                           expect_fail=True)
    assert (result["tests"], result["failed"]) == (1, 1)
    assert rep["sum"]["mismatches"] > 0
    assert all("col=6" in r for r in rep["sum"]["reports"] if "MISMATCH" in r)


@pytest.mark.parametrize("kind", ["sum", "relu"])
def test_core_os_detects_corrupted_expectation(kind, sim, tmp_path):
    result, rep = run_core(sim, {"layer": LAYER27, "dataflow": "os", "corrupt": kind}, tmp_path=tmp_path,
                           expect_fail=True)
    assert (result["tests"], result["failed"]) == (1, 1)
    assert rep[kind]["mismatches"] == 1 and rep["sum"]["mismatches"] + rep["relu"]["mismatches"] == 1


# ------------------------------------------------------------------------------------------ output buffer
@pytest.mark.prefer("verilator")     # 1.6 CPU-seconds against 5.7 under Icarus (its two negatives stay there)
def test_core_output_buffer_fills(sim, tmp_path):
    """With the output held for 1500 cycles of layer 29 (512 outputs x 8 lanes), the output FIFO fills to
    OUT_DEPTH, the OFIFO until CREDITS tokens are in flight, and the core waits; released, every value is
    checked."""
    result, rep = run_core(sim, {"layer": LAYER29, "hold": 1500}, testcase="test_output_buffer_fills",
                           tmp_path=tmp_path)
    assert rep["peak"] == rep["out_depth"] == CoreConfig().out_depth and rep["full_cycles"] > 0
    assert rep["inflight_peak"] == rep["credits"] == CoreConfig().credits
    assert rep["relu"]["compared"] == 512 * 16 and rep["relu"]["mismatches"] == 0


@pytest.mark.parametrize("name,marker,old,new", [
    # an SFU that keeps room for three results instead of two: one output FIFO entry never used
    ("conservative_sfu", "wire             out_room =", "32'd2", "32'd3"),
    # credits counted up instead of down: the 6-bit count wraps to 0 at 24 tokens in flight, not at 40
    ("credits_wrap", "CREDITS[CW-1:0] - inflight", "- inflight", "+ inflight"),
], ids=["conservative_sfu", "credits_wrap"])
def test_output_buffer_check_fails_on_a_wasted_buffer(tmp_path, name, marker, old, new):
    """Negative: a core that leaves buffer space unused computes everything right (and fast enough without
    back-pressure); only the output-buffer test notices."""
    result, rep = run_patched(tmp_path, name, "core", marker, old, new, "test_output_buffer_fills", {"layer": LAYER29})
    assert result["failed"] == 1
    assert rep["relu"]["mismatches"] == 0 and rep["relu"]["compared"] == 512 * 16    # functionally clean
    if name == "conservative_sfu":
        assert rep["peak"] == CoreConfig().out_depth - 1 and rep["inflight_peak"] == CoreConfig().credits
    else:
        assert rep["peak"] == CoreConfig().out_depth and rep["inflight_peak"] < CoreConfig().credits


def run_patched(tmp_path, name, module, marker, old, new, testcase, config, sim="icarus"):
    """A core whose rtl/<module>.v has `old` replaced by `new` on the line holding `marker` (asserted present,
    so an RTL edit that moves the text fails here rather than testing the unpatched core); Icarus; expected to
    fail. Returns (result, report)."""
    from accel_tb.quality.mutant import patched_rtl
    rtl = patched_rtl(BUILD / "negative" / name / "rtl", module, marker, old, new)  # a stable path: build reused
    report = tmp_path / "r.json"
    result = run(toplevel="core", sources=[rtl / f"{m}.v" for m in CORE_SOURCES], includes=[rtl / "include"],
                 test_module="accel_tb.cocotb_tests.layer_tests", parameters=CoreConfig().parameters(), sim=sim,
                 testcase=testcase, expect_fail=True, config={"adapter": "accel", **config, "report": str(report)})
    return result, json.loads(report.read_text())


def test_busy_check_fails_on_a_core_idle_while_a_command_waits(tmp_path):
    """Negative of the busy check (accel_tb.env.own_core): a core whose busy ignores a queued command while nothing
    is in flight (the mutant that survived every test before the check) computes every value right, and the
    layer fails on busy alone."""
    result, rep = run_patched(tmp_path, "busy_q", "core", "assign busy", "q_valid ||", "q_valid &&",
                              "test_layer", {"layer": LAYER27})
    assert result["failed"] == 1 and rep["relu"]["mismatches"] == 0 and rep["relu"]["compared"] == 128
    assert any(f.startswith("busy low") for f in rep["rtl_assertions"]["fired"]), rep["rtl_assertions"]


def test_os_psum_check_fails_on_a_wrong_row_tag(tmp_path):
    """Negative of the output-stationary psum-port check: finished sums tagged with a wrong row (nij) while
    every sum and output is right; the layer fails on the psum port's tags alone."""
    result, rep = run_patched(tmp_path, "os_nij", "sequencer", "assign tag[`TAG_NIJ]", "{8'd0, pend_r}",
                              "{8'd1, pend_r}", "test_layer", {"layer": LAYER27, "dataflow": "os"})
    assert result["failed"] == 1 and rep["relu"]["mismatches"] == 0 and rep["sum"]["mismatches"] == 0
    assert rep["os_psum"]["unexpected"] == 16 and rep["os_psum"]["compared"] == 0, rep["os_psum"]


def test_core_drops_unfit_os_command(sim, tmp_path):
    """The sequencer drops an output-stationary command with ow > ROWS (the reliance formal/core.sby
    found); the layer after it is checked value by value, no RTL assertion fired."""
    result, rep = run_core(sim, {"layer": LAYER27}, testcase="test_unfit_command_dropped", tmp_path=tmp_path)
    assert rep["unfit"] == {"issued": 0, "outputs": 0, "idle": True}
    assert_layer27_counts(rep, 8)
    assert rep["rtl_assertions"]["fired"] == []


# ------------------------------------------------------------------------------------------ robustness
def test_core_reset_mid_layer_then_clean_layer(tmp_path):
    """Icarus (4 states): a reset while a layer runs, then a clean layer; no X/Z on any output port from the
    first cycle after reset on, every value of the second layer right, no RTL assertion fired."""
    result, rep = run_core("icarus", {"layer": LAYER27, "cut_after": 120}, testcase="test_reset_mid_layer",
                           tmp_path=tmp_path)
    assert rep["busy_when_reset"] == 1
    assert rep["four_state"] == {"x_or_z": 0, "first": []}
    assert rep["rtl_assertions"]["fired"] == [] and rep["relu"]["compared"] == 128


def test_four_state_check_can_fire(tmp_path):
    """Negative: a core that is never reset shows X on its outputs, and the 4-state check says where."""
    result, rep = run_core("icarus", {}, testcase="test_no_reset", tmp_path=tmp_path)
    assert rep["x_seen"] > 0 and rep["first"][0][0] >= 0
    assert {x[1] for x in rep["first"]} <= {"act_wr_ready", "wgt_wr_ready", "cmd_ready", "out_valid", "busy",
                                              "psum_valid", "acc_valid", "out_data", "psum_data"}




@pytest.mark.parametrize("fault,names,extra", [
    (1, ["credits", "ofifo overflow", "tag fifo overflow"], {"layer": LAYER29, "cycles": 6000}),
    (3, ["out fifo overflow"], {"layer": LAYER29, "cycles": 3000}),
    (4, ["tag for every psum"], {"layer": LAYER27, "out_pause": "none"}),
    (5, ["sram read/write conflict"], {"layer": LAYER27, "host_write_while_busy": True}),
    (6, ["sram read/write conflict"], {"layer": LAYER27}),     # a fill's word read before it is written
], ids=["credits", "out_fifo", "tag_missing", "sram_conflict", "fill_read_early"])
def test_rtl_assertion_can_fire(fault, names, extra, sim, tmp_path):
    """Negative, per invariant: a build that breaks it (FAULT_INV) makes its assertion fire, in either
    simulator; the regular builds run every other test with all of them armed (none may fire)."""
    params = CoreConfig().parameters() | {"FAULT_INV": fault}
    result, rep = run_core(sim, extra, params=params, testcase="test_invariant_fault", tmp_path=tmp_path)
    assert set(names) <= set(rep["fired"]), rep


# the streams are drawn from this pinned seed: the same streams, and the same flows hit, on every run
STREAM_SEED = 2026


@pytest.mark.prefer("verilator")
def test_command_stream(sim, tmp_path):
    """Streams of layers back to back (accel_tb.cocotb_tests.layer_tests.test_command_stream): WS and OS, 4-bit and 2-bit
    switching from one command to the next, host writes tried while the sequencer reads, the output held at the
    first output-stationary command until its credits run out; every value checked (the cocotb test asserts
    each layer clean). Here: the flows the issue names were exercised, no write landed in the region the stream
    reads, and every write into the other region was taken while it ran."""
    result, rep = run_core(sim, {"streams": 3, "layers": 5, "hold": 400, "write_attempts": 20},
                           testcase="test_command_stream", tmp_path=tmp_path, seed=STREAM_SEED)
    ev = [s["events"] for s in rep["streams"]]
    assert all(e["dataflow_switches"] > 0 and e["mode_switches"] > 0 for e in ev), ev
    assert sum(e["write_attempts"] for e in ev) > 0 and sum(e["writes_accepted_while_reading"] for e in ev) == 0, ev
    # the region the stream does not read takes host writes meanwhile (rtl/core.v's two regions)
    assert all(e["other_region_accepted"] == e["other_region_attempts"] for e in ev), ev
    assert sum(e["other_region_attempts"] for e in ev) > 0, ev
    # weights too, and at cycles where the region is in use only by a queued command or a preload still on
    # its way (the sequencer reading nothing): each refused all the same
    assert sum(e["weight_write_attempts"] for e in ev) > 0 and sum(e["attempts_while_only_queued"] for e in ev) > 0, ev
    # and at cycles where the region is in use only because the sequencer reads it (the last command, nothing
    # queued, no preload): a weight write into it refused there too
    assert sum(e["attempts_while_alone"] for e in ev) > 0, ev
    assert ev[0]["output"] == "hold" and ev[0]["os_credit_wait_cycles"] > 0, ev[0]
    assert sum(e["cmd_queue_full_cycles"] for e in ev) > 0, ev
    # the second stream fills its memory regions as it runs: every word written behind its first command, the
    # commands waiting for words, and every host write off the fill's level refused
    assert [e["fill"] for e in ev] == [False, True, False], ev
    assert ev[1]["fill_words"] > 0 and ev[1]["fill_wait_cycles"] > 0, ev[1]
    assert ev[1]["fill_stray_attempts"] > 0 and ev[1]["fill_stray_accepted"] == 0, ev[1]
    # the third refills its last layer's activations over the first layer's words, the command sent right behind
    # the others: it waits at the port until no earlier command holds the region, then its words go in
    assert [e["refill"] for e in ev] == [False, False, True], ev
    assert ev[2]["fill_command_wait_cycles"] > 0 and ev[2]["fill_words"] > 0, ev[2]
    for s in rep["streams"]:
        assert all(l["relu" if "relu" in l else "out"]["compared"] > 0 for l in s["layers"])


def test_os_flush_waits_for_credits(sim, tmp_path):
    """The flush of an output-stationary command's last block waits for credits while the output is held
    (accel_tb.cocotb_tests.layer_tests.test_flush_waits_for_credits: the sequencer's S_FLUSH without room, the
    one branch the random streams did not reach), then its sums arrive right; every value checked."""
    result, rep = run_core(sim, {"hold": 1500}, testcase="test_flush_waits_for_credits", tmp_path=tmp_path)
    ev = rep["events"]
    assert ev["os_flush_credit_wait_cycles"] > 0 and all(l["relu"]["compared"] > 0 for l in rep["layers"]), ev


def test_command_stream_catches_a_core_that_takes_writes_while_it_reads(sim, tmp_path):
    """Negative: FAULT_INV=5 lets host writes in while the sequencer reads its memories; the stream's writes
    tried then are accepted, land in a later layer's activations, and the stream test fails."""
    params = CoreConfig().parameters() | {"FAULT_INV": 5}
    result, rep = run_core(sim, {"streams": 1, "layers": 4, "write_attempts": 20}, testcase="test_command_stream",
                           params=params, tmp_path=tmp_path, expect_fail=True, seed=STREAM_SEED)
    ev = rep["streams"][0]["events"]
    assert result["failed"] == 1 and ev["writes_accepted_while_reading"] > 0, ev


def test_filling_stream_catches_a_core_that_takes_writes_off_the_level(sim, tmp_path):
    """Negative: the same core (FAULT_INV=5: every write taken) on a stream that fills its memory regions as it
    runs: the writes tried between the fill's words, at other words, are accepted, and the stream test fails.
    (Under Icarus the words then read before they are written are X and stop a monitor: the stream's events
    reach the report all the same.)"""
    params = CoreConfig().parameters() | {"FAULT_INV": 5}
    result, rep = run_core(sim, {"streams": 1, "layers": 4, "write_attempts": 0, "fills": [True]},
                           testcase="test_command_stream", params=params, tmp_path=tmp_path, expect_fail=True,
                           seed=STREAM_SEED)
    ev = rep["streams"][0]["events"]
    assert ev["fill"] and result["failed"] == 1 and ev["fill_stray_accepted"] > 0, ev
