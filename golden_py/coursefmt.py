"""The course's text formats (what core_tb.v reads), written byte for byte as the seed notebooks do, and
read back into integer tensors.

Every file starts with 3 '#' header lines. Then:
  activation_tile{i}.txt                one line per padded nij: row R-1 .. row 0, 4-bit unsigned, MSB first
  weight_itile{i}_otile{o}_kij{k}.txt   line c = column (output channel) c: row R-1 .. row 0, 4-bit 2's compl.
With 2-bit activations (the core's 2-bit mode, 2*R input channels per tile on R rows):
  activation_tile{i}.txt                one line per padded nij: channel 2R-1 .. channel 0, 2-bit unsigned, MSB
                                        first -- bit for bit the 4-bit line of R rows, row r = {ch 2r+1, ch 2r}
  weight_itile{i}_otile{o}_kij{k}.txt   line c: channel 2R-1 .. channel 0, 4-bit 2's complement (both weights
                                        of every PE of column c: PE r holds channels 2r and 2r+1)
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
def act_header(rows: int, unit: str = "row") -> str:
    r = rows - 1
    return (f"#time0{unit}{r}[msb-lsb],time0{unit}{r - 1}[msb-lst],...,time0{unit}0[msb-lst]#\n"
            f"#time1{unit}{r}[msb-lsb],time1{unit}{r - 1}[msb-lst],...,time1{unit}0[msb-lst]#\n"
            "#.....#\n")


def weight_header(rows: int, unit: str = "row") -> str:
    r = rows - 1
    return (f"#col0{unit}{r}[msb-lsb],col0{unit}{r - 1}[msb-lst],...,col0{unit}0[msb-lst]#\n"
            f"#col1{unit}{r}[msb-lsb],col1{unit}{r - 1}[msb-lst],...,col1{unit}0[msb-lst]#\n"
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
def write_layer(t: TiledLayer, out_dir: str | Path, psum_bits: int = PSUM_BITS, psums: bool = True,
                a_bits: int = ACT_BITS) -> list[Path]:
    """Write one image's tiled layer in the course format; returns the files written. With a_bits = 2 the
    tile's t.rows input channels sit two per array row (the 2-bit mode's format above)."""
    if a_bits not in (ACT_BITS, ACT_BITS // 2):
        raise ValueError(f"a_bits={a_bits}: the course formats hold 4-bit or 2-bit activations")
    unit = "row" if a_bits == ACT_BITS else "ch"
    out_dir = Path(out_dir)
    viz = out_dir / "viz"
    viz.mkdir(parents=True, exist_ok=True)
    single = t.n_ic == 1 and t.n_oc == 1
    files: list[tuple[str, str, str, str]] = []   # (name, header, text, viz text)
    for i in range(t.n_ic):
        a = t.a_tiles[i].T                                                     # (P, R)
        name = f"activation_tile{i}.txt"
        files.append((name, act_header(t.rows, unit), _lines(a, a_bits, False, name), _viz(a, 3)))
    for i in range(t.n_ic):
        for o in range(t.n_oc):
            for k in range(9):
                w = t.w_tiles[i, o, :, :, k]                                   # (C, R)
                name = f"weight_itile{i}_otile{o}_kij{k}.txt"
                files.append((name, weight_header(t.rows, unit), _lines(w, W_BITS, True, name), _viz(w, 3)))
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
_BOM = b"\xef\xbb\xbf"


@dataclass
class Matrix:
    """One file's integer matrix (lines, fields), field index 0 being the LAST field of each line, and the
    file line number of every data line (for file:line reports)."""
    path: Path
    values: torch.Tensor
    linenos: list[int]

    def where(self, line_index: int) -> str:
        return f"{self.path}:{self.linenos[line_index]}"


def _text_lines(path: Path) -> list[str]:
    """The file's lines, decoded; a BOM or a byte that is not UTF-8 is an error naming file and line."""
    try:
        data = path.read_bytes()
    except OSError as e:
        raise FormatError(f"{path}: cannot read ({e.strerror})") from e
    if data.startswith(_BOM):
        raise FormatError(f"{path}:1: starts with a UTF-8 byte-order mark (BOM); save the file as plain text")
    lines = []
    for lineno, raw in enumerate(data.split(b"\n"), start=1):
        try:
            lines.append(raw.decode("utf-8"))
        except UnicodeDecodeError as e:
            raise FormatError(f"{path}:{lineno}: byte 0x{raw[e.start]:02x} at column {e.start + 1} is not UTF-8 "
                              f"text") from None
    return lines


def read_matrix(path: Path, field_bits: int | None, signed: bool, fields: int | None = None) -> Matrix:
    """Read a course text file: '#' lines (headers) and blank lines are skipped, CRLF and trailing
    whitespace accepted. field_bits None: inferred from the line length and `fields`."""
    if not path.is_file():
        raise FormatError(f"{path}: file not found")
    rows: list[list[int]] = []
    linenos: list[int] = []
    width = None
    for lineno, raw in enumerate(_text_lines(path), start=1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        if not _BITS.match(line):
            bad = next(c for c in line if c not in "01")
            raise FormatError(f"{path}:{lineno}: expected only 0/1 characters, found {bad!r} in {raw.rstrip()[:40]!r}")
        if width is None:
            width = len(line)
            if field_bits is None:
                if not fields or width % fields:
                    raise FormatError(f"{path}:{lineno}: a line of {width} bits is not {fields} equal fields")
                field_bits = width // fields
            if width % field_bits:
                raise FormatError(f"{path}:{lineno}: a line of {width} bits is not a whole number of "
                                  f"{field_bits}-bit fields")
        elif len(line) != width:
            raise FormatError(f"{path}:{lineno}: {len(line)} bits where earlier lines have {width}")
        n = width // field_bits
        vals = [from_bits(line[j * field_bits:(j + 1) * field_bits], signed) for j in range(n)]
        rows.append(vals[::-1])
        linenos.append(lineno)
    if not rows:
        raise FormatError(f"{path}: no data lines")
    return Matrix(path, torch.tensor(rows, dtype=torch.long), linenos)


# Output-file readings: the course's notebooks disagree on names, so a folder is read by the files it holds.
NAMING_000 = "notebook 000 naming: out_raw.txt = sums before ReLU, out.txt = after ReLU"
NAMING_001 = "notebook 001 naming: out.txt = sums before ReLU, out_relu.txt = after ReLU"


@dataclass
class CourseVectors:
    """What a course-format folder holds, as integer tensors (None where a file kind is absent)."""
    rows: int                             # array rows R
    cols: int
    a_tiles: torch.Tensor                 # (n_ic, channels, P)
    w_tiles: torch.Tensor                 # (n_ic, n_oc, C, channels, 9)
    psum: torch.Tensor | None             # (n_ic, n_oc, C, P, 9)
    out_raw: torch.Tensor | None          # (n_oc, C, HW) sums before ReLU
    out: torch.Tensor | None              # (n_oc, C, HW), after ReLU
    folder: Path | None = None
    naming: str = NAMING_000
    psum_files: dict | None = None        # (i, o, k) -> Matrix, for file:line reports
    out_files: dict | None = None         # ("raw" | "relu", o) -> Matrix
    used: list | None = None              # the files read
    ignored: list | None = None           # *.txt files of the folder that were not read
    a_bits: int = ACT_BITS                # 2: the 2-bit format, 2*R input channels per tile

    @property
    def channels(self) -> int:
        """Input channels per tile: R, or 2R with 2-bit activations."""
        return self.a_tiles.shape[1]

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
        return int(round(self.padded_positions ** 0.5)) - 2

    def provided(self) -> dict[str, bool]:
        return {"psum": self.psum is not None, "sum": self.out_raw is not None, "relu": self.out is not None}

    def psum_where(self, i: int, o: int, k: int, p: int, col: int) -> str:
        m = self.psum_files[(i, o, k)]
        return f"{m.where(p)} (col {col})"

    def out_where(self, kind: str, o: int, o_nij: int, col: int) -> str:
        m = self.out_files[(kind, o)]
        return f"{m.where(o_nij)} (col {col})"


def _first_existing(folder: Path, names: list[str]) -> Path | None:
    return next((folder / n for n in names if (folder / n).is_file()), None)


def _activation_files(folder: Path) -> list[Path]:
    tiles = []
    while (folder / f"activation_tile{len(tiles)}.txt").is_file():
        tiles.append(folder / f"activation_tile{len(tiles)}.txt")
    if tiles:
        return tiles
    single = _first_existing(folder, ["activation.txt", "activation_project.txt"])
    if single:
        return [single]
    raise FormatError(f"{folder}: no activation file (activation_tile0.txt, or activation.txt for one tile)")


def _weight_files(folder: Path, n_ic: int) -> list[list[list[Path]]]:  # noqa: C901
    """[i][o][k] paths: weight_itile{i}_otile{o}_kij{k}.txt, or weight{k}.txt / weight_kij{k}.txt for one tile."""
    if not (folder / "weight_itile0_otile0_kij0.txt").is_file():
        for style in ("weight{}.txt", "weight_kij{}.txt"):
            if (folder / style.format(0)).is_file():
                if n_ic != 1:
                    raise FormatError(f"{folder}: {style.format(0)} names one tile's weights, but there are "
                                      f"{n_ic} activation tiles; use weight_itile{{i}}_otile{{o}}_kij{{k}}.txt")
                paths = [folder / style.format(k) for k in range(9)]
                missing = [p.name for p in paths if not p.is_file()]
                if missing:
                    raise FormatError(f"{folder}: weight files incomplete: {', '.join(missing)} missing")
                return [[paths]]
        raise FormatError(f"{folder}: no weight files (weight_itile0_otile0_kij0..8.txt, or weight0..8.txt "
                          f"for one tile)")
    n_oc = 0
    while (folder / f"weight_itile0_otile{n_oc}_kij0.txt").is_file():
        n_oc += 1
    paths = [[[folder / f"weight_itile{i}_otile{o}_kij{k}.txt" for k in range(9)] for o in range(n_oc)]
             for i in range(n_ic)]
    missing = [p.name for pi in paths for po in pi for p in po if not p.is_file()]
    if missing:
        raise FormatError(f"{folder}: weight files incomplete for {n_ic} activation tile(s) x {n_oc} output tile(s): "
                          f"{', '.join(missing[:4])}{' ...' if len(missing) > 4 else ''} missing")
    extra = sorted(p.name for p in folder.glob("weight_itile*_otile*_kij*.txt")
                   if p not in {q for pi in paths for po in pi for q in po})
    if extra:
        raise FormatError(f"{folder}: {extra[0]} does not belong to {n_ic} activation tile(s) x {n_oc} "
                          f"output tile(s) (is an activation tile missing?)")
    return paths


def read_folder(folder: str | Path) -> CourseVectors:
    """Read a course-format folder: activations and weights (required), psums and outputs (each optional,
    but at least one kind to check against). Errors name the file and, for content, the line."""
    folder = Path(folder)
    if not folder.is_dir():
        raise FormatError(f"{folder}: not a folder")
    used: list[Path] = []
    a_paths = _activation_files(folder)
    w_paths = _weight_files(folder, len(a_paths))
    n_ic, n_oc = len(w_paths), len(w_paths[0])
    # the weight lines say how many input channels a tile has (4 bits each); the activation lines then say
    # whether those are 4-bit activations (one per array row) or 2-bit ones (two per row)
    w = None
    for i in range(n_ic):
        for o in range(n_oc):
            for k in range(9):
                m = read_matrix(w_paths[i][o][k], W_BITS, True)
                used.append(m.path)
                if w is None:
                    w = torch.zeros(n_ic, n_oc, *m.values.shape, 9, dtype=torch.long)
                if m.values.shape != w.shape[2:4]:
                    first = w_paths[0][0][0].name
                    raise FormatError(f"{m.path}: {m.values.shape[0]} lines of {m.values.shape[1]} weights, expected "
                                      f"{w.shape[2]} lines (columns) of {w.shape[3]} as in {first}")
                w[i, o, :, :, k] = m.values
    channels = w.shape[3]
    acts = [read_matrix(p, None, False, fields=channels) for p in a_paths]
    used += a_paths
    p = acts[0].values.shape[0]
    a_bits = len(_first_data_line(acts[0].path)) // channels
    if a_bits not in (ACT_BITS, ACT_BITS // 2):
        raise FormatError(f"{a_paths[0]}: lines of {a_bits * channels} bits for {channels} input channels (the weight "
                          f"lines' count) are not 4-bit or 2-bit activations")
    rows = channels * a_bits // ACT_BITS
    for m in acts:
        if m.values.shape != (p, channels):
            raise FormatError(f"{m.path}: {m.values.shape[0]} lines of {m.values.shape[1]} channels, "
                              f"expected {p} of {channels} as in {a_paths[0].name}")
    side = int(round(p ** 0.5))
    if side * side != p or side < 3:
        raise FormatError(f"{a_paths[0]}: {p} data lines (padded positions) is not a square (H+2)^2 with H >= 1")
    cols = w.shape[2]
    single = n_ic == 1 and n_oc == 1

    psum, psum_files = None, {}
    names = {(i, o, k): psum_name(i, o, k, single) for i in range(n_ic) for o in range(n_oc) for k in range(9)}
    present = {key: folder / n for key, n in names.items() if (folder / n).is_file()}
    if present:
        missing = [n for key, n in names.items() if key not in present]
        if missing:
            raise FormatError(f"{folder}: psum files incomplete: {', '.join(missing[:4])}"
                              f"{' ...' if len(missing) > 4 else ''} missing ({len(present)} of {len(names)} present)")
        psum = torch.zeros(n_ic, n_oc, cols, p, 9, dtype=torch.long)
        for (i, o, k), path in present.items():
            m = read_matrix(path, None, True, fields=cols)
            if m.values.shape != (p, cols):
                raise FormatError(f"{path}: {m.values.shape[0]} lines, expected {p} (one per padded position)")
            psum[i, o, :, :, k] = m.values.T
            psum_files[(i, o, k)] = m
            used.append(path)

    relu_001 = (folder / out_name("out_relu", 0, single)).is_file()
    stems = {"raw": "out", "relu": "out_relu"} if relu_001 else {"raw": "out_raw", "relu": "out"}
    hw = (side - 2) ** 2
    outs, out_files = {}, {}
    for kind, stem in stems.items():
        paths = [folder / out_name(stem, o, single) for o in range(n_oc)]
        if not any(q.is_file() for q in paths):
            outs[kind] = None
            continue
        missing = [q.name for q in paths if not q.is_file()]
        if missing:
            raise FormatError(f"{folder}: {stem} files incomplete: {', '.join(missing)} missing")
        t = torch.zeros(n_oc, cols, hw, dtype=torch.long)
        for o, path in enumerate(paths):
            m = read_matrix(path, None, True, fields=cols)
            if m.values.shape != (hw, cols):
                raise FormatError(f"{path}: {m.values.shape[0]} lines, expected {hw} (one per output position)")
            t[o] = m.values.T
            out_files[(kind, o)] = m
            used.append(path)
        outs[kind] = t
    if psum is None and outs["raw"] is None and outs["relu"] is None:
        raise FormatError(f"{folder}: nothing to check against: no psum_kij*.txt, out.txt, out_raw.txt or "
                          f"out_relu.txt")
    used_set = set(used)
    ignored = sorted(q.name for q in folder.glob("*.txt") if q not in used_set)
    return CourseVectors(rows=rows, cols=cols, a_tiles=torch.stack([m.values.T for m in acts]), w_tiles=w,
                         psum=psum, out_raw=outs["raw"], out=outs["relu"], folder=folder,
                         naming=NAMING_001 if relu_001 else NAMING_000, psum_files=psum_files,
                         out_files=out_files, used=used, ignored=ignored, a_bits=a_bits)


def _first_data_line(path: Path) -> str:
    for raw in _text_lines(path):
        line = raw.strip()
        if line and not line.startswith("#"):
            return line
    return ""
