"""MAC array: Python plays the L0 (row skew) and loads weights through the token path; every psum that
leaves the south edge is checked against the dot product of its column's weights and the activations,
including folds that switch weight buffers back to back, folds of a single token, and folds that switch
between 4-bit activations and pairs of 2-bit activations (low and high weight per PE)."""

import cocotb
import pytest
from cocotb.triggers import ReadOnly, RisingEdge, Timer

from accel_host.packing import pack_lanes
from accel_tb.design.runner import rtl_sources, run
from accel_tb.vip.sim import lanes, param, seeded_random, start


@cocotb.test()
async def test_array_folds(dut):
    rows, cols, a_w, w_w, p_w = (param(dut, n) for n in ("ROWS", "COLS", "A_W", "W_W", "PSUM_W"))
    rng = seeded_random("array")
    # a stream of folds: each fold = new weights (rows x cols) + n tokens; the first token of fold f
    # carries fold f+1's weights, a leading bubble carries fold 0's (as the sequencer does)
    h = a_w // 2

    def product(a, lo, hi, mode):
        return (a & ((1 << h) - 1)) * lo + (a >> h) * hi if mode else a * lo

    folds = []
    for f in range(16):
        n = rng.choice([1, 2, 3, 5, 9, 20])
        mode = rng.randrange(2)
        wr = (-(1 << (w_w - 1)), (1 << (w_w - 1)) - 1)
        w = [[(rng.randint(*wr), rng.randint(*wr)) for _ in range(cols)] for _ in range(rows)]   # (low, high)
        acts = [[rng.randrange(1 << a_w) for _ in range(rows)] for _ in range(n)]
        folds.append((w, acts, mode))
    tokens = []   # per cycle: (acts or None, valid, wsel, mode, wl, weights or None)
    wsel = 0
    tokens.append((None, 0, 1 - wsel, 0, 1, folds[0][0]))
    expected = []  # per valid token, in order: list of cols psums
    for f, (w, acts, mode) in enumerate(folds):
        for i, a in enumerate(acts):
            load = folds[f + 1][0] if (i == 0 and f + 1 < len(folds)) else None
            tokens.append((a, 1, wsel, mode, int(load is not None), load))
            expected.append([sum(product(a[r], *w[r][c], mode) for r in range(rows)) for c in range(cols)])
            if rng.random() < 0.2:
                tokens.append((None, 0, wsel, mode, 0, None))   # bubble inside a fold
        wsel ^= 1

    await start(dut, a_west=0, valid_west=0, wsel_west=0, mode_west=0, os_west=0, first_west=0, w_north=0, wl_west=0,
                wl_data_west=0)
    # L0 in Python: row r sees token t at cycle t + r
    total = len(tokens) + rows + cols + 4
    got_cols = [[] for _ in range(cols)]
    for cycle in range(total):
        a_vec, v_vec, s_vec, m_vec, l_vec, d_vec = [], [], [], [], [], []
        for r in range(rows):
            t = cycle - r
            acts, valid, ws, mode, wl, wts = tokens[t] if 0 <= t < len(tokens) else (None, 0, 0, 0, 0, None)
            a_vec.append(acts[r] if acts else 0)
            v_vec.append(valid)
            s_vec.append(ws)
            m_vec.append(mode)
            l_vec.append(wl)
            # row payload: PE c's low weight at lane 2c, its high weight at lane 2c+1
            d_vec.append(pack_lanes([x for pair in wts[r] for x in pair], w_w) if wts else 0)
        dut.a_west.value = pack_lanes(a_vec, a_w)
        dut.valid_west.value = pack_lanes(v_vec, 1)
        dut.wsel_west.value = pack_lanes(s_vec, 1)
        dut.wl_west.value = pack_lanes(l_vec, 1)
        dut.mode_west.value = pack_lanes(m_vec, 1)
        dut.wl_data_west.value = pack_lanes(d_vec, cols * 2 * w_w)
        await RisingEdge(dut.clk)
        await ReadOnly()
        vs = lanes(dut.valid_south.value, cols, 1)
        ps = lanes(dut.p_south.value, cols, p_w, signed_=True)
        for c in range(cols):
            assert vs[c] is not None, f"cycle {cycle}: valid_south[{c}] is X"
            if vs[c]:
                assert ps[c] is not None, f"cycle {cycle}: column {c} psum is X while valid"
                got_cols[c].append((cycle, ps[c]))
        await Timer(1, unit="ns")
    for c in range(cols):
        assert len(got_cols[c]) == len(expected), f"column {c}: {len(got_cols[c])} psums, expected {len(expected)}"
        for i, (cycle, v) in enumerate(got_cols[c]):
            assert v == expected[i][c], f"column {c}, token {i} (cycle {cycle}): got {v}, expected {expected[i][c]}"
    # column c trails column 0 by exactly c cycles
    for c in range(1, cols):
        assert got_cols[c][0][0] == got_cols[0][0][0] + c
    dut._log.info(f"{len(expected)} tokens x {cols} columns checked over {len(folds)} folds")


@cocotb.test()
async def test_array_output_stationary(dut):
    """Output-stationary blocks: row r = one output position, column c = one output channel; each step sends
    row r's activation from the west (r cycles late) and column c's weights from the north (c cycles late).
    A block's first step hands every PE's sum to the upward chain; a flush after the last block releases it.
    Every finished sum must leave the top of its column, rows in order, with nothing extra; blocks of either
    activation mode, some with bubbles, follow each other without gaps."""
    rows, cols, a_w, w_w, p_w = (param(dut, n) for n in ("ROWS", "COLS", "A_W", "W_W", "PSUM_W"))
    rng = seeded_random("array-os")
    h = a_w // 2
    wr = (-(1 << (w_w - 1)), (1 << (w_w - 1)) - 1)
    steps = []   # per cycle: (acts per row or None, valid, first, mode, weights per column (lo, hi) or None)
    expected = [[] for _ in range(cols)]
    for b in range(6):
        if b == 3:   # a flush, then (one cycle later, as the sequencer does) the next command's first block
            steps += [(None, 0, 1, 0, None), (None, 0, 0, 0, None)]
        mode = rng.randrange(2)
        n = rng.randint(2 * rows - 1, 2 * rows + 6)  # the host ensures >= 2*ROWS - 1 steps a block (Command.check)
        sums = [[0] * cols for _ in range(rows)]
        for t in range(n):
            acts = [rng.randrange(1 << a_w) for _ in range(rows)]
            wts = [(rng.randint(*wr), rng.randint(*wr)) for _ in range(cols)]
            valid = int(t == 0 or rng.random() > 0.1)
            steps.append((acts, valid, int(t == 0), mode, wts))
            if valid:
                for r in range(rows):
                    for c in range(cols):
                        lo, hi = wts[c]
                        a = acts[r]
                        sums[r][c] += (a & ((1 << h) - 1)) * lo + (a >> h) * hi if mode else a * lo
        for c in range(cols):
            expected[c] += [sums[r][c] for r in range(rows)]
    steps.append((None, 0, 1, 0, None))                   # the flush
    await start(dut, a_west=0, valid_west=0, wsel_west=0, mode_west=0, os_west=0, first_west=0, w_north=0, wl_west=0,
                wl_data_west=0)
    got = [[] for _ in range(cols)]
    for cycle in range(len(steps) + 3 * rows + cols + 8):
        a_vec, v_vec, f_vec, m_vec, o_vec, w_vec = [], [], [], [], [], []
        for r in range(rows):
            t = cycle - r
            acts, valid, first, mode, _ = steps[t] if 0 <= t < len(steps) else (None, 0, 0, 0, None)
            a_vec.append(acts[r] if acts else 0)
            v_vec.append(valid)
            f_vec.append(first)
            m_vec.append(mode)
            o_vec.append(int(0 <= t < len(steps)))
        for c in range(cols):
            t = cycle - c
            wts = steps[t][4] if 0 <= t < len(steps) and steps[t][1] else None
            w_vec += list(wts[c]) if wts else [0, 0]
        dut.a_west.value = pack_lanes(a_vec, a_w)
        dut.valid_west.value = pack_lanes(v_vec, 1)
        dut.first_west.value = pack_lanes(f_vec, 1)
        dut.mode_west.value = pack_lanes(m_vec, 1)
        dut.os_west.value = pack_lanes(o_vec, 1)
        dut.w_north.value = pack_lanes(w_vec, w_w)
        await RisingEdge(dut.clk)
        await ReadOnly()
        vs = lanes(dut.valid_north.value, cols, 1)
        ps = lanes(dut.p_north.value, cols, p_w, signed_=True)
        assert lanes(dut.valid_south.value, cols, 1) == [0] * cols, f"cycle {cycle}: a psum left the bottom in OS"
        for c in range(cols):
            if vs[c]:
                got[c].append(ps[c])
        await Timer(1, unit="ns")
    for c in range(cols):
        assert got[c] == expected[c], f"column {c}: got {got[c]}, expected {expected[c]}"
    dut._log.info(f"{len(expected[0])} sums x {cols} columns checked over 6 blocks")


@pytest.mark.parametrize("rows,cols", [(8, 8), (16, 16), (4, 8)])
def test_mac_array(rows, cols, sim):
    run(toplevel="mac_array", sources=rtl_sources("mac", "pe", "mac_array"), test_module="test_mac_array",
        parameters={"ROWS": rows, "COLS": cols}, sim=sim)
