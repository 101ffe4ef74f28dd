"""Course folders as each seed notebook writes them (golden_py.notebook_folders), read by the one reader
every command uses: what is read, what the reading decided and said, and that a wrong number anywhere is
found by the folder's own consistency check (the check every replay path runs on what the core does not
report)."""
from __future__ import annotations

import shutil

import numpy as np
import pytest
import torch

from golden_py.coursefmt import NAMING_001, NAMING_003, FormatError, read_folder
from golden_py.folder_check import check_vectors
from golden_py.notebook_folders import write_notebook_folder
from golden_py.tiling import tile_layer


def _layer(seed=0):
    g = torch.Generator().manual_seed(seed)
    return tile_layer(torch.randint(0, 16, (8, 4, 4), generator=g), torch.randint(-8, 8, (8, 8, 3, 3), generator=g))


def _flip_field(path, data_index, field, bits=16, fields=8, sep=""):
    """Flip the LSB of field `field` (0 = last on the line) of data line `data_index`; returns the line number."""
    lines = path.read_text().splitlines(keepends=True)
    idx = [i for i, l in enumerate(lines) if l.strip() and not l.startswith("#")][data_index]
    body = "".join(lines[idx].split())
    pos = (fields - 1 - field) * bits + bits - 1
    body = body[:pos] + ("1" if body[pos] == "0" else "0") + body[pos + 1:]
    lines[idx] = body + "\n"
    path.write_text("".join(lines))
    return idx + 1


def test_notebook_001_folder_with_its_decimal_twins(tmp_path):
    t = _layer()
    d = write_notebook_folder("001", t, tmp_path / "nb")
    v = read_folder(d)
    assert v.naming == NAMING_001 and v.ignored == []          # every file read, the *_int.txt twins too
    assert np.array_equal(v.a_tiles, t.a_tiles) and np.array_equal(v.w_tiles, t.w_tiles) and np.array_equal(v.psum, t.psum)
    assert np.array_equal(v.out_raw[0], t.out_tile(0)) and np.array_equal(v.out[0], np.maximum(t.out_tile(0), 0))
    rep = check_vectors(v)
    assert not rep.problems and rep.compared["twin files"] == 36 * 8 + 9 * 8 * 8 + 9 * 36 * 8 + 16 * 8
    # a decimal twin that disagrees with its binary file is located
    p = d / "psum_kij2_int.txt"
    lines = p.read_text().splitlines(keepends=True)
    lines[3 + 5] = "999," + lines[3 + 5].split(",", 1)[1]      # the first value on the line: column 7
    p.write_text("".join(lines))
    problems = check_vectors(read_folder(d)).problems
    assert len(problems) == 1 and problems[0].startswith(f"{p}:9 (field 7): file has 999, psum_kij2.txt has")


def test_notebook_001_without_out_relu_reads_out_txt_as_sums(tmp_path):
    """out.txt holds the raw sums (negative values included): read as sums before ReLU, and the outputs
    after ReLU are checked against max(0, sum) -- not 'expected -22 got 0' under the ReLU label."""
    t = _layer()
    assert (t.out_tile(0) < 0).any()
    d = write_notebook_folder("001", t, tmp_path / "nb", relu_file=False, twins=False)
    v = read_folder(d)
    assert np.array_equal(v.out_raw[0], t.out_tile(0)) and v.relu_derived
    assert np.array_equal(v.out[0], np.maximum(t.out_tile(0), 0))
    assert v.provided() == {"psum": True, "sum": True, "relu": False}
    assert any("out.txt alone: read as the sums before ReLU (notebook 001 without out_relu.txt): 128 of its 128"
               in n for n in v.notes), v.notes
    assert not check_vectors(v).problems


def test_out_txt_alone_without_negatives_says_how_it_was_read(tmp_path):
    t = _layer()
    d = write_notebook_folder("000", t, tmp_path / "nb", psums=False)
    (d / "out_raw.txt").unlink()
    (d / "viz" / "viz_out_raw.txt").unlink()         # alone, it would be read in out_raw.txt's place
    v = read_folder(d)
    assert v.out_raw is None and not v.relu_derived and v.ignored == []
    assert any("out.txt alone: read as after ReLU (notebook 000): 128 of its 128 values agree" in n and
               "sums are negative" in n for n in v.notes), v.notes


def test_notebook_003_folder(tmp_path):
    t = _layer(1)
    d = write_notebook_folder("003", t, tmp_path / "nb")
    v = read_folder(d)
    assert v.naming == NAMING_003 and v.ignored == []
    assert np.array_equal(v.a_tiles, t.a_tiles)                  # the unpadded input, padded by the reader
    assert np.array_equal(v.w_tiles, t.w_tiles)                  # notebook 003's reversed weight lines, undone
    assert np.array_equal(v.out_raw[0], t.out_tile(0)) and np.array_equal(v.out[0], np.maximum(t.out_tile(0), 0))
    assert int(v.psum_mask.sum()) == 9 * 16 * 8 and np.array_equal(v.psum[v.psum_mask], t.psum[v.psum_mask])
    assert any("unpadded 4x4 input" in n for n in v.notes)
    assert any("weights as notebook 003 writes them" in n for n in v.notes)
    assert check_vectors(v).compared == {"psum": 9 * 16 * 8, "sum": 128, "relu": 128}
    # psum_4.txt line 6 is output position 5 = padded position (1+1)*6 + 1+1 = 14 at kij 4
    lineno = _flip_field(d / "psum_4.txt", 5, field=2)
    problems = check_vectors(read_folder(d)).problems
    assert problems == [f"{d / 'psum_4.txt'}:{lineno} (col 2): file has {int(t.psum[0, 0, 2, 14, 4]) ^ 1}, "
                        f"recomputed from the activation and weight files {int(t.psum[0, 0, 2, 14, 4])}"]


def test_notebook_003_names_with_the_course_weight_layout(tmp_path):
    """The same names, weights written in the course's layout: the layout that reproduces psum.txt is taken,
    and the reading says so."""
    t = _layer(2)
    d = write_notebook_folder("003", t, tmp_path / "nb")
    write_notebook_folder("000", t, tmp_path / "std")
    for k in range(9):
        (d / f"weight_itile0_otile0_kij{k}.txt").write_text((tmp_path / "std" / f"weight_itile0_otile0_kij{k}.txt").read_text())
    v = read_folder(d)
    assert np.array_equal(v.w_tiles, t.w_tiles) and any("course's layout" in n for n in v.notes)


def test_notebook_002_folder_is_refused_with_the_reason(tmp_path):
    d = write_notebook_folder("002", _layer(), tmp_path / "nb")
    with pytest.raises(FormatError, match=r"notebook 002's folder .* not a 3x3 conv layer"):
        read_folder(d)


def test_blank_between_words_is_read_and_a_misplaced_blank_is_an_error(tmp_path):
    t = _layer()
    d = write_notebook_folder("000", t, tmp_path / "nb")
    p = d / "weight_itile0_otile0_kij3.txt"
    lines = p.read_text().splitlines()
    p.write_text("\n".join(l if l.startswith("#") else " ".join(l[i:i + 4] for i in range(0, len(l), 4)) for l in lines))
    assert np.array_equal(read_folder(d).w_tiles, t.w_tiles)
    p.write_text("\n".join(l if l.startswith("#") else l[:6] + " " + l[6:] for l in lines))
    with pytest.raises(FormatError, match=r"kij3.txt:4: words separated by blanks must all be 6 bits wide"):
        read_folder(d)


def test_single_tile_folder_with_multi_tile_names_is_read(tmp_path):
    """psum_itile0_otile0_kij*.txt and out_raw_otile0.txt name a single tile's files too: read, never 'not
    read'; both names for the same numbers are checked against each other."""
    t = _layer()
    d = write_notebook_folder("000", t, tmp_path / "nb")
    for k in range(9):
        (d / f"psum_kij{k}.txt").rename(d / f"psum_itile0_otile0_kij{k}.txt")
    (d / "out_raw.txt").rename(d / "out_raw_otile0.txt")
    v = read_folder(d)
    assert v.ignored == [] and np.array_equal(v.psum, t.psum) and np.array_equal(v.out_raw[0], t.out_tile(0))
    lineno = _flip_field(d / "psum_itile0_otile0_kij6.txt", 20, field=1)
    problems = check_vectors(read_folder(d)).problems        # and its viz/ twin no longer agrees
    assert len(problems) == 2 and problems[0].startswith(f"{d / 'psum_itile0_otile0_kij6.txt'}:{lineno} (col 1)")
    assert problems[1].startswith(f"{d / 'viz' / 'viz_psum_kij6.txt'}:{lineno} (field 1)")


def test_out_raw_beside_out_and_out_relu_is_checked_against_both(tmp_path):
    t = _layer()
    d = write_notebook_folder("001", t, tmp_path / "nb", twins=False)
    (d / "out_raw.txt").write_text((d / "out.txt").read_text())
    v = read_folder(d)
    assert v.ignored == [] and len(v.twins) == 1 and not check_vectors(v).problems
    lineno = _flip_field(d / "out_raw.txt", 3, field=0)
    problems = check_vectors(read_folder(d)).problems
    assert len(problems) == 1 and problems[0].startswith(f"{d / 'out_raw.txt'}:{lineno} (field 0)")


def test_two_notebooks_output_names_in_one_folder_are_refused(tmp_path):
    d = write_notebook_folder("003", _layer(), tmp_path / "nb")
    (d / "out.txt").write_text((d / "psum_relu.txt").read_text())
    with pytest.raises(FormatError, match=r"name the outputs in two notebooks' styles"):
        read_folder(d)


def test_unreadable_folder_or_file_is_one_line(tmp_path, monkeypatch, capsys):
    """As root every file is readable, so the refusal is made to happen: listing the folder, then reading one
    file, raise PermissionError; accel-run says so in one line, exit 2, before any build."""
    from pathlib import Path

    from accel_tb.cli import run as cli
    d = write_notebook_folder("000", _layer(), tmp_path / "nb")
    real_iterdir, real_read = Path.iterdir, Path.read_bytes

    def no_listing(self):
        if self == d:
            raise PermissionError(13, "Permission denied")
        return real_iterdir(self)
    monkeypatch.setattr(Path, "iterdir", no_listing)
    assert cli.main_run(["--golden", str(d), "--sim", "icarus"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert err == [f"error: --golden {d}: cannot list the folder (Permission denied)"]
    monkeypatch.setattr(Path, "iterdir", real_iterdir)

    def no_reading(self):
        if self.name == "out.txt":
            raise PermissionError(13, "Permission denied")
        return real_read(self)
    monkeypatch.setattr(Path, "read_bytes", no_reading)
    assert cli.main_run(["--golden", str(d), "--sim", "icarus"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert err == [f"error: --golden {d / 'out.txt'}: cannot read (Permission denied)"]


def test_one_wrong_value_is_located_whatever_reading_it_could_turn(tmp_path):
    """A reading left open by the names (notebook 003's weight layout; out.txt alone) follows what most of
    the folder's values agree with, so one wrong value is located instead of turning the reading."""
    t = _layer(2)
    d = write_notebook_folder("003", t, tmp_path / "nb")
    write_notebook_folder("000", t, tmp_path / "std")
    for k in range(9):                 # notebook 003's names, weights in the course's layout
        (d / f"weight_itile0_otile0_kij{k}.txt").write_text((tmp_path / "std" / f"weight_itile0_otile0_kij{k}.txt").read_text())
    lineno = _flip_field(d / "psum_relu.txt", 5, field=6, bits=16)
    v = read_folder(d)
    assert np.array_equal(v.w_tiles, t.w_tiles) and any("course's layout" in n for n in v.notes)
    problems = check_vectors(v).problems
    assert len(problems) == 1 and problems[0].startswith(f"{d / 'psum_relu.txt'}:{lineno} (col 6)")
    # an after-ReLU out.txt alone, one value made negative: still read as after ReLU, the value located
    h = write_notebook_folder("000", t, tmp_path / "h", psums=False)
    (h / "out_raw.txt").unlink()
    shutil.rmtree(h / "viz")
    lines = (h / "out.txt").read_text().splitlines(keepends=True)
    lines[3 + 6] = lines[3 + 6][:16] + "1111111100111000" + lines[3 + 6][32:]   # column 6 of output 6: -200
    (h / "out.txt").write_text("".join(lines))
    v = read_folder(h)
    assert v.out_raw is None and any("read as after ReLU (notebook 000): 127 of its 128" in n for n in v.notes)
    problems = check_vectors(v).problems
    assert len(problems) == 1 and problems[0].startswith(f"{h / 'out.txt'}:10 (col 6): file has -200")


def test_viz_twins_are_checked_and_unread_ones_listed(tmp_path):
    d = write_notebook_folder("000", _layer(), tmp_path / "nb")
    p = d / "viz" / "viz_out_raw.txt"
    lines = p.read_text().splitlines(keepends=True)
    first = lines[3].split()
    lines[3] = " ".join([str(int(first[0]) + 1), *first[1:]]) + "\n"
    p.write_text("".join(lines))
    problems = check_vectors(read_folder(d)).problems
    assert len(problems) == 1 and problems[0].startswith(f"{p}:4 (field 7): file has")
    # without out_raw.txt, its viz/ twin is read in its place (listed as not read until 2026-12-08, its
    # numbers unchecked): the wrong value is found in it, and the note says where the sums came from
    (d / "out_raw.txt").unlink()
    v = read_folder(d)
    assert "viz/viz_out_raw.txt" not in v.ignored and not v.sums_derived
    assert "viz/viz_out_raw.txt: read in place of out_raw.txt, which the folder lacks" in v.notes, v.notes
    assert v.files.startswith("viz/viz_out_raw.txt = sums before ReLU, out.txt = after ReLU"), v.files
    problems = check_vectors(v).problems
    assert len(problems) == 1 and problems[0].startswith(f"{p}:4 (col 7): file has -"), problems
    lines[3] = "1 2 3\n"                   # unreadable, and the only file of the sums: an error naming it
    p.write_text("".join(lines))
    with pytest.raises(FormatError, match=r"viz_out_raw.txt:4: .*\(read in place of out_raw.txt, which the "
                                          r"folder lacks\)"):
        read_folder(d)


def test_notebook_000_psum_txt_is_kernel_position_0(tmp_path):
    """Notebook 000's last cell writes psum.txt: kernel position 0's psums at every padded position. Beside
    out files it is read as that (not as notebook 003's sums); alone it is refused: the folder gives the weights
    of nine kernel positions and nothing would check eight of them (a probe's weight5.txt changed passed)."""
    t = _layer(4)
    d = write_notebook_folder("000", t, tmp_path / "nb", psums=False)
    p0 = t.psum[0, 0, :, :, 0].T
    (d / "psum.txt").write_text("#time0col7...#\n#time1col7...#\n#.....#\n" + "".join(
        "".join(format(int(p0[i, 7 - j]) & 0xFFFF, "016b") for j in range(8)) + "\n" for i in range(p0.shape[0])))
    v = read_folder(d)
    assert v.naming.startswith("notebook 000") and v.ignored == []
    assert int(v.psum_mask.sum()) == 36 * 8 and np.array_equal(v.psum[0, 0, :, :, 0], t.psum[0, 0, :, :, 0])
    assert not check_vectors(v).problems
    for q in [*d.glob("out*.txt")]:
        q.unlink()
    shutil.rmtree(d / "viz")          # its twins alone would be read in the out files' places: psum.txt alone
    with pytest.raises(FormatError, match=r"psum.txt holds kernel position 0's psums .* no out\*.txt or "
                                          r"psum_kij\*.txt: nothing would check the weights of kernel positions 1-8"):
        read_folder(d)


def test_a_file_named_like_output_but_not_one_is_only_not_read(tmp_path):
    d = write_notebook_folder("003", _layer(), tmp_path / "nb")
    (d / "output_log.txt").write_text("run 1: ok\n")
    v = read_folder(d)
    assert v.naming == NAMING_003 and v.ignored == ["output_log.txt"]


def test_cr_only_line_ends_and_blanks_between_rows_of_a_2bit_file(tmp_path):
    t = _layer()
    d = write_notebook_folder("001", t, tmp_path / "nb", twins=False)
    for q in d.glob("*.txt"):              # an old Mac editor: CR alone
        q.write_bytes(q.read_bytes().replace(b"\n", b"\r"))
    assert np.array_equal(read_folder(d).w_tiles, t.w_tiles)
    # a 2-bit activation line with a blank between rows (4 bits: two channels) reads as without blanks
    from golden_py.coursefmt import write_layer
    g = torch.Generator().manual_seed(5)
    t2 = tile_layer(torch.randint(0, 4, (16, 3, 3), generator=g), torch.randint(-8, 8, (8, 16, 3, 3), generator=g), 16, 8)
    e = tmp_path / "two"
    write_layer(t2, e, a_bits=2)
    a = e / "activation_tile0.txt"
    a.write_text("".join(l if l.startswith("#") else " ".join(l.strip()[i:i + 4] for i in range(0, 32, 4)) + "\n"
                         for l in a.read_text().splitlines(keepends=True)))
    v = read_folder(e)
    assert v.a_bits == 2 and np.array_equal(v.a_tiles, t2.a_tiles)


def test_a_folder_that_gives_some_psums_only_judges_those_on_any_core(tmp_path):
    """Notebook 003's psum_{k}.txt (output positions) and notebook 000's psum.txt (kernel position 0): on a
    core that reports psums at every padded position (an adapter's default), the psums the folder does not
    give are neither compared nor unexpected; the ones it gives are compared, a wrong one located."""
    from accel_tb.env.checker import LayerChecker, job_from_folder
    t = _layer(6)
    for notebook in ("003", "000"):
        d = write_notebook_folder(notebook, t, tmp_path / notebook, **({"psums": False} if notebook == "000" else {}))
        if notebook == "000":              # its last cell: kernel position 0 at every padded position
            p0 = t.psum[0, 0, :, :, 0].T
            (d / "psum.txt").write_text("".join("".join(format(int(p0[i, 7 - j]) & 0xFFFF, "016b") for j in range(8))
                                                + "\n" for i in range(p0.shape[0])))
        v = read_folder(d)
        job = job_from_folder(v)
        for bad in (False, True):
            ck = LayerChecker(job, log=lambda m: None, streamed=None, kinds=("psum", "relu"))
            for k in range(9):
                for p in range(36):
                    vals = t.psum[0, 0, :, p, k].tolist()
                    if bad and k == 0 and p == 7:
                        vals[3] += 1
                    ck.psum(0, 0, 0, k, p, vals)
            sb = ck.scoreboards["psum"]
            given = int(v.psum_mask[0, 0, 0].sum())
            assert sb.compared == given * 8 and sb.unexpected == 0 and len(sb.missing) == 0
            assert sb.mismatches == int(bad), sb.reports
            if bad:
                # padded position 7 = (1, 1): output position 5 in psum_0.txt (no headers), line 8 of psum.txt
                where = f"{d / 'psum_0.txt'}:6" if notebook == "003" else f"{d / 'psum.txt'}:8"
                assert f"[{where}]" in sb.reports[0], sb.reports


def test_a_decimal_file_with_a_wrong_field_count_is_one_line(tmp_path):
    d = write_notebook_folder("001", _layer(), tmp_path / "nb")
    (d / "psum_kij0.txt").unlink()         # the decimal twin alone gives kernel position 0
    p = d / "psum_kij0_int.txt"
    lines = p.read_text().splitlines(keepends=True)
    lines[3 + 2] = lines[3 + 2].split(",", 1)[1]       # 7 values on one line
    p.write_text("".join(lines))
    with pytest.raises(FormatError, match=r"psum_kij0_int.txt:6: 7 values"):
        read_folder(d)


def test_notebooks_run_one_after_the_other_in_one_folder(tmp_path):
    """The notebooks write into the folder they run in: 002 then 003 leaves 002's weight.txt beside 003's files
    (read as 003's folder, weight.txt said not read, as before the stray-file rule); 002 then 001 leaves two
    activation files (002's activation.txt was read in place of 001's activation_project.txt, silently): an
    error naming both."""
    t = _layer()
    d = write_notebook_folder("002", t, tmp_path / "a")
    write_notebook_folder("003", t, d)
    v = read_folder(d)
    assert v.naming == NAMING_003 and "weight.txt" in v.ignored
    assert any(n.startswith("weight.txt: another notebook's file") for n in v.notes)
    assert not check_vectors(v).problems
    d = write_notebook_folder("002", t, tmp_path / "b")
    write_notebook_folder("001", t, d)
    with pytest.raises(FormatError, match=r"activation.txt \(notebooks 002, 003\) and activation_project.txt "
                                          r"\(notebook 001\) are both here"):
        read_folder(d)


def test_viz_twins_read_in_place_count_toward_the_folders_naming(tmp_path):
    """A notebook-003 psum.txt beside only viz/ twins of notebook 000's outputs and psums (their files gone): the
    twins are the folder's numbers under 000's names, so psum.txt is judged as notebook 000's (and refused for
    its line count here), not read as 003's while the twins, a wrong value among them, went unread (a review)."""
    d = write_notebook_folder("000", _layer(), tmp_path / "nb")
    raw = [line for line in (d / "out_raw.txt").read_text().splitlines(keepends=True) if not line.startswith("#")]
    (d / "psum.txt").write_text("".join(raw))
    for q in [*d.glob("out*.txt"), *d.glob("psum_kij*.txt")]:
        q.unlink()
    with pytest.raises(FormatError, match=r"psum.txt: 16 lines, expected 36 \(notebook 000's psum.txt"):
        read_folder(d)


def _to_viz(d, name, bump=0):
    """Move `name` into viz/viz_`name` in decimal (as notebook 000's viz cells write: highest field first), one
    value bumped by `bump` (data line 2, first field); its _int twin removed."""
    from golden_py.coursefmt import read_matrix
    m = read_matrix(d / name, None, True, fields=8)
    rows = [list(r[::-1]) for r in m.values.tolist()]
    rows[2][0] += bump
    (d / "viz").mkdir(exist_ok=True)
    (d / "viz" / f"viz_{name}").write_text("#h\n#h\n#h\n" + "".join(" ".join(f"{v:6d}" for v in r) + "\n" for r in rows))
    (d / name).unlink()
    twin = d / (name[:-4] + "_int.txt") if name != "out_relu.txt" else d / "out_int_relu.txt"
    twin.unlink(missing_ok=True)
    return d / "viz" / f"viz_{name}"


@pytest.mark.parametrize("notebook,name", [("003", "psum.txt"), ("001", "out_relu.txt")])
def test_viz_twins_of_notebook_003_and_001_names_are_read_in_place(notebook, name, tmp_path):
    """notebook 003's psum.txt and 001's out_relu.txt have viz/ twins that were only 'not read' (the sums, or the
    outputs after ReLU, then derived or not provided): read in their files' places, a wrong value named (a probe)."""
    d = write_notebook_folder(notebook, _layer(), tmp_path / "nb")
    p = _to_viz(d, name, bump=5)
    v = read_folder(d)
    assert f"viz/viz_{name}" not in v.ignored and f"viz/viz_{name}: read in place of {name}, which the folder lacks" \
        in v.notes, (v.ignored, v.notes)
    problems = check_vectors(v).problems
    assert problems and all(str(p) in q for q in problems[:1]), problems


def test_notebook_000_s_one_value_a_line_twins_are_compared_value_by_value(tmp_path):
    """Notebook 000's viz/ cells write activations and weights one value a line (first field of each line first):
    listed as not read, a wrong value in them passed (a probe). Read and compared, each value at its own line."""
    d = write_notebook_folder("000", _layer(), tmp_path / "nb")
    for p in [*(d / "viz").glob("viz_activation*.txt"), *(d / "viz").glob("viz_weight*.txt")]:
        lines = p.read_text().splitlines()
        p.write_text("".join(f"{line}\n" if line.startswith("#") or not line.strip() else
                             "".join(f"{int(v): 3d} \n" for v in line.split()) for line in lines))
    v = read_folder(d)
    assert not any(n.startswith("viz/") for n in v.ignored) and not check_vectors(v).problems
    p = d / "viz" / "viz_weight_itile0_otile0_kij4.txt"
    lines = p.read_text().splitlines()
    k = next(i for i, line in enumerate(lines) if not line.startswith("#"))
    old = int(lines[k + 9])
    lines[k + 9] = f"{old + 1 if old < 7 else old - 1: 3d} "
    p.write_text("\n".join(lines) + "\n")
    problems = check_vectors(read_folder(d)).problems
    assert len(problems) == 1 and problems[0].startswith(f"{p}:{k + 10}: file has"), problems


def test_a_viz_twin_with_a_line_more_or_less_is_an_error_not_passed_over(tmp_path):
    """A twin of the same layout with a line deleted (and a wrong value in it) was dropped as 'another layout' and
    the folder passed; only notebook 000's one-value-a-line twins are another layout (a probe)."""
    d = write_notebook_folder("000", _layer(), tmp_path / "nb")
    p = d / "viz" / "viz_out.txt"
    lines = p.read_text().splitlines(keepends=True)
    del lines[4]
    p.write_text("".join(lines))
    with pytest.raises(FormatError, match=r"viz_out.txt: 15 lines of 8 values, but out.txt \(the same numbers\) has 16"):
        read_folder(d)
    p.write_text("#h\n" + "".join(f"{v}\n" for v in range(16 * 8 + 1)))     # one value a line, a value more
    with pytest.raises(FormatError, match=r"viz_out.txt: 129 values one a line, but out.txt \(the same numbers\) "
                                          r"holds 128 \(16 lines of 8\)"):
        read_folder(d)
    p.write_text("\ufeff" + "#h\n")                                       # a byte-order mark: named
    with pytest.raises(FormatError, match="viz_out.txt"):
        read_folder(d)


def test_viz_twins_beyond_the_reading_are_errors_as_at_the_root(tmp_path):
    d = write_notebook_folder("000", _layer(), tmp_path / "nb")
    shutil.copyfile(d / "viz" / "viz_psum_kij0.txt", d / "viz" / "viz_psum_kij9.txt")
    with pytest.raises(FormatError, match=r"viz/viz_psum_kij9.txt: named as a course file, but not part of this "
                                          r"folder's reading"):
        read_folder(d)


def test_psum_txt_in_a_folder_of_several_tiles_is_tile_0_kernel_position_0(tmp_path):
    """Notebook 000's last cell writes psum.txt (tile (0, 0), kernel position 0) in a folder of several tiles too:
    read and compared (it was 'another notebook's file, not read', a wrong value passed: a probe)."""
    g = torch.Generator().manual_seed(3)
    t = tile_layer(torch.randint(0, 16, (8, 4, 4), generator=g), torch.randint(-8, 8, (8, 8, 3, 3), generator=g), 4, 4)
    from golden_py.coursefmt import write_layer
    write_layer(t, tmp_path / "g", psums=False)
    d = tmp_path / "g"
    p0 = t.psum[0, 0, :, :, 0].T
    (d / "psum.txt").write_text("".join("".join(format(int(p0[i, 3 - j]) & 0xFFFF, "016b") for j in range(4)) + "\n"
                                        for i in range(p0.shape[0])))
    v = read_folder(d)
    assert "psum.txt" not in v.ignored and v.psum_mask[0, 0, :, :, 0].all() and not check_vectors(v).problems
    _flip_field(d / "psum.txt", 9, 2, fields=4)
    problems = check_vectors(read_folder(d)).problems
    assert problems and problems[0].startswith(f"{d / 'psum.txt'}:10"), problems
