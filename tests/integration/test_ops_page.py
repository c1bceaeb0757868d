"""The ops page on the real (session) broker: monitor cycles feed the overview and its charts
(throughput from fh.events, ingest-to-linked latency from fh.linked), and the dead letters of a
partner are listed, one replayed after a mapping fix and one discarded with a reason, through the
pages and the app's durable publisher."""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from connectors import registry
from connectors.base import SourceContext
from schemas.audit import AuditRecord
from schemas.topics import AUDIT, LINKED, catalogue
from services.core import kafka_clients, topics
from services.core.publisher import DurablePublisher
from services.core.settings import Settings
from services.core.topic_reader import read_to_end
from services.ingest.pipeline import Ingestor
from services.ops import dead_letters, history
from services.ops.dead_letters import Filter
from services.ops.status import collect
from services.timeline.audit import AuditTrail
from services.timeline.audit_store import AuditStore
from services.timeline.policy import Role
from services.timeline.store import TimelineStore
from services.timeline.users import UserStore
from services.web import routes_ops
from services.web.app import create_app
from tests.integration import test_dlq_tooling
from tests.integration.test_dlq_tooling import FIXED
from tests.unit.gateway.support import add_partner

pytestmark = pytest.mark.integration
PASSWORD = "correct horse"


@pytest.fixture
def fixable(monkeypatch: pytest.MonkeyPatch) -> None:
    """The dead-letter tooling test's connector: rejects 'needs-fix' until FIXED, 'broken' always."""
    monkeypatch.setitem(registry._CONNECTORS, "fixable", f"{test_dlq_tooling.__name__}:FixableConnector")
    registry.get.cache_clear()
    FIXED["value"] = False


@pytest.fixture
def publisher(settings: Settings, bootstrap: str) -> Iterator[DurablePublisher]:
    admin = kafka_clients.admin(settings, bootstrap)
    topics.apply(admin, catalogue())
    admin.close()
    running = DurablePublisher(settings, bootstrap, settings.data_dir / "timeline-outbox.sqlite").start()
    yield running
    running.close()


@pytest.fixture
def client(settings: Settings, tmp_path: Path, publisher: DurablePublisher) -> Iterator[TestClient]:
    """The staff app as `hubnet serve api` builds it, with an operations user signed in."""
    timeline = TimelineStore.open(tmp_path / "timeline.sqlite")
    users = UserStore.open(tmp_path / "users.sqlite")
    users.add("ops-on-call", PASSWORD, Role.OPERATIONS, ["*"])
    app = create_app(
        timeline, users, AuditTrail(AuditStore.open(tmp_path / "audit.sqlite"), publisher), b"i" * 32
    )
    routes_ops.install(app, settings)
    with TestClient(app) as running:
        token = csrf(running.get("/sign-in").text)
        form = {"username": "ops-on-call", "password": PASSWORD, "csrf": token, "next": "/ops"}
        assert running.post("/sign-in", data=form, follow_redirects=False).status_code == 303
        yield running
    app.state.ops.store.close()
    timeline.close()
    users.close()


def csrf(html: str) -> str:
    found = re.search(r'name="csrf" value="([^"]+)"', html)
    assert found
    return found.group(1)


def listed(client: TestClient, **query: str) -> list[str]:
    page = client.get("/ops/dead-letters", params=query)
    assert page.status_code == 200
    return re.findall(r'href="/ops/dead-letters/([0-9a-f]{32})"', page.text)


def until_listed(client: TestClient, expected: int, **query: str) -> list[str]:
    """The list once the broker has the status changes the publisher relayed (usually at once)."""
    deadline = time.monotonic() + 20
    found = listed(client, **query)
    while len(found) != expected and time.monotonic() < deadline:
        time.sleep(0.2)
        found = listed(client, **query)
    return found


@pytest.mark.usefixtures("fixable")
def test_dead_letters_on_the_broker_are_listed_one_replayed_and_one_discarded(
    settings: Settings, bootstrap: str, unique: str, publisher: DurablePublisher, client: TestClient
) -> None:
    partner = f"p-{unique.lower()}"
    add_partner(client.app.state.ops.gateway, partner, formats=("fixable",))  # type: ignore[attr-defined]
    result = Ingestor(publisher).ingest("fixable", b"ok\nneeds-fix\nbroken", SourceContext(partner=partner))
    assert (len(result.accepted), len(result.rejected)) == (1, 2)
    assert publisher.flush(20)

    ids = until_listed(client, 2, partner=partner)
    assert len(ids) == 2
    by_original = {e.letter.original: e.letter.dead_letter_id for e in dead_letters.load(settings, bootstrap)
                   if Filter(partner=partner)(e)}  # fmt: skip
    fixable_id, broken_id = by_original[b"needs-fix"], by_original[b"broken"]
    detail = client.get(f"/ops/dead-letters/{broken_id}")
    assert "cannot map &#39;broken&#39;" in detail.text
    assert '<pre class="hub-original" tabindex="0" aria-label="Original input">broken</pre>' in detail.text

    FIXED["value"] = True  # the mapping fix is deployed
    token = csrf(detail.text)
    replayed = client.post(
        "/ops/dead-letters/replay", data={"csrf": token, "scope": "selected", "id": fixable_id}
    )
    assert "1 of 1 replayed, 0 still failing" in replayed.text
    discarded = client.post(
        f"/ops/dead-letters/{broken_id}/discard", data={"csrf": token, "reason": "partner test file"},
        follow_redirects=False,
    )  # fmt: skip
    assert discarded.status_code == 303
    assert publisher.flush(20)

    assert until_listed(client, 0, partner=partner) == []
    assert sorted(until_listed(client, 2, partner=partner, state="all")) == sorted(ids)
    mine = Filter(partner=partner, include_closed=True)
    states = {
        e.letter.dead_letter_id: e.status.state if e.status else "open"
        for e in dead_letters.load(settings, bootstrap)
        if mine(e)
    }
    assert states == {fixable_id: "replayed", broken_id: "discarded"}
    audits = [AuditRecord.from_bytes(r.value) for r in read_to_end(settings, bootstrap, AUDIT)]
    assert any(
        (a.action, a.actor, a.target, a.reason)
        == ("dlq.discard", "ops-on-call", broken_id, "partner test file")
        for a in audits
    )
    assert any(a.action == "ops.dlq.replay.done" and a.target == fixable_id for a in audits)


@pytest.mark.usefixtures("fixable")
def test_monitor_cycles_feed_the_overview_with_throughput_and_latency(
    settings: Settings, bootstrap: str, unique: str, publisher: DurablePublisher, client: TestClient
) -> None:
    first = history.record_cycle(settings, bootstrap, collect(settings), every_s=30)
    assert first.latency_count == 0  # the first sample only marks where fh.linked ends
    FIXED["value"] = True
    Ingestor(publisher).ingest("fixable", b"a\nb\nc", SourceContext(partner=f"P-{unique}"))
    assert publisher.flush(20)
    producer = kafka_clients.producer(settings, bootstrap)
    ingested = (datetime.now(UTC) - timedelta(seconds=2)).isoformat().encode()
    for n in range(3):
        producer.send(
            LINKED, key=b"f", value=b"{}", headers=[("ingested_at", ingested), ("n", str(n).encode())]
        )
    producer.flush(10)
    producer.close()

    second = history.record_cycle(settings, bootstrap, collect(settings), every_s=30)
    assert second.events is not None
    assert first.events is not None
    assert second.events >= first.events + 3
    assert second.latency_count == 3
    assert second.latency_p50_ms is not None
    assert 1900 <= second.latency_p50_ms < 60_000

    page = client.get("/ops")
    assert page.status_code == 200
    assert "has not collected" not in page.text
    assert "Ingest to linked, 95th percentile: latest" in page.text
    assert "Events accepted: latest" in page.text
    assert client.get("/ops/collected").text == second.at.isoformat()
