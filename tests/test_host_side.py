"""The accelerator's host side without a simulator: encodings, mapping, and the checker itself."""
import pytest
import torch

from accel.layout import Command, CoreConfig, pack_act_word, pack_lanes, pack_weight_tile, unpack_lanes
from accel.mapper import MappingError, map_layer
from accel.netmap import chunks, pack_nibbles, plan_layer
from accel.scoreboard import KeyedScoreboard
from golden_py.extract import int_conv


def test_command_round_trip_and_field_limits():
    c = Command(act_base=513, act_stride=36, wgt_base=9, acc_base=3, pw=6, oh=4, ow=4, n_ic=2, relu=0, id=777)
    assert Command.unpack(c.pack()) == c
    assert (c.pack() >> 64) & 0xFF == 6 and (c.pack() >> 99) == 777
    with pytest.raises(ValueError, match="pw=300 does not fit 8 bits"):
        Command(0, 0, 0, 0, pw=300, oh=1, ow=1, n_ic=1).pack()


def test_word_layouts():
    cfg = CoreConfig()
    assert pack_act_word([1, 2, 3, 4, 5, 6, 7, 15], cfg) == 0xF7654321   # row 7 in the top nibble
    tile = [[0] * 8 for _ in range(8)]
    tile[5][2] = -1                                                       # column 5, row 2
    assert pack_weight_tile(tile, cfg) == 0xF << ((2 * 8 + 5) * 4)
    assert unpack_lanes(pack_lanes([-3, 7, -8], 4), 3, 4, signed=True) == [-3, 7, -8]
    with pytest.raises(ValueError, match="lane 1: value 16 does not fit"):
        pack_lanes([0, 16], 4)


def test_vectorised_packer_matches_scalar():
    g = torch.Generator().manual_seed(0)
    lanes = torch.randint(-8, 8, (5, 64), generator=g).numpy()
    assert pack_nibbles(lanes) == [pack_lanes(row.tolist(), 4) for row in lanes]


def test_plan_expectations_equal_int_conv():
    g = torch.Generator().manual_seed(3)
    a = torch.randint(0, 16, (11, 3, 3), generator=g)
    w = torch.randint(-7, 8, (10, 11, 3, 3), generator=g)
    plan = map_layer(a, w, CoreConfig(acc_w=24), relu=False)
    ref = int_conv(a[None], w)[0].reshape(10, -1)
    for (cid, addr), vals in plan.sums.items():
        o = cid - plan.commands[0].id
        for c, v in enumerate(vals):
            if o * 8 + c < 10:
                assert v == int(ref[o * 8 + c, addr])
    assert len(plan.psums) == 2 * 2 * 9 * 9    # n_oc x n_ic x kij x positions


def test_mapper_rejects_what_does_not_fit():
    a = torch.zeros(64, 8, 8, dtype=torch.long)
    w = torch.zeros(8, 64, 3, 3, dtype=torch.long)
    with pytest.raises(MappingError, match="ACC_W=16 is too narrow"):
        map_layer(a, w, CoreConfig())
    with pytest.raises(MappingError, match="act_depth"):
        map_layer(a[:8], w[:, :8], CoreConfig(act_depth=64))
    with pytest.raises(MappingError, match="outside 0..15"):
        map_layer(a[:8] + 16, w[:, :8], CoreConfig())


def test_netmap_chunks_cover_the_layer():
    cfg = CoreConfig(acc_w=24, act_depth=300, wgt_depth=64, acc_depth=40)
    g = torch.Generator().manual_seed(1)
    w = torch.randint(-7, 8, (20, 12, 3, 3), generator=g)
    a = torch.randint(0, 16, (12, 10, 10), generator=g)
    lm = plan_layer(12, 20, 10, 10, w, cfg)
    assert lm.chunk_rows == 4             # 2 ic tiles x 6 padded rows x 12 = 144 <= 300; 4 x 10 <= 40
    assert [len(ocs) for ocs, _ in lm.groups] == [3]
    chs = chunks(lm, a, lm.groups[0][0], first_id=0, relu=False)
    assert [(c.y0, c.rows) for c in chs] == [(0, 4), (4, 4), (8, 2)]
    assert all(len(c.act_words) <= cfg.act_depth for c in chs)
    assert lm.scalesim_cycles() == sum(2 * 3 * 9 * (16 + 8 + r * 10 - 2) for r in (4, 4, 2))
    small_w = CoreConfig(acc_w=24, wgt_depth=20)
    assert [len(o) for o, _ in plan_layer(12, 20, 10, 10, w, small_w).groups] == [1, 1, 1]


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
