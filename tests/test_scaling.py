"""accel_tb.scaling: the two-process throughput probe behind the `--workers 2` figures."""
from __future__ import annotations

import json
import shutil

import pytest

from accel_tb.scaling import ScalingError, main, pair_ratio


def test_pair_ratio_is_two_alone_over_pair_of_medians():
    alone, pair = [3.0, 2.0, 4.0], [3.0, 5.0, 2.5]
    r = pair_ratio(alone, pair)
    assert r["median_alone_s"] == 3.0 and r["median_pair_s"] == 3.0
    assert r["ratio"] == 2.0                       # two processes in the time of one: twice the throughput
    assert r["ratio_per_round"] == [2 * a / p for a, p in zip(alone, pair)]
    assert pair_ratio([2.0], [4.0])["ratio"] == 1.0   # two side by side take twice as long: no gain


@pytest.mark.parametrize("alone,pair", [([], []), ([1.0], [1.0, 2.0]), ([0.0], [1.0])])
def test_pair_ratio_refuses_bad_timings(alone, pair):
    with pytest.raises(ScalingError):
        pair_ratio(alone, pair)


def test_bad_options_exit_2(capsys):
    assert main(["--rounds", "0"]) == 2
    assert "error:" in capsys.readouterr().err


@pytest.mark.skipif(shutil.which("cc") is None and shutil.which("gcc") is None, reason="no C compiler")
def test_loop_probes_run_and_record(tmp_path):
    out = tmp_path / "s.json"
    assert main(["--rounds", "1", "--seconds", "0.2", "--json", str(out)]) == 0
    rep = json.loads(out.read_text())
    for name in ("chain", "ilp"):
        assert len(rep[name]["alone_s"]) == len(rep[name]["pair_s"]) == 1
        assert 0 < rep[name]["ratio"] < 3      # two processes can neither lose all work nor triple it
