"""The Dataflow registry (accel_host.mapping.dataflow): one entry per dataflow, and everything that offers or
loops over dataflows reads it rather than a copy of its names."""
import pytest

from accel_host.config import CoreConfig
from accel_host.mapping import DATAFLOWS, LayerShape, choices, mapping, names, of_command, other
from accel_host.mapping.dataflow import Dataflow, register


def test_registry_entries_are_consistent():
    assert names() == ["ws", "os"] and choices() == ("ws", "os", "auto")
    for name, df in DATAFLOWS.items():
        assert df.mapping.name == name and of_command(df.os_bit) is df and other(name) != name
    assert DATAFLOWS["ws"].makes_psums and not DATAFLOWS["os"].makes_psums


def test_a_second_registration_is_refused():
    """Negative: a name or a command bit taken twice, or the 'auto' choice as a name, is refused."""
    ws = DATAFLOWS["ws"]
    for bad in (ws, Dataflow("xs", "x", ws.mapping, os_bit=ws.os_bit, makes_psums=True),
                Dataflow("auto", "x", ws.mapping, os_bit=7, makes_psums=True)):
        with pytest.raises(ValueError):
            register(bad)
    assert names() == ["ws", "os"]


def test_min_channels_follow_the_output_stationary_rule():
    """An OS block needs 2*ROWS-1 steps of 9 per channel step: the mapping accepts min_channels (exactly the
    fewest with 4-bit activations; with 2-bit ones a whole last channel pair, so every layer drawn fits)."""
    cfg = CoreConfig()
    for a_bits in (4, 2):
        lo = DATAFLOWS["os"].min_channels(cfg.rows, cfg.a_w, a_bits)
        for ic in range(lo, lo + 4):
            mapping(cfg, LayerShape(ic, 8, 4, 4), a_bits, "os")
    with pytest.raises(ValueError):
        mapping(cfg, LayerShape(DATAFLOWS["os"].min_channels(cfg.rows, cfg.a_w, 4) - 1, 8, 4, 4), 4, "os")
    assert DATAFLOWS["ws"].min_channels(8, 4, 4) == 1


def test_readers_take_the_registry(capsys):
    from accel_tb.cli.run import main_run
    from accel_tb.env import skeleton_config
    from accel_tb.quality import coverage
    assert coverage.DATAFLOWS == names() and skeleton_config.DATAFLOWS == tuple(names())
    with pytest.raises(SystemExit):
        main_run(["--help"])
    out = capsys.readouterr().out
    assert "--dataflow {" + ",".join(choices()) + "}" in out, out
