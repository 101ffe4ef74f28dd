"""Verilator's runtime library from `make setup`'s store (accel_tb.design.runtime_store): which builds read it,
that a cold build takes its runtime objects from it instead of compiling them, and that nothing writes to it."""
from __future__ import annotations

import re
import shutil
import subprocess

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
    assert runtime_store.storage_value(env) is None                     # no store: nothing added
    store.mkdir()
    assert runtime_store.storage_value(env) is None                     # an empty folder is no store
    _fill(store)
    assert runtime_store.storage_value(env) == f"file:{store}|read-only"
    # the user's own remote storage comes first and stays
    assert runtime_store.storage_value({**env, "CCACHE_SECONDARY_STORAGE": "redis://cache"}) == \
        f"redis://cache file:{store}|read-only"
    # the filling names the store itself (read-write): left as it is
    assert runtime_store.storage_value({**env, "CCACHE_SECONDARY_STORAGE": f"file:{store}"}) is None
    assert runtime_store.storage_value({"OBJCACHE": ""}) is None         # no ccache: nothing to read it
    assert runtime_store.storage_value({**env, "ACCEL_RUNTIME_STORE": "0"}) is None
    assert runtime_store.storage_value({**env, "ACCEL_RUNTIME_STORE": "1"}) == f"file:{store}|read-only"
    spaced = store.parent / "my clones" / "store"     # ccache's list is split at spaces: such a store is left out
    _fill(spaced)
    runtime_store.STORE = spaced
    assert runtime_store.storage_value(env) is None
    runtime_store.STORE = store
    with pytest.raises(ValueError, match="ACCEL_RUNTIME_STORE=yes: must be 0 or 1"):
        runtime_store.storage_value({**env, "ACCEL_RUNTIME_STORE": "yes"})


def test_a_cold_build_takes_the_runtime_from_the_store_and_never_writes_it(tmp_path, monkeypatch):
    """A model built in an empty build folder with an empty compiler cache, as on a fresh clone after `make
    setup`: Verilator's runtime objects are remote hits (not compiled), the model's own files are compiled, and
    the store is as it was."""
    if not shutil.which("ccache"):
        pytest.skip("no ccache: the store is not used (each build compiles the runtime)")
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
    stats = dict(line.split("\t") for line in subprocess.run(
        ["ccache", "--print-stats"], capture_output=True, text=True, check=True,
        env={"CCACHE_DIR": str(tmp_path / "ccache"), "PATH": "/usr/bin:/bin"}).stdout.splitlines() if "\t" in line)
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
    assert int(stats["remote_storage_hit"]) >= len(RUNTIME), stats
    assert int(stats["remote_storage_write"]) == 0, stats
    assert {p: p.stat().st_mtime_ns for p in runtime_store.STORE.rglob("*")} == before
    assert (runner.BUILD / "store_check").is_dir()
