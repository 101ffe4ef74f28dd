"""The whole-network top's host I/O in the simulator (accel_tb.design.core_ports._HOST_IO): batches of memory writes
driven through the core's valid/ready write ports by a streamer per port, and a log of every output transfer,
command transfer and fall of busy, so that Python wakes once per batch instead of twice per word.

Why: a profile of one network image (py-spy and perf, 2026-12-06) had the Python sources' per-word handshake (a
ReadOnly and an edge wait per word, 512-bit weight words set through VPI) as the largest Python item, and the
value-change checks of the triggers the sources and monitors wait on as most of Verilator's VPI time: Verilator
compares every registered value-change callback's signal after every evaluation, so a monitor that sleeps on a
port still costs each cycle.

- `StreamedSource`: what `ValidReadySource.send_all` does for a batch (valid held from word to word, each word
  taken at an edge where the core's ready is high), with the same `first_cycle` and `last_cycle`.
  The adapter writes the batch to `<dir>/<port>.bin` and toggles `<port>_st_req`; the streamer reads it with
  $fread at the falling edge after (valid is up for the next rising edge, as the Python source raises it after
  an edge) and toggles `<port>_st_done` at the edge that takes the last word; the bytes it read are checked. A
  cancelled send drops valid at once.
- `EventLog`: the top appends a line for every output transfer, every command transfer (with busy in the cycle
  after it) and every fall of busy to `<dir>/log0.txt` (log1.txt after a turn, and back), and counts its lines
  and outputs; `wait(target)` sleeps until the outputs reach target (one wake-up), `drain()` hands every event
  on, in order, with the cycle it happened at, and stops the run on any line or output it did not read. The
  last drain of a layer comes after its stray-output window, like the Python monitor's.

Only the self-clocked network top has these names; only runs without pause generators or scrambled idle payload
use them (those are the layer tests' stress, driven from Python), and such a run cannot be reset.
"""
from __future__ import annotations

import os
import shutil
import tempfile
import time

from cocotb.triggers import First, RisingEdge, Timer, ValueChange

from accel_tb.vip.sim import CLOCK_NS, now_cycle

DIR_BYTES = 256     # core_ports.HOST_IO_PORTS: io_dir is 8*256 bits


class HostIOError(RuntimeError):
    pass


FOLDER_PREFIX = "accel-io-"     # then the simulator's pid: <tmp>/accel-io-<pid>-<random>
# a layer writes its event log at every output: a folder untouched this long belongs to no running layer
STALE_SECONDS = 600


def sweep_stale_folders(tmp: str | None = None) -> list[str]:
    """Remove the host I/O folders of simulators that no longer run: close() removes a run's own, but a simulator
    killed mid-run (a farm's worker stopped, a timeout, Ctrl-C twice) leaves its batch files and event log
    behind (the log turns at 16 MB). A folder whose pid is alive, whose name carries none, or that anything was
    written to in the last STALE_SECONDS (a simulator of another pid namespace sharing this folder) is left alone.
    Returns the folders removed."""
    tmp = tmp or tempfile.gettempdir()
    removed = []
    try:
        names = os.listdir(tmp)
    except OSError:
        return removed
    for name in names:
        pid = name[len(FOLDER_PREFIX):].split("-", 1)[0]
        # a name this code did not write (no plain decimal pid, or one past any pid) is not touched
        if not name.startswith(FOLDER_PREFIX) or not (pid.isascii() and pid.isdigit()) or len(pid) > 9 or \
                _alive(int(pid)):
            continue
        path = os.path.join(tmp, name)
        try:
            newest = max([os.stat(path).st_mtime, *(e.stat().st_mtime for e in os.scandir(path))])
        except OSError:
            continue
        if time.time() - newest < STALE_SECONDS:
            continue
        shutil.rmtree(path, ignore_errors=True)
        if not os.path.lexists(path):
            removed.append(name)
    return removed


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:         # someone else's process (PermissionError): alive
        return True
    return True


def has_host_io(dut) -> bool:
    return hasattr(dut, "io_bulk")


class HostIO:
    """The folder of the batch and capture files, and the top's mode: the streamers own the write ports, every
    output is captured."""

    def __init__(self, dut):
        self.dut = dut
        sweep_stale_folders()
        self.dir = tempfile.mkdtemp(prefix=f"{FOLDER_PREFIX}{os.getpid()}-")
        raw = self.dir.encode()
        if len(raw) > DIR_BYTES:
            shutil.rmtree(self.dir, ignore_errors=True)
            raise HostIOError(f"host I/O folder {self.dir}: longer than {DIR_BYTES} bytes (set TMPDIR shorter)")
        dut.io_dir.value = int.from_bytes(raw, "big")
        dut.io_bulk.value = 1
        dut.io_capture.value = 1

    def close(self):
        shutil.rmtree(self.dir, ignore_errors=True)


class StreamedSource:
    """A write port driven by the top's streamer; `send_all` takes the dicts ValidReadySource takes ({"addr",
    "region", "data"}). depth: the streamer's words (the port's memory region, core_ports._HOST_IO)."""

    def __init__(self, io: HostIO, port: str, data_bits: int, depth: int):
        self.dut, self.port, self.bits, self.depth = io.dut, port, data_bits, depth
        self.file = os.path.join(io.dir, f"{port}.bin")
        self.word_bytes = (data_bits + 17 + 7) // 8      # {region, addr[15:0], data}, whole bytes ($fread)
        self.req, self.words = getattr(io.dut, f"{port}_st_req"), getattr(io.dut, f"{port}_st_words")
        self.done = getattr(io.dut, f"{port}_st_done")
        self.first, self.last = getattr(io.dut, f"{port}_st_first"), getattr(io.dut, f"{port}_st_last")
        self.bytes = getattr(io.dut, f"{port}_st_bytes")
        self._req = 0
        self.req.value = 0
        self.words.value = 0
        self.first_cycle = self.last_cycle = None

    async def send_all(self, items) -> int:
        """Every item written, in order (batches of at most the streamer's depth); returns how many."""
        lines, n, first = [], 0, None
        for item in items:
            a, r, d = int(item["addr"]), int(item["region"]), int(item["data"])
            if not (0 <= a < 1 << 16 and r in (0, 1) and 0 <= d < 1 << self.bits):
                raise HostIOError(f"{self.port} write: addr {a}, region {r} or a {d.bit_length()}-bit word does not "
                                  f"fit the port ({self.bits} data bits)")
            lines.append(((r << (self.bits + 16)) | (a << self.bits) | d).to_bytes(self.word_bytes, "big"))
            if len(lines) == self.depth:
                cycle = await self._batch(lines)
                first = cycle if first is None else first
                n, lines = n + len(lines), []
        if lines:
            cycle = await self._batch(lines)
            first = cycle if first is None else first
            n += len(lines)
        if n:
            self.first_cycle = first
        return n

    async def _batch(self, lines) -> int:
        """One batch through the streamer; returns the cycle of its first transfer."""
        with open(self.file, "wb") as f:
            f.write(b"".join(lines))
        done = ValueChange(self.done)
        self.words.value = len(lines)
        self._req ^= 1
        self.req.value = self._req
        try:
            await done
            # off the edge's phase: the simulator may not have settled every value yet (Icarus calls back in the
            # middle of its updates); the caller drives right after, still before the next edge
            await Timer(1, unit="ps")
        except BaseException:
            # cancelled (a timeout, a failure elsewhere): a batch of no words stops the streamer; valid drops at once
            self.words.value = 0
            self._req ^= 1
            self.req.value = self._req
            raise
        if int(self.bytes.value) != len(lines) * self.word_bytes:
            raise HostIOError(f"{self.file}: the streamer read {int(self.bytes.value)} bytes of "
                              f"{len(lines) * self.word_bytes}")
        self.last_cycle = int(self.last.value)
        return int(self.first.value)


class EventLog:
    """The top's log of output transfers, command transfers and falls of busy (core_ports._HOST_IO), read in
    batches and handed on in the order they happened: on_out(t, cycle) with t = {"data", "addr", "id"},
    on_cmd(t, cycle, busy_after) with t = {"data"}, on_busy_fell(cycle). An output whose edge has not come yet
    (valid and ready up) is read from the ports, as the Python monitor reads it before that edge, and matched
    against its line once the top has written it."""

    ROTATE_BYTES = 1 << 24

    def __init__(self, io: HostIO, on_out, on_cmd, on_busy_fell, rotate_bytes: int | None = None):
        """rotate_bytes (default ROTATE_BYTES): a file read to its end and this long is left for the other one
        (log0.txt, log1.txt in turn: the top opens the other at its next event), so a long run's log stays small."""
        self.dut, self.on_out, self.on_cmd, self.on_busy_fell = io.dut, on_out, on_cmd, on_busy_fell
        self.dir, self.rotate_bytes = io.dir, rotate_bytes or self.ROTATE_BYTES
        self.path = os.path.join(io.dir, "log0.txt")
        self._f = None
        self._rest = ""
        self._rotate = 0
        io.dut.io_out_file.value = 0
        io.dut.io_out_target.value = 0
        self.outputs = 0        # output lines read
        self.lines = 0          # lines read, every kind
        self.rotations = 0
        self._rotate_due = False
        self._ahead = None      # the output read from the ports before its edge: (cycle, id, addr, data)

    @property
    def count(self) -> int:
        """Output transfers the top has logged so far (read and unread)."""
        return int(self.dut.io_out_count.value)

    def pending(self) -> bool:
        """An output transfer at the next edge (valid and ready up)."""
        d = self.dut
        return bool(int(d.io_capture.value) and int(d.out_valid.value) and int(d.out_ready.value))

    def drain(self, settled: bool = True) -> None:
        """Hand on every event logged and not yet handed on, then an output the next edge takes. Call it where
        the values have settled (after a Timer, or in the read-only phase); settled=False: in the read-only phase,
        where nothing may be driven (a turn of the file waits for the next drain)."""
        d = self.dut
        if self._f is None and os.path.exists(self.path):
            self._f = open(self.path)
        if self._f is not None:
            text = self._rest + self._f.read()
            lines = text.split("\n")
            self._rest = lines.pop()
            for line in lines:
                self.lines += 1
                self._event(line)
        logged = int(d.io_log_lines.value)
        if self.outputs != self.count or self.lines != logged:
            raise HostIOError(f"event log {self.path}: {self.lines} lines read ({self.outputs} outputs), the top "
                              f"logged {logged} ({self.count} outputs)")
        if self._f is not None and self._ahead is None and not self._rest and self._f.tell() > self.rotate_bytes:
            self._rotate_due = True
        if self._rotate_due and settled and not self._rest:
            # every line read: the top writes its next line to the other file (this one is removed)
            self._f.close()
            os.remove(self.path)
            self._f, self._rotate, self._rotate_due = None, self._rotate ^ 1, False
            self.rotations += 1
            self.path = os.path.join(self.dir, f"log{self._rotate}.txt")
            d.io_out_file.value = self._rotate
        if self._ahead is None and self.pending():
            t = {"data": int(d.out_data.value), "addr": int(d.out_addr.value), "id": int(d.out_id.value)}
            self._ahead = (now_cycle() + 1, t["id"], t["addr"], t["data"])
            self.on_out(t, now_cycle() + 1)

    def _event(self, line: str) -> None:
        kind, *f = line.split()
        if kind == "o":
            cycle, tid, addr, data = int(f[0]), int(f[1]), int(f[2]), int(f[3], 16)
            self.outputs += 1
            if self._ahead is not None:
                if self._ahead != (cycle, tid, addr, data):
                    raise HostIOError(f"event log {self.path}: output line {line!r}, the ports showed "
                                      f"{self._ahead} before that edge")
                self._ahead = None
                return
            self.on_out({"data": data, "addr": addr, "id": tid}, cycle)
        elif kind == "c":
            self.on_cmd({"data": int(f[1], 16)}, int(f[0]), int(f[2]))
        elif kind == "b":
            self.on_busy_fell(int(f[0]))
        else:
            raise HostIOError(f"event log {self.path}: unknown line {line!r}")

    async def wait(self, target: int, budget_cycles: int) -> bool:
        """Sleep until the outputs logged and the one the next edge takes reach `target`, then drain (False
        after budget_cycles cycles without)."""
        d = self.dut
        await Timer(1, unit="ps")      # settled values (the caller may come straight from an edge's callback)
        if self.count + self.pending() < target:
            d.io_out_target.value = target
            timer = Timer(budget_cycles * CLOCK_NS, unit="ns")
            fired = await First(RisingEdge(d.io_out_reached), timer)
            await Timer(1, unit="ps")      # off the phase the trigger fired in, before anyone drives
            if fired is timer and self.count + self.pending() < target:
                self.drain()
                return False
        self.drain()
        return True

    def close(self):
        if self._f is not None:
            self._f.close()
            self._f = None
