import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch

from golden_py.coursefmt import FormatError, read_folder, write_layer
from golden_py.folder_check import check_vectors
from golden_py.tiling import tile_layer

ROOT = Path(__file__).resolve().parents[1]


def _layer(ic=8, oc=8, side=4, rows=8, cols=8, seed=0):
    g = torch.Generator().manual_seed(seed)
    a = torch.randint(0, 16, (ic, side, side), generator=g)
    w = torch.randint(-7, 8, (oc, ic, 3, 3), generator=g)
    return tile_layer(a, w, rows, cols)


def test_layer27_file_set_and_byte_layout(tmp_path):
    t = _layer()
    write_layer(t, tmp_path)
    names = sorted(p.name for p in tmp_path.glob("*.txt"))
    assert names == sorted(["activation_tile0.txt", "out.txt", "out_raw.txt"]
                           + [f"weight_itile0_otile0_kij{k}.txt" for k in range(9)]
                           + [f"psum_kij{k}.txt" for k in range(9)])
    act = (tmp_path / "activation_tile0.txt").read_text().splitlines()
    assert act[0] == "#time0row7[msb-lsb],time0row6[msb-lst],...,time0row0[msb-lst]#"
    assert act[2] == "#.....#" and len(act) == 3 + 36
    # padded position 7 (row 1, col 1 of the 6x6 grid) holds input pixel (0,0); row 7 comes first, MSB first
    line = act[3 + 7]
    assert line == "".join(format(int(t.a_tiles[0, r, 7]), "04b") for r in range(7, -1, -1))
    w = (tmp_path / "weight_itile0_otile0_kij4.txt").read_text().splitlines()
    assert w[0] == "#col0row7[msb-lsb],col0row6[msb-lst],...,col0row0[msb-lst]#" and len(w) == 3 + 8
    assert w[3 + 2] == "".join(format(int(t.w_tiles[0, 0, 2, r, 4]) & 15, "04b") for r in range(7, -1, -1))
    out = (tmp_path / "out_raw.txt").read_text().splitlines()
    assert out[0] == "#time0co7[msb-lsb],time0co6[msb-lst],...,time0col0[msb-lst]#" and len(out) == 3 + 16
    assert out[3 + 5] == "".join(format(int(t.out[c, 5]) & 0xFFFF, "016b") for c in range(7, -1, -1))
    viz = (tmp_path / "viz" / "viz_out.txt").read_text().splitlines()[3]
    assert viz == "".join(f"{max(0, int(t.out[c, 0])): 6d} " for c in range(7, -1, -1))


@pytest.mark.parametrize("ic,oc,side,rows,cols", [(8, 8, 4, 8, 8), (20, 13, 5, 8, 8), (16, 16, 3, 16, 16)])
def test_round_trip(tmp_path, ic, oc, side, rows, cols):
    t = _layer(ic, oc, side, rows, cols)
    write_layer(t, tmp_path)
    v = read_folder(tmp_path)
    assert (v.rows, v.cols, v.side) == (rows, cols, side)
    assert np.array_equal(v.a_tiles, t.a_tiles) and np.array_equal(v.w_tiles, t.w_tiles)
    assert np.array_equal(v.psum, t.psum)
    assert np.array_equal(v.out_raw, t.out_tiles())
    rep = check_vectors(v)
    values = t.a_tiles.size + t.w_tiles.size + t.psum.size + 2 * t.n_oc * cols * side * side
    assert rep.problems == [] and rep.compared == {"psum": t.psum.size, "sum": t.n_oc * cols * side * side,
                                                   "relu": t.n_oc * cols * side * side, "twin files": values}
    assert v.ignored == []                     # viz/ holds the decimal twin of every file, each checked


def test_corrupted_expectation_is_detected(tmp_path):
    """Negative test: one flipped bit in out.txt or in a psum file must be reported with its location."""
    write_layer(_layer(), tmp_path)
    p = tmp_path / "out.txt"
    lines = p.read_text().splitlines(keepends=True)
    s = lines[3 + 2]
    lines[3 + 2] = s[:-2] + ("1" if s[-2] == "0" else "0") + "\n"   # col0 LSB of output nij 2
    p.write_text("".join(lines))
    problems = check_vectors(read_folder(tmp_path)).problems      # and its viz/ twin no longer agrees
    assert len(problems) == 2 and problems[0].startswith(f"{tmp_path / 'out.txt'}:6 (col 0): file has")
    assert problems[1].startswith(f"{tmp_path / 'viz' / 'viz_out.txt'}:6 (field 0): file has")

    q = tmp_path / "psum_kij3.txt"
    lines = q.read_text().splitlines(keepends=True)
    lines[3 + 10] = ("1" if lines[3 + 10][0] == "0" else "0") + lines[3 + 10][1:]  # col7 MSB of nij 10
    q.write_text("".join(lines))
    problems = check_vectors(read_folder(tmp_path)).problems
    assert any(pr.startswith(f"{tmp_path / 'psum_kij3.txt'}:14 (col 7)") for pr in problems)


def test_malformed_line_names_file_and_line(tmp_path):
    write_layer(_layer(), tmp_path)
    p = tmp_path / "weight_itile0_otile0_kij5.txt"
    lines = p.read_text().splitlines(keepends=True)
    lines[6] = lines[6][:5] + "2" + lines[6][6:]
    p.write_text("".join(lines))
    with pytest.raises(FormatError, match=r"weight_itile0_otile0_kij5.txt:7: expected only 0/1"):
        read_folder(tmp_path)
    write_layer(_layer(), tmp_path)
    p = tmp_path / "activation_tile0.txt"
    lines = p.read_text().splitlines(keepends=True)
    lines[10] = lines[10][4:]
    p.write_text("".join(lines))
    with pytest.raises(FormatError, match=r"activation_tile0.txt:11: 28 bits where earlier lines have 32"):
        read_folder(tmp_path)
    # outputs written with fields wider than 64 bits (8 fields of 80 bits a line): one line naming file and line
    # where a value does not fit a 64-bit integer, not an overflow from numpy
    write_layer(_layer(), tmp_path)
    p = tmp_path / "out_raw.txt"
    lines = p.read_text().splitlines(keepends=True)
    lines[4] = ("0" + "1" * 79) * 8 + "\n"
    p.write_text("".join(lines[:3] + [("0" * 80) * 8 + "\n"] + lines[4:5] + [("0" * 80) * 8 + "\n"] * 14))
    with pytest.raises(FormatError, match=r"out_raw.txt:5: a 80-bit field holds a value beyond 64-bit integers"):
        read_folder(tmp_path)


def _fresh(folder: Path, **layer) -> Path:
    import shutil
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    write_layer(_layer(**layer), folder)
    return folder


def test_names_the_reading_would_pass_over_are_errors(tmp_path):
    """A course file under a near-miss name (capitals, .TXT), one that is a folder or a broken link, and a file
    of a course name the reading does not use (a second naming style, an output tile or kernel position beyond
    the others) were 'not read' and the kind derived or not provided: a student's misnamed out.txt passed
    unchecked. Each is now an error naming the file; a stray file of another name is still only 'not read'."""
    d = tmp_path / "f"
    cases = [
        (lambda: (d / "out.txt").rename(d / "OUT.txt"), r"OUT.txt: the course names this file out.txt"),
        (lambda: (d / "out.txt").rename(d / "out.TXT"), r"out.TXT: the course names this file out.txt"),
        (lambda: (d / "viz" / "viz_out.txt").rename(d / "viz" / "Viz_out.txt"),
         r"Viz_out.txt: the course names this file viz/viz_out.txt"),
        (lambda: ((d / "out.txt").unlink(), (d / "out.txt").mkdir()), r"out.txt: a folder, where the course"),
        (lambda: ((d / "psum_kij4.txt").unlink(), (d / "psum_kij4.txt").symlink_to(d / "gone")),
         r"psum_kij4.txt: a broken link"),
        (lambda: (d / "psum_kij9.txt").write_text((d / "psum_kij0.txt").read_text()),
         r"psum_kij9.txt: named as a course file, but not part of this folder's reading"),
        (lambda: (d / "weight4.txt").write_text((d / "weight_itile0_otile0_kij4.txt").read_text()),
         r"weight4.txt: named as a course file"),
        (lambda: (d / "out_otile1.txt").write_text((d / "out.txt").read_text()), r"out_otile1.txt: named as"),
        (lambda: (d / "activation.txt").write_text((d / "activation_tile0.txt").read_text()),
         r"activation.txt: named as"),
        (lambda: (d / "weight_itile0_otile0_kij9.txt").write_text((d / "weight_itile0_otile0_kij0.txt").read_text()),
         r"weight_itile0_otile0_kij9.txt does not belong .* \(a kernel position beyond 8\)"),
        # a team's own name for the outputs (Yasmiiiine/ece284-project-TJ writes output.txt): it was 'not read' and
        # the outputs after ReLU were derived from out_raw.txt
        (lambda: (d / "out.txt").rename(d / "output.txt"), r"output.txt: rows of numbers named like an output file"),
        (lambda: (d / "Output.TXT").write_text((d / "viz" / "viz_out.txt").read_text()),
         r"Output.TXT: rows of numbers named like an output file"),
        # behind a byte-order mark: an editor's UTF-8 one, PowerShell's UTF-16 (`>` writes it)
        (lambda: (d / "output.txt").write_bytes(b"\xef\xbb\xbf" + (d / "out.txt").read_bytes()), r"output.txt: rows of"),
        (lambda: (d / "output.txt").write_bytes((d / "out.txt").read_text().encode("utf-16")), r"output.txt: rows of"),
        # a second download ('out (1).txt'), a Finder copy, a kept old version of any course file, a viz/ one: each
        # was only 'not read', holding values no check saw (out (1).txt in out.txt's place: the outputs derived)
        (lambda: (d / "out.txt").rename(d / "out (1).txt"), r"out \(1\).txt: rows of numbers named like an output"),
        (lambda: (d / "out copy.txt").write_text((d / "out.txt").read_text()), r"out copy.txt: rows of numbers"),
        (lambda: (d / "psum_kij4_old.txt").write_text((d / "psum_kij4.txt").read_text()),
         r"psum_kij4_old.txt: rows of numbers named like a psum file"),
        (lambda: (d / "weight_itile0_otile0_kij4_v2.txt").write_text((d / "weight_itile0_otile0_kij4.txt").read_text()),
         r"weight_itile0_otile0_kij4_v2.txt: rows of numbers named like a weight file"),
        (lambda: (d / "activation_tile0 (1).txt").write_text((d / "activation_tile0.txt").read_text()),
         r"activation_tile0 \(1\).txt: rows of numbers named like an activation file"),
        (lambda: (d / "viz" / "viz_out2.txt").write_text((d / "viz" / "viz_out.txt").read_text()),
         r"viz_out2.txt: rows of numbers named like an output file"),
        # course files one folder down were never read nor named
        (lambda: ((d / "psums").mkdir(), (d / "psum_kij4.txt").rename(d / "psums" / "psum_kij4.txt")),
         r"psums/psum_kij4.txt: a course file in a folder below f/, which is never read"),
        (lambda: ((d / "viz" / "old").mkdir(), (d / "viz" / "old" / "viz_out.txt").write_text("1\n")),
         r"viz/old/viz_out.txt: a course file in a folder below"),
    ]
    for damage, says in cases:
        _fresh(d)
        damage()
        with pytest.raises(FormatError, match=says):
            read_folder(d)
    _fresh(d)
    (d / "notes.txt").write_text("my notes\n")
    (d / "Results.TXT").write_text("x\n")
    (d / "output_log.txt").write_text("run 1: ok\n")       # words: a log, not rows of numbers
    (d / "old").mkdir()
    (d / "old" / "readme.txt").write_text("x\n")
    (d / "viz_out.txt").write_text((d / "viz" / "viz_out.txt").read_text())     # a viz/ twin downloaded flat
    (d / ".ipynb_checkpoints").mkdir()                                            # Jupyter's copies: a tool's
    (d / ".ipynb_checkpoints" / "out-checkpoint.txt").write_text((d / "out.txt").read_text())
    assert read_folder(d).ignored == ["notes.txt", "old/readme.txt", "output_log.txt", "viz_out.txt"]
    # two tiles: a third output tile's file is no longer 'not read'
    _fresh(d, oc=16)
    (d / "out_otile2.txt").write_text((d / "out_otile1.txt").read_text())
    with pytest.raises(FormatError, match=r"out_otile2.txt: named as a course file"):
        read_folder(d)
    # two tiles whose one output file is named as for one tile: 'nothing to check' says which file is there
    _fresh(d, oc=16)
    import shutil
    shutil.rmtree(d / "viz")
    for q in [*d.glob("out_*"), *d.glob("psum_*")]:
        q.unlink()
    (d / "out.txt").write_text("x\n")
    with pytest.raises(FormatError, match=r"nothing to check against: .* for 1 activation tile\(s\) x 2 output "
                                          r"tile\(s\) \(out.txt here: named for one tile"):
        read_folder(d)


def test_value_that_does_not_fit_is_an_error(tmp_path):
    t = _layer(ic=64, oc=8, side=3)
    with pytest.raises(ValueError, match=r"out_raw_otile0.txt: value .* does not fit 8-bit"):
        write_layer(t, tmp_path, psum_bits=8, psums=False)


def _run(*args):
    return subprocess.run([sys.executable, "-m", "golden_py.export", *args], cwd=ROOT,
                          capture_output=True, text=True)


def test_export_cli_and_check(tmp_path, random_ckpt):
    r = _run("--checkpoint", str(random_ckpt), "--layer", "27", "--image", "3", "--out", str(tmp_path / "g"))
    assert r.returncode == 0, r.stderr
    assert "8->8 on 4x4" in r.stdout
    r = _run("--check", str(tmp_path / "g"))
    assert r.returncode == 0 and "consistent" in r.stdout, r.stdout
    p = tmp_path / "g" / "out_raw.txt"
    lines = p.read_text().splitlines(keepends=True)
    lines[4] = lines[4][:-2] + ("1" if lines[4][-2] == "0" else "0") + "\n"
    p.write_text("".join(lines))
    r = _run("--check", str(tmp_path / "g"))
    assert r.returncode == 1 and f"MISMATCH {tmp_path / 'g' / 'out_raw.txt'}:5 (col 0)" in r.stdout


def test_export_cli_bad_inputs(tmp_path, random_ckpt):
    r = _run("--checkpoint", str(tmp_path / "missing.pt"), "--out", str(tmp_path / "g"))
    assert r.returncode == 2 and "missing.pt: checkpoint not found" in r.stderr
    r = _run("--checkpoint", str(random_ckpt), "--layer", "28", "--out", str(tmp_path / "g"))
    assert r.returncode == 2 and "features[28] is ReLU, not a QuantConv2d" in r.stderr
    r = _run("--checkpoint", str(random_ckpt), "--image", "99", "--out", str(tmp_path / "g"))
    assert r.returncode == 2 and "image index 99 out of range" in r.stderr
    r = _run("--checkpoint", str(random_ckpt), "--data-dir", str(tmp_path), "--out", str(tmp_path / "g"))
    assert r.returncode == 2 and "no CIFAR-10 batches found" in r.stderr
    r = _run("--check", str(tmp_path / "nothing"))
    assert r.returncode == 2 and "not a folder" in r.stderr


def test_a_replay_and_a_random_layer_import_no_torch(tmp_path):
    """What a replay does before its core runs (read the folder, check it against itself, make its job, the
    checker's expectations) and a random layer's job are numpy only: torch costs about 1.4 s a process, and a
    replay's simulator, `golden_py.export --check` and a random-layer simulation never need it."""
    write_layer(_layer(ic=12, oc=10), tmp_path)
    code = ("import random, sys; from golden_py.coursefmt import read_folder; "
            "from golden_py.folder_check import check_vectors; from accel_tb.adapter import Geometry; "
            "from accel_tb.env.checker import LayerChecker, job_from_folder; "
            "from accel_tb.env.environment import random_job; "
            f"v = read_folder({str(tmp_path)!r}); rep = check_vectors(v); job = job_from_folder(v); "
            "LayerChecker(job, log=lambda m: None); "
            "g = Geometry(rows=8, cols=8, psum_bits=16, multi_tile=True, psum_monitor=True); "
            "r = random_job(random.Random(3), g); "
            "print(rep.total > 0 and not rep.problems, type(r.expected['psum']).__name__, 'torch' in sys.modules)")
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT,
                       env={"PATH": "/usr/bin:/bin", "PYTHONPATH": str(ROOT)})
    assert r.returncode == 0, r.stderr
    assert r.stdout.split() == ["True", "ndarray", "False"]


def test_a_weight_file_of_another_layout_is_the_one_named(tmp_path):
    """A line too many in the first weight file blamed the second ('kij1.txt: 8 lines ... expected 9 as in
    kij0.txt'); the layout most weight files share decides which one is wrong."""
    d = _fresh(tmp_path / "f")
    p = d / "weight_itile0_otile0_kij0.txt"
    p.write_text(p.read_text() + "0" * 32 + "\n")
    with pytest.raises(FormatError, match=r"weight_itile0_otile0_kij0.txt: 9 lines of 8 weights, expected 8 lines "
                                          r"\(columns\) of 8 as in weight_itile0_otile0_kij1.txt"):
        read_folder(d)
