"""Every registered format's sample file, through its connector and the real broker onto fh.events.

The connectors' own unit tests check the mapping; this checks the boundary: the right topic, the
Kafka key is the event's subject, the headers match the body, and the bytes parse back.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from connectors import registry
from connectors.base import SourceContext
from schemas.envelope import HubEvent
from schemas.topics import EVENTS, catalogue
from services.core import kafka_clients, topics
from services.core.publisher import DurablePublisher
from services.core.settings import Settings
from services.ingest.pipeline import Ingestor
from tests.integration.kafka_helpers import read_all

pytestmark = pytest.mark.integration
SAMPLES = Path(__file__).resolve().parents[2] / "samples"


def sample_files(fmt: str) -> list[Path]:
    folder = SAMPLES / fmt
    return sorted(
        p for p in folder.glob("*") if p.is_file() and not p.name.startswith("invalid") and p.suffix != ".md"
    )


@pytest.mark.parametrize("fmt", registry.formats())
def test_sample_reaches_fh_events_with_subject_key_and_headers(
    fmt: str, settings: Settings, bootstrap: str
) -> None:
    files = sample_files(fmt)
    assert files, f"samples/{fmt}/ needs a sample input (the README promises one per format)"
    admin = kafka_clients.admin(settings, bootstrap)
    topics.apply(admin, catalogue())
    admin.close()
    partner = f"sample-test-{fmt}"
    publisher = DurablePublisher(settings, bootstrap).start()
    accepted: dict[str, HubEvent] = {}
    for path in files:
        result = Ingestor(publisher).ingest(
            fmt, path.read_bytes(), SourceContext(partner=partner, source_name=path.name)
        )
        assert result.rejected == [], [d.reason for d in result.rejected]
        accepted.update({e.event_id: e for e in result.accepted})
    assert accepted
    assert publisher.flush(30)
    publisher.close()

    mine = []
    for record in read_all(settings, bootstrap, EVENTS, expected=len(accepted), timeout_s=10):
        headers = dict(record.headers)
        if headers["source_partner"] == partner.encode():
            mine.append(record)
    assert {dict(r.headers)["event_id"].decode() for r in mine} == set(accepted)
    for record in mine:
        event = HubEvent.from_bytes(record.value)
        assert event == accepted[event.event_id]
        assert record.key == event.key
        assert dict(record.headers)["event_type"] == event.event_type.value.encode()
