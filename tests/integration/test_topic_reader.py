"""Reading a whole topic: a large topic is read to its end however long it takes, and a read that
stops short says so instead of returning part of the topic (a rebuild or a listing would drop
records)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from kafka import TopicPartition
from kafka.admin import NewTopic

from services.core import kafka_clients
from services.core.settings import Settings
from services.core.topic_reader import TopicReadError, read_range, read_to_end

pytestmark = pytest.mark.integration


def test_a_topic_longer_to_read_than_the_timeout_is_read_to_its_end(
    tmp_path: Path, bootstrap: str, unique: str
) -> None:
    settings = Settings(data_dir=tmp_path)
    topic = f"t.reader.{unique}"
    admin = kafka_clients.admin(settings, bootstrap)
    admin.create_topics([NewTopic(topic, 2, 1)])
    admin.close()
    producer = kafka_clients.producer(settings, bootstrap)
    for n in range(30_000):
        producer.send(topic, key=str(n % 7).encode(), value=b"x" * 200 + str(n).encode())
    producer.flush()
    producer.close()
    values = {record.value for record in read_to_end(settings, bootstrap, topic, timeout_s=0.3)}
    assert len(values) == 30_000  # the whole read takes far longer than 0.3 s: only silence ends it


class _SilentConsumer:
    """A consumer whose broker stops sending with one record of ten still unread."""

    def __init__(self) -> None:
        self.tp = TopicPartition("t", 0)
        self.at = 0

    def assign(self, partitions: list[Any]) -> None: ...

    def seek(self, tp: Any, offset: int) -> None:
        self.at = offset

    def end_offsets(self, partitions: list[Any]) -> dict[Any, int]:
        return {self.tp: 10}

    def poll(self, timeout_ms: int) -> dict[Any, list[Any]]:
        if self.at < 9:
            self.at += 1
            return {self.tp: [self.at]}
        return {}

    def position(self, tp: Any) -> int:
        return self.at


def test_a_read_that_stops_short_raises_naming_what_is_left() -> None:
    consumer = _SilentConsumer()
    read: list[Any] = []
    with pytest.raises(TopicReadError, match=r"t\[0\]: 1 left"):
        read.extend(read_range(consumer, {consumer.tp: 0}, timeout_s=0.5))
    assert len(read) == 9
