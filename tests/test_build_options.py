"""How this project's core is built for the tests: the names made public, and the compile level."""
from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest

from accel_tb.design import core_ports, runner


@pytest.fixture(autouse=True)
def _no_build_settings(monkeypatch, tmp_path):
    """The settings that change how a model is built (ACCEL_QUICK_COMPILE, WAVES, ACCEL_CODECOV, the user's
    MAKEFLAGS, ACCEL_PGO) may be set for the whole suite (`make test WAVES=1`): these tests set their own. The
    models' folder is the test's own: what the suite or a user built (a profile-guided model a shorter run
    would take) does not decide these tests."""
    for var in ("ACCEL_QUICK_COMPILE", "WAVES", "ACCEL_CODECOV", "MAKEFLAGS", "ACCEL_PGO"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setattr(runner, "BUILD", tmp_path / "build")


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


def test_a_runtime_store_setting_other_than_0_or_1_stops_before_a_build(monkeypatch, tmp_path):
    monkeypatch.setenv("ACCEL_RUNTIME_STORE", "yes")
    monkeypatch.setattr(runner, "BUILD", tmp_path)
    with pytest.raises(runner.BuildError, match="ACCEL_RUNTIME_STORE=yes: must be 0 or 1"):
        runner.build("core", runner.rtl_sources(*runner.CORE_SOURCES), sim="icarus")
    assert list(tmp_path.iterdir()) == []


def _ports(text: str, module: str) -> list[str]:
    head = re.search(rf"module {module} #\((.*?)^\) \((.*?)^\);", text, re.M | re.S)
    return re.findall(r"^\s*(?:input|output)\s+wire\s+(?:\[[^\]]+\]\s+)?(\w+)", head[2], re.M), \
        re.findall(r"^\s*parameter\s+integer\s+(\w+)", head[1], re.M)


def test_the_self_clocked_top_is_the_core_with_its_clock_inside():
    """The whole-network top (core_ports.CLOCKED_TOP) has every port of rtl/core.v but clk, every parameter
    passed down, the clock made inside at the testbench's period, and the core's assertion flags at its top."""
    from accel_tb.vip.sim import CLOCK_NS
    text = core_ports.clocked_top_text()
    core_port_names, core_params = _ports((core_ports.RTL / "core.v").read_text(), "core")
    top_ports, top_params = _ports(text, core_ports.CLOCKED_TOP)
    assert "clk" in core_port_names and top_ports == [p for p in core_port_names if p != "clk"] + list(
        core_ports.HOST_IO_INPUTS) + [p for p in core_ports.HOST_IO_OUTPUTS if p == "io_out_reached"]
    assert top_params == core_params and len(core_params) > 10
    assert all(f".{p}({p})" in text for p in core_params) and "u (.*, " in text
    # the host I/O's streamers drive the core's write ports; everything else is connected by name
    assert all(f".{p}_wr_{f}({p}_io_{f})" in text for p in ("act", "wgt") for f in ("valid", "addr", "region", "data"))
    assert "localparam integer ACT_DW = (ROWS*A_W);" in text and "localparam integer WGT_DW = (2*ROWS*COLS*W_W);" in text
    assert f"always #{core_ports.HALF_PERIOD_NS} clk = ~clk;" in text and 2 * core_ports.HALF_PERIOD_NS == CLOCK_NS
    assert "assert_fired = u.assert_fired;" in text
    run = core_ports.network_run()
    assert run["toplevel"] == core_ports.CLOCKED_TOP and run["timing"] and run["long_run"]
    assert set(core_ports.HOST_IO_INPUTS + core_ports.HOST_IO_OUTPUTS) <= set(run["public"])
    assert run["sources"][-1].read_text() == text


def test_a_core_header_the_generator_cannot_read_is_one_error(tmp_path, monkeypatch):
    (tmp_path / "core.v").write_text("module core (input wire rst);\nendmodule\n")
    monkeypatch.setattr(core_ports, "RTL", tmp_path)
    with pytest.raises(ValueError, match="rtl/core.v: its header"):
        core_ports.clocked_top_text()


def test_a_parameter_the_generator_would_not_pass_down_is_one_error(tmp_path, monkeypatch):
    """A core.v parameter not written 'parameter integer NAME = ...' on a line of its own would reach the top
    but not the core inside it: refused, not generated."""
    text = (core_ports.RTL / "core.v").read_text()
    assert core_ports.clocked_top_text()        # the real header reads
    (tmp_path / "core.v").write_text(text.replace("parameter integer COLS      = 8,", "parameter COLS = 8,", 1))
    monkeypatch.setattr(core_ports, "RTL", tmp_path)
    with pytest.raises(ValueError, match="every parameter must read 'parameter integer NAME"):
        core_ports.clocked_top_text()


def _seen_by_run(monkeypatch) -> dict:
    """accel-network's run() stood in for: the dict returned fills with the arguments the CLI passes it."""
    from accel_tb.cli import network as cli
    seen = {}

    def fake_run(**kw):
        seen.update(kw)
        return {"tests": 1, "failed": 0, "build": ""}
    monkeypatch.setattr(cli, "run", fake_run)
    return seen


@pytest.mark.parametrize("args,long_run", [(["--layers", "27,29"], False), ([], True)])
def test_a_network_run_of_a_few_layers_takes_the_quick_build(args, long_run, monkeypatch, tmp_path):
    """The whole network (about 3.4 M cycles an image on 8x8) takes the -O2 model; a subset of small layers
    (about 10 k cycles) the quick one, whose compile is the larger part of such a run (core_ports.LONG_RUN_CYCLES)."""
    from accel_tb.cli import network as cli
    seen = _seen_by_run(monkeypatch)
    assert cli.main(["--images", "1", *args, "--report-dir", str(tmp_path)]) == 0
    assert seen["toplevel"] == core_ports.CLOCKED_TOP and seen["long_run"] is long_run


@pytest.mark.parametrize("args,env,trained", [
    (["--images", "1"], None, False),
    (["--images", "16"], None, False),          # 16 x about 3.4 M cycles: under core_ports.PGO_RUN_CYCLES
    (["--images", "16", "--compare"], None, True),   # twice that (both dataflows): over it
    (["--images", "16", "--compare"], "0", False),
    (["--images", "2", "--first-image", "3", "--dataflow", "os"], "1", True),
    (["--images", "2", "--layers", "27,29"], "1", True),      # a subset trains on the network's last layers too
    (["--images", "16", "--compare", "--sim", "icarus"], None, False),  # GCC's profile is the Verilator model's
])
def test_a_long_network_run_takes_the_profile_guided_model(args, env, trained, monkeypatch, tmp_path):
    """A network run of about twenty images or more trains and compiles the profile-guided model: its training
    run is the same run (dataflow, checkpoint, I/O path) on the first image and the last two layers, with no
    report and nothing corrupted; ACCEL_PGO=0/1 forces it off or on; Icarus does not take it."""
    from accel_tb.cli import network as cli
    if env is not None:
        monkeypatch.setenv("ACCEL_PGO", env)
    seen = _seen_by_run(monkeypatch)
    assert cli.main([*args, "--report-dir", str(tmp_path)]) == 0
    train = seen["train"]
    if not trained:
        assert train is None
        return
    first = int(args[args.index("--first-image") + 1]) if "--first-image" in args else 0
    assert seen["long_run"] and train.test_module == "accel_tb.cocotb_tests.network"
    assert train.config == {**seen["config"], "images": [first], "layers": [36, 39], "corrupt_layer": None,
                            "report_dir": None, "plot": False}


@pytest.mark.parametrize("args,env,says", [
    (["--sim", "icarus"], {}, "icarus (GCC's profile is of a Verilator model)"),
    ([], {"WAVES": "1"}, "WAVES=1"),
    ([], {"ACCEL_QUICK_COMPILE": "1"}, "ACCEL_QUICK_COMPILE=1"),
    ([], {"ACCEL_CODECOV": "{tmp}/cov"}, "ACCEL_CODECOV (a coverage model)"),
    ([], {"MAKEFLAGS": "OPT_FAST=-O3"}, "MAKEFLAGS sets OPT_FAST"),
])
def test_a_forced_profile_guided_model_that_cannot_be_built_is_one_line(args, env, says, monkeypatch, capsys,
                                                                      tmp_path):
    """ACCEL_PGO=1 where no profile-guided model can be built is refused before anything runs, not dropped
    without a word (without ACCEL_PGO those runs take their usual model)."""
    from accel_tb.cli import network as cli
    monkeypatch.setenv("ACCEL_PGO", "1")
    for k, v in env.items():
        monkeypatch.setenv(k, v.format(tmp=tmp_path))
    monkeypatch.setattr(cli, "run", lambda **kw: pytest.fail("ran despite ACCEL_PGO=1 that cannot hold"))
    assert cli.main(["--images", "1", *args, "--report-dir", str(tmp_path)]) == 2
    assert capsys.readouterr().err.strip().splitlines() == [f"error: ACCEL_PGO=1: no profile-guided model with {says}"]


QUICK_SAYS = "quick for layer tests, -O2 for whole-network runs"


@pytest.mark.parametrize("var,value,says,args", [
    ("ACCEL_PGO", "yes", "profile-guided for long network runs", []),
    ("ACCEL_PGO", "2", "profile-guided for long network runs", []),
    ("ACCEL_QUICK_COMPILE", "yes", QUICK_SAYS, []), ("ACCEL_QUICK_COMPILE", "2", QUICK_SAYS, ["--sim", "icarus"]),
    ("ACCEL_RUNTIME_STORE", "yes", "the store when `make setup` filled it", [])])
def test_a_build_setting_other_than_0_or_1_is_one_line_before_anything_runs(var, value, says, args, monkeypatch,
                                                                            capsys, tmp_path):
    """accel-network judges ACCEL_PGO, ACCEL_QUICK_COMPILE and ACCEL_RUNTIME_STORE with its options: one line, exit
    2, nothing run (a
    bad ACCEL_QUICK_COMPILE once reached the model's folder as a traceback)."""
    from accel_tb.cli import network as cli
    monkeypatch.setenv(var, value)
    monkeypatch.setattr(cli, "run", lambda **kw: pytest.fail(f"ran despite a bad {var}"))
    assert cli.main(["--images", "1", *args, "--report-dir", str(tmp_path)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert err == [f"error: {var}={value}: must be 0 or 1 (or unset: {says})"]


def test_the_profile_guided_stages_compile_with_their_own_flags(monkeypatch):
    """make's flags for the stages of a profile-guided build: instrumented (libgcov linked), then compiled from
    the counts with link-time optimisation (the link gets the flags), or without it; none through ccache;
    spaces escaped for MAKEFLAGS; a user's OPT_FAST kept as it is."""
    monkeypatch.delenv("MAKEFLAGS", raising=False)
    gen, lto, use = (runner._make_flags(False, stage) for stage in ("generate", "use+lto", "use"))
    assert "OPT_FAST=-O2\\ -fprofile-generate " in gen and "LOADLIBES=-lgcov" in gen and "OBJCACHE= " in gen
    for flags in (lto, use):
        assert "OPT_FAST=-O2\\ -fprofile-use\\ " in flags and "OPT_GLOBAL=-O2\\ -fprofile-use" in flags
        assert "OBJCACHE= " in flags and "gcov" not in flags
    assert "-flto=auto OPT_GLOBAL=" in lto and lto.endswith("LOADLIBES=-flto=auto\\ -O2")
    assert "lto" not in use and use.endswith("LOADLIBES=")
    assert runner._make_flags(False, "use", "-j2 OPT_FAST=-O3") == "-j2 OPT_FAST=-O3"


@pytest.mark.parametrize("lto_fails", [False, True])
def test_a_profile_guided_build_falls_back_to_the_profile_alone_when_lto_fails(lto_fails, tmp_path, monkeypatch,
                                                                              capsys):
    """_profile_guided after its training run: every object removed, then compiled from the counts with
    link-time optimisation; where that build fails (a toolchain without LTO's linker plugin), the objects are
    removed again and compiled from the counts alone, said in one line. make is stood in for here: the real
    stages run in tb/network's one-image test."""
    (tmp_path / "Vtop.o").write_text("stale")
    (tmp_path / "mac").write_text("exe")
    def simulate(*a, **k):
        (tmp_path / "Vtop.gcda").write_text("counts")
        return {"tests": 1, "failed": 0, "run_dir": tmp_path / "runs" / "t"}
    monkeypatch.setattr(runner, "_simulate", simulate)
    calls = []

    def fake_make(cmd, env, **kw):
        flags = env["MAKEFLAGS"]
        calls.append(("lto" if "flto" in flags else "use", sorted(p.name for p in tmp_path.iterdir())))
        failed = lto_fails and "flto" in flags
        return subprocess.CompletedProcess(cmd, 2 if failed else 0, stdout="",
                                           stderr="lto-wrapper: fatal error: no plugin\n" if failed else "")
    monkeypatch.setattr(runner.subprocess, "run", fake_make)
    assert runner._profile_guided(tmp_path, "mac", {}, "all", runner.ProfileRun("t", "t", {}), "") is True
    assert [c[0] for c in calls] == (["lto", "use"] if lto_fails else ["lto"])
    assert all(files == ["Vtop.gcda"] for _, files in calls), calls     # objects gone, the counts kept
    out = capsys.readouterr().out
    assert ("the link-time-optimised build failed (lto-wrapper: fatal error: no plugin); compiled from the "
            "profile without it") in out if lto_fails else "failed" not in out



class _FakeCocotbRunner:
    """cocotb's runner as build() and _simulate() drive it, without a compiler or simulator: build() records
    the files it found in the folder; test() fails as cocotb's runner does on a simulator that exits non-zero
    (a plain RuntimeError), here one killed before it wrote its results."""
    found: list = []

    def build(self, build_dir, **kw):
        build_dir = Path(build_dir)
        build_dir.mkdir(parents=True, exist_ok=True)
        _FakeCocotbRunner.found.append(sorted(p.name for p in build_dir.iterdir()))
        (build_dir / "mac").write_text("model")

    def test(self, **kw):
        raise RuntimeError("Command failed with return code: -9")


@pytest.fixture
def fake_cocotb(monkeypatch):
    """runner.build and runner._simulate with cocotb's runner (and the simulator check) stood in for (in the
    test's own build folder, _no_build_settings')."""
    monkeypatch.setattr(runner, "_runner", lambda sim, public="all": _FakeCocotbRunner())
    monkeypatch.setattr(runner, "require_simulator", lambda sim, what: None)
    _FakeCocotbRunner.found = []


@pytest.fixture
def fake_builds(fake_cocotb, monkeypatch):
    """fake_cocotb, and the profile's second half stood in for; returns the calls made to it."""
    trained = []
    monkeypatch.setattr(runner, "_profile_guided", lambda build_dir, *a: trained.append(build_dir) or True)
    return trained


TRAIN = runner.ProfileRun("test_mac", "test_mac_exhaustive", {})


def _build(**kw):
    return runner.build("mac", runner.rtl_sources("mac"), sim="verilator", long_run=True, **kw)


def test_a_profile_guided_model_has_a_folder_of_its_own(fake_builds):
    plain, pgo = _build(), _build(train=TRAIN)
    assert pgo != plain and pgo.name.endswith("-pgo") and not plain.name.endswith("-pgo")
    assert fake_builds == [pgo] and runner.build_kind(pgo) == "profile-guided" and runner.build_kind(plain) == "-O2"


def test_a_quick_model_and_an_o2_one_have_folders_of_their_own(fake_builds, monkeypatch):
    """The compile level is no Verilator argument (both levels run Verilator alike): it is in the hash, so that
    a quick model is never run where an -O2 one was asked for, nor the reverse; with the user's own OPT_FAST,
    which replaces both levels, the two are one model."""
    o2 = _build()
    quick = runner.build("mac", runner.rtl_sources("mac"), sim="verilator", long_run=False)
    assert quick != o2 and runner.build_kind(quick) == "quick" and runner.build_kind(o2) == "-O2"
    assert runner._make_flags(True).endswith("OPT_FAST=-O0 OPT_GLOBAL=-O2")
    assert runner._make_flags(False).endswith("OPT_FAST=-O2 OPT_GLOBAL=-O2")
    monkeypatch.setenv("MAKEFLAGS", "OPT_FAST=-O1")
    own = runner.build("mac", runner.rtl_sources("mac"), sim="verilator", long_run=False)
    assert own == _build() and runner.build_kind(own) == "MAKEFLAGS OPT_FAST"    # neither quick nor -O2


@pytest.mark.parametrize("var,value", [("ACCEL_QUICK_COMPILE", "1"), ("WAVES", "1"), ("ACCEL_CODECOV", "cov"),
                                       ("MAKEFLAGS", "OPT_FAST=-O3")])
def test_a_model_that_cannot_be_profile_guided_is_built_as_without_a_training(var, value, fake_builds, monkeypatch,
                                                                               tmp_path):
    """A training given where none can apply (runner.pgo_blocked): the model those settings build anyway, no
    training run, no folder of the profile-guided kind."""
    monkeypatch.setenv(var, str(tmp_path / value) if var == "ACCEL_CODECOV" else value)
    waves = var == "WAVES"
    assert _build(train=TRAIN, waves=waves) == _build(waves=waves) and fake_builds == []


def test_a_profile_guided_build_starts_from_a_clean_folder(fake_builds):
    """What an interrupted profile-guided build left (objects of either stage, old counts, the model) is
    removed before the instrumented build, so that nothing of it is linked or counted again."""
    folder = _build(train=TRAIN)
    (folder / ".built").unlink()
    for name in ("Vtop.o", "Vtop__ALL.a", "Vtop__pch.h.fast.gch", "Vtop.gcda", "Vtop.cpp"):
        (folder / name).write_text("stale")
    assert _build(train=TRAIN) == folder
    assert _FakeCocotbRunner.found[-1] == ["Vtop.cpp"]


def test_a_training_run_that_does_not_finish_stops_the_build_and_records_nothing(fake_cocotb, tmp_path):
    """A training run whose simulator is killed (cocotb's runner raises a plain RuntimeError, no results) is a
    build error in one line naming ACCEL_PGO=0, and no model is recorded: the next run builds again instead of
    keeping an unprofiled model for good."""
    with pytest.raises(runner.BuildError, match=r"training run did not finish \(.*the simulator stopped "
                       r"\(Command failed with return code: -9\).*\); ACCEL_PGO=0 builds"):
        _build(train=TRAIN)
    assert [p for p in (tmp_path / "build" / "mac").glob("*/.built")] == []


@pytest.mark.parametrize("case", ["no counts", "counts not found"])
def test_a_model_compiled_without_its_counts_is_recorded_unprofiled(case, tmp_path, monkeypatch, capsys):
    """_profile_guided: a training run that wrote no counts, or a compile that did not find them (GCC's
    -Wmissing-profile), gives a model recorded as unprofiled, said in one line -- never called profile-guided."""
    def simulate(*a, **k):
        if case == "counts not found":
            (tmp_path / "Vtop.gcda").write_text("counts")
        return {"tests": 1, "failed": 0, "run_dir": tmp_path / "runs" / "t"}
    monkeypatch.setattr(runner, "_simulate", simulate)
    warning = ("Vtop.cpp:1:1: warning: '/x/Vtop.gcda' profile count data file not found [-Wmissing-profile]\n"
               if case == "counts not found" else "")
    monkeypatch.setattr(runner.subprocess, "run",
                        lambda cmd, env, **kw: subprocess.CompletedProcess(cmd, 0, stdout="", stderr=warning))
    assert runner._profile_guided(tmp_path, "mac", {}, "all", TRAIN) is False
    out = capsys.readouterr().out
    assert ("wrote no counts" in out) if case == "no counts" else ("1 file(s) compiled without their counts" in out)


def test_a_users_own_compile_level_gets_a_model_of_its_own(fake_builds, monkeypatch):
    """A model built with the user's OPT_FAST in MAKEFLAGS (kept as it is by _make_flags) is not the ordinary
    build's: its own folder per value, so none is run in place of another; MAKEFLAGS without one changes nothing."""
    plain = _build()
    monkeypatch.setenv("MAKEFLAGS", "-j2")
    assert _build() == plain
    monkeypatch.setenv("MAKEFLAGS", "-j2 OPT_FAST=-O3")
    own = _build()
    monkeypatch.setenv("MAKEFLAGS", "-j2 OPT_FAST=-O1")
    other = _build()
    # a value with spaces (make escapes each in MAKEFLAGS) is one value: its words are in the hash
    monkeypatch.setenv("MAKEFLAGS", "-j2 OPT_FAST=-O3\\ -march=native")
    native = _build()
    monkeypatch.setenv("MAKEFLAGS", "-j2 OPT_FAST=-O3\\ -fno-inline")
    assert len({plain, own, other, native, _build()}) == 5


def _network_cli(monkeypatch, tmp_path, *args) -> dict:
    """accel-network's main with its run building the model it asks for (compiler, simulator and training
    stood in for by fake_builds) and simulating nothing; returns run()'s arguments and the model's folder."""
    from accel_tb.cli import network as cli
    seen = {}

    def fake_run(**kw):
        seen.update(kw, folder=runner.build(kw["toplevel"], kw["sources"], kw["parameters"], kw["sim"],
                                            public=kw["public"], long_run=kw["long_run"], timing=kw["timing"],
                                            train=kw["train"]))
        return {"tests": 1, "failed": 0, "build": runner.build_kind(seen["folder"])}
    monkeypatch.setattr(cli, "run", fake_run)
    assert cli.main(["--images", "1", *args, "--report-dir", str(tmp_path / "r")]) == 0
    return seen


def test_a_shorter_run_takes_the_profile_guided_model_once_built(fake_builds, monkeypatch, tmp_path, capsys):
    """A one-image run (under core_ports.PGO_RUN_CYCLES) takes the -O2 model while no profile-guided one of its
    core is built; once a run has built and trained it, the one-image run simulates on it (its folder, no second
    training, the PASS line says so); ACCEL_PGO=0 keeps it off; a model recorded unprofiled is not taken."""
    before = _network_cli(monkeypatch, tmp_path)
    assert before["train"] is None and runner.build_kind(before["folder"]) == "-O2"
    monkeypatch.setenv("ACCEL_PGO", "1")
    pgo = _network_cli(monkeypatch, tmp_path)["folder"]
    assert pgo.name.endswith("-pgo") and len(fake_builds) == 1
    monkeypatch.delenv("ACCEL_PGO")
    capsys.readouterr()
    after = _network_cli(monkeypatch, tmp_path)
    assert after["folder"] == pgo and after["train"] is not None and len(fake_builds) == 1
    assert capsys.readouterr().out.strip().splitlines()[-1].endswith("(verilator, 8x8, profile-guided model)")
    monkeypatch.setenv("ACCEL_PGO", "0")
    assert _network_cli(monkeypatch, tmp_path)["folder"] == before["folder"]
    monkeypatch.delenv("ACCEL_PGO")
    (pgo / ".built").write_text("built unprofiled\n")
    assert _network_cli(monkeypatch, tmp_path)["folder"] == before["folder"]
    # another core (a subset of layers sizes the memories otherwise): its own models, none profile-guided
    assert _network_cli(monkeypatch, tmp_path, "--layers", "36,39")["train"] is None


@pytest.mark.parametrize("kind", ["-O2", "profile-guided", "unprofiled", ""])
def test_the_pass_line_names_the_model_as_the_speed_benchmark_reads_it(kind, monkeypatch, capsys, tmp_path):
    """accel-network's PASS line ends with the model's kind (none for a model built before kinds were
    recorded), and accel_tb.network.speed reads it back from there."""
    from accel_tb.cli import network as cli
    from accel_tb.network import speed
    monkeypatch.setattr(cli, "run", lambda **kw: {"tests": 1, "failed": 0, "build": kind})
    assert cli.main(["--images", "1", "--layers", "27", "--report-dir", str(tmp_path)]) == 0
    line = capsys.readouterr().out.splitlines()[-1]
    assert line == "PASS: 1 passed, 0 failed (verilator, 8x8" + (f", {kind} model)" if kind else ")")
    said = speed.MODEL_IN_PASS_LINE.search(line)
    assert (said[1] if said else "") == kind


@pytest.mark.parametrize("var,value,says", [
    ("ACCEL_BUILD_DIR", "/dev/null", "ACCEL_BUILD_DIR=/dev/null: is a file, not a folder"),
    ("ACCEL_CODECOV", "/dev/null", "ACCEL_CODECOV=/dev/null: is a file, not a folder"),
    ("ACCEL_PGO", "yes", "ACCEL_PGO=yes: must be 0 or 1"),
    ("RANDOM_SEED", "abc", "RANDOM_SEED=abc: must be an integer"),
    ("GPI_LOG_LEVEL", "loud", "GPI_LOG_LEVEL=loud: must be one of CRITICAL"),
])
def test_what_every_simulation_reads_from_the_environment_is_judged_once(var, value, says, monkeypatch):
    """A file for a build or coverage folder failed inside each test with a traceback; ACCEL_PGO=yes passed under
    pytest; cocotb's older RANDOM_SEED stopped each simulation (a probe). One line from environment_problem, which
    the suite's conftest and make test-times call before any run."""
    from accel_tb.design.runner import environment_problem
    monkeypatch.delenv("COCOTB_RANDOM_SEED", raising=False)
    monkeypatch.setenv(var, value)
    problem = environment_problem()
    assert problem is not None and problem.startswith(says), problem
