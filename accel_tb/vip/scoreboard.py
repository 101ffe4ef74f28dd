"""Keyed checker: every expected vector has a key; every observation is matched by key as it appears.

It reports each mismatching lane with its location, expected and observed value and the simulation time,
and keeps going. At the end, expectations never observed (drops) and keys observed twice count as errors,
so a checker that saw nothing cannot pass.
"""
from __future__ import annotations

from collections.abc import Callable, Hashable
from dataclasses import dataclass, field


@dataclass
class KeyedScoreboard:
    name: str
    describe: Callable[[Hashable], str] = str
    lane_name: str = "col"
    log: Callable[[str], None] = print
    max_reports: int = 20
    expected: dict = field(default_factory=dict)
    seen: set = field(default_factory=set)
    compared: int = 0          # lane values compared
    mismatches: int = 0        # lane values that differed
    duplicates: int = 0
    unexpected: int = 0
    reports: list = field(default_factory=list)

    def expect_all(self, items: dict) -> None:
        self.expected.update(items)

    def _report(self, msg: str) -> None:
        self.reports.append(msg)
        if len(self.reports) <= self.max_reports:
            self.log(msg)
        elif len(self.reports) == self.max_reports + 1:
            self.log(f"{self.name}: further mismatches counted but not printed")

    def observe(self, key, got: list[int], time: str = "") -> bool:
        """Check one observed vector; returns True when it matched."""
        at = f" at {time}" if time else ""
        if key in self.seen:
            self.duplicates += 1
            self._report(f"{self.name} DUPLICATE {self.describe(key)}{at}")
            return False
        if key not in self.expected:
            self.unexpected += 1
            self._report(f"{self.name} UNEXPECTED {self.describe(key)}{at}: {got}")
            return False
        self.seen.add(key)
        exp = self.expected[key]
        ok = True
        for lane, (e, g) in enumerate(zip(exp, got)):
            self.compared += 1
            if e != g:
                self.mismatches += 1
                ok = False
                shown = g
                if isinstance(g, str):       # a lane that held X or Z (helpers.Unknown: with the cycle read)
                    cycle = getattr(g, "cycle", None)
                    shown = f"X/Z value {g}" + (f" read at cycle {cycle}" if cycle is not None else "")
                self._report(f"{self.name} MISMATCH {self.describe(key)} {self.lane_name}={lane}: "
                             f"expected {e} got {shown}{at}")
        if len(exp) != len(got):
            self.mismatches += 1
            ok = False
            self._report(f"{self.name} MISMATCH {self.describe(key)}: {len(got)} lanes, expected {len(exp)}{at}")
        return ok

    @property
    def missing(self) -> list:
        return [k for k in self.expected if k not in self.seen]

    @property
    def errors(self) -> int:
        return self.mismatches + self.duplicates + self.unexpected + len(self.missing)

    def summary(self) -> str:
        miss = self.missing
        s = (f"{self.name}: {len(self.seen)}/{len(self.expected)} vectors, {self.compared} values compared, "
             f"{self.mismatches} mismatches, {len(miss)} missing, {self.duplicates} duplicates, "
             f"{self.unexpected} unexpected")
        if miss:
            s += "; first missing: " + ", ".join(self.describe(k) for k in miss[:3])
        return s
