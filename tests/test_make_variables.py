"""The Makefile's judgement of variables on its command line: a near miss of its own names, one of its own that
no target asked for reads, or one given empty stops make before anything runs (the default test would run and
pass); every other name passes into the recipes' environment, as make does. `make -n` prints the commands
without running them."""
import subprocess
import sys

import pytest

from accel_tb.design.runner import ROOT


def _make(*args, env=None):
    return subprocess.run(["make", "-n", "--no-print-directory", "-C", str(ROOT), *args], capture_output=True,
                          text=True, env={"PATH": "/usr/bin:/bin", "HOME": "/tmp", **(env or {})})


@pytest.mark.parametrize("args, in_command", [
    (["run", "SIM=icarus", "COCOTB_LOG_LEVEL=DEBUG", "ACCEL_PGO=0", "V=1"], "accel_tb.cli.run --sim icarus"),
    (["test", "SIM=icarus", "ACCEL_PGO=1", f"PY={sys.executable}"], "-m pytest -q"),
    (["setup", "PIP_INDEX_URL=http://mirror", "CXX=clang++"], "pip install"),
    (["test-times", "SIM=icarus"], "quality.test_times --cold"),          # its suite reads SIM as make test's
    (["network", "IMAGES=2", "LAYERS=27", "OPT_FAST=-O3", "PYTHONPATH=/x", "TOPLEVEL=core"], "--layers '27'"),
])
def test_names_that_are_not_the_makefile_s_pass_to_the_environment(args, in_command):
    r = _make(*args)
    assert r.returncode == 0 and in_command in r.stdout, r.stderr


@pytest.mark.parametrize("args, says", [
    (["golden=/tmp/x"], "golden: not a variable of this Makefile; did you mean GOLDEN?"),
    (["GOLDEN_DIR=/tmp/x"], "GOLDEN_DIR: not a variable of this Makefile; did you mean GOLDEN?"),
    (["byoc-example", "CORUPT=relu"], "CORUPT: not a variable of this Makefile; did you mean CORRUPT?"),
    (["ROW=4"], "ROW: not a variable of this Makefile; did you mean ROWS?"),
    (["LAYERS=5"], "LAYERS=5: make run does not read LAYERS"),
    (["network", "IMAGE=4"], "IMAGE=4: make network does not read IMAGE"),
    (["test", "LAYER=3"], "LAYER=3: make test does not read LAYER (it reads JOBS PYTEST_ARGS SIM WAVES); pytest's"),
    (["GOLDEN="], "GOLDEN= is empty on make's command line"),
    (["network", "images=4"], "images: not a variable of this Makefile; did you mean IMAGES?"),   # the nearest
    (["network", "COMPARE=yes"], "COMPARE=yes: must be 0 or 1"),
    (["OPT_FST=-O3"], "OPT_FST: not a variable of this Makefile; did you mean OPT_FAST?"),
    # an option of the goal's command that the Makefile does not pass on (the default run would go ahead)
    (["mutate", "SAMPLE=5"], "SAMPLE: make mutate does not pass it on to its command; give the option itself: "
                             "python -m accel_tb.quality.mutation --sample"),
    (["synth", "FREQ=50"], "FREQ: make synth does not pass it on to its command; give the option itself: "
                           "python -m accel_tb.quality.synth --freq"),
    (["formal", "TIMEOUT=5"], "TIMEOUT: make formal does not pass it on"),
    (["network", "FIRST_IMAGE=3"], "FIRST_IMAGE: make network does not pass it on to its command; give the option "
                                   "itself: accel-network --first-image"),
    (["test-times", "LOG=/tmp/x"], "LOG: make test-times does not pass it on"),
    # a probe's misspellings that ran the default test and passed
    (["NUM_IMAGES=4"], "NUM_IMAGES: not a variable of this Makefile; did you mean IMAGES?"),
    (["IMGS=2"], "IMGS: not a variable of this Makefile; did you mean IMAGES?"),
    (["ARRAY=16"], "ARRAY: not a variable of this Makefile; did you mean ROWS and COLS?"),
    (["byoc-example", "TOPLEVEL=x"], "TOPLEVEL: not a variable of this Makefile; did you mean TOP?"),
])
def test_a_mistaken_variable_stops_make_before_anything_runs(args, says):
    r = _make(*args)
    assert r.returncode == 2 and says in r.stderr and r.stdout == "", (r.stdout, r.stderr)


def test_an_empty_variable_in_the_environment_stops_a_target_that_reads_it():
    """`GOLDEN=$DIR make` with DIR unset is `make GOLDEN=` (the default layer ran and passed); a target that does not
    read the variable is not stopped by it."""
    r = _make("SIM=icarus", env={"GOLDEN": ""})
    assert r.returncode == 2 and "GOLDEN= is empty in the environment" in r.stderr and r.stdout == ""
    assert _make("test", env={"GOLDEN": ""}).returncode == 0
    assert _make("SIM=icarus", env={"GOLDEN": "/tmp/x"}).returncode == 0       # a value: taken, as make does


def test_the_goals_command_options_are_the_commands_own():
    """make_vars.GOAL_COMMANDS lists each goal's command options, which a variable of the same name must not stand
    for silently: the lists are the commands' own, read from their --help (an option added to a command and not
    here would pass as an environment variable again)."""
    import re

    from accel_tb.cli import make_vars
    for goal, (shown, module, options) in make_vars.GOAL_COMMANDS.items():
        r = subprocess.run([sys.executable, "-m", module, "--help"], capture_output=True, text=True, cwd=ROOT)
        assert r.returncode == 0, (goal, r.stderr)
        own = re.findall(r"^  (?:-\w, )?(--[a-z][a-z0-9-]*)", r.stdout.split("options:", 1)[1], re.M)
        assert options.split() == [o for o in own if o != "--help"], (goal, module)
        assert shown.endswith(module) or shown in ("accel-run", "accel-network", "accel-byoc"), (goal, shown)
    # the recipes run these modules
    text = (ROOT / "Makefile").read_text()
    for goal in ("coverage", "codecov", "mutate", "synth", "formal", "test-times", "export", "run", "network", "byoc"):
        assert f"-m {make_vars.GOAL_COMMANDS[goal][1]}" in text, goal


def test_byoc_example_with_an_adapter_passes_no_config_of_its_own():
    """make byoc-example ADAPTER=...: the example through its Python adapter; its own CONFIG left out (the command
    refused the two together, naming a --config the user never gave: a probe)."""
    r = _make("byoc-example", "ADAPTER=examples/skeleton_core/adapter.py")
    assert r.returncode == 0 and "--adapter 'examples/skeleton_core/adapter.py'" in r.stdout, r.stderr
    assert "--config" not in r.stdout.splitlines()[-1]
    r = _make("byoc-example")
    assert "--config 'examples/skeleton_core/skeleton.toml'" in r.stdout and "--adapter" not in r.stdout.splitlines()[-1]
