"""The whole VGG16 through the simulated core: every conv layer with unsigned integer input runs on the core
(through its adapter, like every other test), the host does the rest (features[0] with its signed image
input, BN, ReLU, max-pool, re-quantisation, the classifier), and every layer's integer output is checked
bit-exactly against golden_py on the same input as it appears.

cocotb test `test_network`; configuration keys: checkpoint, images (indices), data_dir, layers (None: all),
corrupt_layer (negative test: one weight tile of that layer corrupted), report_dir, plot (False: the JSON
report only, as the farm's chunks write it), array (for the report).
"""
from __future__ import annotations

import dataclasses
import hashlib
import json
import time
from pathlib import Path

import cocotb
import torch

from accel_host.config import CoreConfig
from accel_host.cycles import check_bound
from accel_host.mapping import names

from .adapter import tile_rows
from .checker import LayerChecker, job_from_ints
from .env import Environment, make_adapter
from .runner import ROOT, load_config
from .sim import now_cycle


class CollectingChecker(LayerChecker):
    """Checks each output as it appears and keeps it, so the host can carry the RTL's values on."""

    def __init__(self, job, **kw):
        super().__init__(job, kinds=("relu",), **kw)
        self._seen = {}     # (image, oc_tile, o_nij) -> values, the last one reported (a tensor write per word
                            # cost ~7% of the simulation)

    def output(self, image, oc_tile, o_nij, values, time=""):
        super().output(image, oc_tile, o_nij, values, time)
        self._seen[(image, oc_tile, o_nij)] = values

    @property
    def got(self) -> torch.Tensor:
        """(images, channels, positions) of every output seen; positions never written hold -2^40."""
        job, c = self.job, self.job.cols
        got = torch.full((job.images, job.n_oc, job.height * job.width, c), -(1 << 40), dtype=torch.long)
        if self._seen:
            image, oc_tile, o_nij = zip(*self._seen)
            got[list(image), list(oc_tile), list(o_nij)] = torch.tensor(list(self._seen.values()), dtype=torch.long)
        return got.permute(0, 1, 3, 2).reshape(job.images, job.n_oc * c, job.height * job.width)


def job_in_dataflow(job, dataflow):
    """The same job in another dataflow (a shallow copy)."""
    return dataclasses.replace(job, dataflow=dataflow)


def _compared(rows) -> bool:
    """Whether a report's layers were run in both dataflows (--compare)."""
    return any(len(r.get("dataflows", {})) > 1 for r in rows)


def locate_mismatch(index: int, got: torch.Tensor, exp: torch.Tensor, image_ids=None) -> str:
    bad = (got != exp).nonzero().tolist()
    n, c, y, x = bad[0]
    image = image_ids[n] if image_ids is not None else n
    return (f"features[{index}]: {len(bad)} of {exp.numel()} outputs differ; first at image {image}, output "
            f"channel {c}, (y, x) = ({y}, {x}): expected {int(exp[n, c, y, x])} got {int(got[n, c, y, x])}")


def corrupt_weight_tile(job) -> None:
    """Negative test: one weight of oc tile 0, ic tile 0, kij 4 -- PE (row 2, column 5) -- gets its sign bit
    flipped after the expectation was computed, so the layer's output channel 5 goes wrong."""
    w_w = CoreConfig().w_w
    u = (int(job.w_tiles[0, 0, 5, 2, 4]) & ((1 << w_w) - 1)) ^ (1 << (w_w - 1))     # the sign bit flipped
    job.w_tiles[0, 0, 5, 2, 4] = u - (1 << w_w) if u >= 1 << (w_w - 1) else u


@cocotb.test()
async def test_network(dut):
    from golden_py.checkpoint import load_model  # noqa: PLC0415
    from golden_py.data import load_images
    from golden_py.model import normalize
    from golden_py.netchain import HostStep, segments

    cfg = load_config()
    model, meta = load_model(cfg["checkpoint"])
    images, labels = load_images(cfg["images"], cfg.get("data_dir") or None)
    n_img = len(cfg["images"])
    adapter = make_adapter(dut, cfg.get("adapter"), {"monitor_psums": False, "label": "network"})
    env = Environment(dut, adapter)
    await env.start()
    g = adapter.geometry
    wall0, cyc0 = time.perf_counter(), now_cycle()
    problems, compared, stats = [], 0, {}
    x = normalize(images)
    steps = segments(model, cfg.get("layers"))
    conv_steps = [s for s in steps if not isinstance(s, HostStep)]
    try:
        from tqdm import tqdm
        bar = tqdm(total=len(conv_steps), desc="layers", unit="layer", mininterval=2, leave=False, disable=None)
    except ImportError:
        bar = None
    with torch.no_grad():
        for i, step in enumerate(steps):
            if isinstance(step, HostStep):
                x = step(x)
                continue
            a_int = step.quantize_input(x)
            nxt = [m for m in (steps[i + 1].modules if i + 1 < len(steps) and isinstance(steps[i + 1], HostStep)
                               else []) if not isinstance(m, torch.nn.Identity)]
            relu = bool(nxt) and isinstance(nxt[0], torch.nn.ReLU)
            job = job_from_ints(f"features[{step.index}]", a_int, step.w_int, tile_rows(g, step.conv.a_bit), g.cols,
                                relu=relu, a_bits=step.conv.a_bit, psums=False)
            job.dataflow = cfg.get("dataflow", "auto")
            checker = CollectingChecker(job, log=dut._log.error, max_reports=3)
            if step.index == cfg.get("corrupt_layer"):
                corrupt_weight_tile(job)
                dut._log.warning(f"NEGATIVE TEST: one weight of features[{step.index}] corrupted (PE row 2, col 5)")
            t0 = time.perf_counter()
            both = {}
            if cfg.get("compare"):
                # the dataflow not chosen runs the same layer first (checked the same way), for its cycles
                chosen = adapter.layer_mapping(job).name
                for other in (d for d in names() if d != chosen):
                    other_job = job_in_dataflow(job, other)
                    try:
                        adapter.layer_mapping(other_job)
                    except Exception as e:  # noqa: BLE001 -- the other dataflow may not fit this layer
                        both[other] = {"cycles": None, "model": None, "why": str(e)}
                        continue
                    side = CollectingChecker(job, log=dut._log.error, max_reports=3)
                    await adapter.run_layer(other_job, side)
                    if side.errors:
                        problems.append(f"features[{step.index}] in {other}: " +
                                        "; ".join(sb.summary() for sb in side.scoreboards.values()))
                    both[other] = {"cycles": sum(adapter.stats["compute_cycles"]) / n_img,
                                   "model": adapter.stats["model_cycles"]}
            await adapter.run_layer(job, checker)
            oc, h, w = job.out_channels, job.height, job.width
            got = checker.got[:, :oc].reshape(n_img, oc, h, w)
            exp = job.expected["relu"][:, :, :, :].reshape(n_img, -1, h * w)[:, :oc].reshape(n_img, oc, h, w)
            compared += exp.numel()
            if checker.errors or not torch.equal(got, exp):
                msg = locate_mismatch(step.index, got, exp, cfg["images"]) if not torch.equal(got, exp) else \
                    f"features[{step.index}]: " + "; ".join(sb.summary() for sb in checker.scoreboards.values())
                dut._log.error("MISMATCH " + msg)
                problems.append(msg)
                got = exp   # carry on with golden values so later layers are judged on their own
            else:
                dut._log.info(f"features[{step.index}] {tuple(a_int.shape[1:])} -> {tuple(got.shape[1:])}: "
                              f"{exp.numel()} outputs bit-exact ({time.perf_counter() - t0:.1f} s)")
            st = adapter.stats
            both[st["dataflow"]] = {"cycles": sum(st["compute_cycles"]) / n_img, "model": st["model_cycles"]}
            stats[step.index] = {"index": step.index, "a_bits": job.a_bits, "dataflow": st["dataflow"],
                                 "dataflows": both, "in_channels": job.in_channels,
                                 "out_channels": oc,
                                 "height": h, "width": w, "chunks": st["chunks"], "macs_per_image": job.macs,
                                 "ideal_cycles": st["ideal_cycles"], "scalesim_cycles": st["scalesim_cycles"],
                                 "model_cycles": st["model_cycles"],
                                 "compute_cycles": st["compute_cycles"], "act_load_cycles": st["act_words"],
                                 "wgt_load_cycles": st["wgt_words"]}
            x = step.dequantize_output(got)
            if bar:
                bar.update(1)
        if bar:
            bar.close()
        logits = model.classifier(torch.flatten(x, 1))
        ref = model(normalize(images))
    wall = time.perf_counter() - wall0
    pred, ref_pred = logits.argmax(1), ref.argmax(1)
    agree, correct = int((pred == ref_pred).sum()), int((pred == labels).sum())
    raw = {"stats": stats, "images": cfg["images"], "agree": agree, "correct": correct, "compared": compared,
           "problems": problems, "wall": wall, "sim_cycles": now_cycle() - cyc0,
           "predictions": {"rtl": pred.tolist(), "pytorch": ref_pred.tolist(), "labels": labels.tolist()}}
    report = build_report([raw], cfg, adapter.cfg.as_dict())
    print_report(dut._log.info, report)
    if cfg.get("report_dir"):
        write_report(report, Path(cfg["report_dir"]), plot=cfg.get("plot", True))
    assert not problems, "RTL layer outputs differ from golden_py:\n" + "\n".join(problems)
    assert agree == n_img, f"RTL predictions agree with PyTorch on {agree}/{n_img} images"


# ------------------------------------------------------------------------------------------ report
def relative(path: str) -> str:
    """Paths in reports relative to the project when inside it (reports travel between machines)."""
    p = Path(path).resolve()
    try:
        return str(p.relative_to(ROOT))
    except ValueError:
        return p.name


def build_report(raws: list[dict], cfg: dict, core: dict) -> dict:
    """The network report of one run, or of several chunks of images run apart (accel_tb.farm): per-image
    figures are concatenated, so the layers, agreement and accuracy equal one process's over the same
    images; weights are written once per chunk, which `wgt_load_cycles_per_layer` counts."""
    images = [i for r in raws for i in r["images"]]
    n_img = len(images)
    stats = {}
    for r in raws:
        for idx, s in r["stats"].items():
            acc = stats.setdefault(int(idx), {**s, "compute_cycles": [], "act_load_cycles": [], "wgt_load_cycles": 0})
            acc["compute_cycles"] = acc["compute_cycles"] + list(s["compute_cycles"])
            acc["act_load_cycles"] = acc["act_load_cycles"] + list(s["act_load_cycles"])
            acc["wgt_load_cycles"] += s["wgt_load_cycles"]
    rows = []
    for idx in sorted(stats):
        s = stats[idx]
        cyc = sum(s["compute_cycles"]) / n_img
        act = sum(s["act_load_cycles"]) / n_img
        rows.append({**{k: s[k] for k in ("index", "a_bits", "dataflow", "dataflows", "in_channels", "out_channels",
                                          "height", "width", "chunks", "macs_per_image", "ideal_cycles",
                                          "scalesim_cycles", "model_cycles")},
                     "compute_cycles": cyc, "utilization": s["ideal_cycles"] / cyc,
                     # counting the host's memory writes too (weights are written once per run)
                     "utilization_with_loads": s["ideal_cycles"] / (cyc + act + s["wgt_load_cycles"] / n_img),
                     "act_load_cycles": act, "wgt_load_cycles_per_layer": s["wgt_load_cycles"],
                     "compute_cycles_per_image": s["compute_cycles"]})
    ideal = sum(r["ideal_cycles"] for r in rows)
    comp = sum(r["compute_cycles"] for r in rows)
    act = sum(r["act_load_cycles"] for r in rows)
    wgt = sum(r["wgt_load_cycles_per_layer"] for r in rows)
    guard = [v for r in rows if (v := check_bound(r["compute_cycles"], r["model_cycles"], f"features[{r['index']}]"))]
    agree, correct = sum(r["agree"] for r in raws), sum(r["correct"] for r in raws)
    wall = sum(r["wall"] for r in raws)
    sim_cycles = sum(r["sim_cycles"] for r in raws)
    preds = {k: [v for r in raws for v in r["predictions"][k]] for k in ("rtl", "pytorch", "labels")}
    return {
        "checkpoint": relative(cfg["checkpoint"]),
        # which file ran, not only its name: a checkpoint replaced in place keeps its path
        "checkpoint_sha256": hashlib.sha256(Path(cfg["checkpoint"]).read_bytes()).hexdigest(),
        "images": n_img, "array": f"{core['rows']}x{core['cols']}",
        "core": core,
        "host_layers": "features[0] (signed image input), BN/ReLU/max-pool/re-quantisation between layers, classifier",
        "layers": rows,
        "totals_per_image": {"macs": sum(r["macs_per_image"] for r in rows), "ideal_cycles": ideal,
                             "compute_cycles": comp, "utilization": ideal / comp if comp else 0.0,
                             "utilization_with_loads": ideal / (comp + act + wgt / n_img) if comp else 0.0,
                             "scalesim_cycles": sum(r["scalesim_cycles"] for r in rows),
                             "act_load_cycles": act, "wgt_load_cycles_per_run": wgt},
        "outputs_compared": sum(r["compared"] for r in raws),
        "layer_mismatches": [p for r in raws for p in r["problems"]],
        "model_cycles_per_image": sum(r["model_cycles"] for r in rows), "cycle_bound_violations": guard,
        "prediction_agreement": f"{agree}/{n_img}", "label_accuracy": f"{correct}/{n_img}",
        "predictions": {"images": images, **preds},
        "chunks": len(raws),
        "wall_seconds": wall, "wall_seconds_per_image": wall / n_img, "simulated_cycles": sim_cycles,
        "simulated_cycles_per_second": sim_cycles / wall if wall else 0.0,
        "raw": raws,
    }


def print_report(log, rep):
    c = rep["core"]
    log(f"core {rep['array']}: ACC_W={c['acc_w']} PSUM_W={c['psum_w']} ACT_DEPTH={c['act_depth']} "
        f"WGT_DEPTH={c['wgt_depth']} ACC_DEPTH={c['acc_depth']} (derived from the layers)")
    compare = _compared(rep["layers"])
    log(f"{'layer':>6} {'a':>2} {'df':>2} {'shape':>16} {'MACs':>10} {'cycles':>9} {'model':>9} {'ideal':>9} {'util':>7} "
        f"{'SCALE-Sim':>10} {'act ld':>7} {'wgt ld':>7} {'util+ld':>7}"
        + (f" {'WS cycles':>9} {'WS model':>9} {'OS cycles':>9} {'OS model':>9}  winner" if compare else ""))
    for r in rep["layers"]:
        shape = f"{r['in_channels']}->{r['out_channels']}@{r['height']}x{r['width']}"
        extra = ""
        if compare:
            d = r["dataflows"]

            def f(df, k, d=d):
                v = d.get(df, {}).get(k)
                return f"{v:>9.0f}" if v is not None else f"{'-':>9}"
            ws, os_ = d.get("ws", {}).get("cycles"), d.get("os", {}).get("cycles")
            win = ("WS" if ws <= os_ else "OS") + f" by {abs(ws - os_) / max(ws, os_) * 100:.1f}%" if ws and os_ else "-"
            extra = f" {f('ws', 'cycles')} {f('ws', 'model')} {f('os', 'cycles')} {f('os', 'model')}  {win}"
        log(f"{r['index']:>6} {r['a_bits']:>2} {r['dataflow']:>2} {shape:>16} {r['macs_per_image']:>10} "
            f"{r['compute_cycles']:>9.0f} {r['model_cycles']:>9} {r['ideal_cycles']:>9.0f} {100 * r['utilization']:>6.2f}% {r['scalesim_cycles']:>10} "
            f"{r['act_load_cycles']:>7.0f} {r['wgt_load_cycles_per_layer']:>7} {100 * r['utilization_with_loads']:>6.2f}%"
            + extra)
    t = rep["totals_per_image"]
    log(f"{'total':>6} {'':>2} {'':>2} {'':>16} {t['macs']:>10} {t['compute_cycles']:>9.0f} {rep['model_cycles_per_image']:>9} "
        f"{t['ideal_cycles']:>9.0f} "
        f"{100 * t['utilization']:>6.2f}% {t['scalesim_cycles']:>10} {t['act_load_cycles']:>7.0f} "
        f"{t['wgt_load_cycles_per_run']:>7} {100 * t['utilization_with_loads']:>6.2f}%")
    log("a: activation bits (2: the core's 2-bit mode, 2 MACs per PE and cycle); cycles: first command to last "
        "output per image; model: accel_host.cycles; ideal = MACs / (ROWS x COLS x MACs per PE); util = ideal / cycles; act ld / wgt ld: host "
        "memory writes (weights once per run); util+ld counts them too")
    log(f"outputs compared bit-exactly: {rep['outputs_compared']}, layers with mismatches: {len(rep['layer_mismatches'])}")
    log("cycle model (accel_host.cycles) as the performance bound: "
        + ("every layer within it" if not rep["cycle_bound_violations"] else "; ".join(rep["cycle_bound_violations"])))
    log(f"prediction agreement RTL vs PyTorch: {rep['prediction_agreement']}; label accuracy: {rep['label_accuracy']}")
    log(f"wall {rep['wall_seconds']:.1f} s ({rep['wall_seconds_per_image']:.1f} s/image), "
        f"{rep['simulated_cycles']} simulated cycles, {rep['simulated_cycles_per_second']:.0f} cycles/s")


def write_report(rep, out_dir: Path, plot: bool = True):
    out_dir.mkdir(parents=True, exist_ok=True)
    (out_dir / "network_report.json").write_text(json.dumps(rep, indent=1))
    if not plot:
        return
    try:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return
    rows = rep["layers"]
    names = [f"{r['index']}\n{r['in_channels']}->{r['out_channels']}\n{r['height']}x{r['width']}" for r in rows]
    fig, ax = plt.subplots(figsize=(11, 5))
    xs = range(len(rows))
    ax.bar([x - 0.27 for x in xs], [100 * r["utilization"] for r in rows], width=0.27, label="RTL, compute cycles")
    ax.bar(list(xs), [100 * r["utilization_with_loads"] for r in rows], width=0.27,
           label="RTL, with host memory writes")
    ax.bar([x + 0.27 for x in xs], [100 * r["ideal_cycles"] / r["scalesim_cycles"] for r in rows], width=0.27,
           label="SCALE-Sim estimate (chosen dataflow)")
    if _compared(rows):
        for df, marker, colour, dx in (("ws", "D", "black", -0.4), ("os", "v", "tab:red", -0.14)):
            ys = [100 * r["ideal_cycles"] / r["dataflows"][df]["cycles"] if r["dataflows"].get(df, {}).get("cycles")
                  else None for r in rows]
            pts = [(x + dx, y) for x, y in zip(xs, ys) if y is not None]
            ax.scatter([p[0] for p in pts], [p[1] for p in pts], marker=marker, s=45, color=colour,
                       edgecolors="white", linewidths=0.8, zorder=3, label=f"{df.upper()} measured (compute cycles)")
    ax.set_xticks(list(xs), names, fontsize=8)
    ax.set_ylabel("MAC utilization (%)")
    ax.set_ylim(0, 105)
    t = rep["totals_per_image"]
    ax.set_title(f"VGG16 conv layers on the {rep['array']} core: MAC-weighted utilization "
                 f"{100 * t['utilization']:.2f}% ({100 * t['utilization_with_loads']:.2f}% with memory writes), "
                 f"{rep['images']} image(s)", fontsize=10)
    ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.2), ncol=3, fontsize=8, frameon=False)
    fig.tight_layout()
    fig.savefig(out_dir / "utilization.png", dpi=120)
