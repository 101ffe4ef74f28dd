"""accel-network --corrupt-layer's weight (accel_tb.cocotb_tests.network.corrupt_weight_tile): one that changes an
output of the run's images, or none (the run then fails: no negative test was made). A fixed weight (input channel
2, kernel position 4 of output channel 5) met only zero activations on some images, and the negative passed."""
import numpy as np

from accel_tb.cocotb_tests.network import corrupt_weight_tile
from accel_tb.env.checker import job_from_ints


def _flip_reaches_an_output(job, a, w, before):
    """Whether the job's weights as corrupted give other outputs (after ReLU) than `before`'s."""
    diff = np.argwhere(job.w_tiles != before)
    assert len(diff) == 1, diff
    _, _, c, r, k = diff[0]
    w2 = w.copy()
    w2[c, r, k // 3, k % 3] = job.w_tiles[tuple(diff[0])]
    out = [np.maximum(job_from_ints("t", a, x, 8, 8, relu=False, psums=False).expected["sum"], 0) for x in (w, w2)]
    return (out[0] != out[1]).any()


def test_the_weight_corrupted_changes_an_output_where_the_old_one_met_only_zeros():
    rng = np.random.default_rng(3)
    a = rng.integers(0, 16, (1, 8, 4, 4))
    w = rng.integers(-8, 8, (8, 8, 3, 3))
    a[:, 2] = 0                     # the old weight's input channel: only zeros
    job = job_from_ints("t", a, w, 8, 8, relu=True, psums=False)
    before = job.w_tiles.copy()
    what = corrupt_weight_tile(job, a, w)
    assert what is not None and "input channel 2" not in what and "output channel 5" in what, what
    assert _flip_reaches_an_output(job, a, w, before)


def test_the_old_weight_is_kept_where_it_reaches_an_output():
    rng = np.random.default_rng(4)
    a = rng.integers(1, 16, (1, 8, 4, 4))
    w = rng.integers(-8, 8, (8, 8, 3, 3))
    w[5] = np.abs(w[5])             # channel 5's sums positive: nothing clamped
    job = job_from_ints("t", a, w, 8, 8, relu=True, psums=False)
    assert corrupt_weight_tile(job, a, w) == "input channel 2, output channel 5, kernel position 4"


def test_no_weight_is_corrupted_when_none_can_be_seen():
    """Every activation 0: no weight changes an output; the function says so and changes nothing."""
    a = np.zeros((1, 8, 4, 4), dtype=np.int64)
    w = np.random.default_rng(5).integers(-8, 8, (8, 8, 3, 3))
    job = job_from_ints("t", a, w, 8, 8, relu=True, psums=False)
    before = job.w_tiles.copy()
    assert corrupt_weight_tile(job, a, w) is None and (job.w_tiles == before).all()


def test_a_narrow_array_corrupts_a_channel_of_its_first_tile():
    """--cols 4: output channel 5 is in the second tile; the weight is taken from the first tile's last column
    (index 5 of a 4-wide tile raised IndexError, a review), else another of the tile's columns (on this seed
    channel 3's sums are all clamped)."""
    rng = np.random.default_rng(6)
    a, w = rng.integers(1, 16, (1, 8, 4, 4)), rng.integers(-8, 8, (8, 8, 3, 3))
    job = job_from_ints("t", a, w, 4, 4, relu=True, psums=False)
    before = job.w_tiles.copy()
    what = corrupt_weight_tile(job, a, w)
    assert what is not None and "output channel 3" not in what and _flip_reaches_an_output(job, a, w, before), what
    w[3] = np.abs(w[3])             # channel 3's sums positive: the first choice shows
    job = job_from_ints("t", a, w, 4, 4, relu=True, psums=False)
    assert "output channel 3" in corrupt_weight_tile(job, a, w)
