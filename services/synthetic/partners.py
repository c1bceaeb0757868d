"""The partner organisations of the synthetic county and the formats each one sends.

Codes are made up but shaped like the real ones, so connectors and access rules meet realistic
values: NHS trust ODS codes (`R9S`), GP practice codes (`F89001`), the Essex LA number (`881`),
6-digit school URNs, 7-digit charity numbers. Which partner records an event follows from where
the family lives at the time (its district's GP practices, schools and hospital trust).
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any

from services.synthetic.geography import DISTRICTS, District

LA_CODE = "881"


@dataclass(frozen=True)
class Partner:
    """One sending organisation; `formats` are connector format names, `districts` what it serves."""

    code: str
    name: str
    kind: str
    formats: tuple[str, ...]
    districts: tuple[str, ...] = ()
    estab: str | None = None
    phase: str | None = None

    def to_json(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "code": self.code,
            "name": self.name,
            "kind": self.kind,
            "formats": list(self.formats),
            "districts": list(self.districts),
        }
        if self.estab:
            data.update(la=LA_CODE, estab=self.estab, phase=self.phase)
        return data


ALL = tuple(d.name for d in DISTRICTS)
TRUSTS = {
    "south": Partner("R9S", "South Essex Hospitals NHS Foundation Trust", "acute-trust", ("hl7v2",)),
    "north": Partner("R9N", "North Essex Hospitals NHS Foundation Trust", "acute-trust", ("hl7v2",)),
    "west": Partner("R9W", "West Essex Hospital NHS Trust", "acute-trust", ("hl7v2",)),
}
"""The acute trusts by region; `build_directory` gives each the districts of its region."""
COMMUNITY = Partner(
    "R9C",
    "Essex Child and Family Health Service",
    "community-health",
    ("hv-csv", "hl7v2", "fhir", "nems"),
    ALL,
)
MENTAL_HEALTH = Partner("R9M", "Essex Mental Health Support Service", "mental-health", (), ALL)
SOCIAL_CARE = Partner(
    LA_CODE, "Essex County Council Children and Families", "social-care", ("csc-events",), ALL
)
FOOD_BANK = Partner("1900101", "Essex Community Food Banks", "charity", ("vcs-json",), ALL)
ADVICE = Partner("1900202", "Essex Family Advice Line", "charity", ("vcs-json",), ALL)
HUB_SESSIONS = Partner("1900303", "Family Hub Stay and Play Partnership", "charity", ("vcs-csv",), ALL)
PARENTING = Partner("1900404", "Positive Parenting Essex", "charity", ("vcs-csv",), ALL)
RELATIONSHIPS = Partner("1900505", "Together Relationship Support", "charity", ("vcs-csv",), ALL)


@dataclass(frozen=True)
class Directory:
    """Every partner, and per district the GP practices, primary and secondary schools.
    `districts` names the county's districts: the county-wide partners serve all of them."""

    districts: tuple[str, ...]
    trusts: tuple[Partner, ...]
    gps: dict[str, tuple[Partner, ...]] = field(default_factory=dict)
    primaries: dict[str, tuple[Partner, ...]] = field(default_factory=dict)
    secondaries: dict[str, tuple[Partner, ...]] = field(default_factory=dict)

    def trust(self, district_name: str) -> Partner:
        return next(t for t in self.trusts if district_name in t.districts)

    def all(self) -> list[Partner]:
        county_wide = [COMMUNITY, MENTAL_HEALTH, SOCIAL_CARE]
        charities = [FOOD_BANK, ADVICE, HUB_SESSIONS, PARENTING, RELATIONSHIPS]
        local = [
            p
            for name in self.districts
            for p in (*self.gps[name], *self.primaries[name], *self.secondaries[name])
        ]
        everywhere = [replace(p, districts=self.districts) for p in county_wide]
        return [*self.trusts, *everywhere, *local, *(replace(p, districts=self.districts) for p in charities)]

    def by_code(self) -> dict[str, Partner]:
        return {p.code: p for p in self.all()}


GPS_PER_DISTRICT = 2
PRIMARIES_PER_DISTRICT = 4


def build_directory(districts: tuple[District, ...] = DISTRICTS) -> Directory:
    """The fixed partner list of the county's districts: the same for every seed, so partner codes
    are stable across runs. An acute trust serves the districts of its region; a region with no
    district has no trust."""
    trusts = tuple(
        replace(trust, districts=served)
        for region, trust in TRUSTS.items()
        if (served := tuple(d.name for d in districts if d.region == region))
    )
    gps: dict[str, tuple[Partner, ...]] = {}
    primaries: dict[str, tuple[Partner, ...]] = {}
    secondaries: dict[str, tuple[Partner, ...]] = {}
    for number, where in enumerate(districts):
        gps[where.name] = tuple(
            Partner(
                f"F89{number * GPS_PER_DISTRICT + k + 1:03d}",
                f"{place.name} Medical Practice",
                "gp-practice",
                ("fhir",),
                (where.name,),
            )
            for k, place in enumerate((where.places * 2)[:GPS_PER_DISTRICT])
        )
        primaries[where.name] = tuple(
            Partner(
                f"99{number:02d}{k + 1:02d}",
                f"{place.name} Primary School {k + 1}",
                "school",
                ("ctf", "attendance-csv"),
                (where.name,),
                estab=f"{2000 + number * 10 + k + 1}",
                phase="primary",
            )
            for k, place in enumerate((where.places * PRIMARIES_PER_DISTRICT)[:PRIMARIES_PER_DISTRICT])
        )
        secondaries[where.name] = (
            Partner(
                f"99{number:02d}50",
                f"{where.places[0].name} Academy",
                "school",
                ("ctf", "attendance-csv"),
                (where.name,),
                estab=f"{4000 + number + 1}",
                phase="secondary",
            ),
        )
    return Directory(tuple(d.name for d in districts), trusts, gps, primaries, secondaries)


def partners_json(directory: Directory) -> list[dict[str, Any]]:
    """Content of `partners.json`."""
    return [p.to_json() for p in directory.all()]
