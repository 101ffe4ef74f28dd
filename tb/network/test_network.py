"""The whole VGG16 through the RTL core: every conv layer with unsigned 4-bit inputs runs on the
simulated accelerator, the host does the rest (features[0] with its signed image input, BN, ReLU,
max-pool, re-quantisation, the classifier), and every layer's integer output is checked bit-exactly
against golden_py on the same input.

cocotb test `test_network`; environment: IMAGES (default 1), FIRST_IMAGE (0), LAYERS (comma list, default
all), CHECKPOINT, DATA_DIR (take images from the test set instead of the bundled samples), REPORT_DIR
(JSON + PNG), CORRUPT_LAYER (negative test: corrupt one weight tile of that layer).
"""
from __future__ import annotations

import json
import os
import time
from pathlib import Path

import cocotb
import pytest
import torch
from cocotb.triggers import ReadOnly, RisingEdge, Timer
from cocotb.utils import get_sim_time

from accel.layout import CoreConfig, unpack_lanes
from accel.netmap import chunks, plan_layer
from accel.runner import CORE_SOURCES, ROOT, rtl_sources, run, run_expect_failure

NET_CONFIG = CoreConfig(rows=8, cols=8, acc_w=24, act_depth=16384, wgt_depth=65536, acc_depth=1024)
NET_PARAMS = {**NET_CONFIG.parameters(), "CMD_DEPTH": 256}
CLK_NS = 10


def now_cycles() -> int:
    return int(get_sim_time("ns") // CLK_NS)


class NetRunner:
    """Drives whole layers through the core with as little Python per clock as possible: memory writes
    one word per cycle, all commands of a chunk queued at once, outputs read in bursts."""

    def __init__(self, dut, cfg: CoreConfig):
        self.dut, self.cfg = dut, cfg
        self.stats: dict[int, dict] = {}
        self.cmd_id = 0

    async def start(self):
        from accel.sim import start
        d = self.dut
        await start(d, cycles=3, act_wr_valid=0, wgt_wr_valid=0, cmd_valid=0, out_ready=1, act_wr_addr=0,
                    act_wr_data=0, wgt_wr_addr=0, wgt_wr_data=0, cmd_data=0)

    async def _wait_high(self, sig):
        await ReadOnly()
        if not int(sig.value):
            await RisingEdge(sig)
        await Timer(1, unit="ps")   # leave the read-only phase before driving

    async def write(self, which: str, words) -> int:
        d = self.dut
        valid, ready = getattr(d, f"{which}_wr_valid"), getattr(d, f"{which}_wr_ready")
        addr, data = getattr(d, f"{which}_wr_addr"), getattr(d, f"{which}_wr_data")
        await self._wait_high(ready)   # the core accepts writes once idle, and stays idle meanwhile
        for a, w in words:
            addr.value = a
            data.value = w
            valid.value = 1
            await RisingEdge(d.clk)
        valid.value = 0
        return len(words)

    async def run_chunk(self, chunk) -> tuple[dict, int, int]:
        """Write a chunk's activations, run its commands, return ({(id, addr): values}, first-cmd cycle,
        last-output cycle)."""
        d, cfg = self.dut, self.cfg
        await self.write("act", chunk.act_words)
        n_out = len(chunk.commands) * chunk.rows * chunk.commands[0].ow
        for i, cmd in enumerate(chunk.commands):
            d.cmd_data.value = cmd.pack()
            d.cmd_valid.value = 1
            await RisingEdge(d.clk)
            if i == 0:
                first = now_cycles()
        d.cmd_valid.value = 0
        got = {}
        last = first
        await ReadOnly()
        while len(got) < n_out:
            if not int(d.out_valid.value):
                await RisingEdge(d.out_valid)   # the simulator runs freely until results come
                await ReadOnly()
                continue
            # out_ready is held high: the word shown now is taken at the next edge
            key = (int(d.out_id.value), int(d.out_addr.value))
            got[key] = unpack_lanes(int(d.out_data.value), cfg.cols, cfg.acc_w, signed=True)
            last = now_cycles()
            await RisingEdge(d.clk)
            await ReadOnly()
        await Timer(1, unit="ps")
        return got, first, last

    async def conv(self, step, a_int: torch.Tensor, relu: bool, corrupt: bool) -> torch.Tensor:
        """One layer for all images: (N, IC, H, W) -> (N, OC, H, W) integers from the RTL."""
        cfg = self.cfg
        n, ic, h, w = a_int.shape
        oc = step.w_int.shape[0]
        lm = plan_layer(ic, oc, h, w, step.w_int, cfg)
        st = self.stats.setdefault(step.index, dict(index=step.index, in_channels=ic, out_channels=oc,
                                                    height=h, width=w, macs_per_image=lm.macs,
                                                    ideal_cycles=lm.ideal_cycles(),
                                                    scalesim_cycles=lm.scalesim_cycles(),
                                                    chunks=-(-h // lm.chunk_rows), compute_cycles=[],
                                                    act_load_cycles=[], wgt_load_cycles=0))
        out = torch.zeros(n, lm.n_oc * cfg.cols, h, w, dtype=torch.long)
        for ocs, wwords in lm.groups:
            if corrupt:
                # negative test: one weight tile (oc tile 0, ic tile 0, kij 4) with PE (2, 5) changed
                a, word = wwords[4]
                wwords = list(wwords)
                wwords[4] = (a, word ^ (0x8 << ((2 * cfg.cols + 5) * cfg.w_w)))
                corrupt = False
            st["wgt_load_cycles"] += await self.write("wgt", wwords)
            for img in range(n):
                compute = act = 0
                for ch in chunks(lm, a_int[img], ocs, self.cmd_id, relu):
                    self.cmd_id = (self.cmd_id + len(ch.commands)) & 0xFFFF
                    act += len(ch.act_words)
                    got, first, last = await self.run_chunk(ch)
                    compute += last - first + 1
                    for j, (o, cmd) in enumerate(zip(ocs, ch.commands)):
                        for addr in range(ch.rows * w):
                            vals = got.get((cmd.id, addr))
                            if vals is None:
                                raise AssertionError(f"features[{step.index}] image {img}: output "
                                                     f"{addr} of command {cmd.id} never appeared")
                            y, x = divmod(addr, w)
                            out[img, o * cfg.cols:(o + 1) * cfg.cols, ch.y0 + y, x] = torch.tensor(vals)
                if len(st["compute_cycles"]) <= img:
                    st["compute_cycles"].append(0)
                    st["act_load_cycles"].append(0)
                st["compute_cycles"][img] += compute
                st["act_load_cycles"][img] += act
        return out[:, :oc]


def locate_mismatch(index: int, got: torch.Tensor, exp: torch.Tensor) -> str:
    bad = (got != exp).nonzero().tolist()
    n, c, y, x = bad[0]
    return (f"features[{index}]: {len(bad)} of {exp.numel()} outputs differ; first at image {n}, output "
            f"channel {c}, (y, x) = ({y}, {x}): expected {int(exp[n, c, y, x])} got {int(got[n, c, y, x])}")


@cocotb.test()
async def test_network(dut):
    from golden_py.checkpoint import load_model
    from golden_py.data import load_images
    from golden_py.extract import int_conv
    from golden_py.model import normalize
    from golden_py.netchain import ConvStep, HostStep, segments

    ckpt = os.environ.get("CHECKPOINT", str(ROOT / "checkpoints" / "vgg16_a4w4.pt"))
    n_img, first_img = int(os.environ.get("IMAGES", "1")), int(os.environ.get("FIRST_IMAGE", "0"))
    layers = [int(v) for v in os.environ["LAYERS"].split(",")] if os.environ.get("LAYERS") else None
    corrupt_layer = int(os.environ.get("CORRUPT_LAYER", "-1"))
    model, meta = load_model(ckpt)
    images, labels = load_images(range(first_img, first_img + n_img), os.environ.get("DATA_DIR") or None)
    runner = NetRunner(dut, NET_CONFIG)
    await runner.start()
    wall0 = time.perf_counter()
    cyc0 = now_cycles()
    problems = []
    compared = 0
    x = normalize(images)
    steps = segments(model, layers)
    with torch.no_grad():
        for i, step in enumerate(steps):
            if isinstance(step, HostStep):
                x = step(x)
                continue
            a_int = step.quantize_input(x)
            nxt = steps[i + 1].modules[0] if i + 1 < len(steps) and isinstance(steps[i + 1], HostStep) else None
            relu = isinstance(nxt, torch.nn.ReLU)
            t0 = time.perf_counter()
            got = await runner.conv(step, a_int, relu, corrupt=(step.index == corrupt_layer))
            exp = int_conv(a_int, step.w_int)
            if relu:
                exp = exp.clamp(min=0)
            compared += exp.numel()
            if not torch.equal(got, exp):
                msg = locate_mismatch(step.index, got, exp)
                dut._log.error("MISMATCH " + msg)
                problems.append(msg)
                got = exp   # carry on with golden values so later layers are checked on their own
            else:
                dut._log.info(f"features[{step.index}] {tuple(a_int.shape[1:])} -> {tuple(got.shape[1:])}: "
                              f"{exp.numel()} outputs bit-exact ({time.perf_counter() - t0:.1f} s)")
            x = step.dequantize_output(got)
        logits = model.classifier(torch.flatten(x, 1))
        ref = model(normalize(images))
    wall = time.perf_counter() - wall0
    sim_cycles = now_cycles() - cyc0
    pred, ref_pred = logits.argmax(1), ref.argmax(1)
    agree = int((pred == ref_pred).sum())
    correct = int((pred == labels).sum())
    report = build_report(runner.stats, n_img, agree, correct, compared, problems, wall, sim_cycles, meta, ckpt)
    print_report(dut._log.info, report)
    out_dir = os.environ.get("REPORT_DIR")
    if out_dir:
        write_report(report, Path(out_dir))
    assert not problems, "RTL layer outputs differ from golden_py:\n" + "\n".join(problems)
    assert agree == n_img, f"RTL predictions agree with PyTorch on {agree}/{n_img} images"


# ------------------------------------------------------------------------------------------ report
def build_report(stats, n_img, agree, correct, compared, problems, wall, sim_cycles, meta, ckpt) -> dict:
    rows = []
    for idx in sorted(stats):
        s = stats[idx]
        cyc = sum(s["compute_cycles"]) / n_img
        rows.append({**{k: s[k] for k in ("index", "in_channels", "out_channels", "height", "width", "chunks",
                                          "macs_per_image", "ideal_cycles", "scalesim_cycles")},
                     "compute_cycles": cyc, "utilization": s["ideal_cycles"] / cyc,
                     # counting the host's memory writes too (weights are written once per run)
                     "utilization_with_loads": s["ideal_cycles"] / (cyc + sum(s["act_load_cycles"]) / n_img
                                                                    + s["wgt_load_cycles"] / n_img),
                     "act_load_cycles": sum(s["act_load_cycles"]) / n_img,
                     "wgt_load_cycles_per_layer": s["wgt_load_cycles"]})
    ideal = sum(r["ideal_cycles"] for r in rows)
    comp = sum(r["compute_cycles"] for r in rows)
    return {
        "checkpoint": str(ckpt), "images": n_img, "array": f"{NET_CONFIG.rows}x{NET_CONFIG.cols}",
        "host_layers": "features[0] (signed image input), BN/ReLU/max-pool/re-quantisation between layers, classifier",
        "layers": rows,
        "totals_per_image": {"macs": sum(r["macs_per_image"] for r in rows), "ideal_cycles": ideal,
                             "compute_cycles": comp, "utilization": ideal / comp if comp else 0.0,
                             "utilization_with_loads": ideal / (comp + sum(r["act_load_cycles"] for r in rows)
                                                                + sum(r["wgt_load_cycles_per_layer"] for r in rows) / n_img),
                             "scalesim_cycles": sum(r["scalesim_cycles"] for r in rows),
                             "act_load_cycles": sum(r["act_load_cycles"] for r in rows),
                             "wgt_load_cycles_per_run": sum(r["wgt_load_cycles_per_layer"] for r in rows)},
        "outputs_compared": compared, "layer_mismatches": problems,
        "prediction_agreement": f"{agree}/{n_img}", "label_accuracy": f"{correct}/{n_img}",
        "wall_seconds": wall, "wall_seconds_per_image": wall / n_img, "simulated_cycles": sim_cycles,
        "simulated_cycles_per_second": sim_cycles / wall if wall else 0.0,
    }


def print_report(log, rep):
    log(f"{'layer':>6} {'shape':>16} {'MACs':>10} {'cycles':>9} {'ideal':>9} {'util':>7} {'SCALE-Sim':>10} "
        f"{'act ld':>7} {'wgt ld':>7} {'util+ld':>7}")
    for r in rep["layers"]:
        shape = f"{r['in_channels']}->{r['out_channels']}@{r['height']}x{r['width']}"
        log(f"{r['index']:>6} {shape:>16} {r['macs_per_image']:>10} {r['compute_cycles']:>9.0f} "
            f"{r['ideal_cycles']:>9.0f} {100 * r['utilization']:>6.2f}% {r['scalesim_cycles']:>10} "
            f"{r['act_load_cycles']:>7.0f} {r['wgt_load_cycles_per_layer']:>7} {100 * r['utilization_with_loads']:>6.2f}%")
    t = rep["totals_per_image"]
    log(f"{'total':>6} {'':>16} {t['macs']:>10} {t['compute_cycles']:>9.0f} {t['ideal_cycles']:>9.0f} "
        f"{100 * t['utilization']:>6.2f}% {t['scalesim_cycles']:>10} {t['act_load_cycles']:>7.0f} "
        f"{t['wgt_load_cycles_per_run']:>7} {100 * t['utilization_with_loads']:>6.2f}%")
    log("cycles: first command to last output per image; util = ideal / cycles; act ld / wgt ld: host memory "
        "writes (weights once per run); util+ld counts them too")
    log(f"outputs compared bit-exactly: {rep['outputs_compared']}, layers with mismatches: {len(rep['layer_mismatches'])}")
    log(f"prediction agreement RTL vs PyTorch: {rep['prediction_agreement']}; label accuracy: {rep['label_accuracy']}")
    log(f"wall {rep['wall_seconds']:.1f} s ({rep['wall_seconds_per_image']:.1f} s/image), "
        f"{rep['simulated_cycles']} simulated cycles, {rep['simulated_cycles_per_second']:.0f} cycles/s")


def write_report(rep, out_dir: Path):
    out_dir.mkdir(parents=True, exist_ok=True)
    (out_dir / "network_report.json").write_text(json.dumps(rep, indent=1))
    try:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return
    rows = rep["layers"]
    names = [f"{r['index']}\n{r['in_channels']}->{r['out_channels']}\n{r['height']}x{r['width']}" for r in rows]
    fig, ax = plt.subplots(figsize=(11, 4.5))
    xs = range(len(rows))
    ax.bar([x - 0.27 for x in xs], [100 * r["utilization"] for r in rows], width=0.27, label="RTL, compute cycles")
    ax.bar(list(xs), [100 * r["utilization_with_loads"] for r in rows], width=0.27,
           label="RTL, with host memory writes")
    ax.bar([x + 0.27 for x in xs], [100 * r["ideal_cycles"] / r["scalesim_cycles"] for r in rows], width=0.27,
           label="SCALE-Sim WS estimate")
    ax.set_xticks(list(xs), names, fontsize=8)
    ax.set_ylabel("MAC utilization (%)")
    ax.set_ylim(0, 105)
    t = rep["totals_per_image"]
    ax.set_title(f"VGG16 conv layers on the {rep['array']} core: MAC-weighted utilization "
                 f"{100 * t['utilization']:.2f}% ({100 * t['utilization_with_loads']:.2f}% with memory writes), "
                 f"{rep['images']} image(s)", fontsize=10)
    ax.legend(loc="lower left")
    fig.tight_layout()
    fig.savefig(out_dir / "utilization.png", dpi=120)


# ------------------------------------------------------------------------------------------ pytest
HERE = Path(__file__).resolve().parent


def run_network(env, expect_fail=None):
    args = dict(toplevel="core", sources=rtl_sources(*CORE_SOURCES), test_module="test_network",
                parameters=NET_PARAMS, testcase="test_network", extra_env=env, module_dir=HERE)
    return run_expect_failure(expect_fail, **args) if expect_fail else run(**args)


def test_network_one_image(tmp_path):
    """One bundled image through every RTL-mapped layer, report written."""
    run_network({"IMAGES": 1, "REPORT_DIR": tmp_path})
    rep = json.loads((tmp_path / "network_report.json").read_text())
    assert rep["prediction_agreement"] == "1/1" and not rep["layer_mismatches"]
    assert [r["index"] for r in rep["layers"]] == [3, 7, 10, 14, 17, 20, 24, 27, 29, 33, 36, 39]
    assert (tmp_path / "utilization.png").stat().st_size > 1000


def test_network_detects_corrupted_weight_tile(tmp_path):
    """Negative: one corrupted weight tile in features[29] fails the run at that layer, located."""
    tests, failed, _ = run_network({"IMAGES": 1, "LAYERS": "27,29", "CORRUPT_LAYER": 29, "REPORT_DIR": tmp_path},
                                   expect_fail=tmp_path / "results.xml")
    assert (tests, failed) == (1, 1)
    rep = json.loads((tmp_path / "network_report.json").read_text())
    assert len(rep["layer_mismatches"]) == 1 and rep["layer_mismatches"][0].startswith("features[29]:")
    assert "output channel 5" in rep["layer_mismatches"][0]
