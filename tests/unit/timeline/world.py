"""A small synthetic county for API, web and audit tests: two families in Tendring, one in
Chelmsford, restricted entries, a consent withdrawal, and one user per role (password "correct horse")."""

from __future__ import annotations

from pathlib import Path

from schemas.envelope import Sensitivity
from schemas.event_types import EventType
from schemas.linked import LinkedEvent
from services.timeline.audit import AuditTrail
from services.timeline.audit_store import AuditStore
from services.timeline.policy import Role
from services.timeline.store import TimelineStore
from services.timeline.users import UserStore
from tests.unit.timeline.events import CHELMSFORD, NHS, TENDRING, feed, linked

PASSWORD = "correct horse"


def consent_withdrawn(partner: str, family: str, person: str) -> LinkedEvent:
    resource = {
        "resourceType": "Consent",
        "id": f"consent-{family}",
        "status": "rejected",
        "dateTime": "2024-06-01T00:00:00Z",
        "provision": {"actor": [{"reference": {"identifier": {"value": partner}}}]},
    }
    return linked(
        person=person, families=(family,), record=f"consent-{family}", partner="essex-hub",
        event_type=EventType.CONSENT_RECORDED, extra=(resource,), occurred="2024-06-01T00:00:00",
    )  # fmt: skip


def build(path: Path | str = ":memory:") -> tuple[TimelineStore, UserStore, AuditTrail]:
    store = TimelineStore.open(path)
    users = UserStore.open(":memory:")
    feed(
        store,
        linked(person="mum", nhs=NHS[1], name=("Sarah", "Jones"), birth="1994-02-03", record="m1"),
        linked(
            person="baby", related=("mum",), record="hv1", occurred="2024-03-01T10:00:00",
            event_type=EventType.BIRTH_NOTIFICATION,
        ),
        linked(
            person="baby", record="cp1", partner="essex-csc", event_type=EventType.CARE_EPISODE,
            sensitivity=Sensitivity.RESTRICTED, occurred="2024-04-01T10:00:00",
        ),
        linked(
            person="baby", record="att1", partner="school", event_type=EventType.ATTENDANCE,
            occurred="2024-05-01T10:00:00",
        ),
        linked(
            person="baby", record="vcs1", partner="food-bank", event_type=EventType.COMMUNITY_ACTIVITY,
            occurred="2024-05-02T10:00:00",
        ),
        linked(person="kid2", families=("f2",), nhs=NHS[2], name=("Tom", "Smith"), record="k2",
               partner="food-bank", event_type=EventType.COMMUNITY_ACTIVITY),
        consent_withdrawn("food-bank", "f2", "kid2"),
        linked(person="far", families=("f3",), nhs=NHS[3], name=("Ava", "Brown"), postcode="CM1 2AB",
               record="c1"),
    )  # fmt: skip
    for role in Role:
        users.add(role.value, PASSWORD, role, [TENDRING], display_name=f"Demo {role.value}")
    users.add("county-manager", PASSWORD, Role.HUB_MANAGER, ["*"])
    users.add("chelmsford-hv", PASSWORD, Role.HEALTH_VISITOR, [CHELMSFORD])
    return store, users, AuditTrail(AuditStore.open(":memory:"))
