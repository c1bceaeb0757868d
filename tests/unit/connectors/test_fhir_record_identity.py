"""Who a FHIR record is about, and which record it is (issue #19, "Identity safety").

- A contained Patient's id (`#Pat1`, as the NHS Immunisation API sends every record) is meaningful
  only inside its container (FHIR R4 "Contained Resources": "contained resources ... SHALL NOT
  be the subject of a reference from outside"), so it never names a person across records: two
  records with the same contained id and different demographics are two people, and the same
  child sent twice is joined on demographics.
- A resource with no `id` is named by its business identifier, else by a digest of its content,
  never by its bare type: N id-less records are N records and N timeline entries.
"""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import orjson
import pytest

from connectors.base import Rejection, SourceContext
from connectors.fhir.connector import FhirConnector
from schemas.envelope import HubEvent
from schemas.identifiers import local_system
from services.identity.service import IdentityService
from services.identity.store import IdentityStore
from services.timeline.model import Filters
from services.timeline.projector import project
from services.timeline.store import TimelineStore
from tests.public_data import public_sample
from tests.unit.connectors.fhir_support import assert_sound
from tests.unit.timeline.events import AREA_OF

PARTNER = "nhs-imms"
# NHS Immunisation API example: a contained Patient #Pat1 and no NHS number
MANDATORY = "completed_covid_immunization_event_mandatory_fields_only.json"


def immunisation(record: str, given: str, family: str, born: str, postcode: str) -> dict[str, Any]:
    """The published example, as the API sends another child's record: its own identifier and
    the child's demographics in the contained Patient `#Pat1`."""
    sample = orjson.loads(public_sample("nhs-immunisation-r4-examples", MANDATORY).read_bytes())
    resource: dict[str, Any] = copy.deepcopy(sample)
    resource["identifier"][0]["value"] = record
    patient = resource["contained"][0]
    assert patient["id"] == "Pat1"
    assert "identifier" not in patient
    patient.update(name=[{"family": family, "given": [given]}], birthDate=born)
    patient["address"] = [{"postalCode": postcode}]
    return resource


def convert(resource: dict[str, Any]) -> HubEvent:
    (outcome,) = FhirConnector().convert(orjson.dumps(resource), SourceContext(partner=PARTNER))
    assert not isinstance(outcome, Rejection), outcome
    assert_sound(outcome)
    return outcome


def link(tmp_path: Path, events: list[HubEvent]) -> list[str]:
    service = IdentityService(IdentityStore.open(tmp_path / "identity.sqlite"))
    try:
        return [service.link(event).person_id for event in events]
    finally:
        service.store.close()


def test_a_contained_patient_id_is_never_a_subject_identifier() -> None:
    event = convert(immunisation("ACME-1", "Amy", "Jones", "2024-05-02", "CO15 1AB"))
    tokens = [subject.token for subject in event.subjects]
    assert all("Pat1" not in token for token in tokens)
    assert all(not token.startswith(local_system(PARTNER, "patient")) for token in tokens)


def test_two_records_with_the_same_contained_id_and_different_demographics_are_two_people(
    tmp_path: Path,
) -> None:
    amy = convert(immunisation("ACME-1", "Amy", "Jones", "2024-05-02", "CO15 1AB"))
    ben = convert(immunisation("ACME-2", "Ben", "Hall", "2023-01-09", "CM1 1AA"))
    assert amy.subjects != ben.subjects
    first, second = link(tmp_path, [amy, ben])
    assert first != second


def test_the_same_child_in_two_records_with_contained_patients_is_joined_on_demographics(
    tmp_path: Path,
) -> None:
    first = convert(immunisation("ACME-1", "Amy", "Jones", "2024-05-02", "CO15 1AB"))
    second = convert(immunisation("ACME-2", "Amy", "Jones", "2024-05-02", "CO15 1AB"))
    assert first.subjects != second.subjects  # no identifier joins them ...
    one, two = link(tmp_path, [first, second])
    assert one == two  # ... their demographics do


def test_a_patient_named_only_by_a_bundle_placeholder_is_not_linked_by_it() -> None:
    """`urn:uuid:` fullUrls are local to their Bundle (FHIR R4 Bundle, resolving references)."""
    bundle = {
        "resourceType": "Bundle",
        "type": "collection",
        "entry": [
            {
                "fullUrl": "urn:uuid:9d1b4a4e-1111-4a4e-8a4e-000000000001",
                "resource": {"resourceType": "Patient", "name": [{"family": "Jones", "given": ["Amy"]}]},
            }
        ],
    }
    event = convert(bundle)
    assert all("9d1b4a4e" not in subject.token for subject in event.subjects)


def test_a_partners_own_logical_patient_id_still_names_the_patient() -> None:
    """`Patient/123` is the partner's server id, which FHIR never reassigns: it is kept."""
    resource = {"resourceType": "Observation", "status": "final", "code": {"text": "weight"}}
    event = convert({**resource, "id": "o1", "subject": {"reference": "Patient/123"}})
    assert [s.token for s in event.subjects] == [f"{local_system(PARTNER, 'patient')}|123"]


def _id_less(count: int) -> list[dict[str, Any]]:
    people = [("Amy", "Jones"), ("Ben", "Hall"), ("Cara", "Smith")]
    out = []
    for n in range(count):
        resource = immunisation(f"ACME-{n}", *people[n % 3], "2024-05-02", "CO15 1AB")
        assert "id" not in resource
        out.append(resource)
    return out


def test_id_less_records_are_named_by_their_business_identifier() -> None:
    events = [convert(resource) for resource in _id_less(3)]
    assert [e.source_record_id for e in events] == [
        f"Immunization?identifier=https://supplierABC/identifiers/vacc|ACME-{n}" for n in range(3)
    ]


def test_id_less_records_without_identifier_are_named_by_their_content() -> None:
    resources = [{k: v for k, v in r.items() if k != "identifier"} for r in _id_less(3)]
    keys = [convert(resource).source_record_id for resource in resources]
    assert len(set(keys)) == 3
    assert "Immunization" not in keys
    assert convert(resources[0]).source_record_id == keys[0]  # a resend is the same record


@pytest.mark.parametrize("with_identifier", [True, False])
def test_n_id_less_records_give_n_timeline_entries(tmp_path: Path, with_identifier: bool) -> None:
    resources = _id_less(3)
    if not with_identifier:
        resources = [{k: v for k, v in r.items() if k != "identifier"} for r in resources]
    events = [convert(resource) for resource in resources]
    service = IdentityService(IdentityStore.open(tmp_path / "identity.sqlite"))
    store = TimelineStore.open(tmp_path / "timeline.sqlite")
    try:
        linked = [service.link(event) for event in events]
        for item in linked:
            store.apply(item.event.event_id, project(item, AREA_OF))
        persons = sorted({item.person_id for item in linked})
        assert len(persons) == 3
        assert len(store.entries(persons, Filters())) == 3
    finally:
        service.store.close()
        store.close()
