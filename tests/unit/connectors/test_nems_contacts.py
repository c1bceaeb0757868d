"""NEMS professional-contacts (EpisodeOfCare + CareTeam) and PDS record-change (Patient + Provenance).

The messages follow the NEMS event message pages (nhsconnect/Events-Management,
`professional_contacts_1.md`: focus a CareConnect EpisodeOfCare naming the responsible
organisation and its `team` of CareConnect CareTeams; `pds_record_change_1.md`: a `new`-only event
saying the PDS record changed), built on hubnet's own sample child (test-range NHS number). The
Provenance is written from the STU3 Provenance definition (target, period, recorded, activity,
reason, agent.whoReference, entity.whatReference), which R4 renamed.
"""

from __future__ import annotations

import copy
from typing import Any

import orjson

from connectors.common.fhir_input import read_fhir
from connectors.nems.connector import NemsConnector
from connectors.nems.stu3_to_r4 import to_r4
from schemas.event_types import EventType
from tests.unit.connectors.education_support import SAMPLES, run
from tests.unit.connectors.fhir_support import assert_sound

CONNECTOR = NemsConnector()
CHILD = "urn:uuid:5f0c6a1e-2b7d-4c1a-9e0f-1a2b3c4d5e04"
ORGANISATION = "urn:uuid:5f0c6a1e-2b7d-4c1a-9e0f-1a2b3c4d5e03"
EPISODE = "urn:uuid:7d1b3c4e-0000-4000-8000-000000000001"
TEAM = "urn:uuid:7d1b3c4e-0000-4000-8000-000000000002"
NURSE = "urn:uuid:7d1b3c4e-0000-4000-8000-000000000003"
PROVENANCE = "urn:uuid:7d1b3c4e-0000-4000-8000-000000000004"
SUPPLIER = "https://supplier.example.org/identifiers"


def _base(event_code: str, focus: str, lifecycle: str = "new") -> dict[str, Any]:
    """The sample message's header, organisation and child, with another event and focus."""
    bundle: dict[str, Any] = copy.deepcopy(
        read_fhir((SAMPLES / "nems" / "vaccination-new.xml").read_bytes(), "STU3")
    )
    bundle["entry"] = [
        e
        for e in bundle["entry"]
        if e["resource"]["resourceType"] in ("MessageHeader", "Organization", "Patient")
    ]
    head = bundle["entry"][0]["resource"]
    head["event"] = {"system": "https://fhir.nhs.uk/STU3/CodeSystem/EventType-1", "code": event_code}
    head["focus"] = [{"reference": focus}]
    head["extension"][0]["valueCodeableConcept"]["coding"][0]["code"] = lifecycle
    return bundle


def professional_contacts(lifecycle: str = "new", version: str = "1") -> dict[str, Any]:
    bundle = _base("professional-contacts-1", EPISODE, lifecycle)
    bundle["entry"][0]["resource"]["meta"]["versionId"] = version
    episode = {
        "resourceType": "EpisodeOfCare",
        "identifier": [{"system": SUPPLIER, "value": "episode-1"}],
        "status": "active",
        "type": [{"coding": [{"system": "http://snomed.info/sct", "code": "1078501000000104"}]}],
        "patient": {"reference": CHILD},
        "managingOrganization": {"reference": ORGANISATION},
        "period": {"start": "2024-03-01T09:00:00+00:00"},
        "team": [{"reference": TEAM}],
    }
    team = {
        "resourceType": "CareTeam",
        "identifier": [{"system": SUPPLIER, "value": "team-a"}],
        "status": "active",
        "name": "Health Visiting Team A",
        "subject": {"reference": CHILD},
        "participant": [
            {
                "role": {"coding": [{"system": "http://snomed.info/sct", "code": "224534008"}]},
                "member": {"reference": NURSE},
                "period": {"start": "2024-03-01"},
            }
        ],
        "managingOrganization": [{"reference": ORGANISATION}],
    }
    nurse = {"resourceType": "Practitioner", "name": [{"family": "Nurse", "given": ["Example"]}]}
    bundle["entry"] += [
        {"fullUrl": EPISODE, "resource": episode},
        {"fullUrl": TEAM, "resource": team},
        {"fullUrl": NURSE, "resource": nurse},
    ]
    return bundle


def record_change(event_code: str = "pds-record-change-1") -> dict[str, Any]:
    bundle = _base(event_code, CHILD)
    provenance = {
        "resourceType": "Provenance",
        "target": [{"reference": CHILD}],
        "period": {"start": "2024-03-12T09:00:00+00:00"},
        "recorded": "2024-03-12T09:00:05+00:00",
        "reason": [{"system": "http://terminology.hl7.org/CodeSystem/v3-ActReason", "code": "PATADMIN"}],
        "activity": {"system": "http://terminology.hl7.org/CodeSystem/v3-DataOperation", "code": "UPDATE"},
        "agent": [
            {
                "role": [{"text": "PDS"}],
                "whoReference": {"reference": ORGANISATION},
                "onBehalfOfUri": "https://directory.spineservices.nhs.uk/STU3/Organization/X26",
            }
        ],
        "entity": [{"role": "source", "whatReference": {"reference": CHILD}}],
    }
    bundle["entry"].append({"fullUrl": PROVENANCE, "resource": provenance})
    return bundle


def by_type(event: Any) -> dict[str, dict[str, Any]]:
    return {e.resource["resourceType"]: e.resource for e in event.entries}


def test_professional_contacts_episode_and_care_team_convert_to_an_encounter_event() -> None:
    [event], rejections = run(CONNECTOR, orjson.dumps(professional_contacts()))
    assert rejections == []
    assert_sound(event)
    assert event.event_type is EventType.ENCOUNTER
    assert event.entries[0].resource["resourceType"] == "EpisodeOfCare"
    assert [s.value for s in event.subjects] == ["9990000018"]
    resources = by_type(event)
    team = resources["CareTeam"]
    assert team["participant"][0]["role"] == [
        {"coding": [{"system": "http://snomed.info/sct", "code": "224534008"}]}
    ]
    assert team["subject"]["reference"] == next(
        e.full_url for e in event.entries if e.resource is resources["Patient"]
    )
    assert resources["EpisodeOfCare"]["team"][0]["reference"] == next(
        e.full_url for e in event.entries if e.resource is team
    )
    assert event.source_record_id == f"professional-contacts/EpisodeOfCare/{SUPPLIER}|episode-1"


def test_professional_contacts_delete_retracts_the_episode() -> None:
    [new], _ = run(CONNECTOR, orjson.dumps(professional_contacts()))
    [deleted], rejections = run(CONNECTOR, orjson.dumps(professional_contacts("delete", "2")))
    assert rejections == []
    assert deleted.event_type is EventType.RECORD_RETRACTED
    assert deleted.retracts == new.source_record_id


def test_pds_record_change_with_provenance_is_a_person_update() -> None:
    [event], rejections = run(CONNECTOR, orjson.dumps(record_change()))
    assert rejections == []
    assert_sound(event)
    assert event.event_type is EventType.PERSON_UPDATED
    assert event.entries[0].resource["resourceType"] == "Patient"
    provenance = by_type(event)["Provenance"]
    patient_url = event.entries[0].full_url
    assert provenance["target"] == [{"reference": patient_url}]
    assert provenance["occurredPeriod"] == {"start": "2024-03-12T09:00:00+00:00"}
    assert provenance["activity"]["coding"][0]["code"] == "UPDATE"
    assert provenance["reason"][0]["coding"][0]["code"] == "PATADMIN"
    assert provenance["agent"][0]["role"] == [{"text": "PDS"}]
    assert provenance["agent"][0]["onBehalfOf"] == {
        "reference": "https://directory.spineservices.nhs.uk/STU3/Organization/X26"
    }
    assert provenance["entity"][0]["what"] == {"reference": patient_url}


def test_published_record_changed_spelling_is_the_same_event_and_a_stray_space_is_refused() -> None:
    [event], rejections = run(CONNECTOR, orjson.dumps(record_change("pds-record-changed-1")))
    assert rejections == []
    assert event.event_type is EventType.PERSON_UPDATED
    [], [refused] = run(CONNECTOR, orjson.dumps(record_change(" pds-record-changed-1")))
    assert refused.location == "Bundle.entry[0].resource.ofType(MessageHeader).event.code"


def test_stu3_provenance_and_care_team_elements_r4_renamed_are_moved_not_dropped() -> None:
    provenance = to_r4(
        {
            "resourceType": "Provenance",
            "target": [{"reference": "Patient/1"}],
            "recorded": "2024-03-12T09:00:05+00:00",
            "agent": [{"whoUri": "https://example.org/agent", "relatedAgentType": {"text": "x"}}],
            "entity": [{"role": "source", "whatIdentifier": {"system": SUPPLIER, "value": "v1"}}],
            "signature": [
                {
                    "type": [{"system": "urn:iso-astm:E1762-95:2013", "code": "1.2.840.10065.1.12.1.1"}],
                    "when": "2024-03-12T09:00:05+00:00",
                    "whoReference": {"reference": "Organization/1"},
                    "contentType": "application/signature+xml",
                    "blob": "c2ln",
                }
            ],
        },
        "Bundle.entry[1].resource",
    )
    assert provenance["agent"] == [{"who": {"reference": "https://example.org/agent"}}]
    assert provenance["entity"] == [
        {"role": "source", "what": {"identifier": {"system": SUPPLIER, "value": "v1"}}}
    ]
    signature = provenance["signature"][0]
    assert signature["who"] == {"reference": "Organization/1"}
    assert signature["sigFormat"] == "application/signature+xml"
    assert signature["data"] == "c2ln"
    team = to_r4(
        {
            "resourceType": "CareTeam",
            "context": {"reference": "Encounter/1"},
            "participant": [{"member": {}}],
        },
        "Bundle.entry[2].resource",
    )
    assert team["encounter"] == {"reference": "Encounter/1"}
    assert "role" not in team["participant"][0]
