"""The `nems` connector: NEMS / Digital Child Health event messages (FHIR STU3) to R4 hub events.

hubnet's own sample is samples/nems/vaccination-new.xml (invented child, test-range NHS number);
the lifecycle variants (update, delete, out of order, PDS birth notification) are built from it
here as JSON. Public samples: nhs-child-health-events, childhealth/EMS-Test-Data @ 023cccd
(Apache-2.0, see tests/data/public/README.md) -- these 2017 drafts use DSTU2 elements
(MessageHeader.data, Encounter.patient, Immunization.wasNotGiven) that STU3 does not have, and one
lacks a resource element, so the tests check they are rejected with the element's path.
"""

from __future__ import annotations

import copy
from typing import Any

import orjson
import pytest

from connectors import registry
from connectors.common.fhir_input import read_fhir
from connectors.nems.connector import NemsConnector
from schemas.envelope import version_order
from schemas.event_types import EventType
from schemas.identifiers import NHS_NUMBER, NHS_NUMBER_VERIFICATION_EXTENSION, local_system
from tests.unit.connectors.education_support import CTX, SAMPLES, run
from tests.unit.connectors.fhir_support import assert_explained, assert_sound, shared

CONNECTOR = NemsConnector()
SAMPLE = SAMPLES / "nems" / "vaccination-new.xml"


def message() -> dict[str, Any]:
    return copy.deepcopy(read_fhir(SAMPLE.read_bytes(), "STU3"))


def header(bundle: dict[str, Any]) -> dict[str, Any]:
    resource: dict[str, Any] = bundle["entry"][0]["resource"]
    return resource


def with_lifecycle(bundle: dict[str, Any], code: str, version: str) -> bytes:
    head = header(bundle)
    head["extension"][0]["valueCodeableConcept"]["coding"][0]["code"] = code
    head["meta"]["versionId"] = version
    return orjson.dumps(bundle)


def resource_of(bundle: dict[str, Any], resource_type: str) -> dict[str, Any]:
    found: dict[str, Any] = next(
        e["resource"] for e in bundle["entry"] if e["resource"]["resourceType"] == resource_type
    )
    return found


def test_registered_under_its_format_name() -> None:
    assert isinstance(registry.get("nems"), NemsConnector)


def test_sample_vaccination_becomes_an_immunisation_event() -> None:
    [event], rejections = run(CONNECTOR, SAMPLE.read_bytes())
    assert rejections == []
    assert_sound(event)
    assert event.event_type is EventType.IMMUNISATION
    assert event.subjects[0].token == f"{NHS_NUMBER}|9990000018"
    assert event.record_version == "1"
    assert event.source_system == local_system(CTX.partner, "nems/urn%3Anhs-uk%3Aaddressing%3Aods%3AX99XX")
    immunisation = event.entries[0].resource
    assert immunisation["resourceType"] == "Immunization"
    assert immunisation["occurrenceDateTime"] == "2024-03-12T10:05:00+00:00"
    assert immunisation["protocolApplied"][0]["doseNumberPositiveInt"] == 2


def test_stu3_verification_status_becomes_ukcore_and_nhs_number_is_normalised() -> None:
    [event], _ = run(CONNECTOR, SAMPLE.read_bytes())
    patient = next(e.resource for e in event.entries if e.resource["resourceType"] == "Patient")
    identifier = patient["identifier"][0]
    assert identifier["value"] == "9990000018"
    assert identifier["extension"][0]["url"] == NHS_NUMBER_VERIFICATION_EXTENSION


def test_update_lands_on_the_same_record_with_a_higher_version() -> None:
    [new], _ = run(CONNECTOR, with_lifecycle(message(), "new", "1"))
    [update], _ = run(CONNECTOR, with_lifecycle(message(), "update", "2"))
    assert update.source_record_id == new.source_record_id
    assert update.event_id != new.event_id
    assert version_order(update.record_version) > version_order(new.record_version)


def test_late_older_update_keeps_its_lower_version() -> None:
    """Versions come from the message, never from arrival order: the projector keeps the highest."""
    arrivals = [run(CONNECTOR, with_lifecycle(message(), "update", v))[0][0] for v in ("3", "10", "2")]
    newest = max(arrivals, key=lambda e: version_order(e.record_version))
    assert newest.record_version == "10"


def test_change_instant_is_the_version_when_there_is_no_sequence_number() -> None:
    bundle = message()
    del header(bundle)["meta"]["versionId"]
    [event], _ = run(CONNECTOR, orjson.dumps(bundle))
    assert event.record_version == "2024-03-12T10:15:00.000000Z"


def test_delete_retracts_the_record() -> None:
    [new], _ = run(CONNECTOR, with_lifecycle(message(), "new", "1"))
    [deleted], _ = run(CONNECTOR, with_lifecycle(message(), "delete", "2"))
    assert deleted.event_type is EventType.RECORD_RETRACTED
    assert deleted.retracts == new.source_record_id == deleted.source_record_id
    assert deleted.source_system == new.source_system


def test_delete_without_a_focus_identifier_is_rejected() -> None:
    bundle = message()
    del resource_of(bundle, "Immunization")["identifier"]
    _, [rejection] = run(CONNECTOR, with_lifecycle(bundle, "delete", "2"))
    assert rejection.location == "Immunization.identifier"


def test_birth_notification_about_the_patient() -> None:
    bundle = message()
    header(bundle)["event"] = {
        "system": "https://fhir.nhs.uk/STU3/CodeSystem/EventType-1",
        "code": "pds-birth-notification-1",
    }
    header(bundle)["focus"] = [{"reference": "urn:uuid:5f0c6a1e-2b7d-4c1a-9e0f-1a2b3c4d5e04"}]
    [event], rejections = run(CONNECTOR, orjson.dumps(bundle))
    assert rejections == []
    assert event.event_type is EventType.BIRTH_NOTIFICATION
    assert event.entries[0].resource["resourceType"] == "Patient"
    assert event.subjects[0].value == "9990000018"
    assert_sound(event)


def test_same_message_gives_the_same_event_id() -> None:
    [first], _ = run(CONNECTOR, SAMPLE.read_bytes())
    [again], _ = run(CONNECTOR, SAMPLE.read_bytes())
    assert first.event_id == again.event_id
    assert first.entries == again.entries


@pytest.mark.parametrize(
    ("break_it", "location"),
    [
        (lambda b: header(b).pop("extension"), "MessageHeader.extension(messageEventType)"),
        (lambda b: header(b).pop("focus"), "MessageHeader.focus"),
        (
            lambda b: resource_of(b, "Patient").update(birthDate="2023-02-30"),
            "Bundle.entry[2].resource.ofType(Patient).birthDate",
        ),
        (
            lambda b: resource_of(b, "Encounter").update(patient={"reference": "x"}),
            "Bundle.entry[3].resource.ofType(Encounter).patient",
        ),
        (
            lambda b: resource_of(b, "Patient")["identifier"][0].update(value="9990000019"),
            "Patient.identifier[0].value",
        ),
        (lambda b: b["entry"].reverse(), "Bundle.entry[0].resource"),
        (lambda b: b.update(type="collection"), "Bundle.type"),
    ],
)
def test_broken_messages_are_rejected_with_a_path(break_it: Any, location: str) -> None:
    bundle = message()
    break_it(bundle)
    data = orjson.dumps(bundle)
    events, [rejection] = run(CONNECTOR, data)
    assert events == []
    assert_explained(rejection)
    assert rejection.location == location
    assert rejection.original == data


def test_unmapped_stu3_type_is_dead_lettered_not_dropped() -> None:
    bundle = message()
    bundle["entry"].append(
        {"fullUrl": "urn:uuid:extra", "resource": {"resourceType": "Basic", "id": "b", "code": {"text": "x"}}}
    )
    _, [rejection] = run(CONNECTOR, orjson.dumps(bundle))
    assert rejection.location == "Bundle.entry[5].resource.resourceType"


def test_public_dch_drafts_are_rejected_with_the_offending_element() -> None:
    folder = shared("nhs-child-health-events")
    paths = sorted(folder.glob("*/NEMS/*.xml"))
    assert len(paths) == 4
    for path in paths:
        events, [rejection] = run(CONNECTOR, path.read_bytes())
        assert events == []
        assert_explained(rejection)
        assert rejection.location
        assert "Bundle.entry[2].resource" in rejection.location or "MessageHeader" in rejection.location


def test_newborn_hearing_outcome_maps_procedure_and_observation_to_r4() -> None:
    bundle = message()
    encounter_url = "urn:uuid:5f0c6a1e-2b7d-4c1a-9e0f-1a2b3c4d5e05"
    child = {"reference": "urn:uuid:5f0c6a1e-2b7d-4c1a-9e0f-1a2b3c4d5e04"}
    header(bundle)["event"] = {
        "system": "https://fhir.nhs.uk/STU3/CodeSystem/EventType-1",
        "code": "newborn-hearing-1",
    }
    header(bundle)["focus"] = [{"reference": encounter_url}]
    bundle["entry"] = [e for e in bundle["entry"] if e["resource"]["resourceType"] != "Immunization"]
    procedure = {
        "resourceType": "Procedure",
        "id": "hearing-test",
        "status": "completed",
        "notDone": False,
        "code": {"text": "Automated otoacoustic emission test"},
        "subject": child,
        "context": {"reference": encounter_url},
        "performer": [{"role": {"text": "Screener"}, "actor": {"display": "Screener"}}],
        "outcome": {"text": "Clear response"},
    }
    outcome = {
        "resourceType": "Observation",
        "id": "hearing-outcome",
        "status": "final",
        "code": {"text": "Newborn hearing screening outcome"},
        "subject": child,
        "context": {"reference": encounter_url},
        "valueCodeableConcept": {"text": "Clear response, both ears"},
        "comment": "No follow-up needed",
    }
    bundle["entry"] += [
        {"fullUrl": "urn:uuid:proc", "resource": procedure},
        {"fullUrl": "urn:uuid:obs", "resource": outcome},
    ]
    [event], rejections = run(CONNECTOR, orjson.dumps(bundle))
    assert rejections == []
    assert_sound(event)
    assert event.event_type is EventType.NEWBORN_SCREENING
    assert event.entries[0].resource["resourceType"] == "Encounter"
    by_type = {e.resource["resourceType"]: e.resource for e in event.entries}
    assert by_type["Procedure"]["encounter"]["reference"] == event.entries[0].full_url
    assert by_type["Procedure"]["performer"][0]["function"] == {"text": "Screener"}
    assert by_type["Observation"]["note"] == [{"text": "No follow-up needed"}]


def test_vaccine_not_given_becomes_status_not_done() -> None:
    bundle = message()
    immunisation = resource_of(bundle, "Immunization")
    immunisation.update(notGiven=True, explanation={"reasonNotGiven": [{"text": "Parent declined"}]})
    [event], _ = run(CONNECTOR, orjson.dumps(bundle))
    r4 = event.entries[0].resource
    assert r4["status"] == "not-done"
    assert r4["statusReason"] == {"text": "Parent declined"}


def birth_notification_with_mother(focus_on_mother: bool) -> bytes:
    """The sample's child plus the mother as a second Patient, focused either way round."""
    bundle = message()
    header(bundle)["event"] = {
        "system": "https://fhir.nhs.uk/STU3/CodeSystem/EventType-1",
        "code": "pds-birth-notification-1",
    }
    baby_entry = next(e for e in bundle["entry"] if e["resource"]["resourceType"] == "Patient")
    mother = copy.deepcopy(baby_entry)
    mother["fullUrl"] = "urn:uuid:5f0c6a1e-2b7d-4c1a-9e0f-1a2b3c4d5e99"
    mother["resource"]["id"] = "mother"
    mother["resource"]["birthDate"] = "1991-06-02"
    mother["resource"]["gender"] = "female"
    mother["resource"]["identifier"][0]["value"] = "9990000026"
    bundle["entry"].append(mother)
    focus = mother if focus_on_mother else baby_entry
    header(bundle)["focus"] = [{"reference": focus["fullUrl"]}]
    return orjson.dumps(bundle)


@pytest.mark.parametrize("focus_on_mother", [False, True])
def test_birth_notification_subject_is_the_baby_whichever_patient_is_the_focus(focus_on_mother: bool) -> None:
    [event], rejections = run(CONNECTOR, birth_notification_with_mother(focus_on_mother))
    assert rejections == []
    assert [s.value for s in event.subjects] == ["9990000018"]
    assert event.entries[0].resource["birthDate"] != "1991-06-02", "the baby comes first"
    assert_sound(event)
