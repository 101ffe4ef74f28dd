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
import os
import shutil
import sys
import tempfile
from pathlib import Path

from . import observability
from .checkpoint_file import CheckpointError, checkpoint_path
from .cliargs import ArgumentParser, interruptible
from .coursefmt import ACT_BITS, FormatError, is_course_name, read_folder, write_layer
from .data import DataError, check_indices
from .folder_check import check_vectors
from .tiling import tile_layer


def prepare_out(out: Path, force: bool) -> None:
    """Judged before anything is computed: a new or empty folder, or (force) one whose course files the export
    replaces; a place where the folder can be made or written."""
    if out.exists() and not out.is_dir():
        raise ValueError(f"--out {out}: exists and is not a folder")
    if out.is_dir() and any(out.iterdir()) and not force:
        raise ValueError(f"--out {out}: folder is not empty; choose a new folder or pass --force to replace "
                         f"its course files")
    where = out if out.is_dir() else next((q for q in out.parents if q.is_dir()), Path("."))
    if not os.access(where, os.W_OK | os.X_OK):
        raise ValueError(f"--out {out}: not writable ({where} is not)")


def _course_files(out: Path) -> list[Path]:
    """The course files of a folder (what read_folder reads by name, and their viz/viz_ twins): what --force
    replaces. Other files (a student's notes, viz/ files of their own) stay."""
    top = [q for q in out.glob("*") if q.is_file() and is_course_name(q.name)]
    return top + [q for q in out.glob("viz/viz_*") if q.is_file() and is_course_name(q.name[len("viz_"):])]


def write_out(t, out: Path, **kw) -> list[Path]:
    """write_layer into a folder of its own, then into `out`: a value that does not fit (or any error) leaves
    `out` as it was (force deleted its files first, then the export stopped: a probe). An existing `out` gets the
    new files from a folder inside it (the same file system, whatever a link or a mount makes of its parent)
    before its stale course files go (tiles of an earlier, larger export would be read back); every other file
    stays. A new `out` is the folder written beside it, renamed."""
    if out.is_dir():
        tmp = Path(tempfile.mkdtemp(prefix=".export-", dir=out))
        try:
            files = [f.relative_to(tmp) for f in write_layer(t, tmp, **kw)]
            (out / "viz").mkdir(exist_ok=True)
            for f in files:
                os.replace(tmp / f, out / f)
            for q in _course_files(out):
                if q.relative_to(out) not in files:
                    q.unlink()
            return [out / f for f in files]
        finally:
            shutil.rmtree(tmp, ignore_errors=True)
    missing = [q for q in [out, *out.parents] if not q.exists()]
    top = missing[-1]       # the first folder this export makes (removed on an error)
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{out.name}.export-", dir=out.parent))
    try:
        files = write_layer(t, tmp, **kw)
        umask = os.umask(0)
        os.umask(umask)
        tmp.chmod(0o777 & ~umask)       # mkdtemp's folder is private (0700); a folder the user made is not
        os.replace(tmp, out)
        return [out / f.relative_to(tmp) for f in files]
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        if top != out and top.exists():
            shutil.rmtree(top, ignore_errors=True)      # folders made for it
        raise


def _unchecked_weights(v, rep) -> list[str]:
    """What the simulator paths say of the weights no comparison of the folder sees (golden_py.observability), for
    the folder against itself: its psums where it gives them (every padded position is 'streamed'), its sums or
    outputs where it gives those."""
    # sums derived from a full set of psum files are what the simulator paths compare the core's sums with
    outputs = "sum" in rep.compared or "relu" in rep.compared or bool(v.sums_derived)
    streamed = [range(v.padded_positions)] * 9 if "psum" in rep.compared else None
    a, shape = v.a_tiles[None], (v.side, v.side, v.n_ic * v.channels, v.n_oc * v.cols)
    counted = observability.unobservable(a, v.w_tiles, *shape, outputs,
                                         observability.psum_positions(v.psum_mask, streamed))
    hidden = observability.clamped(a, v.w_tiles, *shape, counted[3]) \
        if counted and "relu" in rep.compared and "sum" not in rep.compared else 0
    return observability.summary_lines(counted, hidden, outputs)


def _check(args) -> int:
    """--check: the folder against itself (golden_py.folder_check), what was compared printed per kind."""
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
    for line in _unchecked_weights(v, rep):
        print(f"  {line}")
    for p in rep.problems:
        print("MISMATCH", p)
    if rep.total == 0:
        print("NOTHING CHECKED: the folder holds no psum or output values")
        return 1
    print(f"consistent ({rep.total} values)" if not rep.problems else f"INCONSISTENT ({rep.mismatches} differences)")
    return 0 if not rep.problems else 1


@interruptible
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
    if args.check:
        try:
            return _check(args)
        except BrokenPipeError:
            raise                   # `| head`: the command's guard ends it quietly (141), not as bad input
        except (FormatError, ValueError, OSError) as e:
            print(f"error: {e}", file=sys.stderr)
            return 2
    if not args.checkpoint or not args.out:
        ap.error("--checkpoint and --out are required to export")
    out = Path(args.out)
    problem = next((f"--{n} {getattr(args, n)}: must be in 1..64" for n in ("rows", "cols")
                    if not 1 <= getattr(args, n) <= 64), None)
    if problem is None and not 2 <= args.psum_bits <= 48:
        problem = f"--psum-bits {args.psum_bits}: must be in 2..48"
    if problem is None and out.exists() and not out.is_dir():
        problem = f"--out {out}: exists and is not a folder"
    if problem is None and args.layer == 0:
        problem = ("--layer 0: features[0]'s input is the signed normalised image, which the course's 4-bit "
                   "unsigned activation format cannot hold; export a later layer (e.g. 27)")
    if problem is None:
        try:
            checkpoint_path(args.checkpoint)      # a missing file or a folder, judged without torch
            check_indices([args.image], args.data_dir)     # the samples or the folder, and the index's range
            prepare_out(out, args.force)          # not empty without --force, not writable
        except (CheckpointError, DataError, OSError, ValueError) as e:
            problem = str(e)
    if problem:        # before the checkpoint is read: that imports torch (seconds)
        print(f"error: {problem}", file=sys.stderr)
        return 2
    from .checkpoint import load_model  # noqa: PLC0415
    from .data import load_images  # noqa: PLC0415
    from .extract import LayerError, extract_layer  # noqa: PLC0415
    try:
        model, _ = load_model(args.checkpoint)
        images, labels = load_images([args.image], args.data_dir)
        layer = extract_layer(model, args.layer, images)
        a_bits = model.features[args.layer].a_bit
        # 2-bit activations: two input channels per array row (the core's 2-bit mode)
        t = tile_layer(layer.a_int[0], layer.w_int, args.rows * (ACT_BITS // a_bits), args.cols)
        files = write_out(t, out, psum_bits=args.psum_bits, psums=not args.no_psums, a_bits=a_bits)
    except (CheckpointError, DataError, LayerError, FormatError, ValueError, OSError) as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    print(f"features[{args.layer}]: {t.in_channels}->{t.out_channels} on {t.height}x{t.width}, {a_bits}-bit "
          f"activations, array {args.rows}x{t.cols}: {t.n_ic} ic tile(s) of {t.rows} channels x {t.n_oc} oc tile(s)")
    print(f"wrote {len(files)} files (+ viz/) to {Path(args.out)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
