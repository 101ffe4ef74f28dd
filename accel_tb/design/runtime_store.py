"""Verilator's runtime library compiled once per machine, at `make setup`, instead of in every cold build.

Every Verilator model links Verilator's runtime (verilated.cpp, verilated_vpi.cpp, ...; 11 CPU-seconds at -O2
here), and it depends on neither the RTL nor the test: only on Verilator, the compiler and two flavours of the
build (a top with delays, the network's clocked top, compiles it with --timing's coroutines). ccache shares it
between the models of one compiler cache; a fresh clone, a fresh machine or an emptied cache compiled it again,
once per flavour, in the first build of each. `make setup` now compiles it into STORE, a ccache store that
runner.build reads (never writes) beside the user's own cache: a build whose compile lines are those of the
store's objects takes them from it, any other (another compiler, Verilator, flags, a user's OPT_GLOBAL, a coverage
or waveform model) compiles as before. The store holds the tiny probe models' objects too (and cocotb's main,
compiled per model: it includes the model's header).

    python -m accel_tb.design.runtime_store      # what `make setup` runs; again after changing Verilator or g++
"""
from __future__ import annotations

import functools
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
STORE = ROOT / ".tools" / "verilator-runtime"
# ccache's remote storage, one option under two names (4.4-4.7 documented SECONDARY, 4.8 renamed it REMOTE; 4.7.5
# reads both, the later in the environment winning): a build sets both to the same list, the user's own first
SECONDARY_VAR, REMOTE_VAR = "CCACHE_SECONDARY_STORAGE", "CCACHE_REMOTE_STORAGE"
STORAGE_VARS = (SECONDARY_VAR, REMOTE_VAR)
STORAGE_VAR = SECONDARY_VAR
MIN_CCACHE = (4, 4)     # file remote storage
USE_VAR = "ACCEL_RUNTIME_STORE"

# tops that compile nothing of their own worth the name; the second has a delay, so Verilator builds it with
# --timing (VM_TIMING=1: the runtime compiled with coroutines, as for the network's clocked top)
_PROBES = {
    "runtime_probe": "module runtime_probe(input clk, output reg q);\n"
                     "  always @(posedge clk) q <= ~q;\nendmodule\n",
    "runtime_probe_clk": "module runtime_probe_clk(output reg clk);\n"
                         "  initial clk = 0;\n  always #5 clk = ~clk;\nendmodule\n",
}


def use_from_env(environ=os.environ) -> bool:
    """ACCEL_RUNTIME_STORE: 0 leaves the store out, 1 or unset uses it where it was filled. Raises ValueError on
    another value."""
    use = environ.get(USE_VAR) or None
    if use not in (None, "0", "1"):
        raise ValueError(f"{USE_VAR}={use}: must be 0 or 1 (or unset: the store when `make setup` filled it)")
    return use != "0"


@functools.cache
def ccache_version() -> tuple[int, ...] | None:
    """The version of the ccache on PATH (None: none, or unreadable); asked once per process (every Verilator
    build reads it)."""
    try:
        out = subprocess.run(["ccache", "--version"], capture_output=True, text=True).stdout
    except OSError:
        return None
    m = re.search(r"ccache version (\d+)\.(\d+)", out)
    return (int(m[1]), int(m[2])) if m else None


def remote_counts(ccache_dir: Path) -> tuple[int, int] | None:
    """(compiles answered from a remote storage, entries written to one) in the compiler cache `ccache_dir`, as
    `ccache --print-stats` counts them (4.8's remote_* names or 4.4-4.7's secondary_*; a version without a write
    counter: 0 written); None where ccache cannot say."""
    try:
        out = subprocess.run(["ccache", "--print-stats"], capture_output=True, text=True,
                             env={**os.environ, "CCACHE_DIR": str(ccache_dir)}).stdout
    except OSError:
        return None
    stats = dict(line.split("\t", 1) for line in out.splitlines() if "\t" in line)
    prefix = "remote" if "remote_storage_hit" in stats else "secondary"
    hit, written = stats.get(f"{prefix}_storage_hit", ""), stats.get(f"{prefix}_storage_write", "0")
    return (int(hit), int(written)) if hit.strip().isdigit() and written.strip().isdigit() else None


def configured_storage(environ=os.environ) -> str:
    """The remote storage ccache would use under this environment (its configuration files included):
    `ccache -k remote_storage`, or the environment's own value where ccache cannot say."""
    for key in ("remote_storage", "secondary_storage"):
        try:
            r = subprocess.run(["ccache", "-k", key], capture_output=True, text=True, env=dict(environ))
        except OSError:
            break
        if r.returncode == 0:
            return r.stdout.strip()
    return (environ.get(REMOTE_VAR) or environ.get(SECONDARY_VAR) or "").strip()


def storage_value(environ=os.environ, configured: str | None = None,
                  version: tuple[int, ...] | None = None) -> str | None:
    """The remote storage a Verilator build runs with (both STORAGE_VARS set to it): the one ccache is configured
    with (`configured`, default configured_storage()), with STORE added read-only when `make setup` filled it.
    None: leave the environment as it is -- ACCEL_RUNTIME_STORE=0 (every runtime compiled as without the store,
    as `test_times --cold --no-runtime-store` measures), ccache not the object cache or older than MIN_CCACHE
    (`version`, default ccache_version()), no store, or the configuration naming STORE already (the filling).
    Raises ValueError on another ACCEL_RUNTIME_STORE than 0 or 1, or on 1 where no store can be read."""
    if not use_from_env(environ):
        return None
    why = None
    if environ.get("OBJCACHE", "") != "ccache":
        why = "ccache is not the object cache (not on PATH, or OBJCACHE set otherwise)"
    elif not _usable(STORE):
        why = f"{STORE} holds a space, '|' or '$', which ccache's storage setting cannot name"
    elif not any(STORE.glob("*/*")):
        why = f"{STORE} is empty or missing: `make setup` fills it"
    else:
        version = ccache_version() if version is None else version
        if version is None or version < MIN_CCACHE:
            why = f"ccache {'.'.join(map(str, version)) if version else '?'} has no file remote storage (4.4 on)"
    if why:
        if environ.get(USE_VAR) == "1":
            raise ValueError(f"{USE_VAR}=1: no runtime store to read: {why}")
        return None
    own = configured_storage(environ) if configured is None else configured.strip()
    if str(STORE) in own:
        return None
    return f"{own} file:{STORE}|read-only".strip()


def _usable(path: Path) -> bool:
    """ccache's storage setting is a list split at spaces, with '|' before a storage's attributes, and expands
    $VARIABLES: a store under a folder whose path holds one of those is left out (each build compiles its
    runtime, as without the store)."""
    return not any(c.isspace() or c in "|$" for c in str(path))


def fill() -> tuple[int, str]:
    """Build the probe models, with and without --timing, in a temporary build folder and compiler cache, STORE
    the remote storage they write to. Returns the exit status and what to print."""
    if not shutil.which("ccache"):
        return 0, "runtime store: no ccache on PATH: each cold build compiles Verilator's runtime itself"
    if not _usable(STORE):
        return 0, (f"runtime store: not made: {STORE} holds a space, '|' or '$', which ccache's storage setting "
                   f"cannot name; each cold build compiles Verilator's runtime itself")
    version = ccache_version()
    if version is None or version < MIN_CCACHE:
        return 0, (f"runtime store: not made: ccache {'.'.join(map(str, version)) if version else '?'} has no file "
                   f"remote storage (4.4 on); each cold build compiles Verilator's runtime itself")
    STORE.mkdir(parents=True, exist_ok=True)
    started = time.time()
    with tempfile.TemporaryDirectory(prefix="accel-runtime-") as tmp:
        os.environ.update(ACCEL_BUILD_DIR=str(Path(tmp) / "build"), CCACHE_DIR=str(Path(tmp) / "ccache"),
                          OBJCACHE="ccache", **{var: f"file:{STORE}" for var in STORAGE_VARS})
        for var in ("ACCEL_QUICK_COMPILE", "ACCEL_CODECOV", "ACCEL_RUNTIME_STORE", "MAKEFLAGS", "WAVES"):
            os.environ.pop(var, None)
        from accel_tb.design import runner
        runner.BUILD = Path(tmp) / "build"      # should runner have been imported before ACCEL_BUILD_DIR was set
        for top, text in _PROBES.items():
            src = Path(tmp) / f"{top}.v"
            src.write_text(text)
            try:    # a quick build: the runtime is compiled at -O2 for quick and -O2 models alike (OPT_GLOBAL)
                runner.build(top, [src], sim="verilator", timing=top.endswith("_clk"))
            except runner.BuildError as e:
                return 1, f"runtime store: {e}"
    count = sum(1 for _ in STORE.glob("*/*"))
    if not count:
        return 0, (f"runtime store: not made: nothing reached {STORE} (ccache wrote no remote entry); each cold "
                   f"build compiles Verilator's runtime itself")
    return 0, f"runtime store: Verilator's runtime library in {STORE} ({count} files; {time.time() - started:.0f} s)"


def main() -> int:
    log = STORE.parent / "verilator-runtime.log"
    log.parent.mkdir(parents=True, exist_ok=True)
    saved = os.dup(1)
    with open(log, "w") as out:      # the builds' own output (the compilers' command lines and messages)
        os.dup2(out.fileno(), 1)
        try:
            status, said = fill()
        finally:
            sys.stdout.flush()
            os.dup2(saved, 1)
            os.close(saved)
    print(f"{said}{f' (the build: {log})' if status else ''}", file=sys.stderr if status else sys.stdout)
    return status


if __name__ == "__main__":
    sys.exit(main())
