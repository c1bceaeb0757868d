"""A checked `Review` to its hub event: Patient, Encounter, ASQ-3 and breastfeeding Observations.

One row is one source record: `record_id` with `record_version` gives the event id, so a
corrected resend (higher version) replaces the same resources (resource ids do not change).
"""

from __future__ import annotations

from datetime import UTC, datetime, time
from typing import Any

from connectors.base import SourceContext
from connectors.common.demographics import patient_resource
from connectors.common.fhir_validation import validate_resource
from connectors.hv_csv.review import ASQ3_DOMAINS, REVIEW_TYPES, Review
from schemas.envelope import Entry, HubEvent, resource_id
from schemas.event_types import EventType
from schemas.identifiers import HUB_CODE_SYSTEMS, local_system

CODES = HUB_CODE_SYSTEMS
REVIEW_TYPE_SYSTEM = CODES + "hv-review-type"
OUTCOME_SYSTEM = CODES + "hv-contact-outcome"
ASQ3_SYSTEM = CODES + "asq3-domain"
BREASTFEEDING_SYSTEM = CODES + "breastfeeding-status"
_ENCOUNTER_STATUS = {"completed": "finished", "not-attended": "cancelled", "declined": "cancelled"}
_BREASTFEEDING = {
    "exclusive": "Exclusively breastfed",
    "partial": "Partially breastfed",
    "none": "Not breastfed",
}


def source_system(partner: str) -> str:
    """The record-id namespace of one partner's health-visiting contacts."""
    return local_system(partner, "hv-contact")


def review_event(review: Review, ctx: SourceContext) -> HubEvent:
    """The one `health-visitor-review` event of a row, every resource validated once."""
    system = source_system(ctx.partner)
    subject = review.subject.identifiers[0]
    patient = patient_resource(review.subject, resource_id(system, "Patient", subject.token))
    patient_ref = {"reference": f"urn:uuid:{patient['id']}"}
    encounter = _encounter(review, system, resource_id(system, review.record_id, "Encounter"), patient_ref)
    links = {"subject": patient_ref, "encounter": {"reference": f"urn:uuid:{encounter['id']}"}}
    observations = [
        _observation(
            resource_id(system, review.record_id, domain),
            {"system": ASQ3_SYSTEM, "code": domain, "display": f"ASQ-3 {label} score"},
            {"valueInteger": review.asq3[domain]},
            review,
            links,
        )
        for domain, label in ASQ3_DOMAINS.items()
        if domain in review.asq3
    ]
    if review.breastfeeding:
        observations.append(
            _observation(
                resource_id(system, review.record_id, "breastfeeding"),
                {"system": BREASTFEEDING_SYSTEM, "code": "status", "display": "Breastfeeding status"},
                {
                    "valueCodeableConcept": {
                        "coding": [
                            {
                                "system": BREASTFEEDING_SYSTEM,
                                "code": review.breastfeeding,
                                "display": _BREASTFEEDING[review.breastfeeding],
                            }
                        ]
                    }
                },
                review,
                links,
            )
        )
    resources = [encounter, patient, *observations]
    where = f"line {review.line}"
    for resource in resources:
        validate_resource(resource, where)
    return HubEvent.create(
        event_type=EventType.HEALTH_VISITOR_REVIEW,
        source_partner=ctx.partner,
        source_system=system,
        source_record_id=review.record_id,
        record_version=review.record_version,
        occurred_at=datetime.combine(review.review_date, time(), UTC),
        subjects=review.subject.identifiers,
        entries=[Entry.of(resource) for resource in resources],
        trace_id=ctx.trace_id,
        ingested_at=ctx.received_at,
    )


def _encounter(review: Review, system: str, encounter_id: str, patient_ref: dict[str, str]) -> dict[str, Any]:
    """The contact: which mandated review, held or not (DNA, declined), when, by which role."""
    day = review.review_date.isoformat()
    encounter: dict[str, Any] = {
        "resourceType": "Encounter",
        "id": encounter_id,
        "identifier": [{"system": system, "value": review.record_id}],
        "status": _ENCOUNTER_STATUS[review.outcome],
        "class": {"system": "http://terminology.hl7.org/CodeSystem/v3-ActCode", "code": "HH"},
        "type": [
            {
                "coding": [
                    {
                        "system": REVIEW_TYPE_SYSTEM,
                        "code": review.review_type,
                        "display": REVIEW_TYPES[review.review_type],
                    }
                ]
            },
            {"coding": [{"system": OUTCOME_SYSTEM, "code": review.outcome}]},
        ],
        "serviceType": {"text": "Health visiting"},
        "subject": patient_ref,
        "period": {"start": day, "end": day},
    }
    if review.practitioner_role:
        encounter["participant"] = [{"type": [{"text": review.practitioner_role}]}]
    return encounter


def _observation(
    observation_id: str,
    code: dict[str, str],
    value: dict[str, Any],
    review: Review,
    links: dict[str, dict[str, str]],
) -> dict[str, Any]:
    """An observation of the review, linked to its subject and encounter."""
    return {
        "resourceType": "Observation",
        "id": observation_id,
        "status": "final",
        "code": {"coding": [code], "text": code["display"]},
        **links,
        "effectiveDateTime": review.review_date.isoformat(),
        **value,
    }
