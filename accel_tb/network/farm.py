"""The network run sharded over many simulator processes with Dask: locally (LocalCluster), on a running
scheduler (--scheduler tcp://host:8786), or on a compute farm through dask-jobqueue (--cluster farm.yaml:
LSF, Slurm, SGE, PBS or HTCondor, the schedulers of EDA farms).

Each task runs a chunk of images through the whole network in its own simulator process (the Verilator model
is built once, before any task starts, and shared by every worker on the machine). Finished chunks are cached
on disk under a key of everything that decides their result -- the checkpoint's bytes, the RTL sources and
core parameters, the image ids, the layers and the data, the Python code that maps, simulates and checks (every
*.py of accel_tb, accel_host and golden_py), the simulator and its version, torch's, numpy's and cocotb's -- so
a rerun continues where the last one stopped, and never reuses a result that something it depends on has since
changed. A chunk that crashes is retried (--retries), then reported with its image ids; a mismatch in any image
fails the run and names image, layer and location. The chunks' results merge into the same report one process
writes (accel_tb.network.report.build_report).

A farm file (YAML):
    cluster: slurm            # slurm | lsf | sge | pbs | htcondor
    jobs: 16                  # jobs to ask for (each runs cores // processes threads x processes workers)
    options:                  # passed to dask_jobqueue.<Kind>Cluster
      cores: 4                # 4 chunks at once per job (distributed's split: 4 processes of 1 thread)
      memory: 4GB
      walltime: "04:00:00"
      queue: normal

A farm file is checked before the checkpoint is read and before anything is built: its syntax and options,
and that the kind's submit and cancel commands (dask_jobqueue's <Kind>Job.submit_command and cancel_command:
sbatch/scancel, bsub/bkill, qsub/qdel, condor_submit/condor_rm) are on PATH. Once the jobs are submitted,
the run waits at most WORKER_WAIT_S (600) seconds for the first Dask worker to connect -- the same for a
--scheduler without workers -- then fails with one line saying how many connected and how long it waited
(exit status 1: found after the build, like a missing simulator; exit status 2 is for input refused before
anything runs). The environment variable ACCEL_WORKER_WAIT_S sets another wait in seconds (a long farm
queue may need more).
"""
from __future__ import annotations

import functools
import hashlib
import importlib.metadata
import json
import logging
import math
import os
import re
import shlex
import shutil
import statistics
import subprocess
import time
import warnings
from pathlib import Path

from accel_tb.design.core_ports import network_run
from accel_tb.design.digest import tree_digest
from accel_tb.design.runner import (
    CORE_SOURCES,
    INCLUDE,
    ROOT,
    TOOLS,
    RunError,
    build,
    build_kind,
    rtl_sources,
    run,
)
from golden_py.data import resolve_data_dir

CLUSTERS = {"slurm": "SLURMCluster", "lsf": "LSFCluster", "sge": "SGECluster", "pbs": "PBSCluster",
            "htcondor": "HTCondorCluster"}


class FarmError(RuntimeError):
    pass


# dask_jobqueue's submit commands (its <Kind>Job.submit_command), for a dask_jobqueue that does not say
SUBMIT_COMMANDS = {"slurm": "sbatch", "lsf": "bsub", "sge": "qsub", "pbs": "qsub", "htcondor": "condor_submit"}
CANCEL_COMMANDS = {"slurm": "scancel", "lsf": "bkill", "sge": "qdel", "pbs": "qdel", "htcondor": "condor_rm"}
SCHEDULER_NAMES = {"slurm": "Slurm", "lsf": "LSF", "sge": "SGE", "pbs": "PBS", "htcondor": "HTCondor"}

# How long a farm's (or a --scheduler's) first Dask worker may take to connect, in seconds; the environment
# variable WORKER_WAIT_VAR overrides it.
WORKER_WAIT_S = 600
WORKER_WAIT_VAR = "ACCEL_WORKER_WAIT_S"

# the Python code that maps, simulates and checks a chunk (its *.py files are part of the chunk key)
CODE_PACKAGES = ("accel_tb", "accel_host", "golden_py")


# The most images one chunk holds by default. Every chunk pays the simulator's start-up again (interpreter,
# torch, model and images, its report; every sharded run prints it): 5.4-5.9 s on a quiet AVX2 2-core
# machine (0.7% of 32 images at 24 s each), at most 2.9 s on an AVX-512 one (1% of 32 images at 9 s), 11 s
# beside a training job. An interrupted run loses at most one chunk per worker.
CHUNK_MOST = 32


def default_chunk(images: int, workers: int, most: int = CHUNK_MOST) -> int:
    """Images per chunk when --chunk is not given: as few rounds (chunks per worker) as chunks of at most
    `most` images allow, every round with a chunk for every worker where the images suffice, sizes as equal
    as integers allow."""
    per_worker = -(-images // workers)
    rounds = -(-per_worker // most)
    return max(1, -(-images // (workers * rounds)))


def _file_hash(paths) -> str:
    """The files by name and bytes (where they lie is not part of the key)."""
    return tree_digest((Path(p).name, Path(p)) for p in paths)


@functools.cache
def _code_hash(root: Path) -> str:
    return tree_digest((p.relative_to(root).as_posix(), p) for pkg in CODE_PACKAGES for p in (root / pkg).rglob("*.py")
                       if p.is_file())


def code_hash(root: str | Path | None = None) -> str:
    """SHA-256 of every *.py file of accel_tb, accel_host and golden_py under `root` (default: this checkout),
    sorted by path relative to `root`, names and bytes: the code that maps, simulates and checks a chunk.
    Computed once per process and root."""
    return _code_hash(Path(root if root is not None else ROOT).resolve())


def _first_line(cmd: list[str]) -> str:
    if not shutil.which(cmd[0]):
        return "missing"
    try:
        r = subprocess.run(cmd, capture_output=True, text=True, errors="replace", timeout=60,
                           stdin=subprocess.DEVNULL)
    except (OSError, subprocess.TimeoutExpired) as e:
        return f"unknown ({type(e).__name__})"
    for out in (r.stdout, r.stderr):
        lines = [line.strip() for line in out.splitlines() if line.strip()]
        if lines:
            return lines[0]
    return f"unknown (exit status {r.returncode}, no output)"


VERSION_FLAGS = {"verilator": "--version", "iverilog": "-V", "vvp": "-V"}


@functools.cache
def sim_version(sim: str) -> str:
    """The simulator's version: the first line of `verilator --version`, of `iverilog -V` and `vvp -V` for
    Icarus ("missing" for a tool not on PATH). Computed once per process and simulator."""
    tools = [*TOOLS.get(sim, {}).get("build", ()), *TOOLS.get(sim, {}).get("run", ())]
    return "; ".join(f"{t}: {_first_line([t, VERSION_FLAGS.get(t, '--version')])}" for t in tools) or "unknown"


def _bundled_samples() -> list[Path]:
    return sorted(p for p in (ROOT / "golden_py" / "samples").glob("*") if p.is_file())


def chunk_parts(config: dict, params: dict, images: list[int], sim: str, code_root: str | Path | None = None,
                fresh: bool = False, simulator: list | None = None) -> dict:
    """What decides a chunk's result: checkpoint bytes, RTL (sources, header, parameters), images, layers, data,
    the Python code that maps, simulates and checks (code_hash of `code_root`, default this checkout), and the
    simulator (name and version), and which path drove the ports (host_io). fresh: the code hashed again (not
    this process's first reading); simulator: [name, version] as the host found them (a worker runs the model
    the host built, and may not have the tool on its PATH)."""
    return {
        "checkpoint": _file_hash([config["checkpoint"]]),
        "rtl": _file_hash([*rtl_sources(*CORE_SOURCES), *sorted(INCLUDE.glob("*.vh"))]),
        "parameters": sorted(params.items()),
        "images": images,
        "layers": config.get("layers"),
        # the folder the simulator's loader reads (it resolves the given one again: DIR/cifar-10-batches-py
        # first), not the one given (a probe: an inner folder's other images were taken from the cache)
        "data": (_file_hash(sorted(resolve_data_dir(config["data_dir"]).glob("*_batch*"))) if config.get("data_dir")
                 else ["samples", _file_hash(_bundled_samples())]),
        "corrupt_layer": config.get("corrupt_layer"),
        "dataflow": [config.get("dataflow"), config.get("compare")],
        # the same results either way, but the report names the path and counts the event log's turns
        "io": [config.get("host_io", True), config.get("host_io_rotate")],
        "code": _code_hash.__wrapped__(Path(code_root or ROOT).resolve()) if fresh else code_hash(code_root),
        "simulator": simulator or [sim, sim_version(sim)],
        # what computes the expected values and runs the simulation besides our code (golden_store keys torch too)
        "packages": [f"{name} {importlib.metadata.version(name)}" for name in ("torch", "numpy", "cocotb")],
    }


def _host_simulator(parts: dict, sim: str) -> list | None:
    """The simulator a worker's chunk is keyed on: Verilator's model is the host's (built once, the worker may
    not have the tool on its PATH); Icarus runs the worker's own vvp, whose version is the worker's."""
    return parts["simulator"] if sim == "verilator" else None


def key_of(parts: dict) -> str:
    return hashlib.sha256(json.dumps(parts, sort_keys=True, default=str).encode()).hexdigest()[:20]


def chunk_key(config: dict, params: dict, images: list[int], sim: str, code_root: str | Path | None = None) -> str:
    """The chunk's cache key: key_of(chunk_parts(...))."""
    return key_of(chunk_parts(config, params, images, sim, code_root))


def differing(a: dict, b: dict) -> str:
    return ", ".join(k for k in sorted(set(a) | set(b)) if json.dumps(a.get(k), default=str) !=
                     json.dumps(b.get(k), default=str)) or "nothing"


CHUNK_FILE = re.compile(r"[0-9a-f]{20}\.(json|run|attempts|tmp)")


def _digest(raw: dict) -> str:
    return hashlib.sha256(json.dumps({k: v for k, v in raw.items() if k != "digest"}, sort_keys=True,
                                     default=str).encode()).hexdigest()


def read_entry(cache: Path, spec: dict) -> tuple[dict | None, str | None]:
    """A finished chunk's cached result, if it is the one its key names: (raw, None); else (None, why it is not
    taken) -- unreadable, damaged, written for another key or other images (copied), or changed since it was
    written (its digest) -- and the chunk runs again. (None, None): nothing cached."""
    path = cache / f"{spec['key']}.json"
    if not path.is_file():
        return None, None
    try:
        raw = json.loads(path.read_text())
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as e:
        return None, f"{path}: unreadable ({type(e).__name__}), run again"
    if not isinstance(raw, dict) or raw.get("key") != spec["key"] or raw.get("images") != spec["images"]:
        return None, (f"{path}: not the result of this chunk (key or images differ: copied, damaged, or written by "
                      f"an older version), run again")
    if raw.get("digest") != _digest(raw):
        return None, f"{path}: changed since it was written (its digest differs), run again"
    return {**raw, "cached": True}, None


def clear_cache(cache: Path) -> int:
    """--no-cache: remove what the farm wrote in the cache folder (chunk results, their run folders and attempt
    counters), nothing else -- --cache may name a folder that holds other things too. Returns how many."""
    gone = 0
    for q in (cache.iterdir() if cache.is_dir() else []):
        if CHUNK_FILE.fullmatch(q.name):
            shutil.rmtree(q) if q.is_dir() else q.unlink()
            gone += 1
    return gone


def drop_dask_malloc_trim(environ) -> None:
    """Dask starts its workers with MALLOC_TRIM_THRESHOLD_=65536 (distributed.nanny.pre-spawn-environ), so
    that glibc hands freed memory back to the OS at once; the simulator a worker starts would inherit it and
    spend more time in the kernel (5.0-5.7 s of system time per 2-image run against 2.7-3.5 s without, on
    this project's 2-core machine; the wall cost was within the host's drift). The simulator gets the
    environment one process would have; a value that is not Dask's own is the user's and stays."""
    import dask
    ours = (dask.config.get("distributed.nanny.pre-spawn-environ", None) or {}).get("MALLOC_TRIM_THRESHOLD_")
    if ours is not None and environ.get("MALLOC_TRIM_THRESHOLD_") == str(ours):
        del environ["MALLOC_TRIM_THRESHOLD_"]


def run_chunk(spec: dict) -> dict:
    """One chunk in this process's simulator (a Dask task): the chunk's raw network result. Crashes raise
    (Dask retries them); mismatches are results."""
    cache = Path(spec["cache"])
    done = cache / f"{spec['key']}.json"
    entry, _ = read_entry(cache, spec)
    if entry is not None:
        return entry
    t0 = time.perf_counter()
    # the files as this worker reads them, before it simulates: another checkout, or files changed since the
    # run was keyed, are refused here (a retry costs nothing) rather than cached under the run's key
    parts = spec.get("parts")
    if parts is not None:
        here = chunk_parts(spec["config"], spec["params"], spec["images"], spec["sim"], fresh=True,
                           simulator=_host_simulator(parts, spec["sim"]))
        if key_of(here) != spec["key"]:
            raise FarmError(f"images {spec['images']}: this worker reads other files than the run was keyed on "
                            f"({differing(parts, here)} differ: changed since the run started, or another checkout)")
    attempts = cache / f"{spec['key']}.attempts"
    n = int(attempts.read_text()) + 1 if attempts.is_file() else 1
    attempts.write_text(str(n))
    if n <= spec.get("fail_times", 0):   # tests only: a chunk that crashes its first attempts
        raise RuntimeError(f"injected failure of the chunk of images {spec['images']} (attempt {n})")
    report_dir = cache / f"{spec['key']}.run"
    # an earlier attempt's report must not stand for this one's: a simulation that stops before writing its own
    # left the old one there, and it was cached as this attempt's result (a probe: RTL that never delivers an
    # output passed, from an attempt on other files that had been refused)
    shutil.rmtree(report_dir, ignore_errors=True)
    # a chunk's report is only read back for the merge: no plot (importing matplotlib and drawing cost
    # about 1.8 s per chunk here, paid again by every chunk, while one process pays it once)
    config = {**spec["config"], "images": spec["images"], "report_dir": str(report_dir), "plot": False}
    # one simulator per core: the golden model's torch must not spread over the cores the other workers
    # simulate on (unless the user said otherwise)
    for var in ("OMP_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ.setdefault(var, "1")
    drop_dask_malloc_trim(os.environ)
    try:
        res = run(**network_run(spec.get("long_run", True), spec.get("training")), test_module="accel_tb.cocotb_tests.network", parameters=spec["params"],
                  sim=spec["sim"], testcase="test_network", config=config, expect_fail=True,
                  run_name=f"chunk-{spec['images'][0]}")
    except (RunError, AssertionError) as e:
        raise FarmError(f"images {spec['images']}: the simulation did not complete: {e}") from None
    rep_path = report_dir / "network_report.json"
    if not rep_path.is_file():
        raise FarmError(f"images {spec['images']}: no report written (simulation stopped, {res['failed']} failed)")
    raw = json.loads(rep_path.read_text())["raw"][0]
    if raw.get("images") != spec["images"]:
        raise FarmError(f"images {spec['images']}: the report written is of images {raw.get('images')}: not cached")
    if res["failed"] and not raw.get("problems") and raw.get("agree", len(spec["images"])) == len(spec["images"]):
        # a failed test is a result only where its report says why (mismatches, predictions that disagree);
        # else it stopped (a crash)
        raise FarmError(f"images {spec['images']}: the simulation failed and its report names no mismatch: "
                        f"not cached")
    raw["worker_pid"] = os.getpid()
    # the chunk end to end in its worker: the simulation's own wall ("wall") plus what every chunk pays
    # again -- the simulator's start-up (interpreter, torch, model and images) and its report (of the
    # attempt that finished: a crashed attempt's time is not throughput)
    raw["task_seconds"] = time.perf_counter() - t0
    # the files again, as they are now: the simulator imported the code and read the checkpoint, RTL and images
    # while it ran, so an edit during the chunk would be cached under the key of the files before it
    if parts is not None:
        after = chunk_parts(spec["config"], spec["params"], spec["images"], spec["sim"], fresh=True,
                            simulator=_host_simulator(parts, spec["sim"]))
        if after != here:
            raise FarmError(f"images {spec['images']}: {differing(here, after)} changed while the chunk ran: its "
                            f"result is not cached; run again on files that stay as they are")
    raw["key"] = spec["key"]
    raw["digest"] = _digest(raw)
    tmp = done.with_suffix(".tmp")
    tmp.write_text(json.dumps(raw))
    tmp.replace(done)
    return raw


def read_farm_file(path: str) -> tuple[str, int, dict]:
    """A farm file's cluster kind, number of jobs and options for dask_jobqueue.<Kind>Cluster."""
    import yaml
    try:
        data = Path(path).read_bytes()
    except FileNotFoundError:
        raise FarmError(f"{path}: file not found") from None
    except IsADirectoryError:
        raise FarmError(f"{path}: is a folder, not a farm file") from None
    except OSError as e:
        raise FarmError(f"{path}: cannot read the farm file ({e.strerror or type(e).__name__})") from None
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as e:
        raise FarmError(f"{path}: not a farm file (not UTF-8 text: byte 0x{data[e.start]:02x} at offset "
                        f"{e.start})") from None
    try:
        spec = yaml.safe_load(text) or {}
    except yaml.YAMLError as e:
        raise FarmError(f"{path}: not a farm file ({type(e).__name__}: {str(e).splitlines()[0]})") from None
    if not isinstance(spec, dict):
        raise FarmError(f"{path}: not a farm file (a mapping with cluster, jobs, options)")
    kind, options = str(spec.get("cluster", "")).lower(), spec.get("options") or {}
    if kind not in CLUSTERS:
        raise FarmError(f"{path}: cluster '{kind}' is not one of {sorted(CLUSTERS)}")
    jobs = spec.get("jobs", 1)
    if not isinstance(jobs, int) or isinstance(jobs, bool):
        raise FarmError(f"{path}: jobs: '{jobs}' is not an integer")
    if not isinstance(options, dict):
        raise FarmError(f"{path}: options: not a mapping of dask_jobqueue.{CLUSTERS[kind]} arguments")
    return kind, jobs, options


def _job_command(kind: str, attr: str, fallback: dict) -> str:
    try:
        import dask_jobqueue
        cmd = getattr(getattr(dask_jobqueue, CLUSTERS[kind]).job_cls, attr)
    except (ImportError, AttributeError):
        cmd = None
    words = shlex.split(cmd) if isinstance(cmd, str) else []
    return words[0] if words else fallback[kind]


def submit_command(kind: str) -> str:
    """The program dask_jobqueue submits a job of this kind with: its <Kind>Job.submit_command (a table of
    dask_jobqueue's own where it does not say)."""
    return _job_command(kind, "submit_command", SUBMIT_COMMANDS)


def cancel_command(kind: str) -> str:
    """The program dask_jobqueue cancels a job of this kind with (<Kind>Job.cancel_command) when it closes."""
    return _job_command(kind, "cancel_command", CANCEL_COMMANDS)


def require_submit_command(cluster_file: str) -> None:
    """A farm file whose scheduler's submit (or cancel) command is not on PATH is refused in one line:
    dask_jobqueue would print the submit command's traceback, then wait for workers that never come (and a
    missing cancel command fails the cluster's close, leaving the jobs queued)."""
    kind, _, _ = read_farm_file(cluster_file)
    for verb, cmd in (("submits", submit_command(kind)), ("cancels", cancel_command(kind))):
        if not shutil.which(cmd):
            raise FarmError(f"{cluster_file}: cluster '{kind}' {verb} jobs with {cmd}, which is not on PATH "
                            f"(is this a {SCHEDULER_NAMES[kind]} login node?)")


def worker_wait_seconds(environ=None) -> float:
    """Seconds to wait for the first worker of a farm or scheduler: WORKER_WAIT_S, or ACCEL_WORKER_WAIT_S."""
    raw = (os.environ if environ is None else environ).get(WORKER_WAIT_VAR, "").strip()
    if not raw:
        return float(WORKER_WAIT_S)
    try:
        value = float(raw)
    except ValueError:
        value = math.nan
    if not (math.isfinite(value) and value > 0):
        raise FarmError(f"{WORKER_WAIT_VAR}={raw}: must be a positive number of seconds")
    return value


def wait_for_first_worker(client, wait: float, where: str, hint: str = "") -> None:
    """Block until a Dask worker is connected, at most `wait` seconds; then a one-line FarmError."""
    try:
        client.wait_for_workers(1, timeout=wait)
    except TimeoutError as e:
        n = getattr(e, "available_workers", None)
        if n is None:
            try:
                n = len(client.scheduler_info().get("workers", {}))
            except Exception:  # noqa: BLE001 -- the count is only for the message
                n = 0
        raise FarmError(f"{where}: {n} Dask workers connected in {wait:g} s of waiting; no chunk ran ({hint}"
                        f"wait longer with {WORKER_WAIT_VAR}=seconds, default {WORKER_WAIT_S})") from None


def _jobqueue_option_names(kind: str) -> set[str]:
    """The keyword arguments dask_jobqueue.<Kind>Cluster accepts: its own, its job class's and the base Job's."""
    import inspect

    import dask_jobqueue
    from dask_jobqueue.core import Job, JobQueueCluster
    cls = getattr(dask_jobqueue, CLUSTERS[kind])
    names = set()
    for f in (cls.__init__, cls.job_cls.__init__, Job.__init__, JobQueueCluster.__init__):
        names |= {p.name for p in inspect.signature(f).parameters.values()
                  if p.kind not in (p.VAR_KEYWORD, p.VAR_POSITIONAL)}
    # the cluster refuses these itself (they go through scheduler_options), and a Client needs its own loop
    return names - {"self", "scheduler", "job_cls", "dashboard_address", "host", "asynchronous", "loop"}


def probe_scheduler(scheduler: str, seconds: float = 10.0) -> None:
    """A refused TCP address fails at once (distributed's client retries a refused one for its whole timeout);
    other protocols (tls://, ws://, inproc://) are left to distributed. accel_tb.cli.network calls it before it reads the
    checkpoint; farm_workers then connects with distributed's client only."""
    import socket  # noqa: PLC0415
    from urllib.parse import urlsplit  # noqa: PLC0415
    addr = scheduler if "://" in scheduler else f"tcp://{scheduler}"
    if not addr.lower().startswith("tcp://"):
        return
    try:
        parts = urlsplit(addr)
        host, port = parts.hostname, parts.port
    except ValueError:
        return
    if not host or port is None:
        return
    try:
        socket.create_connection((host, port), timeout=seconds).close()
    except OSError as e:
        raise FarmError(f"--scheduler {scheduler}: cannot connect ({type(e).__name__}: {e})") from None


def farm_workers(workers: int, scheduler: str | None, cluster_file: str | None, timeout: str = "10s") -> int:
    """How many chunks run at once, which the default chunking spreads the images over: the threads of the
    workers connected to a running scheduler; a farm file's jobs times the worker threads per job, reckoned as
    dask-jobqueue does (`cores` split into `processes`, by default distributed's own split); else --workers."""
    if cluster_file:
        kind, jobs, options = read_farm_file(cluster_file)
        try:
            import dask
            import dask_jobqueue  # noqa: F401 -- the farm needs it; say so before the build
            from distributed.deploy.utils import nprocesses_nthreads
        except ImportError as e:
            raise FarmError(f"{cluster_file}: dask-jobqueue is needed for a farm file ({e})") from None
        if jobs < 1:
            raise FarmError(f"{cluster_file}: jobs: {jobs} (at least 1 job runs the chunks)")
        unknown = sorted(map(str, set(options) - _jobqueue_option_names(kind)))
        if unknown:
            raise FarmError(f"{cluster_file}: options: {', '.join(unknown)}: not an argument of "
                            f"dask_jobqueue.{CLUSTERS[kind]} here (scheduler settings go in scheduler_options)")
        # what the options leave out, dask-jobqueue takes from the dask configuration (jobqueue.<config_name>)
        section = options.get("config_name") or kind

        def setting(name):
            if options.get(name) is not None:
                return options[name], "options"
            return dask.config.get(f"jobqueue.{section}.{name}", None), f"dask config jobqueue.{section}"
        given = {name: setting(name) for name in ("cores", "memory", "processes")}
        for name in ("cores", "memory"):
            if given[name][0] is None:
                raise FarmError(f"{cluster_file}: options: {name} (per job) is not given")
        (cores, where_c), (processes, where_p) = given["cores"], given["processes"]
        for name, value, where in (("cores", cores, where_c), ("processes", processes, where_p)):
            if value is not None and (not isinstance(value, int) or isinstance(value, bool) or value < 1):
                raise FarmError(f"{cluster_file}: {where}: {name}: '{value}' is not a positive integer")
        if processes is None:
            processes = nprocesses_nthreads(cores)[0]
        return jobs * processes * max(1, cores // processes)
    if scheduler:
        from dask.distributed import Client
        try:
            with Client(scheduler, timeout=timeout) as client:
                return max(1, sum(client.nthreads().values()))
        except (OSError, TimeoutError, ValueError) as e:
            raise FarmError(f"--scheduler {scheduler}: cannot connect ({type(e).__name__}: {e})") from None
    return workers


def make_client(workers: int, scheduler: str | None, cluster_file: str | None):
    """A Dask client: a scheduler address, a dask-jobqueue cluster from a farm file, or local processes."""
    from dask.distributed import Client, LocalCluster
    if scheduler:
        return Client(scheduler), None
    if cluster_file:
        cluster = make_jobqueue_cluster(cluster_file)
        return Client(cluster), cluster
    import dask
    # a worker only waits on its simulator process: its statistical profiler (10 ms ticks) is pure overhead
    # the dashboard moves to a free port when 8787 is taken (another run's cluster, side by side): distributed
    # says so in a multi-line warning, as for a jobqueue cluster below
    with dask.config.set({"distributed.worker.profile.enabled": False}), warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=r"Port \d+ is already in use", category=UserWarning)
        # a failed chunk is reported by the run itself, with its image ids, in one line: the workers' own log of
        # it ("Compute Failed" with a traceback, at ERROR) only repeated it over many lines (a probe)
        cluster = LocalCluster(n_workers=workers, threads_per_worker=1, processes=True, dashboard_address=None,
                               silence_logs=logging.CRITICAL)
    return Client(cluster), cluster


def make_jobqueue_cluster(path: str):
    kind, jobs, options = read_farm_file(path)
    if jobs > 0:
        require_submit_command(path)
    import dask_jobqueue
    try:
        # the scheduler's dashboard moves to a free port when its own is taken (another run's, another cluster's):
        # distributed says so in a multi-line warning on stderr; the link is printed below instead, in one line
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", message=r"Port \d+ is already in use", category=UserWarning)
            cluster = getattr(dask_jobqueue, CLUSTERS[kind])(**options)
    except (TypeError, ValueError) as e:
        raise FarmError(f"{path}: options: {str(e).splitlines()[0]}") from None
    link = getattr(cluster, "dashboard_link", None)
    if link:
        print(f"{path}: the farm's Dask dashboard: {link}", flush=True)
    cluster.scale(jobs=jobs)
    return cluster


def run_sharded(config: dict, params: dict, sim: str, images: list[int], chunk: int, workers: int,
                cache: Path, retries: int = 2, scheduler: str | None = None, cluster_file: str | None = None,
                fail_plan: dict | None = None, log=print, worker_wait: float | None = None, long_run: bool = True,
                training: dict | None = None) -> tuple[list[dict], list[str], dict]:
    """Run every chunk (cached ones are taken as they are); returns (chunk raws in image order, failures with
    image ids, timing). With a scheduler or a farm file, no chunk is submitted before a worker has connected,
    which it waits for at most `worker_wait` seconds (default worker_wait_seconds()): then a FarmError."""
    if (scheduler or cluster_file) and worker_wait is None:
        worker_wait = worker_wait_seconds()
    from dask.distributed import as_completed
    cache.mkdir(parents=True, exist_ok=True)
    chunks = [images[i:i + chunk] for i in range(0, len(images), chunk)]
    specs = []
    # the run's files hashed once (a checkpoint, the RTL, a CIFAR-10 folder's 180 MB, the simulator's version):
    # only the images differ from chunk to chunk
    run_parts = chunk_parts(config, params, [], sim)
    for c in chunks:
        parts = {**run_parts, "images": c}
        key = key_of(parts)
        specs.append({"images": c, "key": key, "parts": parts, "cache": str(cache), "config": config,
                      "params": params, "sim": sim,
                      "long_run": long_run, "training": training, "fail_times": (fail_plan or {}).get(str(c[0]), 0)})
    results = {}
    for s in specs:
        entry, why = read_entry(cache, s)
        if entry is not None:
            results[s["key"]] = entry
        elif why:
            log(f"note: {why}")
            (cache / f"{s['key']}.json").unlink(missing_ok=True)
    cached = [s for s in specs if s["key"] in results]
    todo = [s for s in specs if s not in cached]
    log(f"{len(images)} images in {len(chunks)} chunks of up to {chunk}: {len(cached)} cached, {len(todo)} to run "
        f"on {'the scheduler ' + scheduler if scheduler else 'the farm in ' + cluster_file if cluster_file else f'{workers} local workers'}")
    failures = []
    model = ""
    if todo:
        # once, before the workers start (a profile-guided model with its training run); not when every chunk
        # is cached (their keys hold the RTL and the code). Not in the farm's wall time, as before.
        model = build_kind(build(**network_run(long_run, training), parameters=params, sim=sim))
    t0 = time.perf_counter()
    if todo:
        client, cluster = make_client(workers, scheduler, cluster_file)
        try:
            if scheduler:      # workers that never come: a bounded wait, not forever
                wait_for_first_worker(client, worker_wait, f"--scheduler {scheduler}",
                                      f"start workers with `dask worker {scheduler}`, or ")
            elif cluster_file:
                kind = read_farm_file(cluster_file)[0]
                wait_for_first_worker(client, worker_wait, f"--cluster {cluster_file}",
                                      f"the jobs submitted with {submit_command(kind)} may be queued or have "
                                      f"failed to start: see the {SCHEDULER_NAMES[kind]} queue; ")
            try:
                from tqdm import tqdm
                bar = tqdm(total=len(images), initial=sum(len(s["images"]) for s in cached), desc="images",
                           unit="image", disable=None)
            except ImportError:
                bar = None
            futures = {client.submit(run_chunk, s, retries=retries, pure=False, key=f"chunk-{s['key']}"): s
                       for s in todo}
            for fut in as_completed(futures):
                s = futures[fut]
                try:
                    results[s["key"]] = fut.result()
                except Exception as e:  # noqa: BLE001 -- every kind of worker failure is reported alike
                    failures.append(f"images {s['images']}: failed after {retries + 1} attempts: "
                                    f"{type(e).__name__}: {str(e)[:300]}")
                if bar:
                    bar.update(len(s["images"]))
            if bar:
                bar.close()
        finally:   # a failure to close (a farm's cancel command failing) must not hide the run's outcome
            for what in (client, cluster):
                try:
                    if what is not None:
                        what.close()
                except Exception as e:  # noqa: BLE001
                    log(f"warning: closing the Dask {type(what).__name__}: {type(e).__name__}: {str(e)[:300]} "
                        f"(check the farm's queue for jobs left behind)")
    wall = time.perf_counter() - t0
    ordered = [results[s["key"]] for s in specs if s["key"] in results]
    ran = [r for r in ordered if not r.get("cached")]
    timing = {"model": model, "wall_seconds": wall, "chunks_run": len(ran), "images_run": sum(len(r["images"]) for r in ran),
              "images_cached": sum(len(r["images"]) for r in ordered if r.get("cached")),
              "worker_seconds": sum(r["wall"] for r in ran), "task_seconds": sum(r["task_seconds"] for r in ran),
              "startup_seconds_per_chunk": statistics.median(r["task_seconds"] - r["wall"] for r in ran) if ran else None,
              "workers": workers,
              "sim_cycles": sum(r["sim_cycles"] for r in ran)}
    return ordered, failures, timing
