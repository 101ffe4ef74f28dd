"""Top-1 accuracy of a checkpoint on the CIFAR-10 test set (fp32).

    python -m golden_py.evaluate --checkpoint checkpoints/vgg16_a4w4.pt --data-dir DIR

The last output line is `top1=NN.NN%`.
"""
from __future__ import annotations

import argparse
import sys

from .checkpoint_file import CheckpointError, checkpoint_path
from .cliargs import ArgumentParser, interruptible
from .data import DataError, ensure_downloaded, load_split

# torch (about 1.4 s to import) is imported once the options and the checkpoint's path are judged: a bad one is
# one line without it (the checkpoint's content, read with torch, is judged before the data folder, as before)


def predict(model, images_u8, batch_size: int = 500, progress: bool = False):
    import torch

    from .model import normalize
    was_training = model.training
    model.eval()
    starts = range(0, len(images_u8), batch_size)
    if progress:
        try:
            from tqdm import tqdm
            starts = tqdm(starts, desc="evaluate", unit="batch", leave=False, disable=None)
        except ImportError:  # progress bars are a convenience
            pass
    with torch.no_grad():
        preds = [model(normalize(images_u8[i:i + batch_size])).argmax(1) for i in starts]
    model.train(was_training)
    return torch.cat(preds)


def accuracy(model, images_u8, labels) -> float:
    return 100.0 * (predict(model, images_u8) == labels).float().mean().item()


@interruptible
def main(argv=None) -> int:
    ap = ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--checkpoint", required=True)
    ap.add_argument("--data-dir", default=None, help="CIFAR-10 folder (default $CIFAR10_DIR)")
    ap.add_argument("--download", action="store_true",
                    help="fetch CIFAR-10 into --data-dir with torchvision first, when the folder has no batches")
    ap.add_argument("--limit", type=int, default=0, help="only the first N test images")
    args = ap.parse_args(argv)
    if args.limit < 0:
        print(f"error: --limit {args.limit}: must be >= 0 (0 = all test images)", file=sys.stderr)
        return 2
    try:
        checkpoint_path(args.checkpoint)
        from .checkpoint import load_model
        model, meta = load_model(args.checkpoint)
        if args.download:
            ensure_downloaded(args.data_dir)
        x, y = load_split(args.data_dir, train=False)
    except (CheckpointError, DataError) as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    if args.limit:
        x, y = x[:args.limit], y[:args.limit]
    pred = predict(model, x, progress=True)
    correct = int((pred == y).sum())
    print(f"checkpoint: {args.checkpoint} ({meta.get('epochs_trained', '?')} epochs)")
    print(f"images: {len(y)}  correct: {correct}")
    print(f"top1={100.0 * correct / len(y):.2f}%")
    return 0


if __name__ == "__main__":
    sys.exit(main())
