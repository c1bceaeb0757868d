"""The pure router on the demo county's pack: need -> services -> eligibility -> home hub area, then
its district, then neighbouring districts -> capacity -> priority places, with consent and
safeguarding gates; every candidate explained. (tests/unit/referrals/test_pack_routing.py runs the
same decisions over the two test packs.)"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from datetime import date, datetime

import pytest

from services.consent.model import Authority, ConsentDecision
from services.referrals.network import Network
from services.referrals.request import PersonFacts
from services.referrals.routing import Ask, Outcome, age_on, route, week_of
from tests.unit.referrals.networks import demo_network
from tests.unit.referrals.support import CHELMSFORD, CLACTON, HARLOW, NOW

TENDRING, COLCHESTER, HARLOW_AREA = "E07000076", "E07000071", "E07000073"
BASILDON = "SS14 1AA"  # a priority place, in a district neighbouring Chelmsford


def consent_decision(decision_id: str, *, permit: bool) -> ConsentDecision:
    return ConsentDecision(
        decision_id, "person-1", ("fam-1",), "nhs-hv", permit, "nhs-hv", Authority.PARTNER, NOW
    )


GIVEN = consent_decision("c1", permit=True)


class Places:
    """Load double: places used per offer this week."""

    def __init__(self, used: dict[str, int] | None = None) -> None:
        self.taken = used or {}

    def used(self, offer_ids: Collection[str], week: str) -> Mapping[str, int]:
        return {o: self.taken[o] for o in offer_ids if o in self.taken}


@pytest.fixture(scope="module")
def network() -> Network:
    return demo_network()


def child(age: int, postcode: str = CLACTON, send: bool | None = None) -> PersonFacts:
    return PersonFacts(date(NOW.year - age, 1, 15), postcode, send)


def ask(
    code: str,
    person: PersonFacts,
    consent: ConsentDecision | None = None,
    tried: frozenset[str] = frozenset(),
) -> Ask:
    return Ask((code,), person, consent, tried)


def test_routes_to_the_home_hub_areas_family_hub(network: Network) -> None:
    decision = route(ask("early-help-referral", child(4)), network, Places(), NOW)
    assert decision.outcome is Outcome.ROUTED
    assert decision.offer is not None
    assert decision.offer.offer_id == "family-support@hub11"
    assert decision.offer.area == TENDRING
    assert decision.need == "family-support"
    assert decision.explanation()[0].startswith(
        "need Family support (early help), home hub area Tendring Family Hubs: routed to"
    )
    areas = {c.area for c in decision.candidates}
    assert "Colchester Family Hubs" in areas  # neighbours considered too
    assert areas <= {"Tendring Family Hubs", "Colchester Family Hubs"}


def test_send_young_person_of_22_goes_to_a_service_that_includes_them(network: Network) -> None:
    decision = route(ask("youth-work-referral", child(22, HARLOW, send=True)), network, Places(), NOW)
    assert decision.offer is not None
    assert decision.offer.service_id == "send-transitions"
    assert decision.offer.area == HARLOW_AREA
    youth = [c for c in decision.candidates if c.offer_id.startswith("youth-service@")]
    assert youth
    assert all(not c.kept and c.reason == "serves ages up to 18" for c in youth)


def test_without_send_a_22_year_old_is_not_eligible_and_goes_to_the_hub_manager(network: Network) -> None:
    decision = route(ask("youth-work-referral", child(22, HARLOW, send=False)), network, Places(), NOW)
    assert decision.outcome is Outcome.AWAITING_MANAGER
    assert all("serves ages up to 18" in c.reason for c in decision.candidates)


def test_capacity_exhausted_at_home_goes_to_the_neighbouring_district(network: Network) -> None:
    full = {o.offer_id: o.capacity_per_week for o in network.offers if o.area == TENDRING}
    decision = route(ask("early-help-referral", child(4)), network, Places(full), NOW)
    assert decision.offer is not None
    assert decision.offer.area == COLCHESTER
    home = [
        c
        for c in decision.candidates
        if c.area == "Tendring Family Hubs" and c.offer_id.startswith("family-support@")
    ]
    assert home
    assert all(c.reason.startswith("neighbouring district;") for c in decision.candidates if c.kept)
    assert all(c.reason.startswith("no places left this week") for c in home)


def test_places_held_for_priority_places_go_only_to_families_living_in_one(network: Network) -> None:
    offer = network.offer("family-support@hub05")  # Chelmsford's hub; Chelmsford is not a priority place
    assert offer is not None
    held = offer.priority_places
    assert held > 0
    full = {o.offer_id: o.capacity_per_week for o in network.offers}
    full[offer.offer_id] = offer.capacity_per_week - held  # only the held places are left
    outsider = route(ask("early-help-referral", child(4, CHELMSFORD), GIVEN), network, Places(full), NOW)
    assert outsider.outcome is Outcome.AWAITING_MANAGER
    chelmsford = next(c for c in outsider.candidates if c.offer_id == offer.offer_id)
    assert not chelmsford.kept
    assert chelmsford.reason == f"no places left this week (capacity 10, {held} held for priority places)"
    resident = route(ask("early-help-referral", child(4, BASILDON), GIVEN), network, Places(full), NOW)
    assert resident.offer == offer  # a neighbouring district's held place, for a priority-place family


def test_voluntary_sector_without_consent_is_held_with_a_reason(network: Network) -> None:
    decision = route(ask("foodbank-referral", child(6)), network, Places(), NOW)
    assert decision.outcome is Outcome.HELD
    assert decision.offer is None
    assert "held until the family's consent to share is recorded" in decision.reason
    assert all("consent to share is not recorded" in c.reason for c in decision.candidates)


def test_voluntary_sector_with_consent_is_routed(network: Network) -> None:
    decision = route(ask("foodbank-referral", child(6), GIVEN), network, Places(), NOW)
    assert decision.offer is not None
    assert decision.offer.sector == "voluntary"


def test_withdrawn_consent_holds_the_referral(network: Network) -> None:
    withdrawn = consent_decision("c2", permit=False)
    decision = route(ask("foodbank-referral", child(6), withdrawn), network, Places(), NOW)
    assert decision.outcome is Outcome.HELD
    assert "refused or withdrew consent" in decision.candidates[0].reason


def test_safeguarding_never_goes_to_the_voluntary_sector_even_with_consent(network: Network) -> None:
    decision = route(ask("safeguarding-concern", child(8)), network, Places(), NOW)
    assert decision.offer is not None
    assert decision.offer.sector == "statutory"
    assert decision.offer.tier == "specialist"
    # a family-support request coded as a safeguarding concern too: the charity is dropped
    coded = Ask(("early-help-referral", "child-protection-concern"), child(8), GIVEN)
    flagged = route(coded, network, Places(), NOW)
    charity = [c for c in flagged.candidates if c.offer_id.startswith("family-mentoring@")]
    assert charity
    assert all(
        c.reason == "a safeguarding concern is never sent to a voluntary-sector service" for c in charity
    )
    assert "safeguarding concern" in flagged.reason


def test_an_unknown_need_or_home_goes_to_the_hub_manager(network: Network) -> None:
    unknown_need = route(ask("hip-replacement", child(4)), network, Places(), NOW)
    assert unknown_need.outcome is Outcome.AWAITING_MANAGER
    assert "no hub need matches the request's codes (hip-replacement)" in unknown_need.reason
    no_home = route(ask("early-help-referral", PersonFacts(date(2021, 1, 1), None)), network, Places(), NOW)
    assert no_home.outcome is Outcome.AWAITING_MANAGER
    assert "hub area is not known (no postcode the county pack lists)" in no_home.reason
    elsewhere = route(ask("early-help-referral", child(4, "SW1A 1AA")), network, Places(), NOW)
    assert elsewhere.outcome is Outcome.AWAITING_MANAGER, "a postcode the pack does not list is never guessed"


def test_offers_already_tried_are_not_asked_again(network: Network) -> None:
    first = route(ask("early-help-referral", child(4)), network, Places(), NOW)
    assert first.offer is not None
    second = route(
        ask("early-help-referral", child(4), tried=frozenset({first.offer.offer_id})), network, Places(), NOW
    )
    assert second.offer is not None
    assert second.offer.offer_id != first.offer.offer_id
    assert any(c.reason == "already asked for this referral" for c in second.candidates)


def test_unknown_age_drops_services_with_an_age_range(network: Network) -> None:
    decision = route(ask("debt-advice", PersonFacts(None, CLACTON), GIVEN), network, Places(), NOW)
    assert decision.offer is not None  # money advice has no age range
    infant = route(ask("infant-feeding-referral", PersonFacts(None, CLACTON)), network, Places(), NOW)
    assert infant.outcome is Outcome.AWAITING_MANAGER
    assert "age is not known" in infant.candidates[0].reason


def test_decisions_are_deterministic(network: Network) -> None:
    one = route(ask("early-help-referral", child(4)), network, Places(), NOW)
    two = route(ask("early-help-referral", child(4)), network, Places(), NOW)
    assert one == two


def test_age_and_week_helpers(network: Network) -> None:
    assert age_on(date(2003, 3, 4), date(2025, 3, 3)) == 21
    assert age_on(date(2003, 3, 3), date(2025, 3, 3)) == 22
    assert age_on(None, date(2025, 3, 3)) is None
    assert week_of(datetime.fromisoformat("2025-03-03T09:00:00+00:00"), network) == "2025-W10"
