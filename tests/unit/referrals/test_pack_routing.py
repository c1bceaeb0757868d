"""Routing decisions driven by the county pack, the same test functions over both test packs
(tests/data/county): Essex (three districts, hub areas by district with a ward carved out, delivery
sites) and London (one borough, hub areas by ward, no delivery sites). Each pack's case names its
own postcodes, codes and services; the rule under test is the same.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass
from datetime import date

import pytest

from services.referrals.access import staff_from_principal
from services.referrals.network import Home, Network
from services.referrals.request import PersonFacts
from services.referrals.routing import Ask, Candidate, Decision, Outcome, route
from services.timeline.policy import Role
from services.timeline.users import Principal
from tests.unit.county.packs import PACKS
from tests.unit.referrals.networks import pack_network
from tests.unit.referrals.support import NOW


@dataclass(frozen=True)
class Case:
    """One pack's facts for each rule: (postcode, partner code, offer the referral must reach)."""

    in_own_area: tuple[str, str, str]
    in_same_district: tuple[str, str, str]
    no_service_nearby: tuple[str, str]
    priority: tuple[str, str, str, str]  # offer, partner code, resident's postcode, outsider's postcode
    staff: tuple[str, str, str]  # hub area, service id, the one offer of it there


CASES = {
    "essex": Case(
        in_own_area=("CO4 5DE", "infant-feeding-referral", "greenstead-infant-feeding@greenstead-site"),
        in_same_district=("CO15 2QT", "parenting-course-referral", "clacton-parenting@clacton-hub"),
        no_service_nearby=("CM20 1AB", "parenting-course-referral"),
        priority=("colchester-stay-play@colchester-hub", "slcn", "CO1 1AB", "CO15 1AB"),
        staff=("tendring", "clacton-parenting", "clacton-parenting@clacton-hub"),
    ),
    "london": Case(
        in_own_area=("UB2 4DE", "slcn", "southall-speech@southall-hub"),
        in_same_district=("W5 2BY", "early-help-referral", "acton-family-support@acton-hub"),
        no_service_nearby=("W3 6RS", "send-referral"),  # the borough offers no SEND support
        priority=("southall-speech@southall-hub", "slcn", "UB1 1AB", "W3 6RS"),
        staff=("southall", "southall-speech", "southall-speech@southall-hub"),
    ),
}


class Used:
    """Load double: places already taken this week, per offer."""

    def __init__(self, taken: Mapping[str, int] | None = None) -> None:
        self.taken = dict(taken or {})

    def used(self, offer_ids: Collection[str], week: str) -> Mapping[str, int]:
        return {o: self.taken[o] for o in offer_ids if o in self.taken}


def child_at(postcode: str, age: int) -> PersonFacts:
    return PersonFacts(date(NOW.year - age, 1, 15), postcode)


def routed_to(
    network: Network, postcode: str, code: str, age: int, offer: str, *, load: Used | None = None
) -> tuple[Home, Decision, Candidate]:
    """Route a child of `age` at `postcode`, check it reached `offer`, and return the family's home,
    the decision and the chosen offer's line of the explanation."""
    decision = route(Ask((code,), child_at(postcode, age), None), network, load or Used(), NOW)
    assert decision.outcome is Outcome.ROUTED, decision.explanation()
    assert decision.offer is not None
    assert decision.offer.offer_id == offer
    home = network.home(postcode)
    assert home is not None
    return home, decision, next(c for c in decision.candidates if c.offer_id == offer)


@pytest.fixture(params=PACKS)
def pack(request: pytest.FixtureRequest) -> tuple[Network, Case]:
    name: str = request.param
    return pack_network(name), CASES[name]


def test_a_family_is_routed_to_a_service_in_its_own_hub_area(pack: tuple[Network, Case]) -> None:
    network, case = pack
    postcode, code, offer = case.in_own_area
    home, decision, kept = routed_to(network, postcode, code, 1, offer)
    assert decision.offer is not None
    assert decision.home_area == home.area == decision.offer.area
    assert kept.reason.startswith("home hub area;")


def test_with_none_in_its_hub_area_the_same_district_is_tried_next(pack: tuple[Network, Case]) -> None:
    network, case = pack
    postcode, code, offer = case.in_same_district
    home, decision, kept = routed_to(network, postcode, code, 4, offer)
    assert decision.offer is not None
    assert decision.offer.area != home.area
    assert home.district in decision.offer.districts
    assert kept.reason.startswith("same district;")


def test_with_no_service_near_enough_the_hub_manager_decides(pack: tuple[Network, Case]) -> None:
    """Essex: Harlow borders neither Colchester nor Tendring, where the service is; London: no
    service in the borough meets the need."""
    network, case = pack
    postcode, code = case.no_service_nearby
    decision = route(Ask((code,), child_at(postcode, 4), None), network, Used(), NOW)
    assert decision.outcome is Outcome.AWAITING_MANAGER
    assert decision.reason.endswith(
        "no eligible service with places in its hub area, district or neighbouring districts"
    )
    assert decision.candidates == ()


def test_a_postcode_the_pack_does_not_list_goes_to_the_hub_manager(pack: tuple[Network, Case]) -> None:
    network, case = pack
    _, code, _ = case.in_own_area
    for elsewhere in ("SW1A 1AA", "CO15 9ZZ", "UB1 9ZZ"):  # same outward codes as the packs' do not count
        decision = route(Ask((code,), child_at(elsewhere, 1), None), network, Used(), NOW)
        assert decision.outcome is Outcome.AWAITING_MANAGER
        assert "hub area is not known" in decision.reason


def test_places_kept_for_priority_places_go_only_to_families_living_in_one(
    pack: tuple[Network, Case],
) -> None:
    network, case = pack
    offer_id, code, resident, outsider = case.priority
    offer = network.offer(offer_id)
    assert offer is not None
    assert offer.priority_places > 0
    resident_home, outsider_home = network.home(resident), network.home(outsider)
    assert resident_home is not None
    assert resident_home.priority
    assert outsider_home is not None
    assert not outsider_home.priority
    full = Used({offer_id: offer.capacity_per_week - offer.priority_places})  # only the kept places left
    routed_to(network, resident, code, 3, offer_id, load=full)
    decision = route(Ask((code,), child_at(outsider, 3), None), network, full, NOW)
    dropped = next(c for c in decision.candidates if c.offer_id == offer_id)
    assert not dropped.kept
    assert dropped.reason == (
        f"no places left this week (capacity {offer.capacity_per_week}, "
        f"{offer.priority_places} held for priority places)"
    )


def test_staff_of_a_hub_area_work_only_at_its_sites(pack: tuple[Network, Case]) -> None:
    network, case = pack
    area, service, offer = case.staff
    worker = staff_from_principal(Principal("w", "W", Role.HUB_PRACTITIONER, (area,), (service,)), network)
    assert worker is not None
    assert worker.offers == (offer,)
    manager = staff_from_principal(Principal("m", "M", Role.HUB_MANAGER, ("*",)), network)
    assert manager is not None
    assert set(manager.districts) == set(network.areas)
