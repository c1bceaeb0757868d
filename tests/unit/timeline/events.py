"""Builders of linked events and a small two-area county for the timeline tests (synthetic people).

Tendring (E07000076, CO15 postcodes) and Chelmsford (E07000070, CM1) from the synthetic county
table; NHS numbers from the 999 test range with valid check digits.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from schemas.envelope import Entry, HubEvent, Identifier, Sensitivity, resource_id
from schemas.event_types import EventType
from schemas.identifiers import NHS_NUMBER
from schemas.linked import LinkedEvent, merge_event
from services.synthetic.geography import DISTRICTS
from services.timeline.projector import project
from services.timeline.store import TimelineStore

TENDRING, CHELMSFORD = "E07000076", "E07000070"
NHS = ("9990000018", "9990000026", "9990000034", "9990000042", "9990000050")
_AREA_OF_OUTCODE = {outcode: d.code for d in DISTRICTS for outcode in d.outcodes}


def AREA_OF(postcode: str | None) -> str | None:  # noqa: N802 - stands in for the projector's AreaOf
    """A test stand-in for the county pack's lookup: the demo county's district of the outward code."""
    return _AREA_OF_OUTCODE.get((postcode or "").split(" ")[0].upper())


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


def patient(nhs: str, given: str, family: str, birth: str, postcode: str) -> dict[str, Any]:
    return {
        "resourceType": "Patient",
        "id": resource_id("patient", nhs),
        "identifier": [{"system": NHS_NUMBER, "value": nhs}],
        "name": [{"given": [given], "family": family}],
        "birthDate": birth,
        "address": [{"postalCode": postcode}],
    }


def linked(
    person: str = "p1",
    families: tuple[str, ...] = ("f1",),
    *,
    record: str = "r1",
    version: str = "1",
    event_type: EventType = EventType.ENCOUNTER,
    partner: str = "essex-hv",
    occurred: str = "2024-03-01T10:00:00",
    sensitivity: Sensitivity = Sensitivity.NORMAL,
    nhs: str = NHS[0],
    name: tuple[str, str] = ("Amelia", "Jones"),
    birth: str = "2023-01-05",
    postcode: str = "CO15 1AB",
    related: tuple[str, ...] = (),
    extra: tuple[dict[str, Any], ...] = (),
    retracts: str | None = None,
    ingested: str = "2024-03-02T00:00:00",
) -> LinkedEvent:
    """A linked event of `person` in `families`: a Patient plus an Encounter (or `extra`)."""
    main = extra or (
        {
            "resourceType": "Encounter",
            "id": resource_id("encounter", partner, record),
            "status": "finished",
            "class": {"code": "AMB"},
            "type": [{"text": "6-8 week review"}],
            "serviceType": {"text": "Health visiting"},
        },
    )
    resources = [*main, patient(nhs, *name, birth, postcode)]
    event = HubEvent.create(
        event_type=event_type,
        source_partner=partner,
        source_system=f"urn:test:{partner}",
        source_record_id=record,
        record_version=version,
        occurred_at=at(occurred),
        ingested_at=at(ingested),
        subjects=[Identifier(system=NHS_NUMBER, value=nhs)],
        entries=[Entry.of(r) for r in resources],
        sensitivity=sensitivity,
        retracts=retracts,
    )
    return LinkedEvent(event=event, person_id=person, family_ids=families, related_ids=related)


def merged(kept: str, absorbed: str, families: tuple[str, ...], unmerge: bool = False) -> LinkedEvent:
    decision = f"{'unmerge' if unmerge else 'merge'}:{kept}:{absorbed}"
    return merge_event(
        decision_id=decision, kept=kept, absorbed=absorbed, family_ids=families, by="test", unmerge=unmerge
    )


def feed(store: TimelineStore, *events: LinkedEvent) -> list[bool]:
    return [store.apply(e.event.event_id, project(e, AREA_OF)) for e in events]
