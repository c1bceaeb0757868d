"""A contained Patient id never joins two people, through the real (embedded) broker: NHS
Immunisation API records (contained `#Pat1`, no NHS number) converted by the `fhir` connector, sent
on the events topic, linked by the identity worker (issue #19, "Identity safety")."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest
from kafka.admin import NewTopic

from schemas.linked import LinkedEvent
from services.core import kafka_clients
from services.core.settings import Settings
from services.identity.worker import build
from tests.integration.kafka_helpers import read_all
from tests.unit.connectors.test_fhir_record_identity import convert, immunisation

pytestmark = pytest.mark.integration


def test_same_contained_id_is_two_people_unless_demographics_agree(
    tmp_path: Path, bootstrap: str, unique: str
) -> None:
    settings = Settings(data_dir=tmp_path, consumer_max_poll_interval_s=5.0)
    source, sink, dlq = f"t.events.{unique}", f"t.linked.{unique}", f"t.dlq.{unique}"
    admin = kafka_clients.admin(settings, bootstrap)
    admin.create_topics([NewTopic(source, 1, 1), NewTopic(sink, 1, 1), NewTopic(dlq, 1, 1)])
    admin.close()
    events = [
        convert(immunisation("ACME-1", "Amy", "Jones", "2024-05-02", "CO15 1AB")),
        convert(immunisation("ACME-2", "Ben", "Hall", "2023-01-09", "CM1 1AA")),
        convert(immunisation("ACME-3", "Amy", "Jones", "2024-05-02", "CO15 1AB")),
    ]
    producer = kafka_clients.producer(settings, bootstrap)
    for item in events:
        producer.send(source, key=item.key, value=item.to_bytes(), headers=item.headers())
    producer.flush()
    producer.close()

    app, service = build(settings, bootstrap, source=source, sink=sink, dlq=dlq, group=f"t-identity-{unique}")

    async def run() -> list[Any]:
        await app.start()
        try:
            return await asyncio.to_thread(read_all, settings, bootstrap, sink, 3, 60.0)
        finally:
            await app.stop()

    records = asyncio.run(run())
    linked = {item.event.event_id: item for item in (LinkedEvent.from_bytes(r.value) for r in records)}
    amy, ben, amy_again = (linked[e.event_id].person_id for e in events)
    assert amy != ben  # the same contained id #Pat1, different children
    assert amy == amy_again  # the same child, found by demographics
    service.store.close()
