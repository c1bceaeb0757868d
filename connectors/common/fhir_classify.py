"""Which hub event a FHIR R4 resource is, and when it happened (shared by the fhir and nems connectors).

Every R4 resource about a person maps at least to CLINICAL_RECORD; resource types with a more
specific hub code get it here. Directory resources (organisations, places, staff, services) are
not about a person: they belong in the directory feed, so they are rejected with that reason.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from connectors.common.fhir_time import parse_fhir_datetime
from schemas.errors import NotAPersonRecordError
from schemas.event_types import EventType

DIRECTORY_TYPES = frozenset(
    {"Organization", "Location", "HealthcareService", "Practitioner", "PractitionerRole", "Endpoint"}
)
NOT_RECORDS = {
    "OperationOutcome": "an OperationOutcome reports a FHIR server's errors or warnings; it is not a record",
    "MessageHeader": "a MessageHeader on its own carries no record; send the whole message Bundle",
    "Bundle": "a Bundle inside a Bundle entry is not split further; send the inner Bundle on its own",
}
_INPATIENT_CLASSES = frozenset({"IMP", "ACUTE", "NONAC", "inpatient"})
_REFERRAL_CODES = frozenset({"3457005", "306206005"})  # SNOMED CT: patient referral, referral to service
_NOT_REFERRALS = frozenset({"108252007", "363679005", "386053000"})  # lab, imaging, evaluation
_SIMPLE: dict[str, EventType] = {
    "RelatedPerson": EventType.RELATED_PERSON_RECORDED,
    "Immunization": EventType.IMMUNISATION,
    "Observation": EventType.OBSERVATION,
    "Consent": EventType.CONSENT_RECORDED,
    "EpisodeOfCare": EventType.CARE_EPISODE,
    "Flag": EventType.FLAG_RAISED,
}
_WHEN = (
    "occurrenceDateTime", "effectiveDateTime", "performedDateTime", "effectiveInstant",
    "occurrencePeriod", "effectivePeriod", "performedPeriod", "period", "start", "authoredOn",
    "recordedDate", "onsetDateTime", "onsetPeriod", "issued", "date", "created", "sent", "recorded",
    "authored", "dateAsserted", "deceasedDateTime",
)  # fmt: skip
RETRACTED_STATUS = "entered-in-error"


def reject_unrecordable(resource: dict[str, Any]) -> None:
    """Raise `NotAPersonRecordError` for resource kinds that are never a person's record."""
    resource_type = str(resource.get("resourceType"))
    if resource_type in DIRECTORY_TYPES:
        raise NotAPersonRecordError(
            f"{_article(resource_type)} {resource_type} describes the service directory, "
            "not a person's record",
            location=resource_type,
            hint="send organisations, places, staff and services to the directory feed",
        )
    if resource_type in NOT_RECORDS:
        raise NotAPersonRecordError(NOT_RECORDS[resource_type], location=resource_type)


def _article(word: str) -> str:
    return "an" if word[:1] in "AEIOU" else "a"


def is_retraction(resource: dict[str, Any]) -> bool:
    """FHIR withdraws a record by marking it entered-in-error (status or verification status)."""
    if resource.get("status") == RETRACTED_STATUS:
        return True
    for name in ("verificationStatus", "clinicalStatus"):
        concept = resource.get(name)
        if isinstance(concept, dict) and any(
            c.get("code") == RETRACTED_STATUS for c in concept.get("coding") or [] if isinstance(c, dict)
        ):
            return True
    return False


def event_type_of(resource: dict[str, Any], request_method: str | None = None) -> EventType:
    """The hub event code of a resource; `request_method` is the Bundle entry's HTTP verb."""
    resource_type = str(resource.get("resourceType"))
    if is_retraction(resource):
        return EventType.RECORD_RETRACTED
    special = _SPECIAL.get(resource_type)
    if special is not None:
        return special(resource, request_method)
    return _SIMPLE.get(resource_type, EventType.CLINICAL_RECORD)


def occurred_at(resource: dict[str, Any], fallback: datetime) -> datetime:
    """When the thing recorded happened: the resource's own clinical time, else when it was last
    updated, else when the hub received it."""
    for name in _WHEN:
        value = resource.get(name)
        text = value.get("start") if isinstance(value, dict) else value
        moment = parse_fhir_datetime(text) if isinstance(text, str) else None
        if moment is not None:
            return moment
    updated = (resource.get("meta") or {}).get("lastUpdated")
    return (parse_fhir_datetime(updated) if isinstance(updated, str) else None) or fallback


def _patient(resource: dict[str, Any], request_method: str | None) -> EventType:
    if resource.get("deceasedBoolean") is True or resource.get("deceasedDateTime"):
        return EventType.PERSON_DIED
    if any(link.get("type") in ("replaced-by", "replaces") for link in resource.get("link") or []):
        return EventType.PERSON_MERGED
    if request_method in ("PUT", "PATCH"):
        return EventType.PERSON_UPDATED
    return EventType.PERSON_REGISTERED


def _encounter(resource: dict[str, Any], _method: str | None) -> EventType:
    if (resource.get("class") or {}).get("code") not in _INPATIENT_CLASSES:
        return EventType.ENCOUNTER
    if resource.get("status") in ("arrived", "in-progress"):
        return EventType.ADMISSION
    if resource.get("status") == "finished":
        return EventType.DISCHARGE
    return EventType.ENCOUNTER


def _service_request(resource: dict[str, Any], _method: str | None) -> EventType:
    """A referral by its category; with no category, only when its code or performer says so
    (a referral code, a HealthcareService as performer): a bare order is a clinical record."""
    categories = resource.get("category") or []
    codes = {coding.get("code") for concept in categories for coding in concept.get("coding") or []}
    if categories:
        return EventType.CLINICAL_RECORD if codes & _NOT_REFERRALS else EventType.REFERRAL_REQUESTED
    return EventType.REFERRAL_REQUESTED if _says_referral(resource) else EventType.CLINICAL_RECORD


def _says_referral(resource: dict[str, Any]) -> bool:
    code = resource.get("code")
    concept: dict[str, Any] = code if isinstance(code, dict) else {}
    codings = [c for c in concept.get("coding") or [] if isinstance(c, dict)]
    words = " ".join([str(concept.get("text") or ""), *(str(c.get("display") or "") for c in codings)])
    if any(c.get("code") in _REFERRAL_CODES for c in codings) or "referr" in words.lower():
        return True
    performers = [p for p in resource.get("performer") or [] if isinstance(p, dict)]
    return any(_is_type(p, "HealthcareService") for p in performers)


def _task(resource: dict[str, Any], _method: str | None) -> EventType:
    targets = [resource.get("focus") or {}, *(resource.get("basedOn") or [])]
    if any(_is_type(target, "ServiceRequest") for target in targets):
        return EventType.REFERRAL_STATUS_CHANGED
    return EventType.CLINICAL_RECORD


def _is_type(reference: dict[str, Any], resource_type: str) -> bool:
    text = reference.get("reference")
    return reference.get("type") == resource_type or (
        isinstance(text, str) and (text.startswith(f"{resource_type}/") or f"/{resource_type}/" in text)
    )


_SPECIAL: dict[str, Callable[[dict[str, Any], str | None], EventType]] = {
    "Patient": _patient,
    "Linkage": lambda _resource, _method: EventType.PERSON_MERGED,
    "Encounter": _encounter,
    "ServiceRequest": _service_request,
    "Task": _task,
}
