"""The raw broker pipe: produce then consume same-size messages with kafka-python, no hubnet code.

This is the ceiling the pipeline is compared with (`pipeline / raw` in the bench table), measured
with the same client library and producer settings the durable publisher uses.
"""

from __future__ import annotations

import os
from typing import Any

from schemas.topics import Catalogue, TopicSpec
from services.bench.measure import Figure, timed
from services.core import kafka_clients
from services.core.settings import Settings
from services.core.topic_reader import read_to_end
from services.core.topics import apply


def create_bench_topics(admin: Any, partitions: int, *names: str) -> None:
    """Scratch topics for a benchmark: outside the catalogue, keeping everything while they live."""
    specs = [
        TopicSpec(
            name=name,
            partitions=partitions,
            retention_ms=-1,
            cleanup_policy="delete",
            key="-",
            purpose="bench",
        )
        for name in names
    ]
    apply(admin, Catalogue(topic=specs))


def raw_pipe(settings: Settings, bootstrap: str, messages: int, size: int = 600) -> list[Figure]:
    topic = f"bench.raw.{os.getpid()}"
    admin = kafka_clients.admin(settings, bootstrap)
    create_bench_topics(admin, 3, topic)
    payload = os.urandom(size // 2).hex().encode()[:size]
    producer = kafka_clients.producer(settings, bootstrap)
    with timed() as produced:
        for i in range(messages):
            producer.send(topic, key=str(i % 64).encode(), value=payload)
        producer.flush()
    producer.close()
    with timed() as consumed:
        count = sum(1 for _ in read_to_end(settings, bootstrap, topic, timeout_s=120))
    admin.delete_topics([topic])
    admin.close()
    return [
        Figure(
            "broker: produce (kafka-python, acks=all, idempotent)", messages, produced.wall_s, produced.cpu_s
        ),
        Figure("broker: consume (kafka-python)", count, consumed.wall_s, consumed.cpu_s),
    ]
