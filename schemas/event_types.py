"""The hub event code system: what happened, in one code per event, shared by all partners.

Every hub event's `MessageHeader.eventCoding` carries one of these codes. The FHIR CodeSystem
published to partners (`schemas/fhir/CodeSystem-hub-event-type.json`) is generated from this list
by `hubnet schemas export`, so the two never drift.
"""

from __future__ import annotations

from enum import StrEnum
from typing import NamedTuple

from schemas.identifiers import HUB_CODE_SYSTEMS

CODE_SYSTEM_URL = HUB_CODE_SYSTEMS + "hub-event-type"


class Domain(StrEnum):
    """Which part of a family's life the event belongs to; the timeline groups by it."""

    HEALTH = "health"
    EDUCATION = "education"
    SOCIAL_CARE = "social-care"
    COMMUNITY = "community"
    HUB = "hub"


class _Def(NamedTuple):
    display: str
    domain: Domain
    definition: str


class EventType(StrEnum):
    """Hub event codes. Add a code here (with its entry in `DEFINITIONS`) before a connector emits it."""

    PERSON_REGISTERED = "person-registered"
    PERSON_UPDATED = "person-updated"
    PERSON_MERGED = "person-merged"
    PERSON_DIED = "person-died"
    ADDRESS_CHANGED = "address-changed"
    GP_CHANGED = "gp-changed"
    RELATED_PERSON_RECORDED = "related-person-recorded"
    ENCOUNTER = "encounter"
    ADMISSION = "admission"
    DISCHARGE = "discharge"
    IMMUNISATION = "immunisation"
    OBSERVATION = "observation"
    BIRTH_NOTIFICATION = "birth-notification"
    NEWBORN_SCREENING = "newborn-screening"
    HEALTH_VISITOR_REVIEW = "health-visitor-review"
    REFERRAL_REQUESTED = "referral-requested"
    REFERRAL_STATUS_CHANGED = "referral-status-changed"
    CONSENT_RECORDED = "consent-recorded"
    CARE_EPISODE = "care-episode"
    FLAG_RAISED = "flag-raised"
    RECORD_RETRACTED = "record-retracted"
    CLINICAL_RECORD = "clinical-record"
    SCHOOL_ENROLMENT = "school-enrolment"
    SEN_STATUS = "sen-status"
    ATTENDANCE = "attendance"
    PERSISTENT_ABSENCE = "persistent-absence"
    EXCLUSION = "exclusion"
    COMMUNITY_ACTIVITY = "community-activity"
    HUB_PERSONS_MERGED = "hub-persons-merged"
    HUB_PERSON_UNMERGED = "hub-person-unmerged"
    SOCIAL_CARE_CONTACT = "social-care-contact"
    SOCIAL_CARE_REFERRAL = "social-care-referral"
    SOCIAL_CARE_ASSESSMENT = "social-care-assessment"


DEFINITIONS: dict[EventType, _Def] = {
    EventType.PERSON_REGISTERED: _Def(
        "Person registered", Domain.HEALTH, "A person's demographic record was created."
    ),
    EventType.PERSON_UPDATED: _Def(
        "Person details updated", Domain.HEALTH, "A person's demographic record changed."
    ),
    EventType.PERSON_MERGED: _Def(
        "Person records merged", Domain.HEALTH, "A partner merged two records of one person."
    ),
    EventType.PERSON_DIED: _Def("Death notified", Domain.HEALTH, "A person's death was notified."),
    EventType.ADDRESS_CHANGED: _Def("Address changed", Domain.HEALTH, "A person moved home."),
    EventType.GP_CHANGED: _Def(
        "GP practice changed", Domain.HEALTH, "A person registered with another GP practice."
    ),
    EventType.RELATED_PERSON_RECORDED: _Def(
        "Family member recorded", Domain.HEALTH, "A parent, carer or next of kin was recorded for a person."
    ),
    EventType.ENCOUNTER: _Def("Contact", Domain.HEALTH, "A person was seen or contacted by a service."),
    EventType.ADMISSION: _Def("Admitted", Domain.HEALTH, "A person was admitted to hospital."),
    EventType.DISCHARGE: _Def("Discharged", Domain.HEALTH, "A person was discharged from hospital."),
    EventType.IMMUNISATION: _Def(
        "Immunisation", Domain.HEALTH, "A vaccine was given or recorded as not given."
    ),
    EventType.OBSERVATION: _Def(
        "Observation", Domain.HEALTH, "A measurement, score or finding was recorded."
    ),
    EventType.BIRTH_NOTIFICATION: _Def("Birth notified", Domain.HEALTH, "A baby's birth was notified."),
    EventType.NEWBORN_SCREENING: _Def(
        "Newborn screening outcome", Domain.HEALTH, "Hearing, NIPE or blood-spot screening outcome."
    ),
    EventType.HEALTH_VISITOR_REVIEW: _Def(
        "Health visitor review", Domain.HEALTH, "A mandated health-visiting contact took place."
    ),
    EventType.REFERRAL_REQUESTED: _Def(
        "Referral made", Domain.HUB, "A partner asked another service to help."
    ),
    EventType.REFERRAL_STATUS_CHANGED: _Def(
        "Referral status changed", Domain.HUB, "A referral was opened, accepted, declined or completed."
    ),
    EventType.CONSENT_RECORDED: _Def("Consent recorded", Domain.HUB, "A family gave or withdrew consent."),
    EventType.CARE_EPISODE: _Def(
        "Episode of care", Domain.SOCIAL_CARE, "An episode of care started or ended."
    ),
    EventType.FLAG_RAISED: _Def("Alert raised", Domain.SOCIAL_CARE, "A partner raised or closed an alert."),
    EventType.RECORD_RETRACTED: _Def(
        "Record retracted", Domain.HUB, "A partner withdrew an earlier record; it leaves the timeline."
    ),
    EventType.CLINICAL_RECORD: _Def(
        "Clinical record", Domain.HEALTH, "A clinical resource without a more specific hub code."
    ),
    EventType.SCHOOL_ENROLMENT: _Def(
        "School enrolment", Domain.EDUCATION, "A pupil joined or left a school (one spell on roll)."
    ),
    EventType.SEN_STATUS: _Def(
        "Special educational needs",
        Domain.EDUCATION,
        "A pupil's SEN provision (SEN support, EHC plan) and needs started, changed or ended.",
    ),
    EventType.ATTENDANCE: _Def(
        "School attendance", Domain.EDUCATION, "A pupil's sessions possible and missed for a term or year."
    ),
    EventType.PERSISTENT_ABSENCE: _Def(
        "Persistent absence",
        Domain.EDUCATION,
        "A pupil missed 10% or more of the possible sessions in a term or year.",
    ),
    EventType.EXCLUSION: _Def(
        "Suspension or exclusion", Domain.EDUCATION, "A pupil was suspended or permanently excluded."
    ),
    EventType.COMMUNITY_ACTIVITY: _Def(
        "Community support",
        Domain.COMMUNITY,
        "A person attended a voluntary-sector session or course, or got advice or support from a charity.",
    ),
    EventType.SOCIAL_CARE_CONTACT: _Def(
        "Contact with children's social care",
        Domain.SOCIAL_CARE,
        "Children's social care received a contact (a concern or request) about a child.",
    ),
    EventType.SOCIAL_CARE_REFERRAL: _Def(
        "Referral to children's social care",
        Domain.SOCIAL_CARE,
        "A child was referred to children's social care; not a hub referral, so never routed to hubs.",
    ),
    EventType.SOCIAL_CARE_ASSESSMENT: _Def(
        "Social care assessment",
        Domain.SOCIAL_CARE,
        "A children's social care assessment or section 47 enquiry started or was completed.",
    ),
    EventType.HUB_PERSONS_MERGED: _Def(
        "Hub persons merged",
        Domain.HUB,
        "Identity resolution found two hub persons to be one; the absorbed id now reads as the kept id.",
    ),
    EventType.HUB_PERSON_UNMERGED: _Def(
        "Hub person unmerged",
        Domain.HUB,
        "A link was wrong: records were moved from a hub person to a new hub person.",
    ),
}


def definition(code: EventType) -> _Def:
    """Display text, domain and definition of a code; every code has one (checked by a unit test)."""
    return DEFINITIONS[code]


def code_system() -> dict[str, object]:
    """The FHIR R4 CodeSystem resource published to partners."""
    return {
        "resourceType": "CodeSystem",
        "id": "hub-event-type",
        "url": CODE_SYSTEM_URL,
        "name": "HubEventType",
        "title": "hubnet hub event types",
        "status": "active",
        "content": "complete",
        "caseSensitive": True,
        "concept": [
            {
                "code": code.value,
                "display": DEFINITIONS[code].display,
                "definition": DEFINITIONS[code].definition,
                "property": [{"code": "domain", "valueCode": DEFINITIONS[code].domain.value}],
            }
            for code in EventType
        ],
        "property": [{"code": "domain", "type": "code", "description": "Timeline domain of the event."}],
    }
