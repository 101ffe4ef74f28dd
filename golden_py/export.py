"""Export a layer of the checkpoint in the course's text format, or check such a folder.

    python -m golden_py.export --checkpoint checkpoints/vgg16_a4w4.pt --layer 27 --image 0 --out golden/
    python -m golden_py.export --check golden/

--image N picks the N-th bundled sample image, or the N-th test image with --data-dir.
--check recomputes the psums from the activation and weight files and compares them with the psum files,
and the output files with the accumulated (and ReLU'd) psums. It prints what it compared per kind of file
and exits 1 on any difference or when the folder holds nothing to compare; 2 on unreadable input.
Export writes into a new or empty folder; --force replaces the course files of a folder that holds some.
"""
from __future__ import annotations

import argparse
import shutil
import sys
from dataclasses import dataclass, field
from pathlib import Path

import torch

from .checkpoint import CheckpointError, load_model
from .cliargs import ArgumentParser
from .coursefmt import ACT_BITS, CourseVectors, FormatError, read_folder, write_layer
from .data import DataError, load_images
from .extract import LayerError, extract_layer
from .tiling import compute_tiles, tile_layer


@dataclass
class FolderCheck:
    """What `--check` compared: values per kind of file, the kinds absent, and the differences found."""
    compared: dict = field(default_factory=dict)      # kind -> values compared
    not_provided: list = field(default_factory=list)
    problems: list = field(default_factory=list)
    mismatches: int = 0

    @property
    def total(self) -> int:
        return sum(self.compared.values())


def check_vectors(v: CourseVectors, limit: int = 10, only=None, kinds=("psum", "sum", "relu"),
                  twins: bool = True) -> FolderCheck:
    """A course-format folder's internal consistency: every psum recomputed from its activation and weight
    files, every sum and ReLU output from those psums, and every second file that names numbers the folder
    already gives (a decimal *_int.txt twin, the same quantity under two names) against the first.
    `only` (a bool tensor shaped like v.psum) restricts the psum comparison to those entries. Differences are
    named file:line (col c)."""
    t = compute_tiles(v.a_tiles, v.w_tiles, v.side, v.side)
    rep = FolderCheck()

    def diff(kind: str, got: torch.Tensor, exp: torch.Tensor, where, mask=None, what="recomputed from the "
             "activation and weight files"):
        bad = (got != exp) if mask is None else (got != exp) & mask
        rep.compared[kind] = rep.compared.get(kind, 0) + int(exp.numel() if mask is None else mask.sum())
        idx = bad.nonzero().tolist()
        rep.mismatches += len(idx)
        for pos in idx[:max(0, limit - len(rep.problems))]:
            rep.problems.append(f"{where(*pos)}: file has {int(got[tuple(pos)])}, {what} {int(exp[tuple(pos)])}")
        if len(idx) > limit:
            rep.problems.append(f"{kind}: ... {len(idx)} differences in all")

    if "psum" not in kinds:
        pass
    elif v.psum is not None:
        mask = v.psum_mask
        if only is not None:
            mask = only if mask is None else mask & only
        diff("psum", v.psum, t.psum, lambda i, o, c, p, k: v.psum_where(i, o, k, p, c), mask)
    else:
        rep.not_provided.append("psum")
    oc_out = torch.stack([t.out_tile(o) for o in range(t.n_oc)])
    for kind, tensor, exp in (("sum", v.out_raw, oc_out), ("relu", v.out, oc_out.clamp(min=0))):
        if kind not in kinds:
            continue
        if tensor is None or (kind == "relu" and v.relu_derived) or (kind == "sum" and v.sums_derived):
            rep.not_provided.append(kind)
        else:
            fkind = "raw" if kind == "sum" else "relu"
            diff(kind, tensor, exp, lambda o, c, n, fk=fkind: v.out_where(fk, o, n, c))
    for tw in (v.twins or []) if twins else []:
        diff("twin files", tw.twin.values, tw.primary.values,
             lambda line, field, m=tw.twin: f"{m.where(line)} (field {field})",
             what=f"{tw.primary.path.name} has")
    return rep


def prepare_out(out: Path, force: bool) -> None:
    """A new or empty folder; with force, an existing one loses its course files (stale tiles of an earlier,
    larger export would otherwise be read back)."""
    if out.exists() and not out.is_dir():
        raise ValueError(f"--out {out}: exists and is not a folder")
    if out.is_dir() and any(out.iterdir()):
        if not force:
            raise ValueError(f"--out {out}: folder is not empty; choose a new folder or pass --force to replace "
                             f"its course files")
        for q in list(out.glob("*.txt")):
            q.unlink()
        if (out / "viz").is_dir():
            shutil.rmtree(out / "viz")
    out.mkdir(parents=True, exist_ok=True)
    probe = out / ".write-test"
    try:
        probe.write_text("")
        probe.unlink()
    except OSError as e:
        raise ValueError(f"--out {out}: not writable ({e.strerror})") from e


def main(argv=None) -> int:
    ap = ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--checkpoint")
    ap.add_argument("--layer", type=int, default=27, help="index in model.features (default 27, the 8x8 layer)")
    ap.add_argument("--image", type=int, default=0)
    ap.add_argument("--data-dir", default=None, help="take --image from this CIFAR-10 test set")
    ap.add_argument("--rows", type=int, default=8, help="array rows (input channels per tile)")
    ap.add_argument("--cols", type=int, default=8, help="array columns (output channels per tile)")
    ap.add_argument("--psum-bits", type=int, default=16)
    ap.add_argument("--no-psums", action="store_true", help="skip psum files (large layers)")
    ap.add_argument("--out", help="output folder (new or empty)")
    ap.add_argument("--force", action="store_true", help="replace the course files in a non-empty --out folder")
    ap.add_argument("--check", metavar="DIR", help="check a course-format folder instead of exporting")
    args = ap.parse_args(argv)
    try:
        if args.check:
            given = [f for f, v in (("--checkpoint", args.checkpoint), ("--out", args.out), ("--force", args.force),
                                    ("--no-psums", args.no_psums), ("--data-dir", args.data_dir))
                     if v] + [f"--{n.replace('_', '-')}" for n, d in (("layer", 27), ("image", 0), ("rows", 8),
                                                                      ("cols", 8), ("psum_bits", 16))
                              if getattr(args, n) != d]
            if given:   # --check judges the folder as it is: an export option would be silently ignored
                raise ValueError(f"{given[0]}: an export option, not used with --check (the folder says its own "
                                 f"size, widths and files)")
            v = read_folder(args.check)
            rep = check_vectors(v)
            print(f"{args.check}: {v.n_ic} ic tile(s) of {v.channels} {v.a_bits}-bit channels x {v.n_oc} oc tile(s), "
                  f"array {v.rows}x{v.cols}, {v.padded_positions} padded positions")
            for kind in ("psum", "sum", "relu", "twin files"):
                what = f"{rep.compared[kind]} values compared" if kind in rep.compared else "not provided"
                if kind == "relu" and v.relu_derived:   # the simulator paths check the core's outputs against it
                    what = "not provided (outputs after ReLU are checked against max(0, sum) on the core)"
                if kind != "twin files" or kind in rep.compared:
                    print(f"  {kind}: {what}")
            print(f"  reading: {v.reading()}")
            for p in rep.problems:
                print("MISMATCH", p)
            if rep.total == 0:
                print("NOTHING CHECKED: the folder holds no psum or output values")
                return 1
            print(f"consistent ({rep.total} values)" if not rep.problems else f"INCONSISTENT ({rep.mismatches} differences)")
            return 0 if not rep.problems else 1
        if not args.checkpoint or not args.out:
            ap.error("--checkpoint and --out are required to export")
        for name in ("rows", "cols"):
            if not 1 <= getattr(args, name) <= 64:
                raise ValueError(f"--{name} {getattr(args, name)}: must be in 1..64")
        if not 2 <= args.psum_bits <= 48:
            raise ValueError(f"--psum-bits {args.psum_bits}: must be in 2..48")
        out = Path(args.out)
        if out.exists() and not out.is_dir():
            raise ValueError(f"--out {out}: exists and is not a folder")
        model, _ = load_model(args.checkpoint)
        if args.layer == 0:
            raise ValueError("--layer 0: features[0]'s input is the signed normalised image, which the course's "
                             "4-bit unsigned activation format cannot hold; export a later layer (e.g. 27)")
        images, labels = load_images([args.image], args.data_dir)
        layer = extract_layer(model, args.layer, images)
        a_bits = model.features[args.layer].a_bit
        # 2-bit activations: two input channels per array row (the core's 2-bit mode)
        t = tile_layer(layer.a_int[0], layer.w_int, args.rows * (ACT_BITS // a_bits), args.cols)
        prepare_out(out, args.force)
        files = write_layer(t, out, psum_bits=args.psum_bits, psums=not args.no_psums, a_bits=a_bits)
    except (CheckpointError, DataError, LayerError, FormatError, ValueError, OSError) as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    print(f"features[{args.layer}]: {t.in_channels}->{t.out_channels} on {t.height}x{t.width}, {a_bits}-bit "
          f"activations, array {args.rows}x{t.cols}: {t.n_ic} ic tile(s) of {t.rows} channels x {t.n_oc} oc tile(s)")
    print(f"wrote {len(files)} files (+ viz/) to {Path(args.out)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
