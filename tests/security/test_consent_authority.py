"""Consent with authority (#18 finding 2), on both readers of the consent domain (services/consent):
the timeline's access policy (which partners' entries a family withdrew) and the referral gate
(voluntary-sector services need the family's consent).

- the 2099 attack: after the family withdrew consent through partner A, a permit from partner B
  dated 2099 does not re-open anything (B neither recorded the withdrawal nor is hub staff);
- a genuine withdrawal received after a (2099-dated) permit stands: decisions are ordered by when
  hubnet received them, never by the `dateTime` the sender wrote;
- staff may reverse a withdrawal, and so may the recorder of that withdrawal;
- at the gateway, a Consent from a partner whose registration does not allow it (or not for the
  partner it names), or dated in the future, is refused per item and audited, not dead-lettered;
- the staff path (`hubnet consent`) queues the decision with its audit record;
- the staff UI form's POST is refused to roles and areas that may not record consent (the command
  line's refusals: test_staff_cli_doors.py; the whole hop to the router: tests/e2e/test_consent_e2e.py).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import orjson
import pytest

from connectors.base import SourceContext
from schemas.audit import AuditRecord
from schemas.envelope import Entry, HubEvent, Identifier, resource_id
from schemas.event_types import EventType
from schemas.identifiers import NHS_NUMBER
from schemas.linked import LinkedEvent
from schemas.topics import AUDIT, DLQ, EVENTS
from services.consent.model import STAFF_RECORDER
from services.consent.rules import future_dated
from services.consent.staff import CONSENT_SCOPE, RECIPIENT_ROLE, ConsentInputError, record_by_staff
from services.gateway.partners import Partner
from services.gateway.service import Gateway
from services.referrals.lifecycle import Status
from services.timeline.store import TimelineStore
from tests.databases import Backend
from tests.security.referral_ui import CARER, CHARITY, World
from tests.security.referral_ui import FAMILY as UI_FAMILY
from tests.security.staff_doors import http
from tests.security.test_referral_ui_http import _csrf, audit, sign_in
from tests.unit.gateway.support import ListPublisher, add_partner, open_gateway
from tests.unit.referrals.support import NOW, Harness, nhs, referral
from tests.unit.timeline.events import feed

pytestmark = pytest.mark.security
A, B, D = "partner-a", "partner-b", "partner-d"
FAMILY, PERSON = "fam-5", "person-5"


def consent_event(recorder: str, record: str, *, permit: bool, stated: str, received: datetime,
                  about: str | None = None) -> LinkedEvent:  # fmt: skip
    """A CONSENT_RECORDED event from `recorder`, about partner `about` (else about the recorder)."""
    resource: dict[str, Any] = {
        "resourceType": "Consent",
        "id": resource_id("consent", recorder, record),
        "status": "active" if permit else "rejected",
        "dateTime": stated,
        "provision": {"type": "permit" if permit else "deny"},
        "performer": [{"display": "duty-worker"}],
    }
    if about:
        resource["provision"]["actor"] = [{"reference": {"identifier": {"value": about}}}]
    event = HubEvent.create(
        event_type=EventType.CONSENT_RECORDED, source_partner=recorder,
        source_system=f"https://hubnet.example.org/Id/local/{recorder}/consent", source_record_id=record,
        record_version="1", occurred_at=received, ingested_at=received,
        subjects=[Identifier(system=NHS_NUMBER, value=nhs(5))], entries=[Entry.of(resource)],
    )  # fmt: skip
    return LinkedEvent(event=event, person_id=PERSON, family_ids=(FAMILY,))


T1, T2, T3 = NOW, NOW + timedelta(hours=1), NOW + timedelta(hours=2)
WITHDRAWAL_BY_A = consent_event(A, "w1", permit=False, stated="2025-03-03T09:00:00Z", received=T1, about=D)
PERMIT_2099_BY_B = consent_event(B, "p1", permit=True, stated="2099-01-01T00:00:00Z", received=T2, about=D)
EARLY_PERMIT_2099_BY_B = consent_event(
    B, "p0", permit=True, stated="2099-01-01T00:00:00Z", received=T1, about=D
)
LATER_WITHDRAWAL_BY_A = consent_event(
    A, "w2", permit=False, stated="2025-03-03T09:00:00Z", received=T2, about=D
)
STAFF_PERMIT = consent_event(
    STAFF_RECORDER, "s1", permit=True, stated="2025-03-03T11:00:00Z", received=T3, about=D
)


@pytest.fixture
def timeline(backend: Backend) -> TimelineStore:
    return backend.open(TimelineStore)


def test_timeline_a_2099_permit_from_another_partner_does_not_reverse_a_withdrawal(
    timeline: TimelineStore,
) -> None:
    feed(timeline, WITHDRAWAL_BY_A, PERMIT_2099_BY_B)
    assert timeline.withdrawn_partners([FAMILY]) == {D}


def test_timeline_a_genuine_withdrawal_after_a_2099_permit_stands(timeline: TimelineStore) -> None:
    feed(timeline, EARLY_PERMIT_2099_BY_B, LATER_WITHDRAWAL_BY_A)
    assert timeline.withdrawn_partners([FAMILY]) == {D}


def test_timeline_staff_may_reverse_a_withdrawal(timeline: TimelineStore) -> None:
    feed(timeline, WITHDRAWAL_BY_A, PERMIT_2099_BY_B, STAFF_PERMIT)
    assert timeline.withdrawn_partners([FAMILY]) == frozenset()


def test_timeline_decisions_about_partners_whose_codes_carry_digits_stay_apart(
    timeline: TimelineStore,
) -> None:
    """The demo's partner codes are a charity number (`1900101`) and ODS codes (`f89001`): a
    withdrawal about each hides that partner alone, and a permit about `f89002` reverses nothing
    of `f89001` (folded as names, all three became `` or `f`, one decision for several partners)."""
    charity, practice, other_practice = "1900101", "f89001", "f89002"  # the last named as "F89002"
    stated = "2025-03-03T09:00:00Z"
    feed(
        timeline,
        consent_event(STAFF_RECORDER, "d1", permit=False, stated=stated, received=T1, about=charity),
        consent_event(STAFF_RECORDER, "d2", permit=False, stated=stated, received=T1, about=practice),
        consent_event(STAFF_RECORDER, "d3", permit=True, stated=stated, received=T2, about="F89002"),
    )
    assert timeline.withdrawn_partners([FAMILY]) == {charity, practice}
    assert {d.about for d in timeline.standing_consents([FAMILY])} == {charity, practice, other_practice}


def held_foodbank_referral(*decisions: LinkedEvent) -> Status:
    """The status of a food-bank (voluntary-sector) referral made after `decisions`."""
    hub = Harness()
    for decision in decisions:
        hub.service.handle(decision)
    hub.service.handle(referral("r1", "foodbank-referral", serial=5, family=FAMILY, person=PERSON, age=6))
    [found] = hub.store.find("1=1")
    return found.status


def test_referral_gate_a_2099_permit_from_another_partner_does_not_reverse_a_withdrawal() -> None:
    assert held_foodbank_referral(WITHDRAWAL_BY_A, PERMIT_2099_BY_B) is Status.HELD


def test_referral_gate_a_genuine_withdrawal_after_a_2099_permit_stands() -> None:
    assert held_foodbank_referral(EARLY_PERMIT_2099_BY_B, LATER_WITHDRAWAL_BY_A) is Status.HELD


def test_referral_gate_staff_consent_after_a_withdrawal_lets_the_referral_go() -> None:
    assert held_foodbank_referral(WITHDRAWAL_BY_A, STAFF_PERMIT) is Status.REQUESTED


def test_a_consent_dated_in_the_future_is_refused_with_a_reason() -> None:
    received = datetime(2025, 3, 3, 9, 0, tzinfo=UTC)
    reason = future_dated({"resourceType": "Consent", "dateTime": "2099-01-01T00:00:00Z"}, received)
    assert reason is not None
    assert "2099" in reason
    assert "future" in reason
    assert future_dated({"resourceType": "Consent", "dateTime": "2025-03-03T09:01:00Z"}, received) is None


def fhir_consent(stated: str, about: str = D) -> bytes:
    """A FHIR collection: a synthetic Patient and a Consent permitting sharing with `about`."""
    patient = {
        "resourceType": "Patient", "id": "pt1", "birthDate": "2020-01-01",
        "identifier": [{"system": NHS_NUMBER, "value": nhs(5)}],
        "name": [{"family": "Testperson", "given": ["Alex"]}],
    }  # fmt: skip
    actor = {"role": RECIPIENT_ROLE, "reference": {"identifier": {"value": about}}}
    consent = {
        "resourceType": "Consent", "id": "c1", "status": "active", "dateTime": stated,
        "scope": CONSENT_SCOPE,
        "category": [{"coding": [{"system": "http://loinc.org", "code": "59284-0"}]}],
        "patient": {"reference": "urn:uuid:pt1"},
        "provision": {"type": "permit", "actor": [actor]},
    }  # fmt: skip
    entries = [{"fullUrl": f"urn:uuid:{r['id']}", "resource": r} for r in (patient, consent)]
    return orjson.dumps({"resourceType": "Bundle", "type": "collection", "entry": entries})


@pytest.mark.parametrize(
    ("grant", "stated", "why"),
    [
        ((), "2025-03-03T09:00:00Z", "not registered to record consent"),
        ((A,), "2025-03-03T09:00:00Z", f"may not record consent about {D}"),
        ((D,), "2099-01-01T00:00:00Z", "in the future"),
    ],
    ids=["no-grant", "grant-for-another-partner", "dated-2099"],
)
def test_gateway_refuses_a_consent_without_authority_or_dated_in_the_future(
    tmp_path: Path, grant: tuple[str, ...], stated: str, why: str
) -> None:
    """Refused per item and audited (not dead-lettered); the Patient beside it is still accepted."""
    publisher = ListPublisher()
    hub = open_gateway(tmp_path, publisher)
    try:
        add_partner(hub, B, consent_for=grant)
        partner = hub.partners.get(B)
        result = hub.submissions.submit(partner, "fhir", fhir_consent(stated), SourceContext(partner=B), True)
    finally:
        hub.close()
    statuses = {item.event_type: (item.status, item.reason or "") for item in result.items}
    assert statuses["person-registered"][0] == "accepted"
    status, reason = statuses["consent-recorded"]
    assert status == "refused"
    assert why in reason
    audits = [AuditRecord.model_validate_json(m.value) for m in publisher.on(AUDIT)]
    assert [(r.actor, r.outcome) for r in audits] == [(B, "denied")]
    assert publisher.on(DLQ) == []
    queued = [HubEvent.from_bytes(m.value).event_type for m in publisher.on(EVENTS)]
    assert queued == [EventType.PERSON_REGISTERED]


def test_gateway_accepts_a_consent_from_a_partner_with_authority(tmp_path: Path) -> None:
    publisher = ListPublisher()
    hub = open_gateway(tmp_path, publisher)
    try:
        add_partner(hub, B, consent_for=(D,))
        partner = hub.partners.get(B)
        result = hub.submissions.submit(
            partner, "fhir", fhir_consent("2025-03-03T09:00:00Z"), SourceContext(partner=B), True
        )
    finally:
        hub.close()
    assert [item.status for item in result.items] == ["accepted", "accepted"]


def test_no_partner_can_register_the_staff_recorders_code() -> None:
    with pytest.raises(ValueError, match="hubnet"):
        Partner(code=STAFF_RECORDER, name="Impostor")


def test_staff_decision_is_queued_with_its_audit_record_and_reverses_a_withdrawal(
    timeline: TimelineStore,
) -> None:
    publisher = ListPublisher()
    event = record_by_staff(publisher, user="hv-jones", nhs_number=nhs(5), about=D, permit=True, now=T3)
    [queued] = [HubEvent.from_bytes(m.value) for m in publisher.on(EVENTS)]
    assert queued.event_id == event.event_id
    assert queued.source_partner == STAFF_RECORDER
    [audit] = [AuditRecord.model_validate_json(m.value) for m in publisher.on(AUDIT)]
    assert (audit.actor, audit.action, audit.target) == ("hv-jones", "consent.record", event.event_id)
    feed(timeline, WITHDRAWAL_BY_A, LinkedEvent(event=queued, person_id=PERSON, family_ids=(FAMILY,)))
    assert timeline.withdrawn_partners([FAMILY]) == frozenset()
    [standing] = timeline.standing_consents([FAMILY])
    assert (standing.recorder, standing.authority.value) == ("staff:hv-jones", "staff")


def test_staff_decision_with_a_bad_nhs_number_says_what_to_fix() -> None:
    with pytest.raises(ConsentInputError, match="not a valid NHS number"):
        record_by_staff(ListPublisher(), user="hv-jones", nhs_number="1234567890", about=D, permit=False)


def test_a_2099_consent_over_real_http_is_refused_and_audited_while_the_patient_is_accepted(
    partner_api: str, partner_gateway: tuple[Gateway, ListPublisher]
) -> None:
    hub, publisher = partner_gateway
    key = add_partner(hub, B, consent_for=(D,), formats=("fhir",))
    response = httpx.post(
        f"{partner_api}/v1/events/fhir",
        content=fhir_consent("2099-01-01T00:00:00Z"),
        headers={"X-API-Key": key},
    )
    assert response.status_code == 202, response.text
    items = {item["event_type"]: item for item in response.json()["items"]}
    assert items["person-registered"]["status"] == "accepted"
    assert items["consent-recorded"]["status"] == "refused"
    assert "in the future" in items["consent-recorded"]["reason"]
    audits = [AuditRecord.model_validate_json(m.value) for m in publisher.on(AUDIT)]
    assert [(r.actor, r.outcome) for r in audits] == [(B, "denied")]
    assert [HubEvent.from_bytes(m.value).event_type for m in publisher.on(EVENTS)] == [
        EventType.PERSON_REGISTERED
    ]


@pytest.mark.parametrize(
    ("user", "refused_as"),
    [("school", "consent.form"), ("food", "consent.form"), ("harlow", "family.read")],
    ids=["school-staff", "voluntary-sector", "another-area"],
)
def test_the_consent_form_post_over_real_http_is_refused_to_roles_and_areas_that_may_not_record(
    tmp_path: Path, user: str, refused_as: str
) -> None:
    """The form's POST itself (signed in, valid CSRF token, a complete form), not only its page:
    403, audited, and nothing queued for the router."""
    world = World(tmp_path)
    with http(world.app) as client:
        sign_in(client, user)
        form = {
            "csrf": _csrf(client.get("/").text), "decision": "permit", "given_by": CARER,
            "method": "phone", "about": [CHARITY[0]], "given_on": datetime.now(UTC).date().isoformat(),
        }  # fmt: skip
        posted = client.post(f"/families/{UI_FAMILY}/consent", data=form)
    assert posted.status_code == 403
    assert (user, "denied") in audit(world, refused_as)
    assert world.outbox.on(EVENTS) == []
    published = [AuditRecord.model_validate_json(m.value) for m in world.outbox.on(AUDIT)]
    assert (user, refused_as, "denied") in {(r.actor, r.action, r.outcome) for r in published}
    assert not [r for r in published if r.action in ("consent.record", "consent.withdraw")], "nothing decided"
