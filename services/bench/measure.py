"""Timing helpers shared by every benchmark: wall time, CPU time, rates and percentiles."""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field


@dataclass
class Timing:
    wall_s: float = 0.0
    cpu_s: float = 0.0


@contextmanager
def timed() -> Iterator[Timing]:
    """Wall and process CPU time of the block (CPU covers every thread of this process)."""
    timing = Timing()
    wall, cpu = time.perf_counter(), time.process_time()
    try:
        yield timing
    finally:
        timing.wall_s = time.perf_counter() - wall
        timing.cpu_s = time.process_time() - cpu


@dataclass
class Figure:
    """One row of the bench table."""

    name: str
    items: int
    wall_s: float
    cpu_s: float
    unit: str = "msg"
    notes: dict[str, float | str] = field(default_factory=dict)

    @property
    def per_second(self) -> float:
        return self.items / self.wall_s if self.wall_s else 0.0

    @property
    def cpu_us_per_item(self) -> float:
        return self.cpu_s * 1e6 / self.items if self.items else 0.0


def percentile(values: list[float], pct: float) -> float:
    """Nearest-rank percentile; the benchmarks report p50/p95/p99 with it."""
    if not values:
        return 0.0
    ordered = sorted(values)
    rank = max(0, min(len(ordered) - 1, round(pct / 100 * len(ordered) + 0.5) - 1))
    return ordered[rank]
