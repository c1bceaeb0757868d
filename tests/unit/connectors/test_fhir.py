"""The `fhir` connector: FHIR R4 / UK Core JSON and XML, single resources and Bundles.

Public samples (copied unchanged, see tests/data/public/README.md):
- ukcore-r4-examples: NHSDigital/FHIR-R4-UKCORE-STAGING-MAIN `examples/` @ 3d2827e (Apache-2.0)
- synthea-r4: smart-on-fhir/generated-sample-data `R4/SYNTHEA/` @ 25ac808 (Apache-2.0)
- nhs-immunisation-r4-examples: NHSDigital/immunisation-fhir-api @ 44be4c1 (MIT)
- nhs-bars: NHSDigital/booking-and-referral-fhir-api `specification/examples` @ 0c9714b (MIT)
Broken variants are written here; hubnet's own sample is samples/fhir/family-hub-bundle.json.
"""

from __future__ import annotations

import copy
from typing import Any

import orjson
import pytest

from connectors import registry
from connectors.base import Record, SourceContext
from connectors.fhir.connector import FhirConnector
from schemas.envelope import HubEvent, Sensitivity
from schemas.event_types import EventType
from schemas.identifiers import NHS_NUMBER, NHS_NUMBER_VERIFICATION_EXTENSION, local_system
from tests.unit.connectors.education_support import SAMPLES, run
from tests.unit.connectors.fhir_support import assert_explained, assert_sound, shared

CONNECTOR = FhirConnector()
SAMPLE = SAMPLES / "fhir" / "family-hub-bundle.json"
# Rejections the public samples deserve: not about a person, directory content, or invalid data.
EXPECTED_REJECTIONS = (
    "names no person",
    "is never about one person",
    "service directory",
    "OperationOutcome",
    "MessageHeader on its own",
    "holds no resources",
    "modulus 11",
    "only one of the choice elements",
    "is a Location, not a Patient",
    "neither a resolvable reference",
    "Bundle inside a Bundle",
    "a fullUrl must be absolute",  # UKCore-Bundle-NEWS2Observations-Example: fullUrl "Observation/..."
)


def sample() -> dict[str, Any]:
    parsed: dict[str, Any] = orjson.loads(SAMPLE.read_bytes())
    return parsed


def single(resource: dict[str, Any]) -> bytes:
    return orjson.dumps(resource)


def patient(**changes: Any) -> dict[str, Any]:
    resource: dict[str, Any] = copy.deepcopy(sample()["entry"][0]["resource"])
    resource.update(changes)
    return resource


def test_registered_under_its_format_name() -> None:
    assert isinstance(registry.get("fhir"), FhirConnector)


def test_sample_gives_one_event_per_resource_about_the_child() -> None:
    events, rejections = run(CONNECTOR, SAMPLE.read_bytes())
    assert rejections == []
    assert [(e.event_type, e.source_record_id) for e in events] == [
        (EventType.PERSON_REGISTERED, "Patient/child-0001"),
        (EventType.ENCOUNTER, "Encounter/contact-0001"),
        (EventType.IMMUNISATION, "Immunization/imm-0001"),
    ]
    for event in events:
        assert_sound(event)
        assert [s.token for s in event.subjects] == [f"{NHS_NUMBER}|9990000026"]


def test_nhs_number_is_normalised_and_its_verification_status_kept() -> None:
    events, _ = run(CONNECTOR, SAMPLE.read_bytes())
    identifier = events[0].entries[0].resource["identifier"][0]
    assert identifier["value"] == "9990000026"
    assert identifier["extension"][0]["url"] == NHS_NUMBER_VERIFICATION_EXTENSION


def test_references_point_at_hub_ids_shared_across_events() -> None:
    events, _ = run(CONNECTOR, SAMPLE.read_bytes())
    patient_url = events[0].entries[0].full_url
    encounter = events[1].entries[0].resource
    immunisation = events[2].entries[0].resource
    assert encounter["subject"]["reference"] == patient_url
    assert immunisation["patient"]["reference"] == patient_url
    assert immunisation["encounter"]["reference"] == events[1].entries[0].full_url
    organisation = events[1].entries[1]
    assert encounter["serviceProvider"]["reference"] == organisation.full_url


def test_event_ids_are_deterministic() -> None:
    first, _ = run(CONNECTOR, SAMPLE.read_bytes())
    again = list(CONNECTOR.convert(SAMPLE.read_bytes(), SourceContext(partner="school-881-2001")))
    assert [e.event_id for e in first] == [e.event_id for e in again if isinstance(e, HubEvent)]


def test_version_is_the_sequence_number_when_the_resource_states_one() -> None:
    events, _ = run(CONNECTOR, SAMPLE.read_bytes())
    assert events[0].record_version == "3"
    later = patient(meta={"versionId": "4"})
    newer, _ = run(CONNECTOR, single(later))
    assert newer[0].record_version == "4"
    assert newer[0].event_id != events[0].event_id


def test_every_record_replays_alone_to_the_same_event() -> None:
    records = list(CONNECTOR.split(SAMPLE.read_bytes()))
    events, _ = run(CONNECTOR, SAMPLE.read_bytes())
    for record, event in zip(records, events, strict=True):
        replayed, rejections = run(CONNECTOR, record.raw)
        assert rejections == []
        assert event.event_id in {e.event_id for e in replayed}


def test_xml_and_json_of_one_resource_give_the_same_event() -> None:
    xml = b"""\xef\xbb\xbf  <Patient xmlns="http://hl7.org/fhir"><id value="p1"/>
      <identifier><system value="https://fhir.nhs.uk/Id/nhs-number"/><value value="9990000034"/></identifier>
      <active value="true"/><birthDate value="2020-01-02"/></Patient>"""
    json = single(
        {
            "resourceType": "Patient",
            "id": "p1",
            "identifier": [{"system": NHS_NUMBER, "value": "9990000034"}],
            "active": True,
            "birthDate": "2020-01-02",
        }
    )
    from_xml, rejected_xml = run(CONNECTOR, xml)
    from_json, rejected_json = run(CONNECTOR, json)
    assert rejected_xml == rejected_json == []
    assert from_xml[0].event_id == from_json[0].event_id
    assert from_xml[0].entries == from_json[0].entries


@pytest.mark.parametrize(
    ("change", "location", "value"),
    [
        ({"gender": 7}, "Patient.gender", "7"),
        ({"birthDate": "2021-13-45"}, "Patient.birthDate", "2021-13-45"),
        (
            {"identifier": [{"system": NHS_NUMBER, "value": "9990000027"}]},
            "Patient.identifier[0].value",
            "9990000027",
        ),
        ({"favouriteColour": "blue"}, "Patient.favouriteColour", "blue"),
    ],
)
def test_invalid_patient_is_rejected_with_path_and_no_value(
    change: dict[str, Any], location: str, value: str
) -> None:
    events, rejections = run(CONNECTOR, single(patient(**change)))
    assert events == []
    [rejection] = rejections
    assert_explained(rejection)
    assert rejection.location == location
    assert value not in rejection.reason


def test_missing_required_element_is_named() -> None:
    immunisation = copy.deepcopy(sample()["entry"][2]["resource"])
    del immunisation["status"]
    immunisation["patient"] = {"reference": "Patient/child-0001"}
    _, [rejection] = run(CONNECTOR, single(immunisation))
    assert rejection.location == "Immunization.status"
    assert "required" in rejection.reason


@pytest.mark.parametrize(
    ("data", "location"),
    [
        (b"", "byte 1"),
        (b"MSH|^~\\&|", "byte 1"),
        (b'{"resourceType": "Patient", ', "JSON line 1, column 29"),
        (b'<Patient xmlns="http://hl7.org/fhir"><id value="x"/>', "XML line 1, column 52"),
        (b'<Patient><id value="x"/></Patient>', "Patient"),
        (b'<Wizard xmlns="http://hl7.org/fhir"/>', "Wizard"),
        (b'["not", "a", "resource"]', "byte 1"),
    ],
)
def test_unreadable_input_is_rejected_as_a_whole(data: bytes, location: str) -> None:
    events, [rejection] = run(CONNECTOR, data)
    assert events == []
    assert rejection.location == location
    assert rejection.original == data


def test_one_bad_entry_does_not_block_the_others() -> None:
    bundle = sample()
    bad = patient(id="child-0002", identifier=[{"system": NHS_NUMBER, "value": "9990000027"}])
    bundle["entry"].insert(1, {"fullUrl": "urn:uuid:bad", "resource": bad})
    events, rejections = run(CONNECTOR, orjson.dumps(bundle))
    assert len(events) == 3
    [rejection] = rejections
    assert rejection.record_ref == "entry 1 (Patient/child-0002)"
    assert rejection.location == "Patient.identifier[0].value"
    replayed, [again] = run(CONNECTOR, rejection.original)
    assert replayed == []
    assert again.reason == rejection.reason


def test_directory_and_subjectless_resources_are_rejected_with_a_reason() -> None:
    organisation = sample()["entry"][3]["resource"]
    _, [directory] = run(CONNECTOR, single(organisation))
    assert "directory feed" in directory.reason
    observation = {"resourceType": "Observation", "status": "final", "code": {"text": "weight"}}
    _, [orphan] = run(CONNECTOR, single(observation))
    assert orphan.location == "Observation"
    assert "names no person" in orphan.reason


def test_entered_in_error_retracts_the_record() -> None:
    immunisation = copy.deepcopy(sample()["entry"][2]["resource"])
    immunisation.update(status="entered-in-error", patient={"reference": "Patient/child-0001"})
    [event], _ = run(CONNECTOR, single(immunisation))
    assert event.event_type is EventType.RECORD_RETRACTED
    assert event.retracts == event.source_record_id == "Immunization/imm-0001"
    assert event.subjects[0].token == f"{local_system('school-881-2001', 'patient')}|child-0001"


def test_child_protection_flag_is_restricted_and_labelled() -> None:
    flag = {
        "resourceType": "Flag",
        "id": "f1",
        "status": "active",
        "code": {"text": "Child protection plan in place"},
        "subject": {"identifier": {"system": NHS_NUMBER, "value": "999 000 0026"}},
    }
    [event], _ = run(CONNECTOR, single(flag))
    assert event.event_type is EventType.FLAG_RAISED
    assert event.sensitivity is Sensitivity.RESTRICTED
    assert event.entries[0].resource["meta"]["security"][0]["code"] == "R"
    assert event.subjects[0].value == "9990000026"


def test_record_of_a_bundle_is_a_bundle_of_the_same_type() -> None:
    records = list(CONNECTOR.split(SAMPLE.read_bytes()))
    assert records[0].ref == "entry 0 (Patient/child-0001)"
    encounter = orjson.loads(records[1].raw)
    assert encounter["type"] == "collection"
    assert [e["resource"]["resourceType"] for e in encounter["entry"]] == [
        "Encounter",
        "Patient",
        "Organization",
    ]


def test_ukcore_examples_convert_or_are_rejected_for_a_stated_reason() -> None:
    """UK Core R4 examples (XML); the non-patient ones are rejected, never crash."""
    folder = shared("ukcore-r4-examples")
    counts = {"events": 0, "rejected": 0}
    for path in sorted(folder.glob("*.xml")):
        events, rejections = run(CONNECTOR, path.read_bytes())
        for event in events:
            assert_sound(event)
        for rejection in rejections:
            assert_explained(rejection)
            assert any(reason in rejection.reason for reason in EXPECTED_REJECTIONS), (path.name, rejection)
        counts["events"] += len(events)
        counts["rejected"] += len(rejections)
    assert counts["events"] >= 150


def test_ukcore_baby_patient_keeps_verification_status() -> None:
    path = shared("ukcore-r4-examples") / "UKCore-Patient-RichardSmith-Example.xml"
    [event], _ = run(CONNECTOR, path.read_bytes())
    assert event.subjects[0].system == NHS_NUMBER
    identifier = event.entries[0].resource["identifier"][0]
    assert identifier["extension"][0]["url"] == NHS_NUMBER_VERIFICATION_EXTENSION


def test_ukcore_example_with_wrong_check_digit_is_rejected() -> None:
    """UKCore-Patient-BabyPatient-Example carries 9912003890, whose check digit is wrong."""
    path = shared("ukcore-r4-examples") / "UKCore-Patient-BabyPatient-Example.xml"
    _, [rejection] = run(CONNECTOR, path.read_bytes())
    assert rejection.location == "Patient.identifier[0].value"


@pytest.mark.parametrize("folder", ["synthea-r4", "nhs-immunisation-r4-examples"])
def test_patient_data_samples_convert_without_rejection(folder: str) -> None:
    """Synthea transaction Bundles (US, no NHS numbers: subjects use the Synthea identifier) and
    NHS Immunisation API resources (contained Patient with NHS number)."""
    paths = sorted(shared(folder).glob("*.json"))
    assert paths
    for path in paths:
        events, rejections = run(CONNECTOR, path.read_bytes())
        assert rejections == [], path.name
        assert events
        for event in events[:40]:
            assert_sound(event)


def test_bars_referral_message_gives_a_referral_event() -> None:
    """The BaRS example's NHS number (3478526985) fails modulus 11, so every record about that
    patient is rejected; with a valid test number the ServiceRequest becomes a referral."""
    path = shared("nhs-bars") / "examples" / "process_message" / "request" / "ValidationRequest (POST) .json"
    events, rejections = run(CONNECTOR, path.read_bytes())
    assert events == []
    assert {r.location for r in rejections} >= {"Patient.identifier[0].value"}
    fixed = path.read_bytes().replace(b"3478526985", b"9990000042")
    events, rejections = run(CONNECTOR, fixed)
    referral = [e for e in events if e.event_type is EventType.REFERRAL_REQUESTED]
    assert len(referral) == 1
    assert referral[0].subjects[0].token == f"{NHS_NUMBER}|9990000042"
    assert_sound(referral[0])
    for rejection in rejections:
        assert any(reason in rejection.reason for reason in EXPECTED_REJECTIONS), rejection


def test_bars_booking_message_maps_the_appointment_to_the_patient() -> None:
    path = shared("nhs-bars") / "examples" / "process_message" / "request" / "Booking (POST).json"
    events, _ = run(CONNECTOR, path.read_bytes())
    appointment = [e for e in events if e.entries[0].resource["resourceType"] == "Appointment"]
    assert appointment
    assert appointment[0].subjects[0].system == NHS_NUMBER


def test_map_record_is_pure() -> None:
    record = Record(raw=single(patient()), ref="Patient/child-0001")
    ctx = SourceContext(partner="p", trace_id="t")
    assert CONNECTOR.map_record(record, ctx) == CONNECTOR.map_record(record, ctx)
