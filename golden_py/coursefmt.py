"""The course's text formats (what core_tb.v reads), written byte for byte as the seed notebooks do, and
read back into integer arrays (numpy: reading a folder never imports torch).

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

import os
import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np

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


def _lines(matrix: np.ndarray, bits: int, signed: bool, where: str) -> str:
    """matrix (lines, fields): each line written field[-1] .. field[0] (highest index first)."""
    return "".join("".join(to_bits(int(v), bits, signed, where) for v in reversed(row)) + "\n"
                   for row in np.asarray(matrix).tolist())


def _viz(matrix: np.ndarray, width: int) -> str:
    return "".join("".join(f"{int(v): {width}d} " for v in reversed(row)) + "\n" for row in np.asarray(matrix).tolist())


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
        for stem, m in (("out_raw", raw), ("out", np.maximum(raw, 0))):
            name = out_name(stem, o, single)
            files.append((name, out_header(t.cols), _lines(m, psum_bits, True, name), _viz(m, 6)))
    written = []
    viz.mkdir(parents=True, exist_ok=True)     # only once every file's text is built (a value that does not fit)
    for name, header, text, viz_text in files:
        (out_dir / name).write_text(header + text)
        (viz / f"viz_{name}").write_text(header + viz_text)
        written.append(out_dir / name)
    return written


# ---------------------------------------------------------------------------------------------- reading
_BOM = b"\xef\xbb\xbf"
_DEC_SPLIT = re.compile(r"[,\s]+")


@dataclass
class Matrix:
    """One file's integer matrix (lines, fields), field index 0 being the LAST field of each line, and the
    file line number of every data line (for file:line reports)."""
    path: Path
    values: np.ndarray
    linenos: list[int]
    # a file of one value a line read as the matrix it repeats (notebook 000's viz/ twins): each value's line
    value_lines: list[int] | None = None

    def where(self, line_index: int) -> str:
        return f"{self.path}:{self.linenos[line_index]}"

    def where_field(self, line_index: int, field: int) -> str:
        """file:line (field f) of one value; a one-value-a-line file's own line for it."""
        if self.value_lines is not None:
            fields = self.values.shape[1]
            return f"{self.path}:{self.value_lines[line_index * fields + fields - 1 - field]}"
        return f"{self.where(line_index)} (field {field})"


def _text_lines(path: Path) -> list[str]:
    """The file's lines, decoded; a BOM or a byte that is not UTF-8 is an error naming file and line."""
    try:
        data = path.read_bytes()
    except OSError as e:
        raise FormatError(f"{path}: cannot read ({e.strerror})") from e
    if data.startswith(_BOM):
        raise FormatError(f"{path}:1: starts with a UTF-8 byte-order mark (BOM); save the file as plain text")
    lines = []
    for lineno, raw in enumerate(data.splitlines(), start=1):     # LF, CRLF or CR alone (old Mac editors)
        try:
            lines.append(raw.decode("utf-8"))
        except UnicodeDecodeError as e:
            raise FormatError(f"{path}:{lineno}: byte 0x{raw[e.start]:02x} at column {e.start + 1} is not UTF-8 "
                              f"text") from None
    return lines


def _data_lines(path: Path):
    """(line number, stripped text) of every data line: '#' lines (headers) and blank lines skipped."""
    if not path.is_file():
        raise FormatError(f"{path}: file not found")
    for lineno, raw in enumerate(_text_lines(path), start=1):
        line = raw.strip()
        if line and not line.startswith("#"):
            yield lineno, line, raw


def read_matrix(path: Path, field_bits: int | None, signed: bool, fields: int | None = None) -> Matrix:
    """Read a course text file: '#' lines (headers) and blank lines are skipped, CRLF and trailing
    whitespace accepted, and a blank between words (one field each). field_bits None: inferred from the line
    length and `fields`."""
    rows: list[list[int]] = []
    linenos: list[int] = []
    width = word = None
    for lineno, line, raw in _data_lines(path):
        bad = next((c for c in line if c not in "01" and not c.isspace()), None)
        if bad is not None:
            raise FormatError(f"{path}:{lineno}: expected only 0/1 characters, found {bad!r} in {raw.rstrip()[:40]!r}")
        words = line.split()
        if len(words) > 1:   # a blank between words (the notebooks' "for visibility"): one width in the file
            size = word or len(words[0])
            odd = next((w for w in words if len(w) != size), None)
            if odd is not None:
                raise FormatError(f"{path}:{lineno}: words separated by blanks must all be {size} bits wide (as the "
                                  f"file's first), found {odd!r}")
            word = size
            line = "".join(words)
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
        if word is not None and word % field_bits:
            raise FormatError(f"{path}:{lineno}: words of {word} bits are not whole {field_bits}-bit fields")
        n = width // field_bits
        vals = [from_bits(line[j * field_bits:(j + 1) * field_bits], signed) for j in range(n)]
        if field_bits > 63 and any(not -(1 << 63) <= v < 1 << 63 for v in vals):
            raise FormatError(f"{path}:{lineno}: a {field_bits}-bit field holds a value beyond 64-bit integers")
        rows.append(vals[::-1])
        linenos.append(lineno)
    if not rows:
        raise FormatError(f"{path}: no data lines")
    return Matrix(path, np.array(rows, dtype=np.int64), linenos)


def read_decimal(path: Path, bounds: tuple[int, int] | None = None, fields: int | None = None) -> Matrix:
    """A decimal twin (notebook 001's *_int.txt): integers separated by commas and/or blanks, a trailing
    comma allowed, the highest field first like the binary file; bounds (lo, hi) checks every value, fields
    the count on every line."""
    rows: list[list[int]] = []
    linenos: list[int] = []
    for lineno, line, _ in _data_lines(path):
        words = [w for w in _DEC_SPLIT.split(line) if w]
        try:
            vals = [int(w) for w in words]
        except ValueError:
            bad = next(w for w in words if not re.fullmatch(r"[-+]?\d+", w))
            raise FormatError(f"{path}:{lineno}: expected decimal integers separated by commas, found {bad!r}") from None
        if rows and len(vals) != len(rows[0]):
            raise FormatError(f"{path}:{lineno}: {len(vals)} values where earlier lines have {len(rows[0])}")
        if fields is not None and len(vals) != fields:
            raise FormatError(f"{path}:{lineno}: {len(vals)} values, expected {fields}")
        if bounds is not None:
            bad = next((v for v in vals if not bounds[0] <= v <= bounds[1]), None)
            if bad is not None:
                raise FormatError(f"{path}:{lineno}: value {bad} is outside {bounds[0]}..{bounds[1]}")
        rows.append(vals[::-1])
        linenos.append(lineno)
    if not rows:
        raise FormatError(f"{path}: no data lines")
    return Matrix(path, np.array(rows, dtype=np.int64), linenos)


# Output-file readings: the course's notebooks disagree on names, so a folder is read by the files it holds.
NAMING_000 = "notebook 000 naming"        # out_raw.txt = sums before ReLU, out.txt = after ReLU
NAMING_001 = "notebook 001 naming"        # out.txt = sums before ReLU, out_relu.txt = after ReLU
NAMING_003 = "notebook 003 naming"        # psum.txt, psum_relu.txt, psum_{k}.txt at the output positions
NAMING_002 = ("notebook 002's folder (activation.txt, one weight.txt, psum.txt) holds one kernel position's matrix "
              "product over a window of positions, not a 3x3 conv layer, so there is no layer to run through the "
              "core; write the layer as notebook 000, 001 or 003 does (or with python -m golden_py.export)")


@dataclass
class Twin:
    """A second file holding numbers the folder already gives (a decimal *_int.txt twin, or the same
    quantity under two documented names): it must hold exactly the numbers of `primary`."""
    twin: Matrix
    primary: Matrix


@dataclass
class CourseVectors:
    """What a course-format folder holds, as integer arrays (None where a file kind is absent)."""
    rows: int                             # array rows R
    cols: int
    a_tiles: np.ndarray                   # (n_ic, channels, P)
    w_tiles: np.ndarray                   # (n_ic, n_oc, C, channels, 9)
    psum: np.ndarray | None               # (n_ic, n_oc, C, P, 9)
    out_raw: np.ndarray | None            # (n_oc, C, HW) sums before ReLU
    out: np.ndarray | None                # (n_oc, C, HW), after ReLU
    folder: Path | None = None
    naming: str = NAMING_000
    psum_files: dict | None = None        # (i, o, k) -> Matrix, for file:line reports
    out_files: dict | None = None         # ("raw" | "relu", o) -> Matrix
    used: list | None = None              # the files read
    ignored: list | None = None           # *.txt files of the folder that were not read
    a_bits: int = ACT_BITS                # 2: the 2-bit format, 2*R input channels per tile
    psum_mask: np.ndarray | None = None    # bool like psum: the entries the files give (None: all)
    psum_lines: dict | None = None        # (i, o, k) -> {padded position: line index} where not the identity
    relu_derived: bool = False            # `out` is max(0, out_raw): the folder gives no after-ReLU file
    files: str = ""                       # which file holds what, as read
    sums_derived: bool = False            # `out_raw` summed from a complete psum set: the folder gives no sums file
    notes: list | None = None             # how the folder was read, where it had to be decided
    twins: list | None = None             # [Twin]

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

    @property
    def expected_kinds(self) -> list[str]:
        """The kinds a replay compares the core with: psum, sum, relu (derived from the sums when the folder
        gives no after-ReLU file)."""
        return [k for k, t in (("psum", self.psum), ("sum", self.out_raw), ("relu", self.out)) if t is not None]

    def provided(self) -> dict[str, bool]:
        return {"psum": self.psum is not None, "sum": self.out_raw is not None and not self.sums_derived,
                "relu": self.out is not None and not self.relu_derived}

    def psum_line(self, i: int, o: int, k: int, p: int) -> str:
        m = self.psum_files.get((i, o, k))
        lines = (self.psum_lines or {}).get((i, o, k))
        if m is None or (lines is not None and p not in lines):
            return "not in the folder"
        return m.where(lines[p] if lines is not None else p)

    def psum_where(self, i: int, o: int, k: int, p: int, col: int) -> str:
        return f"{self.psum_line(i, o, k, p)} (col {col})"

    def out_where(self, kind: str, o: int, o_nij: int, col: int) -> str:
        m = self.out_files[(kind, o)]
        return f"{m.where(o_nij)} (col {col})"

    def reading(self) -> str:
        """The summary's one line on how the folder was read and what was not."""
        head = f"{self.naming}: {self.files}" if self.files else self.naming
        return "; ".join([head, *(self.notes or [])]) + (
            f"; not read: {', '.join(self.ignored)}" if self.ignored else "")


def _deeper_text_files(folder: Path, depth: int = 3) -> list[tuple[str, Path]]:
    """The .txt files below the folder and its viz/ (never read: the notebooks write those two), down to `depth`
    folders, hidden folders left out (.ipynb_checkpoints, .git: a tool's copies, not the student's files)."""
    found = []
    for here, dirs, files in os.walk(folder):
        rel = Path(here).relative_to(folder)
        dirs[:] = sorted(d for d in dirs if not d.startswith(".")) if len(rel.parts) < depth else []
        if rel.parts and rel.parts != ("viz",):
            found += [(str(rel / f), Path(here) / f) for f in sorted(files) if f.endswith(".txt")]
    return found


def _twin_name(name: str) -> str:
    """The decimal twin notebook 001 writes beside a binary file (out_relu.txt's is out_int_relu.txt)."""
    return "out_int_relu.txt" if name == "out_relu.txt" else name[:-len(".txt")] + "_int.txt"


def is_course_name(name: str) -> bool:
    """A name a course notebook gives a vector file, or its decimal twin (any case): what `golden_py.export --force`
    replaces, at the top and as viz/viz_<name>."""
    return _COURSE_NAMES.fullmatch(name.lower()) is not None


def with_viz_twins(folder: Path, *patterns: str) -> list[Path]:
    """The files of `folder` each glob pattern matches and their viz/ twins (viz/viz_<name>): what takes those
    numbers out of a folder, since a viz/ twin left alone is read in its file's place (the tests' and bad-input
    rows' folders without outputs or with a psum file missing)."""
    folder = Path(folder)
    return [q for pattern in patterns for q in [*folder.glob(pattern), *folder.glob(f"viz/viz_{pattern}")]]


class _Folder:
    """The folder's files, read once each; every read is recorded (used), and a file given under several
    documented names, or with its decimal twin, is read under all of them and recorded as a twin."""

    def __init__(self, folder: Path):
        self.folder = folder
        try:
            entries = [(q.name, q) for q in folder.iterdir()]
            viz = folder / "viz"      # notebook 000 and golden_py.export write a decimal twin of each file there
            entries += [(f"viz/{q.name}", q) for q in viz.iterdir()] if viz.is_dir() else []
            deeper = _deeper_text_files(folder)
        except OSError as e:
            raise FormatError(f"{folder}: cannot list the folder ({e.strerror})") from None
        self.names = set()
        like = []
        for rel, q in entries:
            in_viz = rel.startswith("viz/")
            lower = rel.lower()
            if not _COURSE_NAMES.fullmatch(lower.removeprefix("viz/viz_") if in_viz else lower):
                # a file named like a course file by no notebook (a team's output.txt, out_final.txt, a second
                # download's 'psum_kij4 (1).txt', weight_..._v2.txt) that holds rows of numbers: never read, so its
                # values would go unchecked (and an output's kind be derived from the others). A log of another
                # name (output_log.txt: words) stays 'not read'.
                base = lower.removeprefix("viz/viz_") if in_viz else lower     # viz_out.txt up here: not read
                if _VECTOR_LIKE.fullmatch(base) and q.is_file() and _holds_numbers(q):
                    like.append((rel, q))      # after the course names' own errors, in name order
                if q.suffix == ".txt" and q.is_file():
                    self.names.add(rel)         # another text file: listed as not read
                continue
            # a course file's name: read under that name only, so a near miss or an unreadable one is an
            # error here rather than a kind quietly not provided (or derived from the others)
            if rel != lower:
                raise FormatError(f"{q}: the course names this file {lower} (names are case-sensitive); rename it")
            if not q.is_file():
                what = "a folder" if q.is_dir() else "a broken link" if q.is_symlink() and not q.exists() else \
                    "not a regular file"
                raise FormatError(f"{q}: {what}, where the course has a text file of that name")
            self.names.add(rel)
        if like:
            rel, q = sorted(like)[0]
            raise FormatError(f"{q}: rows of numbers named like {_like_what(rel)}, but no course notebook writes "
                              f"{rel}: rename it to what it holds, or move it out of the folder")
        for rel, q in deeper:
            name = q.name.lower().removeprefix("viz_")      # a twin down there as much as a file
            if _COURSE_NAMES.fullmatch(name) or (_VECTOR_LIKE.fullmatch(name) and _holds_numbers(q)):
                raise FormatError(f"{q}: a course file in a folder below {folder.name}/, which is never read (the "
                                  f"folder's own files are, and their viz/ twins): move it up, or out of the folder")
            self.names.add(rel)             # another text file down there: listed as not read
        self.used: list[Path] = []
        self.twins: list[Twin] = []
        self.notes: list[str] = []          # viz/ twins read in place of an absent file, said in the summary

    def unread(self) -> list[str]:
        """The folder's names (viz/ ones with their folder) that no reading has used so far."""
        used = {str(q.relative_to(self.folder)) for q in self.used}
        return sorted(n for n in self.names if n not in used)

    def has(self, name: str) -> bool:
        return name in self.names or _twin_name(name) in self.names

    @staticmethod
    def candidates(names: list[str], viz: bool = True) -> list[tuple[str, bool]]:
        """What read() looks for, in its order, as (path in the folder, binary): each name and its decimal twin,
        then (viz) each name's viz/ twin."""
        found = [(rel, binary) for name in names for rel, binary in ((name, True), (_twin_name(name), False))]
        return found + ([(f"viz/viz_{name}", False) for name in names] if viz else [])

    def has_any(self, name: str) -> bool:
        """The file, its decimal twin or its viz/ twin (which is read in its place when it is alone): one read() finds."""
        return any(rel in self.names for rel, _ in self.candidates([name]))

    def read(self, names: list[str], bounds: tuple[int, int], reader, viz: bool = True,
             fields: int | None = None) -> Matrix | None:
        """The first of `names` present (binary, else its decimal twin); every other one present, and (viz) the
        viz/ twin of any, is a twin. With none of them present, a viz/ twin is read in their place (its numbers
        are the folder's too: listing it as not read left them unchecked)."""
        found: list[Matrix] = []
        candidates = self.candidates(names, viz)
        alone = not any(rel in self.names for rel, _ in self.candidates(names, viz=False))
        for rel, binary in candidates:
            if rel in self.names:
                path = self.folder / rel
                in_place = alone and not found and rel.startswith("viz/")
                try:
                    found.append(reader(path) if binary else read_decimal(path, bounds, fields))
                except FormatError as e:
                    if in_place:       # the only file that gives these numbers: unreadable is an error
                        raise FormatError(f"{e} (read in place of {rel.removeprefix('viz/viz_')}, which the folder lacks)") from None
                    if not rel.startswith("viz/") or not _one_value_a_line(path):
                        raise          # a twin with a wrong line, a byte-order mark: named, never dropped
                    # notebook 000's one value a line: read as a column, compared once shaped (check_twins)
                    found.append(read_decimal(path, bounds, None))
                if in_place:
                    self.notes.append(f"{rel}: read in place of {rel.removeprefix('viz/viz_')}, which the folder lacks")
                self.used.append(path)
        self.twins += [Twin(m, found[0]) for m in found[1:]]     # shapes judged once the folder is read
        return found[0] if found else None

    def check_twins(self) -> None:
        for tw in list(self.twins):
            m, first = tw.twin, tw.primary
            if m.values.shape != first.values.shape and m.path.parent.name == "viz" and m.values.shape[1] == 1 \
                    and first.values.shape[1] > 1:
                # notebook 000's activation and weight twins, one value a line, in the order the file's lines give
                # them (first field first): compared value by value (listed as not read, a wrong one passed: a
                # probe); a value more or less is an error
                lines, fields = first.values.shape
                if m.values.size != first.values.size:
                    raise FormatError(f"{m.path}: {m.values.size} values one a line, but {first.path.name} (the "
                                      f"same numbers) holds {first.values.size} ({lines} lines of {fields})")
                shaped = Matrix(m.path, m.values.reshape(lines, fields)[:, ::-1],
                                [m.linenos[i * fields] for i in range(lines)], value_lines=list(m.linenos))
                self.twins[self.twins.index(tw)] = Twin(shaped, first)
            elif m.values.shape != first.values.shape:
                raise FormatError(f"{m.path}: {m.values.shape[0]} lines of {m.values.shape[1]} values, but "
                                  f"{first.path.name} (the same numbers) has {first.values.shape[0]} of "
                                  f"{first.values.shape[1]}")


def _one_value_a_line(path: Path) -> bool:
    """Whether every data line of a file holds one integer (notebook 000's viz/ cells for activations and weights
    write one value a line: another layout than the file they repeat)."""
    try:
        return all(len([w for w in _DEC_SPLIT.split(line) if w]) == 1 and re.fullmatch(r"\s*[-+]?\d+[\s,]*", line)
                   for _, line, _ in _data_lines(path))
    except FormatError:
        return False


def _shown(m: Matrix) -> str:
    """A file's name as the reading line gives it: viz/'s twins (read in a file's place) with their folder."""
    return f"viz/{m.path.name}" if m.path.parent.name == "viz" else m.path.name


def _activation_names(f: _Folder) -> list[str]:
    tiles = []
    while f.has(f"activation_tile{len(tiles)}.txt"):
        tiles.append(f"activation_tile{len(tiles)}.txt")
    if tiles:
        return tiles
    singles = [n for n in ("activation.txt", "activation_project.txt") if f.has(n)]
    if len(singles) == 2:   # notebook 002/003's name and notebook 001's: which one the other files go with is not said
        raise FormatError(f"{f.folder}: activation.txt (notebooks 002, 003) and activation_project.txt (notebook 001) "
                          f"are both here; keep the one whose notebook wrote the other files")
    if singles:
        return singles
    raise FormatError(f"{f.folder}: no activation file (activation_tile0.txt, or activation.txt for one tile)")


def _other_weight_files(f: _Folder, names) -> str:
    """The folder's weight* files outside `names` (and their twins), as a clause for a 'missing' error: a file
    misnamed (weight03.txt for weight3.txt) is named beside what is missing (a probe)."""
    known = {n for n in names} | {_twin_name(n) for n in names}
    other = sorted(n for n in f.names if "/" not in n and n.lower().startswith("weight") and n not in known)
    return f" (the folder has {', '.join(other[:3])}{' ...' if len(other) > 3 else ''}, not a name it reads)" \
        if other else ""


def _weight_names(f: _Folder, n_ic: int) -> list[list[list[str]]]:
    """[i][o][k] names: weight_itile{i}_otile{o}_kij{k}.txt, or weight{k}.txt / weight_kij{k}.txt for one tile."""
    folder = f.folder
    if not f.has("weight_itile0_otile0_kij0.txt"):
        for style in ("weight{}.txt", "weight_kij{}.txt"):
            if f.has(style.format(0)):
                if n_ic != 1:
                    raise FormatError(f"{folder}: {style.format(0)} names one tile's weights, but there are "
                                      f"{n_ic} activation tiles; use weight_itile{{i}}_otile{{o}}_kij{{k}}.txt")
                names = [style.format(k) for k in range(9)]
                missing = [n for n in names if not f.has(n)]
                if missing:
                    raise FormatError(f"{folder}: weight files incomplete: {', '.join(missing)} missing"
                                      f"{_other_weight_files(f, names)}")
                return [[names]]
        if f.has("weight.txt"):
            raise FormatError(f"{folder}: {NAMING_002}")
        raise FormatError(f"{folder}: no weight files (weight_itile0_otile0_kij0..8.txt, or weight0..8.txt "
                          f"for one tile)")
    n_oc = 0
    while f.has(f"weight_itile0_otile{n_oc}_kij0.txt"):
        n_oc += 1
    names = [[[f"weight_itile{i}_otile{o}_kij{k}.txt" for k in range(9)] for o in range(n_oc)] for i in range(n_ic)]
    missing = [n for ni in names for no in ni for n in no if not f.has(n)]
    if missing:
        raise FormatError(f"{folder}: weight files incomplete for {n_ic} activation tile(s) x {n_oc} output tile(s): "
                          f"{', '.join(missing[:4])}{' ...' if len(missing) > 4 else ''} missing"
                          f"{_other_weight_files(f, [n for ni in names for no in ni for n in no])}")
    known = {n for ni in names for no in ni for n in no}
    known |= {_twin_name(n) for n in known}
    extra = sorted(n for n in f.names if re.fullmatch(r"weight_itile\d+_otile\d+_kij\d+(_int)?\.txt", n)
                   and n not in known)
    if extra:
        beyond = int(re.search(r"kij(\d+)", extra[0]).group(1)) > 8
        raise FormatError(f"{folder}: {extra[0]} does not belong to {n_ic} activation tile(s) x {n_oc} output "
                          f"tile(s) x kernel positions 0..8 " +
                          ("(a kernel position beyond 8)" if beyond else "(is an activation tile missing?)"))
    return names


NOTEBOOK_003_OUTPUTS = ["psum.txt", "psum_relu.txt", *(f"psum_{k}.txt" for k in range(9))]


def read_folder(folder: str | Path) -> CourseVectors:  # noqa: C901 (one reading, decided by what the folder holds)
    """Read a course-format folder: activations and weights (required), psums and outputs (each optional,
    but at least one kind to check against), in any seed notebook's naming. Errors name the file and, for
    content, the line. Where the files leave a reading open, it is decided by what they hold and said in
    `notes`."""
    folder = Path(folder)
    if not folder.is_dir():
        raise FormatError(f"{folder}: not a folder")
    f = _Folder(folder)
    notes: list[str] = []
    a_names = _activation_names(f)
    w_names = _weight_names(f, len(a_names))
    n_ic, n_oc = len(w_names), len(w_names[0])
    # the weight lines say how many input channels a tile has (4 bits each); the activation lines then say
    # whether those are 4-bit activations (one per array row) or 2-bit ones (two per row)
    ms = {(i, o, k): f.read([w_names[i][o][k]], (-(1 << (W_BITS - 1)), (1 << (W_BITS - 1)) - 1),
                            lambda p: read_matrix(p, W_BITS, True))
          for i in range(n_ic) for o in range(n_oc) for k in range(9)}
    # the layout most files share; a file that differs is the one named (not its neighbour, when the odd one
    # is the first)
    shapes = [m.values.shape for m in ms.values()]
    shape = max(set(shapes), key=lambda sh: (shapes.count(sh), sh == shapes[0]))
    w = np.zeros((n_ic, n_oc, *shape, 9), dtype=np.int64)
    for (i, o, k), m in ms.items():
        if m.values.shape != shape:
            like = next(x.path.name for x in ms.values() if x.values.shape == shape)
            raise FormatError(f"{m.path}: {m.values.shape[0]} lines of {m.values.shape[1]} weights, expected "
                              f"{shape[0]} lines (columns) of {shape[1]} as in {like} and the other weight files")
        w[i, o, :, :, k] = m.values
    channels, cols = w.shape[3], w.shape[2]
    acts = [f.read([n], (0, (1 << ACT_BITS) - 1), lambda p: read_matrix(p, None, False, fields=channels),
                   fields=channels) for n in a_names]
    first = acts[0]
    decimal_only = first.path.name.endswith("_int.txt")
    a_bits = ACT_BITS if decimal_only else len(_first_data_line(first.path)) // channels
    if decimal_only:    # decimal numbers do not say their width: the binary file would tell a 2-bit one
        notes.append(f"{first.path.name}: activations in decimal only, read as {ACT_BITS}-bit (one channel per row)")
    if a_bits not in (ACT_BITS, ACT_BITS // 2):
        raise FormatError(f"{first.path}: lines of {a_bits * channels} bits for {channels} input channels (the weight "
                          f"lines' count) are not 4-bit or 2-bit activations")
    rows = channels * a_bits // ACT_BITS
    n_act = first.values.shape[0]
    for m in acts:
        if m.values.shape != (n_act, channels):
            raise FormatError(f"{m.path}: {m.values.shape[0]} lines of {m.values.shape[1]} channels, "
                              f"expected {n_act} of {channels} as in {first.path.name}")
    single = n_ic == 1 and n_oc == 1

    def out_reader(p):
        return read_matrix(p, None, True, fields=cols)
    out_bounds = (-(1 << 47), (1 << 47) - 1)
    side = int(round(n_act ** 0.5))

    # ---- which notebook named the outputs. psum.txt is notebook 003's sums before ReLU, or notebook 000's last
    # cell: kernel position 0's psums at every padded position (as many lines as the activation file).
    # notebook 000/001 output names, a viz/ twin whose file is absent among them (it is read in the file's place)
    others = sorted(n for n in f.names if _OUTPUT_NAMES.fullmatch(n) or (
        n.startswith("viz/viz_") and _OUTPUT_NAMES.fullmatch(n[len("viz/viz_"):]) and not f.has(n[len("viz/viz_"):])))
    only_003 = [n for n in NOTEBOOK_003_OUTPUTS[1:] if f.has_any(n)]
    # psum.txt in a folder of several tiles: notebook 000's last cell (tile (0, 0), kernel position 0) when the
    # folder names its other files as 000 does (it was 'another notebook's file, not read': a probe)
    psum_txt = f.read(["psum.txt"], out_bounds, out_reader, fields=cols) \
        if f.has_any("psum.txt") and (single or others) else None
    psum000 = None
    if psum_txt is not None and not only_003:
        if others:
            psum000 = psum_txt
        elif psum_txt.values.shape[0] == n_act and side * side == n_act and side >= 3:
            as000 = _agreement(psum_txt.values, _tap0(acts, w, side - 2, padded=True))
            as003 = max(_agreement(psum_txt.values, _tap0(acts, wl, side, padded=False, sums=True))
                        for wl in (w, np.flip(w, (2, 3))))
            if as000 > as003:
                psum000 = psum_txt
                notes.append(f"psum.txt: {psum_txt.values.shape[0]} lines, as many as {first.path.name}: read as "
                             f"notebook 000's kernel position 0 psums at every padded position ({as000} of "
                             f"{psum_txt.values.size} values agree with the activation x weight files; as notebook "
                             f"003's sums {as003})")
    if psum000 is not None and not others:
        # kernel position 0's psums alone: the core computes every position, but nothing in the folder checks the
        # other eight positions' weights (a probe's folder passed with weight5.txt changed)
        raise FormatError(f"{folder}: psum.txt holds kernel position 0's psums (notebook 000's last cell) and the "
                          f"folder has no out*.txt or psum_kij*.txt: nothing would check the weights of kernel "
                          f"positions 1-8; add the outputs (out.txt / out_raw.txt) or every psum_kij*.txt")
    style003 = bool(only_003) or (psum_txt is not None and psum000 is None)
    if style003:
        if others:
            raise FormatError(f"{folder}: {(only_003 or ['psum.txt'])[0]} and {others[0]} name the outputs in two "
                              f"notebooks' styles (003: psum.txt, psum_relu.txt, psum_{{k}}.txt; 000/001: out*.txt, "
                              f"psum_kij*.txt); keep one")
        if not single:
            raise FormatError(f"{folder}: notebook 003's names (psum.txt, ...) are for one tile; this folder has "
                              f"{n_ic} activation tile(s) x {n_oc} output tile(s)")

    # ---- output-position files, by naming (each entry: kind -> per output tile, the names that hold it)
    outs: dict[str, list[Matrix] | None] = {}
    if style003:
        naming = NAMING_003
        outs["raw"] = [psum_txt]
        outs["relu"] = [f.read(["psum_relu.txt"], out_bounds, out_reader, fields=cols)]
        taps = [f.read([f"psum_{k}.txt"], out_bounds, out_reader, fields=cols) for k in range(9)]
        if any(t is None for t in taps) and any(t is not None for t in taps):
            missing = [f"psum_{k}.txt" for k, t in enumerate(taps) if t is None]
            raise FormatError(f"{folder}: psum files incomplete: {', '.join(missing)} missing")
        taps = taps if taps[0] is not None else None
    else:
        taps = None
        relu_001 = any(f.has_any(out_name("out_relu", o, False)) for o in range(n_oc)) or \
            (single and f.has_any("out_relu.txt"))
        naming = NAMING_001 if relu_001 else NAMING_000

        def names(stem, o):
            return [out_name(stem, o, True), out_name(stem, o, False)] if single else [out_name(stem, o, False)]
        if relu_001:
            # out.txt holds the raw sums; out_raw.txt, when there too, names them again: both are read. viz/
            # twins are notebook 000's (its out.txt is after ReLU): under this naming they are not read
            outs["raw"] = [f.read(names("out", o) + names("out_raw", o), out_bounds, out_reader, viz=False, fields=cols)
                           for o in range(n_oc)]
            # out_relu's viz/ twin is 001's own name (no 000 file is called so): read, in its file's place too
            outs["relu"] = [f.read(names("out_relu", o), out_bounds, out_reader, fields=cols) for o in range(n_oc)]
        else:
            outs["raw"] = [f.read(names("out_raw", o), out_bounds, out_reader, fields=cols) for o in range(n_oc)]
            outs["relu"] = [f.read(names("out", o), out_bounds, out_reader, fields=cols) for o in range(n_oc)]
    for kind, ms in outs.items():
        if all(m is None for m in ms):
            outs[kind] = None
        elif any(m is None for m in ms):
            stem = {"raw": "out_raw", "relu": "out"}[kind] if naming == NAMING_000 else {"raw": "out", "relu": "out_relu"}[kind]
            missing = [out_name(stem, o, single) for o, m in enumerate(ms) if m is None]
            raise FormatError(f"{folder}: {stem} files incomplete: {', '.join(missing)} missing")

    # ---- padded or not: an activation file with as many lines as the output files holds the unpadded input
    out_lines = next((ms[0].values.shape[0] for ms in outs.values() if ms), None)
    if out_lines is None and taps:
        out_lines = taps[0].values.shape[0]
    if out_lines is not None and n_act == out_lines and side * side == n_act:
        a_tiles = _padded(acts, side)
        notes.append(f"{first.path.name}: {n_act} lines, as many as the output files: the unpadded {side}x{side} "
                     f"input (zero padding added)")
        p = (side + 2) ** 2
    else:
        if side * side != n_act or side < 3:
            raise FormatError(f"{first.path}: {n_act} data lines (padded positions) is not a square (H+2)^2 with "
                              f"H >= 1")
        a_tiles = np.stack([m.values.T for m in acts])
        p, side = n_act, side - 2
    hw = side * side
    for ms in [*(outs[k] or [] for k in outs), taps or []]:
        for m in ms:
            if m.values.shape[0] != hw:
                raise FormatError(f"{m.path}: {m.values.shape[0]} lines, expected {hw} (one per output position)")

    # ---- psums: psum_kij{k}.txt at every padded position, notebook 003's psum_{k}.txt at the output ones,
    # notebook 000's psum.txt (kernel position 0) at every padded position
    psum, psum_files, psum_mask, psum_lines = None, {}, None, {}
    if taps:
        psum = np.zeros((1, 1, cols, p, 9), dtype=np.int64)
        psum_mask = np.zeros_like(psum, dtype=bool)
        pw = side + 2
        for k, m in enumerate(taps):
            lines = {}
            for q in range(hw):
                pos = (q // side + k // 3) * pw + q % side + k % 3
                psum[0, 0, :, pos, k] = m.values[q]
                psum_mask[0, 0, :, pos, k] = True
                lines[pos] = q
            psum_files[(0, 0, k)] = m
            psum_lines[(0, 0, k)] = lines
    elif not style003:
        keys = [(i, o, k) for i in range(n_ic) for o in range(n_oc) for k in range(9)]

        def pnames(i, o, k):
            return [psum_name(i, o, k, True), psum_name(i, o, k, False)] if single else [psum_name(i, o, k, False)]
        present = [key for key in keys if any(f.has_any(n) for n in pnames(*key))]
        if present:
            missing = [psum_name(*key, single) for key in keys if key not in present]
            if missing:
                raise FormatError(f"{folder}: psum files incomplete: {', '.join(missing[:4])}"
                                  f"{' ...' if len(missing) > 4 else ''} missing ({len(present)} of {len(keys)} present)")
            psum = np.zeros((n_ic, n_oc, cols, p, 9), dtype=np.int64)
            for i, o, k in keys:
                m = f.read(pnames(i, o, k), out_bounds, out_reader, fields=cols)
                if m.values.shape[0] != p:
                    raise FormatError(f"{m.path}: {m.values.shape[0]} lines, expected {p} (one per padded position)")
                psum[i, o, :, :, k] = m.values.T
                psum_files[(i, o, k)] = m
    if psum000 is not None:
        if psum000.values.shape[0] != p:
            raise FormatError(f"{psum000.path}: {psum000.values.shape[0]} lines, expected {p} (notebook 000's psum.txt: "
                              f"kernel position 0 at every padded position)")
        if psum is not None:             # the same numbers as psum_kij0.txt
            f.twins.append(Twin(psum000, psum_files[(0, 0, 0)]))
        else:                            # tile (0, 0)'s kernel position 0 only, of every tile the folder has
            psum = np.zeros((n_ic, n_oc, cols, p, 9), dtype=np.int64)
            psum_mask = np.zeros_like(psum, dtype=bool)
            psum[0, 0, :, :, 0], psum_mask[0, 0, :, :, 0] = psum000.values.T, True
            psum_files[(0, 0, 0)] = psum000

    # ---- notebook 003's weight lines: the layout under which the folder's own files agree most
    if style003:
        w, note = _weights_003(a_tiles, w, side, outs, psum, psum_mask)
        notes.append(note)

    out_raw = np.stack([m.values.T for m in outs["raw"]]) if outs["raw"] else None
    out = np.stack([m.values.T for m in outs["relu"]]) if outs["relu"] else None
    out_files = {(kind, o): m for kind in ("raw", "relu") for o, m in enumerate(outs[kind] or [])}

    # ---- out.txt alone (notebook 000's name): after ReLU or sums before it, whichever the folder's own
    # activation x weight files agree with most (a notebook 001 folder without out_relu.txt holds the sums)
    if naming == NAMING_000 and out is not None and out_raw is None:
        from .tiling import compute_tiles  # noqa: PLC0415
        raw = compute_tiles(a_tiles, w, side, side).out_tiles()
        as_raw, as_relu = _agreement(out, raw), _agreement(out, np.maximum(raw, 0))
        names_ = _span([_shown(m) for m in outs["relu"]])
        negative = int((raw < 0).sum())
        if as_raw > as_relu:
            out_raw, out, naming = out, None, NAMING_001
            out_files = {("raw", o): m for (_, o), m in out_files.items()}
            named_000 = f.has("activation_tile0.txt") or any(n.startswith("viz/") for n in f.names)
            notes.append(f"{names_} alone: read as the sums before ReLU (notebook 001 without out_relu.txt): "
                         f"{as_raw} of its {raw.size} values agree with the activation x weight files so read, "
                         f"{as_relu} as after ReLU" + ("; NOTE: the folder's other names are notebook 000's, whose "
                                                       "out.txt is after ReLU" if named_000 else ""))
        elif negative:
            notes.append(f"{names_} alone: read as after ReLU (notebook 000): {as_relu} of its {raw.size} values "
                         f"agree with the activation x weight files so read, {as_raw} as the sums before ReLU "
                         f"({negative} sums are negative)")
        else:
            notes.append(f"{names_} alone: read as after ReLU (notebook 000); no sum the activation and weight files "
                         f"give is negative, so before and after ReLU are the same numbers here")
    # ---- no sums file, but every psum an output needs: the sums are theirs (summed over the kernel positions
    # and input-channel tiles), so that a core's sums (or, with no output file either, its outputs) are still
    # checked against the folder
    sums_derived = False
    if out_raw is None and psum is not None:
        need = np.zeros(psum.shape[2:], dtype=bool)                      # (C, P, 9)
        pw = side + 2
        for k in range(9):
            for q in range(hw):
                need[:, (q // side + k // 3) * pw + q % side + k % 3, k] = True
        given = psum_mask if psum_mask is not None else np.ones_like(psum, dtype=bool)
        if bool(given[:, :, need].all()):
            idx = [[(q // side + k // 3) * pw + q % side + k % 3 for q in range(hw)] for k in range(9)]
            out_raw = np.stack([sum(psum[i, o][:, idx[k], k] for i in range(n_ic) for k in range(9))
                                   for o in range(n_oc)])                        # (n_oc, C, HW)
            sums_derived = True
            notes.append(f"no {'sums' if out is not None else 'output'} file: the sums before ReLU are the psum "
                         f"files' own (summed over the kernel positions and input tiles at each output position)")
    relu_derived = False
    if out is None and out_raw is not None:
        out, relu_derived = np.maximum(out_raw, 0), True
        for o in range(n_oc):
            if ("raw", o) in out_files:
                out_files[("relu", o)] = out_files[("raw", o)]
        notes.append("no after-ReLU file: the outputs after ReLU are checked against max(0, sum) of the sums")
    if psum is None and out_raw is None and out is None:
        unread = [n for n in f.unread() if _OUTPUT_NAMES.fullmatch(n)]
        raise FormatError(f"{folder}: nothing to check against: no psum_kij*.txt, out.txt, out_raw.txt, out_relu.txt, "
                          f"psum.txt or psum_relu.txt" + (
                              f" for {n_ic} activation tile(s) x {n_oc} output tile(s) ({', '.join(unread)} here: "
                              f"named for one tile; {n_oc} output tiles name theirs out_otile0.txt ..)" if unread else ""))
    files = []
    if out_raw is not None and not sums_derived:
        files.append(f"{_span([_shown(out_files[('raw', o)]) for o in range(n_oc)])} = sums before ReLU")
    if out is not None and not relu_derived:
        files.append(f"{_span([_shown(out_files[('relu', o)]) for o in range(n_oc)])} = after ReLU")
    if taps:
        files.append("psum_0..8.txt = kernel position k's psums at the output positions")
    elif psum000 is not None and psum_mask is not None:
        files.append("psum.txt = kernel position 0's psums at every padded position")
    elif psum is not None:
        files.append(f"{_span([_shown(psum_files[key]) for key in sorted(psum_files)])} = psums at every padded "
                     f"position")
    f.check_twins()
    notes += f.notes
    ignored = f.unread()
    # notebook 002's weight.txt and a psum.txt this reading does not use (notebook 002 or 000 run in the same
    # folder before another notebook) stay 'not read', said; any other course name left unread is an error
    leftovers = [n for n in ignored if n in ("weight.txt", "psum.txt")]
    if leftovers:
        notes.append(f"{', '.join(leftovers)}: another notebook's file (002 writes weight.txt and psum.txt into the "
                     f"same folder), not read")
    stray = [n for n in ignored if "/" not in n and _COURSE_NAMES.fullmatch(n) and n not in leftovers]
    # viz/ twins of course names beyond the reading too (viz/viz_psum_kij9.txt, viz/viz_out_otile1.txt: only
    # 'not read' until a probe), but not, under notebook 001's naming, twins of 000's output names (its out.txt is
    # after ReLU, 001's the sums: not read, said)
    stray += [n for n in ignored if n.startswith("viz/viz_") and _COURSE_NAMES.fullmatch(n[len("viz/viz_"):])
              and n[len("viz/viz_"):] not in ("weight.txt", "psum.txt")
              and not (naming == NAMING_001 and re.fullmatch(r"out(_raw)?(_otile\d+)?\.txt", n[len("viz/viz_"):]))]
    if stray:
        raise FormatError(f"{folder / stray[0]}: named as a course file, but not part of this folder's reading "
                          f"({naming}, {n_ic} activation tile(s) x {n_oc} output tile(s), kernel positions 0..8: "
                          f"{', '.join(files) or 'activations and weights'}): a second naming style, or a tile or "
                          f"kernel position beyond the others; remove or rename it")
    return CourseVectors(rows=rows, cols=cols, a_tiles=a_tiles, w_tiles=w, psum=psum, out_raw=out_raw, out=out,
                         folder=folder, naming=naming, psum_files=psum_files, out_files=out_files, used=f.used,
                         ignored=ignored, a_bits=a_bits, psum_mask=psum_mask, psum_lines=psum_lines or None,
                         relu_derived=relu_derived, notes=notes, twins=f.twins, files=", ".join(files),
                         sums_derived=sums_derived)


# the names that hold outputs or psums in notebooks 000/001 (another .txt is only 'not read')
_OUTPUT_NAMES = re.compile(r"(out(_raw|_relu)?(_otile\d+)?(_int)?|out_int_relu|psum_kij\d+(_int)?|"
                           r"psum_itile\d+_otile\d+_kij\d+(_int)?)\.txt")
# every name a course notebook gives a vector file (and its decimal twin): one the reading leaves unread is a
# second naming style or a tile or kernel position beyond the others, an error rather than 'not read'
_COURSE_NAMES = re.compile(r"(activation(_tile\d+|_project)?|weight(\d+|_kij\d+|_itile\d+_otile\d+_kij\d+)?|"
                           r"psum(_relu|_\d+)?|out(_raw|_relu)?(_otile\d+)?|out_int_relu|psum_kij\d+|"
                           r"psum_itile\d+_otile\d+_kij\d+)(_int)?\.txt")


# a name like a course file's that no notebook writes: output.txt, outputs.txt, out_final.txt, out2.txt, 'out (1).txt',
# 'out copy.txt', psum_kij4_old.txt, weights.txt, activation_tile0_v2.txt (not outline.txt, weightings.txt)
_VECTOR_LIKE = re.compile(r"(out(puts?)?|psums?|activations?|weights?)([-_. (\d].*)?\.txt")


def _like_what(rel: str) -> str:
    """What course file a look-alike name is like, with the names the notebooks give it."""
    base = rel.lower().removeprefix("viz/").removeprefix("viz_")
    if base.startswith("out"):
        return ("an output file (the notebooks write out.txt after ReLU and out_raw.txt before it; notebook 001 "
                "out_relu.txt and out.txt)")
    if base.startswith("psum"):
        return "a psum file (the notebooks write psum_kij0..8.txt, psum_itile*_otile*_kij*.txt, psum.txt)"
    if base.startswith("activation"):
        return "an activation file (the notebooks write activation.txt, activation_tile*.txt, activation_project.txt)"
    return "a weight file (the notebooks write weight_itile*_otile*_kij*.txt, weight_kij*.txt, weight*.txt)"


def _holds_numbers(path: Path) -> bool:
    """Whether a file's first lines (comments and blanks aside) are rows of numbers only: binary words or decimal
    integers, as an output file's."""
    try:
        with path.open("rb") as f:
            raw = f.read(4096)
    except OSError:
        return False
    # a byte-order mark (an editor's UTF-8, PowerShell's UTF-16) must not hide the numbers behind it
    utf16 = raw.startswith((b"\xff\xfe", b"\xfe\xff"))
    head = raw.decode("utf-16" if utf16 else "utf-8-sig", "replace")
    rows = [r.strip() for r in head.splitlines()[:20] if r.strip() and not r.lstrip().startswith("#")]
    return bool(rows) and all(re.fullmatch(r"[-+\d\s,]+", r) and re.search(r"\d", r) for r in rows)


def _span(names: list[str]) -> str:
    return names[0] if len(names) == 1 else f"{names[0]} .. {names[-1]}"


def _padded(acts: list[Matrix], side: int) -> np.ndarray:
    """Unpadded activation files (side x side lines) as padded tiles (n_ic, channels, (side+2)^2)."""
    channels = acts[0].values.shape[1]
    a = np.zeros((len(acts), channels, side + 2, side + 2), dtype=np.int64)
    for i, m in enumerate(acts):
        a[i, :, 1:-1, 1:-1] = m.values.T.reshape(channels, side, side)
    return a.reshape(len(acts), channels, (side + 2) ** 2)


def _tap0(acts, w, side, padded: bool, sums: bool = False) -> np.ndarray:
    """One tile's kernel position 0 psums at every padded position (padded activation files), or with sums
    its sums before ReLU (unpadded files), as (lines, C) -- to judge which reading a psum.txt fits."""
    from .tiling import compute_tiles  # noqa: PLC0415
    a = np.stack([m.values.T for m in acts]) if padded else _padded(acts, side)
    t = compute_tiles(a, w, side, side)
    return t.out_tile(0).T if sums else t.psum[0, 0, :, :, 0].T


def _weights_003(a_tiles, w, side, outs, psum, psum_mask):
    """Notebook 003 writes weight line t as output channel C-1-t with input channel 0 first, the course's
    layout reversed in both directions. The folder is read in the layout under which its own sums (and
    per-position psums) agree most with its activation x weight files, so that one wrong value is located
    rather than turning the reading; the note says which, with the counts."""
    from .tiling import compute_tiles  # noqa: PLC0415
    layouts = {"003": np.ascontiguousarray(np.flip(w, (2, 3))), "course": w}

    def agree(wc):
        t = compute_tiles(a_tiles, wc, side, side)
        raw = t.out_tile(0)
        n = 0
        if outs.get("raw"):
            n += _agreement(outs["raw"][0].values.T, raw)
        if outs.get("relu"):
            n += _agreement(outs["relu"][0].values.T, np.maximum(raw, 0))
        if psum is not None:
            n += int((psum[psum_mask] == t.psum[psum_mask]).sum())
        return n
    score = {name: agree(wc) for name, wc in layouts.items()}
    total = sum(m.values.size for k in ("raw", "relu") for m in (outs.get(k) or [])) + (
        int(psum_mask.sum()) if psum is not None else 0)
    counts = f"{score['003']} of {total} values agree in notebook 003's layout, {score['course']} in the course's"
    if score["course"] >= score["003"]:
        return w, f"weights in the course's layout (line c = output channel c, row R-1 first): {counts}"
    return layouts["003"], (f"weights as notebook 003 writes them (line t = output channel C-1-t, input channel 0 "
                            f"first): {counts}")


def _first_data_line(path: Path) -> str:
    for _, line, _ in _data_lines(path):
        return "".join(line.split())
    return ""


def _agreement(got: np.ndarray, expected: np.ndarray) -> int:
    """How many of a file's values a reading of the folder reproduces (0 when the shapes differ)."""
    return int((got == expected).sum()) if got.shape == expected.shape else 0
