"""Dead-letter list, replay after a mapping fix (as the registered partner, audited), and audited
discard, through the real broker."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime

import pytest

from connectors import registry
from connectors.base import Connector, Record, SourceContext
from schemas.audit import AuditRecord
from schemas.envelope import HubEvent, Identifier
from schemas.errors import HubnetError, MappingError
from schemas.event_types import EventType
from schemas.identifiers import local_system
from schemas.topics import AUDIT, catalogue
from services.core import kafka_clients, topics
from services.core.publisher import DurablePublisher
from services.core.settings import Settings
from services.core.topic_reader import read_to_end
from services.gateway.replays import ReplayDoor
from services.gateway.service import Gateway
from services.ingest.pipeline import Ingestor
from services.ops import dead_letters
from services.ops.dead_letters import Filter
from tests.unit.gateway.support import add_partner

pytestmark = pytest.mark.integration
FIXED = {"value": False}


class FixableConnector(Connector):
    """Rejects 'needs-fix' until the 'mapping fix' ships (FIXED); rejects 'broken' forever."""

    name = "fixable"
    title = "test double"

    def split(self, data: bytes) -> Iterator[Record]:
        for i, line in enumerate(data.splitlines(), start=1):
            yield Record(raw=line, ref=f"line {i}")

    def map_record(self, record: Record, ctx: SourceContext) -> list[HubEvent]:
        text = record.raw.decode()
        if text == "broken" or (text == "needs-fix" and not FIXED["value"]):
            raise MappingError(f"cannot map '{text}'", location="line")
        return [
            HubEvent.create(
                event_type=EventType.ENCOUNTER,
                source_partner=ctx.partner,
                source_system=local_system(ctx.partner, "fixable"),  # the partner's own system
                source_record_id=text,
                record_version="1",
                occurred_at=datetime(2025, 1, 1, tzinfo=UTC),
                subjects=[Identifier(system="s", value=text)],
            )
        ]


@pytest.fixture
def fixable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(registry._CONNECTORS, "fixable", f"{__name__}:FixableConnector")
    registry.get.cache_clear()
    FIXED["value"] = False


def test_replay_moves_fixed_dead_letters_out_and_leaves_broken_ones(
    fixable: None, settings: Settings, bootstrap: str, unique: str
) -> None:
    admin = kafka_clients.admin(settings, bootstrap)
    topics.apply(admin, catalogue())
    admin.close()
    partner = f"p-{unique.lower()}"
    publisher = DurablePublisher(settings, bootstrap).start()
    gateway = Gateway.open(settings, publisher)  # a replay goes as the registered partner
    add_partner(gateway, partner, formats=("fixable",))
    result = Ingestor(publisher).ingest("fixable", b"ok\nneeds-fix\nbroken", SourceContext(partner=partner))
    assert (len(result.accepted), len(result.rejected)) == (1, 2)
    assert publisher.flush(20)

    mine = Filter(partner=partner)
    before = [e for e in dead_letters.load(settings, bootstrap) if mine(e)]
    assert sorted(e.letter.original for e in before) == [b"broken", b"needs-fix"]

    FIXED["value"] = True  # the mapping fix is deployed
    door = ReplayDoor(gateway, "ops-test", "test replay")
    report = dead_letters.replay(before, publisher, by="ops-test", door=door)
    gateway.close()
    assert publisher.flush(20)
    assert len(report.replayed) == 1
    assert [why for _, why in report.still_failing] == ["line: cannot map 'broken'"]

    after = [e for e in dead_letters.load(settings, bootstrap) if mine(e)]
    assert [e.letter.original for e in after] == [b"broken"]
    replayed_id, event_ids = report.replayed[0]
    closed = dead_letters.find(dead_letters.load(settings, bootstrap), replayed_id)
    assert closed.status is not None
    assert closed.status.state == "replayed"
    assert closed.status.event_ids == event_ids

    with pytest.raises(HubnetError, match="reason"):
        dead_letters.discard(after[0], " ", "ops-test", publisher)
    dead_letters.discard(after[0], "partner confirmed test data", "ops-test", publisher)
    assert publisher.flush(20)
    publisher.close()
    assert [e for e in dead_letters.load(settings, bootstrap) if mine(e)] == []
    audits = [AuditRecord.from_bytes(r.value) for r in read_to_end(settings, bootstrap, AUDIT)]
    assert any(
        a.action == "dlq.discard"
        and a.target == after[0].letter.dead_letter_id
        and a.reason == "partner confirmed test data"
        for a in audits
    )
    assert any(a.action == "events.replay" and a.actor == "ops-test" and a.target == f"partner:{partner}"
               for a in audits), "the operator replaying as the partner is audited"  # fmt: skip
