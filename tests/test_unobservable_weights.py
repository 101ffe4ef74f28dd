"""What the layer checker says it could not check: weights that meet only zero activations (an input channel
that is zero everywhere, or at every position a kernel position reads) change no psum, sum or output, so a
wrong one passes every comparison; the summary and the report say how many and where. The count is judged
against a fault: a weight the checker calls observable changes an expected value when flipped, one it calls
unobservable changes none."""
import numpy as np

from accel_tb.env.checker import LayerChecker, job_from_ints


def _job(a, w):
    return job_from_ints("t", a, w, 8, 8, relu=True, psums=True)


def test_zero_channels_are_said_and_the_count_matches_a_fault():
    rng = np.random.default_rng(3)
    a = rng.integers(0, 16, (1, 12, 4, 4))
    w = rng.integers(-8, 8, (8, 12, 3, 3))
    a[:, 5] = 0                    # input channel 5 zero everywhere: its 9 kernel positions x 8 outputs hidden
    a[:, 9, 0, :] = 0              # channel 9 zero on its top row only: every position reads some other row
    job = _job(a, w)
    ck = LayerChecker(job, log=lambda m: None)
    n, total, pairs = ck.unobservable_weights()
    assert (n, total) == (9 * 8, 12 * 8 * 9) and sorted(pairs) == [(5, k) for k in range(9)]
    line = [x for x in ck.summary_lines() if x.startswith("weights not observable")]
    assert line == ["weights not observable: 72 of 864 meet only zero activations in this run (input channel 5 at 9 "
                    "(channel, kernel position) pairs): a wrong one there changes no value checked"]
    assert ck.report()["weights_not_observable"]["count"] == 72
    # the claim judged against a fault: flip each channel's weight at kernel position 0 and recompute
    for ch in range(12):
        bad = w.copy()
        bad[3, ch, 0, 0] += 1
        changed = not np.array_equal(_job(a, bad).expected["psum"], job.expected["psum"])
        assert changed == ((ch, 0) not in pairs), ch


def test_a_layer_with_every_weight_observable_says_nothing():
    rng = np.random.default_rng(4)
    job = _job(rng.integers(1, 16, (1, 8, 4, 4)), rng.integers(-8, 8, (8, 8, 3, 3)))
    ck = LayerChecker(job, log=lambda m: None)
    assert ck.unobservable_weights()[0] == 0
    assert not [x for x in ck.summary_lines() if x.startswith("weights not observable")]


def test_psums_compared_at_every_padded_position_observe_the_border():
    """With psums compared where the core streams them (every padded position by default), a weight meets the
    activations of the border positions too: a channel nonzero only at the bottom-right pixel is observable at
    every kernel position through the psums, while only through the outputs it is not at five of them."""
    rng = np.random.default_rng(5)
    a = rng.integers(0, 16, (1, 8, 4, 4))
    a[:, 2] = 0
    a[0, 2, 3, 3] = 7
    w = rng.integers(-8, 8, (8, 8, 3, 3))
    with_psums = LayerChecker(_job(a, w), log=lambda m: None)
    assert [c for c, _ in with_psums.unobservable_weights()[2]] == []
    outputs_only = _job(a, w)
    del outputs_only.expected["psum"]
    hidden = LayerChecker(outputs_only, log=lambda m: None).unobservable_weights()[2]
    assert sorted(hidden) == [(2, 0), (2, 1), (2, 2), (2, 3), (2, 6)]
    for ch, k in hidden:           # each still changes a psum (compared in the first run), never an output
        bad = w.copy()
        bad[0, ch, k // 3, k % 3] += 1
        changed = _job(a, bad)
        assert not np.array_equal(changed.expected["psum"], with_psums.job.expected["psum"])
        assert np.array_equal(changed.expected["sum"], outputs_only.expected["sum"])


def test_psums_a_folder_does_not_give_observe_nothing():
    """A folder that gives kernel position 0's psums only (notebook 000's psum.txt): the other kernel positions'
    border positions are compared nowhere, so their weights count as unobservable there."""
    from types import SimpleNamespace
    rng = np.random.default_rng(5)
    a = rng.integers(0, 16, (1, 8, 4, 4))
    a[:, 2] = 0
    a[0, 2, 3, 3] = 7
    job = _job(a, rng.integers(-8, 8, (8, 8, 3, 3)))
    mask = np.zeros((1, 1, 8, 36, 9), dtype=bool)
    mask[..., 0] = True
    ck = LayerChecker(job, log=lambda m: None)
    job.folder = SimpleNamespace(psum_mask=mask)     # what unobservable_weights reads of a folder
    assert sorted(ck.unobservable_weights()[2]) == [(2, 1), (2, 2), (2, 3), (2, 6)]


def test_outputs_after_relu_alone_say_which_weights_the_clamp_hides_judged_against_a_fault():
    """A folder of after-ReLU outputs alone (the README's hand-written one): a weight whose every output it reaches
    has its sum <= 0 is hidden from a change that keeps them <= 0 (a probe: 248 of 576 sign flips passed where the
    summary named 144). Judged against a fault: each weight made 1 smaller changes no output after the ReLU
    exactly when the checker counts it (meeting only zeros, or only clamped outputs)."""
    rng = np.random.default_rng(6)
    a = rng.integers(0, 16, (1, 8, 4, 4))
    a[:, 3] = 0
    w = rng.integers(-8, 8, (8, 8, 3, 3))
    job = _job(a, w)
    del job.expected["psum"], job.expected["sum"]
    ck = LayerChecker(job, log=lambda m: None)
    assert set(ck.scoreboards) == {"relu"}
    zeros, total, _ = ck.unobservable_weights()
    clamped = ck.clamped_weights()
    pad = np.pad(a[0], ((0, 0), (1, 1), (1, 1)))
    met = [pad[:, k // 3:k // 3 + 4, k % 3:k % 3 + 4] for k in range(9)]          # (IC, 4, 4) per position
    sums = sum(np.einsum("oi,iyx->oyx", w[:, :, k // 3, k % 3], met[k]) for k in range(9))
    hidden = sum(not (np.maximum(sums[o] - met[k][i], 0) != np.maximum(sums[o], 0)).any()
                 for o in range(8) for i in range(8) for k in range(9))
    assert zeros > 0 and clamped > 0 and hidden == zeros + clamped, (zeros, clamped, hidden)
    line = [x for x in ck.summary_lines() if x.startswith("weights seen only through outputs the ReLU holds at 0")]
    assert line and line[0].split(": ")[1].startswith(f"{clamped} of {total} ")
    assert ck.report()["weights_only_through_clamped_outputs"] == clamped
    # with the sums compared too, nothing is hidden by the clamp
    job2 = _job(a, w)
    del job2.expected["psum"]
    assert LayerChecker(job2, log=lambda m: None).clamped_weights() == 0


def test_psums_of_one_kernel_position_alone_leave_the_others_weights_unobservable():
    """Kernel position 0's psums compared and no sum or output: the other positions' weights reach no value
    compared (they were counted as checked: only zero activations were said)."""
    rng = np.random.default_rng(7)
    job = _job(rng.integers(1, 16, (1, 8, 4, 4)), rng.integers(-8, 8, (8, 8, 3, 3)))
    del job.expected["sum"], job.expected["relu"]
    from types import SimpleNamespace
    mask = np.zeros((1, 1, 8, 36, 9), dtype=bool)
    mask[..., 0] = True
    ck = LayerChecker(job, log=lambda m: None)
    job.folder = SimpleNamespace(psum_mask=mask)     # what unobservable_weights reads of a folder
    n, total, pairs = ck.unobservable_weights()
    assert (n, total) == (8 * 8 * 8, 8 * 8 * 9) and sorted({k for _, k in pairs}) == list(range(1, 9))
    job.folder = None       # the count is made once (above); the summary's other lines read a real folder
    assert any(x.startswith("weights not observable: 512 of 576 reach no value compared") for x in ck.summary_lines())


def test_the_summary_says_how_wide_the_values_compared_were():
    """A core whose sums wrap above the bits the run's values need passes it (a probe: sums cut to 8 bits passed
    one image); the summary and the report say the span and its two's-complement width, kind by kind."""
    rng = np.random.default_rng(8)
    job = _job(rng.integers(0, 16, (1, 8, 4, 4)), rng.integers(-8, 8, (8, 8, 3, 3)))
    ck = LayerChecker(job, log=lambda m: None)
    ranges = ck.value_ranges()
    for kind in ("psum", "sum", "relu"):
        lo, hi, bits = ranges[kind]
        assert (lo, hi) == (int(job.expected[kind].min()), int(job.expected[kind].max()))
        assert -(1 << (bits - 1)) <= lo and hi < 1 << (bits - 1)                     # fits
        assert lo < -(1 << (bits - 2)) or hi >= 1 << (bits - 2)                     # one bit fewer does not
    assert ck.report()["value_ranges"]["sum"] == dict(zip(("min", "max", "bits"), ranges["sum"]))
    from accel_tb.env.checker import signed_bits
    assert [signed_bits(lo, hi) for lo, hi in ((0, 0), (1, 1), (-1, -1), (-2, 1), (-128, 127), (-129, 0), (0, 128))] \
        == [1, 2, 1, 2, 8, 9, 9]
    line = [x for x in ck.summary_lines() if x.startswith("expected values span ")]
    assert line and f"sum {ranges['sum'][0]}..{ranges['sum'][1]} ({ranges['sum'][2]}-bit signed)" in line[0]


def test_export_check_says_what_the_simulator_paths_say_of_a_folder(tmp_path):
    """`golden_py.export --check` (the folder alone) and the replay's checker name the same unobservable and
    clamped weights for a folder of outputs after ReLU alone and for a full one (it said neither: a probe)."""
    import torch

    from accel_tb.env.checker import job_from_folder
    from golden_py.coursefmt import read_folder, with_viz_twins, write_layer
    from golden_py.export import _unchecked_weights
    from golden_py.folder_check import check_vectors
    from golden_py.tiling import tile_layer
    g = torch.Generator().manual_seed(9)
    a = torch.randint(0, 16, (8, 4, 4), generator=g)
    a[3] = 0
    write_layer(tile_layer(a, torch.randint(-8, 8, (8, 8, 3, 3), generator=g)), tmp_path / "full")
    write_layer(tile_layer(a, torch.randint(-8, 8, (8, 8, 3, 3), generator=g)), tmp_path / "relu")
    for q in with_viz_twins(tmp_path / "relu", "psum_*.txt", "out_raw*.txt"):
        q.unlink()
    write_layer(tile_layer(a, torch.randint(-8, 8, (8, 8, 3, 3), generator=g)), tmp_path / "psums")
    for q in with_viz_twins(tmp_path / "psums", "out*.txt"):      # every psum, no outputs: sums derived from them
        q.unlink()
    for name, clamp in (("full", False), ("relu", True), ("psums", False)):
        v = read_folder(tmp_path / name)
        folder_lines = _unchecked_weights(v, check_vectors(v))
        sim_lines = [x for x in LayerChecker(job_from_folder(v), log=lambda m: None).summary_lines()
                     if x.startswith("weights ")]
        assert folder_lines == sim_lines and folder_lines[0].startswith("weights not observable: 72 of 576"), name
        assert any(x.startswith("weights seen only through outputs the ReLU holds at 0") for x in folder_lines) == clamp


def test_output_stationary_finished_sums_compared_through_relu_count_the_clamped_weights():
    """An output-stationary run of a folder of outputs alone compares the finished sums through the ReLU: the
    weights the clamp hides are counted there too (os_psum was taken for a sum comparison: 0, a review); with
    the sums given, none."""
    rng = np.random.default_rng(10)
    a, w = rng.integers(0, 16, (1, 8, 4, 4)), rng.integers(-8, 8, (8, 8, 3, 3))
    relu_only = _job(a, w)
    del relu_only.expected["psum"], relu_only.expected["sum"]
    plain = LayerChecker(relu_only, log=lambda m: None)
    finished = LayerChecker(relu_only, log=lambda m: None, kinds=())
    finished.expect_finished_sums()
    assert set(finished.scoreboards) == {"os_psum"} and finished.clamped_weights() == plain.clamped_weights() > 0
    with_sums = _job(a, w)
    del with_sums.expected["psum"]
    ck = LayerChecker(with_sums, log=lambda m: None, kinds=())
    ck.expect_finished_sums()
    assert ck.clamped_weights() == 0 and ck.value_ranges()["os_psum"][:2] == (int(with_sums.expected["sum"].min()),
                                                                               int(with_sums.expected["sum"].max()))
