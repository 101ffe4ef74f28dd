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


def patched_rtl(dest: Path, module: str, marker: str, old: str, new: str) -> Path:
    """A copy of rtl/ at dest (replaced) whose <module>.v has `old` replaced by `new` on the first line holding
    `marker` (the negative tests' patched cores). A marker or text not found raises ValueError, so that an RTL edit
    that moves the text fails the test rather than testing the unpatched core. Returns dest."""
    import shutil  # noqa: PLC0415

    from accel_tb.design.runner import ROOT  # noqa: PLC0415
    shutil.rmtree(dest, ignore_errors=True)
    shutil.copytree(ROOT / "rtl", dest)
    lines = (dest / f"{module}.v").read_text().splitlines()
    n = next((i for i, line in enumerate(lines, 1) if marker in line), None)
    code = lines[n - 1].split("//")[0].strip() if n else ""
    if not n or old not in code:
        raise ValueError(f"rtl/{module}.v: no line holding {marker!r} with {old!r} in its code")
    apply(Mutant("neg", module, n, "const", code, code.replace(old, new)), dest)
    return dest
