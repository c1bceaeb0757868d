"""Bundle entries whose elements have a JSON shape FHIR does not allow end as reasoned rejections.

Found by tests/fuzz (the fhir connector raised AttributeError on a list where the fullUrl string
belongs, which dead-lettered the record as a hubnet fault instead of telling the partner).
"""

from __future__ import annotations

from typing import Any

import orjson

from connectors.fhir.connector import FhirConnector
from tests.unit.connectors.education_support import run

PATIENT = {"resourceType": "Patient", "id": "child-1", "birthDate": "2022-09-14"}
ENCOUNTER = {
    "resourceType": "Encounter",
    "id": "contact-1",
    "status": "finished",
    "class": {"system": "http://terminology.hl7.org/CodeSystem/v3-ActCode", "code": "HH"},
    "subject": {"reference": "urn:uuid:00000000-0000-4000-8000-000000000001"},
}


def bundle(encounter_full_url: Any) -> bytes:
    """The minimal failing input from the fuzz run: a Patient and an Encounter whose fullUrl is
    a list holding the (otherwise good) uri."""
    return orjson.dumps(
        {
            "resourceType": "Bundle",
            "type": "collection",
            "entry": [
                {"fullUrl": "urn:uuid:00000000-0000-4000-8000-000000000001", "resource": PATIENT},
                {"fullUrl": encounter_full_url, "resource": ENCOUNTER},
            ],
        }
    )


def test_a_full_url_that_is_not_a_string_rejects_its_entry_with_the_path() -> None:
    events, rejections = run(FhirConnector(), bundle(["urn:uuid:00000000-0000-4000-8000-000000000002"]))
    assert [e.source_record_id for e in events] == ["Patient/child-1"]
    assert len(rejections) == 1
    rejection = rejections[0]
    assert "hubnet fault" not in rejection.reason
    assert (rejection.location or "").endswith(".fullUrl")  # where, inside the record cut out for it
    assert "must be a single uri string" in rejection.reason  # what, and the rule to follow
    assert rejection.record_ref == "entry 1 (Encounter/contact-1)"  # which entry of the input


def test_the_other_entries_of_that_bundle_still_map() -> None:
    events, rejections = run(FhirConnector(), bundle(123))
    assert len(rejections) == 1
    assert [e.source_record_id for e in events] == ["Patient/child-1"]


def test_a_string_full_url_maps_the_same_entry() -> None:
    events, rejections = run(FhirConnector(), bundle("urn:uuid:00000000-0000-4000-8000-000000000002"))
    assert not rejections
    assert len(events) == 2
