"""The course's text formats (what core_tb.v reads), written byte for byte as the seed notebooks do, and
read back into integer tensors.

Every file starts with 3 '#' header lines. Then:
  activation_tile{i}.txt                one line per padded nij: row R-1 .. row 0, 4-bit unsigned, MSB first
  weight_itile{i}_otile{o}_kij{k}.txt   line c = column (output channel) c: row R-1 .. row 0, 4-bit 2's compl.
  psum_kij{k}.txt                       one line per padded nij: col C-1 .. col 0, 16-bit 2's complement
  out_raw.txt / out.txt                 one line per output nij: col C-1 .. col 0, 16-bit (out.txt after ReLU)
Layers with more than one tile name psums and outputs per tile: psum_itile{i}_otile{o}_kij{k}.txt,
out_raw_otile{o}.txt, out_otile{o}.txt. viz/ holds the same numbers in decimal.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import torch

from .tiling import TiledLayer

ACT_BITS = 4
W_BITS = 4
PSUM_BITS = 16


class FormatError(ValueError):
    """A malformed course-format file; the message starts with file:line."""


# ---------------------------------------------------------------------------------------------- headers
def act_header(rows: int) -> str:
    r = rows - 1
    return (f"#time0row{r}[msb-lsb],time0row{r - 1}[msb-lst],...,time0row0[msb-lst]#\n"
            f"#time1row{r}[msb-lsb],time1row{r - 1}[msb-lst],...,time1row0[msb-lst]#\n"
            "#.....#\n")


def weight_header(rows: int) -> str:
    r = rows - 1
    return (f"#col0row{r}[msb-lsb],col0row{r - 1}[msb-lst],...,col0row0[msb-lst]#\n"
            f"#col1row{r}[msb-lsb],col1row{r - 1}[msb-lst],...,col1row0[msb-lst]#\n"
            "#.....#\n")


def psum_header(cols: int) -> str:
    c = cols - 1
    return (f"#time0col{c}[msb-lsb],time0col{c - 1}[msb-lst],...,time0col0[msb-lst]#\n"
            f"#time1col{c}[msb-lsb],time1col{c - 1}[msb-lst],...,time1col0[msb-lst]#\n"
            "#.....#\n")


def out_header(cols: int) -> str:
    # "co7" (sic): the seed notebook's out.txt header, kept byte-compatible.
    c = cols - 1
    return (f"#time0co{c}[msb-lsb],time0co{c - 1}[msb-lst],...,time0col0[msb-lst]#\n"
            f"#time1co{c}[msb-lsb],time1co{c - 1}[msb-lst],...,time1col0[msb-lst]#\n"
            "#.....#\n")


# ---------------------------------------------------------------------------------------------- encoding
def to_bits(value: int, bits: int, signed: bool, where: str) -> str:
    lo, hi = (-(1 << (bits - 1)), (1 << (bits - 1)) - 1) if signed else (0, (1 << bits) - 1)
    if not lo <= value <= hi:
        kind = "two's complement" if signed else "unsigned"
        raise ValueError(f"{where}: value {value} does not fit {bits}-bit {kind}")
    return format(value & ((1 << bits) - 1), f"0{bits}b")


def from_bits(text: str, signed: bool) -> int:
    v = int(text, 2)
    if signed and text[0] == "1":
        v -= 1 << len(text)
    return v


def _lines(matrix: torch.Tensor, bits: int, signed: bool, where: str) -> str:
    """matrix (lines, fields): each line written field[-1] .. field[0] (highest index first)."""
    return "".join("".join(to_bits(int(v), bits, signed, where) for v in reversed(row)) + "\n"
                   for row in matrix.tolist())


def _viz(matrix: torch.Tensor, width: int) -> str:
    return "".join("".join(f"{int(v): {width}d} " for v in reversed(row)) + "\n" for row in matrix.tolist())


# ---------------------------------------------------------------------------------------------- names
def psum_name(i: int, o: int, k: int, single: bool) -> str:
    return f"psum_kij{k}.txt" if single else f"psum_itile{i}_otile{o}_kij{k}.txt"


def out_name(stem: str, o: int, single: bool) -> str:
    return f"{stem}.txt" if single else f"{stem}_otile{o}.txt"


# ---------------------------------------------------------------------------------------------- writing
def write_layer(t: TiledLayer, out_dir: str | Path, psum_bits: int = PSUM_BITS, psums: bool = True) -> list[Path]:
    """Write one image's tiled layer in the course format; returns the files written."""
    out_dir = Path(out_dir)
    viz = out_dir / "viz"
    viz.mkdir(parents=True, exist_ok=True)
    single = t.n_ic == 1 and t.n_oc == 1
    files: list[tuple[str, str, str, str]] = []   # (name, header, text, viz text)
    for i in range(t.n_ic):
        a = t.a_tiles[i].T                                                     # (P, R)
        name = f"activation_tile{i}.txt"
        files.append((name, act_header(t.rows), _lines(a, ACT_BITS, False, name), _viz(a, 3)))
    for i in range(t.n_ic):
        for o in range(t.n_oc):
            for k in range(9):
                w = t.w_tiles[i, o, :, :, k]                                   # (C, R)
                name = f"weight_itile{i}_otile{o}_kij{k}.txt"
                files.append((name, weight_header(t.rows), _lines(w, W_BITS, True, name), _viz(w, 3)))
    if psums:
        for i in range(t.n_ic):
            for o in range(t.n_oc):
                for k in range(9):
                    p = t.psum[i, o, :, :, k].T                                # (P, C)
                    name = psum_name(i, o, k, single)
                    files.append((name, psum_header(t.cols), _lines(p, psum_bits, True, name), _viz(p, 6)))
    for o in range(t.n_oc):
        raw = t.out_tile(o).T                                                  # (HW, C)
        for stem, m in (("out_raw", raw), ("out", raw.clamp(min=0))):
            name = out_name(stem, o, single)
            files.append((name, out_header(t.cols), _lines(m, psum_bits, True, name), _viz(m, 6)))
    written = []
    for name, header, text, viz_text in files:
        (out_dir / name).write_text(header + text)
        (viz / f"viz_{name}").write_text(header + viz_text)
        written.append(out_dir / name)
    return written


# ---------------------------------------------------------------------------------------------- reading
_BITS = re.compile(r"^[01]+$")


def read_matrix(path: Path, field_bits: int | None, signed: bool, fields: int | None = None) -> torch.Tensor:
    """(lines, fields) integer matrix of one file; field index 0 is the LAST field of each line.

    field_bits None: infer from the line length and `fields`."""
    if not path.is_file():
        raise FormatError(f"{path}: file not found")
    rows: list[list[int]] = []
    width = None
    for lineno, raw in enumerate(path.read_text().splitlines(), start=1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        if not _BITS.match(line):
            raise FormatError(f"{path}:{lineno}: expected only 0/1 characters, got {raw[:40]!r}")
        if width is None:
            width = len(line)
            if field_bits is None:
                if not fields or width % fields:
                    raise FormatError(f"{path}:{lineno}: line of {width} bits is not {fields} equal fields")
                field_bits = width // fields
            if width % field_bits:
                raise FormatError(f"{path}:{lineno}: line of {width} bits is not a whole number of "
                                  f"{field_bits}-bit fields")
        elif len(line) != width:
            raise FormatError(f"{path}:{lineno}: {len(line)} bits where earlier lines have {width}")
        n = width // field_bits
        vals = [from_bits(line[j * field_bits:(j + 1) * field_bits], signed) for j in range(n)]
        rows.append(vals[::-1])
    if not rows:
        raise FormatError(f"{path}: no data lines")
    return torch.tensor(rows, dtype=torch.long)


@dataclass
class CourseVectors:
    """What a course-format folder holds, as integer tensors (None where a file kind is absent)."""
    rows: int
    cols: int
    a_tiles: torch.Tensor                 # (n_ic, R, P)
    w_tiles: torch.Tensor                 # (n_ic, n_oc, C, R, 9)
    psum: torch.Tensor | None             # (n_ic, n_oc, C, P, 9)
    out_raw: torch.Tensor | None          # (n_oc, C, HW)
    out: torch.Tensor | None              # (n_oc, C, HW), after ReLU

    @property
    def n_ic(self) -> int:
        return self.a_tiles.shape[0]

    @property
    def n_oc(self) -> int:
        return self.w_tiles.shape[1]

    @property
    def padded_positions(self) -> int:
        return self.a_tiles.shape[2]

    @property
    def side(self) -> int:
        """Unpadded input side H (= W) implied by the number of padded positions."""
        p = self.padded_positions
        s = int(round(p ** 0.5))
        return s - 2


def _count(folder: Path, pattern: str, what: str) -> int:
    n = 0
    while (folder / pattern.format(n)).is_file():
        n += 1
    if n == 0:
        raise FormatError(f"{folder}: no {pattern.format(0)} ({what})")
    return n


def read_folder(folder: str | Path) -> CourseVectors:
    folder = Path(folder)
    if not folder.is_dir():
        raise FormatError(f"{folder}: not a folder")
    n_ic = _count(folder, "activation_tile{}.txt", "activations")
    acts = [read_matrix(folder / f"activation_tile{i}.txt", ACT_BITS, False) for i in range(n_ic)]
    rows, p = acts[0].shape[1], acts[0].shape[0]
    for i, a in enumerate(acts):
        if a.shape != (p, rows):
            raise FormatError(f"{folder / f'activation_tile{i}.txt'}: {a.shape[0]} lines of {a.shape[1]} rows, "
                              f"expected {p} of {rows} as in activation_tile0.txt")
    side = int(round(p ** 0.5))
    if side * side != p or side < 3:
        raise FormatError(f"{folder / 'activation_tile0.txt'}: {p} padded positions is not a square (H+2)^2")
    n_oc = _count(folder, "weight_itile0_otile{}_kij0.txt", "weights")
    w = None
    for i in range(n_ic):
        for o in range(n_oc):
            for k in range(9):
                path = folder / f"weight_itile{i}_otile{o}_kij{k}.txt"
                m = read_matrix(path, W_BITS, True)
                if w is None:
                    cols = m.shape[0]
                    w = torch.zeros(n_ic, n_oc, cols, rows, 9, dtype=torch.long)
                if m.shape != (w.shape[2], rows):
                    raise FormatError(f"{path}: {m.shape[0]} lines of {m.shape[1]} rows, expected "
                                      f"{w.shape[2]} lines (columns) of {rows} rows")
                w[i, o, :, :, k] = m
    cols = w.shape[2]
    single = n_ic == 1 and n_oc == 1

    psum = None
    if (folder / psum_name(0, 0, 0, single)).is_file():
        psum = torch.zeros(n_ic, n_oc, cols, p, 9, dtype=torch.long)
        for i in range(n_ic):
            for o in range(n_oc):
                for k in range(9):
                    path = folder / psum_name(i, o, k, single)
                    m = read_matrix(path, None, True, fields=cols)
                    if m.shape != (p, cols):
                        raise FormatError(f"{path}: {m.shape[0]} lines, expected {p} (one per padded nij)")
                    psum[i, o, :, :, k] = m.T
    outs = {}
    hw = (side - 2) ** 2
    for stem in ("out_raw", "out"):
        if not (folder / out_name(stem, 0, single)).is_file():
            outs[stem] = None
            continue
        t = torch.zeros(n_oc, cols, hw, dtype=torch.long)
        for o in range(n_oc):
            path = folder / out_name(stem, o, single)
            m = read_matrix(path, None, True, fields=cols)
            if m.shape != (hw, cols):
                raise FormatError(f"{path}: {m.shape[0]} lines, expected {hw} (one per output nij)")
            t[o] = m.T
        outs[stem] = t
    return CourseVectors(rows=rows, cols=cols, a_tiles=torch.stack([a.T for a in acts]), w_tiles=w,
                         psum=psum, out_raw=outs["out_raw"], out=outs["out"])
