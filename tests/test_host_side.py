"""The host library without a simulator: encodings, mapping, the checker's expectations and the scoreboard."""
import numpy as np
import pytest
import torch

from accel_host.config import ConfigError, CoreConfig, for_network
from accel_host.mapping import LayerShape, MappingError, WeightStationary
from accel_host.mapping.ws import Command, Issued
from accel_host.packing import pack_lanes, pack_rows, unpack_lanes
from accel_tb.checker import LayerChecker, job_from_ints
from accel_tb.scoreboard import KeyedScoreboard
from golden_py.extract import int_conv


def test_command_round_trip_and_field_limits():
    c = Command(act_base=513, act_stride=36, wgt_base=9, acc_base=3, pw=6, oh=4, ow=4, n_ic=2, relu=0, id=777)
    assert Command.unpack(c.pack()) == c
    assert (c.pack() >> 64) & 0xFF == 6 and (c.pack() >> 99) == 777    # hand-computed positions of pw and id
    with pytest.raises(ValueError, match="pw=300 does not fit 8 bits"):
        Command(0, 0, 0, 0, pw=300, oh=1, ow=1, n_ic=1).pack()


def test_word_layouts():
    assert pack_lanes([1, 2, 3, 4, 5, 6, 7, 15], 4) == 0xF7654321        # row 7 in the top nibble
    assert unpack_lanes(pack_lanes([-3, 7, -8], 4), 3, 4, signed=True) == [-3, 7, -8]
    with pytest.raises(ValueError, match="lane 1: value 16 does not fit"):
        pack_lanes([0, 16], 4)
    m = WeightStationary(CoreConfig(), LayerShape(8, 8, 1, 1))
    w = torch.zeros(1, 1, 8, 8, 9, dtype=torch.long)
    w[0, 0, 5, 2, 3] = -1                                                  # column 5, row 2, kij 3
    words = dict(m.weight_words(w, [0]))
    assert words[3] == 0xF << ((2 * 8 + 5) * 4) and all(v == 0 for k, v in words.items() if k != 3)


@pytest.mark.parametrize("width", [2, 4, 8, 5])
def test_vectorised_packer_matches_scalar(width):
    g = torch.Generator().manual_seed(width)
    lo = -(1 << (width - 1))
    lanes = torch.randint(lo, 1 << (width - 1), (5, 13), generator=g).numpy()
    assert pack_rows(lanes, width) == [pack_lanes(row.tolist(), width) for row in lanes]
    with pytest.raises(ValueError, match="do not fit"):
        pack_rows(np.array([[1 << width]]), width)


def test_expectations_equal_int_conv():
    """The checker's sums come from golden_py's tiling and equal a plain integer convolution."""
    g = torch.Generator().manual_seed(3)
    a = torch.randint(0, 16, (1, 11, 3, 3), generator=g)
    w = torch.randint(-7, 8, (10, 11, 3, 3), generator=g)
    job = job_from_ints("t", a, w, 8, 8, relu=False)
    ref = int_conv(a, w)[0].reshape(10, -1)
    ch = LayerChecker(job, streamed=WeightStationary(CoreConfig(acc_w=24), LayerShape(11, 10, 3, 3)).streamed_positions())
    for (n, o, q), vals in ch.scoreboards["sum"].expected.items():
        for c, v in enumerate(vals):
            assert v == (int(ref[o * 8 + c, q]) if o * 8 + c < 10 else 0)
    assert len(ch.scoreboards["psum"].expected) == 2 * 2 * 9 * 9    # n_oc x n_ic x kij x streamed positions


def test_mapper_rejects_what_does_not_fit():
    with pytest.raises(MappingError, match="ACC_W=16 is too narrow"):
        WeightStationary(CoreConfig(), LayerShape(64, 8, 8, 8))
    with pytest.raises(MappingError, match="ACT_DEPTH=64"):
        WeightStationary(CoreConfig(act_depth=64), LayerShape(8, 8, 30, 30))
    with pytest.raises(MappingError, match="WGT_DEPTH=8"):
        WeightStationary(CoreConfig(wgt_depth=8), LayerShape(8, 8, 4, 4))
    with pytest.raises(ConfigError, match="rows=0"):
        CoreConfig(rows=0)


def test_chunks_cover_the_layer():
    cfg = CoreConfig(acc_w=24, act_depth=300, wgt_depth=64, acc_depth=40)
    m = WeightStationary(cfg, LayerShape(12, 20, 10, 10))
    assert m.chunk_rows == 4             # 2 ic tiles x 6 padded rows x 12 = 144 <= 300; 4 x 10 <= 40
    assert m.groups == [[0, 1, 2]]
    assert m.chunks() == [(0, 4), (4, 4), (8, 2)]
    a = torch.randint(0, 16, (2, 8, 144))
    assert all(len(m.act_words(a, (y0, r))) == 2 * (r + 2) * 12 <= cfg.act_depth for y0, r in m.chunks())
    assert m.scalesim_cycles() == sum(2 * 3 * 9 * (16 + 8 + r * 10 - 2) for r in (4, 4, 2))
    assert [len(g) for g in WeightStationary(cfg.with_(wgt_depth=20), LayerShape(12, 20, 10, 10)).groups] == [1, 1, 1]
    # the keys of a chunk map back into the whole layer
    iss = Issued(image=0, oc_tile=1, y0=4)
    assert m.out_position(iss, 3) == 4 * 10 + 3 and m.psum_position(iss, 13) == 4 * 12 + 13


def test_network_configuration_is_derived_from_the_layers():
    shapes = [LayerShape(64, 64, 32, 32), LayerShape(512, 512, 2, 2), LayerShape(8, 8, 4, 4)]
    cfg = for_network(shapes, 8, 8)
    # 8 tiles x 34 x 34 activations; 64 x 64 tiles x 9 weights; 32 x 32 sums; 512 x 9 x 15 x 8 < 2^20
    assert (cfg.act_depth, cfg.wgt_depth, cfg.acc_depth, cfg.acc_w) == (16384, 65536, 1024, 21)
    for s in shapes:
        WeightStationary(cfg, s)
    big = for_network(shapes, 16, 16)
    assert (big.act_depth, big.wgt_depth) == (8192, 16384)


def test_scoreboard_catches_every_kind_of_error():
    log = []
    sb = KeyedScoreboard("psum", log=log.append)
    sb.expect_all({("a", 1): [1, 2], ("a", 2): [3, 4], ("a", 3): [5, 6]})
    assert sb.observe(("a", 1), [1, 2])
    assert not sb.observe(("a", 2), [3, 5], "10 ns")          # mismatch in lane 1
    assert not sb.observe(("a", 2), [3, 4])                   # duplicate
    assert not sb.observe(("b", 9), [0, 0])                   # never expected
    assert (sb.compared, sb.mismatches, sb.duplicates, sb.unexpected) == (4, 1, 1, 1)
    assert sb.missing == [("a", 3)] and sb.errors == 4
    assert log[0] == "psum MISMATCH ('a', 2) col=1: expected 4 got 5 at 10 ns"
    clean = KeyedScoreboard("x", log=log.append)
    clean.expect_all({1: [0]})
    assert clean.errors == 1                                   # an expectation never seen fails too
