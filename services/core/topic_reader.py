"""Read a whole topic, from the beginning to the end offsets at the time of the call.

For tools that rebuild a view from Kafka (dead-letter list, status, rebuilds): no consumer group,
so nothing is committed and reading never disturbs a running worker.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

from kafka import TopicPartition

from schemas.errors import TransportError
from services.core import kafka_clients
from services.core.settings import Settings


class TopicReadError(TransportError):
    """A topic could not be read to its end: the broker stopped sending before the end offsets."""


def read_to_end(settings: Settings, bootstrap: str, topic: str, timeout_s: float = 30.0) -> Iterator[Any]:
    """Yield every record at least up to the end offsets seen at the start; a missing topic is empty.
    `timeout_s` is how long a read may go without receiving anything (a large topic takes as long
    as it takes); past it, `TopicReadError` says how far it got: a silently shortened read would
    make a rebuild or a listing drop records.

    Reading goes on until every partition reached its end offset and a poll brings nothing more,
    because the embedded broker (Tansu) reports the end of a partition as the last batch's base
    offset + 1: records after the first of a multi-record batch lie beyond the offset it reports.
    """
    consumer = kafka_clients.consumer(settings, bootstrap, group_id=None)
    try:
        partitions = [TopicPartition(topic, p) for p in sorted(consumer.partitions_for_topic(topic) or [])]
        if not partitions:
            return
        yield from read_range(consumer, consumer.beginning_offsets(partitions), timeout_s)
    finally:
        consumer.close()


def read_range(consumer: Any, start: dict[TopicPartition, int], timeout_s: float = 30.0) -> Iterator[Any]:
    """Yield records of the partitions in `start`, each from its start offset to the end offsets seen
    now, on a group-less consumer the caller owns (same end rule as `read_to_end`)."""
    partitions = list(start)
    consumer.assign(partitions)
    for tp, offset in start.items():
        consumer.seek(tp, offset)
    end = consumer.end_offsets(partitions)
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        fetched = consumer.poll(timeout_ms=200)
        for batch in fetched.values():
            yield from batch
        if fetched:
            deadline = time.monotonic() + timeout_s  # progress: the read is slow, not stuck
        elif all(consumer.position(tp) >= end[tp] for tp in partitions):
            return
    behind = {f"{tp.topic}[{tp.partition}]": end[tp] - consumer.position(tp) for tp in partitions}
    raise TopicReadError(
        f"reading stopped: nothing arrived for {timeout_s:.0f} s with records still to read "
        f"({', '.join(f'{name}: {left} left' for name, left in behind.items() if left > 0)}); "
        "is the broker answering?"
    )
