"""Pure projection: one linked event -> the changes it makes to the timeline store.

No I/O: the worker, `hubnet rebuild timeline` and the tests call `project` and hand the changes
to `TimelineStore.apply`, which writes them in one transaction. What an event means here:

- an ordinary hub event: the subject is seen (demographics, identifiers, families, relations) and
  its entry is upserted; the store keeps only the highest `record_version` of a source record;
- `record-retracted`: the retracted source record's entries leave the timeline (no entry itself);
- `consent-recorded`: also the family's consent decision per named partner (services/consent);
- `hub-persons-merged` / `hub-person-unmerged`: entries move between the two hub persons.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from schemas.envelope import HubEvent
from schemas.event_types import EventType, definition
from schemas.linked import LinkedEvent
from services.consent.model import ConsentDecision
from services.consent.rules import decisions_of
from services.identity.facts import read_event
from services.referrals.postcodes import normalise as normalise_postcode
from services.timeline.model import TimelineEntry
from services.timeline.titles import describe

AreaOf = Callable[[str], str | None]
"""Postcode -> hub area id of the loaded county pack, or None outside the county."""


@dataclass(frozen=True)
class PersonSeen:
    """The subject as this event states it; newer statements (by `at`) replace older ones."""

    person_id: str
    family_ids: tuple[str, ...]
    related: tuple[tuple[str, str], ...]
    """(related person id, relationship as the event names it)."""
    name: str
    family_key: str
    given_key: str
    birth_date: str
    sex: str
    postcode: str
    area: str | None
    tokens: tuple[str, ...]
    at: datetime


@dataclass(frozen=True)
class UpsertEntry:
    entry: TimelineEntry


@dataclass(frozen=True)
class Retract:
    partner: str
    """The sender of the retraction: only its own record (partner, system, id) is retracted."""
    source_system: str
    source_record_id: str
    version: str | None
    """The retraction's version when it is a later version of the same record, else None."""


@dataclass(frozen=True)
class ConsentChange:
    """A family's consent decision about one partner (services/consent decides if it stands)."""

    decision: ConsentDecision


@dataclass(frozen=True)
class Merge:
    kept: str
    absorbed: str
    unmerge: bool


Change = PersonSeen | UpsertEntry | Retract | ConsentChange | Merge


def project(linked: LinkedEvent, area_of: AreaOf) -> list[Change]:
    """The changes one linked event makes; deterministic, so replay rebuilds the same store."""
    event = linked.event
    if event.event_type in (EventType.HUB_PERSONS_MERGED, EventType.HUB_PERSON_UNMERGED):
        absorbed = linked.related_ids[0] if linked.related_ids else event.subjects[-1].value
        unmerge = event.event_type is EventType.HUB_PERSON_UNMERGED
        return [Merge(kept=linked.person_id, absorbed=absorbed, unmerge=unmerge)]
    changes: list[Change] = [_person(linked, area_of)]
    if event.event_type is EventType.RECORD_RETRACTED and event.retracts:
        same = event.retracts == event.source_record_id
        changes.append(
            Retract(
                event.source_partner,
                event.source_system,
                event.retracts,
                event.record_version if same else None,
            )
        )
        return changes
    changes.append(UpsertEntry(_entry(linked)))
    if event.event_type is EventType.CONSENT_RECORDED:
        changes += _consents(linked)
    return changes


def _entry(linked: LinkedEvent) -> TimelineEntry:
    event = linked.event
    title, summary = describe(event)
    return TimelineEntry(
        event_id=event.event_id,
        person_id=linked.person_id,
        origin_person_id=linked.person_id,
        family_ids=linked.family_ids,
        occurred_at=event.occurred_at,
        recorded_at=event.ingested_at,
        partner=event.source_partner,
        source_system=event.source_system,
        source_record_id=event.source_record_id,
        record_version=event.record_version,
        domain=definition(event.event_type).domain,
        event_type=event.event_type.value,
        title=title,
        summary=summary,
        sensitivity=event.sensitivity,
        resources=tuple(e.resource for e in event.entries),
        trace_id=event.trace_id,
    )


def _person(linked: LinkedEvent, area_of: AreaOf) -> PersonSeen:
    event = linked.event
    facts = read_event(event).subject
    patient = _subject_patient(event)
    related = tuple((person_id, _relationship(event)) for person_id in linked.related_ids)
    return PersonSeen(
        person_id=linked.person_id,
        family_ids=linked.family_ids,
        related=related,
        name=display_name(patient) if patient else "",
        family_key=facts.family,
        given_key=facts.given,
        birth_date=facts.birth_date,
        sex=facts.sex,
        postcode=normalise_postcode(facts.postcode) if facts.postcode else "",
        area=area_of(facts.postcode) if facts.postcode else None,
        tokens=tuple(t for t in facts.tokens if not t.startswith(event.source_system + "|")),
        at=event.ingested_at,
    )


def _subject_patient(event: HubEvent) -> dict[str, Any] | None:
    tokens = {s.token for s in event.subjects}
    patients = [e.resource for e in event.entries if e.resource.get("resourceType") == "Patient"]
    for patient in patients:
        ids = {f"{i.get('system')}|{i.get('value')}" for i in patient.get("identifier") or []}
        if ids & tokens:
            return patient
    return patients[0] if patients else None


def display_name(resource: dict[str, Any]) -> str:
    """The usual name as written ("Amelia Jones"), for people reading the page, never for matching."""
    names = [n for n in resource.get("name") or [] if isinstance(n, dict)]
    current = [n for n in names if n.get("use") not in ("old", "maiden", "nickname")] or names
    if not current:
        return ""
    name = current[0]
    if name.get("text"):
        return str(name["text"])
    return " ".join([*(str(g) for g in name.get("given") or []), str(name.get("family") or "")]).strip()


def _relationship(event: HubEvent) -> str:
    """How the people an event names stand to its subject: a RelatedPerson's relationship, or the
    mother of a birth notification."""
    if event.event_type is EventType.BIRTH_NOTIFICATION:
        return "mother"
    for entry in event.entries:
        if entry.resource.get("resourceType") == "RelatedPerson":
            for concept in entry.resource.get("relationship") or []:
                coding = (concept.get("coding") or [{}])[0]
                text = concept.get("text") or coding.get("display") or coding.get("code")
                if text:
                    return str(text).lower()
    return "related"


def _consents(linked: LinkedEvent) -> list[Change]:
    """The consent decisions of the event's Consents (services/consent/rules.py reads them)."""
    return [ConsentChange(decision) for decision in decisions_of(linked)]
