"""The output-stationary psum port's finished sums (accel_tb.env.checker expect_finished_sums / finished_sum): compared
with the sums, or with the outputs through ReLU when only outputs are given, and said to be unchecked (tags
only) when neither is; a wrong value or a wrong tag fails."""
import torch

from accel_tb.env.checker import LayerChecker, job_from_ints


def _job(drop=()):
    g = torch.Generator().manual_seed(5)
    a = torch.randint(0, 16, (1, 8, 2, 2), generator=g)
    w = torch.randint(-8, 8, (8, 8, 3, 3), generator=g)
    job = job_from_ints("t", a, w, 8, 8, relu=True, psums=False)
    for k in drop:
        del job.expected[k]
    return job


def _feed(ck, job, bump=0):
    for q in range(job.height * job.width):
        sums = job.expected_raw[0, 0, :, q].tolist()       # what a right core's psum port carries
        ck.finished_sum(0, 0, q, [v + (bump if q == 0 and c == 0 else 0) for c, v in enumerate(sums)])


def test_finished_sums_compared_with_sums_or_outputs():
    for drop in ((), ("sum",)):
        job = _job(drop)
        job.expected_raw = _job().expected["sum"]
        ck = LayerChecker(job, log=lambda m: None)
        ck.expect_finished_sums()
        _feed(ck, job)
        sb = ck.scoreboards["os_psum"]
        assert sb.compared == 4 * 8 and sb.errors == 0, (drop, sb.summary())
        bad = LayerChecker(job, log=lambda m: None)
        bad.expect_finished_sums()
        _feed(bad, job, bump=1000)           # a positive sum off by 1000: wrong before and after ReLU
        assert bad.scoreboards["os_psum"].mismatches == 1, drop


def test_finished_sums_without_expectations_are_reported_unchecked_and_tags_still_count():
    job = _job(("sum", "relu"))
    job.expected_raw = _job().expected["sum"]
    ck = LayerChecker(job, log=lambda m: None)
    ck.expect_finished_sums()
    _feed(ck, job)
    assert ck.report()["not_checked"]["os_psum values"].startswith("no sums or outputs")
    assert any(l.startswith("os_psum: values not checked") for l in ck.summary_lines())
    ck.unexpected("os_psum", "vector tagged kij=3", [0] * 8)      # a wrong tag (the adapter's call)
    assert ck.errors == 1
