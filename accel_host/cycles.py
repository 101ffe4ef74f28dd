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

from itertools import product

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
    act0 = first.act_base if first.act_fill else None
    wgt0 = first.wgt_base if first.wgt_fill else None

    def ready(base, addr):      # the first cycle the word can be read
        return 0 if base is None else addr - base + 2

    shift, t = 0, 1             # total wait so far; the next acceptance without waits
    for c in commands:
        if 0 in (c.oh, c.ow, c.n_ic):
            t += 1
            continue
        if not c.os:
            tok = t + 2
            shift = max(shift, ready(wgt0, c.wgt_base) - (t + 1))       # the preload of fold 0
            # the sequencer's order: folds (ic outer, kij inner), then positions (oy outer)
            for fold, (ic, ki, kj) in enumerate(product(range(c.n_ic), range(3), range(3))):
                for oy, ox in product(range(c.oh), range(c.ow)):
                    need = ready(act0, c.act_base + ic * c.act_stride + (oy + ki) * c.pw + ox + kj)
                    if oy == ox == 0 and fold != 9 * c.n_ic - 1:   # the next fold's weights ride along
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
            t = tok + 1         # the flush, then the next acceptance
    return shift
