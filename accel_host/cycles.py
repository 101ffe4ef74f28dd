"""The cycle model of each dataflow: how many cycles the core takes for a layer, from its structure.

Weight-stationary (rtl/core.v), per chunk of commands queued back to back, from the first command's
acceptance to the last result's transfer:

    cycles = tokens + (ROWS + COLS + 5) + 2 * (commands - 1)

- tokens: one per streamed position and fold; folds overlap (the next fold's weights ride on the current
  fold's first token), so the array takes one token per cycle without a gap;
- ROWS + COLS + 5: the pipeline, filled once per chunk: the command FIFO and the sequencer's accept and
  weight-preload cycles, the SRAM read, the array's input register (tok_q in rtl/core.v), the systolic skew
  and traversal (ROWS + COLS - 1: row r starts r cycles late, column c's psum leaves c cycles after column
  0's), the SFU's read and add, and the output FIFO (the OFIFO passes a vector whose last column arrives
  into an empty column FIFO straight to the SFU: no cycle of its own);
- 2 per further command: the sequencer returns to idle after a command's last fold and spends one cycle
  accepting the next and one preloading its first weights.

Without back-pressure the core meets the model exactly (layer 27 on 8x8: 144 + 21 = 165; the 2a4w layer 27,
two commands of 144 tokens: 288 + 21 + 2 = 311). It is the bound of the performance guard: a change that
loses the fold overlap, or adds a pipeline stage, exceeds it.
"""
from __future__ import annotations

import numpy as np

from .config import CoreConfig


def ws_pipeline(cfg: CoreConfig) -> int:
    return cfg.rows + cfg.cols + 5


def ws_chunk_cycles(cfg: CoreConfig, tokens: int, commands: int) -> int:
    return tokens + ws_pipeline(cfg) + 2 * (commands - 1)


def check_bound(measured: float, bound: float, what: str) -> str | None:
    """The guard: None when measured <= bound, else the violation in words."""
    if measured <= bound:
        return None
    return f"{what}: {measured:.0f} cycles exceed the design's bound of {bound:.0f} (+{measured - bound:.0f})"


def os_chunk_cycles(cfg: CoreConfig, steps: int, commands: int, last_rows: int) -> int:
    """Output-stationary (rtl/sequencer.v, pe.v), per chunk of commands queued back to back, from the first
    command's acceptance to the last result's transfer:

        commands * (steps + 2) - 1 + 2 * (last_rows - 1) + COLS + 5

    - steps: blocks x 9 x channel steps per command, one token per cycle (a block's drain overlaps the next
      block's steps); 2 more per command: the sequencer accepts it, and flushes its last block;
    - 2 * (last_rows - 1): the last block's row r starts r cycles late (the skew) and its sum then climbs r
      rows of the drain chain;
    - COLS + 5: the token register, the array's input register (tok_q), the column skew, the load into the
      chain, the SFU's read and add, the output FIFO (the OFIFO passes a vector straight through, as above)."""
    return commands * (steps + 2) - 1 + 2 * (last_rows - 1) + cfg.cols + 5


def per_image(model_cycles: int, fill_cycles: int, images: int) -> float:
    """A layer's model per image with the waits of its runs' filling steps (fill_delay, summed over the runs)
    spread over the images: one division, as the measured cycles per image (a sum over the images divided by
    their number), so that a bound equal to the cycles stays equal rather than a rounding above or below."""
    return (model_cycles * images + fill_cycles) / images


def fill_delay(commands) -> int:
    """Cycles a step waits for its words when its first command starts fills (act_fill, wgt_fill: rtl/core.v).
    The host sends that command first and then, from the next cycle, one word per cycle on each memory port in
    address order from the command's act_base (wgt_base): with the command taken at cycle 0, word i of a fill
    can be read from cycle i + 2. Without waits the sequencer accepts the first command at cycle 1; a
    weight-stationary command preloads fold 0's weights the cycle after its acceptance and issues a token per
    cycle from the next, an output-stationary one issues from the cycle after its acceptance and flushes after
    its last step; the next command is accepted the cycle after (an empty one is dropped as it is accepted).
    Each token waits for its activation word and for the weight word it reads (a WS fold's first token reads
    the next fold's weights, the preload fold 0's; an OS step its own), and a wait delays every later token by
    as much: the sum of the waits is added to the step's cycles, the rest of the model unchanged. Commands
    without fills (or a step whose first command starts none) wait for nothing: 0."""
    if not commands or not (commands[0].act_fill or commands[0].wgt_fill):
        return 0
    first = commands[0]
    # word i of a fill is readable from cycle i + 2, so an address's word from cycle address + lead; a port
    # without a fill waits for nothing (its words were there before the command)
    act_lead = 2 - first.act_base if first.act_fill else None
    wgt_lead = 2 - first.wgt_base if first.wgt_fill else None
    # every token's wait is a need minus its cycle, a sum of a term per loop level, so the largest wait of a
    # command is the sum of each level's largest term (one pass per level, not per token: the network's
    # first steps run up to 590 k tokens, and the loop per token took 1.07 s of every network run)
    shift, t = 0, 1             # total wait so far; the next acceptance without waits
    for c in commands:
        if 0 in (c.oh, c.ow, c.n_ic):
            t += 1
            continue
        folds = 9 * c.n_ic
        if not c.os:
            tok = t + 2         # token k = fold * positions + position issues at tok + k
            positions = c.oh * c.ow
            if wgt_lead is not None:
                # the preload of fold 0 at t + 1; the next fold's weights ride on each fold's first token
                # (word wgt_base + fold + 1 at tok + fold * positions), whose wait is largest at fold 0 and
                # there equals the preload's
                shift = max(shift, wgt_lead + c.wgt_base - (t + 1))
            if act_lead is not None:
                # the sequencer's order: folds (ic outer, kij inner), then positions (oy outer); a token
                # reads act_base + ic * act_stride + (oy + ki) * pw + ox + kj
                ic, ki, kj = np.ix_(np.arange(c.n_ic), np.arange(3), np.arange(3))
                fold_term = (ic * c.act_stride + ki * c.pw + kj).ravel() - np.arange(folds) * positions
                oy, ox = np.ix_(np.arange(c.oh), np.arange(c.ow))
                pos_term = (oy * c.pw + ox).ravel() - np.arange(positions)
                shift = max(shift, act_lead + c.act_base - tok + int(fold_term.max()) + int(pos_term.max()))
            t = tok + folds * positions
        else:
            tok = t + 1         # block b's step s issues at tok + b * folds + s and reads act_base +
            # b * act_stride + s and wgt_base + s: the step cancels, the block's term is largest at an end
            if act_lead is not None:
                shift = max(shift, act_lead + c.act_base - tok + max(0, (c.oh - 1) * (c.act_stride - folds)))
            if wgt_lead is not None:
                shift = max(shift, wgt_lead + c.wgt_base - tok)
            t = tok + c.oh * folds + 1  # the flush, then the next acceptance
    return shift
