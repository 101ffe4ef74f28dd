"""Simulation speed side by side: the whole network on this tree and on an earlier commit, in turn.

    python -m accel_tb.network.speed --base aade0f0 [--images 2] [--pairs 2] [--dataflow ws]

The earlier commit is checked out once as a git worktree under build/speed/<commit> (its own models, built
there); each pair runs `accel-network --no-cache` on that tree, then on this one, on the same images, and
prints each run's simulated cycles per second (the network report's figure: simulated cycles over the wall
time of the layer loop, golden model included) and the ratio now/base; the median ratio last. Alternating the
two in pairs keeps a drift of the machine's speed out of the ratio. Nothing is judged: it prints figures
(docs/network.md quotes them). Both runs must pass (exit 0) for their figures to be printed; a run that fails
stops the comparison with its exit status.
"""
from __future__ import annotations

import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

from accel_tb.design.interrupt import interruptible
from accel_tb.design.runner import ROOT, ensure_tools_on_path
from golden_py.cliargs import ArgumentParser


class SpeedError(RuntimeError):
    """Bad input or a run that did not pass: one line, exit status 2 (input) or the run's."""

    def __init__(self, message: str, status: int = 2):
        super().__init__(message)
        self.status = status


def git(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(["git", "-C", str(ROOT), *args], capture_output=True, text=True)


def resolve(base: str) -> str:
    """The full hash of a commit of this repository, or SpeedError."""
    if shutil.which("git") is None or git("rev-parse", "--git-dir").returncode != 0:
        raise SpeedError(f"{ROOT} is not a git checkout: --base needs the repository's history")
    r = git("rev-parse", "--verify", "--quiet", "--end-of-options", f"{base}^{{commit}}")
    if r.returncode != 0 or not r.stdout.strip():
        raise SpeedError(f"--base {base}: not a commit of this repository")
    return r.stdout.strip()


def worktree(sha: str) -> Path:
    """build/speed/<sha>: that commit's tree, checked out once and reused."""
    path = ROOT / "build" / "speed" / sha[:12]
    if not (path / "accel_tb").is_dir():
        path.parent.mkdir(parents=True, exist_ok=True)
        git("worktree", "prune")
        r = git("worktree", "add", "--detach", "--force", str(path), sha)
        if r.returncode != 0:
            why = (r.stderr.strip().splitlines() or ["no message"])[-1]
            raise SpeedError(f"--base {sha[:12]}: git worktree add failed: {why}")
    return path


# the model's kind where accel-network's PASS line names it (accel_tb.cli.network.model_words)
MODEL_IN_PASS_LINE = re.compile(r"^PASS: .*, ([^,()]+) model\)$", re.M)


def run_network(tree: Path, images: int, dataflow: str, sim: str, out: Path, data_dir: str | None = None) -> dict:
    """One network run on `tree` (its own code and models); its report's figures and the model it ran on (the
    last words of its PASS line where its accel-network prints them: "-O2", "profile-guided"; else "-")."""
    env = {**os.environ, "PYTHONPATH": str(tree), "OMP_NUM_THREADS": "1"}
    env.pop("ACCEL_BUILD_DIR", None)        # each tree builds its own models, in its own build/
    cmd = [sys.executable, "-m", "accel_tb.cli.network", "--sim", sim, "--images", str(images),
           "--dataflow", dataflow, "--report-dir", str(out),       # one process: no chunk cache
           *(["--data-dir", data_dir] if data_dir else [])]
    r = subprocess.run(cmd, cwd=tree, env=env, capture_output=True, text=True)
    if r.returncode != 0:
        last = (r.stderr.strip() or r.stdout.strip()).splitlines()[-1:] or ["(no output)"]
        raise SpeedError(f"{tree}: accel-network exited {r.returncode}: {last[0]}", r.returncode)
    rep = json.loads((out / "network_report.json").read_text())
    said = MODEL_IN_PASS_LINE.search(r.stdout)
    return {**{k: rep[k] for k in ("simulated_cycles", "simulated_cycles_per_second", "wall_seconds_per_image")},
            "model": said[1] if said else "-"}


def compare(base: str, images: int, pairs: int, dataflow: str, sim: str, run=None, log=print,
            data_dir: str | None = None) -> float:
    """Run the pairs; prints a row per run and returns the median ratio now/base of cycles per second."""
    run = run or run_network
    sha = resolve(base)
    trees = {"base": worktree(sha), "now": ROOT}
    log(f"the whole network, {images} image(s), {dataflow}, {sim}: base {sha[:12]} ({trees['base']}) against this "
        f"tree, {pairs} pair(s) in turn")
    log(f"{'pair':>4} {'tree':>4} {'cycles':>10} {'cycles/s':>10} {'s/image':>8}  model")
    ratios = []
    with tempfile.TemporaryDirectory(prefix="accel-speed-") as tmp:
        for p in range(pairs):
            got = {}
            for label, tree in trees.items():
                got[label] = run(tree, images, dataflow, sim, Path(tmp) / f"{label}-{p}", data_dir)
                g = got[label]
                log(f"{p + 1:>4} {label:>4} {g['simulated_cycles']:>10} {g['simulated_cycles_per_second']:>10.0f} "
                    f"{g['wall_seconds_per_image']:>8.1f}  {g.get('model', '-')}")
            ratios.append(got["now"]["simulated_cycles_per_second"] / got["base"]["simulated_cycles_per_second"])
    med = statistics.median(ratios)
    log(f"cycles/s now/base: median {med:.2f}x (pairs: {', '.join(f'{r:.2f}' for r in ratios)})")
    return med


@interruptible
def main(argv=None) -> int:
    ap = ArgumentParser(prog="python -m accel_tb.network.speed", description=__doc__.split("\n\n")[0])
    ap.add_argument("--base", required=True, help="the earlier commit (any git revision)")
    ap.add_argument("--images", type=int, default=2, help="images per run (default 2; the 16 bundled ones, or "
                    "--data-dir's)")
    ap.add_argument("--data-dir", default=None, help="a CIFAR-10 test set for both trees (accel-network's --data-dir)")
    ap.add_argument("--pairs", type=int, default=2, help="base/now pairs, in turn (default 2)")
    ap.add_argument("--dataflow", default="ws", choices=("ws", "os", "auto"))
    ap.add_argument("--sim", default="verilator", choices=("verilator", "icarus"))
    args = ap.parse_args(argv)
    try:
        for flag, v in (("--images", args.images), ("--pairs", args.pairs)):
            if v < 1:
                raise SpeedError(f"{flag} {v}: at least 1")
        # the images both trees' accel-network will read, judged here (as accel-network judges them) before the base
        # tree is checked out and its models built: the base's refusal came after that, in its folder's name
        from golden_py.data import DataError, check_indices, resolve_data_dir  # noqa: PLC0415
        try:
            data_dir = resolve_data_dir(args.data_dir) if args.data_dir else None
        except DataError as e:
            raise SpeedError(f"--data-dir {e}") from None
        try:
            check_indices([args.images - 1], data_dir)
        except DataError as e:
            raise SpeedError(f"--images: {e}") from None
        ensure_tools_on_path()
        compare(args.base, args.images, args.pairs, args.dataflow, args.sim,
                data_dir=str(Path(args.data_dir).resolve()) if args.data_dir else None)
    except SpeedError as e:
        print(f"error: {e}", file=sys.stderr)
        return e.status
    return 0


if __name__ == "__main__":
    sys.exit(main())
