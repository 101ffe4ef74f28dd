"""The cycle model of each dataflow: how many cycles the core takes for a layer, from its structure.

Weight-stationary (rtl/core.v), per chunk of commands queued back to back, from the first command's
acceptance to the last result's transfer:

    cycles = tokens + (ROWS + COLS + 5) + 2 * (commands - 1)

- tokens: one per streamed position and fold; folds overlap (the next fold's weights ride on the current
  fold's first token), so the array takes one token per cycle without a gap;
- ROWS + COLS + 5: the pipeline, filled once per chunk: the command FIFO and the sequencer's accept and
  weight-preload cycles, the SRAM read, the systolic skew and traversal (ROWS + COLS - 1: row r starts r
  cycles late, column c's psum leaves c cycles after column 0's), the OFIFO, the SFU's read and add, and the
  output FIFO;
- 2 per further command: the sequencer returns to idle after a command's last fold and spends one cycle
  accepting the next and one preloading its first weights.

Without back-pressure the core meets the model exactly (layer 27 on 8x8: 144 + 21 = 165; the 2a4w layer 27,
two commands of 144 tokens: 288 + 21 + 2 = 311). It is the bound of the performance guard: a change that
loses the fold overlap, or adds a pipeline stage, exceeds it.
"""
from __future__ import annotations

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
    - COLS + 5: the token register, the column skew, the load into the chain, the OFIFO, the SFU's read and
      add, the output FIFO."""
    return commands * (steps + 2) - 1 + 2 * (last_rows - 1) + cfg.cols + 5
