"""A busy family for the family page benchmark, shaped like the families staff open: two carers, a
school-age child and a baby (dates of birth, NHS numbers, the children naming their mother), and
`count` entries over five years whose resources the summary reads as it would in the county: every
contact names its practitioner, attendance returns carry the school's Observation, the children's
immunisations and health-visiting reviews are coded as the connectors code them, and social care
episodes are restricted. Synthetic people only; dates relative to `today`.
"""

from __future__ import annotations

import random
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from connectors.hv_csv.resources import REVIEW_TYPE_SYSTEM
from schemas.envelope import Sensitivity, resource_id
from schemas.event_types import EventType
from schemas.linked import LinkedEvent
from tests.unit.timeline.events import NHS, linked

FAMILY = "f1"
YEARS = 5
PRACTITIONERS = ("Nurse Okafor", "Ms Patel", "Mr Hughes", "Dr Lewis", "Ms Green", "Mr Ahmed")
VACCINES = (
    (8, "DTaP/IPV/Hib/HepB"), (8, "Rotavirus"), (8, "MenB"), (12, "DTaP/IPV/Hib/HepB"), (12, "PCV"),
    (12, "Rotavirus"), (16, "DTaP/IPV/Hib/HepB"), (16, "MenB"), (52, "Hib/MenC"), (52, "PCV"),
    (52, "MMR"), (52, "MenB"), (174, "MMR"), (174, "DTaP/IPV"),
)  # fmt: skip
"""(age in weeks, vaccine text) of the routine schedule up to the pre-school booster."""
REVIEWS = ((2, "new-birth"), (7, "6-8-week"), (40, "12-month"))
"""(age in weeks, review code) of the health-visiting reviews done."""


def members(today: date) -> dict[str, tuple[str, tuple[str, str], date, tuple[str, ...]]]:
    """person id -> (NHS number, name, date of birth, people they name: the children their mother)."""
    return {
        "mum": (NHS[0], ("Sarah", "Jones"), date(1992, 4, 9), ()),
        "dad": (NHS[1], ("Liam", "Jones"), date(1990, 11, 23), ()),
        "kid": (NHS[2], ("Maya", "Jones"), today - timedelta(days=8 * 365 + 40), ("mum",)),
        "baby": (NHS[3], ("Noah", "Jones"), today - timedelta(days=300), ("mum",)),
    }


def busy_family(count: int, today: date, seed: int = 1) -> list[LinkedEvent]:
    """The family's events: the children's child-health entries, then `count` in all."""
    rng = random.Random(seed)
    people = members(today)
    events = [*_child_health("kid", people, today), *_child_health("baby", people, today)]
    start = datetime.combine(today - timedelta(days=YEARS * 365), time(9), tzinfo=UTC)
    for n in range(count - len(events)):
        when = start + timedelta(hours=rng.randrange(YEARS * 365 * 24))
        events.append(_contact(n, when, people, rng))
    return events


def _event(
    person: str, people: dict[str, Any], record: str, when: datetime, resource: dict[str, Any], **kw: Any
) -> LinkedEvent:
    nhs, name, born, related = people[person]
    return linked(
        person=person, families=(FAMILY,), record=record, occurred=when.isoformat()[:19], nhs=nhs,
        name=name, birth=born.isoformat(), related=related, extra=(resource,), **kw,
    )  # fmt: skip


def _child_health(person: str, people: dict[str, Any], today: date) -> list[LinkedEvent]:
    born = datetime.combine(people[person][2], time(10), tzinfo=UTC)
    events = []
    for n, (weeks, vaccine) in enumerate(VACCINES):
        when = born + timedelta(weeks=weeks)
        if when.date() < today:
            immunisation = {
                "resourceType": "Immunization", "id": f"imm-{person}-{n}", "status": "completed",
                "vaccineCode": {"text": vaccine}, "occurrenceDateTime": when.isoformat(),
                "performer": [{"actor": {"type": "Practitioner", "display": PRACTITIONERS[0]}}],
            }  # fmt: skip
            events.append(_event(person, people, f"imm-{person}-{n}", when, immunisation,
                                 event_type=EventType.IMMUNISATION, partner="essex-hv"))  # fmt: skip
    for weeks, code in REVIEWS:
        when = born + timedelta(weeks=weeks)
        if when.date() < today:
            encounter = {
                "resourceType": "Encounter", "id": f"rev-{person}-{code}", "status": "finished",
                "class": {"code": "HH"}, "type": [{"coding": [{"system": REVIEW_TYPE_SYSTEM, "code": code}]}],
                "participant": [{"individual": {"type": "Practitioner", "display": PRACTITIONERS[1]}}],
            }  # fmt: skip
            events.append(_event(person, people, f"rev-{person}-{code}", when, encounter,
                                 event_type=EventType.HEALTH_VISITOR_REVIEW, partner="essex-hv"))  # fmt: skip
    return events


def _contact(n: int, when: datetime, people: dict[str, Any], rng: random.Random) -> LinkedEvent:
    """The n-th of the other entries: attendance returns, health-visiting and community contacts,
    restricted social care episodes, each naming a practitioner."""
    practitioner = {"type": "Practitioner", "display": PRACTITIONERS[rng.randrange(len(PRACTITIONERS))]}
    kind = n % 4
    if kind == 0:
        attended = round(rng.uniform(70, 99), 1)
        missed = round(100 - attended, 1)
        observation = {
            "resourceType": "Observation", "id": f"att-{n}", "status": "final",
            "valueQuantity": {"value": attended, "unit": "%"},
            "performer": [{"identifier": {"value": "990650"}, "display": "Clacton Primary"}],
            "component": [
                {"code": {"coding": [{"code": "absence-rate"}]}, "valueQuantity": {"value": missed}},
                {"code": {"coding": [{"code": "reporting-period"}]}, "valueString": "2024-autumn"},
            ],
        }  # fmt: skip
        return _event("kid", people, f"att-{n}", when, observation, event_type=EventType.ATTENDANCE,
                      partner="school")  # fmt: skip
    partner, event_type, sensitivity = (
        ("essex-hv", EventType.ENCOUNTER, Sensitivity.NORMAL),
        ("food-bank", EventType.COMMUNITY_ACTIVITY, Sensitivity.NORMAL),
        ("essex-csc", EventType.CARE_EPISODE, Sensitivity.RESTRICTED),
    )[kind - 1]
    encounter = {
        "resourceType": "Encounter", "id": resource_id("encounter", partner, f"c{n}"), "status": "finished",
        "class": {"code": "AMB"}, "type": [{"text": "Contact"}],
        "participant": [{"individual": practitioner}],
    }  # fmt: skip
    person = ("mum", "dad", "kid", "baby")[rng.randrange(4)]
    return _event(person, people, f"c{n}", when, encounter, event_type=event_type, partner=partner,
                  sensitivity=sensitivity)  # fmt: skip
