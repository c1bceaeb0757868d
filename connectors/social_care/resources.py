"""FHIR R4 resources for social care facts, shared by the three social care formats.

| fact | resource |
|---|---|
| contact | Encounter (finished) |
| referral to social care; step-down to early help | ServiceRequest |
| assessment, section 47 enquiry | Procedure (in-progress until completed, `outcome`) |
| child in need plan, child protection plan | CarePlan (+ Flag for a protection plan) |
| CIN case closure, looked-after episode, early help episode | EpisodeOfCare |
| missing from home or care | Flag with priority `urgent` |

The kind of fact is always the first coding of the resource's code, category or type, from
`codes.CSC_CONCEPTS`; DfE codes (legal status, placement, closure reason, category of abuse) follow
as further CodeableConcepts under their own systems. Builders return plain dicts: the caller labels
and validates them once (`events.ChildEvents`).
"""

from __future__ import annotations

from datetime import date
from typing import Any

from connectors.social_care.codes import CONCEPTS, CSC_CONCEPTS, LA_CODE_SYSTEM, Code
from schemas.envelope import EXT

FLAG_PRIORITY_EXTENSION = "http://hl7.org/fhir/StructureDefinition/flag-priority"
REQUEST_PRIORITY_SYSTEM = "http://hl7.org/fhir/request-priority"
REFERRAL_SOURCE_EXTENSION = EXT + "referral-source"
LOCAL_AUTHORITY = "Local authority children's social care"
FAMILY_HUBS = "Family hub network: early help"


def authority(code: str | None) -> dict[str, Any]:
    """The local authority as a FHIR reference: identified by its DfE LA code when the source says
    which authority it is, else by its role alone."""
    if code is None:
        return {"display": LOCAL_AUTHORITY}
    return {
        "identifier": {"system": LA_CODE_SYSTEM, "value": code},
        "display": f"{LOCAL_AUTHORITY} (DfE LA {code})",
    }


def with_authority(resource: dict[str, Any], code: str) -> dict[str, Any]:
    """A copy in which every reference to the unnamed local authority names it by its LA code."""
    unnamed = authority(None)
    named = authority(code)

    def swap(value: Any) -> Any:
        if value == unnamed:
            return named
        if isinstance(value, list):
            return [swap(item) for item in value]
        return value

    return {key: swap(value) for key, value in resource.items()}


def concept(kind: str) -> dict[str, Any]:
    """CodeableConcept of a hubnet social care concept (`contact`, `cp-plan`, ...)."""
    return {"coding": [{"system": CSC_CONCEPTS, "code": kind, "display": CONCEPTS[kind].display}]}


def codeable(system: str, code: str, table: dict[str, Code]) -> dict[str, Any]:
    """CodeableConcept of a DfE code already checked against its table."""
    return {"coding": [{"system": system, "code": code, "display": table[code].display}]}


def _period(start: date | None, end: date | None) -> dict[str, str]:
    period = {}
    if start:
        period["start"] = start.isoformat()
    if end:
        period["end"] = end.isoformat()
    return period


def _reasons(resource: dict[str, Any], reasons: list[dict[str, Any]]) -> dict[str, Any]:
    if reasons:
        resource["reasonCode"] = reasons
    return resource


def contact(rid: str, patient: dict[str, str], day: date, reasons: list[dict[str, Any]]) -> dict[str, Any]:
    """A contact received by the front door (MASH): an Encounter that is over when recorded."""
    encounter = {
        "resourceType": "Encounter",
        "id": rid,
        "status": "finished",
        "class": concept("contact")["coding"][0],
        "type": [concept("contact")],
        "subject": patient,
        "period": _period(day, day),
    }
    return _reasons(encounter, reasons)


def service_request(
    rid: str,
    patient: dict[str, str],
    kind: str,
    authored: date,
    *,
    active: bool,
    reasons: list[dict[str, Any]],
    source: dict[str, Any] | None = None,
    performer: str = LOCAL_AUTHORITY,
) -> dict[str, Any]:
    """A referral; `source` (a DfE referral source coding) says who referred, `performer` to whom."""
    request: dict[str, Any] = {
        "resourceType": "ServiceRequest",
        "id": rid,
        "status": "active" if active else "completed",
        "intent": "order",
        "category": [concept(kind)],
        "code": concept(kind),
        "priority": "routine",
        "subject": patient,
        "authoredOn": authored.isoformat(),
        "performer": [{"display": performer}],
    }
    if source:
        request["extension"] = [{"url": REFERRAL_SOURCE_EXTENSION, "valueCoding": source}]
        request["requester"] = {"display": source["display"]}
    return _reasons(request, reasons)


def procedure(
    rid: str,
    patient: dict[str, str],
    kind: str,
    *,
    start: date | None = None,
    end: date | None = None,
    outcome: dict[str, Any] | None = None,
    reasons: list[dict[str, Any]] | None = None,
) -> dict[str, Any]:
    """An assessment or enquiry: in progress until its end (authorisation) date is known."""
    resource: dict[str, Any] = {
        "resourceType": "Procedure",
        "id": rid,
        "status": "completed" if end else "in-progress",
        "category": concept(kind),
        "code": concept(kind),
        "subject": patient,
        "performedPeriod": _period(start, end),
    }
    if outcome:
        resource["outcome"] = outcome
    return _reasons(resource, reasons or [])


def care_plan(
    rid: str,
    patient: dict[str, str],
    kind: str,
    *,
    start: date | None = None,
    end: date | None = None,
    extra: list[dict[str, Any]] | None = None,
) -> dict[str, Any]:
    """A child in need or child protection plan; `extra` adds categories (category of abuse)."""
    return {
        "resourceType": "CarePlan",
        "id": rid,
        "status": "completed" if end else "active",
        "intent": "plan",
        "category": [concept(kind), *(extra or [])],
        "subject": patient,
        "period": _period(start, end),
    }


def episode(
    rid: str,
    patient: dict[str, str],
    kind: str,
    *,
    start: date | None = None,
    end: date | None = None,
    extra: list[dict[str, Any]] | None = None,
) -> dict[str, Any]:
    """A case, looked-after or early help episode; `extra` adds DfE types (legal status, placement,
    closure reason), since R4 EpisodeOfCare has no other element for them."""
    return {
        "resourceType": "EpisodeOfCare",
        "id": rid,
        "status": "finished" if end else "active",
        "type": [concept(kind), *(extra or [])],
        "patient": patient,
        "period": _period(start, end),
        "managingOrganization": {"display": LOCAL_AUTHORITY},
    }


def flag(
    rid: str,
    patient: dict[str, str],
    kind: str,
    *,
    start: date | None = None,
    end: date | None = None,
    urgent: bool = False,
    detail: list[dict[str, Any]] | None = None,
) -> dict[str, Any]:
    """An alert for hub staff (child protection plan, missing episode); active until it ends.
    `detail` codings (category of abuse, missing type) follow the concept in `Flag.code`."""
    codings = [concept(kind)["coding"][0]] + [c for item in detail or [] for c in item["coding"]]
    resource: dict[str, Any] = {
        "resourceType": "Flag",
        "id": rid,
        "status": "inactive" if end else "active",
        "category": [
            {
                "coding": [
                    {
                        "system": "http://terminology.hl7.org/CodeSystem/flag-category",
                        "code": "safety",
                        "display": "Safety",
                    }
                ]
            }
        ],
        "code": {"coding": codings, "text": CONCEPTS[kind].display},
        "subject": patient,
        "period": _period(start, end),
    }
    if urgent:
        resource["extension"] = [
            {
                "url": FLAG_PRIORITY_EXTENSION,
                "valueCodeableConcept": {
                    "coding": [{"system": REQUEST_PRIORITY_SYSTEM, "code": "urgent", "display": "Urgent"}]
                },
            }
        ]
    return resource
