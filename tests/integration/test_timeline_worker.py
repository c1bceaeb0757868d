"""The timeline worker through the real (embedded) broker: fh.linked in, timeline store out.

Idempotency (the same events delivered twice, then a restart that re-reads the topic from the
start under a new group), ordering (out-of-order arrivals listed by occurred-at, a late older
version ignored, a retraction), a merge, and a poison message dead-lettered without blocking.
"""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

import pytest
from kafka.admin import NewTopic
from prometheus_client import REGISTRY

from schemas.dead_letter import DeadLetter
from schemas.event_types import EventType
from schemas.linked import LinkedEvent
from services.core import kafka_clients
from services.core.settings import Settings
from services.core.topic_reader import read_to_end
from services.timeline.model import Filters
from services.timeline.store import TimelineStore
from services.timeline.worker import build
from tests.unit.timeline.events import NHS, linked, merged

pytestmark = pytest.mark.integration


def _events() -> list[LinkedEvent]:
    return [
        linked(record="r3", occurred="2024-03-03T00:00:00"),
        linked(record="r1", occurred="2024-03-01T00:00:00"),
        linked(record="r2", version="2", occurred="2024-03-02T12:00:00"),
        linked(record="r2", version="1", occurred="2024-03-02T00:00:00"),  # late older version
        linked(record="r4", occurred="2024-03-04T00:00:00"),
        linked(record="r4", version="2", event_type=EventType.RECORD_RETRACTED, retracts="r4"),
        linked(person="p2", record="r5", nhs=NHS[1], occurred="2024-03-05T00:00:00"),
        merged("p1", "p2", ("f1",)),
    ]


def _run(
    settings: Settings, bootstrap: str, topics: tuple[str, str], group: str, store: TimelineStore
) -> int:
    """Run the worker until the poison message (sent last, one partition) is dead-lettered, so
    everything before it was applied; the number of dead letters then."""
    source, dlq = topics
    app, _ = build(settings, bootstrap, source=source, dlq=dlq, store=store, group=group)
    seen = len(list(read_to_end(settings, bootstrap, dlq)))

    async def run() -> int:
        await app.start()
        try:
            deadline = time.monotonic() + 60
            while time.monotonic() < deadline:
                letters = await asyncio.to_thread(lambda: list(read_to_end(settings, bootstrap, dlq)))
                if len(letters) > seen:
                    return len(letters)
                await asyncio.sleep(0.2)
            return seen
        finally:
            await app.stop()

    return asyncio.run(run())


def _projected_count() -> float:
    return REGISTRY.get_sample_value("hubnet_end_to_end_seconds_count", {"stage": "projected"}) or 0.0


def test_projection_is_idempotent_ordered_and_survives_poison(
    tmp_path: Path, bootstrap: str, unique: str
) -> None:
    settings = Settings(data_dir=tmp_path, consumer_max_poll_interval_s=5.0)
    source, dlq = f"t.linked.{unique}", f"t.dlq.{unique}"
    admin = kafka_clients.admin(settings, bootstrap)
    admin.create_topics([NewTopic(source, 1, 1), NewTopic(dlq, 1, 1)])
    admin.close()
    producer = kafka_clients.producer(settings, bootstrap)
    events = _events()
    for item in [*events[:3], *events]:  # the first three twice: at-least-once redelivery
        producer.send(source, key=item.key, value=item.to_bytes(), headers=item.headers())
    producer.send(source, key=b"x", value=b"{not a bundle", headers=[("source_partner", b"essex-hv")])
    producer.flush()
    producer.close()

    store = TimelineStore.open(tmp_path / "timeline.sqlite")
    visible_before = _projected_count()
    assert _run(settings, bootstrap, (source, dlq), f"t-timeline-{unique}", store) == 1
    # every event made visible once is timed, ingested-at to store commit (duplicates are not)
    assert _projected_count() - visible_before == len(events)
    entries = store.entries(["p1"], Filters())
    assert [e.source_record_id for e in entries] == ["r5", "r3", "r2", "r1"]
    assert next(e for e in entries if e.source_record_id == "r2").record_version == "2"
    assert store.count_entries() == 4
    (letter,) = [DeadLetter.from_bytes(r.value) for r in read_to_end(settings, bootstrap, dlq)]
    assert letter.original == b"{not a bundle"
    assert letter.connector == "worker:timeline"

    # a restart under a new group re-reads everything: the store does not change
    before = [(e.event_id, e.person_id, e.record_version) for e in store.entries(["p1"], Filters())]
    assert _run(settings, bootstrap, (source, dlq), f"t-timeline-again-{unique}", store) == 2
    assert [(e.event_id, e.person_id, e.record_version) for e in store.entries(["p1"], Filters())] == before
    assert store.count_entries() == 4
    store.close()
