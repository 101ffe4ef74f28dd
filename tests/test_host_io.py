"""The reader of the network top's event log (accel_tb.env.host_io.EventLog) on hand-written logs: events in
order, and every inconsistency between what the top counted and what was read stops the run. The simulations
themselves (both I/O paths giving the same reports, the busy negative) are in tb/network/test_network.py."""
from __future__ import annotations

import os
import subprocess
import sys
import time
from types import SimpleNamespace

import pytest

from accel_tb.env.host_io import EventLog, HostIOError


class Signal:
    def __init__(self, value=0):
        self.value = value


def fake_top(**values):
    names = ("io_out_file", "io_out_target", "io_out_count", "io_log_lines", "io_capture", "out_valid", "out_ready")
    return SimpleNamespace(**{n: Signal(values.get(n, 0)) for n in names})


def reader(tmp_path, dut, rotate_bytes=None):
    seen = []
    log = EventLog(SimpleNamespace(dut=dut, dir=str(tmp_path)),
                   on_out=lambda t, cycle: seen.append(("o", cycle, t["id"], t["addr"], t["data"])),
                   on_cmd=lambda t, cycle, busy: seen.append(("c", cycle, t["data"], busy)),
                   on_busy_fell=lambda cycle: seen.append(("b", cycle)), rotate_bytes=rotate_bytes)
    return log, seen


LINES = ["c 10 1f 1", "o 12 3 0 ff", "o 13 3 1 100", "b 14"]


def test_events_are_handed_on_in_order_with_their_fields(tmp_path):
    dut = fake_top(io_out_count=2, io_log_lines=4)
    (tmp_path / "log0.txt").write_text("\n".join(LINES) + "\n")
    log, seen = reader(tmp_path, dut)
    log.drain()
    assert seen == [("c", 10, 0x1F, 1), ("o", 12, 3, 0, 0xFF), ("o", 13, 3, 1, 0x100), ("b", 14)]
    assert log.outputs == 2 and log.lines == 4
    log.drain()     # nothing new: nothing handed on twice
    assert len(seen) == 4


def test_a_half_written_line_waits_for_its_end(tmp_path):
    dut = fake_top(io_out_count=1, io_log_lines=1)
    path = tmp_path / "log0.txt"
    path.write_text("o 12 3 0 ff\no 13 3")
    log, seen = reader(tmp_path, dut)
    log.drain()
    assert seen == [("o", 12, 3, 0, 0xFF)]
    with open(path, "a") as f:
        f.write(" 1 100\n")
    dut.io_out_count.value, dut.io_log_lines.value = 2, 2
    log.drain()
    assert seen[-1] == ("o", 13, 3, 1, 0x100)


@pytest.mark.parametrize("count,lines", [(2, 5), (3, 4)], ids=["a_line_lost", "an_output_lost"])
def test_a_log_that_misses_what_the_top_counted_stops_the_run(tmp_path, count, lines):
    """Negative: the top counted more lines (or outputs) than the file holds: an event was lost (a command line
    would lower what is owed and weaken every later busy check)."""
    dut = fake_top(io_out_count=count, io_log_lines=lines)
    (tmp_path / "log0.txt").write_text("\n".join(LINES) + "\n")
    log, _ = reader(tmp_path, dut)
    with pytest.raises(HostIOError, match=r"4 lines read \(2 outputs\), the top logged"):
        log.drain()


def test_a_log_the_top_never_wrote_stops_the_run(tmp_path):
    """Negative: outputs counted but no file at all (a failed $fopen)."""
    log, _ = reader(tmp_path, fake_top(io_out_count=1, io_log_lines=1))
    with pytest.raises(HostIOError, match="0 lines read"):
        log.drain()


def test_an_unknown_line_stops_the_run(tmp_path):
    (tmp_path / "log0.txt").write_text("x 1 2\n")
    log, _ = reader(tmp_path, fake_top(io_log_lines=1))
    with pytest.raises(HostIOError, match="unknown line 'x 1 2'"):
        log.drain()


def test_a_long_log_moves_to_the_other_file_only_where_it_may_drive(tmp_path):
    """A file read to its end and longer than rotate_bytes is removed and the top told to open the other; in the
    read-only phase (settled=False) the turn waits for the next drain."""
    dut = fake_top(io_out_count=2, io_log_lines=4)
    (tmp_path / "log0.txt").write_text("\n".join(LINES) + "\n")
    log, seen = reader(tmp_path, dut, rotate_bytes=10)
    log.drain(settled=False)
    assert dut.io_out_file.value == 0 and (tmp_path / "log0.txt").exists() and log.rotations == 0
    log.drain()
    assert dut.io_out_file.value == 1 and not (tmp_path / "log0.txt").exists() and log.rotations == 1
    (tmp_path / "log1.txt").write_text("o 20 4 0 7\n")
    dut.io_out_count.value, dut.io_log_lines.value = 3, 5
    log.drain()
    assert seen[-1] == ("o", 20, 4, 0, 7)
    assert log.rotations == 2 and dut.io_out_file.value == 0 and not (tmp_path / "log1.txt").exists()  # and back


def test_the_folders_of_killed_simulators_are_swept_and_live_ones_kept(tmp_path):
    """A simulator killed mid-run leaves its host I/O folder (batch files, an event log of up to 16 MB): the
    next run removes the folders of pids that no longer run and were untouched for STALE_SECONDS; a live pid's
    folder, a recently written one (another pid namespace may share the folder) and other names stay, names
    this code never writes (a digit that is not ASCII, a number past any pid) among them, without an error."""
    from accel_tb.env import host_io
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True,
                          text=True, check=True).stdout.strip()
    old = time.time() - host_io.STALE_SECONDS - 60
    names = {"killed": f"accel-io-{dead}-x1", "recent": f"accel-io-{dead}-x2", "live": f"accel-io-{os.getpid()}-x3",
             "no_pid": "accel-io-abc", "other": f"other-{dead}-x4", "not_ascii": "accel-io-\u00b2-x5",
             "too_long": "accel-io-99999999999999999999-x6"}
    for key, name in names.items():
        (tmp_path / name).mkdir()
        (tmp_path / name / "log0.txt").write_text("o 1 0 0 0\n")
        if key != "recent":
            for p in (tmp_path / name / "log0.txt", tmp_path / name):
                os.utime(p, (old, old))
    assert host_io.sweep_stale_folders(str(tmp_path)) == [names["killed"]]
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(v for k, v in names.items() if k != "killed")
