"""accel_tb.scaling: the two-process throughput probe behind the `--workers 2` figures."""
from __future__ import annotations

import json
import shutil

import pytest

import accel_tb.scaling as scaling
from accel_tb.scaling import ScalingError, farm_ratio, main, pair_ratio


def test_pair_ratio_is_two_alone_over_pair_of_medians():
    r = pair_ratio([3.0, 2.0, 4.0], [3.0, 5.0, 2.5])
    assert r["median_alone_s"] == 3.0 and r["median_pair_s"] == 3.0
    assert r["ratio"] == 2.0                           # two processes in the time of one: twice the throughput
    assert r["ratio_per_round"] == [2.0, 0.8, 3.2]
    assert pair_ratio([2.0], [4.0])["ratio"] == 1.0    # two side by side take twice as long: no gain


def test_farm_ratio_is_one_process_wall_over_two_worker_wall():
    r = farm_ratio([100.0, 90.0, 120.0], [50.0, 60.0, 80.0])
    assert r["ratio"] == 100.0 / 60.0                  # medians: the same images in 100 s against 60 s
    assert r["ratio_per_round"] == [2.0, 1.5, 1.5]


@pytest.mark.parametrize("alone,pair", [([], []), ([1.0], [1.0, 2.0]), ([0.0], [1.0])])
def test_ratios_refuse_bad_timings(alone, pair):
    with pytest.raises(ScalingError):
        pair_ratio(alone, pair)
    with pytest.raises(ScalingError):
        farm_ratio(alone, pair)


@pytest.mark.parametrize("argv,what", [(["--rounds", "0"], "--rounds"), (["--farm-images", "1"], "--farm-images 1"),
                                       (["--sim-images", "1", "--data-dir", "/nonexistent"], "--data-dir"),
                                       (["--json", "/nonexistent/x.json"], "--json")])
def test_bad_options_exit_2_before_any_probe(capsys, argv, what):
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: ") and what in err and err.count("\n") == 1


def test_no_compiler_is_a_one_line_error(monkeypatch, capsys):
    monkeypatch.setattr(scaling.shutil, "which", lambda name: None)
    assert main(["--rounds", "1", "--seconds", "0.1"]) == 1
    assert capsys.readouterr().err.startswith("error: no C compiler")


@pytest.mark.skipif(shutil.which("cc") is None and shutil.which("gcc") is None, reason="no C compiler")
def test_loop_probes_run_and_record(tmp_path):
    out = tmp_path / "s.json"
    assert main(["--rounds", "1", "--seconds", "0.2", "--json", str(out)]) == 0
    rep = json.loads(out.read_text())
    for name in ("chain", "ilp"):
        assert len(rep[name]["alone_s"]) == len(rep[name]["pair_s"]) == 1
        assert 0 < rep[name]["ratio"] < 3      # two processes can neither lose all work nor triple it
