"""Functional coverage (accel_tb.coverage): the closure hits every bin; a run that exercises nothing reports
its holes and fails."""
from __future__ import annotations

import json

import yaml

from accel_host.config import CoreConfig
from accel_tb.runner import CORE_SOURCES, ROOT, rtl_sources, run

CK4, CK2 = str(ROOT / "checkpoints" / "vgg16_a4w4.pt"), str(ROOT / "checkpoints" / "vgg16_a2w4.pt")


def closure(sim, tmp_path, **config):
    report, cov = tmp_path / "r.json", tmp_path / "coverage.yml"
    result = run(toplevel="core", sources=rtl_sources(*CORE_SOURCES), test_module="accel_tb.layer_tests",
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
    # 86 bins of the weight-stationary core + dataflow 2, dataflow x mode 4, switches 2, OS blocks 3
    assert db["core"]["cover_percentage"] == 100.0 and db["core"]["size"] == 97
    assert {"core.cmd.dataflow_x_a2", "core.cmd.dataflow_switch", "core.cmd.os_blocks"} <= points


def test_coverage_holes_fail_the_closure(sim, tmp_path):
    """Negative: with no layer and no random trial nothing is covered; the closure fails and names holes."""
    result, rep, cov = closure(sim, tmp_path, layers=[], max_trials=0)
    assert result["failed"] == 1 and len(rep["holes"]) == 97
    assert "core.cmd.empty: True" in rep["holes"] and "core.sum.value: neg >= 1/2 bound" in rep["holes"]
