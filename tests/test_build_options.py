"""How this project's core is built for the tests: the names made public, and the compile level."""
from __future__ import annotations

import re

import pytest

from accel_tb.design import core_ports, runner

# the code that reads the core's signals during a layer test or a network run
READERS = ("accel_tb/env/own_core.py", "accel_tb/quality/coverage.py", "accel_tb/cocotb_tests/layer_tests.py",
           "accel_tb/cocotb_tests/network.py")


def test_every_signal_the_watchers_read_is_made_public():
    """Verilator models of the core make only testbench_names() public; Icarus sees every signal, so a watcher
    that reads an unlisted one would fail only in the Verilator runs: the readers' sources are scanned here."""
    public = set(core_ports.testbench_names())
    top, seq = set(), set()
    for path in READERS:
        text = (runner.ROOT / path).read_text()
        top |= set(re.findall(r"\b(?:dut|d|self\.dut)\.([a-z][a-z0-9_]*)\b(?!\()", text)) - {"u_seq"}
        seq |= set(re.findall(r"\b(?:seq|u_seq)\.([a-z][a-z0-9_]*)\b(?!\()", text))
    assert top and seq, "the scan found no signal reads: the readers changed shape"
    assert top - public == set(), f"read but not public: {sorted(top - public)}"
    assert {f"sequencer.{n}" for n in seq} - public == set()


def test_a_submodule_signal_is_named_by_its_module():
    text = runner._public_config("core", ["busy", "sequencer.state"])
    assert text.splitlines()[1:] == ['public_flat_rw -module "core" -var "busy"',
                                     'public_flat_rw -module "sequencer" -var "state"']


def test_coverage_models_keep_every_signal_public():
    assert runner._visible(["busy"], codecov=True) == "all" and runner._visible(["busy"], codecov=False) == ["busy"]


@pytest.mark.parametrize("value", ["yes", "2"])
def test_a_compile_level_other_than_0_or_1_stops_before_a_build(value, monkeypatch, tmp_path):
    monkeypatch.setenv("ACCEL_QUICK_COMPILE", value)
    monkeypatch.setattr(runner, "BUILD", tmp_path)
    with pytest.raises(runner.BuildError, match=f"ACCEL_QUICK_COMPILE={value}: must be 0 or 1"):
        runner.build("core", runner.rtl_sources(*runner.CORE_SOURCES), sim="verilator")
    assert list(tmp_path.iterdir()) == []
