"""What some FHIR records mean (issue #19, "Conformance of FHIR inputs"), from FHIR R4's text:

- Account.subject is 0..* Reference in R4: a list, read as such;
- a Linkage "identifies two or more records that refer to the same real-world occurrence": a
  Linkage of Patients is a merge, and identity resolution joins the people it names;
- a ServiceRequest with no category is a family-hub referral only when its code or performer says
  so; otherwise (a bare lab or imaging order) it is a clinical record.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import orjson

from connectors.base import Rejection, SourceContext
from connectors.fhir.connector import FhirConnector
from schemas.envelope import HubEvent
from schemas.event_types import EventType
from schemas.identifiers import NHS_NUMBER
from services.identity.service import IdentityService
from services.identity.store import IdentityStore
from tests.unit.connectors.fhir_support import assert_sound

CTX = SourceContext(partner="gp")


def convert(resource: dict[str, Any]) -> HubEvent | Rejection:
    (outcome,) = FhirConnector().convert(orjson.dumps(resource), CTX)
    if isinstance(outcome, HubEvent):
        assert_sound(outcome)
    return outcome


def test_account_subject_is_a_list_in_r4() -> None:
    account = {
        "resourceType": "Account",
        "id": "a1",
        "status": "active",
        "subject": [{"reference": "Patient/p1"}],
    }
    event = convert(account)
    assert isinstance(event, HubEvent)
    assert [s.value for s in event.subjects] == ["p1"]


def _patient(pid: str, number: str | None, given: str) -> dict[str, Any]:
    patient: dict[str, Any] = {
        "resourceType": "Patient",
        "id": pid,
        "name": [{"family": "Hart", "given": [given]}],
        "birthDate": "2023-02-14",
    }
    if number:
        patient["identifier"] = [{"system": NHS_NUMBER, "value": number}]
    return patient


def test_a_linkage_of_patients_is_a_merge_that_joins_the_people(tmp_path: Path) -> None:
    first = convert(_patient("p1", "9990003009", "Amelia"))
    second = convert(_patient("p2", None, "Amy"))
    linkage = {
        "resourceType": "Linkage",
        "id": "l1",
        "item": [
            {"type": "alternate", "resource": {"reference": "Patient/p2"}},
            {"type": "source", "resource": {"identifier": {"system": NHS_NUMBER, "value": "9990003009"}}},
        ],
    }
    merge = convert(linkage)
    assert isinstance(first, HubEvent)
    assert isinstance(second, HubEvent)
    assert isinstance(merge, HubEvent)
    assert merge.event_type is EventType.PERSON_MERGED
    assert merge.subjects[0].token == f"{NHS_NUMBER}|9990003009"  # the source first
    service = IdentityService(IdentityStore.open(tmp_path / "identity.sqlite"))
    try:
        one, two, merged = (service.link(e).person_id for e in (first, second, merge))
        assert one != two  # different names, no shared identifier: two people ...
        assert merged == one  # ... until the partner's Linkage joins them: the older id survives
        assert service.store.canonical(two) == one
    finally:
        service.store.close()


def test_a_linkage_of_one_record_or_of_something_else_is_refused() -> None:
    single = {
        "resourceType": "Linkage",
        "item": [{"type": "source", "resource": {"reference": "Patient/p1"}}],
    }
    refused = convert(single)
    assert isinstance(refused, Rejection)
    assert refused.location == "Linkage.item"


def _order(**extra: Any) -> dict[str, Any]:
    return {
        "resourceType": "ServiceRequest",
        "id": "s1",
        "status": "active",
        "intent": "order",
        "subject": {"reference": "Patient/p1"},
        **extra,
    }


def test_a_service_request_without_category_is_not_a_referral_unless_it_says_so() -> None:
    blood_test = _order(code={"coding": [{"system": "http://snomed.info/sct", "code": "26604007"}]})
    assert _event_type(blood_test) is EventType.CLINICAL_RECORD
    referral_code = _order(code={"coding": [{"system": "http://snomed.info/sct", "code": "3457005"}]})
    assert _event_type(referral_code) is EventType.REFERRAL_REQUESTED
    worded = _order(code={"text": "Referral to family hub parenting course"})
    assert _event_type(worded) is EventType.REFERRAL_REQUESTED
    to_service = _order(performer=[{"reference": "HealthcareService/parenting"}])
    assert _event_type(to_service) is EventType.REFERRAL_REQUESTED


def test_a_categorised_service_request_keeps_its_category_rule() -> None:
    lab = {"coding": [{"system": "http://snomed.info/sct", "code": "108252007"}]}
    assert _event_type(_order(category=[lab])) is EventType.CLINICAL_RECORD
    assert _event_type(_order(category=[{"text": "early help"}])) is EventType.REFERRAL_REQUESTED


def _event_type(resource: dict[str, Any]) -> EventType:
    event = convert(resource)
    assert isinstance(event, HubEvent), event
    return event.event_type


def test_a_message_header_inside_a_batch_is_refused_as_itself() -> None:
    """A MessageHeader belongs first in a message Bundle (FHIR R4 messaging); inside a batch it
    is an entry of its own, refused naming the MessageHeader, not the Patient it points at."""
    header = {
        "resourceType": "MessageHeader",
        "id": "h1",
        "eventCoding": {"system": "https://example.org/events", "code": "new"},
        "source": {"endpoint": "urn:example:gp"},
        "focus": [{"reference": "urn:uuid:p"}],
    }
    patient = {"resourceType": "Patient", "id": "p1", "name": [{"family": "Hart"}]}
    batch = {
        "resourceType": "Bundle",
        "type": "batch",
        "entry": [
            {
                "fullUrl": "urn:uuid:h",
                "resource": header,
                "request": {"method": "POST", "url": "MessageHeader"},
            },
            {"fullUrl": "urn:uuid:p", "resource": patient, "request": {"method": "POST", "url": "Patient"}},
        ],
    }
    outcomes = list(FhirConnector().convert(orjson.dumps(batch), CTX))
    assert [type(o).__name__ for o in outcomes] == ["Rejection", "HubEvent"]
    refusal = outcomes[0]
    assert isinstance(refusal, Rejection)
    assert refusal.location == "MessageHeader"
    assert refusal.record_ref == "entry 0 (MessageHeader/h1)"
