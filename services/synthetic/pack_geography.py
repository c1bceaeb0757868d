"""A county pack's geography as the generator's districts, places and sites (`hubnet generate --pack`).

The generator's own county is Essex-shaped (services/synthetic/geography.py). To test hubnet over
another county, families must live where that county's pack places them: every home is one of the
pack's live postcodes that a hub-area rule covers (a made-up postcode would be in no hub area, and
the family seen by county-wide staff only). So, read from the pack:

- a district per `districts.csv` row that has such a postcode, weighted by how many it has;
- a place per hub area within it (named after the hub area; priority and other postcodes of one
  hub area are two places), holding exactly the postcodes the pack's rules put there;
- the sites of `sites.csv`, each in the district of its postcode.

The pack names no hospital trust regions: districts take the Essex regions in turn, so a one-borough
county has one acute trust.
"""

from __future__ import annotations

from collections import defaultdict

from schemas.county import CountyPack
from schemas.errors import HubnetError
from services.county.geography import deciding_rules
from services.synthetic.geography import District, Place, Site

REGIONS = ("south", "north", "west")


class PackGeographyError(HubnetError):
    """The pack gives families nowhere to live; the message says what it lacks."""


def districts_of(pack: CountyPack) -> tuple[District, ...]:
    """The pack's districts that have a postcode in a hub area, in `districts.csv` order."""
    placed = _placed(pack)
    districts: list[District] = []
    for row in pack.districts:
        by_area = placed.get(row.code, {})
        places = tuple(
            Place(name, _outcodes(codes), len(codes), priority, tuple(sorted(codes)))
            for (name, priority), codes in by_area.items()
        )
        if places:
            region = REGIONS[len(districts) % len(REGIONS)]
            districts.append(
                District(row.code, row.name, sum(len(c) for c in by_area.values()), region, places)
            )
    if not districts:
        raise PackGeographyError(
            f"county pack {pack.manifest.id!r}: no district of districts.csv has a live postcode that a "
            "hub-areas.csv rule covers, so no family could live there; run `hubnet county check` on it"
        )
    return tuple(districts)


def sites_of(pack: CountyPack, districts: tuple[District, ...]) -> tuple[Site, ...]:
    """The pack's sites, each in the district (and place) of its postcode; a site whose postcode is
    not a placed one is in the first district with a place of its hub area."""
    rules = {rule.hub_area: rule.hub_area_name for rule in pack.hub_areas}
    homes = {code: (d, p) for d in districts for p in d.places for code in p.postcodes}
    sites = []
    for site in pack.sites:
        where = homes.get(site.postcode) or next(
            ((d, p) for d in districts for p in d.places if p.name == rules.get(site.hub_area)), None
        )
        if where is None:
            continue  # a site in no district families live in: nobody near it to attend
        hours = tuple(_slot(slot) for slot in site.hours)
        sites.append(
            Site(site.id, site.name, site.kind.value, where[0].name, where[1].name, site.postcode, hours)
        )
    if not sites:
        raise PackGeographyError(
            f"county pack {pack.manifest.id!r}: sites.csv has no site in a district families live in; "
            "add the family hubs (docs/county.md, sites.csv)"
        )
    return tuple(sites)


def _placed(pack: CountyPack) -> dict[str, dict[tuple[str, bool], list[str]]]:
    """District code -> (hub area name, priority place) of its live postcodes -> those postcodes."""
    placed: dict[str, dict[tuple[str, bool], list[str]]] = defaultdict(dict)
    for row, rule in deciding_rules(pack):
        placed[row.laua].setdefault((rule.hub_area_name, rule.priority_place), []).append(row.pcds)
    return placed


def _outcodes(postcodes: list[str]) -> tuple[str, ...]:
    return tuple(sorted({code.split()[0] for code in postcodes}))


def _slot(slot: str) -> tuple[str, str, str]:
    """`mon 09:00-17:00` (checked by the pack schema) as (day, opens, closes)."""
    day, span = slot.split()
    opens, closes = span.split("-")
    return day, opens, closes
