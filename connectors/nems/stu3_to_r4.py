"""STU3 resources of NHS child health event messages, rewritten as the R4 resources hub events carry.

Only the resource types that NEMS and Digital Child Health messages use are mapped, following the
official STU3 -> R4 element changes (https://hl7.org/fhir/R4/diff.html). Each function works on a
copy. A resource type without a mapping is refused (`UnmappedTypeError`), so the message is
dead-lettered, not lost. The few STU3 elements R4 removed without a replacement are left out:
Patient.animal, Immunization.vaccinationProtocol.doseStatus/description (kept as doseNumberString
when no dose number), Procedure.definition and Communication.definition (R4 wants canonical URLs).
An Encounter without a class gets the data-absent-reason `unknown` (class is required in R4).
Provenance's STU3 `relatedAgentType` has no R4 element and is left out.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from schemas.errors import MappingError
from schemas.identifiers import NHS_NUMBER_VERIFICATION_EXTENSION

Resource = dict[str, Any]
_CARECONNECT_VERIFICATION = (
    "https://fhir.hl7.org.uk/STU3/StructureDefinition/Extension-CareConnect-NHSNumberVerificationStatus-1",
    "https://fhir.hl7.org.uk/StructureDefinition/Extension-CareConnect-NHSNumberVerificationStatus-1",
)
_UKCORE_VERIFICATION_SYSTEM = "https://fhir.hl7.org.uk/CodeSystem/UKCore-NHSNumberVerificationStatusEngland"
_CONDITION_CLINICAL = "http://terminology.hl7.org/CodeSystem/condition-clinical"
_CONDITION_VERIFICATION = "http://terminology.hl7.org/CodeSystem/condition-ver-status"
_ABSENT = {
    "extension": [
        {"url": "http://hl7.org/fhir/StructureDefinition/data-absent-reason", "valueCode": "unknown"}
    ]
}


class UnmappedTypeError(MappingError):
    """The message holds a STU3 resource type hubnet has no R4 mapping for."""


def to_r4(resource: Resource, where: str) -> Resource:
    """The R4 form of one STU3 resource; `where` names it in errors."""
    resource_type = str(resource.get("resourceType"))
    convert = _CONVERTERS.get(resource_type)
    if convert is None:
        raise UnmappedTypeError(
            f"hubnet has no R4 mapping for STU3 {resource_type} resources",
            location=f"{where}.resourceType",
            hint="this is kept and can be replayed once hubnet maps it; tell the hub team",
        )
    return convert(dict(resource))


def _same(resource: Resource) -> Resource:
    """Types whose STU3 and R4 elements used by event messages are the same."""
    return resource


def _move(resource: Resource, old: str, new: str, wrap: Callable[[Any], Any] | None = None) -> None:
    if old in resource:
        value = resource.pop(old)
        resource[new] = wrap(value) if wrap else value


def _as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def _concept(system: str) -> Callable[[Any], Any]:
    return lambda code: {"coding": [{"system": system, "code": code}]}


def _patient(resource: Resource) -> Resource:
    """CareConnect's NHS number verification status becomes UK Core's, codes unchanged."""
    resource.pop("animal", None)  # not used for people; R4 moved it to an extension
    identifiers = []
    for identifier in resource.get("identifier") or []:
        extensions = [_verification(e) for e in identifier.get("extension") or []]
        identifiers.append({**identifier, "extension": extensions} if extensions else identifier)
    if identifiers:
        resource["identifier"] = identifiers
    return resource


def _verification(extension: Resource) -> Resource:
    if extension.get("url") not in _CARECONNECT_VERIFICATION:
        return extension
    concept = extension.get("valueCodeableConcept") or {}
    codings = [{**c, "system": _UKCORE_VERIFICATION_SYSTEM} for c in concept.get("coding") or []]
    return {"url": NHS_NUMBER_VERIFICATION_EXTENSION, "valueCodeableConcept": {**concept, "coding": codings}}


def _related_person(resource: Resource) -> Resource:
    _move(resource, "relationship", "relationship", _as_list)
    return resource


def _encounter(resource: Resource) -> Resource:
    resource.setdefault("class", _ABSENT)  # optional in STU3, required in R4: say it is unknown
    _move(resource, "reason", "reasonCode")
    _move(resource, "incomingReferral", "basedOn")
    _move(resource, "appointment", "appointment", _as_list)
    return resource


def _immunization(resource: Resource) -> Resource:
    not_given = resource.pop("notGiven", False)
    if not_given and resource.get("status") == "completed":
        resource["status"] = "not-done"
    _move(resource, "date", "occurrenceDateTime")
    performers = [
        {key: value for key, value in (("function", p.get("role")), ("actor", p.get("actor"))) if value}
        for p in resource.pop("practitioner", None) or []
    ]
    if performers:
        resource["performer"] = performers
    explanation = resource.pop("explanation", None) or {}
    if explanation.get("reason"):
        resource["reasonCode"] = explanation["reason"]
    if explanation.get("reasonNotGiven"):
        resource["statusReason"] = explanation["reasonNotGiven"][0]
    protocols = [_protocol(p) for p in resource.pop("vaccinationProtocol", None) or []]
    if protocols:
        resource["protocolApplied"] = protocols
    return resource


def _protocol(protocol: Resource) -> Resource:
    out: Resource = {}
    for old, new in (("series", "series"), ("authority", "authority"), ("targetDisease", "targetDisease")):
        if protocol.get(old):
            out[new] = protocol[old]
    if isinstance(protocol.get("doseSequence"), int):
        out["doseNumberPositiveInt"] = protocol["doseSequence"]
    else:
        out["doseNumberString"] = str(protocol.get("description") or "unknown")
    if isinstance(protocol.get("seriesDoses"), int):
        out["seriesDosesPositiveInt"] = protocol["seriesDoses"]
    return out


def _observation(resource: Resource) -> Resource:
    _move(resource, "context", "encounter")
    if "comment" in resource:
        resource["note"] = [{"text": resource.pop("comment")}]
    related = resource.pop("related", None) or []
    for kind, element in (("has-member", "hasMember"), ("derived-from", "derivedFrom")):
        targets = [r["target"] for r in related if r.get("type", "has-member") == kind and r.get("target")]
        if targets:
            resource[element] = targets
    return resource


def _event_pattern(resource: Resource) -> None:
    """STU3 event resources' shared changes: notDone became a status, context became encounter,
    and definition (a Reference) has no R4 home (R4 wants canonical URLs)."""
    if resource.pop("notDone", False):
        resource["status"] = "not-done"
    _move(resource, "notDoneReason", "statusReason")
    _move(resource, "context", "encounter")
    resource.pop("definition", None)


def _procedure(resource: Resource) -> Resource:
    _event_pattern(resource)
    performers = [
        {("function" if key == "role" else key): value for key, value in performer.items()}
        for performer in resource.pop("performer", None) or []
    ]
    if performers:
        resource["performer"] = performers
    return resource


def _communication(resource: Resource) -> Resource:
    _event_pattern(resource)
    _move(resource, "topic", "about")
    return resource


def _condition(resource: Resource) -> Resource:
    _move(resource, "clinicalStatus", "clinicalStatus", _concept(_CONDITION_CLINICAL))
    _move(resource, "verificationStatus", "verificationStatus", _concept(_CONDITION_VERIFICATION))
    _move(resource, "context", "encounter")
    _move(resource, "assertedDate", "recordedDate")
    return resource


def _diagnostic_report(resource: Resource) -> Resource:
    _move(resource, "context", "encounter")
    _move(resource, "codedDiagnosis", "conclusionCode")
    performers = [p["actor"] for p in resource.pop("performer", None) or [] if p.get("actor")]
    if performers:
        resource["performer"] = performers
    images = [{"link": image["link"]} for image in resource.pop("image", None) or [] if image.get("link")]
    if images:
        resource["media"] = images
    return resource


def _healthcare_service(resource: Resource) -> Resource:
    _move(resource, "category", "category", _as_list)
    programmes = resource.pop("programName", None) or []
    if programmes:
        resource["program"] = [{"text": name} for name in programmes]
    eligibility = resource.pop("eligibility", None)
    note = resource.pop("eligibilityNote", None)
    if eligibility or note:
        resource["eligibility"] = [{k: v for k, v in (("code", eligibility), ("comment", note)) if v}]
    return resource


def _care_team(resource: Resource) -> Resource:
    """NEMS professional contacts: participant.role became a list, context became encounter."""
    _move(resource, "context", "encounter")
    participants = []
    for participant in resource.get("participant") or []:
        moved = dict(participant)
        _move(moved, "role", "role", _as_list)
        participants.append(moved)
    if participants:
        resource["participant"] = participants
    return resource


def _provenance(resource: Resource) -> Resource:
    """PDS record change: R4 names the actor `who` (a Reference) where STU3 had a Uri or a
    Reference choice, gives `activity` and `reason` CodeableConcepts, and calls period occurredPeriod."""
    _move(resource, "period", "occurredPeriod")
    _move(resource, "activity", "activity", _coded)
    if resource.get("reason"):
        resource["reason"] = [_coded(coding) for coding in resource["reason"]]
    if resource.get("agent"):
        resource["agent"] = [_agent(agent) for agent in resource["agent"]]
    entities = []
    for entity in resource.get("entity") or []:
        moved = _choice(dict(entity), "what", ("whatReference", "whatUri", "whatIdentifier"))
        if moved.get("agent"):
            moved["agent"] = [_agent(agent) for agent in moved["agent"]]
        entities.append(moved)
    if entities:
        resource["entity"] = entities
    signatures = []
    for signature in resource.get("signature") or []:
        moved = _choice(dict(signature), "who", ("whoReference", "whoUri"))
        moved = _choice(moved, "onBehalfOf", ("onBehalfOfReference", "onBehalfOfUri"))
        _move(moved, "contentType", "sigFormat")
        _move(moved, "blob", "data")
        signatures.append(moved)
    if signatures:
        resource["signature"] = signatures
    return resource


def _agent(agent: Resource) -> Resource:
    moved = _choice(dict(agent), "who", ("whoReference", "whoUri"))
    moved = _choice(moved, "onBehalfOf", ("onBehalfOfReference", "onBehalfOfUri"))
    moved.pop("relatedAgentType", None)  # no R4 element; the agents' roles stay
    return moved


def _choice(element: Resource, new: str, old: tuple[str, ...]) -> Resource:
    """STU3 `<name>Reference` / `<name>Uri` / `<name>Identifier` to R4's one Reference `<name>`."""
    for name in old:
        if name in element:
            value = element.pop(name)
            if name.endswith("Uri"):
                value = {"reference": value}
            elif name.endswith("Identifier"):
                value = {"identifier": value}
            element[new] = value
    return element


def _coded(coding: Any) -> Any:
    return {"coding": [coding]} if isinstance(coding, dict) else coding


_CONVERTERS: dict[str, Callable[[Resource], Resource]] = {
    "Patient": _patient,
    "RelatedPerson": _related_person,
    "Encounter": _encounter,
    "EpisodeOfCare": _same,
    "Immunization": _immunization,
    "Observation": _observation,
    "Procedure": _procedure,
    "Communication": _communication,
    "Condition": _condition,
    "DiagnosticReport": _diagnostic_report,
    "Flag": _same,
    "Specimen": _same,
    "Organization": _same,
    "Location": _same,
    "Practitioner": _same,
    "PractitionerRole": _same,
    "HealthcareService": _healthcare_service,
    "CareTeam": _care_team,
    "Provenance": _provenance,
}
