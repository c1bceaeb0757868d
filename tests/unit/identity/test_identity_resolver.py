"""Resolver, families, human decisions and replay on hand-made synthetic events (no broker)."""

from __future__ import annotations

from pathlib import Path

import pytest

from schemas.envelope import HubEvent
from schemas.event_types import EventType
from schemas.identifiers import NHS_NUMBER
from schemas.linked import LinkedEvent
from services.identity import decisions
from services.identity.service import IdentityService
from services.identity.store import IdentityStore
from tests.unit.identity.events import amy, event, nhs, person

AMY_NHS, SARAH_NHS, OTHER_NHS = nhs(1001), nhs(2002), nhs(3003)


def test_verified_nhs_number_then_demographics_then_local_id_are_one_person(service: IdentityService) -> None:
    first = service.link(event(amy(nhs_number=AMY_NHS, verified=True), "r1"))
    typo = service.link(event(amy(family="Jomes", local=("vcs", "C-1")), "r2"))
    again = service.link(event(person(local=("vcs", "C-1")), "r3"))
    assert first.person_id == typo.person_id == again.person_id


def test_a_redelivered_event_gets_the_same_answer_without_new_state(service: IdentityService) -> None:
    item = event(amy(nhs_number=AMY_NHS), "r1")
    first = service.link(item)
    counts = service.store.counts()
    assert service.link(item) == first
    assert service.store.counts() == counts


def test_replaying_the_same_events_gives_the_same_ids(tmp_path: Path) -> None:
    events = _story()
    runs = []
    for name in ("one", "two"):
        store = IdentityStore.open(tmp_path / f"{name}.sqlite")
        linked = [IdentityService(store).link(e) for e in events]
        runs.append([(x.person_id, x.family_ids, x.related_ids) for x in linked])
        store.close()
    assert runs[0] == runs[1]
    assert len({person for person, _, _ in runs[0]}) > 1


def test_two_people_with_verified_different_nhs_numbers_are_never_linked(service: IdentityService) -> None:
    a = service.link(event(amy(nhs_number=AMY_NHS, verified=True), "r1"))
    b = service.link(event(amy(nhs_number=OTHER_NHS, verified=True), "r2"))
    assert a.person_id != b.person_id
    # a social care record quoting both NHS numbers cannot merge them either
    both = amy(nhs_number=AMY_NHS, verified=True, local=("csc", "P1"))
    service.link(event(both, "r3"))
    service.link(event(amy(nhs_number=OTHER_NHS, verified=True, local=("csc", "P1")), "r4"))
    assert service.store.canonical(a.person_id) != service.store.canonical(b.person_id)
    assert service.store.verified_nhs(a.person_id) == {AMY_NHS}
    assert service.store.verified_nhs(b.person_id) == {OTHER_NHS}


def test_a_cross_reference_merges_two_persons_with_audit_and_a_notice(service: IdentityService) -> None:
    health = service.link(event(amy(nhs_number=AMY_NHS), "r1"))
    care = service.link(event(amy(given="Lily", local=("csc", "P9")), "r2"))  # twin-like: kept apart
    assert health.person_id != care.person_id
    quoted = service.link(event(amy(given="Lily", nhs_number=AMY_NHS, local=("csc", "P9")), "r3"))
    assert (
        service.store.canonical(care.person_id)
        == service.store.canonical(health.person_id)
        == quoted.person_id
    )
    merge = [h for h in service.store.history(health.person_id) if h["action"] == "merge"]
    assert merge[0]["by"] == "rule:nhs-number"
    ((_, key, value, headers),) = service.store.notices()
    notice = LinkedEvent.from_bytes(value)
    assert notice.event.event_type == EventType.HUB_PERSONS_MERGED
    assert {s.value for s in notice.event.subjects} == {health.person_id, care.person_id}
    assert key == notice.key
    assert ("person_id", health.person_id.encode()) in headers


def test_possible_match_is_queued_and_a_confirmation_merges(service: IdentityService) -> None:
    a = service.link(event(amy(local=("gp", "1")), "r1"))
    b = service.link(event(amy(family="Smith", postcode="CM1 2AB", local=("vcs", "2")), "r2"))
    assert a.person_id != b.person_id
    (review,) = service.store.reviews()
    assert review["score"]["family"][0] == "different"
    merge = decisions.confirm(service, review["review_id"], "alice", "same school and carer")
    assert merge is not None
    assert service.store.canonical(b.person_id) == service.store.canonical(a.person_id)
    assert service.store.history(a.person_id)[-1]["by"] == "user:alice"


def test_a_rejection_is_never_overturned_by_the_machine(service: IdentityService, tmp_path: Path) -> None:
    events = [
        event(amy(local=("gp", "1")), "r1"),
        event(amy(family="Smith", postcode="CM1 2AB", local=("vcs", "2")), "r2"),
    ]
    for item in events:
        service.link(item)
    (review,) = service.store.reviews()
    decisions.reject(service, review["review_id"], "alice", "different children")
    # a later record quoting both ids would merge them by rule; the human verdict stops it
    service.link(event(amy(local=("gp", "1")), "r3", partner="gp"))
    both = service.link(event(person(local=("vcs", "2")), "r4"))
    assert service.store.canonical(both.person_id) != service.store.canonical(review["candidate_id"])
    assert not service.store.reviews()


def test_unmerge_moves_records_to_a_new_person_and_stays_apart(service: IdentityService) -> None:
    a = service.link(event(amy(nhs_number=AMY_NHS), "r1"))
    service.link(event(amy(nhs_number=AMY_NHS, local=("csc", "P1")), "r2"))
    token = "https://hubnet.example.org/Id/local/csc/person|P1"
    unmerge = decisions.split(service, a.person_id, [token], "bob", "P1 is her cousin")
    assert service.store.persons_of([token])[token] == unmerge.absorbed != a.person_id
    later = service.link(event(person(local=("csc", "P1")), "r3"))
    assert later.person_id == unmerge.absorbed
    notice = LinkedEvent.from_bytes(service.store.notices()[-1][2])
    assert notice.event.event_type == EventType.HUB_PERSON_UNMERGED
    with pytest.raises(decisions.DecisionError):
        decisions.split(service, a.person_id, [f"{NHS_NUMBER}|{AMY_NHS}"], "bob", "nothing would stay")


def test_birth_notification_links_mother_and_baby_into_one_family(service: IdentityService) -> None:
    mother = person("Sarah", "Jones", "1990-04-11", "female", "CO15 1AB", nhs_number=SARAH_NHS, rid="m")
    baby = service.link(event(amy(nhs_number=AMY_NHS), "b1", mother, event_type=EventType.BIRTH_NOTIFICATION))
    (mother_id,) = baby.related_ids
    sarah = service.link(event(person("Sarah", "Jones", "1990-04-11", nhs_number=SARAH_NHS), "s1"))
    assert sarah.person_id == mother_id
    assert set(sarah.family_ids) == set(baby.family_ids)


def test_separated_parents_give_a_child_two_households(service: IdentityService) -> None:
    mum = person(
        "Sarah",
        "Jones",
        "1990-04-11",
        "female",
        "CO15 1AB",
        resource_type="RelatedPerson",
        relationship="MTH",
        rid="m",
    )
    dad = person(
        "Tom",
        "Price",
        "1988-01-20",
        "male",
        "CM1 2AB",
        resource_type="RelatedPerson",
        relationship="FTH",
        rid="d",
    )
    child = service.link(event(amy(nhs_number=AMY_NHS), "c1", mum, dad))
    assert len(child.family_ids) == 2
    families = {f for f, _ in service.store.memberships(child.related_ids[0])} | {
        f for f, _ in service.store.memberships(child.related_ids[1])
    }
    assert families == set(child.family_ids)


def test_parents_at_one_address_share_the_child_household(service: IdentityService) -> None:
    mum = person(
        "Sarah",
        "Jones",
        "1990-04-11",
        "female",
        "CO15 1AB",
        resource_type="RelatedPerson",
        relationship="MTH",
        rid="m",
    )
    dad = person(
        "Tom",
        "Jones",
        "1988-01-20",
        "male",
        "CO15 1AB",
        resource_type="RelatedPerson",
        relationship="FTH",
        rid="d",
    )
    child = service.link(event(amy(nhs_number=AMY_NHS), "c1", mum, dad))
    assert len(child.family_ids) == 1
    assert len(service.store.members(child.family_ids[0])) == 3


def test_a_social_care_family_id_links_and_co_residence_only_suggests(service: IdentityService) -> None:
    a = service.link(event(amy(local=("csc", "P1")), "r1", family_id="FAM-7"))
    b = service.link(
        event(
            person("Ben", "Jones", "2016-01-01", "male", "CO15 1AB", local=("csc", "P2")),
            "r2",
            family_id="FAM-7",
        )
    )
    assert a.family_ids == b.family_ids
    lodger = service.link(
        event(person("Kim", "Jones", "1970-03-03", "female", "CO15 1AB", local=("gp", "9")), "r3")
    )
    assert lodger.family_ids != a.family_ids
    assert (a.family_ids[0], lodger.person_id) in {(f, p) for f, p, _ in service.store.suggestions()}


def test_an_unverified_nhs_number_with_someone_elses_details_is_not_trusted(service: IdentityService) -> None:
    amy_linked = service.link(event(amy(nhs_number=AMY_NHS, verified=True), "r1"))
    sibling = service.link(
        event(person("Ben", "Patel", "2012-09-09", "male", "CM1 2AB", nhs_number=AMY_NHS), "r2")
    )
    assert sibling.person_id != amy_linked.person_id


def _story() -> list[HubEvent]:
    mother = person("Sarah", "Jones", "1990-04-11", "female", "CO15 1AB", nhs_number=SARAH_NHS, rid="m")
    return [
        event(amy(nhs_number=AMY_NHS), "b1", mother, event_type=EventType.BIRTH_NOTIFICATION),
        event(amy(family="Jomes", local=("vcs", "C1")), "v1"),
        event(amy(family="Smith", postcode="CM1 2AB", local=("vcs", "C2")), "v2"),
        event(
            person("Ben", "Jones", "2016-01-01", "male", "CO15 1AB", local=("csc", "P2")),
            "c1",
            family_id="F1",
        ),
        event(amy(nhs_number=AMY_NHS, local=("csc", "P3")), "c2", family_id="F1"),
    ]
