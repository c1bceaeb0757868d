"""After known traffic through the real broker, /metrics shows exact counts; /readyz tells what is wrong."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime

import httpx
import pytest
from prometheus_client import REGISTRY

from connectors import registry
from connectors.base import Connector, Record, SourceContext
from schemas.envelope import HubEvent, Identifier
from schemas.errors import MappingError
from schemas.event_types import EventType
from schemas.identifiers import local_system
from schemas.topics import catalogue
from services.core import kafka_clients, topics
from services.core.broker import free_port
from services.core.health import Health, broker_and_topics, serve_health, store_writable
from services.core.publisher import DurablePublisher
from services.core.settings import Settings
from services.ingest.pipeline import Ingestor

pytestmark = pytest.mark.integration


class EvenOdd(Connector):
    """Test double: even numbers map, odd numbers are rejected."""

    name = "even-odd"
    title = "test double"

    def split(self, data: bytes) -> Iterator[Record]:
        yield from (Record(raw=line) for line in data.split())

    def map_record(self, record: Record, ctx: SourceContext) -> list[HubEvent]:
        if int(record.raw) % 2:
            raise MappingError("odd")
        return [
            HubEvent.create(
                event_type=EventType.ENCOUNTER,
                source_partner=ctx.partner,
                source_system=local_system(ctx.partner, "eo"),  # the partner's own system
                source_record_id=record.raw.decode(),
                record_version="1",
                occurred_at=datetime(2025, 1, 1, tzinfo=UTC),
                subjects=[Identifier(system="s", value="1")],
            )
        ]


def sample(name: str, **labels: str) -> float:
    return REGISTRY.get_sample_value(name, labels) or 0.0


def test_metrics_count_exactly_the_traffic_sent(
    settings: Settings, bootstrap: str, unique: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(registry._CONNECTORS, "even-odd", f"{__name__}:EvenOdd")
    registry.get.cache_clear()
    admin = kafka_clients.admin(settings, bootstrap)
    topics.apply(admin, catalogue())
    admin.close()
    partner = f"P-{unique}"
    delivered_before = sample("hubnet_messages_delivered_total", topic="fh.events")
    publisher = DurablePublisher(settings, bootstrap).start()
    ingestor = Ingestor(publisher)
    for _ in range(3):
        ingestor.ingest("even-odd", b"1 2 3 4 5 6 7", SourceContext(partner=partner))
    assert publisher.flush(20)
    publisher.close()

    assert sample("hubnet_inputs_received_total", connector="even-odd", partner=partner) == 3
    assert sample("hubnet_events_accepted_total", connector="even-odd", partner=partner) == 9
    assert sample("hubnet_records_rejected_total", connector="even-odd", partner=partner) == 12
    assert sample("hubnet_messages_delivered_total", topic="fh.events") - delivered_before == 9
    assert sample("hubnet_outbox_backlog") == 0

    health = Health(
        "test-service", [broker_and_topics(settings, bootstrap), store_writable(settings.data_dir)]
    )
    server = serve_health(health, port := free_port())
    try:
        scrape = httpx.get(f"http://127.0.0.1:{port}/metrics").text
        assert f'hubnet_events_accepted_total{{connector="even-odd",partner="{partner}"}} 9.0' in scrape
        assert httpx.get(f"http://127.0.0.1:{port}/healthz").status_code == 200
        ready = httpx.get(f"http://127.0.0.1:{port}/readyz")
        assert ready.status_code == 200, ready.text
    finally:
        server.shutdown()


def test_readyz_names_what_is_wrong(tmp_path: object, settings: Settings) -> None:
    health = Health("test-broken", [broker_and_topics(settings, "127.0.0.1:9")])
    server = serve_health(health, port := free_port())
    try:
        ready = httpx.get(f"http://127.0.0.1:{port}/readyz", timeout=30)
        assert ready.status_code == 503
        assert "127.0.0.1:9 unreachable" in ready.json()["problems"][0]
        assert sample("hubnet_ready", service="test-broken") == 0
    finally:
        server.shutdown()
