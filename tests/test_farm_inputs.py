"""The sharded run's inputs and cache (accel_tb.network.farm): a chunk's cached result is keyed on the code and the
simulator too; a binary or unreadable farm file, a farm whose submit command is not on PATH and a checkpoint
that golden_py.bench_tiling cannot read are each one line with exit status 2, before anything is read or
built; jobs that never start a worker fail after a stated wait instead of hanging."""
from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from accel_tb.network import farm
from accel_tb.network.farm import FarmError

ROOT = Path(__file__).resolve().parents[1]
CKPT = str(ROOT / "checkpoints" / "vgg16_a4w4.pt")
SLURM = "cluster: slurm\njobs: 1\noptions:\n  cores: 1\n  memory: 1GB\n  walltime: '00:10:00'\n"


def _cmd(*args, cwd=ROOT, env=None, timeout=None):
    return subprocess.run([sys.executable, *args], cwd=cwd, capture_output=True, text=True, env=env, timeout=timeout)


def _path_without(*tools) -> str:
    """This PATH less the folders that hold any of `tools` (with make setup's Verilator folder, which
    accel_tb.design.runner adds to os.environ on import)."""
    keep = [d for d in os.environ.get("PATH", "").split(os.pathsep)
            if d and not any((Path(d) / t).exists() for t in tools)]
    return os.pathsep.join(keep)


# ------------------------------------------------------------------------------------------ the chunk key
CONFIG = {"checkpoint": CKPT, "data_dir": None, "layers": [27, 29], "corrupt_layer": None, "dataflow": "auto",
          "compare": False, "adapter": "accel"}
PARAMS = {"ROWS": 8, "COLS": 8}


def _copy_code(dest: Path) -> Path:
    for pkg in farm.CODE_PACKAGES:
        shutil.copytree(ROOT / pkg, dest / pkg, ignore=shutil.ignore_patterns("__pycache__"))
    return dest


def test_chunk_key_changes_with_the_simulator_name_and_version(monkeypatch):
    verilator = farm.chunk_key(CONFIG, PARAMS, [0, 1], "verilator")
    assert farm.chunk_key(CONFIG, PARAMS, [0, 1], "icarus") != verilator
    # another version of the same simulator is another key
    monkeypatch.setattr(farm, "sim_version", lambda sim: "verilator: Verilator 9.999 (not this one)")
    assert farm.chunk_key(CONFIG, PARAMS, [0, 1], "verilator") != verilator


def test_chunk_key_changes_with_the_io_path():
    """A chunk run with the ports driven from Python (--python-io) is not taken for one of the host I/O in the
    simulator (same results, but the report names the path), nor one whose event log turned at another size."""
    sim_io = farm.chunk_key(CONFIG, PARAMS, [0], "verilator")
    assert farm.chunk_key({**CONFIG, "host_io": True}, PARAMS, [0], "verilator") == sim_io      # the default
    assert farm.chunk_key({**CONFIG, "host_io": False}, PARAMS, [0], "verilator") != sim_io
    assert farm.chunk_key({**CONFIG, "host_io_rotate": 4096}, PARAMS, [0], "verilator") != sim_io


def test_sim_version_is_the_tools_first_line_or_missing(monkeypatch, tmp_path):
    tool = shutil.which("verilator")
    if tool is None:
        pytest.skip("verilator is not installed (make setup)")
    out = subprocess.run([tool, "--version"], capture_output=True, text=True).stdout
    first = next(line.strip() for line in out.splitlines() if line.strip())
    farm.sim_version.cache_clear()
    try:
        assert farm.sim_version("verilator") == f"verilator: {first}"
        monkeypatch.setenv("PATH", str(tmp_path))       # no simulator at all
        farm.sim_version.cache_clear()
        assert farm.sim_version("icarus") == "iverilog: missing; vvp: missing"
        assert farm.sim_version("verilator") == "verilator: missing"
    finally:
        farm.sim_version.cache_clear()                 # the next caller sees this machine's tools again


def test_code_hash_and_key_change_with_one_edited_line_of_the_checker(tmp_path):
    same, edited, again = (_copy_code(tmp_path / n) for n in ("same", "edited", "again"))
    checker = edited / "accel_tb" / "env" / "checker.py"
    lines = checker.read_text().splitlines(keepends=True)
    i = next(i for i, l in enumerate(lines) if l.strip().startswith("return "))
    lines[i] = lines[i].replace("return ", "return  ", 1)     # one line, one byte: the same program to Python
    checker.write_text("".join(lines))
    assert farm.code_hash(same) == farm.code_hash(again)       # where the code lies does not matter, what it is does
    assert farm.code_hash(edited) != farm.code_hash(same)
    keys = {name: farm.chunk_key(CONFIG, PARAMS, [0], "verilator", code_root=root)
            for name, root in (("same", same), ("edited", edited), ("again", again))}
    assert keys["same"] == keys["again"] != keys["edited"]
    # every *.py of the three packages counts, a new file too
    (again / "golden_py" / "extra.py").write_text("")
    assert farm.code_hash(tmp_path / "again" / ".." / "again") == farm.code_hash(again)   # cached per folder
    farm._code_hash.cache_clear()
    assert farm.code_hash(again) != farm.code_hash(same)
    assert farm.code_hash() == farm.code_hash(ROOT)             # default: this checkout


def test_chunk_key_is_stable_for_identical_inputs(tmp_path):
    code = _copy_code(tmp_path / "code")
    key = farm.chunk_key(CONFIG, PARAMS, [4, 5], "verilator", code_root=code)
    assert farm.chunk_key(dict(CONFIG), dict(PARAMS), [4, 5], "verilator", code_root=code) == key
    assert farm.chunk_key(CONFIG, PARAMS, [4, 6], "verilator", code_root=code) != key
    # a fresh process (another string hash seed) computes the same key
    prog = ("import json, sys; from accel_tb.network.farm import chunk_key; a = json.loads(sys.argv[1]); "
            "print(chunk_key(a['config'], a['params'], [4, 5], 'verilator', code_root=a['code']))")
    r = _cmd("-c", prog, json.dumps({"config": CONFIG, "params": PARAMS, "code": str(code)}),
             env={**os.environ, "PYTHONHASHSEED": "12345"})
    assert r.returncode == 0, r.stderr[-1500:]
    assert r.stdout.strip() == key


# ------------------------------------------------------------------------------------------ the farm file
def _network(tmp_path, *args, env=None, timeout=None):
    return _cmd("-m", "accel_tb.cli.network", *args, "--report-dir", str(tmp_path / "r"), "--cache",
                str(tmp_path / "c"), cwd=tmp_path, env=env, timeout=timeout)


def test_a_binary_farm_file_is_one_line_before_the_checkpoint(tmp_path, one_line_error):
    f = tmp_path / "farm.yaml"
    f.write_bytes(b"\x00\xff\xfe\x01\x02binary\x80\x81")
    one_line_error(_network(tmp_path, "--cluster", str(f), "--checkpoint", "nowhere.pt"),
                   f"--cluster {f}: not a farm file (not UTF-8 text: byte 0xff at offset 1)")
    assert not (tmp_path / "c").exists() and not (tmp_path / "build").exists()


def test_a_folder_given_as_the_farm_file_is_one_line(tmp_path, one_line_error):
    d = tmp_path / "farm.yaml"
    d.mkdir()
    one_line_error(_network(tmp_path, "--cluster", str(d), "--checkpoint", "nowhere.pt"),
                   f"--cluster {d}: is a folder, not a farm file")


def test_read_farm_file_reports_unreadable_files_in_one_line(tmp_path):
    f = tmp_path / "farm.yaml"
    f.write_bytes(b"\xff\xfe\x00")
    with pytest.raises(FarmError, match=r"farm.yaml: not a farm file \(not UTF-8 text: byte 0xff at offset 0\)"):
        farm.read_farm_file(str(f))
    f.write_bytes(b"cluster: slurm\x00\n")          # UTF-8, but not YAML's characters
    with pytest.raises(FarmError, match=r"farm.yaml: not a farm file \(ReaderError: "):
        farm.read_farm_file(str(f))
    with pytest.raises(FarmError, match=r"nowhere.yaml: file not found"):
        farm.read_farm_file(str(tmp_path / "nowhere.yaml"))
    with pytest.raises(FarmError, match=r": is a folder, not a farm file"):
        farm.read_farm_file(str(tmp_path))
    f.write_text(SLURM)
    f.chmod(0)
    try:
        try:
            f.read_bytes()
        except PermissionError:
            with pytest.raises(FarmError, match=r"farm.yaml: cannot read the farm file \(Permission denied\)"):
                farm.read_farm_file(str(f))
        else:
            pass    # root reads it regardless: the permission case cannot be made here
    finally:
        f.chmod(0o600)


# ------------------------------------------------------------------------------------------ the submit command
@pytest.mark.parametrize("kind,submit,cancel", [("slurm", "sbatch", "scancel"), ("lsf", "bsub", "bkill"),
                                                ("sge", "qsub", "qdel"), ("pbs", "qsub", "qdel"),
                                                ("htcondor", "condor_submit", "condor_rm")])
def test_submit_commands_are_dask_jobqueues(kind, submit, cancel, tmp_path, monkeypatch):
    import dask_jobqueue
    job = getattr(dask_jobqueue, farm.CLUSTERS[kind]).job_cls
    assert (farm.submit_command(kind), farm.cancel_command(kind)) == (job.submit_command, job.cancel_command)
    assert (farm.SUBMIT_COMMANDS[kind], farm.CANCEL_COMMANDS[kind]) == (submit, cancel)     # the fallback agrees
    f = tmp_path / "farm.yaml"
    f.write_text(f"cluster: {kind}\njobs: 2\noptions:\n  cores: 1\n  memory: 1GB\n")
    monkeypatch.setenv("PATH", str(tmp_path / "bin"))
    with pytest.raises(FarmError, match=f"cluster '{kind}' submits jobs with {submit}, which is not on PATH"):
        farm.require_submit_command(str(f))
    (tmp_path / "bin").mkdir()
    (tmp_path / "bin" / submit).write_text("#!/bin/sh\n")
    (tmp_path / "bin" / submit).chmod(0o755)
    with pytest.raises(FarmError, match=f"cluster '{kind}' cancels jobs with {cancel}, which is not on PATH"):
        farm.require_submit_command(str(f))
    (tmp_path / "bin" / cancel).write_text("#!/bin/sh\n")
    (tmp_path / "bin" / cancel).chmod(0o755)
    farm.require_submit_command(str(f))


def test_a_slurm_farm_without_sbatch_is_refused_before_the_checkpoint_and_the_build(tmp_path, one_line_error):
    f = tmp_path / "farm.yaml"
    f.write_text(SLURM)
    path = _path_without("sbatch")
    assert shutil.which("sbatch", path=path) is None
    env = {**os.environ, "PATH": path, "ACCEL_BUILD_DIR": str(tmp_path / "build")}
    one_line_error(_network(tmp_path, "--cluster", str(f), "--checkpoint", "nowhere.pt", "--sim", "icarus", env=env),
                   f"--cluster {f}: cluster 'slurm' submits jobs with sbatch, which is not on PATH "
                   f"(is this a Slurm login node?)")
    assert not (tmp_path / "build").exists() and not (tmp_path / "c").exists()


# ------------------------------------------------------------------------------------------ the bounded wait
def test_worker_wait_is_600_s_unless_the_environment_says_otherwise(tmp_path, one_line_error):
    assert farm.WORKER_WAIT_S == 600 and farm.worker_wait_seconds({}) == 600
    assert farm.worker_wait_seconds({"ACCEL_WORKER_WAIT_S": "2.5"}) == 2.5
    for bad in ("0", "-3", "nan", "inf", "soon"):
        with pytest.raises(FarmError, match=f"ACCEL_WORKER_WAIT_S={bad}: must be a positive number of seconds"):
            farm.worker_wait_seconds({"ACCEL_WORKER_WAIT_S": bad})
    f = tmp_path / "farm.yaml"
    f.write_text(SLURM)
    one_line_error(_network(tmp_path, "--cluster", str(f), "--checkpoint", "nowhere.pt",
                            env={**os.environ, "ACCEL_WORKER_WAIT_S": "soon"}), "ACCEL_WORKER_WAIT_S=soon")


def test_a_scheduler_without_workers_fails_after_the_wait():
    """The function the run waits with: a scheduler no worker ever joins fails after the wait, in one line."""
    from dask.distributed import Client, LocalCluster
    with LocalCluster(n_workers=0, processes=False, dashboard_address=None) as cluster, Client(cluster) as client:
        with pytest.raises(FarmError) as e:
            farm.wait_for_first_worker(client, 1.5, "--scheduler tcp://x:1", "start workers, or ")
    msg = str(e.value)
    assert "\n" not in msg and msg.startswith("--scheduler tcp://x:1: 0 Dask workers connected in 1.5 s of waiting")
    assert "ACCEL_WORKER_WAIT_S=seconds, default 600" in msg


def test_farm_jobs_that_never_start_a_worker_fail_after_the_stated_wait(tmp_path):
    """A Slurm farm whose jobs are accepted but never run (a fake sbatch prints a job id, nothing starts):
    after ACCEL_WORKER_WAIT_S seconds the run stops with one line naming the wait and the workers that
    connected (none), exit status 1 -- a run-time failure found after the build, like a missing simulator;
    exit status 2 is input refused before anything runs -- and the job is cancelled. The dashboard's port is
    held meanwhile (another run's cluster, as in a parallel `make test`): distributed's warning that it moved
    once made the error three lines more. The subprocess timeout is a guard against the old endless wait, not
    a speed assertion."""
    if shutil.which("iverilog") is None or shutil.which("vvp") is None:
        pytest.skip("Icarus Verilog is not installed (make setup); its build is the quick one")
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    log = tmp_path / "calls.txt"
    for name, out in (("sbatch", "Submitted batch job 4242"), ("scancel", "")):
        (bin_dir / name).write_text(f'#!/bin/sh\necho "{name} $*" >> "{log}"\necho "{out}"\n')
        (bin_dir / name).chmod(0o755)
    f = tmp_path / "farm.yaml"
    f.write_text(SLURM)
    env = {**os.environ, "PATH": f"{bin_dir}{os.pathsep}{_path_without('sbatch', 'scancel')}",
           "ACCEL_WORKER_WAIT_S": "3", "ACCEL_BUILD_DIR": str(tmp_path / "build")}
    with socket.socket() as taken:      # the dashboard's port held, as by another run's cluster: still one line
        try:
            taken.bind(("", 8787))
            taken.listen()
        except OSError:
            pass                        # held already
        r = _network(tmp_path, "--cluster", str(f), "--sim", "icarus", "--layers", "27", "--images", "1",
                     env=env, timeout=120)
    err = r.stderr.strip().splitlines()
    assert r.returncode == 1, (r.returncode, r.stdout[-800:], r.stderr[-1500:])
    assert len(err) == 1 and "Traceback" not in r.stderr, r.stderr[-1500:]
    assert err[0] == (f"error: --cluster {f}: 0 Dask workers connected in 3 s of waiting; no chunk ran (the jobs "
                      f"submitted with sbatch may be queued or have failed to start: see the Slurm queue; wait longer "
                      f"with ACCEL_WORKER_WAIT_S=seconds, default 600)")
    calls = log.read_text().splitlines()
    assert calls[0].startswith("sbatch ") and "scancel 4242" in calls       # submitted, then cancelled
    assert not list((tmp_path / "c").glob("*.json"))                         # nothing cached


# ------------------------------------------------------------------------------------------ bench_tiling
def test_bench_tiling_missing_checkpoint_is_one_line(one_line_error):
    one_line_error(_cmd("-m", "golden_py.bench_tiling", "--checkpoint", "missing.pt"),
                   "--checkpoint missing.pt: checkpoint not found")


def test_bench_tiling_truncated_checkpoint_is_one_line(tmp_path, one_line_error):
    bad = tmp_path / "trunc.pt"
    data = Path(CKPT).read_bytes()
    for n in (5000, len(data) // 2):
        bad.write_bytes(data[:n])
        one_line_error(_cmd("-m", "golden_py.bench_tiling", "--checkpoint", str(bad)),
                       f"--checkpoint {bad}: not a readable torch checkpoint")


class _Payload:
    def __init__(self, marker):
        self.marker = marker

    def __reduce__(self):
        return (Path.touch, (Path(self.marker),))


def test_bench_tiling_code_running_checkpoint_is_refused_in_one_line(tmp_path, one_line_error):
    """torch's refusal of a pickle that would run code spans several lines and advises weights_only=False (running
    the file's code): one line of our own, never that advice; a file that is neither torch's zip nor a pickle (the
    JSON card beside a checkpoint) is named as such."""
    import torch
    marker = tmp_path / "ran"
    torch.save({"state_dict": _Payload(str(marker))}, tmp_path / "evil.pt")
    err = one_line_error(_cmd("-m", "golden_py.bench_tiling", "--checkpoint", str(tmp_path / "evil.pt")),
                         "evil.pt: holds objects that torch.load builds only by running code from the file; refused")
    assert "weights_only" not in err and not marker.exists()
    one_line_error(_cmd("-m", "golden_py.bench_tiling", "--checkpoint", str(Path(CKPT).with_suffix(".json"))),
                   "vgg16_a4w4.json: not a torch checkpoint (neither torch.save's zip archive nor a pickle")


def test_bench_tiling_layer_that_is_not_a_conv_is_one_line(one_line_error):
    one_line_error(_cmd("-m", "golden_py.bench_tiling", "--checkpoint", CKPT, "--layer", "28"),
                   "--layer 28: features[28] is ReLU, not a QuantConv2d")


def test_no_cache_clears_only_the_chunk_files(tmp_path):
    """--no-cache empties the farm's own files from --cache, never the user's others (it removed the whole
    folder, whatever --cache named)."""
    from accel_tb.network.farm import clear_cache
    (tmp_path / "thesis.txt").write_text("keep")
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "data.bin").write_bytes(b"keep")
    key = "0123456789abcdef0123"
    (tmp_path / f"{key}.json").write_text("{}")
    (tmp_path / f"{key}.attempts").write_text("1")
    (tmp_path / f"{key}.run").mkdir()
    assert clear_cache(tmp_path) == 3
    assert sorted(q.name for q in tmp_path.iterdir()) == ["sub", "thesis.txt"] and (tmp_path / "sub" / "data.bin").is_file()


def test_the_farm_builds_and_runs_its_chunks_on_the_profile_guided_model(tmp_path, monkeypatch):
    """A long sharded run's profile-guided model: built (with its training run) once before the workers
    start, and every chunk's run names the same model (runner.build finds it by the same arguments). A run
    whose chunks are all cached builds nothing."""
    from accel_tb.network import farm

    class Stop(Exception):
        pass
    seen = []

    def record(**kw):
        seen.append(kw)
        raise Stop
    monkeypatch.setattr(farm, "build", record)
    monkeypatch.setattr(farm, "run", record)
    monkeypatch.setattr(farm, "chunk_parts", lambda config, params, images, sim, **kw: {"images": images})
    monkeypatch.setattr(farm, "key_of", lambda parts: f"{parts['images'][0]:020d}")
    training = {"images": [0], "layers": [36, 39], "report_dir": None}
    with pytest.raises(Stop):
        farm.run_sharded({}, {"ROWS": 8}, "verilator", [0, 1], 1, 2, tmp_path, long_run=True, training=training)
    spec = {"images": [4, 5], "key": "0123456789abcdef0123", "cache": str(tmp_path), "config": {}, "params": {},
            "sim": "verilator", "long_run": True, "training": training}
    with pytest.raises(Stop):
        farm.run_chunk(spec)
    built, ran = seen
    assert built["train"] == ran["train"] and built["train"].config == training
    assert built["long_run"] and ran["long_run"] and ran["config"]["images"] == [4, 5]

    seen.clear()
    for i in (0, 1):      # both chunks cached: no build, no worker
        _entry(tmp_path, f"{i:020d}", [i])
    monkeypatch.setattr(farm, "make_client", lambda *a: pytest.fail("workers started for cached chunks"))
    raws, failures, timing = farm.run_sharded({}, {"ROWS": 8}, "verilator", [0, 1], 1, 2, tmp_path, long_run=True,
                                              training=training)
    assert seen == [] and failures == [] and timing["model"] == "" and [r["images"] for r in raws] == [[0], [1]]


def _entry(cache, key, images, **more):
    """A cache entry as run_chunk writes it: its key, its images, and the digest of the rest."""
    from accel_tb.network import farm
    raw = {"images": images, "problems": [], "stats": {}, **more, "key": key}
    raw["digest"] = farm._digest(raw)
    (cache / f"{key}.json").write_text(json.dumps(raw))
    return raw


def test_a_cache_entry_is_taken_only_as_the_chunk_it_names(tmp_path):
    """A copied, damaged or hand-edited entry was taken as it stood (a sharded run passed on an SFU that adds 1,
    from an entry whose problems were emptied or that another key had written; a damaged one was a traceback):
    each is now run again, with a note naming the file."""
    from accel_tb.network import farm
    spec = {"key": "a" * 20, "images": [3, 4]}
    assert farm.read_entry(tmp_path, spec) == (None, None)                        # nothing cached
    good = _entry(tmp_path, spec["key"], [3, 4], problems=["features[27]: 1 mismatch"])
    assert farm.read_entry(tmp_path, spec) == ({**good, "cached": True}, None)
    path = tmp_path / f"{spec['key']}.json"
    edited = {**good, "problems": []}                                             # a FAIL edited into a PASS
    path.write_text(json.dumps(edited))
    assert farm.read_entry(tmp_path, spec)[1] == f"{path}: changed since it was written (its digest differs), run again"
    _entry(tmp_path, "b" * 20, [3, 4])
    path.write_text((tmp_path / f"{'b' * 20}.json").read_text())                 # another key's entry copied
    assert "not the result of this chunk (key or images differ" in farm.read_entry(tmp_path, spec)[1]
    _entry(tmp_path, spec["key"], [0, 1])                                         # other images under this key
    assert "not the result of this chunk" in farm.read_entry(tmp_path, spec)[1]
    for text in ("", "{", "{}", "null", "[]"):
        path.write_text(text)
        entry, why = farm.read_entry(tmp_path, spec)
        assert entry is None and why.startswith(str(path)), text


def test_a_chunk_whose_inputs_change_is_not_cached(tmp_path, monkeypatch):
    """The key is taken when the run starts; a chunk's simulator reads the code when it starts: an edit in
    between was cached under the old key (a later run took the edited code's result as the old code's). A worker
    now compares the files it reads with the run's before it simulates (refused at once, naming what differs:
    an edit since the start, another checkout) and after (an edit during the chunk: not cached). The simulator's
    version is the host's for Verilator (a worker runs the model the host built, with or without the tool on its
    PATH)."""
    from accel_tb.network import farm
    root = _copy_code(tmp_path / "code")
    monkeypatch.setattr(farm, "ROOT", root)
    farm._code_hash.cache_clear()
    cache = tmp_path / "cache"
    cache.mkdir()
    config = {**CONFIG, "layers": [27]}
    checker = root / "accel_tb" / "env" / "checker.py"

    def spec_now():
        farm._code_hash.cache_clear()
        parts = farm.chunk_parts(config, PARAMS, [0], "verilator")
        return {"images": [0], "key": farm.key_of(parts), "parts": parts, "cache": str(cache), "config": config,
                "params": PARAMS, "sim": "verilator", "long_run": False}
    ran = []

    def simulated(edit):
        def fake_run(**kw):
            ran.append(edit)
            out = Path(kw["config"]["report_dir"])
            out.mkdir(parents=True, exist_ok=True)
            (out / "network_report.json").write_text(json.dumps({"raw": [{"images": [0], "problems": [], "stats": {},
                                                                          "wall": 1.0}]}))
            if edit:    # the user edits the checker while the chunk runs
                checker.write_text(checker.read_text() + "\n# edited\n")
            return {"failed": 0}
        return fake_run
    spec = spec_now()
    monkeypatch.setattr(farm, "run", simulated(edit=True))
    with pytest.raises(farm.FarmError, match=r"images \[0\]: code changed while the chunk ran: its result is not "
                                             r"cached"):
        farm.run_chunk(spec)
    assert ran == [True] and not (cache / f"{spec['key']}.json").exists()
    # the retry (or a queued chunk) on the edited files: refused before it simulates, naming what differs
    monkeypatch.setattr(farm, "run", simulated(edit=False))
    with pytest.raises(farm.FarmError, match=r"this worker reads other files than the run was keyed on \(code "
                                             r"differ: changed since the run started, or another checkout\)"):
        farm.run_chunk(spec)
    assert ran == [True]
    # keyed on the files as they are, with no simulator on this worker's PATH: run and cached
    spec = spec_now()
    monkeypatch.setenv("PATH", str(tmp_path / "nowhere"))
    farm.sim_version.cache_clear()
    raw = farm.run_chunk(spec)
    assert ran == [True, False] and farm.read_entry(cache, spec) == ({**raw, "cached": True}, None)
    farm._code_hash.cache_clear()
    farm.sim_version.cache_clear()


def _chunk_spec(cache, images=(0,)):
    return {"images": list(images), "key": "0123456789abcdef0123", "cache": str(cache), "config": {}, "params": {},
            "sim": "icarus", "long_run": False}


def test_an_earlier_attempt_s_report_is_never_this_attempt_s_result(tmp_path, monkeypatch):
    """A chunk whose simulation stops before writing its report: an earlier attempt's report in the chunk's run
    folder was read and cached as this attempt's result (a probe: RTL that never delivers an output passed from
    the cache). Each attempt starts without it; a failed simulation whose report names no mismatch (a crash) and
    a report of other images are not cached either."""
    spec = _chunk_spec(tmp_path)
    stale = tmp_path / f"{spec['key']}.run"
    stale.mkdir()
    (stale / "network_report.json").write_text(json.dumps({"raw": [{"images": [0], "problems": [], "stats": {}}]}))
    monkeypatch.setattr(farm, "run", lambda **kw: {"failed": 1})     # stopped before its report
    with pytest.raises(FarmError, match=r"images \[0\]: no report written"):
        farm.run_chunk(spec)
    assert not (tmp_path / f"{spec['key']}.json").exists()

    def writes(raw, failed):
        def fake_run(**kw):
            out = Path(kw["config"]["report_dir"])
            out.mkdir(parents=True, exist_ok=True)
            (out / "network_report.json").write_text(json.dumps({"raw": [raw]}))
            return {"failed": failed}
        return fake_run
    monkeypatch.setattr(farm, "run", writes({"images": [0], "problems": [], "stats": {}}, 1))
    with pytest.raises(FarmError, match="the simulation failed and its report names no mismatch: not cached"):
        farm.run_chunk(spec)
    monkeypatch.setattr(farm, "run", writes({"images": [7], "problems": [], "stats": {}}, 0))
    with pytest.raises(FarmError, match=r"the report written is of images \[7\]: not cached"):
        farm.run_chunk(spec)
    assert not (tmp_path / f"{spec['key']}.json").exists()
    # predictions that disagree, every layer matching, are a finding (the report says 0 of 1 agree): a result
    monkeypatch.setattr(farm, "run", writes({"images": [0], "problems": [], "agree": 0, "stats": {}}, 1))
    assert farm.run_chunk(spec)["agree"] == 0
    (tmp_path / f"{spec['key']}.json").unlink()
    # a failed chunk with its mismatches is a result, cached as one
    monkeypatch.setattr(farm, "run", writes({"images": [0], "problems": ["features[27]: 1 of 128 differ"],
                                             "stats": {}}, 1))
    assert farm.run_chunk(spec)["problems"] == ["features[27]: 1 of 128 differ"]


def test_the_chunk_key_hashes_the_batches_the_loader_reads_and_the_packages(tmp_path):
    """The loader resolves a data folder again (DIR/cifar-10-batches-py first): the key hashed the folder given,
    and other images inside it came from the cache (a probe). And torch, numpy, cocotb compute and run the
    chunk: their versions are in its key."""
    outer = tmp_path / "cifar-10-batches-py"
    inner = outer / "cifar-10-batches-py"
    inner.mkdir(parents=True)
    (outer / "test_batch").write_bytes(b"outer")
    (inner / "test_batch").write_bytes(b"inner")
    config = {**CONFIG, "data_dir": str(outer)}
    parts = farm.chunk_parts(config, PARAMS, [0], "icarus")
    (inner / "test_batch").write_bytes(b"other images")
    assert farm.chunk_parts(config, PARAMS, [0], "icarus")["data"] != parts["data"]
    import importlib.metadata
    assert f"torch {importlib.metadata.version('torch')}" in parts["packages"]
