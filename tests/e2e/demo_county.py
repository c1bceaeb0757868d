"""A generated county, loaded offline into a timeline store for page tests, for each county the
end-to-end tests run over (`COUNTIES`): the `make run` demo county (services/stack/demo_traffic.py's
families, seed and dates, synthetic Essex) and a small county generated inside each other test
pack (tests/data/county/<name>, `hubnet generate --pack`). Its deliveries are converted by their
connectors, linked by the `IdentityService` the identity worker runs and projected as the timeline
worker does with the county's own pack deciding hub areas, and routed by the `ReferralService` the
referral worker runs (the real network, on a morning the test sets), with no broker. The county's
reference data is loaded as `hubnet up` loads it, for organisation names. The accounts are those of
`hubnet users demo` (every role, county-wide, the demo services), and a hub practitioner and a hub
manager scoped to each hub area of the pack (`practitioner-<hub area>`, `manager-<hub area>`)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from connectors import registry
from connectors.base import SourceContext
from schemas.county import CountyPack
from schemas.envelope import HubEvent
from services.cli.users import DEMO_PASSWORD, DEMO_SERVICES
from services.county.geography import hub_area_lookup
from services.county.pack import read_pack
from services.county.problems import Problem
from services.county.reference import load_reference, read_reference
from services.identity.service import IdentityService
from services.identity.store import IdentityStore
from services.reference.files import COUNTY_FILES, Row
from services.reference.store import ReferenceStore
from services.referrals.network import network_from_pack, read_config
from services.referrals.service import ReferralService
from services.referrals.sla import ManualClock
from services.referrals.store import ReferralStore
from services.stack.demo_traffic import DEMO_END, DEMO_SEED, DEMO_START, ensure_county
from services.synthetic.county import Options, generate
from services.synthetic.county_pack import PACK_DIR, REFERENCE_DIR
from services.synthetic.replay import deliveries
from services.timeline.audit import AuditTrail
from services.timeline.audit_store import AuditStore
from services.timeline.policy import COUNTY_WIDE, GRANTS, Role
from services.timeline.projector import project
from services.timeline.store import TimelineStore
from services.timeline.users import UserStore
from tests.sqlite_files import opened
from tests.unit.county.packs import PACKS, PACKS_DIR

PASSWORD = DEMO_PASSWORD
MORNING = datetime(2026, 12, 7, 9, 0, tzinfo=UTC)
"""A Monday morning after the demo county's history ends (DEMO_END): when the page tests route its
referrals, so a child's age, and with it which service may take them, stays the same."""
PACK_FAMILIES = 8
"""Families of a county generated inside a test pack: enough for every page kind and several hub
areas, few enough to keep the suite's time (the demo county has 40)."""


@dataclass(frozen=True)
class County:
    """A county the end-to-end tests run over: `pack` None is the `make run` demo county."""

    name: str
    pack: Path | None


COUNTIES = tuple(County(name, None if name == "essex" else PACKS_DIR / name) for name in PACKS)
"""The test packs (tests/unit/county/packs.py); the Essex pack is three districts of the demo county,
which runs whole instead. A pack added to `PACKS` runs through these tests too."""


@dataclass
class DemoCounty:
    store: TimelineStore
    users: UserStore
    audit: AuditTrail
    families: list[str]
    persons: list[str]
    areas: dict[str, str | None]
    """Family id -> the hub area the timeline gave it."""
    postcodes: dict[str, str]
    """Family id -> its postcode as last stated ('' when no record named one)."""
    practitioners: dict[str, str]
    """Username -> the one hub area that hub practitioner account is scoped to."""
    managers: dict[str, str]
    """Username -> the one hub area that hub manager account is scoped to."""
    folder: Path
    """The generated county."""
    area_of: Callable[[str | None], str | None]
    identity: IdentityService
    referrals: ReferralService
    names: ReferenceStore

    def deliver(self, events: Sequence[HubEvent]) -> None:
        """What the identity, timeline and referral workers do with new events on `make run`."""
        for linked in self.identity.link_batch(events):
            if isinstance(linked, Exception):  # the identity worker dead-letters it
                continue
            self.store.apply(linked.event.event_id, project(linked, self.area_of), commit=False)
            self.referrals.handle(linked)
        self.store.flush()

    def close(self) -> None:
        for store in (self.store, self.identity.store, self.referrals.store, self.names):
            store.close()


def generated(which: County, folder: Path) -> Path:
    """The county's generated folder (the demo county once, kept as `make run` keeps it)."""
    if which.pack is None:
        return ensure_county(folder)
    options = Options(PACK_FAMILIES, DEMO_SEED, DEMO_START, DEMO_END, pack=which.pack)
    generate(options, folder)
    return folder


def hub_events(county: Path) -> list[HubEvent]:
    """The events the county's partners' deliveries convert to, in delivery order (the rejected
    records are left out: they would be dead-lettered)."""
    known = set(registry.formats())
    events: list[HubEvent] = []
    for delivery in deliveries(county):
        if delivery.fmt in known:
            context = SourceContext(partner=delivery.partner)
            outcomes = registry.get(delivery.fmt).convert(delivery.data, context)
            events += [o for o in outcomes if isinstance(o, HubEvent)]
    return events


def _reference(county: Path, pack: CountyPack) -> tuple[dict[str, list[Row]], list[Problem]]:
    """The names of the county's organisations and districts: those its pack names, as `hubnet county
    load` reads them; for a test pack that names none, the generated partners' files written beside
    it, as `hubnet reference load` reads them."""
    if pack.manifest.reference:
        return read_reference(county / PACK_DIR, pack.manifest.reference)
    return read_reference(county, {kind: f"{REFERENCE_DIR}/{name}" for kind, name in COUNTY_FILES.items()})


def _scoped(users: UserStore, role: Role, prefix: str, hub_areas: Sequence[str]) -> dict[str, str]:
    """An account of `role` scoped to each hub area (`<prefix>-<hub area>`): username -> hub area."""
    accounts = {f"{prefix}-{area}": area for area in hub_areas}
    for username, area in accounts.items():
        users.add(username, PASSWORD, role, [area], f"{GRANTS[role].label}, {area}")
    return accounts


def load(folder: Path, which: County, morning: datetime = MORNING) -> DemoCounty:
    """Generate and load the county under `folder`; its referrals are routed at `morning`."""
    county = generated(which, folder / "county")
    pack = read_pack(county / PACK_DIR)
    store_path = folder / "timeline.sqlite"
    store = TimelineStore.open(store_path)
    identity = IdentityService(IdentityStore.open(folder / "identity.sqlite"))
    area_of = hub_area_lookup(pack).hub_area  # the county's own pack, as `hubnet county load` gives workers
    referrals = ReferralService(
        ReferralStore.open(folder / "referrals.sqlite"),
        network_from_pack(pack, read_config()),  # routed on the county's own pack, as the worker routes
        ManualClock(morning),
    )
    names = ReferenceStore.open(folder / "reference.sqlite")
    rows, problems = _reference(county, pack)
    assert not problems, problems
    load_reference(names, rows)
    users = UserStore.open(":memory:")
    for role in Role:
        label = f"Demo {GRANTS[role].label.lower()}"
        users.add(role.value, PASSWORD, role, [COUNTY_WIDE], label, services=DEMO_SERVICES.get(role, ()))
    hub_areas = sorted({rule.hub_area for rule in pack.hub_areas})
    practitioners = _scoped(users, Role.HUB_PRACTITIONER, "practitioner", hub_areas)
    managers = _scoped(users, Role.HUB_MANAGER, "manager", hub_areas)
    audit = AuditTrail(AuditStore.open(":memory:"))
    loaded = DemoCounty(
        store,
        users,
        audit,
        [],
        [],
        {},
        {},
        practitioners,
        managers,
        county,
        area_of,
        identity,
        referrals,
        names,
    )
    loaded.deliver(hub_events(county))
    with opened(store_path) as db:  # closed here, so closing the county closes the file's last connection
        homes = list(db.execute("SELECT family_id, area, postcode FROM family ORDER BY family_id"))
        persons = [
            row[0] for row in db.execute("SELECT person_id FROM person WHERE merged_into IS NULL ORDER BY 1")
        ]
    areas = {family: area for family, area, _ in homes}
    postcodes = {family: postcode for family, _, postcode in homes}
    loaded.families, loaded.persons, loaded.areas, loaded.postcodes = list(areas), persons, areas, postcodes
    return loaded
