"""accel_tb.network.speed: the side-by-side cycles/s benchmark (its arithmetic and its refusals; the real runs
take minutes and are quoted in docs/network.md)."""
from __future__ import annotations

from pathlib import Path

import pytest

from accel_tb.network import speed


def test_pairs_alternate_and_the_ratio_is_now_over_base(monkeypatch):
    monkeypatch.setattr(speed, "worktree", lambda sha: Path("/base-tree"))
    figures = iter([100_000, 150_000, 110_000, 231_000])       # base, now, base, now
    order = []

    def fake_run(tree, images, dataflow, sim, out, data_dir):
        order.append(str(tree))
        return {"simulated_cycles": 7_000_000, "simulated_cycles_per_second": next(figures),
                "wall_seconds_per_image": 1.0, "model": "-O2"}
    lines = []
    med = speed.compare("HEAD", 2, 2, "ws", "verilator", run=fake_run, log=lines.append)
    assert order == ["/base-tree", str(speed.ROOT)] * 2
    assert med == pytest.approx((1.5 + 2.1) / 2)
    assert lines[-1] == "cycles/s now/base: median 1.80x (pairs: 1.50, 2.10)"
    rows = [line.split()[:2] for line in lines[2:-1]]
    assert rows == [["1", "base"], ["1", "now"], ["2", "base"], ["2", "now"]]
    assert all(line.endswith("  -O2") for line in lines[2:-1])


@pytest.mark.parametrize("argv,says", [
    (["--base", "no-such-revision"], "--base no-such-revision: not a commit of this repository"),
    (["--base", "HEAD", "--images", "0"], "--images 0: at least 1"),
    (["--base", "HEAD", "--pairs", "0"], "--pairs 0: at least 1"),
    (["--base", "HEAD", "--data-dir", "/no/such/folder"], "--data-dir /no/such/folder: no CIFAR-10 batches found "
     "(expected /no/such/folder/cifar-10-batches-py/test_batch and data_batch_1..5, the official python-version layout)"),
    # what both trees' accel-network would refuse, refused here before the base tree is checked out
    (["--base", "HEAD", "--images", "17"], "--images: bundled samples: image index 16 out of range 0..15 (use "
     "--data-dir for the full test set)"),
])
def test_bad_input_is_one_line_before_any_run(argv, says, capsys, monkeypatch):
    monkeypatch.setattr(speed, "run_network", lambda *a: pytest.fail("a run started"))
    monkeypatch.setattr(speed, "worktree", lambda sha: pytest.fail("a worktree was made"))
    assert speed.main(argv) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert err == [f"error: {says}"]


def test_a_failing_run_stops_with_its_status(monkeypatch):
    monkeypatch.setattr(speed, "worktree", lambda sha: Path("/base-tree"))

    def failing(*a):
        raise speed.SpeedError("/base-tree: accel-network exited 1: FAIL", 1)
    monkeypatch.setattr(speed, "run_network", failing)
    assert speed.main(["--base", "HEAD", "--images", "1", "--pairs", "1"]) == 1


def test_the_model_each_run_used_is_read_from_its_pass_line(monkeypatch, tmp_path):
    """A tree whose accel-network names its model ("..., profile-guided model)") gets it in its row; an older
    one that does not: "-"."""
    import json
    import subprocess

    def fake(cmd, cwd, env, capture_output, text):
        out = Path(cmd[cmd.index("--report-dir") + 1])
        out.mkdir(parents=True)
        (out / "network_report.json").write_text(json.dumps({"simulated_cycles": 1, "simulated_cycles_per_second": 2,
                                                              "wall_seconds_per_image": 3}))
        line = "PASS: 1 passed, 0 failed (verilator, 8x8" + (", profile-guided model)" if cwd == "new" else ")")
        return subprocess.CompletedProcess(cmd, 0, stdout=f"report: x\n{line}\n", stderr="")
    monkeypatch.setattr(speed.subprocess, "run", fake)
    assert speed.run_network("new", 1, "ws", "verilator", tmp_path / "a")["model"] == "profile-guided"
    assert speed.run_network("old", 1, "ws", "verilator", tmp_path / "b")["model"] == "-"
