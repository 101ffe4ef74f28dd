"""pytest glue for the cocotb testbenches: simulator choice and the replay of a user's folder.

--sim / SIM forces one simulator for every test; without it each test uses the simulator that is faster
for its size (Icarus for blocks and short core runs: no compile; Verilator for long runs).
--golden DIR is validated here, before anything is built, and reaches only the replay test.
"""
import argparse
import os
from pathlib import Path

import pytest

from accel_tb.design.runner import ensure_tools_on_path, write_bytecode_caches

ensure_tools_on_path()
write_bytecode_caches()     # before xdist starts its workers: they and every process they start inherit it
# the workers share the cores: the simulators' golden model keeps torch to one thread each
os.environ.setdefault("OMP_NUM_THREADS", "1")


class _Once(argparse.Action):
    """An option given once: a second --golden or --sim dropped the first without a word (pytest keeps the last).
    A repeat is recorded and refused in pytest_configure, in one line."""

    def __call__(self, parser, namespace, values, option_string=None):
        if getattr(namespace, self.dest) is not None:
            twice = getattr(namespace, "accel_twice", None) or []
            namespace.accel_twice = [*twice, f"{option_string} given twice ({getattr(namespace, self.dest)!r}, then "
                                             f"{values!r}): give it once"]
            return
        setattr(namespace, self.dest, values)


def pytest_addoption(parser):
    parser.addoption("--sim", default=None, action=_Once,
                     help="force one simulator: verilator or icarus (default: per test)")
    parser.addoption("--golden", default=None, action=_Once, help="course-format folder to replay through the core")


def pytest_configure(config):
    twice = getattr(config.option, "accel_twice", None)
    if twice:
        pytest.exit(f"error: {twice[0]}", returncode=2)
    option, env = config.getoption("--sim"), os.environ.get("SIM")
    if option is not None:            # an empty --sim '' too: never the tests' defaults in its place
        from accel_tb.cli.inputs import InputError, check_sim
        try:
            check_sim(option)
        except InputError as e:
            pytest.exit(f"error: {e}", returncode=2)
    # what the environment hands every run (SIM among it) is judged once, here, not by a traceback in each
    # simulation
    from accel_tb.design.runner import environment_problem
    problem = environment_problem()
    if problem:
        pytest.exit(f"error: {problem}", returncode=2)
    config.forced_sim = (option or env).lower() if (option or env) else None
    golden = config.getoption("--golden")
    config.golden = None
    if golden is not None and not golden.strip():     # a script's unset $DIR: not 'no folder', which skips
        pytest.exit(f"error: --golden {golden!r}: an empty folder name", returncode=2)
    if golden:
        from accel_tb.cli.inputs import InputError, check_folder
        try:
            check_folder(golden)
        except InputError as e:
            pytest.exit(f"error: {e}", returncode=2)
        config.golden = str(Path(golden).resolve())


@pytest.fixture
def sim(request):
    """The simulator for a test: --sim/SIM when given, else the test's preference (marker `prefer`)."""
    forced = request.config.forced_sim
    marker = request.node.get_closest_marker("prefer")
    return forced or (marker.args[0] if marker else "icarus")


@pytest.fixture
def golden(request):
    return request.config.golden


# the long runs, heaviest first (CPU-seconds of a cold `make test`, docs/verification.md#the-current-table): each
# worker starts on its share of them, so that the workers do not finish on them one by one
SLOW_FIRST = ("test_profile_guided_build_trains", "test_core_vgg_layer27_64x64", "test_sharded_equals_single_process",
              "test_core_random_layers", "test_network_busy_check", "test_network_one_image", "tb/network/",
              "test_core_2bit_random_layers", "test_averaging")


@pytest.hookimpl(trylast=True)     # after -k/-m deselection: the blocks are those of the tests that run
def pytest_collection_modifyitems(config, items):
    """The slow tests dealt round-robin to the heads of the blocks pytest-xdist's worksteal scheduler hands the
    workers first (accel_tb.quality.test_times.deal_slow_first): at the head of one block, as before, they ran
    one after the other on one worker while the others ran the short tests. Every worker collects the same
    order (the worker count is the same in each)."""
    from accel_tb.quality.test_times import deal_slow_first
    workers = int(os.environ.get("PYTEST_XDIST_WORKER_COUNT", "1") or 1)
    items[:] = deal_slow_first(items, [item.nodeid for item in items], SLOW_FIRST, workers)


REPLAY_TEST = "test_core_replay_user_vectors"


def _golden_not_replayed(session, exitstatus):
    """--golden DIR reaches one test (tb/core's replay): a run that did not execute it never checked the folder
    (`pytest tb/replay --golden DIR`, a -k that leaves it out), and is an error, not a green run."""
    if not getattr(session.config, "golden", None) or hasattr(session.config, "workerinput") or \
            session.config.option.collectonly:
        return
    reporter = session.config.pluginmanager.get_plugin("terminalreporter")
    ran = [r for reports in (reporter.stats.values() if reporter else []) for r in reports
           if REPLAY_TEST in getattr(r, "nodeid", "") and getattr(r, "when", "") == "call"]
    if not ran and exitstatus in (pytest.ExitCode.OK, pytest.ExitCode.NO_TESTS_COLLECTED):
        if reporter:
            reporter.write("\n")       # after the progress line's [100%]
            reporter.write_line(f"error: --golden {session.config.golden}: not replayed -- only "
                                f"tb/core/test_core.py::{REPLAY_TEST} reads it, and it was not among the tests run",
                                red=True)
        session.exitstatus = pytest.ExitCode.USAGE_ERROR


def _nothing_ran(session):
    """A run of tb/ tests that executed none (all skipped: `-k replay_user` without --golden, `-m slow` under
    Icarus) verified nothing: an error, not a green run."""
    if hasattr(session.config, "workerinput") or session.config.option.collectonly or \
            session.exitstatus != pytest.ExitCode.OK:
        return
    reporter = session.config.pluginmanager.get_plugin("terminalreporter")
    stats = reporter.stats if reporter else {}
    ran = [r for key in ("passed", "failed", "error") for r in stats.get(key, []) if getattr(r, "when", "") == "call"]
    skipped = len(stats.get("skipped", []))
    if not ran and skipped:
        reporter.write("\n")
        reporter.write_line(f"error: no test ran ({skipped} skipped): nothing was verified", red=True)
        session.exitstatus = pytest.ExitCode.TESTS_FAILED


def pytest_sessionfinish(session, exitstatus):
    _golden_not_replayed(session, exitstatus)
    _nothing_ran(session)


def pytest_terminal_summary(terminalreporter):
    """`pytest tb --golden DIR` prints the replay's summary, as accel-replay does."""
    for reports in terminalreporter.stats.values():
        for rep in reports:
            for name, lines in getattr(rep, "user_properties", []) or []:
                if name == "replay_summary" and getattr(rep, "when", "call") == "call":
                    terminalreporter.write_sep("-", "replay of --golden")
                    for line in lines:
                        terminalreporter.write_line(line)
