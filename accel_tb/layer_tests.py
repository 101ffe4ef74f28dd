"""cocotb tests of one conv layer on a core, configured by the run's JSON (accel_tb.runner):

  test_layer          a checkpoint's layer for one or more images, or a course folder's vectors (replay)
  test_random_layers  random layers (channel counts not multiples of the array, several tiles, extreme
                      values), pause generators crossed on every valid/ready boundary; a_bits 2: 2-bit mode
  test_layer_sequence several checkpoint layers one after another on one core (e.g. 2-bit, 4-bit, 2-bit:
                      the mode switches per command), without reset or with one between layers
Configuration keys: adapter / adapter_options, layer (checkpoint, layer, images, data_dir) or golden (a
folder), corrupt (negative test: the kind whose expectation to corrupt), report (JSON path), trials.
"""
from __future__ import annotations

import itertools

import cocotb

from .env import Environment, checkpoint_job, folder_job, make_adapter, random_job, write_report
from .ports import PAUSE_KINDS
from .runner import load_config
from .sim import seeded_random


def _log_lines(dut, lines):
    for line in lines:
        dut._log.info(line)


@cocotb.test()
async def test_layer(dut):
    cfg = load_config()
    adapter = make_adapter(dut, cfg.get("adapter"), cfg.get("adapter_options"))
    env = Environment(dut, adapter)
    g = adapter.geometry
    job = folder_job(cfg["golden"]) if cfg.get("golden") else checkpoint_job(cfg["layer"], g)
    dut._log.info(f"running {job.name} on a {g.rows}x{g.cols} array")
    await env.start()
    res = await env.check(job, corrupt=cfg.get("corrupt"))
    _log_lines(dut, ["SUMMARY " + job.name, *res.summary_lines()])
    rep = res.report()
    rep["corrupted"] = job.meta.get("corrupted")
    write_report(cfg.get("report"), rep)
    res.checker.assert_clean()


@cocotb.test()
async def test_random_layers(dut):
    cfg = load_config()
    rng = seeded_random("random_layers")
    trials = int(cfg.get("trials", 4))
    # every (input-side, output-side) pair of pause kinds, in turn: nothing lost, nothing duplicated
    crossing = list(itertools.product(PAUSE_KINDS, PAUSE_KINDS))
    summaries = []
    for t in range(trials):
        ins, outs = crossing[(t + cfg.get("cross_offset", 0)) % len(crossing)]
        opts = dict(cfg.get("adapter_options") or {}, act=ins, wgt=ins, cmd=ins, out=outs, label=f"random{t}")
        if t == 0:
            adapter = make_adapter(dut, cfg.get("adapter"), opts)
            env = Environment(dut, adapter)
            await env.start()
        else:
            adapter.set_pauses(act=ins, wgt=ins, cmd=ins, out=outs)
        g = adapter.geometry
        a_bits = cfg.get("a_bits") or g.a_bits
        job = random_job(rng, g, a_bits, name=f"trial {t} ({a_bits}-bit, in {ins}, out {outs})")
        res = await env.check(job)
        line = " | ".join(res.summary_lines())
        dut._log.info(f"{job.name}: {line}")
        summaries.append(res.report())
        res.checker.assert_clean()
    write_report(cfg.get("report"), {"trials": summaries})


@cocotb.test()
async def test_layer_sequence(dut):
    cfg = load_config()
    adapter = make_adapter(dut, cfg.get("adapter"), cfg.get("adapter_options"))
    env = Environment(dut, adapter)
    await env.start()
    g = adapter.geometry
    reports = []
    for n, spec in enumerate(cfg["sequence"]):
        if n and cfg.get("reset_between"):
            await adapter.reset()
            dut._log.info("reset between layers")
        job = checkpoint_job(spec, g)
        res = await env.check(job)
        _log_lines(dut, [f"SUMMARY {n}: {job.name}", *res.summary_lines()])
        reports.append(res.report())
        res.checker.assert_clean()
    write_report(cfg.get("report"), {"sequence": reports})
