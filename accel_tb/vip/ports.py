"""Valid/ready verification components, built on cocotb-bus's BusDriver and BusMonitor.

cocotb-bus is the project's declared dependency, but its upstream is in maintenance mode (2026-01): every use
of it sits in this module, so replacing it touches nothing else.

- `pauses(kind, rng)`: pause generators (none / random / bursty), seeded, one bool per cycle.
- `ValidReadySource`: drives valid + payload signals, holds them until ready is sampled high; idle cycles
  from a pause generator between transfers.
- `ReadyDriver`: drives a sink's ready from a pause generator (back-pressure).
- `ValidReadyMonitor`: reports every transfer (valid and ready high at a clock edge) with its payload.
- `ValidMonitor`: the same for observation ports without ready (every cycle valid is high).

Timing convention: signals are sampled in the ReadOnly phase before a rising edge; a transfer seen there
happens at that edge. Drivers change signals only after an edge.
"""
from __future__ import annotations

import itertools
import random
from collections.abc import Iterator

import cocotb
from cocotb.triggers import ReadOnly, RisingEdge
from cocotb_bus.drivers import BusDriver
from cocotb_bus.monitors import BusMonitor

from accel_tb.vip.sim import now_cycle

PAUSE_KINDS = ("none", "random", "bursty")


def pauses(kind: str | None, rng: random.Random, p: float = 0.3, max_burst: int = 12) -> Iterator[bool] | None:
    """Per-cycle pause decisions: None for 'none' (never pause: the fast path), random pauses with
    probability p ('random:0.9' sets p), or bursts (runs of activity and of pauses, 1..max_burst cycles
    each)."""
    if kind in (None, "none"):
        return None
    if kind.startswith("random:"):
        kind, p = "random", float(kind.split(":", 1)[1])
    if kind == "random":
        return (rng.random() < p for _ in itertools.count())
    if kind == "bursty":
        def gen():
            while True:
                yield from [False] * rng.randint(1, max_burst)
                yield from [True] * rng.randint(1, max_burst)
        return gen()
    raise ValueError(f"pause kind {kind!r}: expected one of {PAUSE_KINDS}")


def _bus_kwargs(signals: dict | None):
    return {"signals": signals} if signals else {}


class ValidReadySource(BusDriver):
    """Drives `<name>_valid` and the payload signals; a transaction is a dict {payload signal: value}.

    `await src.send_all(items)` returns once every item has been accepted; `accepted` counts transfers and
    `first_cycle` / `last_cycle` record when (in clock cycles counted by the source's own edges)."""
    _signals = ["valid", "ready"]

    def __init__(self, entity, name: str, clock, payload: list[str], pause=None, signals: dict | None = None,
                 scramble: random.Random | None = None):
        """scramble: an RNG to drive random payload whenever valid is low (a sink must ignore it; the
        mutation run showed a core that wrote memory on idle cycles survives a source that holds its data)."""
        self._signals = ["valid", "ready", *payload]
        super().__init__(entity, name, clock, **_bus_kwargs(signals))
        self.payload = payload
        self.pause = pause
        self.scramble = scramble
        self._handles = {k: getattr(self.bus, k) for k in payload}
        self.widths = {k: len(h) for k, h in self._handles.items()}
        self.accepted = 0
        self.first_cycle = self.last_cycle = None
        self.edge = RisingEdge(clock)
        self.bus.valid.value = 0

    async def _driver_send(self, transaction: dict, sync: bool = True, hold: bool = False) -> None:
        """One transfer. hold: leave valid high after it (send_all, when another item follows at once): a
        source that lowered valid and raised it again in the same step for the next item did two writes the
        simulator never saw. Only without a scramble RNG, whose draws (shared with the pause generators)
        stay exactly as they were."""
        bus = self.bus
        if self.pause is not None:
            while next(self.pause):
                bus.valid.value = 0
                self._idle_payload()
                await self.edge
        for k, v in transaction.items():
            self._handles[k].value = v
        bus.valid.value = 1
        while True:
            await ReadOnly()
            ready = bool(bus.ready.value)
            await self.edge
            if ready:
                break
        if not (hold and self.scramble is None):
            bus.valid.value = 0
            self._idle_payload()
        self.accepted += 1
        if not hold:
            self.last_cycle = now_cycle()

    def _idle_payload(self):
        if self.scramble is not None:
            for k, w in self.widths.items():
                self._handles[k].value = self.scramble.getrandbits(w)

    async def send_all(self, items) -> int:
        """Send every item; returns how many. `first_cycle` / `last_cycle` = the clock edges that took the first
        and the last of them. Valid stays high from one item to the next unless a pause lowers it."""
        n, end = 0, object()
        items = iter(items)
        try:
            item = next(items, end)
            while item is not end:
                following = next(items, end)
                await self._driver_send(item, hold=following is not end)
                if n == 0:
                    self.first_cycle = now_cycle()
                n += 1
                item = following
        except BaseException:
            # an item that could not be made (or a cancelled send) must not leave valid held on a word the
            # sink already took: it would take it again at every ready edge
            self.bus.valid.value = 0     # (no idle payload: its RNG draws stay those of before)
            raise
        if n:
            self.last_cycle = now_cycle()
        return n


class ReadyDriver:
    """Drives a sink's ready signal: always high without a pause generator, else low on paused cycles."""

    def __init__(self, signal, clock, pause=None):
        self.signal, self.clock, self.pause = signal, clock, pause
        self.signal.value = 1 if pause is None else 0
        self._task = cocotb.start_soon(self._run()) if pause is not None else None

    async def _run(self):
        edge = RisingEdge(self.clock)
        while True:
            self.signal.value = 0 if next(self.pause) else 1
            await edge

    def stop(self):
        if self._task:
            self._task.cancel()


class ValidReadyMonitor(BusMonitor):
    """Calls callback(dict of payload ints) for every transfer. While valid is low it sleeps on valid's
    rising edge instead of waking every cycle (the whole network waits millions of cycles on its ports)."""

    def __init__(self, entity, name: str, clock, payload: list[str], callback, ready: bool = True,
                 signals: dict | None = None):
        self._signals = ["valid", *(["ready"] if ready else []), *payload]
        self.payload, self.has_ready = payload, ready
        self.transfers = 0
        self.cycle = 0
        BusMonitor.__init__(self, entity, name, clock, callback=callback, **_bus_kwargs(signals))

    async def _monitor_recv(self):
        bus, edge = self.bus, RisingEdge(self.clock)
        handles = [(k, getattr(bus, k)) for k in self.payload]
        while True:
            await ReadOnly()
            valid = int(bus.valid.value)
            if valid and (not self.has_ready or int(bus.ready.value)):
                self.transfers += 1
                self._recv({k: int(h.value) for k, h in handles})
            elif not valid:
                await RisingEdge(bus.valid)
                continue
            await edge


def ValidMonitor(entity, name, clock, payload, callback, signals=None):
    """A monitor for an observation port without handshake (psum_*, acc_*)."""
    return ValidReadyMonitor(entity, name, clock, payload, callback, ready=False, signals=signals)
