"""Where the synthetic families live: the 12 Essex districts, their towns, Family Hubs and sites.

District and town names and postcode districts (outward codes) are public geography; every full
postcode is made up, but well-formed and of its district's pattern, so address matching and the
redaction rules meet realistic shapes. Priority places carry a need weight that raises the share
of families there who meet social care, food banks and early help, as the county's plans target.
"""

from __future__ import annotations

import random
import re
from dataclasses import dataclass
from typing import Any

POSTCODE_INWARD_LETTERS = "ABDEFGHJLNPQRSTUWXYZ"  # the inward code never uses C, I, K, M, O or V
WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat")


@dataclass(frozen=True)
class Place:
    """A town or area: its outward codes, whether it is a priority place, how many live there.
    `postcodes` lists the full postcodes of a place read from a county pack: families there live
    only at those (a made-up postcode would be in no hub area of the pack)."""

    name: str
    outcodes: tuple[str, ...]
    weight: float
    priority: bool = False
    postcodes: tuple[str, ...] = ()


@dataclass(frozen=True)
class District:
    """A district council area; `region` picks the acute hospital trust that serves it."""

    code: str
    name: str
    population: int
    region: str
    places: tuple[Place, ...]

    @property
    def outcodes(self) -> tuple[str, ...]:
        return tuple(code for place in self.places for code in place.outcodes)

    @property
    def postcode_pattern(self) -> str:
        """Regular expression every postcode in this district matches."""
        outward = "|".join(sorted(self.outcodes, key=len, reverse=True))
        return rf"^(?:{outward}) \d[{POSTCODE_INWARD_LETTERS}]{{2}}$"


def _p(name: str, outcodes: str, weight: float, priority: bool = False) -> Place:
    return Place(name, tuple(outcodes.split()), weight, priority)


DISTRICTS: tuple[District, ...] = (
    District("E07000066", "Basildon", 188_000, "south", (
        _p("Basildon", "SS13 SS14 SS15 SS16", 0.6, priority=True), _p("Wickford", "SS11 SS12", 0.2),
        _p("Billericay", "CM11 CM12", 0.2))),
    District("E07000067", "Braintree", 155_000, "north", (
        _p("Braintree", "CM7", 0.45), _p("Witham", "CM8", 0.3),
        _p("Halstead and rural Braintree", "CO9 CM77", 0.25, priority=True))),
    District("E07000068", "Brentwood", 77_000, "south", (
        _p("Brentwood", "CM14 CM15", 0.8), _p("Ingatestone", "CM4 CM13", 0.2))),
    District("E07000069", "Castle Point", 90_000, "south", (
        _p("Canvey Island", "SS8", 0.45, priority=True), _p("Benfleet", "SS7", 0.55))),
    District("E07000070", "Chelmsford", 181_000, "south", (
        _p("Chelmsford", "CM1 CM2", 0.8), _p("South Woodham Ferrers", "CM3", 0.2))),
    District("E07000071", "Colchester", 193_000, "north", (
        _p("Colchester", "CO1 CO2 CO3 CO4", 0.85, priority=True),
        _p("West Mersea and villages", "CO5 CO6", 0.15))),
    District("E07000072", "Epping Forest", 134_000, "west", (
        _p("Loughton", "IG10", 0.35), _p("Epping", "CM16", 0.25), _p("Waltham Abbey", "EN9", 0.25),
        _p("Ongar", "CM5", 0.15))),
    District("E07000073", "Harlow", 94_000, "west", (
        _p("Harlow", "CM17 CM18 CM19 CM20", 1.0, priority=True),)),
    District("E07000074", "Maldon", 66_000, "south", (
        _p("Maldon", "CM9", 0.7), _p("Burnham-on-Crouch", "CM0", 0.3))),
    District("E07000075", "Rochford", 88_000, "south", (
        _p("Rayleigh", "SS6", 0.45), _p("Hockley", "SS5", 0.25), _p("Rochford", "SS4", 0.3))),
    District("E07000076", "Tendring", 148_000, "north", (
        _p("Clacton-on-Sea", "CO15 CO16", 0.45, priority=True), _p("Jaywick", "CO15", 0.1, priority=True),
        _p("Harwich and Dovercourt", "CO12", 0.2, priority=True), _p("Frinton and Walton", "CO13 CO14", 0.15),
        _p("Manningtree", "CO11", 0.1))),
    District("E07000077", "Uttlesford", 92_000, "west", (
        _p("Saffron Walden", "CB10 CB11", 0.45), _p("Great Dunmow", "CM6", 0.35),
        _p("Stansted Mountfitchet", "CM24 CM22", 0.2))),
)  # fmt: skip


def district(name: str) -> District:
    """The district of that name; a `KeyError` names an unknown one."""
    for candidate in DISTRICTS:
        if candidate.name == name:
            return candidate
    raise KeyError(f"no district named {name!r}")


def postcode(rng: random.Random, place: Place) -> str:
    """One of a pack place's own postcodes, or a well-formed made-up postcode in one of the place's
    postcode districts."""
    if place.postcodes:
        return rng.choice(place.postcodes)
    letters = POSTCODE_INWARD_LETTERS
    return f"{rng.choice(place.outcodes)} {rng.randrange(10)}{rng.choice(letters)}{rng.choice(letters)}"


def postcode_in_district(code: str, where: District) -> bool:
    return re.fullmatch(where.postcode_pattern, code) is not None


@dataclass(frozen=True)
class Site:
    """A Family Hub or a delivery site (library, community centre) and its weekly opening hours."""

    site_id: str
    name: str
    kind: str
    district: str
    place: str
    postcode: str
    opening_hours: tuple[tuple[str, str, str], ...]

    @property
    def hours_per_week(self) -> int:
        return sum(int(closes[:2]) - int(opens[:2]) for _, opens, closes in self.opening_hours)

    def to_json(self) -> dict[str, Any]:
        return {
            "site_id": self.site_id,
            "name": self.name,
            "kind": self.kind,
            "district": self.district,
            "place": self.place,
            "postcode": self.postcode,
            "opening_hours": [{"day": d, "opens": o, "closes": c} for d, o, c in self.opening_hours],
            "hours_per_week": self.hours_per_week,
        }


# (days open, hours a day) giving 20-30 hours a week, as delivery sites run part-time sessions
_SITE_PATTERNS = ((4, 5), (5, 4), (3, 7), (4, 6), (5, 5), (4, 7), (5, 6))


def _site_hours(rng: random.Random) -> tuple[tuple[str, str, str], ...]:
    days, hours = rng.choice(_SITE_PATTERNS)
    opens = rng.choice((9, 10))
    first = rng.randrange(len(WEEKDAYS) - days + 1)
    return tuple(
        (day, f"{opens:02d}:00", f"{opens + hours:02d}:00") for day in WEEKDAYS[first : first + days]
    )


def build_sites(rng: random.Random, districts: tuple[District, ...] = DISTRICTS) -> tuple[Site, ...]:
    """One Family Hub per district (50 hours a week) and two or three delivery sites."""
    sites: list[Site] = []
    hub_hours = tuple((day, "08:00", "18:00") for day in WEEKDAYS[:5])
    for number, where in enumerate(districts, start=1):
        main = where.places[0]
        sites.append(
            Site(f"HUB{number:02d}", f"{where.name} Family Hub", "family-hub", where.name, main.name,
                 postcode(rng, main), hub_hours)
        )  # fmt: skip
        others = [*where.places[1:], main] if len(where.places) > 1 else [main, main]
        for index, place in enumerate(others[: 2 + rng.randrange(2)], start=1):
            kind, label = ("library", "Library") if index % 2 else ("community-centre", "Community Centre")
            sites.append(
                Site(f"HUB{number:02d}-S{index}", f"{place.name} {label}", kind, where.name, place.name,
                     postcode(rng, place), _site_hours(rng))
            )  # fmt: skip
    return tuple(sites)


def county_json(
    sites: tuple[Site, ...], districts: tuple[District, ...] = DISTRICTS, name: str = "Essex (synthetic)"
) -> dict[str, Any]:
    """Content of `county.json`: districts with their postcode patterns, sites, priority places."""
    return {
        "county": name,
        "la_code": "881",
        "districts": [
            {
                "code": d.code,
                "name": d.name,
                "population": d.population,
                "region": d.region,
                "postcode_pattern": d.postcode_pattern,
                "places": [
                    {"name": p.name, "outcodes": list(p.outcodes), "priority": p.priority} for p in d.places
                ],
            }
            for d in districts
        ],
        "family_hubs": [s.to_json() for s in sites if s.kind == "family-hub"],
        "delivery_sites": [s.to_json() for s in sites if s.kind != "family-hub"],
        "priority_places": [f"{p.name} ({d.name})" for d in districts for p in d.places if p.priority],
    }
