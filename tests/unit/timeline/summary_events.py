"""Events for the family summary tests, added to the small county of world.py (family f1: mum and
baby in Tendring): a restricted immunisation by a clinic naming its nurse, an attendance return,
and a contact recorded after the reader's previous visit. Dates are relative to `today`."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from schemas.envelope import Sensitivity
from schemas.event_types import EventType
from services.timeline.store import TimelineStore
from tests.unit.timeline.events import NHS, feed, linked

HIDDEN_NURSE = "Nurse Hidden"
SECRET_CLINIC = "secret-clinic"


def _day(today: date, days_ago: int) -> str:
    return datetime.combine(today - timedelta(days=days_ago), time(10)).isoformat()


def add_summary_events(store: TimelineStore, today: date, recorded: datetime | None = None) -> None:
    """`recorded`: when the contact entry reached the hub (for the "new since your last visit" marker)."""
    immunisation: dict[str, Any] = {
        "resourceType": "Immunization", "id": "imm-mmr-1", "status": "completed",
        "vaccineCode": {"text": "MMR dose 1"},
        "performer": [{"actor": {"type": "Practitioner", "display": HIDDEN_NURSE}}],
    }  # fmt: skip
    attendance: dict[str, Any] = {
        "resourceType": "Observation", "id": "att-1", "status": "final",
        "valueQuantity": {"value": 86.0, "unit": "%"},
        "performer": [{"identifier": {"value": "990650"}, "display": "Clacton Primary"}],
        "component": [{"code": {"coding": [{"code": "absence-rate"}]}, "valueQuantity": {"value": 14.0}}],
    }  # fmt: skip
    arrived = (recorded or datetime.now(UTC)).astimezone(UTC).replace(tzinfo=None).isoformat()
    feed(
        store,
        linked(
            person="baby", record="imm1", partner=SECRET_CLINIC, event_type=EventType.IMMUNISATION,
            sensitivity=Sensitivity.RESTRICTED, occurred=_day(today, 20), extra=(immunisation,),
        ),
        linked(
            person="baby", record="att2", partner="school", event_type=EventType.ATTENDANCE,
            occurred=_day(today, 30), extra=(attendance,),
        ),
        linked(
            person="mum", record="contact-new", partner="essex-hv", occurred=_day(today, 1),
            ingested=arrived, name=("Sarah", "Jones"), birth="1994-02-03", nhs=NHS[1],
        ),
    )  # fmt: skip
