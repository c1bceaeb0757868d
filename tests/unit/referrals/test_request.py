"""Reading referral requests, consents and person facts from linked events, including the NHS
Booking and Referral Standard's own message shapes.

Public sample: tests/data/public/nhs-bars/ (NHSDigital/booking-and-referral-fhir-api
`specification/examples` @ 0c9714b, MIT, Crown Copyright): the ServiceRequest validation request
Bundle with its Patient and Consent.
"""

from __future__ import annotations

from typing import Any

import orjson
import pytest

from schemas.envelope import Entry, HubEvent, Identifier
from schemas.event_types import EventType
from schemas.identifiers import NHS_NUMBER
from schemas.linked import LinkedEvent
from services.referrals.request import read_request, referral_id_for
from services.referrals.routing import Outcome
from tests.public_data import public_sample
from tests.unit.referrals.support import NOW, Harness, referral, sen_event

BARS = public_sample("nhs-bars", "examples")


def bars_bundle(name: str) -> dict[str, Any]:
    bundle: dict[str, Any] = orjson.loads((BARS / name).read_bytes())
    return bundle


def linked_from_bars(bundle: dict[str, Any]) -> LinkedEvent:
    """The BaRS message's resources as a hub event, as the fhir connector would carry them."""
    entries = [Entry(full_url=e["fullUrl"], resource=e["resource"]) for e in bundle["entry"][1:]]
    patient = next(e.resource for e in entries if e.resource["resourceType"] == "Patient")
    number = patient["identifier"][0]["value"]
    event = HubEvent.create(
        event_type=EventType.REFERRAL_REQUESTED,
        source_partner="nhs-111",
        source_system="https://example.org/nhs-111/requests",
        source_record_id="bars-1",
        record_version="1",
        occurred_at=NOW,
        subjects=[Identifier(system=NHS_NUMBER, value=number)],
        entries=entries,
        focus=next(e.full_url for e in entries if e.resource["resourceType"] == "ServiceRequest"),
    )
    return LinkedEvent(event=event, person_id="hp-1", family_ids=("hf-1",))


def test_a_bars_validation_request_is_read_with_its_patient_and_consent() -> None:
    linked = linked_from_bars(bars_bundle("process_message/request/ValidationRequest (POST) .json"))
    request = read_request(linked)
    assert request.referral_id == referral_id_for(linked.event.event_id)
    assert request.codes == ("validation",)
    assert request.person.birth_date is not None
    assert request.person.birth_date.isoformat() == "1959-05-04"
    assert request.person.postcode == "LS10 4YU"  # the postcode only (for the county pack), no address
    assert request.consent is not None
    assert request.consent.permit
    assert request.consent.decision_id  # the BaRS Consent has no id: keyed by its place in the message
    assert not request.closed_by_partner


def test_a_bars_request_outside_the_county_waits_for_the_hub_manager() -> None:
    hub = Harness()
    hub.service.handle(
        linked_from_bars(bars_bundle("process_message/request/ValidationRequest (POST) .json"))
    )
    (found,) = hub.store.find("1=1")
    assert found.status.value == Outcome.AWAITING_MANAGER.value
    assert "no hub need matches the request's codes (validation)" in found.reason


def test_an_event_without_a_service_request_is_refused() -> None:
    event = referral("r1", "early-help-referral")
    bare = LinkedEvent(
        event=event.event.model_copy(update={"entries": event.event.entries[1:]}),
        person_id="p",
        family_ids=("f",),
    )
    with pytest.raises(ValueError, match="must carry a ServiceRequest"):
        read_request(bare)


def test_sen_status_marks_send_and_no_sen_clears_it() -> None:
    hub = Harness()
    hub.service.handle(sen_event("s1", serial=7, family="f"))
    assert hub.store.person("person-7").send is True
    hub.service.handle(sen_event("s2", serial=7, family="f", provision="N"))
    assert hub.store.person("person-7").send is False
