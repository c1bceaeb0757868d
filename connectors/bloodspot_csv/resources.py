"""A checked `Card` to its hub event: a DiagnosticReport grouping one Observation per condition.

The DiagnosticReport (category laboratory, code "newborn blood spot screening") is the card: the
sample's collection time, the laboratory as performer (by ODS code), the time reported. Each
Observation is one condition's result: code = the condition (hubnet `nbs-condition`), value = the
programme status code (hubnet `nbs-status`, sub code as a second coding), interpretation POS for
08 (condition suspected) and NEG for 04 (not suspected), status `registered` for 01 (received,
no result yet). A `delete` row retracts the card.
"""

from __future__ import annotations

from typing import Any

from connectors.base import SourceContext
from connectors.bloodspot_csv.codes import (
    CONDITION_SYSTEM,
    CONDITIONS,
    NOT_SUSPECTED,
    RECEIVED,
    STATUS,
    STATUS_SYSTEM,
    SUB_CODES,
    SUSPECTED,
)
from connectors.bloodspot_csv.record import Card, Result
from connectors.common.demographics import patient_resource
from connectors.common.fhir_sensitivity import sensitivity_of
from connectors.common.record_events import PersonEvents, RecordEvents
from connectors.common.values import record_version
from schemas.envelope import HubEvent, resource_id
from schemas.event_types import EventType
from schemas.identifiers import local_system

ODS = "https://fhir.nhs.uk/Id/ods-organization-code"
_LAB = {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/v2-0074", "code": "LAB"}]}
_INTERPRETATION = "http://terminology.hl7.org/CodeSystem/v3-ObservationInterpretation"
_REPORT_CODE = {
    "coding": [{"system": CONDITION_SYSTEM, "code": "panel", "display": "Newborn blood spot screening"}]
}


def source_system(partner: str) -> str:
    """The record-id namespace of one screening laboratory's cards."""
    return local_system(partner, "bloodspot")


def card_events(card: Card, ctx: SourceContext, version: str | None) -> list[HubEvent]:
    system = source_system(ctx.partner)
    record = RecordEvents(
        ctx,
        system,
        record_version(version, f"line {card.line}, column record_version"),
        card.person.identifiers,
    )
    subject = card.person.identifiers[0]
    events = PersonEvents(
        record, patient_resource(card.person, resource_id(system, "Patient", subject.token))
    )
    if card.action == "delete":
        return [events.retraction(card.record_id, card.taken)]
    observations = [_observation(card, r, events) for r in card.results]
    report: dict[str, Any] = {
        "resourceType": "DiagnosticReport",
        "id": events.resource_id("DiagnosticReport", card.record_id),
        "identifier": [{"system": system, "value": card.record_id}],
        "status": "final" if any(o["status"] == "final" for o in observations) else "registered",
        "category": [_LAB],
        "code": _REPORT_CODE,
        "subject": events.patient_reference,
        "effectiveDateTime": card.taken.isoformat(),
        "performer": [{"type": "Organization", "identifier": {"system": ODS, "value": card.laboratory}}],
        "result": [{"reference": f"urn:uuid:{o['id']}"} for o in observations],
    }
    if card.reported:
        report["issued"] = card.reported.isoformat()
    resources = [report, *observations]
    return [
        events.person_event(
            EventType.NEWBORN_SCREENING,
            card.record_id,
            card.taken,
            resources,
            sensitivity_of(resources),
            label_patient=True,
        )
    ]


def _observation(card: Card, result: Result, events: PersonEvents) -> dict[str, Any]:
    codings = [{"system": STATUS_SYSTEM, "code": result.status} | _display(STATUS.get(result.status))]
    if result.sub_code:
        codings.append(
            {"system": STATUS_SYSTEM, "code": result.sub_code} | _display(SUB_CODES.get(result.sub_code))
        )
    observation: dict[str, Any] = {
        "resourceType": "Observation",
        "id": events.resource_id("Observation", f"{card.record_id}/{result.condition}"),
        "status": "registered" if result.status == RECEIVED else "final",
        "category": [
            {
                "coding": [
                    {
                        "system": "http://terminology.hl7.org/CodeSystem/observation-category",
                        "code": "laboratory",
                    }
                ]
            }
        ],
        "code": {
            "coding": [
                {
                    "system": CONDITION_SYSTEM,
                    "code": result.condition,
                    "display": CONDITIONS[result.condition],
                }
            ]
        },
        "subject": events.patient_reference,
        "effectiveDateTime": card.taken.isoformat(),
        "performer": [{"type": "Organization", "identifier": {"system": ODS, "value": card.laboratory}}],
        "valueCodeableConcept": {"coding": codings},
    }
    if result.status in (SUSPECTED, NOT_SUSPECTED):
        code = "POS" if result.status == SUSPECTED else "NEG"
        observation["interpretation"] = [{"coding": [{"system": _INTERPRETATION, "code": code}]}]
    return observation


def _display(text: str | None) -> dict[str, str]:
    return {"display": text} if text else {}
