"""The `make run` demo county, loaded offline into a timeline store for page tests: the same
generated county (services/stack/demo_traffic.py's families, seed and dates) converted by its
connectors, linked by the `IdentityService` the identity worker runs and projected as the timeline
worker does, with no broker. The demo accounts are those of `hubnet users demo` (every role,
county-wide, the demo services)."""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from pathlib import Path

from connectors import registry
from connectors.base import SourceContext
from schemas.envelope import HubEvent
from services.cli.users import DEMO_PASSWORD, DEMO_SERVICES
from services.identity.service import IdentityService
from services.identity.store import IdentityStore
from services.referrals.postcodes import synthetic_county
from services.stack.demo_traffic import ensure_county
from services.synthetic.replay import deliveries
from services.timeline.audit import AuditTrail
from services.timeline.audit_store import AuditStore
from services.timeline.policy import COUNTY_WIDE, GRANTS, Role
from services.timeline.projector import project
from services.timeline.store import TimelineStore
from services.timeline.users import UserStore

PASSWORD = DEMO_PASSWORD


@dataclass
class DemoCounty:
    store: TimelineStore
    users: UserStore
    audit: AuditTrail
    families: list[str]
    persons: list[str]


def load(folder: Path) -> DemoCounty:
    """Generate (once) and load the demo county under `folder`."""
    county = ensure_county(folder / "county")
    store_path = folder / "timeline.sqlite"
    store = TimelineStore.open(store_path)
    identity = IdentityService(IdentityStore.open(folder / "identity.sqlite"))
    area_of = synthetic_county().district  # the demo county's own districts, as with no county pack
    known = set(registry.formats())
    events: list[HubEvent] = []
    for delivery in deliveries(county):
        if delivery.fmt in known:
            context = SourceContext(partner=delivery.partner)
            outcomes = registry.get(delivery.fmt).convert(delivery.data, context)
            events += [o for o in outcomes if isinstance(o, HubEvent)]
    for linked in identity.link_batch(events):
        if not isinstance(linked, Exception):
            store.apply(linked.event.event_id, project(linked, area_of), commit=False)
    store.flush()
    identity.store.close()
    users = UserStore.open(":memory:")
    for role in Role:
        label = f"Demo {GRANTS[role].label.lower()}"
        users.add(role.value, PASSWORD, role, [COUNTY_WIDE], label, services=DEMO_SERVICES.get(role, ()))
    with sqlite3.connect(store_path) as db:
        families = [row[0] for row in db.execute("SELECT family_id FROM family ORDER BY family_id")]
        persons = [
            row[0] for row in db.execute("SELECT person_id FROM person WHERE merged_into IS NULL ORDER BY 1")
        ]
    return DemoCounty(store, users, AuditTrail(AuditStore.open(":memory:")), families, persons)
