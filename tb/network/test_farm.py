"""The sharded network run (accel_tb.network.farm, Dask): equal to one process over the same images, resumable,
retrying crashed chunks, reporting the ones that never finish, and failing on a mismatch with its location."""
from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest

from accel_tb.cli.network import main as network
from accel_tb.design.runner import locked

LAYERS = ["--layers", "27,29"]       # small layers: the mechanism, not the network, is under test here

# what depends only on the images (weights are written once per chunk, wall time is the machine's)
SAME = ("outputs_compared", "layer_mismatches", "prediction_agreement", "label_accuracy", "predictions",
        "cycle_bound_violations")
LAYER_SAME = ("index", "in_channels", "out_channels", "act_load_cycles", "ideal_cycles", "scalesim_cycles")


def report(path):
    return json.loads((path / "network_report.json").read_text())


@pytest.fixture
def one_process(sim, tmp_path_factory, request):
    """The report of the four images of LAYERS in one process, the reference the farm runs below are compared
    with: run once per session (one file lock in the session's temporary folder, which pytest-xdist's workers
    share) and read by each test, where three tests ran a one-process run each. Kept only when the run passed."""
    base = tmp_path_factory.getbasetemp()
    # an xdist worker's folder is one per worker in the session's: the session's is shared (the worker is told by
    # its configuration, not by PYTEST_XDIST_WORKER, which a pytest started from a worker inherits)
    shared = base.parent if hasattr(request.config, "workerinput") else base
    out = shared / f"farm-one-process-{sim}"
    with locked(shared / f"farm-one-process-{sim}.lock"):     # the lock the model builds take
        if not (out / "passed").is_file():
            assert network(["--sim", sim, "--images", "4", *LAYERS, "--report-dir", str(out)]) == 0
            (out / "passed").touch()
    return report(out)


def assert_same(a, b, starts):
    """a: the images in one process, b: in chunks that start at the images `starts`. A chunk's first step of
    each layer fills its memory regions while it computes (rtl/core.v: no step before it to hide its writes
    behind), so the first image of a chunk may take the fill's waits more than in a, within the cycle model;
    every other image's cycles are equal. The model per image counts each run's waits once: b's (one per
    chunk) at least a's."""
    for k in SAME:
        assert a[k] == b[k], k
    assert [{k: r[k] for k in LAYER_SAME} for r in a["layers"]] == [{k: r[k] for k in LAYER_SAME} for r in b["layers"]]
    for ra, rb in zip(a["layers"], b["layers"]):
        one, many = ra["compute_cycles_per_image"], rb["compute_cycles_per_image"]
        assert len(one) == len(many)
        for i, (x, y) in enumerate(zip(one, many)):
            assert x <= y if i in starts else x == y, (ra["index"], i, one, many)
        assert ra["compute_cycles"] <= ra["model_cycles"] <= rb["model_cycles"] and rb["compute_cycles"] <= rb["model_cycles"]
    assert a["model_cycles_per_image"] <= b["model_cycles_per_image"]


@pytest.mark.prefer("verilator")
def test_sharded_equals_single_process_and_retries_a_crash(sim, tmp_path, one_process):
    # two workers, chunks of 2; the chunk starting at image 2 crashes once and is retried
    assert network(["--sim", sim, "--images", "4", *LAYERS, "--workers", "2", "--chunk", "2", "--cache",
                    str(tmp_path / "cache"), "--report-dir", str(tmp_path / "two"), "--fail-plan", '{"2": 1}']) == 0
    one, two = one_process, report(tmp_path / "two")
    assert_same(one, two, starts={0, 2})
    ckpt = hashlib.sha256((Path(__file__).resolve().parents[2] / "checkpoints" / "vgg16_a4w4.pt").read_bytes()).hexdigest()
    assert one["checkpoint_sha256"] == two["checkpoint_sha256"] == ckpt     # which file ran, not only its name
    assert two["chunks"] == 2 and two["farm"]["failures"] == [] and two["predictions"]["images"] == [0, 1, 2, 3]
    # each chunk's time end to end in its worker holds its simulation and the start-up it pays again; the
    # projection for 10,000 images is made from those end-to-end times
    f = two["farm"]
    assert f["chunks_run"] == 2 and all(r["task_seconds"] > r["wall"] > 0 for r in two["raw"])
    assert f["task_seconds"] == sum(r["task_seconds"] for r in two["raw"]) and f["startup_seconds_per_chunk"] > 0
    assert f["projected_hours_10000_images"]["2"] == round(10000 / (2 * (4 / f["task_seconds"])) / 3600, 2)
    # the merged report is plotted once; the chunks write only the JSON the merge reads
    assert (tmp_path / "two" / "utilization.png").stat().st_size > 1000
    assert len(list((tmp_path / "cache").glob("*.run/network_report.json"))) == 2
    assert not list((tmp_path / "cache").glob("*.run/utilization.png"))


@pytest.mark.prefer("verilator")
def test_interrupted_run_resumes_without_recomputing(sim, tmp_path, one_process):
    args = ["--sim", sim, "--images", "4", *LAYERS, "--workers", "2", "--chunk", "2", "--cache", str(tmp_path / "c")]
    # the chunk of images 2, 3 crashes on every attempt: the run ends naming them, the other chunk is kept
    assert network([*args, "--retries", "1", "--report-dir", str(tmp_path / "cut"), "--fail-plan", '{"2": 9}']) == 1
    cut = report(tmp_path / "cut")
    assert cut["farm"]["images_missing"] == [2, 3] and "images [2, 3]: failed after 2 attempts" in cut["farm"]["failures"][0]
    # the finished chunk's entry names its key and images, and the digest of the rest (farm.read_entry)
    (entry,) = [json.loads(f.read_text()) for f in (tmp_path / "c").glob("*.json")]
    assert entry["images"] == [0, 1] and entry["key"] and entry["digest"]
    # rerun: images 0, 1 come from the cache, only 2, 3 run; the report is the whole run's
    assert network([*args, "--report-dir", str(tmp_path / "rerun")]) == 0
    rerun = report(tmp_path / "rerun")
    assert rerun["farm"]["images_cached"] == 2 and rerun["farm"]["images_run"] == 2 and rerun["farm"]["chunks_run"] == 1
    assert_same(one_process, rerun, starts={0, 2})


@pytest.mark.prefer("verilator")
def test_a_worker_with_two_threads_runs_two_chunks_at_once(sim, tmp_path, one_process):
    """A farm whose workers have several threads (dask-jobqueue's cores > processes) runs chunks side by side in
    one worker process: each chunk's simulator, configuration and report stay its own."""
    from dask.distributed import LocalCluster
    # dashboard on a free port (":0"): None is distributed's 8787, which another farm test beside may hold
    with LocalCluster(n_workers=1, threads_per_worker=2, processes=True, dashboard_address=":0") as cluster:
        # the default chunking spreads 4 images over the scheduler's 2 worker threads: 2 chunks of 2
        assert network(["--sim", sim, "--images", "4", *LAYERS, "--scheduler", cluster.scheduler_address,
                        "--cache", str(tmp_path / "c"), "--report-dir", str(tmp_path / "two")]) == 0
    two = report(tmp_path / "two")
    assert two["chunks"] == 2 and two["farm"]["chunk"] == 2 and len({r["worker_pid"] for r in two["raw"]}) == 1
    assert_same(one_process, two, starts={0, 2})


@pytest.mark.prefer("verilator")
def test_sharded_run_fails_on_a_corrupted_weight_naming_the_layer(sim, tmp_path):
    assert network(["--sim", sim, "--images", "2", *LAYERS, "--workers", "2", "--chunk", "1", "--corrupt-layer", "29",
                    "--cache", str(tmp_path / "c"), "--report-dir", str(tmp_path)]) == 1
    rep = report(tmp_path)
    assert len(rep["layer_mismatches"]) == 2
    assert all(m.startswith("features[29]: ") and "of 8192 outputs differ" in m for m in rep["layer_mismatches"])
    assert sorted(m.split("first at image ")[1][0] for m in rep["layer_mismatches"]) == ["0", "1"]
    assert all("output channel 5" in m for m in rep["layer_mismatches"])


def test_farm_file_makes_a_jobqueue_cluster(tmp_path):
    """A Slurm farm file becomes a dask-jobqueue cluster whose job script starts Dask workers (no job is
    submitted: scaling to 0 jobs)."""
    from accel_tb.network.farm import FarmError, make_jobqueue_cluster
    f = tmp_path / "farm.yaml"
    f.write_text("cluster: slurm\njobs: 0\noptions:\n  cores: 1\n  memory: 2GB\n  walltime: '01:00:00'\n  queue: eda\n")
    cluster = make_jobqueue_cluster(str(f))
    try:
        script = cluster.job_script()
        assert "#SBATCH -p eda" in script and "distributed.cli.dask_worker" in script
    finally:
        cluster.close()
    f.write_text("cluster: nowhere\n")
    with pytest.raises(FarmError, match="cluster 'nowhere' is not one of"):
        make_jobqueue_cluster(str(f))
    f.write_text("cluster: slurm\njobs: 0\noptions:\n  cores: 1\n  memory: 2GB\n  no_such_option: 1\n")
    with pytest.raises(FarmError, match="options: "):
        make_jobqueue_cluster(str(f))


@pytest.mark.parametrize("images,workers,chunk", [(4, 2, 2), (2, 2, 1), (256, 2, 32), (100, 2, 25), (65, 2, 17),
                                                  (1, 2, 1), (33, 1, 17), (8, 1, 8)])
def test_default_chunk_spreads_images_evenly_in_chunks_of_at_most_32(images, workers, chunk):
    """100 images on 2 workers: 4 chunks of 25, two per worker (chunks of 8 made 13: 7 for one worker, 6 for
    the other, and paid the simulator's start-up 13 times)."""
    from accel_tb.network.farm import CHUNK_MOST, default_chunk
    assert default_chunk(images, workers) == chunk
    for n in range(1, 300, 7):
        for w in (1, 2, 3, 64):
            c = default_chunk(n, w)
            per_worker = -(-n // w)
            rounds = -(-per_worker // CHUNK_MOST)     # the fewest rounds chunks of 32 allow
            assert 1 <= c <= CHUNK_MOST and -(-n // c) <= w * rounds, (n, w, c)


def test_farm_workers_counts_the_farm_it_spreads_chunks_over(tmp_path):
    """The default chunking spreads over what runs at once: a farm file's jobs times the worker threads per
    job as dask-jobqueue reckons them, the threads of the workers connected to a scheduler; a farm file or
    scheduler that does not work is a one-line error."""
    import dask
    from dask.distributed import LocalCluster
    from distributed.deploy.utils import nprocesses_nthreads

    from accel_tb.network.farm import FarmError, farm_workers
    f = tmp_path / "farm.yaml"
    f.write_text("cluster: lsf\njobs: 16\noptions:\n  cores: 4\n  processes: 2\n  memory: 4GB\n  queue: eda\n"
                 "  walltime: '04:00'\n  job_extra_directives: ['-R rusage[mem=4096]']\n")   # real LSF options pass
    assert farm_workers(1, None, str(f)) == 64          # 16 jobs x 2 processes x 2 threads
    f.write_text("cluster: slurm\njobs: 3\noptions:\n  cores: 32\n  memory: 8GB\n")
    procs, threads = nprocesses_nthreads(32)              # distributed's own split, as the job script uses
    assert farm_workers(1, None, str(f)) == 3 * procs * threads == 96
    assert farm_workers(3, None, None) == 3
    for text, what in [("cluster: nowhere\njobs: 2\n", "cluster 'nowhere' is not one of"),
                       ("cluster: slurm\njobs: many\n", "jobs: 'many' is not an integer"),
                       ("[1, 2\n", "not a farm file"), ("- 1\n", "not a farm file"),
                       ("cluster: slurm\noptions: [cores]\n", "options: not a mapping"),
                       ("cluster: slurm\njobs: 0\noptions:\n  cores: 1\n", "jobs: 0"),
                       ("cluster: slurm\njobs: 2.5\n", "jobs: '2.5' is not an integer"),
                       ("cluster: slurm\njobs: 2\noptions:\n  memory: 4GB\n", "cores .per job. is not given"),
                       ("cluster: slurm\njobs: 2\noptions:\n  cores: 2\n", "memory .per job. is not given"),
                       ("cluster: pbs\noptions:\n  cores: four\n  memory: 1GB\n", "cores: 'four' is not a positive"),
                       ("cluster: pbs\noptions:\n  cores: 0\n  memory: 1GB\n", "options: cores: '0' is not a positive"),
                       ("cluster: sge\noptions:\n  cores: 2\n  memory: 1GB\n  processes: 0\n", "processes: '0' is not"),
                       ("cluster: slurm\noptions:\n  cores: 1\n  no_such_option: 1\n",
                        "options: no_such_option: not an argument of dask_jobqueue.SLURMCluster"),
                       ("cluster: lsf\noptions:\n  cores: 1\n  memory: 1GB\n  dashboard_address: ':0'\n",
                        "dashboard_address: not an argument .* scheduler_options")]:
        f.write_text(text)
        with dask.config.set({"jobqueue": {}}), pytest.raises(FarmError, match=what):   # no site defaults
            farm_workers(1, None, str(f))
    # what the file leaves out comes from the dask configuration, as dask-jobqueue takes it
    f.write_text("cluster: pbs\njobs: 2\noptions:\n  memory: 1GB\n")
    with dask.config.set({"jobqueue.pbs.cores": 6, "jobqueue.pbs.processes": 3}):
        assert farm_workers(1, None, str(f)) == 2 * 3 * 2
    with dask.config.set({"jobqueue.pbs.cores": 0}), pytest.raises(FarmError, match="dask config jobqueue.pbs: cores"):
        farm_workers(1, None, str(f))
    with LocalCluster(n_workers=3, threads_per_worker=2, processes=False, dashboard_address=":0") as cluster:
        assert farm_workers(1, cluster.scheduler_address, None) == 6
    with pytest.raises(FarmError, match="--scheduler tcp://127.0.0.1:9: cannot connect"):
        farm_workers(1, "tcp://127.0.0.1:9", None, timeout="1s")


def test_bad_farm_file_is_refused_before_any_build(tmp_path, capsys):
    f = tmp_path / "farm.yaml"
    f.write_text("cluster: nowhere\n")
    assert network(["--images", "2", "--cluster", str(f), "--cache", str(tmp_path / "c"),
                    "--report-dir", str(tmp_path / "r")]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: ") and "cluster 'nowhere'" in err and err.count("\n") == 1
    assert not (tmp_path / "c").exists()
    f.write_text("cluster: slurm\noptions:\n  cores: 1\n  memory: 1GB\n")
    assert network(["--images", "2", "--cluster", str(f), "--scheduler", "tcp://127.0.0.1:8786",
                    "--report-dir", str(tmp_path / "r")]) == 2
    assert "give one" in capsys.readouterr().err


def test_simulators_do_not_inherit_dasks_malloc_trim():
    """Dask's workers run with MALLOC_TRIM_THRESHOLD_=65536; the simulator a chunk starts must not (it slowed
    the simulations); a value the user set is left alone."""
    import dask
    import distributed  # noqa: F401  (its import puts the distributed.* defaults into dask's config)

    from accel_tb.network.farm import drop_dask_malloc_trim
    dasks = dask.config.get("distributed.nanny.pre-spawn-environ")["MALLOC_TRIM_THRESHOLD_"]
    env = {"MALLOC_TRIM_THRESHOLD_": str(dasks), "OMP_NUM_THREADS": "1"}
    drop_dask_malloc_trim(env)
    assert env == {"OMP_NUM_THREADS": "1"}
    env = {"MALLOC_TRIM_THRESHOLD_": str(dasks * 2 + 1)}
    drop_dask_malloc_trim(env)
    assert env == {"MALLOC_TRIM_THRESHOLD_": str(dasks * 2 + 1)}


def test_docs_farm_file_example_is_valid(tmp_path):
    """The farm file of docs/network.md passes the checks and spreads the chunks over its 16 jobs x 4
    simulators."""
    from accel_tb.network.farm import farm_workers
    text = (Path(__file__).resolve().parents[2] / "docs" / "network.md").read_text()
    block = text.split("```yaml\n", 1)[1].split("```", 1)[0]
    f = tmp_path / "farm.yaml"
    f.write_text(block)
    assert farm_workers(1, None, str(f)) == 64
