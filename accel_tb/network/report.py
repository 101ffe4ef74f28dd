"""The whole network's report: per-layer cycles and utilization (with and without the host's memory writes),
agreement with PyTorch, the cycle-bound guard, speed; built from one run or from many chunks run apart
(accel_tb.network.farm), printed, and saved as JSON with a utilization plot."""
from __future__ import annotations

import hashlib
import json
from pathlib import Path

from accel_host.cycles import check_bound, per_image
from accel_tb.design.runner import ROOT


def _compared(rows) -> bool:
    """Whether a report's layers were run in both dataflows (--compare)."""
    return any(len(r.get("dataflows", {})) > 1 for r in rows)



def relative(path: str) -> str:
    """Paths in reports relative to the project when inside it (reports travel between machines)."""
    p = Path(path).resolve()
    try:
        return str(p.relative_to(ROOT))
    except ValueError:
        return p.name


def build_report(raws: list[dict], cfg: dict, core: dict) -> dict:
    """The network report of one run, or of several chunks of images run apart (accel_tb.network.farm): per-image
    figures are concatenated, so the layers, agreement and accuracy equal one process's over the same
    images; weights are written once per chunk, which `wgt_load_cycles_per_layer` counts."""
    images = [i for r in raws for i in r["images"]]
    n_img = len(images)
    stats = {}
    for r in raws:
        for idx, s in r["stats"].items():
            acc = stats.setdefault(int(idx), {**s, "compute_cycles": [], "act_load_cycles": [], "wgt_load_cycles": 0,
                                              "wgt_prefetched_words": 0, "span_cycles": 0, "fill_cycles": 0})
            acc["compute_cycles"] = acc["compute_cycles"] + list(s["compute_cycles"])
            acc["act_load_cycles"] = acc["act_load_cycles"] + list(s["act_load_cycles"])
            acc["wgt_load_cycles"] += s["wgt_load_cycles"]
            # the cycle model's waits of each run's filling first step (a report from before the fills has none)
            acc["fill_cycles"] += s.get("fill_cycles", 0)
            acc["wgt_prefetched_words"] += s.get("wgt_prefetched_words", 0)
            # first write of the layer's run to its last output (weights written behind the layer before
            # excluded); a report from before the memory regions has none: its loads were serial
            acc["span_cycles"] += s.get("span_cycles", sum(s["compute_cycles"]) + sum(s["act_load_cycles"]) +
                                        s["wgt_load_cycles"])
    rows = []
    for idx in sorted(stats):
        s = stats[idx]
        cyc = sum(s["compute_cycles"]) / n_img
        act = sum(s["act_load_cycles"]) / n_img
        span = s["span_cycles"] / n_img
        rows.append({**{k: s[k] for k in ("index", "a_bits", "dataflow", "dataflows", "in_channels", "out_channels",
                                          "height", "width", "chunks", "macs_per_image", "ideal_cycles",
                                          "scalesim_cycles")},
                     # per image, with the waits of each run's filling first step (accel_host.cycles.fill_delay)
                     "model_cycles": per_image(s["model_cycles"], s["fill_cycles"], n_img),
                     "compute_cycles": cyc, "utilization": s["ideal_cycles"] / cyc,
                     # from the layer's first memory write to its last output: the writes the core's two memory
                     # regions did not hide behind compute count too
                     "utilization_with_loads": s["ideal_cycles"] / span, "span_cycles": span,
                     "exposed_load_cycles": span - cyc,
                     "act_load_cycles": act, "wgt_load_cycles_per_layer": s["wgt_load_cycles"],
                     "wgt_prefetched_words": s["wgt_prefetched_words"],
                     "compute_cycles_per_image": s["compute_cycles"]})
    ideal = sum(r["ideal_cycles"] for r in rows)
    comp = sum(r["compute_cycles"] for r in rows)
    act = sum(r["act_load_cycles"] for r in rows)
    wgt = sum(r["wgt_load_cycles_per_layer"] for r in rows)
    span = sum(r["span_cycles"] for r in rows)
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
                             "utilization_with_loads": ideal / span if span else 0.0, "span_cycles": span,
                             "exposed_load_cycles": span - comp,
                             "wgt_prefetched_words": sum(r["wgt_prefetched_words"] for r in rows),
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
        # how the ports were driven and watched: the top's host I/O in the simulator, or Python (--python-io)
        "io": "python" if any(r.get("io") == "python" for r in raws) else "simulator",
        "raw": raws,
    }


def cycles(v: float) -> str:
    """A cycle figure in the table's 9 columns: a whole number as such, a model whose fill waits are spread over
    the images to one decimal (a rounded bound could read as below a measured count it bounds)."""
    return f"{v:>9.0f}" if float(v).is_integer() else f"{v:>9.1f}"


def print_report(log, rep):
    c = rep["core"]
    log(f"core {rep['array']}: ACC_W={c['acc_w']} PSUM_W={c['psum_w']} ACT_DEPTH={c['act_depth']} "
        f"WGT_DEPTH={c['wgt_depth']} ACC_DEPTH={c['acc_depth']} (derived from the layers)")
    compare = _compared(rep["layers"])
    log(f"{'layer':>6} {'a':>2} {'df':>2} {'shape':>16} {'MACs':>10} {'cycles':>9} {'model':>9} {'ideal':>9} {'util':>7} "
        f"{'SCALE-Sim':>10} {'act ld':>7} {'wgt ld':>7} {'wgt pre':>7} {'exposed':>7} {'util+ld':>7}"
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
            f"{r['compute_cycles']:>9.0f} {cycles(r['model_cycles'])} {r['ideal_cycles']:>9.0f} {100 * r['utilization']:>6.2f}% {r['scalesim_cycles']:>10} "
            f"{r['act_load_cycles']:>7.0f} {r['wgt_load_cycles_per_layer']:>7} {r['wgt_prefetched_words']:>7} "
            f"{r['exposed_load_cycles']:>7.0f} {100 * r['utilization_with_loads']:>6.2f}%"
            + extra)
    t = rep["totals_per_image"]
    log(f"{'total':>6} {'':>2} {'':>2} {'':>16} {t['macs']:>10} {t['compute_cycles']:>9.0f} {cycles(rep['model_cycles_per_image'])} "
        f"{t['ideal_cycles']:>9.0f} "
        f"{100 * t['utilization']:>6.2f}% {t['scalesim_cycles']:>10} {t['act_load_cycles']:>7.0f} "
        f"{t['wgt_load_cycles_per_run']:>7} {t['wgt_prefetched_words']:>7} {t['exposed_load_cycles']:>7.0f} "
        f"{100 * t['utilization_with_loads']:>6.2f}%")
    log("a: activation bits (2: the core's 2-bit mode, 2 MACs per PE and cycle); cycles: first command to last "
        "output per image; model: accel_host.cycles; ideal = MACs / (ROWS x COLS x MACs per PE); util = ideal / cycles; act ld / wgt ld: host "
        "memory writes (weights once per run); wgt pre: weight words written behind the layer before (into the "
        "core's other memory region); exposed: cycles per image from the layer's first write to its last output "
        "beyond its compute cycles (the writes not hidden); util+ld = ideal / (cycles + exposed)")
    log(f"outputs compared bit-exactly: {rep['outputs_compared']}, layers with mismatches: {len(rep['layer_mismatches'])}")
    log("cycle model (accel_host.cycles) as the performance bound: "
        + ("every layer within it" if not rep["cycle_bound_violations"] else "; ".join(rep["cycle_bound_violations"])))
    log(f"prediction agreement RTL vs PyTorch: {rep['prediction_agreement']}; label accuracy: {rep['label_accuracy']}")
    log(f"wall {rep['wall_seconds']:.1f} s ({rep['wall_seconds_per_image']:.1f} s/image), "
        f"{rep['simulated_cycles']} simulated cycles, {rep['simulated_cycles_per_second']:.0f} cycles/s "
        f"(ports driven and watched {'from Python' if rep.get('io') == 'python' else 'in the simulator'})")


def save_report(rep, out_dir: Path, plot: bool = True):
    """network_report.json and, with matplotlib, utilization.png in out_dir."""
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
