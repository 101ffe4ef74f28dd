"""The inventory of rtl/ blocks (accel_tb.design.blocks) agrees with the tree, and the tools read it."""
from accel_tb.design import blocks


def test_every_rtl_module_is_in_the_inventory():
    assert blocks.problems() == []


def test_a_module_in_no_entry_is_reported(tmp_path, monkeypatch):
    """Negative: a new rtl/*.v without an entry is named."""
    rtl = tmp_path / "rtl"
    rtl.mkdir()
    for b in blocks.BLOCKS.values():
        (rtl / f"{b.name}.v").write_text("")
    (rtl / "dma.v").write_text("module dma; endmodule\n")
    monkeypatch.setattr(blocks, "RTL", rtl)
    assert [p for p in blocks.problems() if "dma" in p] == ["rtl/dma.v: module in no entry of accel_tb.design.blocks.BLOCKS"]


def test_a_block_outside_the_core_needs_its_own_test(monkeypatch):
    """Negative: an entry the core does not use, without a block test of its own, is named."""
    extra = blocks.Block("delay_line", (), "core", "")
    monkeypatch.setitem(blocks.BLOCKS, "delay_line", extra)
    assert "delay_line: not part of the core and no test_module of its own: nothing simulates it" in blocks.problems()


def test_the_tools_read_the_inventory():
    from accel_tb.design import runner
    from accel_tb.quality import mutation, mutation_equiv
    assert mutation.MODULES == blocks.MODULES and set(mutation_equiv.EQUIV_PARAMS) == set(blocks.BLOCKS)
    # a block outside the core is allowed (linted, mutated, tested in its folder); the core's own are listed
    assert runner.CORE_SOURCES == blocks.CORE_SOURCES and set(blocks.CORE_SOURCES) <= set(blocks.MODULES)


def test_every_block_folder_has_a_row_in_the_docs():
    """docs/verification.md's table of test folders names every block's folder (a new block adds its row)."""
    from accel_tb.design.runner import ROOT
    text = (ROOT / "docs" / "verification.md").read_text()
    rows = [line for line in text.splitlines() if line.startswith("| `tb/")]
    missing = sorted({b.tb for b in blocks.BLOCKS.values()} - {b.tb for b in blocks.BLOCKS.values()
                                                                 if any(f"`tb/{b.tb}`" in r for r in rows)})
    assert rows and missing == [], f"docs/verification.md has no row for tb/{missing}"


def test_the_sequencer_state_encoding_is_read_from_the_rtl():
    """The tests that watch the sequencer's state take its encoding from rtl/sequencer.v, not a copy."""
    import pytest

    from accel_tb.design.core_ports import rtl_states
    st = rtl_states("sequencer")
    assert {"S_IDLE", "S_PRE", "S_RUN", "S_OS", "S_FLUSH"} <= set(st) and len(set(st.values())) == len(st)
    with pytest.raises(ValueError, match="no S_"):
        rtl_states("mac")       # negative: a module without states says so
