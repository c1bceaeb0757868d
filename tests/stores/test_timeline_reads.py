"""A family's timeline reads on both backends: the page (one branch per member, merged) gives the
same entries newest first on SQLite and PostgreSQL, page after page, and the family page's and
family summary's reads are each served by the index meant for them (services/timeline/store.py)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from schemas.event_types import EventType
from schemas.linked import LinkedEvent
from services.timeline.access import PageRequest, TimelineAccess
from services.timeline.audit import AuditTrail
from services.timeline.audit_store import AuditStore
from services.timeline.model import Cursor, Filters, utc_text
from services.timeline.policy import Role
from services.timeline.store import TimelineStore
from services.timeline.summary import summary_reads
from services.timeline.users import Principal
from tests.databases import Backend
from tests.unit.timeline.events import NHS, TENDRING, feed, linked

MEMBERS = ("mum", "kid", "baby")
KINDS = (
    (EventType.ENCOUNTER, "essex-hv"), (EventType.ATTENDANCE, "school"),
    (EventType.IMMUNISATION, "essex-hv"), (EventType.COMMUNITY_ACTIVITY, "food-bank"),
)  # fmt: skip
START = datetime(2024, 1, 1, 9, tzinfo=UTC)
READER = Principal("hv", "HV", Role.HEALTH_VISITOR, (TENDRING,))


def _events() -> list[LinkedEvent]:
    """36 entries of three members, interleaved in time, two of them at the same moment."""
    events = []
    for n in range(36):
        kind, partner = KINDS[n % len(KINDS)]
        person = MEMBERS[n % len(MEMBERS)]
        when = START + timedelta(days=(n * 7) % 36, hours=0 if n == 35 else n % 5)
        events.append(
            linked(
                person=person, record=f"r{n}", event_type=kind, partner=partner,
                nhs=NHS[MEMBERS.index(person)], occurred=when.isoformat()[:19],
            )
        )  # fmt: skip
    return events


@pytest.fixture
def family(backend: Backend) -> tuple[TimelineStore, list[LinkedEvent]]:
    store = backend.open(TimelineStore)
    events = _events()
    feed(store, *events)
    return store, events


def _newest_first(events: list[LinkedEvent], keep: Any = lambda e: True) -> list[str]:
    chosen = [e.event for e in events if keep(e)]
    chosen.sort(key=lambda e: (utc_text(e.occurred_at), e.event_id), reverse=True)
    return [e.event_id for e in chosen]


def test_pages_of_a_family_are_its_members_entries_newest_first(
    family: tuple[TimelineStore, list[LinkedEvent]],
) -> None:
    store, events = family
    read: list[str] = []
    cursor = None
    while True:
        page = store.entries(MEMBERS, Filters(), cursor=cursor, limit=5)
        read += [e.event_id for e in page]
        if len(page) < 5:
            break
        cursor = Cursor(utc_text(page[-1].occurred_at), page[-1].event_id)
    assert read == _newest_first(events)


def test_filters_and_hidden_partners_apply_to_every_member(
    family: tuple[TimelineStore, list[LinkedEvent]],
) -> None:
    store, events = family
    since = START + timedelta(days=10)
    found = store.entries(
        MEMBERS, Filters(event_types=frozenset({"attendance", "immunisation"}), since=since), limit=100,
        hide_partners={"school"},
    )  # fmt: skip
    expected = _newest_first(
        events,
        lambda e: e.event.event_type is EventType.IMMUNISATION and e.event.occurred_at >= since,
    )
    assert [e.event_id for e in found] == expected
    assert store.entries(MEMBERS, Filters(), limit=3, domains=["community"]) == store.entries(
        MEMBERS, Filters(partners=frozenset({"food-bank"})), limit=3
    )
    assert store.entries([], Filters()) == []


def _plans(store: TimelineStore, backend: Backend, read: Any) -> list[tuple[str, str]]:
    """(SQL, query plan on this backend) of each entry read `read` makes."""
    seen: list[tuple[str, list[Any]]] = []
    real = store._all

    def spy(sql: str, params: Any = ()) -> list[Any]:
        if "FROM entry" in sql:
            seen.append((sql, list(params)))
        return real(sql, params)

    store._all = spy  # type: ignore[method-assign]
    try:
        read()
    finally:
        store._all = real  # type: ignore[method-assign]
    if backend.name == "postgresql":
        store._run("SET enable_seqscan = off")  # a few rows: the planner would rightly scan them
        explain = "EXPLAIN"
    else:
        explain = "EXPLAIN QUERY PLAN"
    plan = [(sql, store._all(f"{explain} {sql}", params)) for sql, params in seen]
    return [(sql, " ".join(str(row[-1]) for row in rows)) for sql, rows in plan]


def test_family_page_and_summary_reads_use_their_indexes(
    family: tuple[TimelineStore, list[LinkedEvent]], backend: Backend
) -> None:
    store, _ = family
    access = TimelineAccess(store, AuditTrail(AuditStore.open(":memory:")))
    summary = _plans(store, backend, lambda: access.family_facts(READER, "f1", summary_reads(START)))
    page = _plans(store, backend, lambda: access.family_timeline(READER, "f1", PageRequest()))
    by_type = [plan for sql, plan in summary if "event_type IN" in sql]
    in_time = [plan for sql, plan in summary if "event_type IN" not in sql]
    partners = [plan for sql, plan in page if "DISTINCT partner" in sql]
    pages = [plan for sql, plan in page if "DISTINCT partner" not in sql]
    assert (len(by_type), len(in_time), len(partners), len(pages)) == (3, 1, 1, 1)
    assert all("entry_type_person" in plan for plan in by_type), by_type
    assert all("entry_person_time" in plan for plan in in_time + pages), in_time + pages
    assert "entry_person_domain" in partners[0], partners
