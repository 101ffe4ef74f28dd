"""Users' folders and bad input (issue 15): what a course team's files look like, and every bad input a
command can get, each a one-line error naming the culprit with exit status 2 -- before anything is built."""
from __future__ import annotations

import pickle
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch

from golden_py.coursefmt import NAMING_000, NAMING_001, FormatError, read_folder, with_viz_twins, write_layer
from golden_py.folder_check import check_vectors
from golden_py.tiling import tile_layer

ROOT = Path(__file__).resolve().parents[1]
CKPT = str(ROOT / "checkpoints" / "vgg16_a4w4.pt")


def _layer(seed=0):
    g = torch.Generator().manual_seed(seed)
    return tile_layer(torch.randint(0, 16, (8, 4, 4), generator=g), torch.randint(-7, 8, (8, 8, 3, 3), generator=g))


def _data(path):
    return [l for l in path.read_text().splitlines() if l.strip() and not l.startswith("#")]


def _cmd(*args, cwd=ROOT):
    return subprocess.run([sys.executable, *args], cwd=cwd, capture_output=True, text=True)


# ------------------------------------------------------------------------------------------ reading folders
def test_hand_written_folder_crlf_no_headers_weightk_names(tmp_path):
    t = _layer()
    write_layer(t, tmp_path / "full")
    d = tmp_path / "min"
    d.mkdir()
    (d / "activation_tile0.txt").write_bytes("\r\n".join(_data(tmp_path / "full" / "activation_tile0.txt")).encode())
    for k in range(9):
        (d / f"weight{k}.txt").write_text("\n".join(l + " \t" for l in _data(tmp_path / "full" / f"weight_itile0_otile0_kij{k}.txt")))
    (d / "out.txt").write_bytes("\r\n".join(_data(tmp_path / "full" / "out.txt")).encode() + b"\r\n")
    v = read_folder(d)
    assert np.array_equal(v.a_tiles, t.a_tiles) and np.array_equal(v.w_tiles, t.w_tiles)
    assert v.psum is None and v.out_raw is None and np.array_equal(v.out[0], np.maximum(t.out_tile(0), 0))
    assert v.naming == NAMING_000 and v.provided() == {"psum": False, "sum": False, "relu": True}
    rep = check_vectors(v)
    assert rep.not_provided == ["psum", "sum"] and rep.compared == {"relu": 128} and not rep.problems
    (d / "weight3.txt").rename(d / "weight03.txt")      # misnamed: named beside what is missing (a probe)
    with pytest.raises(FormatError, match=r"weight3.txt missing \(the folder has weight03.txt, not a name it reads\)"):
        read_folder(d)


def test_notebook_001_output_names(tmp_path):
    t = _layer()
    write_layer(t, tmp_path)
    (tmp_path / "out.txt").rename(tmp_path / "out_relu.txt")
    (tmp_path / "out_raw.txt").rename(tmp_path / "out.txt")
    for k in range(9):   # notebook 001's one-tile weight names
        (tmp_path / f"weight_itile0_otile0_kij{k}.txt").rename(tmp_path / f"weight_kij{k}.txt")
    shutil.rmtree(tmp_path / "viz")      # notebook 001 writes none (twins under the old names would be errors)
    v = read_folder(tmp_path)
    assert v.naming == NAMING_001
    assert np.array_equal(v.out_raw[0], t.out_tile(0)) and np.array_equal(v.out[0], np.maximum(t.out_tile(0), 0))
    assert not check_vectors(v).problems


def test_bom_and_non_utf8_are_named_with_file_and_line(tmp_path):
    write_layer(_layer(), tmp_path)
    p = tmp_path / "weight_itile0_otile0_kij2.txt"
    p.write_bytes(b"\xef\xbb\xbf" + p.read_bytes())
    with pytest.raises(FormatError, match=r"weight_itile0_otile0_kij2.txt:1: starts with a UTF-8 byte-order mark"):
        read_folder(tmp_path)
    write_layer(_layer(), tmp_path)
    p = tmp_path / "out.txt"
    lines = p.read_bytes().split(b"\n")
    lines[5] = lines[5][:3] + b"\xe9" + lines[5][4:]
    p.write_bytes(b"\n".join(lines))
    with pytest.raises(FormatError, match=r"out.txt:6: byte 0xe9 at column 4 is not UTF-8"):
        read_folder(tmp_path)


@pytest.mark.parametrize("case,msg", [
    ("no_outputs", "nothing to check against"),
    ("psum_missing", "psum files incomplete: psum_kij4.txt missing"),
    ("weight_missing", "weight_itile0_otile0_kij7.txt missing"),
    ("no_activations", "no activation file"),
    ("not_square", "is not a square"),
])
def test_folder_errors(tmp_path, case, msg):
    write_layer(_layer(), tmp_path)
    if case == "no_outputs":       # the viz/ twins too: one alone is read in its file's place
        for q in with_viz_twins(tmp_path, "psum_*.txt", "out*.txt"):
            q.unlink()
    elif case == "psum_missing":
        for q in with_viz_twins(tmp_path, "psum_kij4.txt"):
            q.unlink()
    elif case == "weight_missing":
        (tmp_path / "weight_itile0_otile0_kij7.txt").unlink()
    elif case == "no_activations":
        (tmp_path / "activation_tile0.txt").unlink()
    elif case == "not_square":
        p = tmp_path / "activation_tile0.txt"
        p.write_text("".join(p.read_text().splitlines(keepends=True)[:-1]))
    with pytest.raises(FormatError, match=msg):
        read_folder(tmp_path)


# ------------------------------------------------------------------------------------------ export --check
def test_check_is_honest_about_what_it_compared(tmp_path, one_line_error):
    r = _cmd("-m", "golden_py.export", "--checkpoint", CKPT, "--out", str(tmp_path / "g"))
    assert r.returncode == 0, r.stderr
    r = _cmd("-m", "golden_py.export", "--check", str(tmp_path / "g"))
    assert r.returncode == 0 and "psum: 2592 values compared" in r.stdout and "relu: 128 values compared" in r.stdout
    for q in [*(tmp_path / "g").glob("psum_*.txt"), *(tmp_path / "g").glob("out*.txt")]:
        q.unlink()
    # the viz/ twins alone are read in their files' places (and checked): still every number compared
    r = _cmd("-m", "golden_py.export", "--check", str(tmp_path / "g"))
    assert r.returncode == 0 and "psum: 2592 values compared" in r.stdout and "relu: 128 values compared" in r.stdout
    assert "viz/viz_out_raw.txt: read in place of out_raw.txt, which the folder lacks" in r.stdout, r.stdout
    for q in with_viz_twins(tmp_path / "g", "psum_*.txt", "out*.txt"):     # their files are gone already
        q.unlink()
    one_line_error(_cmd("-m", "golden_py.export", "--check", str(tmp_path / "g")), "nothing to check against")
    r = _cmd("-m", "golden_py.export", "--checkpoint", CKPT, "--out", str(tmp_path / "h"))
    for q in with_viz_twins(tmp_path / "h", "psum_kij0.txt"):
        q.unlink()
    one_line_error(_cmd("-m", "golden_py.export", "--check", str(tmp_path / "h")), "psum files incomplete",
                   "psum_kij0.txt")


def test_export_refuses_a_non_empty_folder_and_replaces_it_with_force(tmp_path, one_line_error):
    out = tmp_path / "g"
    assert _cmd("-m", "golden_py.export", "--checkpoint", CKPT, "--out", str(out), "--rows", "4").returncode == 0
    assert (out / "activation_tile1.txt").is_file()
    one_line_error(_cmd("-m", "golden_py.export", "--checkpoint", CKPT, "--out", str(out)), "not empty", "--force")
    (out / "notes.txt").write_text("mine\n")          # a student's own files: --force replaces course files only
    (out / "viz" / "mine.txt").write_text("mine\n")
    before = sorted(p.relative_to(out) for p in out.rglob("*"))
    # an export that fails (a value that does not fit) leaves the folder as it was (it deleted it first)
    one_line_error(_cmd("-m", "golden_py.export", "--checkpoint", CKPT, "--out", str(out), "--force", "--psum-bits",
                        "8"), "does not fit 8-bit")
    assert sorted(p.relative_to(out) for p in out.rglob("*")) == before and not list(tmp_path.glob(".g.export-*"))
    r = _cmd("-m", "golden_py.export", "--checkpoint", CKPT, "--out", str(out), "--force")
    assert r.returncode == 0 and not (out / "activation_tile1.txt").exists()       # no stale tiles left
    assert (out / "notes.txt").is_file() and (out / "viz" / "mine.txt").is_file()
    assert _cmd("-m", "golden_py.export", "--check", str(out)).returncode == 0


@pytest.mark.parametrize("args,needles", [
    (["--layer", "0"], ["--layer 0", "signed"]),
    (["--layer", "28"], ["features[28] is ReLU"]),
    (["--image", "99"], ["image index 99 out of range"]),
    (["--rows", "0"], ["--rows 0"]),
    (["--cols", "-1"], ["--cols -1"]),
])
def test_export_bad_inputs(tmp_path, args, needles, one_line_error):
    one_line_error(_cmd("-m", "golden_py.export", "--checkpoint", CKPT, "--out", str(tmp_path / "g"), *args), *needles)


def test_export_out_is_a_file_or_unwritable(tmp_path, one_line_error):
    f = tmp_path / "file"
    f.write_text("x")
    one_line_error(_cmd("-m", "golden_py.export", "--checkpoint", CKPT, "--out", str(f)), "not a folder")
    ro = tmp_path / "ro"
    ro.mkdir()
    ro.chmod(0o500)
    try:
        r = _cmd("-m", "golden_py.export", "--checkpoint", CKPT, "--out", str(ro / "sub"))
        if r.returncode != 0:    # root ignores permissions; as a user this is the path taken
            one_line_error(r, str(ro / "sub"))
    finally:
        ro.chmod(0o700)


# ------------------------------------------------------------------------------------------ run commands
@pytest.mark.parametrize("args,needles", [
    (["--layer", "0"], ["--layer 0", "signed"]),
    (["--layer", "28"], ["features[28] is ReLU"]),
    (["--layer", "99"], ["features[99] is out of range"]),
    (["--image", "99"], ["image index 99 out of range"]),
    (["--images", "0"], ["--images 0"]),
    (["--rows", "0"], ["--rows 0"]),
    (["--cols", "-1"], ["--cols -1"]),
    (["--sim", "vcs"], ["--sim vcs"]),
    (["--sim", "icarus", "--sim", ""], ["argument --sim: an empty value ''"]),   # not a default in its place
    (["--golden", ""], ["argument --golden: an empty value ''"]),      # a script's unset $DIR: the default ran
    (["--data-dir", ""], ["argument --data-dir: an empty value ''"]),
    (["--checkpoint", "missing.pt"], ["missing.pt: checkpoint not found"]),
    (["--golden", "nowhere"], ["nowhere: not a folder"]),
    (["--data-dir", "nowhere"], ["--data-dir", "no CIFAR-10 batches"]),
    # the image range is checked before the checkpoint is read (torch takes seconds to import)
    (["--image", "99", "--checkpoint", "missing.pt"], ["--image/--images", "image index 99 out of range"]),
])
def test_run_bad_inputs_fail_before_any_build(tmp_path, args, needles, one_line_error):
    r = _cmd("-m", "accel_tb.cli.run", *args, cwd=tmp_path)
    one_line_error(r, *needles)
    assert not (tmp_path / "build").exists()


def test_a_missing_checkpoint_or_a_folder_is_refused_before_torch(tmp_path):
    """golden_py.checkpoint_file judges the path without torch (1.4 s to import): the commands' checkpoint check
    refuses a missing file or a folder at once, with load_model's own words."""
    code = ("import sys; from accel_tb.cli.inputs import InputError, load_checkpoint\n"
            "for p in sys.argv[1:]:\n"
            "    try:\n        load_checkpoint(p)\n    except InputError as e:\n        print(e)\n"
            "print('torch' in sys.modules)")
    r = subprocess.run([sys.executable, "-c", code, str(tmp_path / "x.pt"), str(tmp_path)], capture_output=True,
                       text=True, cwd=ROOT)
    assert r.stdout.splitlines() == [f"--checkpoint {tmp_path / 'x.pt'}: checkpoint not found",
                                     f"--checkpoint {tmp_path}: a folder, not a checkpoint file (.pt)", "False"], r.stderr


def test_run_truncated_checkpoint_and_malformed_folder(tmp_path, one_line_error):
    bad = tmp_path / "trunc.pt"
    bad.write_bytes(Path(CKPT).read_bytes()[:5000])
    one_line_error(_cmd("-m", "accel_tb.cli.run", "--checkpoint", str(bad)), "trunc.pt: not a readable torch checkpoint")
    g = tmp_path / "g"
    assert _cmd("-m", "golden_py.export", "--checkpoint", CKPT, "--out", str(g)).returncode == 0
    p = g / "weight_itile0_otile0_kij3.txt"
    lines = p.read_text().splitlines(keepends=True)
    lines[5] = "0101x010" + lines[5][8:]
    p.write_text("".join(lines))
    one_line_error(_cmd("-m", "accel_tb.cli.run", "--golden", str(g)), "weight_itile0_otile0_kij3.txt:6", "'x'")


@pytest.mark.parametrize("args,needles", [
    (["--images", "0"], ["--images 0"]),
    (["--first-image", "99"], ["image index 99 out of range"]),
    (["--layers", "28"], ["features[28] is ReLU"]),
    (["--layers", "0"], ["--layer 0"]),
    (["--layers", "x"], ["--layers x"]),
    (["--layers", ""], ["argument --layers: an empty value ''"]),       # never the whole network in its place
    (["--layers", "27,29,27"], ["--layers 27,29,27: layer 27 given twice"]),
    (["--rows", "0"], ["--rows 0"]),
    (["--corrupt-layer", "3", "--layers", "27"], ["--corrupt-layer 3"]),
    (["--workers", "0"], ["--workers 0: must be >= 1"]),
    (["--chunk", "-1", "--workers", "2"], ["--chunk -1: must be >= 0"]),
    (["--retries", "-1"], ["--retries -1: must be >= 0"]),
    (["--scheduler", "not-an-address"], ["--scheduler not-an-address: cannot connect"]),
    # flags and folders are checked before the checkpoint is read (torch takes seconds to import)
    (["--workers", "0", "--checkpoint", "nowhere.pt"], ["--workers 0: must be >= 1"]),
    (["--data-dir", "nowhere", "--checkpoint", "nowhere.pt"], ["--data-dir nowhere: no CIFAR-10 batches"]),
    (["--first-image", "-1", "--checkpoint", "nowhere.pt"], ["--first-image -1: must be >= 0"]),
    (["--first-image", "99", "--checkpoint", "nowhere.pt"], ["--first-image/--images", "image index 99 out of range"]),
    (["--sim", "vcs"], ["--sim vcs: supported simulators are verilator and icarus"]),
    (["--sim", ""], ["argument --sim: an empty value ''"]),             # not the default in its place
])
def test_network_bad_inputs(tmp_path, args, needles, one_line_error):
    one_line_error(_cmd("-m", "accel_tb.cli.network", *args, "--report-dir", str(tmp_path / "r"), cwd=tmp_path), *needles)


def test_a_dead_scheduler_is_refused_at_once_before_the_checkpoint(tmp_path, one_line_error):
    """A refused scheduler address fails on the first try (distributed's client would retry it for its whole
    timeout), before the checkpoint is read; a listening one passes the probe; other protocols go to distributed."""
    import socket

    from accel_tb.network.farm import FarmError, probe_scheduler
    with socket.socket() as s:                     # a port that was just free: nothing listens there now
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    one_line_error(_cmd("-m", "accel_tb.cli.network", "--scheduler", f"127.0.0.1:{port}", "--checkpoint", "nowhere.pt",
                        "--report-dir", str(tmp_path / "r"), cwd=tmp_path),
                   f"--scheduler 127.0.0.1:{port}: cannot connect", "ConnectionRefusedError")
    with pytest.raises(FarmError, match="cannot connect"):
        probe_scheduler(f"tcp://127.0.0.1:{port}")
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        s.listen()
        probe_scheduler(f"tcp://127.0.0.1:{s.getsockname()[1]}")
        probe_scheduler(f"127.0.0.1:{s.getsockname()[1]}")
    probe_scheduler(f"tls://127.0.0.1:{port}")    # not probed: distributed reports it


@pytest.mark.parametrize("extra", [[], ["--workers", "2"]])
def test_network_without_the_simulator_says_how_to_get_one(tmp_path, extra):
    """iverilog not on PATH (make setup's Verilator in .tools/ is always found, so Icarus is the one that can be
    missing): one line naming make setup and the other simulator, exit 2 (a build that cannot start), no traceback -- single and sharded."""
    env = {"PATH": str(tmp_path), "ACCEL_BUILD_DIR": str(tmp_path / "build"), "HOME": str(tmp_path)}
    r = subprocess.run([sys.executable, "-m", "accel_tb.cli.network", "--sim", "icarus", "--layers", "27",
                        "--report-dir", str(tmp_path / "r"), *extra], cwd=tmp_path, env=env, capture_output=True, text=True)
    err = [l for l in r.stderr.splitlines() if l.startswith("error:")]
    assert r.returncode == 2 and "Traceback" not in r.stderr, r.stderr[-1500:]
    assert len(err) == 1 and "iverilog not found on PATH: run `make setup`" in err[0] and "SIM=verilator" in err[0], err


@pytest.mark.parametrize("module,args,says", [
    ("golden_py.evaluate", ["--checkpoint", CKPT, "--limit", "-5"], "--limit -5: must be >= 0"),
    ("golden_py.evaluate", ["--checkpoint", "{tmp}/none.pt"], "none.pt: checkpoint not found"),
    ("golden_py.evaluate", ["--checkpoint", "{tmp}"], "a folder, not a checkpoint file"),
    ("golden_py.bench_tiling", ["--repeat", "0"], "--repeat 0: must be >= 1"),
    ("golden_py.bench_tiling", ["--checkpoint", "{tmp}/none.pt"], "none.pt: checkpoint not found"),
    ("golden_py.export", ["--checkpoint", "{tmp}/none.pt", "--out", "{tmp}/g"], "none.pt: checkpoint not found"),
    ("golden_py.export", ["--checkpoint", CKPT, "--out", "{tmp}/g", "--layer", "0"], "--layer 0: features[0]'s input"),
    ("golden_py.export", ["--checkpoint", CKPT, "--out", "{tmp}/g", "--image", "99"], "image index 99 out of range"),
    ("golden_py.export", ["--checkpoint", CKPT, "--out", "{tmp}/g", "--data-dir", "{tmp}/none"], "no CIFAR-10 batches"),
], ids=["evaluate-limit", "evaluate-missing", "evaluate-folder", "bench-repeat", "bench-missing", "export-missing",
        "export-layer0", "export-image", "export-data-dir"])
def test_tools_refuse_bad_options_before_importing_torch(module, args, says, tmp_path):
    """A bad option or checkpoint path is one line, exit 2, without torch imported (1.4 s): the process says
    whether torch was in sys.modules when main() returned."""
    code = (f"import sys; from {module} import main; rc = main({[a.format(tmp=tmp_path) for a in args]!r}); "
            f"print('torch' in sys.modules, rc)")
    r = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True)
    assert r.stdout.split() == ["False", "2"], (r.stdout, r.stderr[-800:])
    assert says in r.stderr and len(r.stderr.strip().splitlines()) == 1, r.stderr


def test_network_names_a_missing_simulator_before_reading_the_checkpoint(tmp_path):
    """No iverilog on PATH: one line naming it, exit 2, before the checkpoint is read (with no outline stored yet,
    reading it imports torch, 1.4 s): the process says whether torch was in sys.modules when main() returned."""
    env = {"PATH": str(tmp_path), "ACCEL_BUILD_DIR": str(tmp_path / "build"), "HOME": str(tmp_path),
           "PYTHONPATH": str(ROOT)}
    argv = ["--sim", "icarus", "--layers", "27", "--checkpoint", CKPT, "--report-dir", str(tmp_path / "r")]
    code = f"import sys; from accel_tb.cli.network import main; rc = main({argv!r}); print('torch' in sys.modules, rc)"
    r = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, env=env, capture_output=True, text=True)
    assert r.stdout.split() == ["False", "2"], (r.stdout, r.stderr[-800:])
    assert [line for line in r.stderr.splitlines() if line.strip()] == [
        line for line in r.stderr.splitlines() if line.startswith("error: iverilog not found on PATH")], r.stderr


def test_pytest_golden_option_is_validated_first(tmp_path):
    r = subprocess.run([sys.executable, "-m", "pytest", "-q", str(ROOT / "tb" / "core"), "--golden",
                        str(tmp_path / "nowhere")], cwd=ROOT, capture_output=True, text=True)
    assert r.returncode == 2 and "nowhere: not a folder" in r.stdout + r.stderr


# ------------------------------------------------------------------------------------------ safe loading
class _Payload:
    def __init__(self, marker):
        self.marker = marker

    def __reduce__(self):
        return (Path.touch, (Path(self.marker),))


def test_crafted_cifar_batch_is_refused_and_runs_nothing(tmp_path, fake_cifar):
    from golden_py.data import DataError, load_split
    d = fake_cifar(tmp_path)
    marker = tmp_path / "pwned"
    with open(d / "test_batch", "wb") as f:
        pickle.dump({b"data": _Payload(str(marker)), b"labels": [0]}, f, protocol=2)
    with pytest.raises(DataError, match=r"test_batch: not a CIFAR-10 python batch .*refused global"):
        load_split(tmp_path, train=False)
    assert not marker.exists()


def test_crafted_training_state_is_refused_and_runs_nothing(tmp_path, fake_cifar):
    from golden_py import train
    fake_cifar(tmp_path / "data")
    out = tmp_path / "run"
    out.mkdir()
    marker = tmp_path / "pwned"
    torch.save({"model": _Payload(str(marker))}, out / "state.pt")
    rc = train.main(["--data-dir", str(tmp_path / "data"), "--out", str(out), "--epochs", "1", "--resume",
                     "--limit-batches", "1", "--batch-size", "4", "--eval-images", "4"])
    assert rc == 2 and not marker.exists()


def test_evaluate_limit_and_nan_checkpoint(tmp_path, fake_cifar, random_model, one_line_error):
    from golden_py.checkpoint import save_inference
    fake_cifar(tmp_path / "data")
    r = _cmd("-m", "golden_py.evaluate", "--checkpoint", CKPT, "--data-dir", str(tmp_path / "data"), "--limit", "-5")
    one_line_error(r, "--limit -5")
    import copy
    m = copy.deepcopy(random_model)
    with torch.no_grad():
        m.features[3].weight[0, 0, 0, 0] = float("nan")
    save_inference(m, tmp_path / "nan.pt", {})
    one_line_error(_cmd("-m", "golden_py.evaluate", "--checkpoint", str(tmp_path / "nan.pt"), "--data-dir",
                        str(tmp_path / "data")), "nan.pt", "features.3.weight", "not finite")


def test_a_quantizer_alpha_not_above_0_is_one_line_before_the_build(tmp_path, one_line_error):
    """A checkpoint whose quantizer scale is 0 or negative (a user's, hand-edited or diverged): accel-run stopped
    inside the simulator with a traceback (integers off the 4-bit grid), after the build (a probe)."""
    for key, value in (("features.27.act_alpha", -1.0), ("features.27.weight_quant.wgt_alpha", 0.0)):
        ck = torch.load(CKPT, weights_only=True)
        ck["state_dict"][key] = torch.tensor(value)
        torch.save(ck, tmp_path / "bad.pt")
        r = _cmd("-m", "accel_tb.cli.run", "--sim", "icarus", "--checkpoint", str(tmp_path / "bad.pt"), cwd=tmp_path)
        one_line_error(r, f"{key} = {value:g}: a quantizer's alpha (its scale) must be above 0")
        assert "Traceback" not in r.stdout + r.stderr and "PASS" not in r.stdout


@pytest.mark.parametrize("mutate,needle", [
    (lambda ck: ck.pop("state_dict"), "no 'arch'/'state_dict'"),
    (lambda ck: ck["arch"].pop("squeeze"), "arch"),
    (lambda ck: ck.update(arch="vgg"), "arch"),
    (lambda ck: ck.update(state_dict=[1, 2]), "state_dict"),
    (lambda ck: ck["state_dict"].update({"features.3.weight": "x"}), "features.3.weight"),
])
def test_malformed_checkpoint_entries(tmp_path, mutate, needle, one_line_error):
    ck = torch.load(CKPT, weights_only=True)
    mutate(ck)
    torch.save(ck, tmp_path / "bad.pt")
    one_line_error(_cmd("-m", "golden_py.evaluate", "--checkpoint", str(tmp_path / "bad.pt"), "--data-dir",
                        str(tmp_path)), "bad.pt", needle)


def test_an_empty_value_is_refused_even_where_the_default_is_empty():
    """The parser refuses an empty value (a script's unset variable), also for an option whose default is ""
    (`mutation --only "$SURVIVORS"` with none would run the whole sample; `test_times --from "$LOG"` a cold suite)."""
    from golden_py.cliargs import ArgumentParser
    ap = ArgumentParser(prog="t")
    ap.add_argument("--only", default="")
    assert ap.parse_args([]).only == ""
    with pytest.raises(SystemExit) as e:
        ap.parse_args(["--only", ""])
    assert e.value.code == 2


def test_byoc_rtl_repeated_adds_to_the_list(tmp_path, one_line_error):
    """--rtl given twice adds to the list (argparse kept the last only: a missing first file went unseen, and
    'rtl/*.v' then 'rtl/core.v' lost every module but core)."""
    rtl = ROOT / "examples" / "skeleton_core" / "rtl"
    one_line_error(_cmd("-m", "accel_tb.cli.byoc", "--config", str(ROOT / "examples" / "skeleton_core" / "skeleton.toml"),
                        "--rtl", str(tmp_path / "missing.v"), "--rtl", f"{rtl}/*.v", "--top", "core"),
                   f"--rtl {tmp_path / 'missing.v'}: no such file")


def test_accel_run_reads_waves_from_the_environment(tmp_path):
    """WAVES=1 in the environment writes the waveform (accel-network and the suite read it; accel-run took it and
    wrote none, a probe); WAVES=yes is one line (it passed)."""
    import os
    env = {**os.environ, "ACCEL_BUILD_DIR": str(tmp_path / "build"), "WAVES": "1"}
    r = subprocess.run([sys.executable, "-m", "accel_tb.cli.run", "--sim", "icarus", "--images", "1"], cwd=ROOT, env=env,
                       capture_output=True, text=True)
    assert r.returncode == 0 and r.stdout.strip().splitlines()[-1].startswith("PASS"), r.stdout[-2000:] + r.stderr
    assert [p for p in (tmp_path / "build").rglob("*.fst") if p.stat().st_size > 1000], "no FST waveform written"
    r = subprocess.run([sys.executable, "-m", "accel_tb.cli.run", "--sim", "icarus"], cwd=ROOT,
                       env={**env, "WAVES": "yes"}, capture_output=True, text=True)
    assert r.returncode == 2 and r.stderr.strip() == "error: WAVES=yes: must be 0 or 1", r.stderr


def test_export_whose_values_do_not_fit_leaves_no_folder(tmp_path, one_line_error):
    """--psum-bits too small for the layer: one line naming the file and value, and no empty --out folder left
    behind (a probe); an existing folder given is kept."""
    out = tmp_path / "pb8"
    one_line_error(_cmd("-m", "golden_py.export", "--checkpoint", CKPT, "--psum-bits", "8", "--out", str(out)),
                   "does not fit 8-bit two's complement")
    assert not out.exists()
    out.mkdir()
    one_line_error(_cmd("-m", "golden_py.export", "--checkpoint", CKPT, "--psum-bits", "8", "--out", str(out)),
                   "does not fit 8-bit two's complement")
    assert out.is_dir()


def test_an_option_of_one_value_given_twice_is_one_line(capsys):
    """golden_py.cliargs.ArgumentParser: argparse kept the last of a repeated option and dropped the first unread
    (`accel-run --golden A --golden B` checked B alone; `export --check A --check B` said B consistent); now one
    line naming both values. A flag given twice and an option that collects values (append) are as before."""
    from golden_py.cliargs import ArgumentParser
    ap = ArgumentParser(prog="cmd")
    ap.add_argument("--golden")
    ap.add_argument("--force", action="store_true")
    ap.add_argument("--rtl", action="append")
    assert vars(ap.parse_args(["--force", "--force", "--rtl", "a", "--rtl", "b", "--golden", "g"])) == {
        "golden": "g", "force": True, "rtl": ["a", "b"]}
    assert ap.parse_args(["--golden", "g"]).golden == "g"      # a second parse of the same parser starts afresh
    for argv in (["--golden", "A", "--golden", "B"], ["--golden=A", "--gold", "B"]):
        with pytest.raises(SystemExit) as e:
            ap.parse_args(argv)
        err = capsys.readouterr().err.strip().splitlines()
        assert e.value.code == 2 and err == ["error: argument --golden: given twice (A, then B): give it once (see "
                                             "cmd --help)"], err


def test_a_run_that_would_compare_nothing_the_core_reports_is_refused():
    """The guard behind every folder run (accel_tb.cli.run._check_checked): a core checked on nothing must not
    pass. Its bad-input row (a folder of kernel position 0's psums on an outputs-only core) is now refused
    earlier, by the folder's reading (nothing would check eight kernel positions' weights): the guard alone here."""
    from accel_tb.cli.inputs import InputError
    from accel_tb.cli.run import _check_checked
    with pytest.raises(InputError, match=r"nothing this core reports can be checked .*the folder gives psum only"):
        _check_checked([], ["psum"], "it reports outputs only")
    _check_checked(["relu"], ["psum", "relu"], "")


def test_a_failing_check_prints_its_findings_without_a_traceback(tmp_path):
    """A FAIL is a finding, said in the summary: cocotb's log of the failed test carries the checker's message
    and no Python traceback (accel_tb.env.checker.CheckFailed; a student read it as a crash, a probe); the
    command's status and last line stay a failed check's."""
    r = _cmd("-m", "accel_tb.cli.run", "--sim", "icarus", "--corrupt", "relu", cwd=tmp_path)
    out = r.stdout + r.stderr
    assert r.returncode == 1 and "FAIL: 0 passed, 1 failed" in out, out[-800:]
    assert "test_layer failed: checker found errors: relu: 16/16 vectors, 128 values compared, 1 mismatches" in out
    assert "Traceback" not in out, out[-3000:]


def test_a_2bit_folder_in_decimal_only_is_refused_saying_why(tmp_path):
    """A 2-bit folder given only as decimal files is read as 4-bit, one channel a row: tiled for twice the rows.
    The refusal on an 8x8 core says why (it blamed the tiling alone: a probe)."""
    from accel_tb.cli.inputs import InputError, check_folder
    src, d = tmp_path / "g", tmp_path / "int"
    assert _cmd("-m", "golden_py.export", "--checkpoint", str(ROOT / "checkpoints" / "vgg16_a2w4.pt"), "--out",
                str(src)).returncode == 0
    d.mkdir()
    for q in (src / "viz").glob("viz_*.txt"):        # the decimal twins alone, under their _int names
        (d / q.name[len("viz_"):].replace(".txt", "_int.txt")).write_text(q.read_text())
    with pytest.raises(InputError, match=r"tiled for a 16x8 array, not 8x8 .*; its activations are in decimal only "
                                         r"\(read as 4-bit, one channel a row\) and all 0..3"):
        check_folder(str(d), 8, 8)
    assert check_folder(str(src), 8, 8).a_bits == 2          # the binary files say 2-bit themselves
