"""Blocking at scale: capped blocks, the keys that tolerate a date slip after a move, and human
verdicts read once per record (kept across a replay). Real SQLite store, synthetic people only."""

from __future__ import annotations

import pytest

from schemas.identifiers import local_system
from services.identity.blocking import BLOCK_LIMIT, index_keys, query_keys
from services.identity.facts import Facts, read_event
from services.identity.service import IdentityService
from tests.unit.identity.events import amy, event

GP_TOKEN = f"{local_system('gp', 'person')}|1"
VCS_TOKEN = f"{local_system('vcs', 'person')}|2"


def facts_of(subject: dict[str, object]) -> Facts:
    return read_event(event(subject, "probe")).subject


def test_a_block_over_the_cap_is_read_only_up_to_the_cap_and_the_record_links_by_another_key(
    service: IdentityService,
) -> None:
    store = service.store
    first = service.link(event(amy(local=("gp", "1")), "r1"))
    (crowded,) = [key for key in index_keys(facts_of(amy())) if key.startswith("ym|")]
    # more namesakes born the same month than the cap, filed under that key only, and sorting
    # ahead of Amy's own record, so the capped read of this block cannot reach her
    with store.transaction():
        for n in range(BLOCK_LIMIT + 20):
            namesake = facts_of(amy(born=f"2019-05-{11 + n % 9}", postcode="SS1 9ZZ", local=("x", str(n))))
            store.add_person(f"namesake-{n}")
            store.add_profile(f"0000-namesake-{n:03d}", f"namesake-{n}", namesake, {crowded})

    found = store.candidates(query_keys(facts_of(amy())))

    assert sum(person_id.startswith("namesake-") for person_id, _ in found) <= BLOCK_LIMIT
    assert first.person_id in {person_id for person_id, _ in found}  # through `nd` and `gd`
    again = service.link(event(amy(local=("vcs", "2")), "r2"))
    assert again.person_id == first.person_id


@pytest.mark.parametrize(
    ("slip", "key"), [("2019-05-17", "ym"), ("2019-09-02", "yd")], ids=["mistyped-day", "mistyped-month"]
)
def test_a_date_slip_after_a_move_still_finds_the_person(
    service: IdentityService, slip: str, key: str
) -> None:
    first = service.link(event(amy(local=("gp", "1")), "r1"))
    moved = amy(born=slip, postcode="CM1 2AB", local=("vcs", "2"))
    shared = index_keys(facts_of(amy())) & query_keys(facts_of(moved))
    assert {k[:2] for k in shared} == {key}  # only this key can find her

    later = service.link(event(moved, "r2"))

    (review,) = service.store.reviews()  # one slip and a move: a person decides
    assert (review["person_id"], review["candidate_id"]) == (later.person_id, first.person_id)
    assert review["score"]["birth_date"][0] == "partial"


@pytest.mark.parametrize(("verdict", "apart"), [("same", False), ("different", True)])
def test_kept_human_verdicts_apply_when_the_events_are_replayed(
    service: IdentityService, verdict: str, apart: bool
) -> None:
    """A replay into an empty index keeps only the decisions: the record a person judged is
    resolved by its score again, and the verdict, read before any candidate, decides."""
    service.store.decide(GP_TOKEN, VCS_TOKEN, verdict, "alice")
    first = service.link(event(amy(local=("gp", "1")), "r1"))
    second = service.link(event(amy(family="Smith", postcode="CM1 2AB", local=("vcs", "2")), "r2"))

    assert (first.person_id != second.person_id) is apart
    assert not service.store.reviews()  # decided already: never queued again
    rules = {entry["by"] for entry in service.store.history(first.person_id)}
    assert ("rule:human" in rules) is not apart
