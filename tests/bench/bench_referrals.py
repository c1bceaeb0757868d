"""Benchmark of referral routing: decisions/s with a directory of 1,000 services and 100,000 open
referrals in the store (capacity read from the store for every decision).

Prints two figures: the pure routing decision (need, district, eligibility, consent, capacity,
ranking, explanation), and the whole `ReferralService.handle` per new referral (duplicate check,
decision, store writes, BaRS Task + ServiceRequest validated and queued for fh.referrals).

Run: python tests/bench/bench_referrals.py
"""

from __future__ import annotations

import logging
import random
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

import structlog

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))  # the test support's synthetic events

from services.county.pack import read_pack
from services.referrals.lifecycle import Status
from services.referrals.network import Network, Offer, assemble, county_places, read_config
from services.referrals.request import PersonFacts
from services.referrals.routing import Ask, route, week_of
from services.referrals.service import ReferralService
from services.referrals.sla import ManualClock
from services.referrals.store import Referral, ReferralStore, stamp
from services.synthetic.geography import DISTRICTS
from tests.unit.referrals.networks import demo_pack
from tests.unit.referrals.support import NOW, referral

SERVICES = 1000
OPEN_REFERRALS = 100_000
DECISIONS = 5000
HANDLED = 2000
TIERS = ("universal", "targeted", "specialist")
POSTCODES = tuple(f"{outcode} 1AB" for d in DISTRICTS for outcode in d.outcodes)
"""One home in every postcode district of the demo county, listed in its county pack."""


def big_network(rng: random.Random) -> Network:
    """1,000 services spread over the sites of the demo county's pack, each meeting one or two needs."""
    config = read_config()
    with tempfile.TemporaryDirectory() as folder:
        places = county_places(read_pack(demo_pack(Path(folder), POSTCODES)))
    needs = sorted(config.needs)
    site_list = sorted(places.sites.values(), key=lambda s: s.site_id)
    offers = []
    for number in range(SERVICES):
        site = site_list[number % len(site_list)]
        low = rng.choice((0, 0, 5, 11))
        capacity = rng.randrange(5, 40)
        offers.append(
            Offer(
                offer_id=f"svc{number:04d}@{site.site_id}",
                service_id=f"svc{number:04d}",
                name=f"Service {number}",
                site_id=site.site_id,
                area=site.area,
                districts=site.districts,
                needs=frozenset(rng.sample(needs, rng.choice((1, 2)))),
                sector=rng.choice(("statutory", "statutory", "voluntary")),
                tier=rng.choice(TIERS),
                min_age=low,
                max_age=rng.choice((5, 18, 25)),
                send_max_age=rng.choice((None, 25)),
                capacity_per_week=capacity,
                priority_places=rng.choice((0, capacity // 5)),
            )
        )
    return assemble(config, places, offers)


def fill(store: ReferralStore, network: Network, rng: random.Random) -> None:
    """100,000 open referrals at random offers, and the places they take this week."""
    week = week_of(NOW, network)
    statuses = (Status.REQUESTED, Status.OPENED, Status.ACCEPTED, Status.IN_PROGRESS)
    taken: dict[str, int] = {}
    with store.transaction():
        for number in range(OPEN_REFERRALS):
            offer = rng.choice(network.offers)
            taken[offer.offer_id] = taken.get(offer.offer_id, 0) + 1
            store.save(
                Referral(
                    referral_id=f"open-{number}", source_event_id=f"e{number}", source_system="bench",
                    source_record_id=f"r{number}", referrer="bench", person_id=f"p{number}",
                    family_id=f"f{number}", need=next(iter(offer.needs)), status=rng.choice(statuses),
                    attempt=1, offer_id=offer.offer_id, district=offer.area,
                    home_district=offer.area, linked_to=None, reason="bench", sensitivity="N",
                    created_at=stamp(NOW), updated_at=stamp(NOW), accepted_at=None, completed_at=None,
                    escalated_at=None, seq=1, request={},
                )
            )  # fmt: skip
        for offer_id, used in taken.items():
            store.take_place(offer_id, week, min(used, 3))


def asks(network: Network, rng: random.Random) -> list[Ask]:
    codes = sorted(network.need_codes)
    return [
        Ask(
            codes=(rng.choice(codes),),
            person=PersonFacts(
                date(2025 - rng.randrange(0, 24), 6, 1), rng.choice(POSTCODES), rng.random() < 0.1
            ),
            consent=None,
        )
        for _ in range(DECISIONS)
    ]


def main() -> None:
    structlog.configure(wrapper_class=structlog.make_filtering_bound_logger(logging.WARNING))
    rng = random.Random(7)
    network = big_network(rng)
    with tempfile.TemporaryDirectory() as folder:
        store = ReferralStore.open(Path(folder) / "referrals.sqlite")
        started = time.perf_counter()
        fill(store, network, rng)
        print(f"setup: {len(network.offers)} services, {store.count_open():,} open referrals "
              f"({time.perf_counter() - started:.1f} s to load)")  # fmt: skip
        questions = asks(network, rng)
        best = float("inf")
        for _ in range(3):
            start = time.perf_counter()
            outcomes = [route(ask, network, store, NOW).outcome.value for ask in questions]
            best = min(best, time.perf_counter() - start)
        print(
            f"routing decisions: {DECISIONS:,} in {best * 1000:.0f} ms: {DECISIONS / best:,.0f} decisions/s, "
            f"{best / DECISIONS * 1e6:,.0f} µs per decision ({outcomes.count('routed')} routed)"
        )
        service = ReferralService(store, network, ManualClock(NOW))
        events = [
            referral(f"b{n}", rng.choice(sorted(network.need_codes)), serial=200_000 + n, family=f"bf{n}",
                     age=rng.randrange(0, 20), postcode=rng.choice(POSTCODES))
            for n in range(HANDLED)
        ]  # fmt: skip
        start = time.perf_counter()
        for event in events:
            service.handle(event)
        elapsed = time.perf_counter() - start
        print(
            f"handled referrals (decision + store + validated Task message): {HANDLED:,} in {elapsed:.2f} s: "
            f"{HANDLED / elapsed:,.0f} referrals/s, {elapsed / HANDLED * 1e6:,.0f} µs per referral"
        )
        store.close()


if __name__ == "__main__":
    main()
