"""The router: a referral request + the hub network + current load -> a decision with its reasons.

Pure and deterministic (the same inputs give the same decision and explanation). Steps, each one
recorded per candidate in the explanation, in words (needs, services and sites by name), so staff
and families can see why:
1. need: the request's codes name a need (`network.toml` [needs]); none -> the hub manager's queue;
2. where: the family's home district first, then its neighbouring districts (others not considered);
3. services offering that need there, each checked in turn: not already tried for this referral,
   tier high enough for the need, age (and SEND extension), consent gate (voluntary sector; never
   for safeguarding), places left this week (places held for priority places count only for
   families living in one);
4. rank what is left: home district first, closest tier, most places left, then offer id;
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
from services.referrals.network import TIER_RANK, Network, Offer
from services.referrals.request import PersonFacts


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
    district: str
    kept: bool
    reason: str

    def line(self) -> str:
        verdict = "kept" if self.kept else "dropped"
        return f"{verdict} {self.name} at {self.site} ({self.district}): {self.reason}"


@dataclass(frozen=True)
class Decision:
    outcome: Outcome
    reason: str
    need: str | None = None
    home_district: str | None = None
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
    home = network.postcodes.by_outcode.get(ask.person.outcode or "")
    if home is None or home not in network.districts:
        return Decision(
            Outcome.AWAITING_MANAGER,
            f"need {need.display}: the family's home district is not known (no usable postcode)",
            need=need.code,
        )
    neighbours = network.districts[home].neighbours
    distance = {home: 0, **dict.fromkeys(neighbours, 1)}
    offers = [o for o in network.by_need.get(need.code, ()) if o.district in distance]
    week = week_of(now, network)
    used = load.used([o.offer_id for o in offers], week)
    safeguarding = need.safeguarding or network.safeguarding(ask.codes)
    age = age_on(ask.person.birth_date, now.date())
    priority = ask.person.outcode in network.postcodes.priority_outcodes
    candidates: list[Candidate] = []
    ranked: list[tuple[tuple[int, int, int, str], Offer]] = []
    consent_only = False
    for offer in sorted(offers, key=lambda o: (distance[o.district], o.offer_id)):
        left = offer.places_for(used.get(offer.offer_id, 0), priority)
        why, blocked_by_consent = _drop_reason(
            offer, ask, need_tier=need.tier, safeguarding=safeguarding, age=age, left=left, priority=priority
        )
        consent_only |= blocked_by_consent
        where = "home district" if distance[offer.district] == 0 else "neighbouring district"
        reason = why or f"{where}; {left} of {offer.capacity_per_week} places left this week"
        site = _site_name(offer, network)
        candidates.append(
            Candidate(
                offer.offer_id, offer.name, site, network.district_name(offer.district), not why, reason
            )
        )
        if not why:
            tier_gap = TIER_RANK.get(offer.tier, 0) - TIER_RANK.get(need.tier, 0)
            ranked.append(((distance[offer.district], tier_gap, -left, offer.offer_id), offer))
    found = f"need {need.display}, home district {network.district_name(home)}"
    if safeguarding:
        found += ", safeguarding concern"
    kept = len(ranked)
    if ranked:
        chosen = min(ranked, key=lambda item: item[0])[1]
        summary = (
            f"{found}: routed to {chosen.name} at {_site_name(chosen, network)}, best of {kept} eligible"
        )
        return Decision(Outcome.ROUTED, summary, need.code, home, chosen, tuple(candidates))
    if consent_only:
        summary = f"{found}: held until the family's consent to share is recorded"
        return Decision(Outcome.HELD, summary, need.code, home, None, tuple(candidates))
    summary = f"{found}: no eligible service with places in the home or neighbouring districts"
    return Decision(Outcome.AWAITING_MANAGER, summary, need.code, home, None, tuple(candidates))


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
        held = (
            ""
            if priority
            else f", {round(offer.capacity_per_week * offer.priority_share)} held for priority places"
        )
        return f"no places left this week (capacity {offer.capacity_per_week}{held})", False
    return None, False
