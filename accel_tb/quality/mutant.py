"""One mutant of rtl/ (a line of a module, original and mutated), and how it is applied to a copy of rtl/:
shared by make mutate (accel_tb.quality.mutation), its solver (accel_tb.quality.mutation_equiv) and the negative tests that
run a patched core."""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path


@dataclass
class Mutant:
    id: str
    module: str
    line: int
    operator: str
    original: str
    mutated: str


def apply(m: Mutant, rtl_dir: Path) -> None:
    if m.operator == "none":          # the baseline: the RTL as it is
        return
    p = rtl_dir / f"{m.module}.v"
    lines = p.read_text().splitlines(keepends=True)
    line = lines[m.line - 1]
    comment = line[len(line.split("//")[0]):] if "//" in line else "\n"
    indent = line[:len(line) - len(line.lstrip())]
    lines[m.line - 1] = indent + m.mutated + (" " + comment.lstrip() if "//" in line else "\n")
    p.write_text("".join(lines))
