"""The command and tag layouts are defined once (accel_host/fields.py); the RTL includes the header generated
from them. These tests prove the two agree, and that moving a field on one side alone is caught."""
from __future__ import annotations

import re
import shutil
import subprocess

import pytest

from accel_host import fields
from accel_host.fields import COMMAND, TAG, Field, WordLayout, header_text
from accel_tb.design.runner import INCLUDE, RTL


def test_committed_header_is_generated_from_the_python_table():
    assert (INCLUDE / "fields.vh").read_text() == header_text(), "run `make fields`"
    assert fields.main(["--check"]) == 0


def _probe(tmp_path, header: str) -> dict[str, tuple[int, int]]:
    """Compile a probe that includes `header` and prints every field's LSB and width as the RTL sees them
    (Icarus), and read them back."""
    if not shutil.which("iverilog"):
        pytest.fail("iverilog not on PATH: run `make setup`")
    inc = tmp_path / "inc"
    inc.mkdir(exist_ok=True)
    (inc / "fields.vh").write_text(header)
    lines = []
    for layout in (COMMAND, TAG):
        for f in layout.fields:
            n = f"{layout.prefix}_{f.name.upper()}"
            lines.append(f'$display("{n} %0d %0d", `{n}_LSB, `{n}_W);')
            # the range macro as the RTL uses it, by slicing a word with one field's bits set
            lines.append(f'w = 0; w[`{n}] = {{`{n}_W{{1\'b1}}}}; $display("{n}_RANGE %0d", w);')
    (tmp_path / "probe.v").write_text('`include "fields.vh"\nmodule probe; reg [255:0] w; initial begin\n'
                                      + "\n".join(lines) + "\nend\nendmodule\n")
    vvp = tmp_path / "probe.vvp"
    subprocess.run(["iverilog", "-g2005", f"-I{inc}", "-o", str(vvp), str(tmp_path / "probe.v")], check=True)
    out = subprocess.run(["vvp", "-n", str(vvp)], capture_output=True, text=True, check=True).stdout
    seen = {}
    for m in re.finditer(r"^(\w+) (\d+) (\d+)$", out, re.M):
        seen[m.group(1)] = (int(m.group(2)), int(m.group(3)))
    for m in re.finditer(r"^(\w+)_RANGE (\d+)$", out, re.M):
        seen[m.group(1) + "_RANGE"] = int(m.group(2))
    return seen


def _python_view():
    view = {}
    for layout in (COMMAND, TAG):
        for f in layout.fields:
            n = f"{layout.prefix}_{f.name.upper()}"
            view[n] = (layout.lsb[f.name], f.width)
            view[n + "_RANGE"] = ((1 << f.width) - 1) << layout.lsb[f.name]
    return view


def test_rtl_sees_the_host_layout(tmp_path):
    assert _probe(tmp_path, (INCLUDE / "fields.vh").read_text()) == _python_view()


def test_moving_one_field_on_one_side_is_caught(tmp_path, monkeypatch):
    """Swap two command fields in the Python table only: the committed header no longer matches, and the
    RTL's view differs from the host's exactly at the moved fields."""
    swapped = list(COMMAND.fields)
    i, j = [k for k, f in enumerate(swapped) if f.name in ("pw", "oh")]
    swapped[i], swapped[j] = swapped[j], swapped[i]
    moved = WordLayout("CMD", swapped, COMMAND.doc)
    monkeypatch.setattr(fields, "COMMAND", moved)
    monkeypatch.setattr(fields, "LAYOUTS", [moved, TAG])
    assert fields.main(["--check"]) == 1
    rtl = _probe(tmp_path, (INCLUDE / "fields.vh").read_text())
    host = {f"CMD_{f.name.upper()}": (moved.lsb[f.name], f.width) for f in moved.fields}
    differ = sorted(k for k, v in host.items() if rtl[k] != v)
    assert differ == ["CMD_OH", "CMD_PW"]


def test_rtl_slices_only_through_the_header():
    """No hard-coded slice of cmd_data or tag is left in the RTL: every field goes through a macro."""
    for name in ("core.v", "sequencer.v"):
        text = (RTL / name).read_text()
        assert not re.search(r"(cmd_data|\btag)\[\d", text), f"{name} slices a field by number"


def test_layout_errors():
    with pytest.raises(ValueError, match="defined twice"):
        WordLayout("X", [Field("a", 1, ""), Field("a", 2, "")], "")
    with pytest.raises(ValueError, match="unknown field"):
        COMMAND.pack(nope=1)


def test_the_finished_sum_kij_is_the_sequencers():
    """The Python side's marker of a finished output-stationary sum is the one rtl/sequencer.v puts on its tags."""
    import re

    from accel_host.fields import KIJ_FINISHED
    from accel_tb.design.runner import RTL
    m = re.search(r"tag\[`TAG_KIJ\]\s*=\s*pushing \? (\d+)'h([0-9A-Fa-f]+)", (RTL / "sequencer.v").read_text())
    assert m, "rtl/sequencer.v: the OS tag's kij assignment moved; point this test at it"
    assert int(m.group(2), 16) == KIJ_FINISHED and int(m.group(1)) == TAG.widths["kij"]
