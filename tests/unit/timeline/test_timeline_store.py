"""Projector and store: idempotency, versions, retractions, ordering, merges, consent, search;
each on SQLite and on PostgreSQL (the `backend` fixture, tests/databases.py)."""

from __future__ import annotations

import pytest

from schemas.envelope import Sensitivity
from schemas.event_types import EventType
from schemas.identifiers import NHS_NUMBER
from schemas.linked import LinkedEvent
from services.consent.model import STAFF_RECORDER
from services.stores.migrations import Migrator
from services.timeline.model import Cursor, Filters, utc_text
from services.timeline.reads import ENTRY_COLUMNS
from services.timeline.store import MIGRATIONS, TimelineStore
from tests.databases import Backend
from tests.unit.timeline.events import NHS, TENDRING, at, feed, linked, merged


@pytest.fixture
def store(backend: Backend) -> TimelineStore:
    return backend.open(TimelineStore)


def test_same_event_twice_is_one_entry(store: TimelineStore) -> None:
    event = linked()
    assert feed(store, event, event) == [True, False]
    assert store.count_entries() == 1


def test_late_older_version_never_overwrites_newer(store: TimelineStore) -> None:
    feed(store, linked(version="3", occurred="2024-03-03T00:00:00"))
    feed(store, linked(version="2", occurred="2024-03-02T00:00:00"))
    [entry] = store.entries(["p1"], Filters())
    assert entry.record_version == "3"
    feed(store, linked(version="4", occurred="2024-03-04T00:00:00"))
    [entry] = store.entries(["p1"], Filters())
    assert entry.record_version == "4"


def test_timestamp_versions_compare_as_time(store: TimelineStore) -> None:
    feed(store, linked(version="2024-05-01T10:00:00Z"), linked(version="2024-04-01T10:00:00Z"))
    [entry] = store.entries(["p1"], Filters())
    assert entry.record_version == "2024-05-01T10:00:00Z"


def test_retraction_removes_record_and_blocks_late_original(store: TimelineStore) -> None:
    feed(store, linked(record="r1"), linked(record="r2", occurred="2024-01-01T00:00:00"))
    retraction = linked(record="r1", version="2", event_type=EventType.RECORD_RETRACTED, retracts="r1")
    feed(store, retraction)
    assert [e.source_record_id for e in store.entries(["p1"], Filters())] == ["r2"]
    feed(store, linked(record="r1", version="1"))
    assert store.count_entries() == 1


def test_retraction_before_any_version_blocks_it(store: TimelineStore) -> None:
    feed(store, linked(record="x", version="1", event_type=EventType.RECORD_RETRACTED, retracts="r9"))
    feed(store, linked(record="r9", version="2024-01-01T00:00:00Z"))
    assert store.count_entries() == 0


def test_out_of_order_arrivals_list_by_occurred_time_with_cursor_paging(store: TimelineStore) -> None:
    days = [5, 1, 9, 3, 7, 2, 8, 4, 6]
    feed(store, *(linked(record=f"r{d}", occurred=f"2024-01-0{d}T09:00:00") for d in days))
    first = store.entries(["p1"], Filters(), limit=4)
    assert [e.source_record_id for e in first] == ["r9", "r8", "r7", "r6"]
    cursor = Cursor(utc_text(first[-1].occurred_at), first[-1].event_id)
    rest = store.entries(["p1"], Filters(), cursor=Cursor.decode(cursor.encode()), limit=10)
    assert [e.source_record_id for e in rest] == ["r5", "r4", "r3", "r2", "r1"]


def test_filters_by_domain_partner_type_and_dates(store: TimelineStore) -> None:
    feed(
        store,
        linked(record="a", partner="essex-hv", occurred="2024-01-01T00:00:00"),
        linked(record="b", partner="school", event_type=EventType.ATTENDANCE, occurred="2024-02-01T00:00:00"),
        linked(record="c", partner="school", event_type=EventType.EXCLUSION, occurred="2024-03-01T00:00:00"),
    )

    def ids(filters: Filters, hide: set[str] | None = None, domains: list[str] | None = None) -> list[str]:
        found = store.entries(["p1"], filters, hide_partners=hide or set(), domains=domains)
        return [e.source_record_id for e in found]

    assert ids(Filters(domains=frozenset({"education"}))) == ["c", "b"]
    assert ids(Filters(partners=frozenset({"essex-hv"}))) == ["a"]
    assert ids(Filters(event_types=frozenset({"attendance"}))) == ["b"]
    assert ids(Filters(since=at("2024-01-15T00:00:00"), until=at("2024-02-15T00:00:00"))) == ["b"]
    assert ids(Filters(), hide={"school"}) == ["a"]
    assert ids(Filters(), domains=["health"]) == ["a"]
    assert ids(Filters(domains=frozenset({"education"})), domains=["health"]) == []


def test_merge_moves_entries_and_unmerge_moves_them_back(store: TimelineStore) -> None:
    feed(
        store, linked(person="p1", record="a"), linked(person="p2", record="b", nhs=NHS[1], families=("f2",))
    )
    feed(store, merged("p1", "p2", ("f1",)))
    assert {e.source_record_id for e in store.entries(["p1"], Filters())} == {"a", "b"}
    survivor = store.person("p2")
    assert survivor is not None
    assert survivor.person_id == "p1"
    late = linked(person="p2", record="c", nhs=NHS[1], families=("f2",), occurred="2024-04-01T00:00:00")
    feed(store, late)
    assert {e.source_record_id for e in store.entries(["p1"], Filters())} == {"a", "b", "c"}
    feed(store, merged("p1", "p2", ("f1",), unmerge=True))
    assert {e.source_record_id for e in store.entries(["p1"], Filters())} == {"a"}
    assert {e.source_record_id for e in store.entries(["p2"], Filters())} == {"b", "c"}


def test_merge_redelivered_after_unmerge_changes_nothing(store: TimelineStore) -> None:
    merge = merged("p1", "p2", ("f1",))
    feed(store, linked(person="p1", record="a"), linked(person="p2", record="b", nhs=NHS[1]))
    feed(store, merge, merged("p1", "p2", ("f1",), unmerge=True), merge)
    assert {e.source_record_id for e in store.entries(["p2"], Filters())} == {"b"}


def test_family_members_relationships_area_and_search(store: TimelineStore) -> None:
    feed(
        store,
        linked(person="mum", nhs=NHS[1], name=("Sarah", "Jones"), birth="1994-02-03", record="m"),
        linked(person="baby", related=("mum",), event_type=EventType.BIRTH_NOTIFICATION, record="b"),
    )
    family = store.family("f1")
    assert family is not None
    assert family.area == TENDRING
    assert family.postcode == "CO15 1AB"
    roles = {m.person.person_id: m.role for m in family.members}
    assert roles == {"mum": "carer", "baby": "child"}
    assert [p.person_id for p in store.search(token=f"{NHS_NUMBER}|{NHS[0]}")] == ["baby"]
    assert [p.person_id for p in store.search(family_key="jones", birth_date="1994-02-03")] == ["mum"]
    assert {p.person_id for p in store.search(postcode="CO15 1AB")} == {"mum", "baby"}
    assert store.search(family_key="jones", birth_date="1994-02-03", given_key="amelia") == []


def test_newest_statement_of_a_person_wins(store: TimelineStore) -> None:
    feed(
        store,
        linked(record="a", postcode="CM1 2AB", ingested="2024-05-01T00:00:00"),
        linked(record="b", postcode="CO15 1AB", ingested="2024-04-01T00:00:00"),
    )
    person, family = store.person("p1"), store.family("f1")
    assert person is not None
    assert family is not None
    assert person.postcode == "CM1 2AB"
    assert family.area == "E07000070"


def test_consent_decision_received_last_stands_and_its_recorder_may_reverse_it(store: TimelineStore) -> None:
    """The time hubnet received a decision orders it, never the sender's dateTime (services/consent)."""

    def consent(status: str, when: str, record: str, received: str) -> LinkedEvent:
        resource = {
            "resourceType": "Consent",
            "id": record,
            "status": status,
            "dateTime": when,
            "provision": {"actor": [{"reference": {"identifier": {"value": "food-bank"}}}]},
        }
        return linked(
            record=record, event_type=EventType.CONSENT_RECORDED, extra=(resource,), ingested=received
        )

    feed(store, consent("rejected", "2024-02-01T00:00:00Z", "c2", received="2024-02-01T00:00:00"))
    feed(
        store, consent("active", "2099-01-01T00:00:00Z", "c1", received="2024-01-01T00:00:00")
    )  # late arrival
    assert store.withdrawn_partners(["f1"]) == {"food-bank"}
    feed(
        store, consent("active", "2024-03-01T00:00:00Z", "c3", received="2024-03-01T00:00:00")
    )  # same recorder
    assert store.withdrawn_partners(["f1"]) == frozenset()


def test_titles_are_human_readable(store: TimelineStore) -> None:
    feed(store, linked(sensitivity=Sensitivity.RESTRICTED))
    [entry] = store.entries(["p1"], Filters())
    assert entry.title == "6-8 week review — Health visiting"
    assert "{" not in entry.summary
    assert entry.summary.startswith("Contact")
    assert entry.restricted


def test_upgrade_keys_existing_records_by_their_partner(backend: Backend) -> None:
    """Migration 2 on a store written by version 1: each record row takes its entry's partner, so
    the owner's later versions still replace it and another partner's retraction does not."""
    connection = backend.connection("timeline")
    Migrator(connection).apply(MIGRATIONS[:1])
    mark = "?" if backend.name == "sqlite" else "%s"
    first = linked(record="r1", partner="essex-hv").event
    day, seen = "2024-03-01T10:00:00.000000Z", "2024-03-02T00:00:00.000000Z"
    values = (first.event_id, "p1", "p1", '["f1"]', day, seen, "essex-hv", first.source_system, "r1", "1",
              "health", "encounter", "t", "s", "N", "[]", "t1")  # fmt: skip
    marks = ", ".join([mark] * len(values))
    connection.execute(f"INSERT INTO entry ({ENTRY_COLUMNS}) VALUES ({marks})", values)
    connection.execute(
        f"INSERT INTO record (source_system, source_record_id, record_version, event_id) "
        f"VALUES ({mark}, {mark}, {mark}, {mark})",
        (first.source_system, "r1", "1", first.event_id),
    )
    connection.commit()
    store = TimelineStore(connection)  # opening applies migration 2
    retraction = linked(record="r1-x", partner="nelft", version="9", event_type=EventType.RECORD_RETRACTED,
                        retracts="r1")  # fmt: skip
    forged = retraction.event.model_copy(update={"source_system": first.source_system})
    feed(store, LinkedEvent(event=forged, person_id="p1", family_ids=("f1",)))
    assert [e.source_record_id for e in store.entries(["p1"], Filters())] == ["r1"]
    feed(store, linked(record="r1", partner="essex-hv", version="2"))
    assert [(e.source_record_id, e.record_version) for e in store.entries(["p1"], Filters())] == [("r1", "2")]


def test_upgrade_keeps_a_withdrawal_in_force_until_staff_record_consent(backend: Backend) -> None:
    """Migration 3 carries the old consent rows over with an unknown recorder: a withdrawal keeps
    hiding the partner; a partner's permit received since does not reverse it; staff's does."""
    connection = backend.connection("timeline")
    Migrator(connection).apply(MIGRATIONS[:2])
    mark = "?" if backend.name == "sqlite" else "%s"
    connection.execute(
        f"INSERT INTO consent (family_id, partner, permit, at) VALUES ({mark}, {mark}, 0, {mark})",
        ("f1", "food-bank", "2099-01-01T00:00:00.000000Z"),
    )
    connection.commit()
    store = TimelineStore(connection)  # opening applies migration 3
    assert store.withdrawn_partners(["f1"]) == {"food-bank"}
    assert store.withdrawn_partners(["f2"]) == frozenset()  # another family's decision, not this one's

    def permit(partner: str, record: str) -> LinkedEvent:
        actor = {"reference": {"identifier": {"value": "food-bank"}}}
        resource = {
            "resourceType": "Consent",
            "id": record,
            "status": "active",
            "provision": {"actor": [actor]},
        }
        return linked(
            record=record, partner=partner, event_type=EventType.CONSENT_RECORDED, extra=(resource,)
        )

    feed(store, permit("food-bank", "c1"))
    assert store.withdrawn_partners(["f1"]) == {"food-bank"}
    feed(store, permit(STAFF_RECORDER, "c2"))
    assert store.withdrawn_partners(["f1"]) == frozenset()
