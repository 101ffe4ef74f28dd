"""make mutate's parts that decide the figures: which lines are sites, how mutants are drawn, how the score
is counted, and the solver that alone may call a mutant equivalent."""
import math

import pytest

from accel_tb.quality import mutation
from accel_tb.quality.mutant import Mutant
from accel_tb.quality.mutation import allocation, candidates, report


def _site(module, original_part, mutated_part=""):
    for n, op, o, new in candidates()[module]:
        if original_part in o and mutated_part in new:
            return Mutant(f"{module}:{n}:{op}:t", module, n, op, o, new)
    raise AssertionError(f"no site in {module} with {original_part!r} -> {mutated_part!r}")


def test_functional_lines_beside_the_fault_knobs_are_sites():
    """The knobs sit on lines of their own: the credits, host-write slot, output-FIFO room, issue gating and the
    PE's sum (lines that once carried a knob and were skipped whole) are mutation sites now."""
    for module, part in [("core", "credits_left ="), ("core", "act_in_use[g] ="), ("core", "out_room ="),
                         ("sequencer", "issue_ok  ="), ("pe", "acc       <= valid_in ? sum_k")]:
        _site(module, part)
    lines = {o for n, op, o, new in candidates()["core"]}
    assert not any("FAULT_INV" in o for o in lines) and not any("assert(" in o for o in lines)


def test_sampling_is_proportional_to_sites():
    sites = {"a": 300, "b": 100, "c": 3, "d": 0}
    alloc = allocation(sites, 40)
    assert sum(alloc.values()) == 40 and alloc["d"] == 0 and alloc["c"] >= 1
    assert alloc["a"] == pytest.approx(3 * alloc["b"], abs=2)
    assert allocation(sites, None) == sites and allocation(sites, 10_000) == sites


def test_score_counts_test_kills_only():
    rs = [{"module": "fifo", "verdict": v} for v in ["killed"] * 6 + ["survived"] * 2 + ["lint"] * 5 +
          ["invalid"] * 3 + ["equivalent"] * 4]
    lines, summary = report(rs)
    assert summary["score"] == 75.0 and summary["lint"] == 5 and summary["invalid"] == 3
    assert "lint" in lines[0] and "killed + timeout + survived" in lines[-1]


@pytest.mark.slow
def test_equivalence_is_decided_by_the_solver(tmp_path):
    """A mutant the solver proves equivalent (the sign extension's guard, whose branches agree when ACC_W equals
    PSUM_W) is 'equivalent'; a real change (ReLU's zero made all ones) is not: it stays a survivor, with the
    solver's trace of the difference."""
    from accel_tb.quality.mutation_equiv import decide
    same = decide(_site("sfu", "if (ACC_W > PSUM_W)", "ACC_W >= PSUM_W"), tmp_path, 300)
    assert same["verdict"] == "equivalent" and "proven" in same["equiv"], same
    # proven where the guard's two sides are equal too (there the mutant takes the other branch)
    assert "and at sfu alone" in same["equiv"] and "ACC_W=4" in same["equiv"], same
    diff = decide(_site("sfu", "relu_sum1[c*ACC_W", "{ACC_W{1'b1}}"), tmp_path, 300)
    assert diff["verdict"] == "survived" and "port difference" in diff["equiv"] and diff["trace"], diff
    assert (tmp_path / "equiv").is_dir() and any((tmp_path / "equiv").glob("*.vcd"))


def test_a_line_inside_a_generate_branch_is_proven_where_the_branch_is_built():
    """core's reserve_cw padding (line 108, inside `if (CW > 8) begin : g_reserve_wide`) is built only from
    CREDITS 256 on; at the solver's CREDITS 4 and the guard's boundary 128 the original and the mutant are one
    circuit, and that 'proof' counted a mutant the 64x64 core's test was written against as equivalent. A mutant
    on the guard or inside the branch is proven also at CREDITS 256 (there this one is not proven: 'survived',
    measured, 138 s, docs/strength.md)."""
    from accel_tb.quality.mutation_equiv import RTL, _branch_of, param_sets
    lines = (RTL / "core.v").read_text().splitlines()
    guard = next(n for n, t in enumerate(lines, 1) if "begin : g_reserve_wide" in t)
    assert _branch_of("core", guard + 1) == "g_reserve_wide" and "g_reserve_wide" not in _branch_of("core", guard + 2)
    inside = param_sets("core", lines[guard], guard + 1)
    assert [p["CREDITS"] for p in inside] == [4, 256]
    assert [p["CREDITS"] for p in param_sets("core", lines[guard - 1], guard)] == [4, 128, 256]
    assert [p["CREDITS"] for p in param_sets("core", lines[guard + 2], guard + 3)] == [4]      # the narrow branch


def test_mutation_options_are_one_line_errors(capsys):
    assert mutation.main(["--sample", "0"]) == 2
    assert mutation.main(["--equiv-timeout", "0"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 2 and all(e.startswith("error: --") for e in err)


def test_every_parameter_guard_is_proven_at_its_boundary():
    """A generate guard on parameters (not a loop index) must have its boundary in GUARD_BOUNDARIES, so that a
    mutated comparison is proven equivalent where it flips, not only where both pick the same branch."""
    import re

    from accel_tb.quality.mutation_equiv import EQUIV_PARAMS, GUARD_BOUNDARIES, RTL, param_sets
    found = set()
    for f in sorted(RTL.glob("*.v")):
        loops = set(re.findall(r"for\s*\(\s*(\w+)\s*=", f.read_text()))
        for cond in re.findall(r"if\s*\((.*?)\)\s*begin\s*:\s*g_", f.read_text()):
            if not set(re.findall(r"[A-Za-z_]\w*", cond)) & loops:
                found.add((f.stem, cond.strip()))
    assert found == set(GUARD_BOUNDARIES), found ^ set(GUARD_BOUNDARIES)
    for (module, guard), boundary in GUARD_BOUNDARIES.items():
        assert module in EQUIV_PARAMS and param_sets(module, f"if ({guard}) begin")[-1] != EQUIV_PARAMS[module]
        assert param_sets(module, "assign x = y;") == [EQUIV_PARAMS[module]]   # other lines: no boundary
    # each boundary makes the guard's two sides equal (where a mutated > -> >= flips the branch)
    sfu = param_sets("sfu", "if (ACC_W > PSUM_W) begin")[-1]
    core = param_sets("core", "if (CW > 8) begin")[-1]
    assert sfu["ACC_W"] == sfu["PSUM_W"] and math.ceil(math.log2(core["CREDITS"] + 1)) == 8


def test_a_mutant_whose_elaboration_never_ends_is_invalid_not_a_timeout(tmp_path, monkeypatch):
    """`r = r - 1` in a for-generate: Icarus' front end never returns. Before the ladder, the tool elaborates
    every design it would build under a time limit, so such a mutant is invalid (an elaboration failure) rather
    than a timeout counted as caught; the unmutated RTL elaborates within the same limit. The killed front end
    leaves nothing in the temporary folder (iverilog's preprocessed files went to /tmp and stayed)."""
    import shutil
    import tempfile
    scratch = tmp_path / "tmp"
    scratch.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(scratch))
    monkeypatch.setenv("TMPDIR", str(scratch))

    from accel_tb.quality.mutant import apply
    from accel_tb.quality.mutation import RTL, endless_elaboration
    rtl = tmp_path / "rtl"
    shutil.copytree(RTL, rtl)
    assert endless_elaboration(rtl, "core", limit=20) == ""
    apply(_site("core", "for (r = 0; r < ROWS; r = r + 1) begin : g_tok", "r = r - 1"), rtl)
    stuck = endless_elaboration(rtl, "core", limit=3)
    assert stuck.startswith("layer27 4-bit: elaboration did not finish in 3 s"), stuck
    assert list(scratch.iterdir()) == []


def test_merge_refuses_a_report_of_another_draw_or_rtl(tmp_path, capsys):
    """--merge takes only a report of the same draw whose entry for each rerun mutant is the same mutation of
    the same line; anything else is one line and exit 2 before any simulation."""
    import json

    from accel_tb.quality.mutation import enumerate_mutants, main
    drawn = enumerate_mutants(120, 1)
    m = drawn[0]
    entries = [{"id": d.id, "module": d.module, "line": d.line, "original": d.original, "mutated": d.mutated,
                "verdict": "killed"} for d in drawn]
    good = {"seed": 1, "sample": 120, "matrix": False, "mutants": entries}

    def edited(i, **change):
        return json.dumps({**good, "mutants": [({**e, **change} if n == i else e) for n, e in enumerate(entries)]})
    no_module = {k: v for k, v in entries[3].items() if k != "module"}
    cases = [("{", "not JSON"), (json.dumps({"mutants": 3}), "not a mutation report"),
             (json.dumps({**good, "seed": 2}), "drawn with --seed 2"),
             (json.dumps({**good, "mutants": []}), "not this draw's report: no entry for"),
             (edited(0, original="x"), f"its {m.id} is another mutation ('x'): the RTL changed"),
             (edited(7, original="x"), f"its {drawn[7].id} is another mutation"),      # not the rerun one: all
             (json.dumps({**good, "rtl_sha256": "0" * 64}), "measured another rtl/"),
             # a report cut, padded, doubled or hand-edited was scored over mutants it never ran (a probe)
             (json.dumps({**good, "mutants": entries[:3]}), "no entry for"),
             (json.dumps({**good, "mutants": [*entries, {**entries[0], "id": "mac:999:fake:0"}]}),
              "mac:999:fake:0 was not drawn"),
             (json.dumps({**good, "mutants": [*entries, entries[5]]}), f"{drawn[5].id} has 2 entries"),
             (edited(5, verdict="KILLED"), "has the verdict 'KILLED'"),
             (json.dumps({**good, "mutants": [*entries[:3], no_module, *entries[4:]]}), "has no 'module'")]
    for n, (text, needle) in enumerate(cases):
        f = tmp_path / f"r{n}.json"
        f.write_text(text)
        assert main(["--sample", "120", "--only", m.id, "--merge", str(f), "--out", str(tmp_path / "o")]) == 2
        err = capsys.readouterr().err.strip().splitlines()
        assert len(err) == 1 and err[0].startswith(f"error: --merge {f}") and needle in err[0], err
    assert not (tmp_path / "o").exists()


def test_a_patch_whose_text_moved_is_refused(tmp_path):
    """The negative tests' patched cores (mutant.patched_rtl): a marker or text no longer in the RTL stops the test
    instead of running the unpatched core; a found one is patched in the copy only."""
    from accel_tb.design.runner import ROOT
    from accel_tb.quality.mutant import patched_rtl
    with pytest.raises(ValueError, match="no line holding 'assign busy'"):
        patched_rtl(tmp_path / "a", "core", "assign busy", "no such text", "x")
    with pytest.raises(ValueError, match="no line holding 'no such marker'"):
        patched_rtl(tmp_path / "b", "core", "no such marker", "q_valid ||", "x")
    rtl = patched_rtl(tmp_path / "c", "core", "assign busy", "q_valid ||", "q_valid &&")
    line = next(x for x in (rtl / "core.v").read_text().splitlines() if "assign busy" in x)
    assert "q_valid &&" in line and "q_valid ||" not in line
    assert "q_valid ||" in next(x for x in (ROOT / "rtl" / "core.v").read_text().splitlines() if "assign busy" in x)


def test_a_mutant_that_does_not_build_is_invalid_not_killed(tmp_path, monkeypatch):
    """The runner reports a failed build as a BuildError, which is a RunError: the child counted it as a kill by
    the test whose build failed (a crash the regression sees). A mutant that does not compile is invalid."""
    import shutil

    from accel_tb.design import runner
    from accel_tb.quality.mutation import RTL, child
    monkeypatch.setattr(runner, "BUILD", tmp_path / "build")
    rtl = tmp_path / "rtl"
    shutil.copytree(RTL, rtl)
    m = _site("mac", "assign")
    text = (rtl / "mac.v").read_text().splitlines()
    text[m.line - 1] = text[m.line - 1].replace(m.original.strip(), "assign = ;")
    (rtl / "mac.v").write_text("\n".join(text) + "\n")
    res = child(m, rtl)
    assert res["verdict"] == "invalid" and "build failed" in res["by"] and res["killers"] == [], res


@pytest.mark.parametrize("signame", ["SIGINT", "SIGTERM"])
def test_an_interrupted_run_stops_its_children_and_says_so(signame, tmp_path):
    """Ctrl-C (SIGINT) or a SIGTERM (`timeout`, a cancelled CI job) on `make mutate`: each mutant's child runs in a
    session of its own, so the signal reached only the main process, whose pool went on through every mutant still
    queued while the children kept simulating. Now the children (and their simulators) are killed, nothing more
    starts, their folders go, and the run ends with one line and status 130."""
    import os
    import signal
    import subprocess
    import sys
    import time
    env = {**os.environ, "TMPDIR": str(tmp_path)}
    proc = subprocess.Popen([sys.executable, "-m", "accel_tb.quality.mutation", "--modules", "mac", "--sample", "2",
                             "--jobs", "2", "--out", str(tmp_path / "out")], env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)

    def ours():
        """the children and what they started: processes whose command line names a folder of a mutant under
        tmp_path (the children's --rtl copies, their builds)"""
        pids = []
        for d in os.listdir("/proc"):
            try:
                if d.isdigit() and f"{tmp_path}/mutant-" in open(f"/proc/{d}/cmdline").read().replace("\0", " "):
                    pids.append(int(d))
            except OSError:
                pass
        return pids
    try:
        deadline = time.monotonic() + 60
        while not ours() and time.monotonic() < deadline:      # the baselines' children have started
            time.sleep(0.2)
        assert ours(), "no child started within 60 s"
        proc.send_signal(getattr(signal, signame))
        out, err = proc.communicate(timeout=30)
        assert proc.returncode == 130 and err.strip().splitlines()[-1].startswith("error: interrupted: "), (out, err)
        time.sleep(0.5)
        assert not ours() and not list(tmp_path.glob("mutant-*")) and not (tmp_path / "out" / "mutation.json").exists()
    finally:        # a run that did not stop is stopped here, children and all, not left to the rest of the suite
        for pid in [proc.pid, *ours()]:
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        proc.wait()


def test_an_edit_of_rtl_during_a_run_does_not_move_its_mutants(tmp_path, monkeypatch):
    """Each mutant is a line number and its text, applied to a copy of rtl/; the copy was taken as each mutant
    started, so an edit of rtl/ while `make mutate` ran (an hour; found by a session that renamed two lines of
    mac_array.v mid-run) put every later mutant onto whatever that line held then. The run now draws from and
    applies to rtl/ as it started. The mutants' runs are stood in for: each edits the live tree (a line added at
    the top of the mutant's module), then checks that the copy it was given still holds the mutant's line."""
    import shutil
    from dataclasses import asdict
    live = tmp_path / "rtl"
    shutil.copytree(mutation.RTL, live)
    monkeypatch.setattr(mutation, "RTL", live)
    placed = []

    def stand_in(m, timeout, seed=1, matrix=False, rtl=live):
        if m.operator == "none":
            return {**asdict(m), "verdict": "survived", "by": "", "killers": [], "seconds": 0}
        src = live / f"{m.module}.v"
        src.write_text("// an edit while the run goes on\n" + src.read_text())
        placed.append(rtl != live and (rtl / f"{m.module}.v").read_text().splitlines()[m.line - 1].strip()
                      == m.original.strip())
        return {**asdict(m), "verdict": "killed", "by": "stand-in", "killers": ["stand-in"], "seconds": 0}
    monkeypatch.setattr(mutation, "run_mutant", stand_in)
    assert mutation.main(["--modules", "sfu", "--all", "--jobs", "1", "--out", str(tmp_path / "out")]) == 0
    assert len(placed) >= 2 and all(placed), placed


def test_a_mutants_testbench_reads_the_runs_unmutated_copy_of_rtl(tmp_path, monkeypatch):
    """core_ports reads its RTL constants (state encodings, core.v's header) from ACCEL_RTL_DIR, and make mutate
    sets it to the run's unmutated copy for each mutant's child (an edit of rtl/ during a run changed what its
    children read)."""
    import os
    import re
    import shutil
    import subprocess
    import sys

    from accel_tb.design.core_ports import rtl_states
    from accel_tb.design.runner import ROOT
    copy = tmp_path / "rtl"
    shutil.copytree(ROOT / "rtl", copy)
    name, value = sorted(rtl_states("sequencer").items())[0]
    seq = copy / "sequencer.v"
    text, n = re.subn(rf"\b{name}(\s*=\s*\d+'d){value}\b", rf"{name}\g<1>{value + 7}", seq.read_text(), count=1)
    assert n == 1
    seq.write_text(text)
    code = f"from accel_tb.design.core_ports import RTL, rtl_states; print(RTL); print(rtl_states('sequencer')[{name!r}])"
    r = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, capture_output=True, text=True,
                       env={**os.environ, "ACCEL_RTL_DIR": str(copy), "PYTHONPATH": str(ROOT)})
    assert r.returncode == 0 and r.stdout.split() == [str(copy), str(value + 7)], r.stdout + r.stderr
    seen = {}

    class Stop(Exception):
        pass

    def popen(cmd, **kw):
        seen.update(kw["env"])
        raise Stop
    monkeypatch.setattr(mutation.subprocess, "Popen", popen)
    m = mutation.enumerate_mutants(None, 1)[0]
    with pytest.raises(Stop):
        mutation.run_mutant(m, 60, rtl=copy)
    assert seen["ACCEL_RTL_DIR"] == str(copy.resolve())


def test_a_merge_into_a_report_without_a_digest_claims_none(tmp_path, monkeypatch, capsys):
    """A report from before digests records no rtl_sha256: the merged report records none either (it was stamped
    with this rtl/'s, as if every old entry had been measured on it: a probe). The simulations are stubbed."""
    import json

    from accel_tb.quality import mutation
    drawn = mutation.enumerate_mutants(120, 1)
    entries = [{"id": d.id, "module": d.module, "line": d.line, "original": d.original, "mutated": d.mutated,
                "verdict": "survived"} for d in drawn]
    base = tmp_path / "base.json"
    base.write_text(json.dumps({"seed": 1, "sample": 120, "matrix": False, "mutants": entries}))

    def fake(m, *a, **k):
        return {"id": m.id, "module": m.module, "line": m.line, "original": m.original, "mutated": m.mutated,
                "verdict": "survived" if m.id.startswith("baseline") else "killed", "by": "stub", "killers": [],
                "seconds": 0}
    monkeypatch.setattr(mutation, "run_mutant", fake)
    assert mutation.main(["--sample", "120", "--only", drawn[0].id, "--merge", str(base), "--out", str(tmp_path / "o"),
                          "--jobs", "1"]) == 1             # the other 119 entries survived
    out = json.loads((tmp_path / "o" / "mutation.json").read_text())
    assert out["rtl_sha256"] is None and out["mutants"][0]["verdict"] == "killed" and out["summary"]["mutants"] == 120
    assert "records no rtl_sha256" in capsys.readouterr().out
