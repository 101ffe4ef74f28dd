"""MAC array: Python plays the L0 (row skew) and the sequencer's reads: weight tiles are written into the
array's weight banks, and each weight-load token is preceded by a preload read of its tile, which reaches every
PE through its anti-diagonal's bank; every psum that leaves the south edge is checked against the dot product
of its column's weights and the activations, including folds that switch weight buffers back to back, folds
of a single token, and folds that switch between 4-bit activations and pairs of 2-bit activations (low and
high weight per PE). The output-stationary test reads each step's weights from the banks too (wgt_north).
A token's activation and valid bit enter per row, skewed; its control (wsel, mode, os, first, wl) enters once,
with row 0's (the array passes it down its anti-diagonals)."""

import cocotb
import pytest
from cocotb.triggers import ReadOnly, RisingEdge, Timer

from accel_host.packing import pack_lanes
from accel_tb.design.runner import rtl_sources, run
from accel_tb.vip.sim import drive, lanes, param, seeded_random, start

IDLE = dict(a_west=0, valid_west=0, wsel_in=0, mode_in=0, os_in=0, first_in=0, w_north=0, wl_in=0,
            wgt_we=0, wgt_waddr=0, wgt_wdata=0, wgt_pre=0, wgt_steps=0, wgt_raddr=0)


def tile_word(w, rows, cols, w_w):
    """A weight word: PE (r, c)'s low weight at lane r*cols+c, its high weight rows*cols lanes above."""
    return pack_lanes([w[r][c][0] for r in range(rows) for c in range(cols)] +
                      [w[r][c][1] for r in range(rows) for c in range(cols)], w_w)


async def write_words(dut, words):
    """Host writes, one word per cycle, at addresses 0, 1, ..."""
    for addr, word in enumerate(words):
        drive(dut, wgt_we=1, wgt_waddr=addr, wgt_wdata=word)
        await RisingEdge(dut.clk)
    drive(dut, wgt_we=0)


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
    tokens = []   # per cycle: (acts or None, valid, wsel, mode, wl, tile address or None)
    wsel = 0
    tokens.append((None, 0, 0, 0, 0, None))               # idle: the cycles of the first preload read (the
    tokens.append((None, 0, 0, 0, 0, None))               # sequencer's, and bank 0's a cycle later)
    tokens.append((None, 0, 1 - wsel, 0, 1, 0))
    expected = []  # per valid token, in order: list of cols psums
    # one fold ends in a run of bubbles longer than a preload's way down the banks (rows + cols + 2 cycles), so the
    # stream always has cycles between one preload's arrival and the next preload's read at any array size (the
    # folds alone leave none between preloads at 16x16 but by chance); the stray reads below need them
    nd = rows + cols - 1
    gap_fold = len(folds) // 2
    for f, (w, acts, mode) in enumerate(folds):
        for i, a in enumerate(acts):
            load = f + 1 if (i == 0 and f + 1 < len(folds)) else None
            tokens.append((a, 1, wsel, mode, int(load is not None), load))
            expected.append([sum(product(a[r], *w[r][c], mode) for r in range(rows)) for c in range(cols)])
            if rng.random() < 0.2:
                tokens.append((None, 0, wsel, mode, 0, None))   # bubble inside a fold
        if f == gap_fold:
            tokens += [(None, 0, wsel, mode, 0, None)] * (nd + 10)
        wsel ^= 1

    await start(dut, **IDLE)
    await write_words(dut, [tile_word(w, rows, cols, w_w) for w, _, _ in folds])
    # L0 in Python: row r sees token t's activation and valid at cycle t + r, its control enters with row 0's;
    # a loading token's preload is asked for two cycles before
    # row 0 sees it: bank 0 reads the tile a cycle later (its read registered like the core's token lanes, tok_q),
    # bank d d cycles after bank 0, for the PEs of diagonal d
    total = len(tokens) + rows + cols + 4
    # between preloads the banks also read other words (wgt_steps, as output-stationary steps do): their data
    # reaches every PE's weight input, and only a weight-load token may take it (a PE that loaded on every cycle
    # would store those words in the buffer its next fold uses). Never while a preload is on its way down the
    # banks: a step read there would replace the preload's word, which the core never does
    pre_cycles = [c for c in range(len(tokens)) if c + 2 < len(tokens) and tokens[c + 2][5] is not None]
    busy = {c for p in pre_cycles for c in range(p, p + nd + 3)}
    stray = {c: rng.randrange(len(folds)) for c in range(total) if c not in busy and rng.random() < 0.3}
    # and always one in the gap's last free cycle, after any drawn there, of a word other than the next fold's: the
    # bank data the next fold's PEs see just before its first token, so a PE that loads on every cycle fails the
    # values (the next preload, for the fold after, reads from the cycle after)
    next_pre = min(p for p in pre_cycles if tokens[p + 2][5] == gap_fold + 2)
    last_free = max(c for c in range(next_pre) if c not in busy)
    assert tokens[last_free][0] is None, "the gap's last free cycle is not in its bubbles"
    stray[last_free] = next(a for a in range(len(folds)) if folds[a][0] != folds[gap_fold + 1][0])
    got_cols = [[] for _ in range(cols)]
    for cycle in range(total):
        a_vec, v_vec = [], []
        for r in range(rows):
            t = cycle - r
            acts, valid = tokens[t][:2] if 0 <= t < len(tokens) else (None, 0)
            a_vec.append(acts[r] if acts else 0)
            v_vec.append(valid)
        _, _, ws, mode, wl, _ = tokens[cycle] if cycle < len(tokens) else (None, 0, 0, 0, 0, None)
        nxt = tokens[cycle + 2] if cycle + 2 < len(tokens) else None
        dut.wgt_pre.value = int(nxt is not None and nxt[5] is not None)
        dut.wgt_steps.value = int(cycle in stray)
        dut.wgt_raddr.value = (stray[cycle] if cycle in stray else
                               nxt[5] if nxt is not None and nxt[5] is not None else 0)
        dut.a_west.value = pack_lanes(a_vec, a_w)
        dut.valid_west.value = pack_lanes(v_vec, 1)
        drive(dut, wsel_in=ws, wl_in=wl, mode_in=mode)
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
    dut._log.info(f"{len(expected)} tokens x {cols} columns checked over {len(folds)} folds, "
                  f"{len(stray)} stray bank reads between preloads")


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
    await start(dut, **IDLE)
    # every valid step's word (column c's {high, low} at lanes 2c, 2c+1) in the banks, read back the cycle
    # before the step enters row 0 (wgt_steps); the north edge gets wgt_north skewed by column, as the core does
    addr = {t: i for i, t in enumerate(t for t in range(len(steps)) if steps[t][1])}
    await write_words(dut, [pack_lanes([x for wc in steps[t][4] for x in wc] + [0] * (2 * rows * cols - 2 * cols), w_w)
                            for t in addr])
    drive(dut, wgt_steps=int(0 in addr), wgt_raddr=addr.get(0, 0))     # step 0's read
    await RisingEdge(dut.clk)
    await ReadOnly()
    await Timer(1, unit="ns")
    north = {}    # cycle -> the word wgt_north shows in it
    got = [[] for _ in range(cols)]
    for cycle in range(len(steps) + 3 * rows + cols + 8):
        north[cycle] = int(dut.wgt_north.value)
        dut.wgt_steps.value = int(cycle + 1 in addr)
        dut.wgt_raddr.value = addr.get(cycle + 1, 0)
        a_vec, v_vec, w_vec = [], [], []
        for r in range(rows):
            t = cycle - r
            acts, valid = steps[t][:2] if 0 <= t < len(steps) else (None, 0)
            a_vec.append(acts[r] if acts else 0)
            v_vec.append(valid)
        _, _, first, mode, _ = steps[cycle] if cycle < len(steps) else (None, 0, 0, 0, None)
        for c in range(cols):
            t = cycle - c
            word = north[t] if 0 <= t < len(steps) and steps[t][1] else 0
            w_vec += [(word >> (2 * c * w_w)) & ((1 << w_w) - 1), (word >> ((2 * c + 1) * w_w)) & ((1 << w_w) - 1)]
        dut.a_west.value = pack_lanes(a_vec, a_w)
        dut.valid_west.value = pack_lanes(v_vec, 1)
        drive(dut, first_in=first, mode_in=mode, os_in=int(cycle < len(steps)))
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


@pytest.mark.parametrize("rows,cols", [(8, 8), (16, 16), (4, 8), (1, 4)])
def test_mac_array(rows, cols, sim):
    run(toplevel="mac_array", sources=rtl_sources("mac", "pe", "sram_1r1w", "mac_array"), test_module="test_mac_array",
        parameters={"ROWS": rows, "COLS": cols}, sim=sim)
