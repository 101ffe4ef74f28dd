"""The whole network on the simulated core (accel_tb.cocotb_tests.network), and its negative test."""
from __future__ import annotations

import json

import pytest

from accel_tb.cli.network import main as network


@pytest.mark.prefer("verilator")
def test_network_one_image(sim, tmp_path):
    """One bundled image through every layer with unsigned input; report and plot written. (Runs of about
    twenty images or more take the profile-guided build of this model: the same C++, its build tried end to
    end on the MAC in tb/mac/test_mac.py, to keep the suite's time.)"""
    assert network(["--sim", sim, "--images", "1", "--report-dir", str(tmp_path)]) == 0
    rep = json.loads((tmp_path / "network_report.json").read_text())
    assert rep["prediction_agreement"] == "1/1" and not rep["layer_mismatches"]
    assert [r["index"] for r in rep["layers"]] == [3, 7, 10, 14, 17, 20, 24, 27, 29, 33, 36, 39]
    assert rep["outputs_compared"] == sum(r["out_channels"] * r["height"] * r["width"] for r in rep["layers"])
    # performance guard: every layer within the cycle model's bound, so the utilization is at least
    # ideal / model per layer (99.9% over the network on 8x8)
    assert rep["cycle_bound_violations"] == []
    assert all(r["compute_cycles"] <= r["model_cycles"] for r in rep["layers"])
    assert rep["checkpoint"] == "checkpoints/vgg16_a4w4.pt"     # relative: reports travel between machines
    assert (tmp_path / "utilization.png").stat().st_size > 1000
    # the loads overlap compute (the core's two memory regions): every layer after the first finds its weights
    # written behind the layer before; a layer's first step fills its regions while it computes (its waits for
    # the words are compute cycles, within the model above), so what the writes add to a layer's span is at
    # most the next layer's weights that outlast its compute (bounds from the design, not from a run)
    layers = rep["layers"]
    words = [-(-r["out_channels"] // 8) * -(-r["in_channels"] // 8) * 9 for r in layers]   # 8x8 WS weight words
    assert layers[0]["wgt_load_cycles_per_layer"] == words[0] and layers[0]["wgt_prefetched_words"] == 0
    assert all(r["wgt_load_cycles_per_layer"] == 0 and r["wgt_prefetched_words"] == w
               for r, w in zip(layers[1:], words[1:])), [(r["index"], r["wgt_prefetched_words"]) for r in layers]
    for r, nxt in zip(layers, [*words[1:], 0]):
        outlast = max(0, nxt - r["compute_cycles"])
        assert 0 <= r["exposed_load_cycles"] <= outlast + 16, r


@pytest.mark.prefer("verilator")
def test_network_detects_corrupted_weight(sim, tmp_path):
    """Negative: one corrupted weight in features[29] fails the run at that layer, located."""
    assert network(["--sim", sim, "--images", "1", "--layers", "27,29", "--corrupt-layer", "29",
                    "--report-dir", str(tmp_path)]) == 1
    rep = json.loads((tmp_path / "network_report.json").read_text())
    assert len(rep["layer_mismatches"]) == 1 and rep["layer_mismatches"][0].startswith("features[29]:")
    assert "output channel 5" in rep["layer_mismatches"][0]


@pytest.mark.prefer("verilator")
def test_a_first_layer_of_many_commands_fills_within_the_model(sim, tmp_path):
    """features[29] (8 -> 512: 64 commands, 576 weight words) as a run's first layer: its first step fills both
    memory regions (rtl/core.v), and the step's other 63 commands must queue behind the first while the words
    go in (the cycle model's fill_delay counts on that): every value right and the layer within the model.
    (A host that sent them only after the weight words kept the sequencer idle some 430 cycles.)"""
    assert network(["--sim", sim, "--images", "1", "--layers", "29", "--report-dir", str(tmp_path)]) == 0
    rep = json.loads((tmp_path / "network_report.json").read_text())
    (r,) = rep["layers"]
    assert rep["cycle_bound_violations"] == [] and r["compute_cycles"] <= r["model_cycles"], r
    assert r["wgt_load_cycles_per_layer"] == 576 and r["wgt_prefetched_words"] == 0, r
    assert rep["raw"][0]["stats"]["29"]["fill_cycles"] > 0     # the step did fill (its words behind its command)


def _same_run(rep: dict) -> dict:
    """A report without what depends on the machine or the I/O path (wall times, the path's name)."""
    if isinstance(rep, dict):
        return {k: _same_run(v) for k, v in rep.items()
                if k != "io" and not k.startswith(("io_", "wall")) and not k.endswith("per_second")}
    return [_same_run(v) for v in rep] if isinstance(rep, list) else rep


@pytest.mark.prefer("verilator")
def test_host_io_in_the_simulator_matches_the_python_ports(sim, tmp_path):
    """The network top's host I/O (accel_tb.env.host_io: the writes streamed from a file inside the simulator,
    outputs, commands and busy's falls read back from its event log) runs the same cycles to the same results as
    the Python sources and monitors the layer tests use (--python-io): both reports equal in every figure but
    the wall time, a layer with prefetched weights and 64 output tiles among them. The event log moves to its
    other file every 4 kB here (16 MB in a run), so that its reader's turns are in the comparison."""
    reps = {}
    for io, extra in (("simulator", ["--io-log-rotate", "4096"]), ("python", ["--python-io"])):
        assert network(["--sim", sim, "--images", "2", "--layers", "27,29", "--report-dir", str(tmp_path / io),
                        *extra]) == 0
        reps[io] = json.loads((tmp_path / io / "network_report.json").read_text())
        assert reps[io]["io"] == io and reps[io]["prediction_agreement"] == "2/2"
    assert reps["simulator"]["outputs_compared"] == 2 * (8 * 16 + 512 * 16) and reps["simulator"]["simulated_cycles"] > 18000
    # two turns at least: the second one is of a file read after the first
    assert reps["simulator"]["raw"][0]["io_log_rotations"] >= 2
    assert _same_run(reps["simulator"]) == _same_run(reps["python"])


def test_network_busy_check_reads_the_event_log(tmp_path):
    """Negative of the busy check on the network top, whose commands and busy are watched through the event log
    (no Python monitor): the core whose busy ignores a queued command (tb/core's busy negative) computes every
    value right, and the run fails on busy alone, at the cycle after a command was taken; the fault found in
    layer 27 is carried into layer 29's report across the layer boundary, the log turning every 4 kB."""
    from accel_host.config import CoreConfig
    from accel_tb.design.core_ports import clocked_top_source, network_run
    from accel_tb.design.runner import BUILD, CORE_SOURCES, ROOT, run
    from accel_tb.quality.mutant import patched_rtl
    rtl = patched_rtl(BUILD / "negative" / "busy_q_network" / "rtl", "core", "assign busy", "q_valid ||", "q_valid &&")
    spec = network_run(long_run=False)
    spec["sources"] = [*(rtl / f"{m}.v" for m in CORE_SOURCES), clocked_top_source()]
    reps = {}
    for host_io in (True, False):
        out = tmp_path / str(host_io)
        config = {"adapter": "accel", "checkpoint": str(ROOT / "checkpoints" / "vgg16_a4w4.pt"), "images": [0],
                  "data_dir": None, "layers": [27, 29], "corrupt_layer": None, "dataflow": "auto",
                  "compare": False, "report_dir": str(out), "plot": False, "host_io": host_io, "host_io_rotate": 4096}
        result = run(**spec, includes=[rtl / "include"], test_module="accel_tb.cocotb_tests.network",
                     parameters=CoreConfig().parameters(), sim="icarus", testcase="test_network", config=config,
                     expect_fail=True)
        rep = reps[host_io] = json.loads((out / "network_report.json").read_text())
        assert result["failed"] == 1 and rep["prediction_agreement"] == "1/1"
    rep = reps[True]
    assert rep["io"] == "simulator" and reps[False]["io"] == "python"
    assert len(rep["layer_mismatches"]) == 2 and rep["raw"][0]["io_log_rotations"] >= 1 and all(
        ", 0 mismatches, 0 missing, 0 duplicates, 0 unexpected; RTL checks fired: busy low at cycle " in p and
        "(the cycle after a command was taken)" in p for p in rep["layer_mismatches"]), rep["layer_mismatches"]
    # the event log's check finds what the Python monitors find, at the same cycle, with the same counts
    assert rep["layer_mismatches"] == reps[False]["layer_mismatches"]


@pytest.mark.prefer("verilator")
def test_network_2bit_squeeze_block(sim, tmp_path):
    """The 2a4w network with the squeeze block and the next 512-channel layer on the core in the 2-bit mode
    (256 -> 16, 16 -> 16, 16 -> 512, 512 -> 512 on 2x2; the rest on the host), bit-exact and agreeing.
    `make network CHECKPOINT=checkpoints/vgg16_a2w4.pt` runs every layer."""
    from accel_tb.design.runner import ROOT
    assert network(["--sim", sim, "--images", "1", "--checkpoint", str(ROOT / "checkpoints" / "vgg16_a2w4.pt"),
                    "--layers", "24,27,30,34", "--report-dir", str(tmp_path)]) == 0
    rep = json.loads((tmp_path / "network_report.json").read_text())
    assert rep["prediction_agreement"] == "1/1" and not rep["layer_mismatches"]
    assert [r["index"] for r in rep["layers"]] == [24, 27, 30, 34]
    assert all(r["a_bits"] == 2 for r in rep["layers"])
    l27 = [r for r in rep["layers"] if r["index"] == 27][0]
    assert l27["ideal_cycles"] == 16 * 16 * 9 * 16 / (2 * 8 * 8)


def test_a_layer_above_its_cycle_bound_fails_the_command(tmp_path, monkeypatch):
    """The cycle models are the performance bound of every layer (the report's cycle_bound_violations): a core
    that loses the fold overlap (FAULT parameter FOLD_GAP: every value right, two cycles more per fold) was
    reported over the bound and the command still said PASS; it fails it now."""
    from accel_host.config import CoreConfig
    parameters = CoreConfig.parameters
    monkeypatch.setattr(CoreConfig, "parameters", lambda self: {**parameters(self), "FOLD_GAP": 1})
    assert network(["--sim", "icarus", "--images", "1", "--layers", "27", "--report-dir", str(tmp_path)]) == 1
    rep = json.loads((tmp_path / "network_report.json").read_text())
    assert rep["layer_mismatches"] == [] and rep["prediction_agreement"] == "1/1"
    assert len(rep["cycle_bound_violations"]) == 1 and rep["cycle_bound_violations"][0].startswith("features[27]")
