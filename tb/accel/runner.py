"""Build and run a cocotb testbench through cocotb_tools.runner, one build dir per parameter set.

Used by every tb/<block>/test_<block>.py pytest entry and by the Makefile. SIM selects the simulator
(verilator by default, icarus); WAVES=1 records FST waveforms.
"""
from __future__ import annotations

import os
import shutil
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
RTL = ROOT / "rtl"
TB = ROOT / "tb"
BUILD = ROOT / "build"


CORE_SOURCES = ["mac", "pe", "mac_array", "l0_skew", "fifo", "ofifo", "sram_sp", "sram_1r1w", "sfu",
                "sequencer", "core"]


def rtl_sources(*names: str) -> list[Path]:
    return [RTL / f"{n}.v" for n in names]


def absolute_inputs(checkpoint: str, data_dir: str) -> tuple[str, str]:
    """The simulator runs inside its build folder: hand it absolute paths. Missing checkpoint: SystemExit."""
    ck = Path(checkpoint).resolve()
    if not ck.is_file():
        raise SystemExit(f"error: --checkpoint {ck}: file not found")
    return str(ck), str(Path(data_dir).resolve()) if data_dir else ""


def param_tag(parameters: dict) -> str:
    return "-".join(f"{k}{v}" for k, v in sorted(parameters.items())) or "default"


def sim_name(sim: str | None = None) -> str:
    return (sim or os.environ.get("SIM") or "verilator").lower()


def run(toplevel: str, sources: list[Path], test_module: str, parameters: dict | None = None,
        sim: str | None = None, testcase: str | list[str] | None = None, extra_env: dict | None = None,
        waves: bool | None = None, build_tag: str | None = None, seed: int | None = None,
        module_dir: Path | None = None, results_xml: Path | None = None) -> Path:
    """Build (if needed) and run; returns the results xml. Under pytest a failing test raises SystemExit."""
    from cocotb_tools.runner import get_runner

    sim = sim_name(sim)
    parameters = dict(parameters or {})
    waves = bool(int(os.environ.get("WAVES", "0"))) if waves is None else waves
    build_dir = BUILD / toplevel / f"{sim}-{build_tag or param_tag(parameters)}{'-waves' if waves else ''}"
    build_args: list[str] = []
    if sim == "verilator":
        build_args = ["-Wno-fatal", "-O3", "--x-assign", "fast", "--x-initial", "fast"]
        if waves:
            build_args += ["--trace-fst", "--trace-structs"]
        if shutil.which("ccache"):
            os.environ.setdefault("OBJCACHE", "ccache")
        # Verilator's makefile compiles the model with -Os; -O2 runs it faster. MAKEFLAGS definitions act
        # like command-line ones, the only way to override verilated.mk's plain assignment. Appended, not
        # defaulted: under `make test` / `make network` MAKEFLAGS already exists (often empty).
        flags = os.environ.get("MAKEFLAGS", "")
        if "OPT_FAST=" not in flags:
            os.environ["MAKEFLAGS"] = f"{flags} OPT_FAST=-O2 OPT_GLOBAL=-O2".strip()
    elif sim == "icarus":
        # the runner compiles with -g2012 (its waveform dump module needs it); tb/lint checks -g2005
        build_args = []
    else:
        raise SystemExit(f"SIM={sim}: supported simulators are verilator and icarus")
    runner = get_runner(sim)
    runner.build(sources=[str(s) for s in sources], hdl_toplevel=toplevel, parameters=parameters,
                 build_dir=build_dir, build_args=build_args, waves=waves, timescale=("1ns", "1ps"))
    # the runner hands the simulator PYTHONPATH = this process's sys.path (it overrides extra_env's)
    for p in ([str(module_dir)] if module_dir else []) + [str(TB), str(ROOT)]:
        if p not in sys.path:
            sys.path.insert(0, p)
    env = dict(extra_env or {})
    env = {k: str(v) for k, v in env.items()}
    if seed is not None:
        env["COCOTB_RANDOM_SEED"] = str(seed)
    return runner.test(hdl_toplevel=toplevel, test_module=test_module, testcase=testcase, build_dir=build_dir,
                       test_dir=build_dir, extra_env=env, waves=waves, parameters=parameters,
                       timescale=("1ns", "1ps"), results_xml=str(results_xml) if results_xml else None)


def run_expect_failure(results_xml: Path, **kwargs) -> tuple[int, int, Path]:
    """Run a testbench that must fail; returns (tests, failed, results xml) instead of raising."""
    from cocotb_tools.runner import get_results

    xml = Path(results_xml).resolve()
    xml.unlink(missing_ok=True)
    try:
        run(results_xml=xml, **kwargs)
    except SystemExit:
        pass  # expected: the caller asserts on the counts
    tests, failed = get_results(xml)
    return tests, failed, xml
