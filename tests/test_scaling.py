"""accel_tb.network.scaling: the two-process throughput probe behind the `--workers 2` figures."""
from __future__ import annotations

import json
import shutil

import pytest

import accel_tb.network.scaling as scaling
from accel_tb.network.scaling import ScalingError, farm_ratio, main, pair_ratio


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


# A stand-in for accel-network: writes the report fields the probes read (a fixed simulated wall per image,
# chunk walls in "raw" when run with --workers), or fails when FAIL is in its environment.
FAKE_NETWORK = r"""
import json, os, sys
from pathlib import Path
if os.environ.get("FAKE_NETWORK_FAIL"):
    sys.exit(3)
a = sys.argv[1:]
d = Path(a[a.index("--report-dir") + 1]); d.mkdir(parents=True)
images = int(a[a.index("--images") + 1])
rep = {"wall_seconds_per_image": 2.5, "wall_seconds": 2.5 * images, "argv": a}
if "--workers" in a:
    chunk = int(a[a.index("--chunk") + 1])
    rep["raw"] = [{"wall": 2.5 * chunk}, {"wall": 2.5 * (images - chunk) + 4}]
(d / "network_report.json").write_text(json.dumps(rep))
"""


def test_sim_and_farm_probes_read_the_reports(tmp_path, monkeypatch):
    fake = tmp_path / "fake_network.py"
    fake.write_text(FAKE_NETWORK)
    seen = []

    def network_cmd(images, data_dir, *extra):
        seen.append([str(images), data_dir, *extra])
        return [scaling.sys.executable, str(fake), "--images", str(images), *extra]
    monkeypatch.setattr(scaling, "network_cmd", network_cmd)
    out = tmp_path / "s.json"
    assert main(["--rounds", "2", "--seconds", "0.05", "--sim-images", "1", "--farm-images", "5",
                 "--data-dir", str(tmp_path), "--json", str(out)]) == 0
    rep = json.loads(out.read_text())
    assert rep["sim"]["alone_s"] == rep["sim"]["pair_s"] == [2.5, 2.5]    # the report's per-image wall, not start-up
    assert rep["sim"]["ratio"] == 2.0
    assert rep["farm"]["images"] == 5 and len(rep["farm"]["two_workers_s"]) == 2
    assert rep["farm"]["one_process_sim_s"] == [12.5, 12.5]
    assert rep["farm"]["two_workers_slowest_chunk_sim_s"] == [9.0, 9.0]   # the slower chunk (2 images + 4 s), not the first
    farm_runs = [c for c in seen if "--workers" in c]
    assert len(farm_runs) == 2 and all(c[1] == str(tmp_path) for c in seen)
    assert sorted(c[0] for c in seen) == ["1"] * 6 + ["5"] * 4    # sim: 1 + 2 per round; farm: 1 + 1 per round
    for c in farm_runs:                      # its own cache, emptied: never the user's reports/chunks
        assert c[c.index("--chunk") + 1] == "3" and "--no-cache" in c
        assert str(tmp_path) not in c[c.index("--cache") + 1] and "scaling-" in c[c.index("--cache") + 1]


def test_a_failing_simulation_is_a_one_line_error(tmp_path, monkeypatch, capsys):
    fake = tmp_path / "fake_network.py"
    fake.write_text(FAKE_NETWORK)
    monkeypatch.setattr(scaling, "network_cmd",
                        lambda images, data_dir, *extra: [scaling.sys.executable, str(fake), *extra])
    monkeypatch.setenv("FAKE_NETWORK_FAIL", "1")
    assert main(["--rounds", "1", "--seconds", "0.05", "--sim-images", "1"]) == 1
    err = capsys.readouterr().err
    assert err.startswith("error: a network simulation") and err.count("\n") == 1


def test_network_cmd_passes_the_data_folder_only_when_given():
    cmd = scaling.network_cmd(3, "/data", "--report-dir", "r")
    assert cmd[1:] == ["-m", "accel_tb.cli.network", "--images", "3", "--report-dir", "r", "--data-dir", "/data"]
    assert "--data-dir" not in scaling.network_cmd(3, None)
