"""Sparklines for the ops page, drawn server-side as inline SVG: no chart library, no script.

This module only does the geometry and the words; templates/ops/_charts.html draws the SVG. Each
chart carries a one-sentence summary (its text alternative, also shown under the chart) and its
figures for a table, so nothing is known only from the picture (WCAG 2.2 1.1.1, 1.4.1).
The y axis starts at 0, so a flat line near the bottom means "little", not "unchanged".
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from services.ops.history import Point

WIDTH = 300
HEIGHT = 60
PAD = 4


@dataclass(frozen=True)
class Chart:
    label: str
    unit: str
    lines: list[str]
    """SVG polyline `points` attributes, one per run of known values (unknown values are gaps)."""
    last: tuple[float, float] | None
    """Where the latest known value is drawn, to mark it."""
    points: Sequence[Point]
    summary: str
    width: int = WIDTH
    height: int = HEIGHT

    def rows(self) -> list[tuple[str, str]]:
        """The figures for the table under the chart, newest first: (time, value)."""
        return [
            (f"{p.at:%H:%M:%S}", number(p.value) if p.value is not None else "not known")
            for p in reversed(self.points)
        ]


def number(value: float) -> str:
    """1,234 for whole values, 12.3 otherwise: figures people read, not floats."""
    return f"{value:,.0f}" if abs(value - round(value)) < 0.05 or abs(value) >= 100 else f"{value:,.1f}"


def chart(label: str, unit: str, points: Sequence[Point], start: datetime, end: datetime) -> Chart:
    """`points` between `start` and `end` scaled into the sparkline box, with a summary sentence."""
    known = [p.value for p in points if p.value is not None]
    top = max(known, default=0.0) or 1.0
    span = (end - start).total_seconds() or 1.0

    def xy(point: Point, value: float) -> tuple[float, float]:
        x = PAD + (point.at - start).total_seconds() / span * (WIDTH - 2 * PAD)
        y = HEIGHT - PAD - value / top * (HEIGHT - 2 * PAD)
        return round(min(max(x, PAD), WIDTH - PAD), 1), round(y, 1)

    lines: list[str] = []
    run: list[str] = []
    last: tuple[float, float] | None = None
    for point in points:
        if point.value is None:
            lines += [" ".join(run)] if run else []
            run = []
            continue
        last = xy(point, point.value)
        run.append(f"{last[0]},{last[1]}")
    lines += [" ".join(run)] if run else []
    return Chart(label, unit, lines, last, points, _summary(label, unit, known, start, end))


def _summary(label: str, unit: str, known: Sequence[float], start: datetime, end: datetime) -> str:
    minutes = round((end - start).total_seconds() / 60)
    if not known:
        return f"{label}: no figures in the last {minutes} minutes yet."
    return (
        f"{label}: latest {number(known[-1])} {unit}; highest {number(max(known))}, "
        f"lowest {number(min(known))} over the last {minutes} minutes ({len(known)} samples)."
    )
