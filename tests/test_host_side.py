"""The host library without a simulator: encodings, mapping, the checker's expectations and the scoreboard."""
import numpy as np
import pytest
import torch

from accel_host.config import ConfigError, CoreConfig, for_network
from accel_host.mapping import Command, Issued, LayerShape, Layout, MappingError, WeightStationary
from accel_host.packing import pack_lanes, pack_rows, unpack_lanes
from accel_tb.env.checker import LayerChecker, job_from_ints
from accel_tb.vip.scoreboard import KeyedScoreboard
from golden_py.extract import int_conv


def test_command_round_trip_and_field_limits():
    c = Command(act_base=513, act_stride=36, wgt_base=9, acc_base=3, pw=6, oh=4, ow=4, n_ic=2, relu=0, id=777)
    assert Command.unpack(c.pack()) == c
    # hand-computed positions of pw (64), id (101: after n_ic's 10 bits and relu/clear/emit) and os (118)
    assert (c.pack() >> 64) & 0xFF == 6 and (c.pack() >> 101) & 0xFFFF == 777 and c.pack() >> 118 == 0
    assert Command(0, 0, 0, 0, 0, 1, 1, 1, os=1).pack() >> 118 == 1
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


@pytest.mark.parametrize("rows,cols,ic,oc,n", [(8, 8, 11, 10, 2), (16, 4, 3, 9, 1), (2, 2, 5, 7, 3)])
def test_outputs_without_psums_equal_the_tiled_reference(rows, cols, ic, oc, n):
    """The whole network asks for no psums and gets its sums from one convolution (job_from_ints' fast path):
    the same values, padded channels zero, as the sums of the tiled psums -- at extreme values too."""
    g = torch.Generator().manual_seed(rows * 100 + ic)
    a = torch.randint(0, 16, (n, ic, 5, 3), generator=g)
    w = torch.randint(-8, 8, (oc, ic, 3, 3), generator=g)
    a[0, :, 0, 0], w[0] = 15, -8        # the largest magnitudes in one corner
    fast, tiled = (job_from_ints("t", a, w, rows, cols, psums=p) for p in (False, True))
    assert "psum" not in fast.expected and "psum" in tiled.expected
    for kind in ("sum", "relu"):
        assert fast.expected[kind].shape == tiled.expected[kind].shape
        assert np.array_equal(fast.expected[kind], tiled.expected[kind])


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


# ------------------------------------------------------------------------------------------ output-stationary
def _os_array_model(m, job):
    """What the OS array computes from the mapping's memory words and commands, in plain Python: PE (r, c)
    sums, over the T steps of a block, the activation in lane r times column c's weight (2-bit: both
    halves, each with its own weight). Returns {(oc tile, position): [COLS sums]}."""
    from accel_host.packing import unpack_lanes
    cfg, out = m.cfg, {}
    for group in m.groups:
        wmem = dict(m.weight_words(job.w_tiles, group))
        for chunk in m.chunks():
            amem = dict(m.act_words(job.a_tiles[0], chunk))
            for cmd, issued in m.issue(group, chunk, 0, True, 0):
                for b in range(cmd.oh):
                    rows = cfg.rows if b < cmd.oh - 1 else cmd.ow
                    acc = np.zeros((rows, cfg.cols), np.int64)
                    for t in range(9 * cmd.n_ic):
                        a = unpack_lanes(amem[cmd.act_base + b * cmd.act_stride + t], cfg.rows, cfg.a_w, signed=False)
                        w = unpack_lanes(wmem[cmd.wgt_base + t], 2 * cfg.cols, cfg.w_w, signed=True)
                        for r in range(rows):
                            for c in range(cfg.cols):
                                if m.lanes == 1:
                                    acc[r, c] += a[r] * w[2 * c]
                                else:
                                    lo, hi = a[r] & 3, a[r] >> 2
                                    acc[r, c] += lo * w[2 * c] + hi * w[2 * c + 1]
                    for r in range(rows):
                        pos = m.out_position(issued, cmd.acc_base + b * cfg.rows + r)   # the SFU's address
                        assert m.finished_position(issued, b, r) == pos                # the psum port's tag
                        out[(issued.oc_tile, pos)] = acc[r].tolist()
    return out


@pytest.mark.parametrize("offsets", [(0, 0, 0), (7, 5, 3)], ids=["no_offsets", "offsets"])
@pytest.mark.parametrize("a_bits,ic,oc,side", [(4, 3, 10, 5), (4, 20, 8, 3), (2, 5, 9, 4), (2, 33, 3, 2)])
def test_os_mapping_computes_the_conv(a_bits, ic, oc, side, offsets):
    """The OS words and commands, run through a plain-Python model of the array, give the integer conv of
    the layer at every position and output channel (partial last blocks, several oc tiles and chunks), with
    the layout's activation, weight and accumulator offsets too."""
    from accel_host.mapping import OutputStationary
    g = torch.Generator().manual_seed(ic * 100 + oc)
    a = torch.randint(0, 1 << a_bits, (1, ic, side, side), generator=g)
    w = torch.randint(-8, 8, (oc, ic, 3, 3), generator=g)
    lanes = 4 // a_bits
    t = 9 * -(-ic // lanes)                                 # steps per block
    act_off, wgt_off, acc_off = offsets
    cfg = CoreConfig(act_depth=act_off + 2 * t, wgt_depth=512)   # ACT_DEPTH for two blocks: several chunks
    rows = cfg.rows * lanes
    job = job_from_ints("os", a, w, rows, cfg.cols, relu=True, a_bits=a_bits)
    m = OutputStationary(cfg, LayerShape(ic, oc, side, side), a_bits=a_bits,
                         layout=Layout(act_offset=act_off, wgt_offset=wgt_off, acc_offset=acc_off))
    assert m.chunk_blocks == min(2, m.blocks)
    got = _os_array_model(m, job)
    ref = int_conv(a, w)[0]                                 # (oc, side, side)
    assert len(got) == m.n_oc * side * side
    for (o, p), sums in got.items():
        y, x = divmod(p, side)
        want = [int(ref[o * cfg.cols + c, y, x]) if o * cfg.cols + c < oc else 0 for c in range(cfg.cols)]
        assert sums == want, (o, p)


def test_os_mapping_rejects_what_does_not_fit():
    from accel_host.mapping import OutputStationary
    with pytest.raises(MappingError, match="needs at least 15"):        # 9 steps per block < 2*8-1
        OutputStationary(CoreConfig(), LayerShape(1, 8, 4, 4))
    with pytest.raises(MappingError, match="PSUM_W=16 is too narrow"):  # 64*9*15*8 = 69120 >= 2^15
        OutputStationary(CoreConfig(acc_w=24), LayerShape(64, 8, 4, 4))
    with pytest.raises(MappingError, match="WGT_DEPTH=256"):            # 9*32 steps per tile
        OutputStationary(CoreConfig(psum_w=24, acc_w=24), LayerShape(32, 8, 4, 4))
    with pytest.raises(MappingError, match=r"WGT_DEPTH=256 \(from offset 200\)"):   # 9*8 words from 200
        OutputStationary(CoreConfig(psum_w=24, acc_w=24), LayerShape(8, 8, 4, 4), layout=Layout(wgt_offset=200))
    with pytest.raises(MappingError, match=r"ACC_DEPTH=256 \(from offsets 0, 250\)"):   # 8 sums from 250
        OutputStationary(CoreConfig(psum_w=24, acc_w=24), LayerShape(8, 8, 4, 4), layout=Layout(acc_offset=250))
    with pytest.raises(MappingError, match=r"ACT_DEPTH=256, ACC_DEPTH=256 \(from offsets 250, 0\)"):  # 18 words
        OutputStationary(CoreConfig(psum_w=24, acc_w=24, act_depth=256), LayerShape(2, 8, 4, 4),
                         layout=Layout(act_offset=250))
    with pytest.raises(MappingError, match="offsets only"):
        OutputStationary(CoreConfig(psum_w=24, acc_w=24), LayerShape(8, 8, 4, 4), layout=Layout(split_ic=True))
    with pytest.raises(ConfigError, match="acc_w=16 < psum_w=24"):
        CoreConfig(psum_w=24)


def test_auto_picks_the_faster_model():
    from accel_host.mapping import OutputStationary, mapping
    cfg = CoreConfig(psum_w=24, acc_w=24, wgt_depth=4096)
    for shape in (LayerShape(8, 8, 4, 4), LayerShape(64, 64, 16, 16), LayerShape(8, 512, 4, 4)):
        ws, os_ = WeightStationary(cfg, shape), OutputStationary(cfg, shape)
        best = min((ws, os_), key=lambda m: m.model_cycles())
        assert type(mapping(cfg, shape, dataflow="auto")) is type(best)
    assert type(mapping(CoreConfig(), LayerShape(1, 8, 4, 4), dataflow="auto")) is WeightStationary   # OS can't


def test_unfit_output_stationary_command_is_refused_before_it_is_sent():
    """Command.check: an OS command whose last block has more positions than the array has rows would be
    dropped by the core (formal/core.sby showed it over-reserving credits), so the host refuses it; every
    command the OS mapper makes for a layer passes."""
    from accel_host.mapping import Command
    ok = Command(act_base=0, act_stride=9, wgt_base=0, acc_base=0, pw=0, oh=2, ow=8, n_ic=2, os=1)
    ok.check(8)
    with pytest.raises(ValueError, match="ow=9 exceeds the array's 8 rows"):
        Command(**{**ok.__dict__, "ow": 9}).check(8)
    Command(**{**ok.__dict__, "ow": 9, "os": 0}).check(8)   # weight-stationary: ow is a row width
    Command(**{**ok.__dict__, "ow": 9, "n_ic": 0}).check(8)  # empty: the core drops it, nothing to refuse


def test_short_output_stationary_blocks_are_refused_before_they_are_sent():
    """Command.check: OS blocks of fewer than 2 * ROWS - 1 steps (9 * n_ic) let the next release meet a sum
    climbing the drain chain; the host refuses them at the array sizes where that can happen, and every
    channel count the OS mapper accepts (min_channels) passes."""
    from accel_host.mapping import Command
    from accel_host.mapping.os import min_channels
    base = Command(act_base=0, act_stride=9, wgt_base=0, acc_base=0, pw=0, oh=2, ow=1, n_ic=1, os=1)
    base.check(4)                                               # 9 steps >= 2 * 4 - 1
    base.check(5)                                               # 9 >= 9
    with pytest.raises(ValueError, match=r"n_ic=1 gives blocks of 9 steps, fewer than the 11"):
        base.check(6)
    with pytest.raises(ValueError, match=r"n_ic=3 gives blocks of 27 steps, fewer than the 31"):
        Command(**{**base.__dict__, "n_ic": 3}).check(16)
    with pytest.raises(ValueError, match=r"n_ic=2 gives blocks of 18 steps, fewer than the 19"):   # 2*10-2: collides
        Command(**{**base.__dict__, "n_ic": 2}).check(10)
    Command(**{**base.__dict__, "n_ic": 3}).check(10)           # 27 >= 19
    Command(**{**base.__dict__, "n_ic": 3, "os": 0}).check(16)  # weight-stationary: no drain chain
    for rows in (2, 4, 8, 16, 32, 64):
        for a_w, a_bits in ((4, 4), (4, 2)):
            steps = min_channels(rows, a_w, a_bits) // (a_w // a_bits)     # channel steps per kernel position
            Command(**{**base.__dict__, "n_ic": steps}).check(rows)


def _fill_delay_per_token(commands) -> int:
    """accel_host.cycles.fill_delay as it was first written, a loop over every token in the sequencer's order:
    the oracle for the closed form (each wait a need minus the token's cycle, the largest one kept)."""
    from itertools import product
    if not commands or not (commands[0].act_fill or commands[0].wgt_fill):
        return 0
    act0 = commands[0].act_base if commands[0].act_fill else None
    wgt0 = commands[0].wgt_base if commands[0].wgt_fill else None

    def ready(base, addr):
        return 0 if base is None else addr - base + 2

    shift, t = 0, 1
    for c in commands:
        if 0 in (c.oh, c.ow, c.n_ic):
            t += 1
            continue
        if not c.os:
            tok = t + 2
            shift = max(shift, ready(wgt0, c.wgt_base) - (t + 1))
            for fold, (ic, ki, kj) in enumerate(product(range(c.n_ic), range(3), range(3))):
                for oy, ox in product(range(c.oh), range(c.ow)):
                    need = ready(act0, c.act_base + ic * c.act_stride + (oy + ki) * c.pw + ox + kj)
                    if oy == ox == 0 and fold != 9 * c.n_ic - 1:
                        need = max(need, ready(wgt0, c.wgt_base + fold + 1))
                    shift = max(shift, need - tok)
                    tok += 1
            t = tok
        else:
            tok = t + 1
            for blk in range(c.oh):
                for step in range(9 * c.n_ic):
                    need = max(ready(act0, c.act_base + blk * c.act_stride + step), ready(wgt0, c.wgt_base + step))
                    shift = max(shift, need - tok)
                    tok += 1
            t = tok + 1
    return shift


def test_fill_delay_equals_the_per_token_loop():
    """fill_delay takes each loop level's largest term instead of visiting every token; the per-token loop
    must agree on drawn command lists (both dataflows, fills of either port or both, empty commands, bases
    ahead of and behind the fill's) and on the first steps the mappers make for layer shapes of both dataflows."""
    import dataclasses
    import random

    from accel_host.cycles import fill_delay
    from accel_host.mapping import OutputStationary
    rng = random.Random(36)
    waited = 0
    for _ in range(3000):
        cmds = [Command(act_base=rng.randrange(48), act_stride=rng.randrange(40), wgt_base=rng.randrange(24),
                        acc_base=0, pw=rng.randrange(12), oh=rng.randrange(5), ow=rng.randrange(5),
                        n_ic=rng.randrange(4), os=rng.randrange(2)) for _ in range(rng.randrange(1, 4))]
        cmds[0] = dataclasses.replace(cmds[0], act_fill=rng.randrange(2), wgt_fill=rng.randrange(2))
        want = _fill_delay_per_token(cmds)
        assert fill_delay(cmds) == want, cmds
        waited += want > 0
    assert waited > 500          # the draws reach the waits, not only the zeros
    cfg = CoreConfig(psum_w=24, acc_w=24, wgt_depth=4096)
    for shape in (LayerShape(8, 8, 6, 6), LayerShape(16, 8, 4, 4), LayerShape(64, 16, 8, 8), LayerShape(8, 64, 4, 4)):
        for kind in (WeightStationary, OutputStationary):
            m = kind(cfg, shape)
            for wgt_fill in (0, 1):
                cmds = [c for c, _ in m.issue(m.groups[0], m.chunks()[0], 0, True, image=0)]
                cmds[0] = dataclasses.replace(cmds[0], act_fill=1, wgt_fill=wgt_fill)
                assert fill_delay(cmds) == _fill_delay_per_token(cmds), (shape, kind.__name__, wgt_fill)
