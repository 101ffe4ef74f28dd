"""The GitHub Actions workflow runs what .ci/run runs (make setup, make test) and keeps its reports, so that
the two CIs cannot drift apart."""
import yaml

from accel_tb.design.runner import ROOT


def test_workflow_runs_the_ci_commands():
    wf = yaml.safe_load((ROOT / ".github" / "workflows" / "ci.yml").read_text())
    ci = [l.strip() for l in (ROOT / ".ci" / "run").read_text().splitlines() if l.strip().startswith("make ")]
    assert ci == ["make setup", "make test"], ci
    test = wf["jobs"]["test"]
    runs = [s.get("run", "") for s in test["steps"]]
    for cmd in ci:
        assert any(r.strip().startswith(cmd) or f"\n{cmd}" in r for r in runs), (cmd, runs)
    assert set(test["strategy"]["matrix"]["sim"]) == {"default", "icarus"}
    assert any(s.get("uses", "").startswith("actions/upload-artifact") for s in test["steps"])
    assert "ruff check ." in [s.get("run") for s in wf["jobs"]["lint"]["steps"]]


def test_workflow_pins_what_pyproject_pins():
    """ruff's version in the lint job is the one the test extra pins."""
    wf = (ROOT / ".github" / "workflows" / "ci.yml").read_text()
    pin = next(l.split('"')[1] for l in (ROOT / "pyproject.toml").read_text().splitlines() if '"ruff==' in l)
    assert f"pip install {pin}" in wf
