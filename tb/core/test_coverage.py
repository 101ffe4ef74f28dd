"""Functional coverage (accel_tb.quality.coverage): the closure hits every bin but the cross bins; the random command
streams close the cross bins; a run that exercises nothing, or streams that never hold the output, report their
holes and fail; `make coverage` credits each bin to the earliest run that hit it."""
from __future__ import annotations

import json

import yaml

from accel_host.config import CoreConfig
from accel_tb.design.core_ports import own_core_run
from accel_tb.design.runner import ROOT, run
from accel_tb.quality.coverage import STREAM_CLOSED
from accel_tb.quality.coverage_runs import STREAM, STREAM_SEED, merge_first_hits, table

CK4, CK2 = str(ROOT / "checkpoints" / "vgg16_a4w4.pt"), str(ROOT / "checkpoints" / "vgg16_a2w4.pt")


def closure(sim, tmp_path, **config):
    report, cov = tmp_path / "r.json", tmp_path / "coverage.yml"
    result = run(**own_core_run(),
                 parameters=CoreConfig(acc_w=24).parameters(), sim=sim, testcase="test_coverage_closure",
                 config={"adapter": "accel", "coverage": str(cov), "report": str(report), **config},
                 expect_fail=True)
    return result, json.loads(report.read_text()), cov


def test_coverage_closure_hits_every_bin(sim, tmp_path):
    layers = [{"checkpoint": ck, "layer": 27, "images": [0], "data_dir": None} for ck in (CK4, CK2)]
    result, rep, cov = closure(sim, tmp_path, layers=layers)
    assert result["failed"] == 0 and rep["holes"] == []
    db = yaml.safe_load(cov.read_text())
    points = {k for k, v in db.items() if "bins:_hits" in v}
    assert {"core.psum.kij_x_position", "core.sum.value", "core.cmd.empty", "core.flow.event",
            "core.layer.weight_extremes"} <= points
    # 86 bins of the weight-stationary core + dataflow 2, dataflow x mode 4, switches 2, OS blocks 3; then the
    # cross bins the streams close: dataflow 2 x events 7 (+ 2 + 7), back-to-back switches 2 x 2 (+ 2 + 2); the
    # streams close the memory regions' 2 too
    assert db["core"]["size"] == 97 + 23 + 8 + 2
    assert {"core.cmd.dataflow_x_a2", "core.cmd.dataflow_switch", "core.cmd.os_blocks"} <= points
    # every bin outside core.cross is hit here; what this run left of core.cross is the streams' to close
    assert all(v["cover_percentage"] == 100.0 for k, v in db.items() if "bins:_hits" in v and
               not k.startswith(STREAM_CLOSED)), {k: v["cover_percentage"] for k, v in db.items() if "bins:_hits" in v}
    assert all(h.startswith(STREAM_CLOSED) for h in rep["stream_holes"])


def test_coverage_holes_fail_the_closure(sim, tmp_path):
    """Negative: with no layer and no random trial nothing is covered; the closure fails and names holes."""
    result, rep, cov = closure(sim, tmp_path, layers=[], max_trials=0)
    assert result["failed"] == 1 and len(rep["holes"]) == 97
    assert "core.cmd.empty: True" in rep["holes"] and "core.sum.value: neg >= 1/2 bound" in rep["holes"]


def stream(sim, tmp_path, **config):
    """The command-stream test with coverage and the closure check of the cross bins (accel_tb.cocotb_tests.layer_tests)."""
    report, cov = tmp_path / "r.json", tmp_path / "stream.yml"
    result = run(**own_core_run(),
                 parameters=CoreConfig(acc_w=24).parameters(), sim=sim, testcase="test_command_stream",
                 config={"adapter": "accel", **STREAM, **config, "coverage": str(cov), "report": str(report)},
                 seed=STREAM_SEED, expect_fail=True)
    return result, json.loads(report.read_text()), cov


def every_value_checked(rep):
    """Each layer of each stream compared its results, with nothing wrong, missing or extra."""
    layers = [l for s in rep["streams"] for l in s["layers"]]
    return layers and all(l[k]["compared"] > 0 and l[k]["mismatches"] == l[k]["missing"] == l[k]["duplicates"] ==
                          l[k]["unexpected"] == 0 for l in layers for k in ("relu", "sum") if k in l)


def test_streams_close_the_cross_bins(sim, tmp_path):
    """make coverage's stream run (pinned seed): every value checked, every core.cross bin hit; among them the
    three flows issue #33 names -- a host write attempted while the sequencer is busy (in both dataflows), a
    dataflow switch sent back to back (both ways), an output-stationary credit stall -- each with its first hit."""
    result, rep, cov = stream(sim, tmp_path)
    assert result["failed"] == 0 and rep["holes"] == [] and every_value_checked(rep)
    db = yaml.safe_load(cov.read_text())
    x, b2b = db["core.cross.dataflow_x_event"]["bins:_hits"], db["core.cross.b2b_dataflow_x_switch"]["bins:_hits"]
    named = [(x, "('ws', 'host write while busy')"), (x, "('os', 'host write while busy')"),
             (b2b, "('os', 'dataflow switch')"), (b2b, "('ws', 'dataflow switch')"), (x, "('os', 'credit stall')")]
    assert all(bins[b] > 0 for bins, b in named), (x, b2b)
    first = json.loads((tmp_path / "stream.first_hit.json").read_text())
    assert all(first[f"core.cross.dataflow_x_event: {b}"] > 0 for bins, b in named if bins is x)
    # the writes tried while busy were each refused (the stream's own check, from act_wr_ready) where their region
    # was in use, and taken where it was not (the memory regions' bins)
    assert sum(s["events"]["write_attempts"] for s in rep["streams"]) > 0
    assert all(s["events"]["writes_accepted_while_reading"] == 0 for s in rep["streams"])
    assert all(v > 0 for v in db["core.region.write"]["bins:_hits"].values()), db["core.region.write"]


def test_streams_that_never_hold_the_output_leave_the_os_credit_stall_empty(sim, tmp_path):
    """Negative: the same generator and seed with the output never held (paused at random, or free): the
    output-stationary sequencer never waits for credits, the closure check of the stream reports that bin and
    fails, while every value was still right (the failure is the closure's)."""
    result, rep, cov = stream(sim, tmp_path, outputs=["random:0.7", "none"])
    assert result["failed"] == 1 and every_value_checked(rep)
    assert "core.cross.dataflow_x_event: ('os', 'credit stall')" in rep["holes"], rep["holes"]


def test_first_hit_is_the_earliest_run(tmp_path):
    """make coverage's first-hit merge: a bin goes to the earliest run in RUNS order (each run counts cycles
    from its own 0, so a later run's smaller cycle does not win), with that run's cycle; a bin only a later run
    hit goes to it; the table names the run per bin and lists a missing bin as missing."""
    a, b = tmp_path / "a.json", tmp_path / "b.json"
    a.write_text(json.dumps({"core.x.p: 1": 900}))
    b.write_text(json.dumps({"core.x.p: 1": 5, "core.x.p: 2": 70}))
    first = merge_first_hits([("first run", "test_a", a), ("second run", "test_b", b),
                              ("no file", "test_c", tmp_path / "c.json")])
    assert first == {"core.x.p: 1": {"run": "first run", "test": "test_a", "cycle": 900},
                     "core.x.p: 2": {"run": "second run", "test": "test_b", "cycle": 70}}
    lines, size, hit = table({"core.x.p": {"bins:_hits": {1: 3, 2: 1, 3: 0}}}, first)
    assert (size, hit) == (3, 2)
    assert "    1: first hit by 'first run' (test_a) at cycle 900" in lines
    assert "    2: first hit by 'second run' (test_b) at cycle 70" in lines and "    missing: 3" in lines
