"""The one inventory of rtl/'s blocks: each module's sources, its test folder and the parameters the tools use.

Read by the runner (the core's source list), tb/lint (every block linted), make mutate (its modules, the
block step of each mutant's ladder, the solver's small parameters) and tests/test_blocks.py, which fails when
a module of rtl/*.v is in no entry or an entry names a folder or file that does not exist. Adding a block is
one entry here plus its tb/<folder>/test_<block>.py (docs/verification.md).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
RTL = ROOT / "rtl"


@dataclass(frozen=True)
class Block:
    name: str                     # the module, in rtl/<name>.v
    uses: tuple[str, ...] = ()    # the modules it instantiates, in compile order (their own uses first)
    tb: str = ""                  # tb/<tb>/ holds its tests ("core": tested through the core only)
    test_module: str = ""         # the cocotb module of its block test (mutation's block step); "" none
    testcase: str | None = None   # one cocotb test of it (None: all)
    test_params: dict = field(default_factory=dict)    # parameters of that block step
    equiv_params: dict = field(default_factory=dict)   # small parameters the mutation solver proves at

    @property
    def sources(self) -> list[Path]:
        return [RTL / f"{n}.v" for n in (*self.uses, self.name)]


BLOCKS: dict[str, Block] = {b.name: b for b in [
    Block("mac", (), "mac", "test_mac", None, {"PSUM_W": 16}, {}),
    Block("pe", ("mac",), "pe", "test_pe", None, {}, {}),
    Block("mac_array", ("mac", "pe", "sram_1r1w"), "mac_array", "test_mac_array", None, {"ROWS": 4, "COLS": 8},
          {"ROWS": 2, "COLS": 2}),
    Block("l0_skew", (), "l0_skew", "test_l0_skew", None, {"LANES": 8, "W": 9}, {"LANES": 3, "W": 4}),
    Block("fifo", (), "fifo", "test_fifo", None, {"WIDTH": 16, "DEPTH": 3}, {"WIDTH": 4, "DEPTH": 3}),
    Block("ofifo", ("fifo",), "ofifo", "test_ofifo", None, {"COLS": 8, "DEPTH": 64},
          {"COLS": 2, "PSUM_W": 4, "DEPTH": 3}),
    Block("sram_sp", (), "sram", "test_sram", "test_sram_sp_random", {"WIDTH": 32, "DEPTH": 64},
          {"WIDTH": 4, "DEPTH": 4}),
    Block("sram_1r1w", (), "sram", "test_sram", "test_sram_1r1w_random", {"WIDTH": 128, "DEPTH": 16},
          {"WIDTH": 4, "DEPTH": 4}),
    Block("sfu", ("sram_1r1w",), "sfu", "test_sfu", None, {"COLS": 8, "ACC_W": 16, "DEPTH": 64},
          {"COLS": 2, "PSUM_W": 4, "ACC_W": 6, "DEPTH": 4}),
    Block("sequencer", (), "core", equiv_params={"ROWS": 2}),
    Block("core", ("mac", "pe", "sram_1r1w", "mac_array", "l0_skew", "fifo", "ofifo", "sfu", "sequencer"),
          "core", equiv_params={"ROWS": 2, "COLS": 2, "CREDITS": 4, "ACT_DEPTH": 16, "WGT_DEPTH": 16,
                                "ACC_DEPTH": 16, "CMD_DEPTH": 2, "OUT_DEPTH": 3, "PSUM_W": 8, "ACC_W": 8}),
]}
MODULES = list(BLOCKS)                         # every module of rtl/, leaves first
CORE_SOURCES = [*BLOCKS["core"].uses, "core"]  # the core's compile order


def problems() -> list[str]:
    """What is wrong with the inventory against the tree (tests/test_blocks.py asserts none)."""
    out = []
    on_disk = {p.stem for p in RTL.glob("*.v")}
    out += [f"rtl/{m}.v: module in no entry of accel_tb.design.blocks.BLOCKS" for m in sorted(on_disk - set(BLOCKS))]
    for b in BLOCKS.values():
        out += [f"{b.name}: source {p.relative_to(ROOT)} missing" for p in b.sources if not p.is_file()]
        out += [f"{b.name}: uses {u}, which is not an entry" for u in b.uses if u not in BLOCKS]
        out += [f"{b.name}: uses {u} before {v}, which {u} needs" for i, u in enumerate(b.uses)
                for v in BLOCKS.get(u, Block(u)).uses if v not in b.uses[:i]]
        if not (ROOT / "tb" / b.tb).is_dir():
            out.append(f"{b.name}: test folder tb/{b.tb} missing")
        if b.test_module and not (ROOT / "tb" / b.tb / f"{b.test_module}.py").is_file():
            out.append(f"{b.name}: tb/{b.tb}/{b.test_module}.py missing")
    # a block the core does not instantiate is simulated by its own test or by nothing
    out += [f"{b.name}: not part of the core and no test_module of its own: nothing simulates it"
            for b in BLOCKS.values() if b.name not in CORE_SOURCES and not b.test_module]
    return out
