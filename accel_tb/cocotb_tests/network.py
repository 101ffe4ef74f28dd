"""The whole VGG16 through the simulated core: every conv layer with unsigned integer input runs on the core
(through its adapter, like every other test), the host does the rest (features[0] with its signed image
input, BN, ReLU, max-pool, re-quantisation, the classifier), and every layer's integer output is checked
bit-exactly against golden_py on the same input as it appears.

cocotb test `test_network`; configuration keys: checkpoint, images (indices), data_dir, layers (None: all),
corrupt_layer (negative test: one weight tile of that layer corrupted), report_dir, plot (False: the JSON
report only, as the farm's chunks write it), array (for the report), host_io (default True: the top's writes
and event log in the simulator, accel_tb.env.host_io; False: the Python sources and monitors), host_io_rotate
(bytes of event log before it moves to its other file; tests set it small).
"""
from __future__ import annotations

import dataclasses
import gc
import time
from pathlib import Path

import cocotb
import numpy as np
import torch

from accel_host.config import CoreConfig
from accel_host.cycles import per_image
from accel_host.mapping import names
from accel_tb.adapter import tile_rows
from accel_tb.design.runner import load_config
from accel_tb.env.checker import CheckFailed, LayerChecker, LayerJob, job_from_ints
from accel_tb.env.environment import Environment, make_adapter
from accel_tb.network.report import build_report, print_report, save_report
from accel_tb.vip.sim import now_cycle


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


def next_layer_weights(steps, i, out_shape, g, dataflow):
    """The conv layer after steps[i] as a job that holds only its weights (for the adapter's prefetch_weights:
    written into the core's free memory region while layer i computes), or None: its input shape comes from
    carrying zeros of layer i's output shape through the host steps between (max-pool halves it)."""
    from golden_py.netchain import HostStep  # noqa: PLC0415
    from golden_py.tiling import tile_weights  # noqa: PLC0415
    x = torch.zeros(1, *out_shape)
    for step in steps[i + 1:]:
        if isinstance(step, HostStep):
            x = step(x)
            continue
        a_bits = step.conv.a_bit
        rows = tile_rows(g, a_bits)
        oc, ic = step.w_int.shape[:2]
        h, w = x.shape[2:]
        return LayerJob(f"features[{step.index}] weights", rows, g.cols, ic, oc, h, w,
                        np.zeros((0, -(-ic // rows), rows, (h + 2) * (w + 2)), dtype=np.int64),
                        tile_weights(step.w_int, rows, g.cols), a_bits=a_bits, dataflow=dataflow)
    return None


def locate_mismatch(index: int, got: torch.Tensor, exp: torch.Tensor, image_ids=None) -> str:
    bad = (got != exp).nonzero().tolist()
    n, c, y, x = bad[0]
    image = image_ids[n] if image_ids is not None else n
    return (f"features[{index}]: {len(bad)} of {exp.numel()} outputs differ; first at image {image}, output "
            f"channel {c}, (y, x) = ({y}, {x}): expected {int(exp[n, c, y, x])} got {int(got[n, c, y, x])}")


def corrupt_weight_tile(job, a_int, w_int) -> str | None:
    """Negative test: one weight of the first input- and output-channel tiles gets its sign bit flipped after the
    expectation was computed: the first (output channel, input channel, kernel position) -- channel 5 (the first
    tile's last where it is narrower), input channel 2, position 4 first, as it always was, then the tile's other
    output channels -- whose change reaches an output of this run's images, after the ReLU where the layer has one.
    A fixed weight met only zero activations (or outputs the ReLU clamps) on some images, and the negative test
    passed (a probe: features[27], image 3). Returns what was corrupted, or None when no such weight changes an
    output (the run then fails: no negative test was made)."""
    from golden_py.tiling import ints  # noqa: PLC0415
    a, w = ints(a_int), ints(w_int)
    n, ic, h, wd = a.shape
    cols = range(min(job.cols, w.shape[0]))
    first = min(5, cols[-1])
    pad = np.pad(a, ((0, 0), (0, 0), (1, 1), (1, 1)))
    seen = [pad[:, :, k // 3:k // 3 + h, k % 3:k % 3 + wd] for k in range(9)]     # (N, IC, H, W) per position
    w_w = CoreConfig().w_w
    rows = range(min(job.rows, ic))
    for c in [first, *(x for x in cols if x != first)]:
        sums = job.expected["sum"][:, 0, c].reshape(n, h, wd)     # the expectation's own sums (output tile 0)
        for r in [2, *(x for x in rows if x != 2)] if 2 in rows else rows:
            for k in (4, 0, 1, 2, 3, 5, 6, 7, 8):
                u = (int(w[c, r, k // 3, k % 3]) & ((1 << w_w) - 1)) ^ (1 << (w_w - 1))     # the sign bit flipped
                new = u - (1 << w_w) if u >= 1 << (w_w - 1) else u
                changed = sums + (new - int(w[c, r, k // 3, k % 3])) * seen[k][:, r]
                if (np.maximum(changed, 0) != np.maximum(sums, 0)).any() if job.relu else (changed != sums).any():
                    job.w_tiles[0, 0, c, r, k] = new
                    return f"input channel {r}, output channel {c}, kernel position {k}"
    return None


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
    # what is loaded now (torch, the model, the images) lives to the end: out of the collector's reach, so its
    # collections between layers do not walk it again (2% of a network run in a profile, 2026-12-06)
    gc.collect()
    gc.freeze()
    adapter = make_adapter(dut, cfg.get("adapter"), {"monitor_psums": False, "label": "network",
                                                     "host_io": cfg.get("host_io", True),
                                                     "host_io_rotate": cfg.get("host_io_rotate")})
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
            job.image_ids = tuple(cfg["images"])
            checker = CollectingChecker(job, log=dut._log.error, max_reports=3)
            corrupted = None
            if step.index == cfg.get("corrupt_layer"):
                corrupted = corrupt_weight_tile(job, a_int, step.w_int)
                if corrupted is None:
                    msg = (f"features[{step.index}]: NEGATIVE TEST not made: no weight of the first input and "
                           f"output tiles changes an output of these images")
                    dut._log.error(msg)
                    problems.append(msg)
                else:
                    dut._log.warning(f"NEGATIVE TEST: one weight of features[{step.index}] corrupted ({corrupted})")
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
                                   "model": per_image(adapter.stats["model_cycles"], adapter.stats["fill_cycles"], n_img)}
            # the next layer's weights go into the core's free memory region while this layer computes
            nxt_job = next_layer_weights(steps, i, (job.out_channels, job.height, job.width), g, job.dataflow)
            await adapter.run_layer(job, checker, prefetch=(nxt_job, None) if nxt_job is not None else None)
            oc, h, w = job.out_channels, job.height, job.width
            got = checker.got[:, :oc].reshape(n_img, oc, h, w)
            exp = torch.from_numpy(job.expected["relu"]).reshape(n_img, -1, h * w)[:, :oc].reshape(n_img, oc, h, w)
            compared += exp.numel()
            if checker.errors or not torch.equal(got, exp):
                msg = locate_mismatch(step.index, got, exp, cfg["images"]) if not torch.equal(got, exp) else \
                    f"features[{step.index}]: " + "; ".join(sb.summary() for sb in checker.scoreboards.values())
                fired = checker.assertions[0] if checker.assertions else []
                if fired:
                    msg += f"; RTL checks fired: {', '.join(fired)}"
                dut._log.error("MISMATCH " + msg)
                problems.append(msg)
                got = exp   # carry on with golden values so later layers are judged on their own
            else:
                dut._log.info(f"features[{step.index}] {tuple(a_int.shape[1:])} -> {tuple(got.shape[1:])}: "
                              f"{exp.numel()} outputs bit-exact ({time.perf_counter() - t0:.1f} s)")
                if corrupted:   # chosen to change an output: the core computed the uncorrupted layer
                    msg = (f"features[{step.index}]: NEGATIVE TEST not caught: the corrupted weight ({corrupted}) "
                           f"changes an output, and every output matched the uncorrupted expectation")
                    dut._log.error(msg)
                    problems.append(msg)
            st = adapter.stats
            both[st["dataflow"]] = {"cycles": sum(st["compute_cycles"]) / n_img,
                                    "model": per_image(st["model_cycles"], st["fill_cycles"], n_img)}
            stats[step.index] = {"index": step.index, "a_bits": job.a_bits, "dataflow": st["dataflow"],
                                 "dataflows": both, "in_channels": job.in_channels,
                                 "out_channels": oc,
                                 "height": h, "width": w, "chunks": st["chunks"], "macs_per_image": job.macs,
                                 "ideal_cycles": st["ideal_cycles"], "scalesim_cycles": st["scalesim_cycles"],
                                 "model_cycles": st["model_cycles"], "fill_cycles": st["fill_cycles"],
                                 "compute_cycles": st["compute_cycles"], "act_load_cycles": st["act_words"],
                                 "wgt_load_cycles": st["wgt_words"],
                                 "wgt_prefetched_words": st["prefetched_wgt_words"],
                                 # from the layer's first write or command, whichever came first (a step
                                 # that fills its regions sends its command a cycle before its words)
                                 "span_cycles": st["span_end"] - min(st["first_input"], st["first_command"])}
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
           "io": "simulator" if getattr(adapter, "host_io", False) else "python",
           "io_log_rotations": adapter.capture.rotations if getattr(adapter, "capture", None) else 0,
           "predictions": {"rtl": pred.tolist(), "pytorch": ref_pred.tolist(), "labels": labels.tolist()}}
    report = build_report([raw], cfg, adapter.cfg.as_dict())
    print_report(dut._log.info, report)
    if cfg.get("report_dir"):
        save_report(report, Path(cfg["report_dir"]), plot=cfg.get("plot", True))
    if problems:
        raise CheckFailed("network check failed:\n" + "\n".join(problems))
    if agree != n_img:
        raise CheckFailed(f"RTL predictions agree with PyTorch on {agree}/{n_img} images")
