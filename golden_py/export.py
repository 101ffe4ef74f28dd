"""Export a layer of the checkpoint in the course's text format, or check such a folder.

    python -m golden_py.export --checkpoint checkpoints/vgg16_a4w4.pt --layer 27 --image 0 --out golden/
    python -m golden_py.export --check golden/

--image N picks the N-th bundled sample image, or the N-th test image with --data-dir.
--check recomputes the psums from the activation and weight files and compares them with the psum files,
and out_raw/out with the accumulated (and ReLU'd) psums; it exits 1 on any difference.
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

import torch

from .checkpoint import CheckpointError, load_model
from .coursefmt import CourseVectors, FormatError, read_folder, write_layer
from .data import DataError, load_images
from .extract import LayerError, extract_layer
from .tiling import compute_tiles, tile_layer


def check_vectors(v: CourseVectors, limit: int = 10) -> tuple[int, list[str]]:
    """(values compared, first mismatch descriptions) of a course-format folder's internal consistency."""
    t = compute_tiles(v.a_tiles, v.w_tiles, v.side, v.side)
    compared, problems = 0, []

    def diff(name: str, got: torch.Tensor, exp: torch.Tensor, labels: list[str]):
        nonlocal compared
        compared += exp.numel()
        bad = (got != exp).nonzero().tolist()
        for pos in bad[:max(0, limit - len(problems))]:
            where = ", ".join(f"{lab}={p}" for lab, p in zip(labels, pos))
            problems.append(f"{name}: {where}: file has {int(got[tuple(pos)])}, recomputed {int(exp[tuple(pos)])}")
        if len(bad) > limit:
            problems.append(f"{name}: ... {len(bad)} mismatches in all")

    if v.psum is not None:
        diff("psum", v.psum, t.psum, ["itile", "otile", "col", "nij", "kij"])
    oc_out = torch.stack([t.out_tile(o) for o in range(t.n_oc)])
    if v.out_raw is not None:
        diff("out_raw", v.out_raw, oc_out, ["otile", "col", "o_nij"])
    if v.out is not None:
        diff("out", v.out, oc_out.clamp(min=0), ["otile", "col", "o_nij"])
    return compared, problems


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--checkpoint")
    ap.add_argument("--layer", type=int, default=27, help="index in model.features (default 27, the 8x8 layer)")
    ap.add_argument("--image", type=int, default=0)
    ap.add_argument("--data-dir", default=None, help="take --image from this CIFAR-10 test set")
    ap.add_argument("--rows", type=int, default=8, help="array rows (input channels per tile)")
    ap.add_argument("--cols", type=int, default=8, help="array columns (output channels per tile)")
    ap.add_argument("--psum-bits", type=int, default=16)
    ap.add_argument("--no-psums", action="store_true", help="skip psum files (large layers)")
    ap.add_argument("--out", help="output folder")
    ap.add_argument("--check", metavar="DIR", help="check a course-format folder instead of exporting")
    args = ap.parse_args(argv)
    try:
        if args.check:
            v = read_folder(args.check)
            compared, problems = check_vectors(v)
            print(f"{args.check}: {v.n_ic} ic tile(s) x {v.n_oc} oc tile(s), array {v.rows}x{v.cols}, "
                  f"{v.padded_positions} padded positions; {compared} values compared")
            for p in problems:
                print("MISMATCH", p)
            print("consistent" if not problems else "INCONSISTENT")
            return 0 if not problems else 1
        if not args.checkpoint or not args.out:
            ap.error("--checkpoint and --out are required to export")
        model, _ = load_model(args.checkpoint)
        images, labels = load_images([args.image], args.data_dir)
        layer = extract_layer(model, args.layer, images)
        t = tile_layer(layer.a_int[0], layer.w_int, args.rows, args.cols)
        files = write_layer(t, args.out, psum_bits=args.psum_bits, psums=not args.no_psums)
    except (CheckpointError, DataError, LayerError, FormatError, ValueError) as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    print(f"features[{args.layer}]: {t.in_channels}->{t.out_channels} on {t.height}x{t.width}, "
          f"array {t.rows}x{t.cols}: {t.n_ic} ic tile(s) x {t.n_oc} oc tile(s)")
    print(f"wrote {len(files)} files (+ viz/) to {Path(args.out)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
