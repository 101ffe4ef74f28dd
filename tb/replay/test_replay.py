"""Replay of course-format folders through the core, as users bring them: the minimal hand-written folder
(no headers, CRLF, weight{k}.txt, out.txt only), both notebooks' output naming, exports without psums or
out_raw, and folders that are wrong where the core streams and where it never streams.
"""
from __future__ import annotations

import json
import shutil
import subprocess
import sys

import pytest

from accel_host.config import CoreConfig
from accel_tb.design.core_ports import own_core_run
from accel_tb.design.runner import ROOT, run

CHECKPOINT = str(ROOT / "checkpoints" / "vgg16_a4w4.pt")


def export(folder, *extra, image=1):
    from golden_py import export as ex
    assert ex.main(["--checkpoint", CHECKPOINT, "--layer", "27", "--image", str(image), "--out", str(folder),
                    *extra]) == 0
    return folder


def replay(sim, folder, tmp_path, expect_fail=False):
    report = tmp_path / f"report-{folder.name}.json"
    result = run(**own_core_run(),
                 parameters=CoreConfig().parameters(), sim=sim, testcase="test_layer",
                 config={"adapter": "accel", "golden": str(folder), "report": str(report)}, expect_fail=expect_fail)
    return result, json.loads(report.read_text())


def data_lines(path):
    return [l for l in path.read_text().splitlines() if l.strip() and not l.startswith("#")]


def minimal_course_folder(src, dst):
    """What course teams commit: activation + 9 weights + out.txt, no headers, CRLF line ends."""
    dst.mkdir()
    (dst / "activation_tile0.txt").write_bytes("".join(l + "\r\n" for l in data_lines(src / "activation_tile0.txt")).encode())
    for k in range(9):
        lines = data_lines(src / f"weight_itile0_otile0_kij{k}.txt")
        (dst / f"weight{k}.txt").write_bytes("".join(l + "  \r\n" for l in lines).encode())   # trailing blanks too
    (dst / "out.txt").write_bytes("".join(l + "\r\n" for l in data_lines(src / "out.txt")).encode())
    return dst


def flip_bit(path, data_index, col, bits=16, cols=8):
    """Flip the LSB of column `col` on the data line `data_index` (0-based, headers skipped); returns the
    file line number."""
    raw = path.read_bytes().decode().splitlines(keepends=True)
    idx = [i for i, l in enumerate(raw) if l.strip() and not l.startswith("#")][data_index]
    line = raw[idx]
    body = line.rstrip("\r\n ")
    pos = (cols - 1 - col) * bits + bits - 1
    body = body[:pos] + ("1" if body[pos] == "0" else "0") + body[pos + 1:]
    raw[idx] = body + line[len(line.rstrip("\r\n ")):]
    path.write_bytes("".join(raw).encode())
    return idx + 1


def test_minimal_course_folder_passes(sim, tmp_path):
    """The hand-written folder of docs/replay.md (layer 27, image 0): its summary lines are the page's, word for
    word."""
    folder = minimal_course_folder(export(tmp_path / "full", image=0), tmp_path / "min")
    result, rep = replay(sim, folder, tmp_path)
    page = (ROOT / "docs" / "replay.md").read_text()
    block = page[page.index("A hand-written folder with an activation file"):]
    block = block[block.index("```\n") + 4:block.index("\n```", block.index("```\n") + 4)].splitlines()
    assert block and all(line in rep["summary"] for line in block), (block, rep["summary"])
    assert rep["not_provided"] == ["psum", "sum"]
    assert "psum: not provided" in rep["summary"] and "sum: not provided" in rep["summary"]
    assert rep["relu"]["compared"] == 128 and rep["relu"]["mismatches"] == 0


def test_minimal_course_folder_with_a_wrong_output_fails(sim, tmp_path):
    folder = minimal_course_folder(export(tmp_path / "full"), tmp_path / "min")
    flip_bit(folder / "out.txt", 6, col=0)
    result, rep = replay(sim, folder, tmp_path, expect_fail=True)
    assert result["failed"] == 1 and rep["relu"]["mismatches"] == 1
    assert "output nij=6 (y=1, x=2)" in rep["relu"]["reports"][0] and "col=0" in rep["relu"]["reports"][0]


def test_psum_wrong_where_the_core_never_streams_fails_with_file_and_line(sim, tmp_path):
    folder = export(tmp_path / "full")
    # padded position 4 (row 0, col 4) is never streamed at kij 0: only the folder's own numbers can judge it
    lineno = flip_bit(folder / "psum_kij0.txt", 4, col=3)
    result, rep = replay(sim, folder, tmp_path, expect_fail=True)
    assert result["failed"] == 1
    # the psum file and its viz/ decimal twin (which still holds the exported value) disagree: 2 differences
    assert rep["psum"]["mismatches"] == 0 and rep["folder_consistency"]["mismatches"] == 2
    assert rep["folder_consistency"]["reports"][0].startswith(f"{folder / 'psum_kij0.txt'}:{lineno} (col 3)")


def test_psum_wrong_where_the_core_streams_fails(sim, tmp_path):
    folder = export(tmp_path / "full")
    flip_bit(folder / "psum_kij4.txt", 7, col=5)      # padded position 7 = output (0, 0) at kij 4
    result, rep = replay(sim, folder, tmp_path, expect_fail=True)
    assert rep["psum"]["mismatches"] == 1 and "kij=4 nij=7" in rep["psum"]["reports"][0]
    assert "psum_kij4.txt" in rep["psum"]["reports"][0]


@pytest.mark.parametrize("variant", ["no_psums", "no_out_raw", "notebook_001_names"])
def test_export_variants_pass(variant, sim, tmp_path):
    folder = export(tmp_path / "g", *(["--no-psums"] if variant == "no_psums" else []))
    if variant == "no_out_raw":       # and its viz/ twin, which would be read in its place
        (folder / "out_raw.txt").unlink()
        (folder / "viz" / "viz_out_raw.txt").unlink()
    if variant == "notebook_001_names":      # out.txt = before ReLU, out_relu.txt = after ReLU
        shutil.move(folder / "out.txt", folder / "out_relu.txt")
        shutil.move(folder / "out_raw.txt", folder / "out.txt")
    result, rep = replay(sim, folder, tmp_path)
    assert rep["relu"]["compared"] == 128 and rep["relu"]["mismatches"] == 0
    # no out_raw.txt: the sums are the complete psum set's own, and the core's sums are compared with them (they
    # went unchecked before, though the page said so)
    expect_missing = {"no_psums": ["psum"], "no_out_raw": [], "notebook_001_names": []}[variant]
    expect_derived = {"sum": "the psum files summed over kernel positions and input tiles (the folder has no sums "
                             "file)"} if variant == "no_out_raw" else {}
    assert rep["not_provided"] == expect_missing and rep["derived"] == expect_derived
    assert rep["sum"]["compared"] == 128 and rep["sum"]["mismatches"] == 0
    naming = [l for l in rep["summary"] if l.startswith("reading:")][0]
    assert ("notebook 001" in naming) == (variant == "notebook_001_names")


def test_replay_command_line(tmp_path):
    """`accel-replay DIR` (what `make GOLDEN=DIR` runs) prints the summary and PASS; exit 0."""
    folder = minimal_course_folder(export(tmp_path / "full"), tmp_path / "min")
    r = subprocess.run([sys.executable, "-m", "accel_tb.cli.run", "--golden", str(folder), "--sim", "icarus"],
                       capture_output=True, text=True, cwd=tmp_path)
    assert r.returncode == 0, r.stdout[-2000:] + r.stderr[-2000:]
    tail = r.stdout.strip().splitlines()
    assert tail[-1].startswith("PASS") and "psum: not provided" in tail and "sum: not provided" in tail


def test_2bit_folder_replays_and_a_wrong_bit_fails(sim, tmp_path):
    """A 2-bit-mode folder (16 channels of 2 bits per activation line, 16 weights per weight line) from the
    2a4w checkpoint replays clean; one flipped output bit fails, located."""
    from golden_py import export as ex
    folder = tmp_path / "g2"
    assert ex.main(["--checkpoint", str(ROOT / "checkpoints" / "vgg16_a2w4.pt"), "--layer", "27", "--image", "2",
                    "--out", str(folder)]) == 0
    assert len(data_lines(folder / "weight_itile0_otile0_kij0.txt")[0]) == 16 * 4
    result, rep = replay(sim, folder, tmp_path)
    assert rep["what"].endswith("(2-bit activations)") and rep["psum"]["compared"] == 2 * 9 * 16 * 8
    assert rep["relu"]["compared"] == 2 * 16 * 8 and rep["folder_consistency"]["mismatches"] == 0
    flip_bit(folder / "out_otile1.txt", 3, col=2)
    result, rep = replay(sim, folder, tmp_path, expect_fail=True)
    assert rep["relu"]["mismatches"] == 1 and "oc tile 1" in rep["relu"]["reports"][0]


# ------------------------------------------------------------------ folders as each seed notebook writes them
def notebook_folder(notebook, folder, seed=3, **options):
    import torch

    from golden_py.notebook_folders import write_notebook_folder
    from golden_py.tiling import tile_layer
    g = torch.Generator().manual_seed(seed)
    t = tile_layer(torch.randint(0, 16, (8, 4, 4), generator=g), torch.randint(-8, 8, (8, 8, 3, 3), generator=g))
    return write_notebook_folder(notebook, t, folder, **options)


def test_notebook_001_folder_without_out_relu_passes(sim, tmp_path):
    """Its out.txt holds the raw sums: compared with the core's sum port, and the outputs after ReLU with
    max(0, sum) -- formerly a false FAIL ('expected -22 got 0' under the ReLU label)."""
    folder = notebook_folder("001", tmp_path / "nb", relu_file=False, twins=False)
    result, rep = replay(sim, folder, tmp_path)
    assert rep["sum"]["compared"] == 128 and rep["relu"]["compared"] == 128 and rep["psum"]["compared"] == 9 * 16 * 8
    reading = [l for l in rep["summary"] if l.startswith("reading:")][0]
    assert "out.txt alone: read as the sums before ReLU" in reading and "max(0, sum)" in reading
    # the outputs after ReLU are compared, but against sums the folder gives, not a file of their own: said
    assert rep["derived"] == {"relu": "max(0, sum) of the sums (the folder has no after-ReLU file)"}
    assert "relu: expected values derived: max(0, sum) of the sums (the folder has no after-ReLU file)" in rep["summary"]


def test_notebook_001_folder_with_twins_passes_and_a_wrong_twin_fails(sim, tmp_path):
    folder = notebook_folder("001", tmp_path / "nb")
    result, rep = replay(sim, folder, tmp_path)
    assert rep["folder_consistency"]["by_kind"]["twin files"] == 36 * 8 + 9 * 64 + 9 * 36 * 8 + 16 * 8
    assert not [l for l in rep["summary"] if "not read" in l]
    p = folder / "out_int_relu.txt"
    lines = p.read_text().splitlines(keepends=True)
    lines[3] = "9999, " + lines[3].split(",", 1)[1]
    p.write_text("".join(lines))
    result, rep = replay(sim, folder, tmp_path, expect_fail=True)
    assert result["failed"] == 1 and rep["folder_consistency"]["reports"][0].startswith(f"{p}:4 (field 7): file has 9999")


def test_notebook_003_folder_passes_and_a_wrong_tap_psum_fails(sim, tmp_path):
    folder = notebook_folder("003", tmp_path / "nb")
    result, rep = replay(sim, folder, tmp_path)
    assert rep["psum"]["compared"] == 9 * 16 * 8 and rep["sum"]["compared"] == 128 and rep["relu"]["compared"] == 128
    reading = [l for l in rep["summary"] if l.startswith("reading:")][0]
    assert "notebook 003 naming" in reading and "unpadded 4x4 input" in reading
    lines = (folder / "psum_7.txt").read_text().splitlines(keepends=True)
    lines[9] = ("1" if lines[9][0] == "0" else "0") + lines[9][1:]       # output position 9, column 7's MSB
    (folder / "psum_7.txt").write_text("".join(lines))
    result, rep = replay(sim, folder, tmp_path, expect_fail=True)
    assert rep["psum"]["mismatches"] == 1 and "kij=7" in rep["psum"]["reports"][0]
    assert f"[{folder / 'psum_7.txt'}:10]" in rep["psum"]["reports"][0]


def test_byoc_golden_checks_what_the_core_does_not_report(sim, tmp_path):
    """accel-byoc --golden on a core that reports outputs only: every psum and sum of the folder is checked
    against its own activation x weight files (formerly 'provided but not checked': a false PASS)."""
    folder = export(tmp_path / "g")
    report = tmp_path / "byoc.json"
    ex = ROOT / "examples" / "skeleton_core"
    cfg = {"adapter": str(ex / "adapter.py"), "golden": str(folder), "report": str(report)}
    run(toplevel="core", sources=sorted((ex / "rtl").glob("*.v")), test_module="accel_tb.cocotb_tests.layer_tests", sim=sim,
        testcase="test_layer", config=cfg, includes=[])
    rep = json.loads(report.read_text())
    by_kind = rep["folder_consistency"]["by_kind"]
    assert by_kind["sum"] == 128 and by_kind["psum"] == 2592 and rep["relu"]["compared"] == 128
    # viz/ twins: activations 36 x 8, weights 9 x 8 x 8, psums 9 x 36 x 8, out_raw and out 16 x 8 each
    assert by_kind["twin files"] == 36 * 8 + 9 * 64 + 9 * 36 * 8 + 2 * 128
    assert any(l.startswith("psum: not reported by the core (SkeletonCore reports outputs only); 2592 values checked")
               for l in rep["summary"])
    lineno = flip_bit(folder / "psum_kij4.txt", 7, col=5)       # a streamed position on this project's core
    result = run(toplevel="core", sources=sorted((ex / "rtl").glob("*.v")), test_module="accel_tb.cocotb_tests.layer_tests",
                 sim=sim, testcase="test_layer", config=cfg, includes=[], expect_fail=True)
    rep = json.loads(report.read_text())
    assert result["failed"] == 1 and rep["folder_consistency"]["reports"][0].startswith(
        f"{folder / 'psum_kij4.txt'}:{lineno} (col 5)")


def test_a_wrong_sum_is_located_in_the_sums_file(sim, tmp_path):
    """A sum mismatch names the file that gives the sums (notebook 001: out.txt), not the after-ReLU one."""
    folder = notebook_folder("001", tmp_path / "nb", twins=False)
    lineno = flip_bit(folder / "out.txt", 4, col=5)
    result, rep = replay(sim, folder, tmp_path, expect_fail=True)
    assert rep["sum"]["mismatches"] == 1 and f"[{folder / 'out.txt'}:{lineno}] col=5" in rep["sum"]["reports"][0]


def test_pytest_golden_runs_a_folder_at_its_own_array_size(tmp_path):
    """`pytest tb --golden DIR` builds the core the folder is tiled for, as accel-replay does (a 4x4 export)."""
    folder = export(tmp_path / "g44", "--rows", "4", "--cols", "4")
    r = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider",
                        str(ROOT / "tb" / "core" / "test_core.py"), "-k", "replay_user", "--golden", str(folder),
                        "--sim", "icarus"], capture_output=True, text=True, cwd=tmp_path)
    assert r.returncode == 0 and "1 passed" in r.stdout, r.stdout[-3000:]
    assert "psum: 576/576 vectors" in r.stdout and "reading: notebook 000 naming" in r.stdout   # 2 x 2 tiles x 9 x 16
