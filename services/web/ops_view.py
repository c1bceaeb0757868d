"""What the ops overview shows, worked out from the ops store before rendering (no I/O but the store).

Kept apart from the routes so the page's decisions (is the monitor overdue, which charts, lag by
topic) are plain functions of the store and a clock, testable without a web client.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from services.cli.status import ago, interval
from services.ops import history
from services.ops.lag import GroupLag
from services.ops.status import StatusReport
from services.ops.store import OpsStore
from services.web.ops_charts import Chart, chart

MONITOR_MISSED_CYCLES = 3
"""The monitor's report is overdue after this many of its intervals without a new one."""


@dataclass(frozen=True)
class LagRow:
    group: GroupLag
    by_topic: str
    chart: Chart


@dataclass(frozen=True)
class Overview:
    now: datetime
    report: StatusReport | None
    """None until `hubnet monitor` has run once with this data dir."""
    every_s: float
    charts: list[Chart]
    lag: list[LagRow]

    @property
    def overdue(self) -> bool:
        return self.report is None or self.age_s > self.every_s * MONITOR_MISSED_CYCLES

    @property
    def age_s(self) -> float:
        return (self.now - self.report.collected_at).total_seconds() if self.report else 0.0

    @property
    def open_dead_letters(self) -> int:
        return sum(row.count for row in self.report.dead_letters) if self.report else 0

    def ago(self, when: datetime) -> str:
        return ago(when, self.now)

    def interval(self, seconds: float) -> str:
        return interval(seconds)


def overview(store: OpsStore, now: datetime) -> Overview:
    saved = history.latest_report(store)
    samples = history.last_hour(store, now)
    start = now - history.CHART_SPAN
    charts = [
        chart("Events accepted", "per minute", history.per_minute(samples, lambda s: s.events), start, now),
        chart(
            "Dead letters", "per minute", history.per_minute(samples, lambda s: s.dead_letters), start, now
        ),
        chart("Consumer lag, all groups", "messages", history.lag_points(samples), start, now),
        chart("Ingest to linked, 95th percentile", "ms", history.latency_points(samples), start, now),
    ]
    if saved is None:
        return Overview(now, None, 0.0, charts, [])
    report, every_s = saved
    rows = []
    for group in report.lag:
        points = history.lag_points(samples, group.group)
        rows.append(
            LagRow(
                group,
                ", ".join(f"{topic} {lag}" for topic, lag in group.by_topic().items()),
                chart(f"Lag of {group.group}", "messages", points, start, now),
            )
        )
    return Overview(now, report, every_s, charts, rows)
