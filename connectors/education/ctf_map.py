"""Map one CTF pupil to hub events: demographics, school spells, SEN, attendance, exclusions.

Every CTF, from any school, describes the pupil's whole history as that school knows it. So the
source system is one for all CTFs, and record ids name the fact, not the sender (pupil key +
school + entry date, pupil key + SEN start date, ...): the same school spell sent by two schools
is one record, and the later file (header DateTime, the record version) wins.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from connectors.base import SourceContext
from connectors.education.absence import attendance_events
from connectors.education.codes import (
    CONTACT_RELATIONSHIP_SYSTEM,
    CONTACT_RELATIONSHIPS,
    EXCLUSION_CATEGORIES,
    EXCLUSION_CATEGORY_SYSTEM,
    EXCLUSION_REASON_SYSTEM,
    EXCLUSION_REASONS,
    ROLE_CODE_SYSTEM,
    SEN_PROVISION,
    SEN_PROVISION_SYSTEM,
    SEN_TYPE_SYSTEM,
    SEN_TYPES,
    coding,
    concept,
)
from connectors.education.ctf_read import Contact, CtfHeader, CtfPupil, Enrolment, Exclusion, SenPeriod
from connectors.education.events import PupilEvents, at_midnight
from schemas.envelope import HubEvent, Sensitivity
from schemas.event_types import EventType
from schemas.identifiers import local_system

CONDITION_CLINICAL = "http://terminology.hl7.org/CodeSystem/condition-clinical"
NEED_RANKS = {1: "Primary need", 2: "Secondary need"}


def source_system(partner: str) -> str:
    """The record-id namespace of one school's transfer files: a pupil's records from one school
    are that school's, never overwritten or retracted by another school's file about the pupil."""
    return local_system(partner, "ctf")


def _period(start: date, end: date | None) -> dict[str, str]:
    period = {"start": start.isoformat()}
    if end is not None:
        period["end"] = end.isoformat()
    return period


def ctf_events(header: CtfHeader, record: CtfPupil, ctx: SourceContext) -> list[HubEvent]:
    """All events of one pupil, in a fixed order so re-runs produce the same list."""
    source = PupilEvents.start(ctx, source_system(ctx.partner), header.version, record.pupil)
    base = f"pupil/{record.pupil.key}"
    contacts = [_contact(source, base, contact) for contact in record.contacts]
    events = [source.details(f"{base}/details", header.created, contacts)]
    events += [_enrolment(source, base, spell) for spell in record.enrolments]
    events += [_sen(source, base, period) for period in record.sen]
    for item in record.attendance:
        events += attendance_events(source, f"{base}/attendance/{item.key}", item.figures)
    events += [_exclusion(source, base, header, exclusion) for exclusion in record.exclusions]
    return events


def _contact(source: PupilEvents, base: str, contact: Contact) -> dict[str, Any]:
    """A CTF contact as a RelatedPerson of the pupil: the CBDS relationship code, with the HL7 v3
    RoleCode of a parent or carer beside it (what tells identity resolution this is family)."""
    display, role = CONTACT_RELATIONSHIPS.get(contact.relationship, (contact.relationship or "Contact", None))
    codings = [{"system": CONTACT_RELATIONSHIP_SYSTEM, "code": contact.relationship, "display": display}]
    codings += [{"system": ROLE_CODE_SYSTEM, "code": role}] if role else []
    related: dict[str, Any] = {
        "resourceType": "RelatedPerson",
        "id": source.resource_id("contact", f"{base}/contact/{contact.position}"),
        "patient": source.patient_reference,
        "relationship": [{"coding": codings, "text": display} if contact.relationship else {"text": display}],
    }
    name = {"family": contact.family, "given": list(contact.given)}
    if any(name.values()):
        related["name"] = [{key: value for key, value in name.items() if value}]
    if contact.gender:
        related["gender"] = contact.gender
    address = {"line": list(contact.address_lines), "postalCode": contact.postcode}
    if any(address.values()):
        related["address"] = [{key: value for key, value in address.items() if value}]
    return related


def _enrolment(source: PupilEvents, base: str, spell: Enrolment) -> HubEvent:
    record_id = f"{base}/enrolment/{spell.school.key}/{spell.entry.isoformat()}"
    episode = {
        "resourceType": "EpisodeOfCare",
        "id": source.resource_id("enrolment", record_id),
        "status": "finished" if spell.leaving else "active",
        "type": [concept("school-enrolment", "School enrolment")],
        "patient": source.patient_reference,
        "managingOrganization": spell.school.reference(),
        "period": _period(spell.entry, spell.leaving),
    }
    occurred = at_midnight(spell.leaving or spell.entry)
    return source.event(EventType.SCHOOL_ENROLMENT, record_id, occurred, [episode])


def _sen(source: PupilEvents, base: str, period: SenPeriod) -> HubEvent:
    """A Flag for the provision (SEN support, EHC plan; N = none) and a Condition per need."""
    record_id = f"{base}/sen/{period.start.isoformat()}"
    active = period.end is None and period.provision != "N"
    flag = {
        "resourceType": "Flag",
        "id": source.resource_id("sen-provision", record_id),
        "status": "active" if active else "inactive",
        "category": [concept("sen", "Special educational needs")],
        "code": {"coding": [coding(SEN_PROVISION_SYSTEM, period.provision, SEN_PROVISION)]},
        "subject": source.patient_reference,
        "period": _period(period.start, period.end),
    }
    needs = sorted(period.needs, key=lambda need: need.rank or len(NEED_RANKS) + 1)
    conditions = []
    for need in needs:
        condition: dict[str, Any] = {
            "resourceType": "Condition",
            "id": source.resource_id("sen-need", f"{record_id}/{need.code}"),
            "clinicalStatus": {
                "coding": [{"system": CONDITION_CLINICAL, "code": "active" if active else "inactive"}]
            },
            "category": [concept("sen-need", "Special educational need")],
            "code": {
                "coding": [coding(SEN_TYPE_SYSTEM, need.code, SEN_TYPES)],
                "text": f"{NEED_RANKS.get(need.rank or 0, 'Need')}: {SEN_TYPES[need.code].display}",
            },
            "subject": source.patient_reference,
            "onsetDateTime": period.start.isoformat(),
        }
        if period.end:
            condition["abatementDateTime"] = period.end.isoformat()
        conditions.append(condition)
    sensitivity = Sensitivity.RESTRICTED if period.restricted else Sensitivity.NORMAL
    occurred = at_midnight(period.end or period.start)
    return source.event(EventType.SEN_STATUS, record_id, occurred, [flag, *conditions], sensitivity)


def _exclusion(source: PupilEvents, base: str, header: CtfHeader, exclusion: Exclusion) -> HubEvent:
    """An Observation: category as the code, reason as the value, sessions as a component."""
    record_id = f"{base}/exclusion/{exclusion.start.isoformat()}/{exclusion.category}"
    observation: dict[str, Any] = {
        "resourceType": "Observation",
        "id": source.resource_id("exclusion", record_id),
        "status": "final",
        "category": [concept("education", "Education")],
        "code": {"coding": [coding(EXCLUSION_CATEGORY_SYSTEM, exclusion.category, EXCLUSION_CATEGORIES)]},
        "subject": source.patient_reference,
        "effectiveDateTime": exclusion.start.isoformat(),
        "performer": [header.source.reference()],
    }
    if exclusion.reason:
        observation["valueCodeableConcept"] = {
            "coding": [coding(EXCLUSION_REASON_SYSTEM, exclusion.reason, EXCLUSION_REASONS)]
        }
    if exclusion.sessions is not None:
        observation["component"] = [
            {"code": concept("sessions-excluded", "Sessions excluded"), "valueInteger": exclusion.sessions}
        ]
    sensitivity = Sensitivity.RESTRICTED if exclusion.restricted else Sensitivity.NORMAL
    occurred = at_midnight(exclusion.start)
    return source.event(EventType.EXCLUSION, record_id, occurred, [observation], sensitivity)
