"""What `hubnet monitor` keeps each cycle for the ops page: its status report and one `Sample`.

The ops page shows the monitor's latest report rather than collecting again, because collecting
sets the network-wide gauges (`hubnet_consumer_lag`, ...) that only the monitor may export: a web
process exporting them too would double every `sum by (group)` in the alert rules.

A sample holds, at one moment:
- events and dead letters so far: the sum of the (exact) end offsets of `fh.events` and `fh.dlq`;
  the difference between two samples over the minutes between them is the throughput;
- the total lag of each consumer group, from the report;
- ingest-to-linked latency: for the `fh.linked` records written since the last sample, the
  record's broker time minus its `ingested_at` header (median, 95th percentile and count). The
  identity worker writes `fh.linked`, so this is the time from a partner's input to an identified
  event, one stage before the timeline. The first sample starts at the end of `fh.linked`, so
  history from before the monitor started is not counted.

Samples are kept for two hours (ops store); the page charts the last hour. Taking a sample never
raises into the monitor: a part that cannot be read is left empty and logged.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from itertools import pairwise
from typing import Any, TypeVar

import structlog
from pydantic import BaseModel

from schemas.topics import DLQ, EVENTS, LINKED
from services.core import kafka_clients
from services.core.settings import Settings
from services.core.topic_reader import read_range
from services.ops.lag import topic_end_offsets
from services.ops.partners import unread_since_last_scan
from services.ops.status import StatusReport
from services.ops.store import OpsStore

log = structlog.get_logger(__name__)
CHART_SPAN = timedelta(hours=1)
T = TypeVar("T")


class Sample(BaseModel):
    at: datetime
    events: int | None = None
    """Events on fh.events so far (sum of end offsets)."""
    dead_letters: int | None = None
    """Dead letters on fh.dlq so far."""
    lag: dict[str, int] = {}
    """Total lag per consumer group."""
    latency_p50_ms: float | None = None
    latency_p95_ms: float | None = None
    latency_count: int = 0
    """fh.linked records the latency figures are taken over (0: none arrived since the last sample)."""


@dataclass(frozen=True)
class Point:
    at: datetime
    value: float | None
    """None: not known at that moment (a gap in the chart)."""


def record_cycle(settings: Settings, bootstrap: str, report: StatusReport, every_s: float) -> Sample:
    """Save the monitor's report and one sample in the ops store; called once per monitor cycle."""
    store = OpsStore.in_data_dir(settings)
    try:
        store.save_monitor_report(report.collected_at, every_s, report.model_dump_json())
        sample = take_sample(settings, bootstrap, store, report)
        store.add_monitor_sample(sample.at, sample.model_dump_json())
        return sample
    finally:
        store.close()


def take_sample(settings: Settings, bootstrap: str, store: OpsStore, report: StatusReport) -> Sample:
    sample = Sample(at=report.collected_at.astimezone(UTC), lag={g.group: g.total for g in report.lag})
    if not report.broker.reachable:
        return sample
    exact = report.broker.exact_ends
    consumer = kafka_clients.consumer(settings, bootstrap, group_id=None)
    try:
        sample.events = _guarded("events", lambda: sum(topic_end_offsets(consumer, EVENTS, exact).values()))
        sample.dead_letters = _guarded(
            "dead letters", lambda: sum(topic_end_offsets(consumer, DLQ, exact).values())
        )
        latencies = _guarded("latency", lambda: _new_latencies_ms(consumer, store, exact)) or []
    finally:
        consumer.close()
    if latencies:
        latencies.sort()
        sample.latency_p50_ms = percentile(latencies, 0.5)
        sample.latency_p95_ms = percentile(latencies, 0.95)
        sample.latency_count = len(latencies)
    return sample


def _guarded(part: str, read: Callable[[], T]) -> T | None:
    try:
        return read()
    except Exception as error:  # any client error: the rest of the sample is still worth keeping
        log.warning("monitor.sample_part_failed", part=part, error=type(error).__name__)
        return None


def _new_latencies_ms(consumer: Any, store: OpsStore, exact: bool) -> list[float]:
    """Latency of each fh.linked record since the last sample; the first call only marks the end."""
    first = not store.scan_positions(LINKED)
    positions, unread = unread_since_last_scan(consumer, LINKED, store, exact)
    latencies: list[float] = []
    if first:
        positions = {tp.partition: end for tp, end in topic_end_offsets(consumer, LINKED, exact).items()}
    else:
        for record in read_range(consumer, unread) if unread else ():
            positions[record.partition] = record.offset + 1
            latency = _latency_ms(record)
            if latency is not None:
                latencies.append(latency)
    store.save_scan(LINKED, positions, {})
    return latencies


def _latency_ms(record: Any) -> float | None:
    """Broker time of the record minus its `ingested_at` header; None without a readable header."""
    headers = dict(record.headers or [])
    try:
        ingested = datetime.fromisoformat(headers["ingested_at"].decode())
    except (KeyError, ValueError):
        return None
    if ingested.tzinfo is None:
        return None
    return max(0.0, float(record.timestamp) - ingested.timestamp() * 1000)


def percentile(ordered: Sequence[float], q: float) -> float:
    """Nearest-rank percentile of an ascending, non-empty sequence."""
    return ordered[min(len(ordered), max(1, math.ceil(q * len(ordered)))) - 1]


# reading it back, for the ops page


def last_hour(store: OpsStore, now: datetime) -> list[Sample]:
    return [Sample.model_validate_json(s) for s in store.monitor_samples(now - CHART_SPAN)]


def latest_report(store: OpsStore) -> tuple[StatusReport, float] | None:
    """The monitor's latest report and its interval in seconds, or None if no monitor ran here."""
    saved = store.monitor_report()
    return (StatusReport.model_validate_json(saved[0]), saved[1]) if saved else None


def per_minute(samples: Sequence[Sample], counter: Callable[[Sample], int | None]) -> list[Point]:
    """How much a counter grew per minute up to each sample (from the one before); a counter that
    went backwards (a recreated broker) or is unknown gives a gap, never a negative rate."""
    points = []
    for before, now in pairwise(samples):
        earlier, later = counter(before), counter(now)
        minutes = (now.at - before.at).total_seconds() / 60
        if earlier is None or later is None or later < earlier or minutes <= 0:
            points.append(Point(now.at, None))
        else:
            points.append(Point(now.at, (later - earlier) / minutes))
    return points


def lag_points(samples: Sequence[Sample], group: str | None = None) -> list[Point]:
    """Lag of one group at each sample (a gap where the group had no lag figure), or of all groups."""
    if group is None:
        return [Point(s.at, float(sum(s.lag.values()))) for s in samples]
    return [Point(s.at, float(s.lag[group]) if group in s.lag else None) for s in samples]


def latency_points(samples: Sequence[Sample]) -> list[Point]:
    return [Point(s.at, s.latency_p95_ms) for s in samples]
