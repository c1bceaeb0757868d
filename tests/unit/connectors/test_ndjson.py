"""The `ndjson` connector: FHIR bulk data files, one resource per line, each line its own outcome.

Written from the FHIR Bulk Data Access specification's output format ("Each file item SHALL
contain a single FHIR resource per line", newline-delimited JSON, `application/fhir+ndjson`).
The every-format boundary test (tests/integration/test_connector_samples.py) sends samples/ndjson/
through the ingest step onto the real broker.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import orjson

from connectors import registry
from connectors.base import Rejection, SourceContext
from connectors.ndjson.connector import NdjsonConnector
from schemas.envelope import HubEvent
from schemas.identifiers import NHS_NUMBER
from services.identity.service import IdentityService
from services.identity.store import IdentityStore
from tests.unit.connectors.fhir_support import assert_explained, assert_sound

SAMPLES = Path(__file__).resolve().parents[3] / "samples" / "ndjson"
CONNECTOR = NdjsonConnector()
CTX = SourceContext(partner="gp-bulk")
PATIENT: dict[str, Any] = {
    "resourceType": "Patient",
    "id": "p1",
    "identifier": [{"system": NHS_NUMBER, "value": "9990003009"}],
    "name": [{"family": "Hart", "given": ["Amelia"]}],
    "gender": "female",
    "birthDate": "2023-02-14",
}


def convert(data: bytes) -> list[HubEvent | Rejection]:
    return list(CONNECTOR.convert(data, CTX))


def lines(*items: Any) -> bytes:
    return b"".join((item if isinstance(item, bytes) else orjson.dumps(item)) + b"\n" for item in items)


def test_registered_under_its_format_name() -> None:
    assert registry.get("ndjson").name == "ndjson"
    assert "application/fhir+ndjson" in CONNECTOR.media_types


def test_the_samples_give_one_event_per_line_and_link_by_the_partners_patient_id(tmp_path: Path) -> None:
    patients = convert((SAMPLES / "Patient.ndjson").read_bytes())
    immunisations = convert((SAMPLES / "Immunization.ndjson").read_bytes())
    events = [o for o in patients + immunisations if isinstance(o, HubEvent)]
    assert len(events) == 6 == len(patients) + len(immunisations)
    for event in events:
        assert_sound(event)
    service = IdentityService(IdentityStore.open(tmp_path / "identity.sqlite"))
    try:
        people = [service.link(event).person_id for event in events]
    finally:
        service.store.close()
    assert people[:3] == people[3:]  # `Patient/p-1001` in a later file is the Patient of the first
    assert len(set(people)) == 3


def test_each_line_is_its_own_outcome_and_a_rejection_names_its_line() -> None:
    immunisation = {
        "resourceType": "Immunization",
        "id": "i1",
        "status": "completed",
        "vaccineCode": {"text": "MMR"},
        "patient": {"reference": "Patient/p1"},
        "occurrenceDateTime": "2024-05-01",
    }
    data = lines(
        PATIENT,
        {**PATIENT, "id": "p2", "gender": "boy"},
        b'{"resourceType": "Patient", "id": ',
        b"",
        {"resourceType": "Bundle", "type": "collection"},
        b'<Patient xmlns="http://hl7.org/fhir"/>',
        immunisation,
    )
    outcomes = convert(data)
    assert [type(o).__name__ for o in outcomes] == [
        "HubEvent", "Rejection", "Rejection", "Rejection", "Rejection", "HubEvent",
    ]  # fmt: skip
    rejections = [o for o in outcomes if isinstance(o, Rejection)]
    assert [r.record_ref for r in rejections] == ["line 2", "line 3", "line 5", "line 6"]
    assert [r.location for r in rejections] == [
        "line 2: Patient.gender",
        "line 3, column 35",
        "line 5: Bundle",
        "line 6: resourceType",
    ]
    for rejection in rejections:
        assert_explained(rejection)


def test_a_line_replays_alone_to_the_same_outcome() -> None:
    data = lines(PATIENT, {**PATIENT, "id": "p2", "gender": "boy"})
    event, rejection = convert(data)
    assert isinstance(event, HubEvent)
    assert isinstance(rejection, Rejection)
    (again,) = convert(lines(PATIENT))
    assert isinstance(again, HubEvent)
    assert again.event_id == event.event_id
    assert rejection.original == orjson.dumps({**PATIENT, "id": "p2", "gender": "boy"})
    (refused,) = convert(rejection.original)  # alone, the line is line 1 of its own input
    assert isinstance(refused, Rejection)
    assert (rejection.location, refused.location) == ("line 2: Patient.gender", "line 1: Patient.gender")


def test_crlf_line_ends_and_a_byte_order_mark_are_read() -> None:
    data = b"\xef\xbb\xbf" + orjson.dumps(PATIENT) + b"\r\n" + orjson.dumps({**PATIENT, "id": "p2"}) + b"\r\n"
    assert all(isinstance(o, HubEvent) for o in convert(data))
    assert len(convert(data)) == 2


def test_an_empty_file_is_refused_as_holding_no_records() -> None:
    (outcome,) = convert(b"\n\n")
    assert isinstance(outcome, Rejection)
    assert "no records" in outcome.reason
