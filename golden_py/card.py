"""Write a checkpoint's card: what someone needs to reproduce it and what it scores.

    python -m golden_py.card --checkpoint checkpoints/vgg16_a2w4.pt --run runs/a2w4 --data-dir DIR \\
        --provenance "CIFAR-10 rebuilt with shared/data/cifar10/build.py (JPEG-decoded beyond the first 1,017 per batch)" \\
        --status "..." --out checkpoints/vgg16_a2w4.json

The card records the exact command, seed, schedule and per-epoch log of the run (from its model.pt and
log.jsonl), the environment it ran in (torch, CPU, threads, precision), the data's provenance and the hash
of its batch files, and the top-1 of the file on all 10,000 test images and on the first 1,017 (whose
pixels are exact in the rebuilt set), measured here by golden_py.evaluate's code.
"""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import torch

from .checkpoint import CheckpointError, load_model
from .cliargs import ArgumentParser, interruptible
from .data import DataError, load_split
from .evaluate import accuracy
from .train import dataset_sha256


def portable_command(command: str) -> str:
    words = command.split()
    for i, w in enumerate(words[:-1]):
        if w == "--data-dir":
            words[i + 1] = "DIR"          # machine-specific; the card says what DIR held (data.provenance)
    return " ".join(words)


def portable_lineage(entry: dict | None) -> dict | None:
    """The --init chain (golden_py.train.lineage) with every stage's command made portable."""
    if not entry:
        return entry
    entry = dict(entry)
    if "command" in entry:
        entry["command"] = portable_command(entry["command"])
    if "init_checkpoint" in entry:
        entry["init_checkpoint"] = portable_lineage(entry["init_checkpoint"])
    return entry


@interruptible
def main(argv=None) -> int:
    ap = ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--checkpoint", required=True)
    ap.add_argument("--run", required=True, help="the training run's folder (log.jsonl)")
    ap.add_argument("--data-dir", default=None)
    ap.add_argument("--provenance", required=True, help="how the data folder was made")
    ap.add_argument("--status", default="")
    ap.add_argument("--out", required=True)
    args = ap.parse_args(argv)
    try:
        model, meta = load_model(args.checkpoint)
        x, y = load_split(args.data_dir, train=False)
        data_hash = dataset_sha256(args.data_dir)
    except (CheckpointError, DataError) as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    log_path = Path(args.run) / "log.jsonl"
    log = [json.loads(line) for line in log_path.read_text().splitlines() if line.strip()] if log_path.is_file() else []
    top1 = round(accuracy(model, x, y), 2)
    top1_exact = round(accuracy(model, x[:1017], y[:1017]), 2)
    if meta.get("recipe", {}).get("data_sha256") not in (None, data_hash):
        print(f"error: {args.data_dir}: batch files differ from the ones the run trained on "
              f"({meta['recipe']['data_sha256'][:12]}... vs {data_hash[:12]}...)", file=sys.stderr)
        return 2
    card = {
        "status": args.status,
        "file": Path(args.checkpoint).name,
        "arch": model.arch(),
        "command": portable_command(meta.get("command") or ""),
        "seed": meta.get("seed"),
        "epochs_trained": meta.get("epochs_trained"),
        "epochs_planned": meta.get("epochs_planned"),
        "recipe": meta.get("recipe"),
        "init": meta.get("init"),
        "teacher": meta.get("teacher"),
        "init_checkpoint": portable_lineage(meta.get("init_checkpoint")),
        "swa_snapshots": meta.get("swa_snapshots"),
        "precision": meta.get("precision"),
        "environment": meta.get("environment"),
        "data": {"provenance": args.provenance, "batch_files_sha256": data_hash},
        "top1_cifar10_test_10000": top1,
        "top1_first_1017_test_images_exact_pixels": top1_exact,
        "evaluated_with": f"golden_py.evaluate code, fp32, torch {torch.__version__}",
        "per_epoch_log": log,
    }
    Path(args.out).write_text(json.dumps(card, indent=1) + "\n")
    print(f"top1={top1:.2f}% (10,000), {top1_exact:.2f}% (first 1,017); wrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
