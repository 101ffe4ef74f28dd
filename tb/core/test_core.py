"""Core-level tests: the checkpoint's VGG16 layer through the real input path, checked on the fly.

cocotb tests (run inside the simulator):
  test_vgg_layer      layer LAYER (default 27) of image IMAGE (default 0) from CHECKPOINT; or, with
                      GOLDEN=DIR, the course-format vectors in DIR. Every psum vector, every accumulated
                      sum and every ReLU output is checked as it appears.
  test_random_layers  random layers (channel counts not multiples of the array, several tiles) with
                      random output backpressure and input idle cycles.
Environment: CHECKPOINT, LAYER, IMAGE, DATA_DIR, GOLDEN, CORRUPT (negative test: corrupt one expectation),
REPORT (write a JSON summary there), COCOTB_RANDOM_SEED.
"""
from __future__ import annotations

import json
import os
from pathlib import Path

import cocotb
import pytest

from accel.layout import CoreConfig
from accel.runner import CORE_SOURCES, ROOT, rtl_sources, run, run_expect_failure

DEFAULT_CHECKPOINT = ROOT / "checkpoints" / "vgg16_a4w4.pt"
HERE = Path(__file__).resolve().parent


# ------------------------------------------------------------------------------------------ plans
def layer_plan(cfg: CoreConfig):
    """The plan of the layer to run: from GOLDEN course-format files, or extracted from the checkpoint."""
    from accel.mapper import map_layer, map_tiles
    golden = os.environ.get("GOLDEN")
    if golden:
        from golden_py.coursefmt import read_folder
        from golden_py.tiling import compute_tiles
        v = read_folder(golden)
        t = compute_tiles(v.a_tiles, v.w_tiles, v.side, v.side)
        plan = map_tiles(t, cfg, relu=True)
        # the files are the expectation: whatever they hold is checked, nothing recomputed is added
        if v.psum is None and v.out is None and v.out_raw is None:
            raise ValueError(f"{golden}: no psum_kij*.txt, out.txt or out_raw.txt to check against")
        cid0 = plan.commands[0].id
        plan.psums = {k: v.psum[k[1], k[0] - cid0, :, k[3], k[2]].tolist() for k in plan.psums} \
            if v.psum is not None else {}
        plan.sums = {k: v.out_raw[k[0] - cid0, :, k[1]].tolist() for k in plan.sums} \
            if v.out_raw is not None else {}
        plan.outputs = {k: v.out[k[0] - cid0, :, k[1]].tolist() for k in plan.outputs} \
            if v.out is not None else {}
        return plan, f"golden vectors {golden}"
    from golden_py.checkpoint import load_model
    from golden_py.data import load_images
    from golden_py.extract import extract_layer
    ckpt = os.environ.get("CHECKPOINT", str(DEFAULT_CHECKPOINT))
    layer = int(os.environ.get("LAYER", "27"))
    image = int(os.environ.get("IMAGE", "0"))
    model, _ = load_model(ckpt)
    images, labels = load_images([image], os.environ.get("DATA_DIR") or None)
    li = extract_layer(model, layer, images)
    plan = map_layer(li.a_int[0], li.w_int, cfg, relu=True)
    t = plan.tiles
    return plan, (f"{Path(ckpt).name} features[{layer}] ({t.in_channels}->{t.out_channels} on "
                  f"{t.height}x{t.width}), image {image} (label {int(labels[0])})")


def corrupt_one(plan):
    """Negative test: change one expected ReLU output; returns its description."""
    key = sorted(plan.outputs)[len(plan.outputs) // 2]
    plan.outputs[key] = list(plan.outputs[key])
    plan.outputs[key][3] += 1
    return f"{plan.describe_out(key)} col=3"


def write_report(tb, plan, extra: dict):
    path = os.environ.get("REPORT")
    if not path:
        return
    rep = {sb.name: {"compared": sb.compared, "mismatches": sb.mismatches, "missing": len(sb.missing),
                     "duplicates": sb.duplicates, "unexpected": sb.unexpected, "reports": sb.reports[:20]}
           for sb in tb.scoreboards}
    rep["cycles"] = (tb.last_output_cycle or 0) - (tb.first_input_cycle or 0)
    rep["ideal_cycles"] = plan.ideal_cycles
    rep.update(extra)
    Path(path).write_text(json.dumps(rep, indent=1))


# ------------------------------------------------------------------------------------------ cocotb tests
@cocotb.test()
async def test_vgg_layer(dut):
    from accel.testbench import CoreTB
    tb = CoreTB(dut, label="vgg_layer")
    plan, what = layer_plan(tb.cfg)
    corrupted = corrupt_one(plan) if os.environ.get("CORRUPT") == "1" else None
    if corrupted:
        dut._log.warning(f"NEGATIVE TEST: corrupted expectation at {corrupted}")
    tb.check_against(plan)
    dut._log.info(f"running {what} on a {tb.cfg.rows}x{tb.cfg.cols} array: {len(plan.commands)} command(s), "
                  f"{len(plan.act_words)} activation words, {len(plan.wgt_words)} weight words")
    await tb.reset()
    await tb.run_plan(plan)
    summary = tb.summary(plan)
    for line in ("SUMMARY " + what, *summary.splitlines()):
        dut._log.info(line)
    write_report(tb, plan, {"what": what, "corrupted": corrupted})
    tb.assert_clean()


@cocotb.test()
async def test_random_layers(dut):
    import torch

    from accel.mapper import map_layer
    from accel.testbench import CoreTB, seeded_random
    tb = CoreTB(dut, out_ready_prob=0.6, in_idle_prob=0.2, label="random_layers")
    rng = seeded_random("shapes")
    await tb.reset()
    cid = 0
    cfg = tb.cfg
    for trial in range(4):
        ic = rng.randint(1, 2 * cfg.rows + 3)
        oc = rng.randint(1, 2 * cfg.cols + 3)
        side = rng.randint(1, 5)
        g = torch.Generator().manual_seed(rng.getrandbits(32))
        a = torch.randint(0, 1 << cfg.a_w, (ic, side, side), generator=g)
        w = torch.randint(-(1 << (cfg.w_w - 1)) + 1, 1 << (cfg.w_w - 1), (oc, ic, 3, 3), generator=g)
        plan = map_layer(a, w, cfg, relu=bool(trial % 2), first_id=cid)
        cid += len(plan.commands)
        tb.check_against(plan)
        await tb.run_plan(plan)
        dut._log.info(f"trial {trial}: {ic}->{oc} on {side}x{side}: " + tb.summary(plan).replace("\n", " | "))
        tb.assert_clean()


# ------------------------------------------------------------------------------------------ pytest
ARRAYS = [pytest.param(8, 8, id="8x8"), pytest.param(16, 16, id="16x16")]


def core_params(rows, cols, **extra):
    p = CoreConfig(rows=rows, cols=cols).parameters()
    p.update(extra)
    return p


def run_core(rows=8, cols=8, testcase="test_vgg_layer", env=None, params=None, expect_fail=None, **kw):
    """expect_fail: a results-xml path; the run must fail and (tests, failed, xml) is returned."""
    args = dict(toplevel="core", sources=rtl_sources(*CORE_SOURCES), test_module="test_core",
                parameters=params or core_params(rows, cols), testcase=testcase, extra_env=env or {},
                module_dir=HERE, **kw)
    return run_expect_failure(expect_fail, **args) if expect_fail else run(**args)


@pytest.mark.parametrize("rows,cols", ARRAYS)
def test_core_vgg_layer27(rows, cols, tmp_path):
    run_core(rows, cols, env={"REPORT": tmp_path / "r.json"})
    rep = json.loads((tmp_path / "r.json").read_text())
    # layer 27: 9 kij x 16 streamed positions x 8 columns (padded to COLS), 16 x COLS outputs
    assert rep["psum"]["compared"] == 9 * 16 * cols and rep["psum"]["mismatches"] == 0
    assert rep["relu"]["compared"] == 16 * cols and rep["sum"]["compared"] == 16 * cols


@pytest.mark.parametrize("rows,cols", ARRAYS)
def test_core_random_layers(rows, cols):
    # ACC_W 24: several input-channel tiles of 16 rows exceed the 16-bit bound of layer 27
    run_core(rows, cols, testcase="test_random_layers", params=core_params(rows, cols, ACC_W=24))


def test_core_detects_corrupted_expectation(tmp_path):
    """Negative: one expected ReLU output off by one must fail the test at that location."""
    tests, failed, _ = run_core(env={"CORRUPT": "1", "REPORT": tmp_path / "r.json"}, expect_fail=tmp_path / "results.xml")
    assert (tests, failed) == (1, 1)
    rep = json.loads((tmp_path / "r.json").read_text())
    assert rep["relu"]["mismatches"] == 1 and rep["psum"]["mismatches"] == 0
    assert rep["relu"]["reports"][0].startswith(f"relu MISMATCH {rep['corrupted']}")


def test_core_detects_stuck_psum_bit(tmp_path):
    """Negative: an RTL fault (psum bit 2 of PE row 5, column 6 stuck at 1) must fail the layer test."""
    params = core_params(8, 8, FAULT_ROW=5, FAULT_COL=6, FAULT_BIT=2)
    tests, failed, _ = run_core(params=params, env={"REPORT": tmp_path / "r.json"}, expect_fail=tmp_path / "results.xml")
    assert (tests, failed) == (1, 1)
    rep = json.loads((tmp_path / "r.json").read_text())
    assert rep["psum"]["mismatches"] > 0
    assert all("col=6" in r for r in rep["psum"]["reports"] if "MISMATCH" in r)


def test_core_replay_course_vectors(tmp_path):
    """Vectors exported by golden_py replay clean; the same set with one bit flipped in out.txt fails."""
    from golden_py import export
    gold = tmp_path / "golden"
    ckpt = os.environ.get("CHECKPOINT", str(DEFAULT_CHECKPOINT))
    assert export.main(["--checkpoint", ckpt, "--layer", "27", "--image", "1", "--out", str(gold)]) == 0
    run_core(env={"GOLDEN": gold, "REPORT": tmp_path / "ok.json"})
    ok = json.loads((tmp_path / "ok.json").read_text())
    assert ok["psum"]["compared"] == 9 * 16 * 8 and ok["relu"]["compared"] == 128 and ok["sum"]["compared"] == 128

    p = gold / "out.txt"
    lines = p.read_text().splitlines(keepends=True)
    lines[3 + 6] = lines[3 + 6][:-2] + ("1" if lines[3 + 6][-2] == "0" else "0") + "\n"   # o_nij 6, col0 LSB
    p.write_text("".join(lines))
    tests, failed, _ = run_core(env={"GOLDEN": gold, "REPORT": tmp_path / "bad.json"}, expect_fail=tmp_path / "results.xml")
    assert failed == 1
    bad = json.loads((tmp_path / "bad.json").read_text())
    assert bad["relu"]["mismatches"] == 1 and "output nij=6 col=0" in bad["relu"]["reports"][0]


def test_core_waves(tmp_path):
    """WAVES=1: the layer test writes an FST waveform (core.fst under Icarus, dump.fst under Verilator)."""
    xml = run_core(waves=True, env={"REPORT": tmp_path / "r.json"})
    fst = [p for p in Path(xml).parent.glob("*.fst") if p.stat().st_size > 1000]
    assert fst, f"no FST waveform next to {xml}"


def test_core_replay_user_vectors():
    """`pytest tb --golden DIR` (or GOLDEN=DIR): replay a user's course-format folder."""
    golden = os.environ.get("GOLDEN")
    if not golden:
        pytest.skip("no --golden DIR given")
    run_core(env={"GOLDEN": golden})
