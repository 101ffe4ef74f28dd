"""Train VGG16_quant on CIFAR-10 with quantization-aware training.

    python -m golden_py.train --data-dir DIR --epochs 30 --out runs/a4w4 [--resume] [--bf16]
    python -m golden_py.train --data-dir DIR --init MODEL --epochs 6 --swa-from 0 --swa-lr 0.01 --out runs/swa

State (model, optimizer, schedule, epoch, log) is written after every epoch to OUT/state.pt; --resume
continues from it. Shuffling and augmentation draw from a generator seeded by (seed, epoch), so an
interrupted and resumed run makes the same choices as an uninterrupted one.

With --swa-from E, the learning rate anneals to --swa-lr by the end of epoch E and stays there, and the
weights are averaged over the ends of epochs E+1..N (stochastic weight averaging, golden_py.averaging);
model.pt then holds the average, state.pt both the running model and the average.
Such a run may be resumed with a larger --epochs to lengthen the averaging phase.

With --teacher MODEL the loss is knowledge distillation from that (frozen) checkpoint's logits
(golden_py.distill, weight --kd-weight, temperature --kd-temperature), e.g. the 4a4w model teaching the 2a4w one.
"""
from __future__ import annotations

import argparse
import copy
import hashlib
import json
import math
import platform
import sys
import time
from pathlib import Path

import torch
import torch.nn as nn

from .averaging import WeightAverage
from .checkpoint import CheckpointError, load_model, save_inference
from .cliargs import ArgumentParser, interruptible
from .data import TEST_FILES, TRAIN_FILES, DataError, augment, ensure_downloaded, load_split, resolve_data_dir
from .distill import distillation_loss, frozen_teacher
from .evaluate import accuracy
from .model import VGG16Quant, normalize
from .quant import QuantConv2d
from .variant_init import VariantError, calibrate, widen


def lr_factor(step: int, total: int, warmup: int, swa_start: int | None = None, swa_factor: float = 0.0) -> float:
    """Linear warm-up, then cosine to zero at `total`; with SWA, cosine to `swa_factor` at `swa_start`
    and constant from there on."""
    end, floor = (total, 0.0) if swa_start is None else (swa_start, swa_factor)
    if step < warmup:
        return (step + 1) / warmup
    if step >= end:
        return floor
    t = (step - warmup) / max(1, end - warmup)
    return floor + (1.0 - floor) * 0.5 * (1.0 + math.cos(math.pi * t))


# Options that do not change what is trained: a resumed run may differ in these, in nothing else.
NOT_RECIPE = {"data_dir", "download", "out", "resume", "threads", "eval_images"}
PRECISION_NOTE = ("bf16 autocast: weights and activations are quantized in fp32, then autocast casts those "
                  "quantized values to bf16 before each convolution (each rounded to 8 significant bits), "
                  "products accumulated in fp32; BN, loss and evaluation run in fp32")


def dataset_sha256(data_dir) -> str:
    """One hash over the six batch files in a fixed order: the card names the exact data a run saw."""
    folder = resolve_data_dir(data_dir)
    h = hashlib.sha256()
    for name in TRAIN_FILES + TEST_FILES:
        with open(folder / name, "rb") as f:
            for block in iter(lambda: f.read(1 << 20), b""):
                h.update(block)
    return h.hexdigest()


def environment(args) -> dict:
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return {"torch": str(torch.__version__), "python": platform.python_version(), "cpu": cpu,
            "threads": torch.get_num_threads(), "bf16_autocast": bool(args.bf16)}


def load_named_checkpoint(path: str, prefix: str = "") -> tuple[VGG16Quant, dict, str] | None:
    """(model, metadata, sha256 of the file) for a checkpoint named on the command line; None after a one-line
    error."""
    try:
        model, meta = load_model(path)
    except CheckpointError as e:
        print(f"error: {prefix}{e}", file=sys.stderr)
        return None
    return model, meta, hashlib.sha256(Path(path).read_bytes()).hexdigest()


def lineage(path: str, meta: dict, sha256: str) -> dict:
    """What the --init checkpoint was and how it was made (its own command, schedule and --init, recursively),
    so that a model trained in stages carries every stage's command."""
    entry = {"file": str(path), "sha256": sha256}
    for key in ("command", "seed", "epochs_trained", "init", "teacher", "swa_snapshots", "init_checkpoint"):
        if meta.get(key) is not None:
            entry[key] = meta[key]
    return entry


def transfer_matching(src: nn.Module, dst: nn.Module) -> list[str]:
    """Copy src's tensors into dst module by module, pairing QuantConv2d with QuantConv2d and BatchNorm with
    BatchNorm in order (the two numberings differ by the squeeze block's Identity), plus the classifier;
    a pair whose shapes differ is left as dst has it. Returns the dst modules left fresh."""
    def kinds(model):
        convs = [(f"features.{i}", m) for i, m in enumerate(model.features) if isinstance(m, QuantConv2d)]
        bns = [(f"features.{i}", m) for i, m in enumerate(model.features) if isinstance(m, nn.BatchNorm2d)]
        return convs, bns, [("classifier", model.classifier)]
    fresh = []
    for src_list, dst_list in zip(kinds(src), kinds(dst)):
        for (_, sm), (dname, dm) in zip(src_list, dst_list):
            ssd, dsd = sm.state_dict(), dm.state_dict()
            if ssd.keys() == dsd.keys() and all(ssd[k].shape == dsd[k].shape for k in ssd):
                dm.load_state_dict(ssd)
            else:
                fresh.append(dname)
    return fresh


def build_optimizer(model: nn.Module, lr: float, alpha_lr: float, wd: float) -> torch.optim.Optimizer:
    alphas, decay, no_decay = [], [], []
    for name, p in model.named_parameters():
        if name.endswith("act_alpha") or name.endswith("wgt_alpha"):
            alphas.append(p)
        elif p.ndim <= 1:
            no_decay.append(p)  # BN and bias parameters
        else:
            decay.append(p)
    return torch.optim.SGD([
        {"params": decay, "lr": lr, "weight_decay": wd, "base_lr": lr},
        {"params": no_decay, "lr": lr, "weight_decay": 0.0, "base_lr": lr},
        {"params": alphas, "lr": alpha_lr, "weight_decay": 0.0, "base_lr": alpha_lr},
    ], lr=lr, momentum=0.9, nesterov=True)


@interruptible
def main(argv=None) -> int:
    ap = ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data-dir", default=None, help="CIFAR-10 folder (default $CIFAR10_DIR)")
    ap.add_argument("--download", action="store_true",
                    help="fetch CIFAR-10 into --data-dir with torchvision first, when the folder has no batches")
    ap.add_argument("--out", default="runs/vgg16_a4w4", help="folder for state.pt, model.pt, log.jsonl")
    ap.add_argument("--epochs", type=int, default=30)
    ap.add_argument("--batch-size", type=int, default=128)
    ap.add_argument("--lr", type=float, default=0.08)
    ap.add_argument("--alpha-lr", type=float, default=0.01)
    ap.add_argument("--wd", type=float, default=5e-4)
    ap.add_argument("--warmup-epochs", type=float, default=2.0)
    ap.add_argument("--label-smoothing", type=float, default=0.1)
    ap.add_argument("--squeeze", type=int, default=8, choices=(8, 16))
    ap.add_argument("--a-bit", type=int, default=4, choices=(2, 4))
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--bf16", action="store_true",
                    help="bf16 autocast for the convolutions (fast only on CPUs with native bf16, e.g. AVX512-BF16/AMX; "
                         "about 10x slower than fp32 on AVX2-only CPUs)")
    ap.add_argument("--init", default=None, help="start from the weights of this checkpoint (a fine-tuning stage)")
    ap.add_argument("--widen", action="store_true",
                    help="with --init of a narrower squeeze block: copy it into the wider one function-preserving "
                         "(golden_py.variant_init.widen, 1%% noise on the copies) instead of a fresh block")
    ap.add_argument("--calibrate-images", type=int, default=0, metavar="N",
                    help="after --init: fit every activation clip (MSE) and the BatchNorm statistics to the new "
                         "model on N training images before the first step (golden_py.variant_init.calibrate)")
    ap.add_argument("--eval-images", type=int, default=2000,
                    help="test images scored after each epoch (the first N; 0 = all 10,000)")
    ap.add_argument("--swa-from", type=int, default=None, metavar="E",
                    help="stochastic weight averaging: hold the lr at --swa-lr after epoch E and average the weights "
                         "at the end of every later epoch (0 = from the start, e.g. with --init)")
    ap.add_argument("--swa-lr", type=float, default=None, help="constant weight lr of the SWA phase "
                    "(alphas keep their --alpha-lr/--lr ratio)")
    ap.add_argument("--teacher", default=None, metavar="MODEL",
                    help="knowledge distillation from this checkpoint's logits (golden_py.distill)")
    ap.add_argument("--kd-weight", type=float, default=None,
                    help="with --teacher: weight of the distillation term, the labels' cross entropy gets 1 - w "
                         "(default 0.9)")
    ap.add_argument("--kd-temperature", type=float, default=None,
                    help="with --teacher: softmax temperature T (default 4)")
    ap.add_argument("--resume", action="store_true", help="continue from OUT/state.pt")
    ap.add_argument("--limit-batches", type=int, default=0, help="debug: stop each epoch after N batches")
    ap.add_argument("--threads", type=int, default=0)
    args = ap.parse_args(argv)

    if args.swa_from is not None:
        if args.swa_lr is None or args.swa_lr <= 0:
            ap.error("--swa-from needs a positive --swa-lr")
        if not 0 <= args.swa_from < args.epochs:
            ap.error(f"--swa-from {args.swa_from}: must be in [0, --epochs={args.epochs})")
        if args.warmup_epochs > args.swa_from:
            ap.error(f"--warmup-epochs {args.warmup_epochs} must end by --swa-from {args.swa_from}")
    elif args.swa_lr is not None:
        ap.error("--swa-lr needs --swa-from")
    if (args.widen or args.calibrate_images) and not args.init:
        ap.error("--widen and --calibrate-images start from a model: they need --init")
    if args.teacher:
        args.kd_weight = 0.9 if args.kd_weight is None else args.kd_weight
        args.kd_temperature = 4.0 if args.kd_temperature is None else args.kd_temperature
    elif args.kd_weight is not None or args.kd_temperature is not None:
        ap.error("--kd-weight and --kd-temperature need --teacher")
    if args.teacher and not 0 <= args.kd_weight <= 1:
        ap.error(f"--kd-weight {args.kd_weight}: must be in [0, 1]")
    if args.teacher and args.kd_temperature <= 0:
        ap.error(f"--kd-temperature {args.kd_temperature}: must be > 0")
    if args.calibrate_images < 0:
        ap.error(f"--calibrate-images {args.calibrate_images}: must be >= 0")
    if args.threads:
        torch.set_num_threads(args.threads)
    try:
        if args.download:
            ensure_downloaded(args.data_dir)
        train_x, train_y = load_split(args.data_dir, train=True)
        test_x, test_y = load_split(args.data_dir, train=False)
    except DataError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2

    data_hash = dataset_sha256(args.data_dir)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    state_path = out / "state.pt"
    torch.manual_seed(args.seed)
    model = VGG16Quant(squeeze=args.squeeze, a_bit=args.a_bit)
    init_note, init_checkpoint = None, None
    if args.init:
        loaded = load_named_checkpoint(args.init)
        if loaded is None:
            return 2
        init_model, init_meta, init_sha256 = loaded
        init_checkpoint = lineage(args.init, init_meta, init_sha256)
        if init_model.arch() == model.arch():
            if args.widen:
                ap.error(f"--widen: {args.init} already has the requested architecture {model.arch()}")
            model.load_state_dict(init_model.state_dict())
        elif init_model.arch()["w_bit"] != model.arch()["w_bit"]:
            print(f"error: {args.init}: w_bit {init_model.arch()['w_bit']} != requested {model.w_bit}",
                  file=sys.stderr)
            return 2
        elif args.widen:
            try:
                widened = widen(init_model, model, noise=0.01, generator=torch.Generator().manual_seed(args.seed))
            except VariantError as e:
                print(f"error: --widen {args.init}: {e}", file=sys.stderr)
                return 2
            init_note = (f"widened from {init_model.arch()} (golden_py.variant_init.widen, noise 0.01): "
                         f"{', '.join(widened) or 'nothing'}")
        else:
            # another variant (squeeze / a_bit), as notebook 003 starts 2a4w from 4a4w: every tensor whose
            # module (counted in order) and shape match is taken, the rest keeps its fresh initialisation
            skipped = transfer_matching(init_model, model)
            init_note = f"partial init from {init_model.arch()}; fresh: {', '.join(skipped)}"
        if init_note:
            print(init_note)
    teacher, teacher_meta = None, None
    if args.teacher:
        loaded = load_named_checkpoint(args.teacher, prefix="--teacher ")
        if loaded is None:
            return 2
        teacher, _, teacher_sha256 = loaded
        teacher = frozen_teacher(teacher.to(memory_format=torch.channels_last))
        teacher_meta = {"path": args.teacher, "sha256": teacher_sha256, "arch": teacher.arch(),
                        "kd_weight": args.kd_weight, "kd_temperature": args.kd_temperature}
    # channels_last is ~20% faster for oneDNN convolutions on CPU
    model = model.to(memory_format=torch.channels_last)
    opt = build_optimizer(model, args.lr, args.alpha_lr, args.wd)
    steps_per_epoch = math.ceil(len(train_x) / args.batch_size)
    if args.limit_batches:
        steps_per_epoch = min(steps_per_epoch, args.limit_batches)
    total = args.epochs * steps_per_epoch
    warmup = int(args.warmup_epochs * steps_per_epoch)
    swa_start = None if args.swa_from is None else args.swa_from * steps_per_epoch
    swa_factor = 0.0 if args.swa_from is None else args.swa_lr / args.lr
    swa = WeightAverage() if args.swa_from is not None else None
    start_epoch, log = 0, []
    recipe = {k: v for k, v in vars(args).items() if k not in NOT_RECIPE}
    recipe["data_sha256"] = data_hash
    if args.resume and state_path.is_file():
        try:
            # weights_only: a state file is data (tensors, numbers, strings), never code
            st = torch.load(state_path, map_location="cpu", weights_only=True)
            saved_recipe = st["recipe"]
        except Exception as e:
            print(f"error: {state_path}: not a resumable training state ({type(e).__name__}: {e})", file=sys.stderr)
            return 2
        # With SWA the lr never depends on --epochs (it is constant after --swa-from), so a finished or
        # running SWA phase may be extended by resuming with more epochs; the result equals a longer run.
        extendable = args.swa_from is not None and args.epochs >= st["epoch"]
        # a state saved before an option existed ran with that option's default
        saved_recipe = {k: saved_recipe.get(k, ap.get_default(k)) for k in set(recipe) | set(saved_recipe)}
        differ = [k for k in sorted(saved_recipe)
                  if recipe.get(k) != saved_recipe.get(k) and not (k == "epochs" and extendable)]
        if differ:
            print(f"error: {state_path} was started with another recipe: "
                  + ", ".join(f"{k}={saved_recipe.get(k)} (now {recipe.get(k)})" for k in differ)
                  + "; resume with the same values", file=sys.stderr)
            return 2
        model.load_state_dict(st["model"])
        opt.load_state_dict(st["opt"])
        if swa is not None and st.get("swa") is not None:
            swa.load_state_dict(st["swa"])
        start_epoch, log = st["epoch"], st["log"]
        init_note = st.get("init_note")
        print(f"resumed from {state_path} at epoch {start_epoch}")
    elif args.resume:
        print(f"no {state_path} yet: starting from scratch")
    if args.calibrate_images and start_epoch == 0:
        # the images: the first N of a permutation fixed by the seed, unaugmented; deterministic like the rest
        idx = torch.randperm(len(train_x), generator=torch.Generator().manual_seed(args.seed))[:args.calibrate_images]
        t0 = time.time()
        alphas = calibrate(model, normalize(train_x[idx]).contiguous(memory_format=torch.channels_last))
        note = (f"activation clips (MSE) and BatchNorm statistics calibrated on {len(idx)} training images: "
                + ", ".join(f"{k} {v:.3f}" for k, v in alphas.items()))
        init_note = f"{init_note}; {note}" if init_note else note
        n_eval = args.eval_images or len(test_x)
        print(f"calibrated in {time.time() - t0:.0f} s; test top-1 on the first {n_eval} images before training: "
              f"{accuracy(model, test_x[:n_eval], test_y[:n_eval]):.2f}%")
    # The log file is rewritten from the state: an epoch cut off between its log line and its state save
    # is run again, and logged once.
    (out / "log.jsonl").write_text("".join(json.dumps(r) + "\n" for r in log))

    criterion = nn.CrossEntropyLoss(label_smoothing=args.label_smoothing)
    try:
        from tqdm import tqdm
    except ImportError:  # progress bars are a convenience
        tqdm = None

    for epoch in range(start_epoch, args.epochs):
        gen = torch.Generator().manual_seed(args.seed * 100003 + epoch)
        perm = torch.randperm(len(train_x), generator=gen)
        model.train()
        t0 = time.time()
        seen, loss_sum, correct = 0, 0.0, 0
        batches = range(steps_per_epoch)
        bar = tqdm(batches, desc=f"epoch {epoch + 1}/{args.epochs}", mininterval=10, ncols=100) if tqdm else batches
        for b in bar:
            idx = perm[b * args.batch_size:(b + 1) * args.batch_size]
            x = normalize(augment(train_x[idx], gen)).contiguous(memory_format=torch.channels_last)
            y = train_y[idx]
            f = lr_factor(epoch * steps_per_epoch + b, total, warmup, swa_start, swa_factor)
            for g in opt.param_groups:
                g["lr"] = g["base_lr"] * f
            with torch.autocast("cpu", dtype=torch.bfloat16, enabled=args.bf16):
                logits = model(x)
                if teacher is not None:
                    with torch.no_grad():
                        teacher_logits = teacher(x)
            if teacher is None:
                loss = criterion(logits.float(), y)
            else:
                loss = distillation_loss(logits.float(), teacher_logits.float(), y, args.kd_weight,
                                         args.kd_temperature, args.label_smoothing)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            seen += len(y)
            loss_sum += loss.item() * len(y)
            correct += (logits.argmax(1) == y).sum().item()
            if tqdm:
                bar.set_postfix(loss=f"{loss_sum / seen:.3f}", acc=f"{100 * correct / seen:.1f}")
        n_eval = args.eval_images or len(test_x)
        test_top1 = accuracy(model, test_x[:n_eval], test_y[:n_eval])
        rec = {"epoch": epoch + 1, "train_loss": round(loss_sum / seen, 4),
               "train_acc": round(100 * correct / seen, 2), "test_top1": round(test_top1, 2), "test_images": n_eval}
        saved = model
        if swa is not None and epoch + 1 > args.swa_from:
            swa.update(model)
            saved = copy.deepcopy(model)
            swa.copy_to(saved)
            rec["swa_snapshots"] = swa.count
            rec["swa_test_top1"] = round(accuracy(saved, test_x[:n_eval], test_y[:n_eval]), 2)
        rec["seconds"] = round(time.time() - t0, 1)
        log.append(rec)
        print(json.dumps(rec), flush=True)
        with open(out / "log.jsonl", "a") as f:
            f.write(json.dumps(rec) + "\n")
        meta = {"command": "python -m golden_py.train " + " ".join(sys.argv[1:] if argv is None else argv),
                "seed": args.seed, "epochs_trained": epoch + 1, "epochs_planned": args.epochs,
                "test_top1_during_training": rec.get("swa_test_top1", rec["test_top1"]),
                "test_images_during_training": n_eval, "recipe": recipe, "environment": environment(args),
                "precision": PRECISION_NOTE if args.bf16 else "fp32"}
        if init_note:
            meta["init"] = init_note
        if teacher_meta:
            meta["teacher"] = teacher_meta
        if init_checkpoint:
            meta["init_checkpoint"] = init_checkpoint
        if saved is not model:
            meta["swa_snapshots"] = swa.count
        save_inference(saved, out / "model.pt", meta)
        tmp = state_path.with_suffix(".tmp")
        torch.save({"model": model.state_dict(), "opt": opt.state_dict(), "epoch": epoch + 1, "log": log,
                    "recipe": recipe, "init_note": init_note,
                    "swa": swa.state_dict() if swa is not None else None}, tmp)
        tmp.replace(state_path)
    return 0


if __name__ == "__main__":
    sys.exit(main())
