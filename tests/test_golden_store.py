"""accel_tb.env.golden_store: a checkpoint layer's job stored once, read back without torch, never stale."""
from __future__ import annotations

import json
import shutil
import subprocess
import sys

import numpy as np
import pytest

from accel_tb.adapter import Geometry
from accel_tb.env import environment, golden_store
from golden_py import data

ROOT = golden_store.ROOT
CK4 = str(ROOT / "checkpoints" / "vgg16_a4w4.pt")
SPEC = {"checkpoint": CK4, "layer": 27, "images": [0, 1], "data_dir": None}
G8 = Geometry(rows=8, cols=8, psum_bits=16, multi_tile=True, psum_monitor=True)


@pytest.fixture
def store(tmp_path, monkeypatch):
    monkeypatch.setenv("ACCEL_BUILD_DIR", str(tmp_path))
    return tmp_path / "golden"


def same(a, b):
    assert [getattr(a, k) for k in golden_store.META] == [getattr(b, k) for k in golden_store.META]
    assert np.array_equal(np.asarray(a.a_tiles), np.asarray(b.a_tiles))
    assert np.array_equal(np.asarray(a.w_tiles), np.asarray(b.w_tiles))
    assert sorted(a.expected) == sorted(b.expected)
    for k in a.expected:
        assert np.array_equal(np.asarray(a.expected[k]), np.asarray(b.expected[k])), k


def test_the_stored_job_is_the_computed_one(store):
    computed = environment.computed_checkpoint_job(SPEC, G8)
    first = environment.checkpoint_job(SPEC, G8)            # computes and stores
    assert len(list(store.glob("*.npz"))) == 1
    again = environment.checkpoint_job(SPEC, G8)            # reads it back
    # cold or warm, the job's arrays are numpy (what the checker and the adapters see)
    assert all(isinstance(j.a_tiles, np.ndarray) and isinstance(j.expected["relu"], np.ndarray) for j in (first, again))
    same(computed, first)
    same(computed, again)
    assert sorted(again.expected) == ["psum", "relu", "sum"]


def test_reading_a_stored_job_imports_no_torch(store):
    environment.checkpoint_job(SPEC, G8)
    code = ("import sys; from accel_tb.adapter import Geometry; from accel_tb.env import environment; "
            f"job = environment.checkpoint_job({SPEC!r}, Geometry(rows=8, cols=8, psum_bits=16, multi_tile=True, "
            "psum_monitor=True)); print(type(job.a_tiles).__name__, 'torch' in sys.modules)")
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT,
                       env={"ACCEL_BUILD_DIR": str(store.parent), "PATH": "/usr/bin:/bin", "PYTHONPATH": str(ROOT)})
    assert r.returncode == 0, r.stderr
    assert r.stdout.split() == ["ndarray", "False"]


def test_another_geometry_tiles_the_stored_layer_without_torch(store):
    """The layer's integers are computed once per layer and images (torch), then every geometry's job is tiled
    from them in numpy: a 16x16 job after the 8x8 one imports no torch, and equals the job computed from the model."""
    environment.checkpoint_job(SPEC, G8)
    assert len(list((store / "layers").glob("*.npz"))) == 1
    g16 = "Geometry(rows=16, cols=16, psum_bits=24, multi_tile=True, psum_monitor=True)"
    code = ("import sys; from accel_tb.adapter import Geometry; from accel_tb.env import environment; "
            f"job = environment.checkpoint_job({SPEC!r}, {g16}); print(job.rows, 'torch' in sys.modules)")
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT,
                       env={"ACCEL_BUILD_DIR": str(store.parent), "PATH": "/usr/bin:/bin", "PYTHONPATH": str(ROOT)})
    assert r.returncode == 0, r.stderr
    assert r.stdout.split() == ["16", "False"]
    assert len(list(store.glob("*.npz"))) == 2 and len(list((store / "layers").glob("*.npz"))) == 1
    stored = environment.checkpoint_job(SPEC, Geometry(rows=16, cols=16, psum_bits=24, multi_tile=True,
                                                       psum_monitor=True))
    shutil.rmtree(store)             # from the model again
    same(environment.computed_checkpoint_job(SPEC, Geometry(rows=16, cols=16, psum_bits=24, multi_tile=True,
                                                            psum_monitor=True)), stored)


@pytest.mark.parametrize("damage", ["truncated", "header", "images", "copied", "activation", "weight", "labels",
                                    "changed", "outline", "relu"])
def test_a_layer_entry_that_does_not_hold_is_computed_again(damage, store):
    """A layer entry cut short, whose header names other images than the request, holding one image where its
    header and the request say two, copied under another key, holding an activation or weight outside the layer's
    range, labels for other images, one activation changed within its range (the stored convolution finds it), or
    disagreeing with the checkpoint's stored outline (conv 27's channels edited there; its ReLU flag flipped in the
    entry) is not taken: the layer is computed from the model again (and stored again)."""
    environment.checkpoint_job(SPEC, G8)
    path = next((store / "layers").glob("*.npz"))
    other = {**SPEC, "images": [2, 3]}
    name, spec = path.stem, SPEC
    if damage == "truncated":
        path.write_bytes(path.read_bytes()[:500])
    elif damage == "header":        # the header says image 0 alone; the request is images 0 and 1
        rewrite(path, lambda a: a.update(meta=np.array(str(a["meta"]).replace('"images": [0, 1]', '"images": [0]'))))
    elif damage == "images":        # the header and the request say images 0 and 1; the arrays hold one
        rewrite(path, lambda a: a.update(a_int=a["a_int"][:1], out_int=a["out_int"][:1]))
    elif damage == "copied":        # images 0 and 1's integers as images 2 and 3's
        name, spec = golden_store.layer_key(other), other
        shutil.copy(path, store / "layers" / f"{name}.npz")
    elif damage == "activation":
        rewrite(path, lambda a: a["a_int"].__setitem__((0, 3, 1, 1), 16))           # a 4-bit activation of 16
    elif damage == "weight":
        rewrite(path, lambda a: a["w_int"].__setitem__((2, 3, 1, 1), -9))           # a 4-bit weight of -9
    elif damage == "labels":
        rewrite(path, lambda a: a.update(meta=np.array(str(a["meta"]).replace('"labels": [', '"labels": [1, '))))
    elif damage == "relu":          # features[27] is followed by a ReLU: the outline says so
        golden_store.checkpoint_outline(CK4)
        rewrite(path, lambda a: a.update(meta=np.array(str(a["meta"]).replace('"relu": true', '"relu": false'))))
    elif damage == "changed":
        rewrite(path, lambda a: a["a_int"].__setitem__((1, 2, 2, 1), (a["a_int"][1, 2, 2, 1] + 1) % 16))
    else:
        golden_store.checkpoint_outline(CK4)
        (outline,) = store.glob("outline-*.json")
        d = json.loads(outline.read_text())
        d["convs"]["27"][0] = 16                     # conv 27 with 16 input channels
        outline.write_text(json.dumps(d))
    assert golden_store.load_layer(name, spec) is None
    for f in store.glob("*.npz"):
        f.unlink()                    # the jobs too: the next one is tiled from the layer entry, or computed
    if damage in ("outline", "relu"):
        for f in store.glob("outline-*.json"):
            f.unlink()                # the model's outline again (the job computed from the model checks it)
    job = environment.checkpoint_job(spec, G8)
    assert "images 2 (label" in job.name if damage == "copied" else "images 0 (label" in job.name
    assert golden_store.load_layer(name, spec) is not None


def test_everything_the_job_depends_on_is_in_its_name(tmp_path, monkeypatch):
    base = golden_store.key(SPEC, G8, True)
    assert golden_store.key(SPEC, G8, True) == base
    changed = [golden_store.key({**SPEC, "layer": 24}, G8, True), golden_store.key({**SPEC, "images": [0]}, G8, True),
               golden_store.key(SPEC, Geometry(rows=4, cols=8, psum_bits=16, multi_tile=True), True),
               golden_store.key(SPEC, G8, False)]
    ck = tmp_path / "copy.pt"
    shutil.copy(CK4, ck)
    assert golden_store.key({**SPEC, "checkpoint": str(ck)}, G8, True) == base     # the bytes, not the path
    with ck.open("ab") as f:
        f.write(b"\0")
    changed.append(golden_store.key({**SPEC, "checkpoint": str(ck)}, G8, True))
    src = tmp_path / "golden_code.py"
    src.write_text("x = 1\n")
    monkeypatch.setattr(golden_store, "SOURCES", (*golden_store.SOURCES, src))
    with_src = golden_store.key(SPEC, G8, True)
    src.write_text("x = 2\n")                                # the golden model's code changed
    changed += [with_src, golden_store.key(SPEC, G8, True)]
    monkeypatch.setattr(golden_store.importlib.metadata, "version", lambda name: "0.0-another")
    changed.append(golden_store.key(SPEC, G8, True))     # another torch
    assert len({base, *changed}) == len(changed) + 1
    # a user's image folder is never stored
    assert golden_store.key({**SPEC, "data_dir": str(tmp_path)}, G8, True) is None


def test_the_bundled_samples_file_is_golden_pys():
    assert golden_store.SAMPLES.name == data.SAMPLES_FILE and golden_store.SAMPLES.is_file()


def rewrite(path, change):
    with np.load(path, allow_pickle=False) as z:
        arrays = {k: np.array(z[k]) for k in z.files}
    change(arrays)
    with path.open("wb") as f:
        np.savez(f, **arrays)


def one_more(arrays, kind, index):
    arrays[kind][index] += 1


@pytest.mark.parametrize("damage", ["truncated", "header", "relu", "sum", "psum", "weight"])
def test_a_damaged_entry_is_computed_again_and_replaced(damage, store):
    """A file cut short, a header that disagrees with its arrays, or one value changed (an output, a sum, a
    psum: each against the stored activations and weights; a weight: against every expected value)."""
    environment.checkpoint_job(SPEC, G8)
    path = next(store.glob("*.npz"))
    if damage == "truncated":
        path.write_bytes(path.read_bytes()[:1000])
    elif damage == "header":    # the header says one image; the arrays hold two
        rewrite(path, lambda a: a.update(meta=np.array(str(a["meta"]).replace('"images": [0, 1]', '"images": [0]'))))
    elif damage == "weight":
        rewrite(path, lambda a: one_more(a, "w_tiles", (0, 0, 5, 2, 4)))
    else:
        at = {"relu": (1, 0, 3, 5), "sum": (1, 0, 3, 5), "psum": (1, 0, 0, 3, 7, 4)}[damage]
        rewrite(path, lambda a: one_more(a, damage, at))
    assert golden_store.load(path.stem, "vgg16_a4w4.pt") is None
    job = environment.checkpoint_job(SPEC, G8)
    shutil.rmtree(store / "layers")       # the reference from the model, not from the stored layer
    same(environment.computed_checkpoint_job(SPEC, G8), job)
    assert golden_store.load(path.stem, "vgg16_a4w4.pt") is not None


def test_an_entry_is_taken_only_for_the_request_it_was_written_for(store):
    """An entry copied under another key (another image, another checkpoint's layer) or stripped of a kind held
    together by itself and was taken: a run of image 5 passed against image 0's job, a 2-bit layer's request
    ran the 4-bit layer's job, a job without sums and outputs said 'not provided' for a checkpoint layer (which
    gives all three). Each is now computed again."""
    environment.checkpoint_job(SPEC, G8)
    path = next(store.glob("*.npz"))
    other = {**SPEC, "images": [2, 3]}
    other_name = golden_store.key(other, G8, True)
    shutil.copy(path, store / f"{other_name}.npz")                     # image 0 and 1's job as images 2 and 3's
    assert golden_store.load(other_name, "vgg16_a4w4.pt", other, True) is None
    assert golden_store.load(path.stem, "vgg16_a4w4.pt", SPEC, True) is not None
    assert golden_store.load(path.stem, "vgg16_a4w4.pt", {**SPEC, "layer": 29}, True) is None
    assert golden_store.load(path.stem, "vgg16_a4w4.pt", other, True) is None   # its header's images differ
    job = environment.checkpoint_job(other, G8)                                 # computed again, replaced
    assert "image" in job.name and "images 2 (label" in job.name
    for dropped in (("sum", "relu"), ("psum",)):
        environment.checkpoint_job(SPEC, G8)
        def strip(a, dropped=dropped):
            for k in dropped:
                a.pop(k)
            a["meta"] = np.array(json.dumps({**json.loads(str(a["meta"])),
                                             "expected": sorted(set(golden_store.KINDS) - set(dropped))}))
        rewrite(path, strip)
        assert golden_store.load(path.stem, "vgg16_a4w4.pt", SPEC, True) is None, dropped
        assert sorted(environment.checkpoint_job(SPEC, G8).expected) == ["psum", "relu", "sum"]


def test_the_job_is_named_after_the_checkpoint_file_this_run_gives(store, tmp_path):
    environment.checkpoint_job(SPEC, G8)
    mine = tmp_path / "my_model.pt"
    shutil.copy(CK4, mine)
    job = environment.checkpoint_job({**SPEC, "checkpoint": str(mine)}, G8)     # the same entry (same bytes)
    assert len(list(store.glob("*.npz"))) == 1
    assert job.name.startswith("my_model.pt features[27] (8->8 on 4x4)"), job.name


def test_nothing_is_stored_when_a_hashed_file_changes_while_the_job_is_computed(store, tmp_path, monkeypatch):
    src = tmp_path / "golden_code.py"
    src.write_text("x = 1\n")
    monkeypatch.setattr(golden_store, "SOURCES", (*golden_store.SOURCES, src))
    real = environment.computed_checkpoint_job

    def edited_meanwhile(*a, **k):
        src.write_text("x = 2\n")
        return real(*a, **k)
    monkeypatch.setattr(environment, "computed_checkpoint_job", edited_meanwhile)
    environment.checkpoint_job(SPEC, G8)
    assert not list(store.glob("*.npz"))
    environment.checkpoint_job(SPEC, G8)        # nothing changes this time: stored
    assert len(list(store.glob("*.npz"))) == 1


def test_no_layer_entry_is_stored_when_a_hashed_file_changes_while_it_is_computed(store, tmp_path, monkeypatch):
    src = tmp_path / "golden_code.py"
    src.write_text("x = 1\n")
    monkeypatch.setattr(golden_store, "SOURCES", (*golden_store.SOURCES, src))
    real = environment.layer_ints

    def edited_meanwhile(spec):
        src.write_text("x = 2\n")
        return real(spec)
    monkeypatch.setattr(environment, "layer_ints", edited_meanwhile)
    environment.computed_checkpoint_job(SPEC, G8)
    assert not list((store / "layers").glob("*.npz"))
    monkeypatch.setattr(environment, "layer_ints", real)
    environment.computed_checkpoint_job(SPEC, G8)       # nothing changes this time: stored
    assert len(list((store / "layers").glob("*.npz"))) == 1


# ------------------------------------------------------------------------------------- checkpoint outline
CK2 = str(ROOT / "checkpoints" / "vgg16_a2w4.pt")


@pytest.mark.parametrize("ck", [CK4, CK2])
def test_the_stored_outline_is_the_models_and_is_read_without_torch(store, ck):
    from golden_py.checkpoint import load_model
    model, _ = load_model(ck)
    first = golden_store.checkpoint_outline(ck)              # loads the model, stores the outline
    assert len(list(store.glob("outline-*.json"))) == 1
    assert golden_store.checkpoint_outline(ck) == first == golden_store.outline_of(model)
    assert first.quant_conv_indices() == model.quant_conv_indices() and first.a_bit == model.a_bit
    code = (f"import sys; from accel_tb.env import golden_store; o = golden_store.checkpoint_outline({ck!r}); "
            "print(len(o.convs), o.side_before(27), 'torch' in sys.modules)")
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT,
                       env={"ACCEL_BUILD_DIR": str(store.parent), "PATH": "/usr/bin:/bin", "PYTHONPATH": str(ROOT)})
    assert r.returncode == 0, r.stderr
    assert r.stdout.split() == [str(len(model.quant_conv_indices())), "4", "False"]


@pytest.mark.parametrize("text", ["{not json", '{"features": ["ReLU"], "convs": {"0": [3, 64, 4]}, "a_bit": 4}',
                                  '{"features": ["QuantConv2d", "QuantConv2d"], "convs": {"0": [3, 64, 4]}, "a_bit": 4}',
                                  '{"features": [], "convs": {}}', '{"features": [], "convs": {}, "a_bit": 4}',
                                  '{"features": "QuantConv2d", "convs": {"0": [3, 64, 4]}, "a_bit": 4}',
                                  '{"features": ["QuantConv2d"], "convs": {"-1": [3, 64, 4]}, "a_bit": 4}',
                                  '{"features": ["QuantConv2d"], "convs": {"0": [3, 0, 4]}, "a_bit": 4}',
                                  '{"features": ["QuantConv2d"], "convs": {"0": [3, 64, 3]}, "a_bit": 4}',
                                  '{"features": ["QuantConv2d"], "convs": {"0": [3, 64, 4]}, "a_bit": 8}',
                                  '{"features": ["QuantConv2d"], "convs": {"1": [3, 64, 4]}, "a_bit": 4}',
                                  '{"features": ["QuantConv2d"], "convs": {"0": [3, 64.5, 4]}, "a_bit": 4}'])
def test_a_stored_outline_that_does_not_hold_is_computed_again(store, text):
    good = golden_store.checkpoint_outline(CK4)
    (path,) = store.glob("outline-*.json")
    path.write_text(text)
    assert golden_store.checkpoint_outline(CK4) == good
    assert golden_store.checkpoint_outline(CK4) == good and path.read_text() != text     # and stored again


def test_an_outline_is_per_file_content_and_a_refused_file_stores_none(store, tmp_path):
    from golden_py.checkpoint import CheckpointError
    golden_store.checkpoint_outline(CK4)
    other = tmp_path / "copy.pt"
    shutil.copy(CK2, other)
    assert golden_store.checkpoint_outline(str(other)).a_bit == 2          # another file's bytes: its own entry
    assert len(list(store.glob("outline-*.json"))) == 2
    trunc = tmp_path / "trunc.pt"
    trunc.write_bytes((ROOT / "checkpoints" / "vgg16_a4w4.pt").read_bytes()[:1000])
    with pytest.raises(CheckpointError, match="not a readable torch checkpoint"):
        golden_store.checkpoint_outline(str(trunc))
    with pytest.raises(CheckpointError, match="checkpoint not found"):
        golden_store.checkpoint_outline(str(tmp_path / "missing.pt"))
    assert len(list(store.glob("outline-*.json"))) == 2


def test_an_outline_edited_to_another_consistent_one_stops_the_computed_job_in_one_line(store):
    """A stored outline that holds together but is not the checkpoint's (edited by hand: conv 27 moved to 28)
    would let a command take features[28]; the job computed from the model then finds it, removes it and stops
    with one line naming the file."""
    from golden_py.checkpoint import load_model
    golden_store.checkpoint_outline(CK4)
    (path,) = store.glob("outline-*.json")
    d = json.loads(path.read_text())
    d["features"][27], d["features"][28] = d["features"][28], d["features"][27]
    d["convs"]["28"] = d["convs"].pop("27")
    path.write_text(json.dumps(d))
    assert 28 in golden_store.checkpoint_outline(CK4).convs          # consistent: read as it is
    model, _ = load_model(CK4)
    with pytest.raises(ValueError, match=r"outline-.*\.json: a stored outline that does not describe .*vgg16_a4w4.pt"):
        golden_store.check_stored_outline(CK4, model)
    assert not path.exists()
    golden_store.check_stored_outline(CK4, model)                      # nothing stored: nothing to compare
    assert 28 not in golden_store.checkpoint_outline(CK4).convs


def test_a_relative_build_folder_is_the_caller_s_in_the_simulators_too(tmp_path):
    """ACCEL_BUILD_DIR=relbuild named another folder inside each simulator's run folder (a traceback, then a
    golden store that never hit): the runner makes it absolute, in the environment the simulators inherit."""
    code = ("import os; from accel_tb.design import runner; os.chdir('/'); from accel_tb.env import golden_store; "
            "print(os.environ['ACCEL_BUILD_DIR'], runner.BUILD, golden_store.store_dir())")
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=tmp_path,
                       env={**__import__("os").environ, "ACCEL_BUILD_DIR": "relbuild"})
    assert r.returncode == 0, r.stderr
    assert r.stdout.split() == [str(tmp_path / "relbuild")] * 2 + [str(tmp_path / "relbuild" / "golden")]
