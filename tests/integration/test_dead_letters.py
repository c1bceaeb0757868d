"""A bad input reaches fh.dlq with its original bytes, through the real broker."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from connectors.base import Connector, Record, SourceContext
from schemas.dead_letter import DeadLetter
from schemas.envelope import HubEvent
from schemas.errors import MappingError
from schemas.topics import DLQ, catalogue
from services.core import kafka_clients, topics
from services.core.publisher import DurablePublisher
from services.core.settings import Settings
from services.ingest.pipeline import route
from tests.integration.kafka_helpers import read_all

pytestmark = pytest.mark.integration


class AlwaysRejects(Connector):
    name = "always-rejects"
    title = "test double"

    def split(self, data: bytes) -> Iterator[Record]:
        yield Record(raw=data, ref="message 1")

    def map_record(self, record: Record, ctx: SourceContext) -> list[HubEvent]:
        raise MappingError("PID-7 is not a date", location="PID-7", hint="send YYYYMMDD")


def test_a_rejected_input_lands_on_the_dlq_with_its_original_bytes(
    settings: Settings, bootstrap: str
) -> None:
    admin = kafka_clients.admin(settings, bootstrap)
    topics.apply(admin, catalogue())
    admin.close()
    original = b"MSH|^~\\&|bad\rPID|1||x||y||notadate\r\xff"
    ctx = SourceContext(partner="RQ8-dlq-test", source_name="feed.hl7")
    result, messages = route(list(AlwaysRejects().convert(original, ctx)), "always-rejects", ctx)
    publisher = DurablePublisher(settings, bootstrap).start()
    publisher.publish(messages)
    assert publisher.flush(20)
    publisher.close()

    records = [r for r in read_all(settings, bootstrap, DLQ, expected=1) if r.key == b"RQ8-dlq-test"]
    (record,) = records
    dead = DeadLetter.from_bytes(record.value)
    assert dead.original == original
    assert dead.location == "PID-7"
    assert dead.reason == "PID-7: PID-7 is not a date (send YYYYMMDD)"
    assert dead.source_name == "feed.hl7"
    assert dict(record.headers)["connector"] == b"always-rejects"
    assert result.accepted == []
