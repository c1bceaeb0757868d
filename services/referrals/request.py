"""What the router reads from a linked event: a referral request, a consent, or facts about a person.

Pure: a `LinkedEvent` in, plain values out. The referral id is derived from the source event id, so
a redelivered event names the same referral. Personal data kept for routing is minimal: the birth
date (for age eligibility), the postcode (looked up in the county pack for the hub area, district
and priority place) and whether the person has SEND; never names or the rest of an address.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from schemas.envelope import Identifier, Sensitivity, resource_id
from schemas.event_types import EventType
from schemas.linked import LinkedEvent
from services.consent.model import ConsentDecision
from services.consent.rules import decisions_of, sharing_decision
from services.referrals.postcodes import normalise

CLOSED_REQUEST_STATUSES = frozenset({"revoked", "entered-in-error", "completed"})
_CODED = ("code", "category", "reasonCode")
_NO_SEN = "N"
_FULL_DATE = len("2000-01-31")  # partial birth dates (a year, a month) give no age to check


@dataclass(frozen=True)
class PersonFacts:
    """What routing may know about a hub person; None means not known (yet)."""

    birth_date: date | None = None
    postcode: str | None = None
    send: bool | None = None

    def merged(self, newer: PersonFacts) -> PersonFacts:
        """These facts updated by what `newer` knows."""
        return PersonFacts(
            newer.birth_date or self.birth_date,
            newer.postcode or self.postcode,
            self.send if newer.send is None else newer.send,
        )


@dataclass(frozen=True)
class ReferralRequest:
    """A partner's referral, as the router needs it."""

    referral_id: str
    event_id: str
    source_system: str
    source_record_id: str
    referrer: str
    person_id: str
    family_id: str
    subjects: tuple[Identifier, ...]
    codes: tuple[str, ...]
    person: PersonFacts
    consent: ConsentDecision | None
    """What the request's own Consents decide for sharing (`rules.sharing_decision`)."""
    sensitivity: Sensitivity
    occurred_at: datetime
    trace_id: str
    service_request: dict[str, Any]
    consents: tuple[ConsentDecision, ...] = ()

    @property
    def closed_by_partner(self) -> bool:
        """The partner withdrew or closed the request it sent (revoked, entered in error, done)."""
        return self.service_request.get("status") in CLOSED_REQUEST_STATUSES


def referral_id_for(event_id: str) -> str:
    return resource_id("hub-referral", event_id)


def read_request(linked: LinkedEvent) -> ReferralRequest:
    """The referral a REFERRAL_REQUESTED event carries; `ValueError` when it has no ServiceRequest."""
    event = linked.event
    resources = [entry.resource for entry in event.entries]
    request = next((r for r in resources if r.get("resourceType") == "ServiceRequest"), None)
    if request is None:
        raise ValueError("a referral event must carry a ServiceRequest")
    consents = decisions_of(linked)
    return ReferralRequest(
        referral_id=referral_id_for(event.event_id),
        event_id=event.event_id,
        source_system=event.source_system,
        source_record_id=event.source_record_id,
        referrer=event.source_partner,
        person_id=linked.person_id,
        family_id=linked.family_ids[0],
        subjects=event.subjects,
        codes=codes_of(request),
        person=person_facts(linked) or PersonFacts(),
        consent=sharing_decision(consents),
        consents=tuple(consents),
        sensitivity=event.sensitivity,
        occurred_at=event.occurred_at,
        trace_id=event.trace_id,
        service_request=request,
    )


def codes_of(resource: dict[str, Any]) -> tuple[str, ...]:
    """Every code in the coded elements that say what is asked for, in order, code before category."""
    found: list[str] = []
    for name in _CODED:
        value = resource.get(name)
        for concept in value if isinstance(value, list) else [value]:
            if isinstance(concept, dict):
                found += [str(c["code"]) for c in concept.get("coding") or [] if c.get("code")]
    return tuple(found)


def person_facts(linked: LinkedEvent) -> PersonFacts | None:
    """Birth date, postcode and SEND status of the event's subject, where the event says."""
    event = linked.event
    patient = _subject_patient(linked)
    facts = PersonFacts()
    if patient is not None:
        born = patient.get("birthDate")
        postcodes = [a.get("postalCode") for a in patient.get("address") or [] if a.get("postalCode")]
        facts = PersonFacts(
            birth_date=date.fromisoformat(born)
            if isinstance(born, str) and len(born) == _FULL_DATE
            else None,
            postcode=normalise(postcodes[0]) if postcodes else None,
        )
    if event.event_type is EventType.SEN_STATUS and event.entries:
        flag = event.entries[0].resource
        provision = {c.get("code") for c in (flag.get("code") or {}).get("coding") or []}
        facts = PersonFacts(
            facts.birth_date, facts.postcode, flag.get("status") == "active" and _NO_SEN not in provision
        )
    return facts if facts != PersonFacts() else None


def _subject_patient(linked: LinkedEvent) -> dict[str, Any] | None:
    """The Patient the event is about: the one its focus resource's subject points to, else the first."""
    entries = {entry.full_url: entry.resource for entry in linked.event.entries}
    focus = entries.get(linked.event.focus or "")
    subject = (focus or {}).get("subject", {}).get("reference")
    found = entries.get(subject) if isinstance(subject, str) else None
    if found is not None and found.get("resourceType") == "Patient":
        return found
    return next((r for r in entries.values() if r.get("resourceType") == "Patient"), None)
