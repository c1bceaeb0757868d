"""A generated county through the identity and timeline workers on the real (embedded) broker, for
each county the end-to-end tests run over (tests/e2e/demo_county.py `COUNTIES`, issue #22): its
pack loaded as `hubnet county load` does, its partners' events linked by the identity worker, and
projected by the timeline worker, which takes each family's hub area from the loaded pack. Then
staff scoped to one hub area read, through `TimelineAccess`, exactly the families placed there.
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest
from kafka.admin import NewTopic

from schemas.errors import AuthorisationError
from schemas.linked import LinkedEvent
from services.core import kafka_clients
from services.core.settings import Settings
from services.county.geography import hub_area_lookup
from services.county.pack import read_pack
from services.county.store import CountyStore
from services.identity.worker import build as build_identity
from services.stack.demo_traffic import DEMO_END, DEMO_SEED, DEMO_START
from services.synthetic.county import Options, generate
from services.synthetic.county_pack import PACK_DIR
from services.timeline.access import TimelineAccess
from services.timeline.audit import AuditTrail
from services.timeline.audit_store import AuditStore
from services.timeline.policy import Role
from services.timeline.store import TimelineStore
from services.timeline.users import Principal
from services.timeline.worker import build as build_timeline
from tests.e2e.demo_county import COUNTIES, County, hub_events
from tests.integration.kafka_helpers import read_all

pytestmark = pytest.mark.integration
FAMILIES = 4


@pytest.mark.parametrize("which", COUNTIES, ids=lambda c: c.name)
def test_a_countys_families_are_linked_and_placed_in_its_hub_areas_through_the_broker(
    which: County, tmp_path: Path, bootstrap: str, unique: str
) -> None:
    settings = Settings(data_dir=tmp_path / "data", consumer_max_poll_interval_s=5.0, county_poll_s=0.1)
    county = tmp_path / "county"
    generate(Options(FAMILIES, DEMO_SEED, DEMO_START, DEMO_END, pack=which.pack), county)
    pack = read_pack(county / PACK_DIR)
    CountyStore.in_data_dir(settings).add(pack, "test")  # the next version, as `hubnet county load` stores it
    events = hub_events(county)
    topics = [f"t.events.{unique}", f"t.linked.{unique}", f"t.dlq.{unique}", f"t.tdlq.{unique}"]
    admin = kafka_clients.admin(settings, bootstrap)
    admin.create_topics([NewTopic(topic, 1, 1) for topic in topics])  # one partition: order kept
    admin.close()
    producer = kafka_clients.producer(settings, bootstrap)
    for event in events:
        producer.send(topics[0], key=event.key, value=event.to_bytes(), headers=event.headers())
    producer.flush()

    linked = _link(settings, bootstrap, topics, unique, len(events))
    assert len(linked) == len(events), "the identity worker linked every event the connectors made"
    producer.send(topics[1], key=b"x", value=b"{not linked", headers=[("source_partner", b"test")])
    producer.flush()  # sent last: once it is dead-lettered, every linked event before it is applied
    producer.close()
    store = TimelineStore.open(tmp_path / "timeline.sqlite")
    _project(settings, bootstrap, topics, unique, store)

    lookup = hub_area_lookup(pack)
    families = [store.family(f) for f in {family for item in linked for family in item.family_ids}]
    homes = {f.family_id: (f.postcode, f.area) for f in families if f is not None}
    stated = {family: area for family, (postcode, area) in homes.items() if postcode}
    assert stated, "the county's records state where families live"
    for family, (postcode, area) in homes.items():
        assert area == lookup.hub_area(postcode), f"{family} at {postcode}"
    assert None not in stated.values(), "every stated postcode is in a hub area of the pack"

    access = TimelineAccess(store, AuditTrail(AuditStore.open(":memory:")))
    for area in {rule.hub_area for rule in pack.hub_areas}:
        who = Principal(f"practitioner-{area}", "", Role.HUB_PRACTITIONER, (area,))
        assert {f for f in homes if _opens(access, who, f)} == {f for f, a in stated.items() if a == area}
    store.close()


def _link(
    settings: Settings, bootstrap: str, topics: list[str], unique: str, expected: int
) -> list[LinkedEvent]:
    """Run the identity worker until every event is linked (or the time is up); the linked events."""
    source, sink, dlq, _ = topics
    app, service = build_identity(
        settings, bootstrap, source=source, sink=sink, dlq=dlq, group=f"t-id-{unique}"
    )

    async def run() -> list[Any]:
        await app.start()
        try:
            return await asyncio.to_thread(read_all, settings, bootstrap, sink, expected, 180.0)
        finally:
            await app.stop()
            service.store.close()

    return [LinkedEvent.from_bytes(record.value) for record in asyncio.run(run())]


def _project(
    settings: Settings, bootstrap: str, topics: list[str], unique: str, store: TimelineStore
) -> None:
    """Run the timeline worker until the poison message sent last is dead-lettered."""
    _, sink, _, dlq = topics
    app, _ = build_timeline(settings, bootstrap, source=sink, dlq=dlq, store=store, group=f"t-tl-{unique}")

    async def run() -> None:
        await app.start()
        try:
            letters = await asyncio.to_thread(read_all, settings, bootstrap, dlq, 1, 120.0)
            assert letters, "the timeline worker reached the end of the linked topic"
        finally:
            await app.stop()

    asyncio.run(run())


def _opens(access: TimelineAccess, who: Principal, family_id: str) -> bool:
    try:
        access.family(who, family_id)
    except AuthorisationError:
        return False
    return True
