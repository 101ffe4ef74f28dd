"""Verilator's runtime library from `make setup`'s store (accel_tb.design.runtime_store): which builds read it,
that a cold build takes its runtime objects from it instead of compiling them, and that nothing writes to it."""
from __future__ import annotations

import os
import re
import shutil

import pytest

from accel_tb.design import runner, runtime_store

RUNTIME = ("verilated.cpp", "verilated_vpi.cpp", "verilated_threads.cpp", "verilated_dpi.cpp")


@pytest.fixture
def store(tmp_path, monkeypatch):
    path = tmp_path / "store"
    monkeypatch.setattr(runtime_store, "STORE", path)
    return path


def _fill(path):
    (path / "4f").mkdir(parents=True)
    (path / "4f" / "entry").write_text("x")


def test_the_store_is_read_only_and_only_where_setup_filled_it(store):
    env = {"OBJCACHE": "ccache"}

    def value(environ=env, configured="", version=(4, 7)):
        return runtime_store.storage_value(environ, configured, version)
    assert value() is None                                              # no store: nothing added
    store.mkdir()
    assert value() is None                                              # an empty folder is no store
    _fill(store)
    assert value() == f"file:{store}|read-only"
    # the remote storage ccache is configured with (environment or configuration file) comes first and stays
    assert value(configured="redis://cache") == f"redis://cache file:{store}|read-only"
    # the filling names the store itself (read-write): left as it is
    assert value(configured=f"file:{store}") is None
    assert value({"OBJCACHE": ""}) is None                               # no ccache: nothing to read it
    assert value(version=(4, 3)) is None                                # no file remote storage before 4.4
    assert value({**env, "ACCEL_RUNTIME_STORE": "0"}) is None
    assert value({**env, "ACCEL_RUNTIME_STORE": "1"}) == f"file:{store}|read-only"
    for bad in ("my clones", "a|b", "$HOME"):       # ccache's setting splits at spaces and '|', expands $VARS
        runtime_store.STORE = store.parent / bad / "store"
        _fill(runtime_store.STORE)
        assert value() is None, bad
        with pytest.raises(ValueError, match="ACCEL_RUNTIME_STORE=1: no runtime store to read"):
            value({**env, "ACCEL_RUNTIME_STORE": "1"})      # asked for by name: an error, not a silent compile
    runtime_store.STORE = store
    with pytest.raises(ValueError, match="ACCEL_RUNTIME_STORE=1: no runtime store to read: ccache 4.3"):
        value({**env, "ACCEL_RUNTIME_STORE": "1"}, version=(4, 3))
    with pytest.raises(ValueError, match="ACCEL_RUNTIME_STORE=yes: must be 0 or 1"):
        value({**env, "ACCEL_RUNTIME_STORE": "yes"})


def test_the_users_own_remote_storage_is_read_from_ccache_and_kept(store, tmp_path):
    """ccache's own view of its remote storage (a configuration file here; the environment's two names alike)
    comes first in what a build sets."""
    if not shutil.which("ccache") or (runtime_store.ccache_version() or (0,)) < runtime_store.MIN_CCACHE:
        pytest.skip("no ccache with file remote storage (4.4 on): the store is not used")
    _fill(store)
    conf = tmp_path / "ccache.conf"
    conf.write_text("remote_storage = http://team-cache:8080\n")
    env = {"PATH": os.environ["PATH"], "OBJCACHE": "ccache", "CCACHE_CONFIGPATH": str(conf)}
    assert runtime_store.storage_value(env) == f"http://team-cache:8080 file:{store}|read-only"
    env = {"PATH": os.environ["PATH"], "OBJCACHE": "ccache", "CCACHE_CONFIGPATH": str(tmp_path / "none"),
           "CCACHE_REMOTE_STORAGE": "redis://other"}
    assert runtime_store.storage_value(env) == f"redis://other file:{store}|read-only"


def test_a_cold_build_takes_the_runtime_from_the_store_and_never_writes_it(tmp_path, monkeypatch):
    """A model built in an empty build folder with an empty compiler cache, as on a fresh clone after `make
    setup`: Verilator's runtime objects are remote hits (not compiled), the model's own files are compiled, and
    the store is as it was."""
    if not shutil.which("ccache") or (runtime_store.ccache_version() or (0,)) < runtime_store.MIN_CCACHE:
        pytest.skip("no ccache with file remote storage (4.4 on): the store is not used (each build compiles the "
                    "runtime)")
    files = sorted(p for p in runtime_store.STORE.glob("*/*"))
    assert files, f"{runtime_store.STORE} is empty: `make setup` fills it (python -m accel_tb.design.runtime_store)"
    before = {p: p.stat().st_mtime_ns for p in runtime_store.STORE.rglob("*")}
    monkeypatch.setattr(runner, "BUILD", tmp_path / "build")
    monkeypatch.setenv("CCACHE_DIR", str(tmp_path / "ccache"))
    monkeypatch.setenv("CCACHE_LOGFILE", str(tmp_path / "ccache.log"))
    monkeypatch.delenv("ACCEL_RUNTIME_STORE", raising=False)
    monkeypatch.delenv("MAKEFLAGS", raising=False)
    src = tmp_path / "store_check.v"      # a model the store has not seen (the store holds its probes' objects)
    src.write_text("module store_check(input clk, output reg [3:0] n);\n  always @(posedge clk) n <= n + 1;\n"
                   "endmodule\n")
    runner.build("store_check", [src], sim="verilator")
    hits, written = runtime_store.remote_counts(tmp_path / "ccache")
    # ccache's log, line by line "[time pid] ...": each runtime file's compile answered from the store
    by_pid = {}
    for line in (tmp_path / "ccache.log").read_text().splitlines():
        m = re.match(r"\[\S+ +(\d+) *\] (.*)", line)      # the pid is padded to a width: "[t 1930 ]"
        if m:
            by_pid.setdefault(m[1], []).append(m[2])
    results = {}
    for lines in by_pid.values():
        source = next((ln.split("Source file: ")[1] for ln in lines if ln.startswith("Source file: ")), "")
        results[source.rsplit("/", 1)[-1]] = {ln.split("Result: ")[1] for ln in lines if ln.startswith("Result: ")}
    for name in RUNTIME:
        assert "remote_storage_hit" in results.get(name, ()), (name, results.get(name))
    model = {name: r for name, r in results.items() if name.startswith("Vtop")}
    assert model and all("remote_storage_hit" not in r for r in model.values()), model     # compiled here
    assert hits >= len(RUNTIME) and written == 0, (hits, written)
    assert {p: p.stat().st_mtime_ns for p in runtime_store.STORE.rglob("*")} == before
    assert (runner.BUILD / "store_check").is_dir()
