"""Households from relationship statements as the generated county now carries them: a social
care family id lands in the household the relationships made (one hub family, not two), and a
person who joins a household leaves the household of one they had meanwhile."""

from __future__ import annotations

from schemas.event_types import EventType
from services.identity.service import IdentityService
from tests.unit.identity.events import event, nhs, person

BABY, MUM, DAD, SISTER = nhs(4100), nhs(4200), nhs(4300), nhs(4400)
HOME = "CO15 1AB"


def _kin(given: str, born: str, sex: str, number: str, *, code: str, rid: str) -> dict[str, object]:
    return person(
        given,
        "Jones",
        born,
        sex,
        HOME,
        nhs_number=number,
        resource_type="RelatedPerson",
        relationship=code,
        rid=rid,
    )


def test_a_family_id_names_the_household_the_relationships_made(service: IdentityService) -> None:
    mum = person("Sarah", "Jones", "1990-04-11", "female", HOME, nhs_number=MUM, rid="m")
    baby = person("Amy", "Jones", "2024-05-02", "female", HOME, nhs_number=BABY)
    born = service.link(event(baby, "b1", mum, event_type=EventType.BIRTH_NOTIFICATION))
    (household,) = born.family_ids
    case = service.link(event(baby, "c1", family_id="FG1"))
    assert case.family_ids == (household,)
    sister = person("Lily", "Jones", "2018-02-03", "female", HOME, local=("la-csc", "P9"))
    assert service.link(event(sister, "c2", family_id="FG1")).family_ids == (household,)


def test_a_family_id_seen_first_takes_in_the_carers_named_later(service: IdentityService) -> None:
    baby = person("Amy", "Jones", "2024-05-02", "female", HOME, nhs_number=BABY)
    case = service.link(event(baby, "c1", family_id="FG1"))
    mother = service.link(event(person("Sarah", "Jones", "1990-04-11", "female", HOME, nhs_number=MUM), "g1"))
    assert mother.family_ids != case.family_ids  # a household of her own, until a relationship says
    nk1 = service.link(event(baby, "a1", _kin("Sarah", "1990-04-11", "female", MUM, code="MTH", rid="m")))
    assert nk1.family_ids == case.family_ids
    assert [f for f, _ in service.store.memberships(mother.person_id)] == list(case.family_ids)


def test_a_co_resident_carer_leaves_the_household_of_one_they_had(service: IdentityService) -> None:
    dad = service.link(event(person("Tom", "Jones", "1988-01-20", "male", HOME, nhs_number=DAD), "g1"))
    baby = person("Amy", "Jones", "2024-05-02", "female", HOME, nhs_number=BABY)
    mum = _kin("Sarah", "1990-04-11", "female", MUM, code="MTH", rid="m")
    child = service.link(event(baby, "a1", mum, _kin("Tom", "1988-01-20", "male", DAD, code="FTH", rid="d")))
    assert len(child.family_ids) == 1
    assert [f for f, _ in service.store.memberships(dad.person_id)] == list(child.family_ids)
    sister = person("Lily", "Jones", "2018-02-03", "female", HOME, nhs_number=SISTER)
    assert service.link(event(sister, "a2", mum)).family_ids == child.family_ids


def test_partners_at_one_address_share_a_household_and_apart_do_not(service: IdentityService) -> None:
    """A GP's next-of-kin RelatedPerson (v3 DOMPART) for an adult: a couple without children is
    one family; a partner named at an address the person never had stays in their own."""
    mum = service.link(event(person("Sarah", "Jones", "1990-04-11", "female", HOME, nhs_number=MUM), "g1"))
    tom = person(
        "Tom",
        "Jones",
        "1988-01-20",
        "male",
        HOME,
        nhs_number=DAD,
        resource_type="RelatedPerson",
        relationship="DOMPART",
        rid="t",
    )
    couple = service.link(
        event(person("Sarah", "Jones", "1990-04-11", "female", HOME, nhs_number=MUM), "g2", tom)
    )
    (partner_id,) = couple.related_ids
    assert couple.family_ids == mum.family_ids
    assert [f for f, _ in service.store.memberships(partner_id)] == list(couple.family_ids)
    away = person("Ann", "Hall", "1985-06-01", "female", "SS1 1AA", nhs_number=SISTER)
    elsewhere = person(
        "Tom",
        "Jones",
        "1988-01-20",
        "male",
        "CM1 9ZZ",
        nhs_number=DAD,
        resource_type="RelatedPerson",
        relationship="SPS",
        rid="t2",
    )
    apart = service.link(event(away, "g3", elsewhere))
    assert set(apart.family_ids).isdisjoint(couple.family_ids)
