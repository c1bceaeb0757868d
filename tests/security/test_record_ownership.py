"""Record ownership (#18 finding 1): a record is (authenticated partner, source system, record id),
and no partner can create, update or retract another partner's record, whichever format it uses.

- the partner x format x write-verb matrix: every registered format's samples sent by partner A and,
  byte for byte, by partner B name disjoint records, and every record B's input writes or retracts
  lies in B's own namespace (so B's `new`, `update` and `delete` reach B's records only);
- NEMS: a message whose `MessageHeader.source.endpoint` names another partner's organisation or
  hubnet namespace is refused (a `Refusal`), and a delete naming A's record from B's own endpoint
  lands in B's namespace;
- the stores keep records by owner: the timeline and the referral router ignore B's update or
  retraction even when B names A's exact system and record id (on SQLite and PostgreSQL);
- through the real HTTP server: B's NEMS delete naming A's endpoint gets 403 and an audit record;
- end to end (real broker, timeline worker): A's immunisation stays on the timeline after B's
  deletes.
"""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import httpx
import orjson
import pytest
from kafka.admin import NewTopic

from connectors import registry
from connectors.base import Refusal, SourceContext
from connectors.common.fhir_input import read_fhir
from schemas.audit import AuditRecord
from schemas.envelope import HubEvent
from schemas.event_types import EventType
from schemas.identifiers import local_system, owns_system
from schemas.linked import LinkedEvent
from schemas.topics import AUDIT, EVENTS, catalogue
from services.core import kafka_clients, topics
from services.core.publisher import DurablePublisher
from services.core.settings import Settings
from services.gateway.partners import Partner
from services.gateway.service import Gateway
from services.gateway.submission import RefusedError
from services.referrals.lifecycle import Status
from services.timeline.model import Filters
from services.timeline.store import TimelineStore
from tests.databases import Backend
from tests.integration.kafka_helpers import read_all
from tests.integration.test_connector_samples import sample_files
from tests.integration.test_timeline_worker import _run as run_timeline_worker
from tests.unit.gateway.support import ListPublisher, add_partner
from tests.unit.referrals.support import Harness, linked, nhs, referral
from tests.unit.timeline.events import feed
from tests.unit.timeline.events import linked as timeline_event

pytestmark = pytest.mark.security
A, B = "partner-a", "partner-b"
A_ODS, B_ODS = "X99XX", "Y11YY"
NEMS_SAMPLE = Path(__file__).resolve().parents[2] / "samples" / "nems" / "vaccination-new.xml"


def convert(fmt: str, data: bytes, partner: str, org_ids: tuple[str, ...] = ()) -> list[Any]:
    return list(registry.get(fmt).convert(data, SourceContext(partner=partner, org_ids=org_ids)))


def writes(outcomes: list[Any]) -> set[tuple[str, str]]:
    """Every (source system, record id) the input creates, updates or retracts."""
    events = [o for o in outcomes if isinstance(o, HubEvent)]
    named = {(e.source_system, e.source_record_id) for e in events}
    return named | {(e.source_system, e.retracts) for e in events if e.retracts}


@pytest.mark.parametrize("fmt", registry.formats())
def test_the_same_input_from_another_partner_names_none_of_the_first_partners_records(fmt: str) -> None:
    files = sample_files(fmt)
    assert files, f"samples/{fmt}/ has no sample: every format is in the ownership matrix"
    for path in files:
        data = path.read_bytes()
        mine, theirs = convert(fmt, data, A), convert(fmt, data, B)
        assert writes(mine), f"{path.name} writes no record"
        assert not writes(mine) & writes(theirs), f"{fmt}: partner B's copy of {path.name} names A's records"
        ids = [{o.event_id for o in outcomes if isinstance(o, HubEvent)} for outcomes in (mine, theirs)]
        assert not ids[0] & ids[1], f"{fmt}: the same event ids for two partners' records"
        for partner, outcomes in ((A, mine), (B, theirs)):
            for event in (o for o in outcomes if isinstance(o, HubEvent)):
                assert event.source_partner == partner
                assert owns_system(partner, event.source_system), event.source_system


def nems_message(lifecycle: str, version: str, endpoint: str) -> bytes:
    bundle = copy.deepcopy(read_fhir(NEMS_SAMPLE.read_bytes(), "STU3"))
    header = bundle["entry"][0]["resource"]
    header["extension"][0]["valueCodeableConcept"]["coding"][0]["code"] = lifecycle
    header["meta"]["versionId"] = version
    header["source"]["endpoint"] = endpoint
    return orjson.dumps(bundle)


def ods(code: str) -> str:
    return f"urn:nhs-uk:addressing:ods:{code}"


@pytest.mark.parametrize(
    "endpoint",
    [ods(A_ODS), f"urn:hubnet:partner:{A}", local_system(A, f"nems/{ods(A_ODS)}")],
    ids=["ods-address", "hub-partner-urn", "hub-namespace"],
)
def test_nems_message_naming_another_partners_system_is_refused(endpoint: str) -> None:
    [outcome] = convert("nems", nems_message("delete", "2", endpoint), B, org_ids=(B_ODS,))
    assert isinstance(outcome, Refusal)
    assert outcome.location == "MessageHeader.source.endpoint"
    assert endpoint in outcome.reason
    assert "own" in outcome.reason


def test_nems_delete_from_the_senders_own_endpoint_reaches_its_own_namespace_only() -> None:
    [new] = convert("nems", nems_message("new", "1", ods(A_ODS)), A, org_ids=(A_ODS,))
    [delete] = convert("nems", nems_message("delete", "2", ods(B_ODS)), B, org_ids=(B_ODS,))
    assert isinstance(new, HubEvent)
    assert isinstance(delete, HubEvent)
    assert delete.event_type is EventType.RECORD_RETRACTED
    assert delete.retracts == new.source_record_id  # the same record id ...
    assert delete.source_system != new.source_system  # ... of B's own system, not A's
    assert owns_system(B, delete.source_system)


def test_fhir_delete_from_another_partner_names_its_own_record() -> None:
    bundle = {
        "resourceType": "Bundle",
        "type": "transaction",
        "timestamp": "2025-01-02T10:00:00Z",
        "entry": [{"request": {"method": "DELETE", "url": "Patient/p-1"}}],
    }
    data = orjson.dumps(bundle)
    [mine], [theirs] = convert("fhir", data, A), convert("fhir", data, B)
    assert isinstance(mine, HubEvent)
    assert isinstance(theirs, HubEvent)
    assert theirs.retracts == mine.retracts
    assert (theirs.source_system, theirs.retracts) != (mine.source_system, mine.retracts)


@pytest.fixture
def timeline(backend: Backend) -> TimelineStore:
    return backend.open(TimelineStore)


def test_timeline_keeps_a_record_that_another_partner_retracts_or_updates(timeline: TimelineStore) -> None:
    """Even an event that names A's exact system and record id (a transport that skipped the
    connector's check) changes nothing of A's: the store keys records by their partner too."""
    original = timeline_event(record="imm-1", partner=A)
    same_system = original.event.source_system
    forged = [
        timeline_event(record="imm-1", partner=B, version="5"),
        timeline_event(record="imm-1-x", partner=B, version="6", event_type=EventType.RECORD_RETRACTED,
                       retracts="imm-1"),
    ]  # fmt: skip
    feed(timeline, original)
    for event in forged:
        renamed = event.event.model_copy(update={"source_system": same_system})
        feed(timeline, LinkedEvent(event=renamed, person_id=event.person_id, family_ids=event.family_ids))
    entries = timeline.entries(["p1"], Filters())
    mine = [e for e in entries if e.partner == A]
    assert [(e.source_record_id, e.record_version) for e in mine] == [("imm-1", "1")]
    retraction = timeline_event(record="imm-1", partner=A, version="2", event_type=EventType.RECORD_RETRACTED,
                                retracts="imm-1")  # fmt: skip
    feed(timeline, retraction)
    assert [e for e in timeline.entries(["p1"], Filters()) if e.partner == A] == []  # A's own retraction


def test_referral_is_not_cancelled_by_another_partners_retraction() -> None:
    hub = Harness()
    hub.service.handle(referral("r1", "family-support", partner=A))
    forged = linked(
        EventType.RECORD_RETRACTED, "r1-x", [], number=nhs(1), person="person-1", family="fam-1",
        partner=B, retracts="r1",
    )  # fmt: skip
    system = f"https://example.org/{A}/records"
    hub.service.handle(
        LinkedEvent(event=forged.event.model_copy(update={"source_system": system}), person_id="person-1",
                    family_ids=("fam-1",))
    )  # fmt: skip
    kept = hub.store.by_source(A, system, "r1")
    assert kept is not None
    assert kept.status is not Status.CANCELLED


@pytest.mark.parametrize(
    "endpoint", [ods(A_ODS), f"urn:hubnet:partner:{A}"], ids=["ods-address", "hub-partner-urn"]
)
def test_nems_delete_naming_another_partners_endpoint_gets_403_and_is_audited_over_http(
    endpoint: str, partner_api: str, partner_gateway: tuple[Gateway, ListPublisher]
) -> None:
    """An ODS address is a claimed sender (refused before mapping); a hubnet name is refused by the
    connector's ownership check: either way 403, one audit record, nothing queued."""
    hub, publisher = partner_gateway
    key_a = add_partner(hub, A, org_ids=(A_ODS,), formats=("nems",))
    key_b = add_partner(hub, B, org_ids=(B_ODS,), formats=("nems",))
    url = f"{partner_api}/v1/events/nems"
    new = httpx.post(url, content=nems_message("new", "1", ods(A_ODS)), headers={"X-API-Key": key_a})
    assert new.status_code == 202, new.text
    forged = httpx.post(url, content=nems_message("delete", "2", endpoint), headers={"X-API-Key": key_b})
    assert forged.status_code == 403, forged.text
    assert endpoint.rsplit(":", 1)[-1] in forged.json()["detail"]
    audits = [AuditRecord.model_validate_json(m.value) for m in publisher.on(AUDIT)]
    assert [(r.actor, r.outcome) for r in audits] == [(B, "denied")]
    assert endpoint.rsplit(":", 1)[-1] in (audits[0].reason or "")
    events = [HubEvent.from_bytes(m.value) for m in publisher.on(EVENTS)]
    assert [e.source_partner for e in events] == [A]  # nothing of B's was queued
    assert publisher.on("fh.dlq") == []  # refused, not dead-lettered as a fault


@pytest.mark.integration
def test_another_partners_nems_deletes_leave_the_immunisation_on_the_timeline_end_to_end(
    tmp_path: Path, bootstrap: str, unique: str
) -> None:
    """Two partners through the gateway onto the real broker, then the timeline worker: B's delete
    naming A's endpoint is refused, B's delete from its own endpoint retracts nothing of A's."""
    settings = Settings(data_dir=tmp_path, consumer_max_poll_interval_s=5.0)
    admin = kafka_clients.admin(settings, bootstrap)
    topics.apply(admin, catalogue())
    source, dlq = f"t.linked.{unique}", f"t.dlq.{unique}"
    admin.create_topics([NewTopic(source, 1, 1), NewTopic(dlq, 1, 1)])
    admin.close()
    a, b = f"a-{unique}", f"b-{unique}"
    publisher = DurablePublisher(settings, bootstrap).start()
    hub = Gateway.open(settings.data_dir, publisher)
    try:
        add_partner(hub, a, org_ids=(A_ODS,))
        add_partner(hub, b, org_ids=(B_ODS,))
        partner_a, partner_b = hub.partners.get(a), hub.partners.get(b)

        def submit(partner: Partner, data: bytes) -> list[str]:
            result = hub.submissions.submit(partner, "nems", data, SourceContext(partner=partner.code), True)
            return [item.status for item in result.items]

        assert submit(partner_a, nems_message("new", "1", ods(A_ODS))) == ["accepted"]
        with pytest.raises(RefusedError, match=A_ODS):  # A's ODS address: a sender B may not claim
            submit(partner_b, nems_message("delete", "2", ods(A_ODS)))
        assert submit(partner_b, nems_message("delete", "3", f"urn:hubnet:partner:{a}")) == ["refused"]
        assert submit(partner_b, nems_message("delete", "4", ods(B_ODS))) == ["accepted"]
        assert publisher.flush(30)
    finally:
        hub.close()
        publisher.close()
    records = read_all(settings, bootstrap, EVENTS, expected=1, timeout_s=15)
    ours = [
        HubEvent.from_bytes(r.value)
        for r in records
        if dict(r.headers).get("source_partner") in (a.encode(), b.encode())
    ]
    assert sorted(e.source_partner for e in ours) == sorted([a, b])
    producer = kafka_clients.producer(settings, bootstrap)
    for event in ours:
        item = LinkedEvent(event=event, person_id="p1", family_ids=("f1",))
        producer.send(source, key=item.key, value=item.to_bytes(), headers=item.headers())
    producer.send(source, key=b"x", value=b"{poison", headers=[("source_partner", b"test")])
    producer.flush()
    producer.close()
    store = TimelineStore.open(tmp_path / "timeline.sqlite")
    try:
        assert run_timeline_worker(settings, bootstrap, (source, dlq), f"t-own-{unique}", store) == 1
        entries = store.entries(["p1"], Filters())
        assert [(e.partner, e.event_type) for e in entries] == [(a, EventType.IMMUNISATION.value)]
    finally:
        store.close()
