"""The identity worker through the real (embedded) broker: fh.events in, fh.linked out, keyed by
family id (and partitioned by that key as every Kafka client does), a poison message
dead-lettered while the events around it still link, and a locked store retried instead of
dead-lettering sound events."""

from __future__ import annotations

import asyncio
import sqlite3
from pathlib import Path
from typing import Any

import pytest
from kafka.admin import NewTopic
from kafka.partitioner.default import murmur2

from schemas.dead_letter import DeadLetter
from schemas.event_types import EventType
from schemas.linked import LinkedEvent
from services.core import kafka_clients
from services.core.settings import Settings
from services.identity.worker import build
from tests.integration.kafka_helpers import read_all
from tests.unit.identity.events import event, nhs, person

pytestmark = pytest.mark.integration
LOCK_HELD_S = 3.0


def test_events_are_linked_in_order_and_a_poison_message_is_dead_lettered(
    tmp_path: Path, bootstrap: str, unique: str
) -> None:
    # No bootstrap in the settings: the embedded profile's short group timing (the fixture's
    # settings name the broker explicitly, which selects production timing).
    settings = Settings(data_dir=tmp_path, consumer_max_poll_interval_s=5.0)
    source, sink, dlq = f"t.events.{unique}", f"t.linked.{unique}", f"t.dlq.{unique}"
    admin = kafka_clients.admin(settings, bootstrap)
    # one source partition: the test's events must be resolved in the order they were sent
    admin.create_topics([NewTopic(source, 1, 1), NewTopic(sink, 2, 1), NewTopic(dlq, 1, 1)])
    admin.close()
    number = nhs(123456)
    mother = person("Sarah", "Jones", "1990-04-11", "female", "CO15 1AB", nhs_number=nhs(765432), rid="m")
    events = [
        event(
            person("Amy", "Jones", "2024-05-02", "female", "CO15 1AB", nhs_number=number, verified=True), "e1"
        ),
        event(person("Amy", "Jones", "2024-05-02", "female", "CO15 1AB", local=("la-csc", "P77")), "e2"),
        event(
            person("Amy", "Jones", "2024-05-02", nhs_number=number),
            "e3",
            mother,
            event_type=EventType.BIRTH_NOTIFICATION,
        ),
    ]
    producer = kafka_clients.producer(settings, bootstrap)
    producer.send(source, key=events[0].key, value=events[0].to_bytes(), headers=events[0].headers())
    producer.send(source, key=b"x", value=b"{not json", headers=[("source_partner", b"la-csc")])
    for sent in events[1:]:
        producer.send(source, key=sent.key, value=sent.to_bytes(), headers=sent.headers())
    producer.flush()
    producer.close()

    app, service = build(settings, bootstrap, source=source, sink=sink, dlq=dlq, group=f"t-identity-{unique}")

    async def run() -> tuple[list[Any], list[Any]]:
        await app.start()
        try:
            linked = await asyncio.to_thread(read_all, settings, bootstrap, sink, 3, 60.0)
            dead = await asyncio.to_thread(read_all, settings, bootstrap, dlq, 1, 30.0)
        finally:
            await app.stop()
        return linked, dead

    linked_records, dead_records = asyncio.run(run())
    linked = [LinkedEvent.from_bytes(r.value) for r in linked_records]
    assert sorted(item.event.event_id for item in linked) == sorted(e.event_id for e in events)
    assert len({item.person_id for item in linked}) == 1  # NHS number, then demographics, then NHS again
    assert linked[2].related_ids
    assert linked[2].related_ids[0] != linked[0].person_id
    for record, item in zip(linked_records, linked, strict=True):
        assert record.key == item.family_ids[0].encode()
        assert record.partition == (murmur2(record.key) & 0x7FFFFFFF) % 2  # as any Kafka client keys it
        assert dict(record.headers)["person_id"] == item.person_id.encode()
    (letter,) = [DeadLetter.from_bytes(r.value) for r in dead_records]
    assert letter.original == b"{not json"
    assert letter.connector == "worker:identity"
    service.store.close()


def test_a_locked_store_is_retried_not_dead_lettered(tmp_path: Path, bootstrap: str, unique: str) -> None:
    """Another process (a CLI, the API) holds the identity store's write lock while events
    arrive: the worker's writes fail with sqlite3 `database is locked`, a transient error, so it
    retries the batch with backoff and links every event once the lock is gone. Only the poison
    message reaches the dead-letter topic; without the retry all three would be there."""
    settings = Settings(data_dir=tmp_path, consumer_max_poll_interval_s=5.0)
    source, sink, dlq = f"t.events.{unique}", f"t.linked.{unique}", f"t.dlq.{unique}"
    admin = kafka_clients.admin(settings, bootstrap)
    admin.create_topics([NewTopic(source, 1, 1), NewTopic(sink, 1, 1), NewTopic(dlq, 1, 1)])
    admin.close()
    events = [
        event(person("Amy", "Jones", "2024-05-02", "female", "CO15 1AB", nhs_number=nhs(123456)), "e1"),
        event(person("Ben", "Hall", "2023-01-09", "male", "CO16 2CD", local=("la-csc", "P78")), "e2"),
    ]
    producer = kafka_clients.producer(settings, bootstrap)
    for item in events:
        producer.send(source, key=item.key, value=item.to_bytes(), headers=item.headers())
    producer.send(source, key=b"x", value=b"{not json", headers=[("source_partner", b"la-csc")])
    producer.flush()
    producer.close()

    app, service = build(settings, bootstrap, source=source, sink=sink, dlq=dlq, group=f"t-identity-{unique}")
    service.store._db.execute("PRAGMA busy_timeout = 20")  # fail fast instead of waiting 30 s
    other = sqlite3.connect(settings.data_dir / "identity.sqlite", isolation_level=None)
    other.execute("BEGIN EXCLUSIVE")  # the other writer holds the lock, and writes: its commit
    other.execute("CREATE TABLE lock_probe (x)")  # leaves any snapshot the worker kept stale (#21)

    async def run() -> tuple[list[Any], list[Any]]:
        await app.start()
        try:
            await asyncio.sleep(LOCK_HELD_S)
            other.execute("COMMIT")
            linked = await asyncio.to_thread(read_all, settings, bootstrap, sink, 2, 60.0)
            dead = await asyncio.to_thread(read_all, settings, bootstrap, dlq, 1, 30.0)
            await asyncio.sleep(1.0)  # a wrongly dead-lettered event would show by now
            dead = await asyncio.to_thread(read_all, settings, bootstrap, dlq, 1, 5.0)
        finally:
            await app.stop()
        return linked, dead

    linked_records, dead_records = asyncio.run(run())
    other.close()
    linked = [LinkedEvent.from_bytes(r.value) for r in linked_records]
    assert sorted({item.event.event_id for item in linked}) == sorted(e.event_id for e in events)
    (letter,) = [DeadLetter.from_bytes(r.value) for r in dead_records]
    assert letter.original == b"{not json"
    service.store.close()
