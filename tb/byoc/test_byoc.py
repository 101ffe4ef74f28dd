"""Verify-your-own-core: the course-skeleton core of examples/skeleton_core through its adapter, this
project's core through the same API, and the user command run from a folder outside the repository."""
from __future__ import annotations

import json
import shutil
import subprocess
import sys

import pytest

from accel_tb.runner import ROOT, run

EXAMPLE = ROOT / "examples" / "skeleton_core"
CHECKPOINT = str(ROOT / "checkpoints" / "vgg16_a4w4.pt")
TWO_IMAGES = {"checkpoint": CHECKPOINT, "layer": 27, "images": [0, 1], "data_dir": None}


def run_skeleton(sim, tmp_path, params=None, corrupt=None, expect_fail=False):
    report = tmp_path / "report.json"
    config = {"adapter": str(EXAMPLE / "adapter.py"), "layer": TWO_IMAGES, "corrupt": corrupt,
              "report": str(report)}
    result = run(toplevel="core", sources=sorted((EXAMPLE / "rtl").glob("*.v")), test_module="accel_tb.layer_tests",
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


def test_own_core_two_images_through_the_same_api(sim, tmp_path):
    report = tmp_path / "r.json"
    from accel_host.config import CoreConfig
    from accel_tb.runner import CORE_SOURCES, rtl_sources
    run(toplevel="core", sources=rtl_sources(*CORE_SOURCES), test_module="accel_tb.layer_tests",
        parameters=CoreConfig().parameters(), sim=sim, testcase="test_layer",
        config={"adapter": "accel", "layer": TWO_IMAGES, "report": str(report)})
    rep = json.loads(report.read_text())
    assert rep["relu"]["compared"] == 2 * 16 * 8 and rep["psum"]["compared"] == 2 * 9 * 16 * 8


def test_user_command_from_outside_the_repository(tmp_path):
    """An adapter and RTL that live outside the repository, run with the user command from their folder."""
    mine = tmp_path / "my_team"
    shutil.copytree(EXAMPLE, mine)
    r = subprocess.run([sys.executable, "-m", "accel_tb.cli_byoc", "--adapter", "adapter.py", "--rtl", "rtl/*.v",
                        "--top", "core", "--images", "2", "--sim", "icarus"], cwd=mine, capture_output=True, text=True)
    out = r.stdout.strip().splitlines()
    assert r.returncode == 0, r.stdout[-3000:] + r.stderr[-3000:]
    assert out[-1].startswith("PASS") and any(l.startswith("relu: 32/32 vectors, 256 values compared, 0 mismatches")
                                              for l in out)
    bad = subprocess.run([sys.executable, "-m", "accel_tb.cli_byoc", "--adapter", "missing.py", "--rtl", "rtl/*.v",
                          "--top", "core"], cwd=mine, capture_output=True, text=True)
    assert bad.returncode == 2 and bad.stderr.strip() == "error: --adapter missing.py: file not found"
