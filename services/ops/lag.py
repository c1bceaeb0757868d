"""Consumer lag per group, topic and partition: end offset minus committed offset, never negative.

Committed offsets come from the admin client (`list_groups`, `list_group_offsets`); end offsets from
a group-less consumer's `end_offsets`. Only partitions a group has committed are counted: a group
that never committed on a partition has no position there to lag behind (Kafka's own
`kafka-consumer-groups` shows "-" for those).

The embedded broker (Tansu) reports a partition's end as the last batch's *base* offset + 1, so a
multi-record batch at the end makes end offsets undercount. On Tansu, `exact_end_offsets` fetches
that last batch (one small read per partition, from reported end - 1) and takes its last offset + 1.
Real Kafka's end offsets are exact and are used as they are. Whatever the broker, a committed
offset past the end shows lag 0, not a negative number.
"""

from __future__ import annotations

from collections.abc import Sequence
from enum import StrEnum
from typing import Any

from kafka import TopicPartition
from pydantic import BaseModel

from services.core import kafka_clients, metrics
from services.core.settings import Settings
from services.core.topic_reader import read_range

TREND_WINDOW = 5
"""Samples looked back over to say whether lag is rising or falling."""
TANSU_CLUSTER_PREFIX = "tansu"


class Trend(StrEnum):
    NEW = "new"
    RISING = "rising"
    FALLING = "falling"
    STEADY = "steady"

    @property
    def arrow(self) -> str:
        return {"new": "·", "rising": "↑", "falling": "↓", "steady": "→"}[self.value]


class PartitionLag(BaseModel):
    topic: str
    partition: int
    committed: int
    end: int
    lag: int


class GroupLag(BaseModel):
    group: str
    partitions: list[PartitionLag]
    trend: Trend = Trend.NEW
    change: int = 0
    """Total lag now minus the sample the trend compares with."""

    @property
    def total(self) -> int:
        return sum(p.lag for p in self.partitions)

    def by_topic(self) -> dict[str, int]:
        """Total lag per topic, topics in name order."""
        totals: dict[str, int] = {}
        for p in sorted(self.partitions, key=lambda p: p.topic):
            totals[p.topic] = totals.get(p.topic, 0) + p.lag
        return totals


def trend(earlier: Sequence[int], now: int) -> tuple[Trend, int]:
    """Direction against the oldest of the last `TREND_WINDOW` samples (oldest first in `earlier`)."""
    if not earlier:
        return Trend.NEW, 0
    change = now - earlier[-TREND_WINDOW:][0]
    if change > 0:
        return Trend.RISING, change
    return (Trend.FALLING if change < 0 else Trend.STEADY), change


def is_tansu(admin: Any) -> bool:
    """The embedded broker names its cluster `tansu_cluster`; real Kafka clusters have a random id."""
    cluster_id = str(admin.describe_cluster().get("cluster_id") or "")
    return cluster_id.startswith(TANSU_CLUSTER_PREFIX)


def committed_offsets(admin: Any) -> dict[str, dict[TopicPartition, int]]:
    """Each consumer group's committed offsets; one request per group, as old brokers require."""
    found: dict[str, dict[TopicPartition, int]] = {}
    for group in sorted(g["group_id"] for g in admin.list_groups()):
        offsets = admin.list_group_offsets({group: None}).get(group, {})
        found[group] = {tp: meta.offset for tp, meta in offsets.items() if meta.offset >= 0}
    return found


def exact_end_offsets(consumer: Any, reported: dict[TopicPartition, int]) -> dict[TopicPartition, int]:
    """Tansu's end offsets corrected by reading each partition's last batch (see the module docstring)."""
    ends = dict(reported)
    tail = {tp: end - 1 for tp, end in reported.items() if end > 0}
    if tail:
        for record in read_range(consumer, tail, timeout_s=5.0):
            tp = TopicPartition(record.topic, record.partition)
            ends[tp] = max(ends[tp], record.offset + 1)
    return ends


def topic_end_offsets(consumer: Any, topic: str, exact_ends: bool) -> dict[TopicPartition, int]:
    """End offset of each partition of `topic` (exact on Tansu when `exact_ends`); empty if it is missing."""
    partitions = [TopicPartition(topic, p) for p in sorted(consumer.partitions_for_topic(topic) or [])]
    if not partitions:
        return {}
    ends: dict[TopicPartition, int] = consumer.end_offsets(partitions)
    return exact_end_offsets(consumer, ends) if exact_ends else ends


def measure(settings: Settings, bootstrap: str, admin: Any, exact_ends: bool) -> list[GroupLag]:
    """Lag of every consumer group now; sets `hubnet_consumer_lag` for exactly these partitions."""
    groups = committed_offsets(admin)
    partitions = sorted({tp for offsets in groups.values() for tp in offsets})
    ends: dict[TopicPartition, int] = {}
    if partitions:
        consumer = kafka_clients.consumer(settings, bootstrap, group_id=None)
        try:
            ends = consumer.end_offsets(partitions)
            if exact_ends:
                ends = exact_end_offsets(consumer, ends)
        finally:
            consumer.close()
    result = [
        GroupLag(
            group=group,
            partitions=[
                PartitionLag(
                    topic=tp.topic,
                    partition=tp.partition,
                    committed=committed,
                    end=ends.get(tp, 0),
                    lag=max(0, ends.get(tp, 0) - committed),
                )
                for tp, committed in sorted(offsets.items())
            ],
        )
        for group, offsets in groups.items()
    ]
    metrics.CONSUMER_LAG.clear()  # a deleted group or partition must not keep its last value
    for group_lag in result:
        for p in group_lag.partitions:
            metrics.CONSUMER_LAG.labels(group_lag.group, p.topic, str(p.partition)).set(p.lag)
    return result
