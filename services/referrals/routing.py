"""The router: a referral request + the hub network + current load -> a decision with its reasons.

Pure and deterministic (the same inputs give the same decision and explanation). Steps, each one
recorded per candidate in the explanation, in words (needs, services and sites by name), so staff
and families can see why:
1. need: the request's codes name a need (`network.toml` [needs]); none -> the hub manager's queue;
2. where: the family's postcode in the county pack gives its hub area, district and whether it is a
   priority place (a postcode the pack does not list -> the hub manager's queue); services in the
   home hub area first, then elsewhere in the same district, then in neighbouring districts
   (`districts.csv`); others are not considered;
3. services offering that need there, each checked in turn: not already tried for this referral,
   tier high enough for the need, age (and SEND extension), consent gate (voluntary sector; never
   for safeguarding), places left this week (places held for priority places count only for
   families living in one);
4. rank what is left: nearest first, closest tier, most places left, then offer id;
5. nothing left: held when only consent stands in the way, else the hub manager's queue.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass
from datetime import date, datetime
from enum import StrEnum
from typing import Protocol

from services.consent.model import ConsentDecision
from services.referrals.consent import gate
from services.referrals.network import TIER_RANK, Home, Network, Offer
from services.referrals.request import PersonFacts

NEARNESS = ("home hub area", "same district", "neighbouring district")
"""What each distance means, nearest first; a distance is an index into this."""


class Outcome(StrEnum):
    ROUTED = "routed"
    HELD = "held"
    AWAITING_MANAGER = "awaiting-manager"


class Load(Protocol):
    """Places already taken this week, per offer (the store counts them)."""

    def used(self, offer_ids: Collection[str], week: str) -> Mapping[str, int]: ...


@dataclass(frozen=True)
class Candidate:
    """One service at one site the router looked at, and why it was kept or dropped."""

    offer_id: str
    name: str
    site: str
    area: str
    kept: bool
    reason: str

    def line(self) -> str:
        verdict = "kept" if self.kept else "dropped"
        return f"{verdict} {self.name} at {self.site} ({self.area}): {self.reason}"


@dataclass(frozen=True)
class Decision:
    outcome: Outcome
    reason: str
    need: str | None = None
    home_area: str | None = None
    offer: Offer | None = None
    candidates: tuple[Candidate, ...] = ()

    def explanation(self) -> list[str]:
        """Plain-English lines: the summary first, then every candidate considered."""
        return [self.reason, *(c.line() for c in self.candidates)]


@dataclass(frozen=True)
class Ask:
    """The facts of one routing question; `tried` are offers this referral already went to."""

    codes: tuple[str, ...]
    person: PersonFacts
    consent: ConsentDecision | None
    tried: frozenset[str] = frozenset()


def week_of(moment: datetime, network: Network) -> str:
    """Capacity is per ISO week in the hub's time zone, e.g. `2025-W10`."""
    year, week, _ = moment.astimezone(network.calendar.zone).isocalendar()
    return f"{year}-W{week:02d}"


def age_on(born: date | None, day: date) -> int | None:
    if born is None:
        return None
    return day.year - born.year - ((day.month, day.day) < (born.month, born.day))


def route(ask: Ask, network: Network, load: Load, now: datetime) -> Decision:
    need = network.need_for(ask.codes)
    if need is None:
        shown = ", ".join(ask.codes[:5]) or "none"
        return Decision(Outcome.AWAITING_MANAGER, f"no hub need matches the request's codes ({shown})")
    home = network.home(ask.person.postcode)
    if home is None:
        return Decision(
            Outcome.AWAITING_MANAGER,
            f"need {need.display}: the family's hub area is not known (no postcode the county pack lists)",
            need=need.code,
        )
    nearby = [
        (o, d) for o in network.by_need.get(need.code, ()) if (d := nearness(o, home, network)) is not None
    ]
    distance = {offer.offer_id: d for offer, d in nearby}
    offers = [offer for offer, _ in nearby]
    week = week_of(now, network)
    used = load.used([o.offer_id for o in offers], week)
    safeguarding = need.safeguarding or network.safeguarding(ask.codes)
    age = age_on(ask.person.birth_date, now.date())
    priority = home.priority
    candidates: list[Candidate] = []
    ranked: list[tuple[tuple[int, int, int, str], Offer]] = []
    consent_only = False
    for offer in sorted(offers, key=lambda o: (distance[o.offer_id], o.offer_id)):
        left = offer.places_for(used.get(offer.offer_id, 0), priority)
        why, blocked_by_consent = _drop_reason(
            offer, ask, need_tier=need.tier, safeguarding=safeguarding, age=age, left=left, priority=priority
        )
        consent_only |= blocked_by_consent
        where = NEARNESS[distance[offer.offer_id]]
        reason = why or f"{where}; {left} of {offer.capacity_per_week} places left this week"
        site = _site_name(offer, network)
        candidates.append(
            Candidate(offer.offer_id, offer.name, site, network.area_name(offer.area), not why, reason)
        )
        if not why:
            tier_gap = TIER_RANK.get(offer.tier, 0) - TIER_RANK.get(need.tier, 0)
            ranked.append(((distance[offer.offer_id], tier_gap, -left, offer.offer_id), offer))
    found = f"need {need.display}, home hub area {network.area_name(home.area)}"
    if safeguarding:
        found += ", safeguarding concern"
    kept = len(ranked)
    if ranked:
        chosen = min(ranked, key=lambda item: item[0])[1]
        summary = (
            f"{found}: routed to {chosen.name} at {_site_name(chosen, network)}, best of {kept} eligible"
        )
        return Decision(Outcome.ROUTED, summary, need.code, home.area, chosen, tuple(candidates))
    if consent_only:
        summary = f"{found}: held until the family's consent to share is recorded"
        return Decision(Outcome.HELD, summary, need.code, home.area, None, tuple(candidates))
    summary = f"{found}: no eligible service with places in its hub area, district or neighbouring districts"
    return Decision(Outcome.AWAITING_MANAGER, summary, need.code, home.area, None, tuple(candidates))


def nearness(offer: Offer, home: Home, network: Network) -> int | None:
    """How near an offer is to a family's home (an index into `NEARNESS`); None: too far to consider."""
    if offer.area == home.area:
        return 0
    if home.district in offer.districts:
        return 1
    district = network.districts.get(home.district)
    if district is not None and offer.districts.intersection(district.neighbours):
        return 2
    return None


def _site_name(offer: Offer, network: Network) -> str:
    return network.sites[offer.site_id].name if offer.site_id in network.sites else offer.site_id


def _drop_reason(
    offer: Offer, ask: Ask, *, need_tier: str, safeguarding: bool, age: int | None, left: int, priority: bool
) -> tuple[str | None, bool]:
    """Why this offer cannot take the referral (None if it can), and whether consent alone is why."""
    if offer.offer_id in ask.tried:
        return "already asked for this referral", False
    if TIER_RANK.get(offer.tier, 0) < TIER_RANK.get(need_tier, 0):
        return f"{offer.tier} service, the need calls for {need_tier} support or above", False
    too_old_or_young = offer.age_check(age, bool(ask.person.send))
    if too_old_or_young:
        return too_old_or_young, False
    refused = gate(offer.sector, safeguarding, ask.consent)
    if refused:
        return refused, not safeguarding
    if left <= 0:
        held = "" if priority else f", {offer.priority_places} held for priority places"
        return f"no places left this week (capacity {offer.capacity_per_week}{held})", False
    return None, False
