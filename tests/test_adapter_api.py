"""The adapter API without a simulation: the layer's facts handed to the hooks, the fit checks in the
environment (every entry point), the kinds an adapter declares it reports, and Geometry.output_stationary /
psum_bits read. (The simulations: tb/adapter_api for tick() timing and RegisteredInputs, tb/byoc for the
example core with X outputs and psums reported from the hooks.)"""
from __future__ import annotations

import asyncio
import dataclasses
import logging
import random
import re
import shutil

import pytest

from accel_tb.adapter import CoreAdapter, Geometry, fit_problem, layer_facts, load_adapter_class
from accel_tb.design.runner import ROOT
from accel_tb.env.environment import Environment, random_job

EXAMPLE = ROOT / "examples" / "skeleton_core" / "adapter.py"


class _Dut:
    _log = logging.getLogger("fake_dut")


def _job(geometry, ic, oc, side, extreme=None):
    return random_job(random.Random(1), geometry, shape=(ic, oc, side), relu=True, extreme=extreme)


@pytest.mark.parametrize("side", [4, 2, 3])
def test_layer_facts_are_the_layers(side):
    g = Geometry(rows=8, cols=8)
    job = _job(g, 8, 8, side)
    f = layer_facts(job)
    assert (f.height, f.width, f.padded_width) == (side, side, side + 2)
    assert f.positions == (side + 2) ** 2 == job.a_tiles.shape[-1]
    assert f.outputs == side * side
    assert f.padded == tuple(tuple(job.padded_nij(o, k) for k in range(9)) for o in range(side * side))
    if side == 4:       # what the example used to hard-code: 36 positions, 16 outputs, (y + k//3)*6 + x + k%3
        assert f.padded[5] == tuple((1 + k // 3) * 6 + 1 + k % 3 for k in range(9))


def _env(cls):
    return Environment(_Dut(), cls(_Dut()))


def _refused(cls, job) -> str:
    res = asyncio.run(_env(cls).check(job))
    assert res.checker.stopped, "a layer that does not fit must be refused"
    return res.checker.stopped


def test_fit_checks_run_in_the_environment():
    """Environment.check (pytest --golden, make, the API, accel-byoc alike) refuses what does not fit, one line."""
    cls = load_adapter_class(str(EXAMPLE))
    g = cls.geometry
    assert fit_problem(cls, _job(g, 8, 16, 4)) is None                     # fits: one input tile, two output tiles
    why = _refused(cls, _job(g, 8, 8, 5))
    assert why.startswith("the layer does not fit the core: layer random 8->8 on 5x5: input side 5 exceeds "
                          "SkeletonCore's max_side=4")
    assert "needs several input-channel tiles; SkeletonCore declares a single-tile 8x8" in _refused(cls, _job(g, 9, 8, 4))

    class OneTile(cls):                     # a run_layer of its own, not marked as running output tiles
        async def run_layer(self, job, sink):
            pass
    assert "needs several output-channel tiles; OneTile overrides run_layer" in _refused(OneTile, _job(g, 8, 9, 4))

    class Narrow(cls):                      # psum_bits read: sums of up to 7 * 15 * 72 do not fit 8 bits
        geometry = dataclasses.replace(g, psum_bits=8)
    assert "does not fit Narrow's psum_bits=8 (-128 .. 127)" in _refused(Narrow, _job(g, 8, 8, 4, extreme="pos"))
    assert fit_problem(cls, _job(g, 8, 8, 4, extreme="pos")) is None       # 16 bits hold them


def test_the_kinds_checked_follow_reports_and_output_stationary():
    cls = load_adapter_class(str(EXAMPLE))
    g = cls.geometry
    job = _job(g, 8, 8, 4)
    assert _env(cls).checker(job).kinds == ["relu"]

    class PsumPort(cls):
        geometry = dataclasses.replace(g, psum_monitor=True)
        reports = ("psum", "relu")
    ch = _env(PsumPort).checker(job)
    assert ch.kinds == ["psum", "relu"] and ch.not_monitored == ["sum"]
    assert "PsumPort reports psum, relu only" in ch.unchecked_reason

    class Full(cls):
        geometry = dataclasses.replace(g, psum_monitor=True, output_stationary=True)
    assert _env(Full).checker(job).kinds == ["psum", "sum", "relu"]
    job.dataflow = "os"             # an output-stationary run of a core that declares it: no psums
    ch = _env(Full).checker(job)
    assert ch.kinds == ["sum", "relu"] and "makes no partial sums" in ch.unchecked_reason

    class NotOs(Full):
        geometry = dataclasses.replace(Full.geometry, output_stationary=False)
    assert _env(NotOs).checker(job).kinds == ["psum", "sum", "relu"]


def test_report_psum_outside_the_default_flow_is_an_adapter_error():
    from accel_tb.adapter import AdapterError
    a = CoreAdapter(_Dut())
    with pytest.raises(AdapterError, match="report_psum\\(\\) is for the hooks of the default run_layer"):
        a.report_psum(0, [0] * 8)


def test_an_adapter_is_a_file_a_module_or_a_package_and_anything_else_is_one_line(tmp_path, monkeypatch):
    """--adapter takes path/to/file.py[:Class] or an importable module or package [:Class] (a package folder on
    sys.path included: it was refused as 'a folder' for a while); a .toml, a folder that is no package, a path
    without .py or ':Class' alone is one line (each was a traceback)."""
    from accel_tb.adapter import AdapterError
    pkg = tmp_path / "team_pkg"
    pkg.mkdir()
    (pkg / "__init__.py").write_text("from accel_tb.adapter import CoreAdapter\n\n\nclass TeamCore(CoreAdapter):\n"
                                     "    pass\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.chdir(tmp_path)
    assert load_adapter_class("team_pkg").__name__ == "TeamCore" == load_adapter_class("team_pkg:TeamCore").__name__
    (tmp_path / "plain").mkdir()
    (tmp_path / "c.toml").write_text("")
    for spec, says in (("plain", "a folder; give the adapter's .py file"), ("c.toml", "not a Python file (.py); a "
                       ".toml describing a course-skeleton core goes to --config"), ("./adapter", "file not found"),
                       (":TeamCore", "no file or module before ':'")):
        with pytest.raises(AdapterError, match=re.escape(says)):
            load_adapter_class(spec)


def test_an_adapter_loading_its_file_by_a_relative_name_is_told_where_that_was_read(tmp_path, monkeypatch):
    """load_config("team.toml") in an adapter reads from where the command runs: run from elsewhere, the one
    line names the working folder and the form that reads the file beside the adapter (which then loads)."""
    from accel_tb.adapter import AdapterError
    team = tmp_path / "team"
    team.mkdir()
    shutil.copyfile(ROOT / "examples" / "skeleton_core" / "skeleton.toml", team / "team.toml")
    adapter = team / "adapter.py"
    adapter.write_text("from accel_tb.env.skeleton import SkeletonAdapter, load_config\n\n\nclass Team(SkeletonAdapter):\n"
                       "    config = load_config('team.toml')\n")
    monkeypatch.chdir(tmp_path)
    with pytest.raises(AdapterError, match=re.escape(f"team.toml: file not found (a relative path is read from the "
                                                     f"working folder {tmp_path}, not the adapter's; name the file "
                                                     f"beside it as load_config(Path(__file__).with_name('team.toml')))")):
        load_adapter_class(str(adapter))
    adapter.write_text("from pathlib import Path\n\nfrom accel_tb.env.skeleton import SkeletonAdapter, load_config\n\n\n"
                       "class Team(SkeletonAdapter):\n    config = load_config(Path(__file__).with_name('team.toml'))\n")
    assert load_adapter_class(str(adapter)).config.rows == 8


def test_a_geometry_of_the_wrong_kind_or_size_is_one_line():
    """An adapter's geometry judged before the build (psum_bits=0, cols="8", a dict: tracebacks deep in the run)."""
    from accel_tb.adapter import geometry_problem
    assert geometry_problem(Geometry(rows=8, cols=8)) is None
    assert geometry_problem(Geometry(rows=8, cols=8, max_side=None, psum_bits=64)) is None
    for g, says in ((None, "geometry is a NoneType, not an accel_tb.adapter.Geometry"),
                    (dict(rows=8, cols=8), "geometry is a dict"),
                    (Geometry(rows=8, cols=8, psum_bits=0), "Geometry.psum_bits = 0: must be an integer in 2..64"),
                    (Geometry(rows=8, cols="8"), "Geometry.cols = '8': must be an integer in 1..64"),
                    (Geometry(rows=0, cols=8), "Geometry.rows = 0: must be an integer in 1..64"),
                    (Geometry(rows=True, cols=8), "Geometry.rows = True"),
                    (Geometry(rows=8, cols=8, max_side=0), "Geometry.max_side = 0: must be an integer >= 1, or None"),
                    (Geometry(rows=8, cols=8, two_bit=1), "Geometry.two_bit = 1: must be True or False")):
        assert geometry_problem(g).startswith(says), geometry_problem(g)
