"""The hub network routing reads: districts and their neighbours, hub areas and the postcodes in
each, sites, the services offered at each site (`Offer`) with eligibility, tier, sector, weekly
capacity and priority places, plus the needs vocabulary.

Two sources, each with its own job. The county's facts come from the county pack loaded with
`hubnet county load` (schemas/county.py): `network_from_pack` builds the network of one pack
version, with the services of the Open Referral UK directory the pack names (`services_from`)
placed by the pack's postcodes. What is the same for every county comes from `network.toml`: the
needs and the partner codes that mean them, safeguarding codes, working calendar and SLAs.
Immutable once built; the referral worker builds a new one when a new pack version is loaded
(services/referrals/current.py).
"""

from __future__ import annotations

import dataclasses
import tomllib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, time
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, model_validator

from schemas.county import CountyPack, GeographyField, Sector
from schemas.directory import Location, ServiceCatalogue, Tier
from schemas.directory import Service as DirectoryService
from schemas.errors import ConfigurationError
from services.county.geography import deciding_rules
from services.referrals.postcodes import normalise
from services.referrals.sla import WorkingCalendar

DEFAULT_CONFIG = Path(__file__).with_name("network.toml")
TIER_RANK: dict[str, int] = {"universal": 0, "targeted": 1, "specialist": 2}
PACK_SOURCE = "county pack"
DIRECTORY_SITE = "directory-location"


class _Strict(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class NeedConfig(_Strict):
    display: str
    codes: tuple[str, ...] = ()
    safeguarding: bool = False
    tier: Tier = "universal"


class OrukConfig(_Strict):
    default_capacity_per_week: int = Field(default=10, ge=0)
    statutory_organisations: tuple[str, ...] = ()
    needs: dict[str, str] = Field(default_factory=dict)


class CalendarConfig(_Strict):
    days: tuple[str, ...] = ("mon", "tue", "wed", "thu", "fri")
    opens: time = time(9)
    closes: time = time(17)
    timezone: str = "Europe/London"
    holidays: tuple[date, ...] = ()


class SlaConfig(_Strict):
    accept_working_hours: float = Field(default=16, gt=0)
    manager_working_hours: float = Field(default=8, gt=0)


class RoutingConfig(_Strict):
    safeguarding_codes: tuple[str, ...] = ()


class NetworkConfig(_Strict):
    """`network.toml`, checked whole: unknown keys and unknown needs are errors."""

    sla: SlaConfig = SlaConfig()
    calendar: CalendarConfig = CalendarConfig()
    routing: RoutingConfig = RoutingConfig()
    needs: dict[str, NeedConfig]
    oruk: OrukConfig = OrukConfig()

    @model_validator(mode="after")
    def _consistent(self) -> NetworkConfig:
        for need in self.oruk.needs.values():
            if need not in self.needs:
                raise ValueError(f"oruk.needs maps to an unknown need: {need}")
        return self


@dataclass(frozen=True)
class District:
    code: str
    name: str
    neighbours: tuple[str, ...] = ()  # district codes


@dataclass(frozen=True)
class Area:
    """A hub area: staff scopes name it, and a referral belongs to the hub area of its service (or,
    unrouted, of the family's home). In the demo county the hub areas are the districts."""

    area_id: str
    name: str
    districts: frozenset[str]


@dataclass(frozen=True)
class Home:
    """Where a postcode lies, as routing needs it: hub area, district and priority place."""

    area: str
    district: str
    priority: bool


@dataclass(frozen=True)
class Site:
    site_id: str
    name: str
    kind: str  # a schemas.county.SiteKind, or a directory location
    area: str  # hub area id
    districts: frozenset[str]  # its postcode's district; unlisted: every district of its hub area


@dataclass(frozen=True)
class Need:
    code: str
    display: str
    safeguarding: bool = False
    tier: str = "universal"


@dataclass(frozen=True)
class Offer:
    """One service delivered at one site: the unit routing chooses, and capacity is counted for."""

    offer_id: str
    service_id: str
    name: str
    site_id: str
    area: str
    districts: frozenset[str]
    needs: frozenset[str]
    sector: Sector
    tier: str
    min_age: int | None
    max_age: int | None
    send_max_age: int | None
    capacity_per_week: int
    priority_places: int = 0
    source: str = PACK_SOURCE

    def age_check(self, age: int | None, send: bool) -> str | None:
        """None when a person of `age` (with or without SEND) is eligible, else why not."""
        if self.min_age is None and self.max_age is None:
            return None
        if age is None:
            return "the child's age is not known and this service has an age range"
        if self.min_age is not None and age < self.min_age:
            return f"serves ages {self.min_age} and over"
        oldest = self.max_age
        if send and self.send_max_age is not None:
            oldest = max(oldest or 0, self.send_max_age)
        if oldest is not None and age > oldest:
            extension = f", {self.send_max_age} with SEND" if self.send_max_age is not None else ""
            return f"serves ages up to {self.max_age}{extension}"
        return None

    def places_for(self, used: int, priority_place: bool) -> int:
        """Places left this week for this family: places held for priority places count only for
        families who live in one."""
        held = 0 if priority_place else self.priority_places
        return max(self.capacity_per_week - held - used, 0)


@dataclass(frozen=True)
class Network:
    county: str  # the pack's id
    districts: Mapping[str, District]
    areas: Mapping[str, Area]
    homes: Mapping[str, Home]  # by normalised postcode
    sites: Mapping[str, Site]
    offers: tuple[Offer, ...]
    needs: Mapping[str, Need]
    calendar: WorkingCalendar
    sla: SlaConfig
    safeguarding_codes: frozenset[str]
    need_codes: Mapping[str, str] = field(default_factory=dict)
    by_need: Mapping[str, tuple[Offer, ...]] = field(default_factory=dict)
    by_id: Mapping[str, Offer] = field(default_factory=dict)

    def need_for(self, codes: Iterable[str]) -> Need | None:
        """The first of the codes that names a need (hub need codes and partner codes alike)."""
        for code in codes:
            need = self.need_codes.get(code)
            if need is not None:
                return self.needs[need]
        return None

    def offer(self, offer_id: str) -> Offer | None:
        return self.by_id.get(offer_id)

    def safeguarding(self, codes: Iterable[str]) -> bool:
        """A safeguarding concern: its need says so, or one of its codes is a safeguarding code."""
        codes = tuple(codes)
        need = self.need_for(codes)
        return bool(need and need.safeguarding) or bool(self.safeguarding_codes.intersection(codes))

    def home(self, postcode: str | None) -> Home | None:
        """Where a postcode lies, or None when the county pack does not list it: routing never
        guesses a hub area from an outward code."""
        return self.homes.get(normalise(postcode)) if postcode and postcode.strip() else None

    def area_name(self, area_id: str | None) -> str:
        area = self.areas.get(area_id or "")
        return area.name if area else "unknown hub area"


@dataclass(frozen=True)
class Places:
    """The county's geography as routing reads it: districts, hub areas, postcodes and sites."""

    county: str
    districts: Mapping[str, District]
    areas: Mapping[str, Area]
    homes: Mapping[str, Home]
    sites: Mapping[str, Site]


def assemble(config: NetworkConfig, places: Places, offers: Iterable[Offer]) -> Network:
    """The network with its indexes (offers by need and by id, partner codes to needs) built."""
    offers = tuple(offers)
    by_need: dict[str, list[Offer]] = {}
    for offer in offers:
        for need in offer.needs:
            by_need.setdefault(need, []).append(offer)
    need_codes = {code: name for name, need in config.needs.items() for code in (name, *need.codes)}
    return Network(
        county=places.county,
        districts=places.districts,
        areas=places.areas,
        homes=places.homes,
        sites=places.sites,
        offers=offers,
        needs={name: Need(name, n.display, n.safeguarding, n.tier) for name, n in config.needs.items()},
        calendar=WorkingCalendar(
            days=frozenset(config.calendar.days),
            opens=config.calendar.opens,
            closes=config.calendar.closes,
            holidays=frozenset(config.calendar.holidays),
            timezone=config.calendar.timezone,
        ),
        sla=config.sla,
        safeguarding_codes=frozenset(config.routing.safeguarding_codes),
        need_codes=need_codes,
        by_need={need: tuple(found) for need, found in by_need.items()},
        by_id={offer.offer_id: offer for offer in offers},
    )


def read_config(path: Path = DEFAULT_CONFIG) -> NetworkConfig:
    try:
        return NetworkConfig.model_validate(tomllib.loads(path.read_text()))
    except (OSError, tomllib.TOMLDecodeError, ValueError) as error:
        raise ConfigurationError(f"referral network config {path}: {error}") from None


def county_places(pack: CountyPack) -> Places:
    """Districts, hub areas (with the districts they lie in), every live postcode the pack places
    in a hub area, and the sites. A site's district is its postcode's; a site whose postcode the
    pack does not list counts as in every district of its hub area."""
    homes = {
        normalise(row.pcds): Home(rule.hub_area, row.laua, rule.priority_place)
        for row, rule in deciding_rules(pack)
    }
    areas = _areas(pack, homes.values())
    sites: dict[str, Site] = {}
    for site in pack.sites:
        at = homes.get(normalise(site.postcode))
        area = areas.get(site.hub_area)
        districts = frozenset({at.district}) if at else area.districts if area else frozenset()
        sites[site.id] = Site(site.id, site.name, site.kind.value, site.hub_area, districts)
    return Places(
        county=pack.manifest.id,
        districts={d.code: District(d.code, d.name, d.neighbours) for d in pack.districts},
        areas=areas,
        homes=homes,
        sites=sites,
    )


def _areas(pack: CountyPack, homes: Iterable[Home]) -> dict[str, Area]:
    """Each hub area with the districts it lies in: those its district rules name, and those of
    the postcodes placed in it (a ward or LSOA carved out of a district)."""
    in_districts: dict[str, set[str]] = {rule.hub_area: set() for rule in pack.hub_areas}
    for rule in pack.hub_areas:
        if rule.field is GeographyField.LAUA:
            in_districts[rule.hub_area].add(rule.code)
    for home in homes:
        in_districts[home.area].add(home.district)
    names = {rule.hub_area: rule.hub_area_name for rule in reversed(pack.hub_areas)}  # first row's name
    return {area: Area(area, names[area], frozenset(found)) for area, found in in_districts.items()}


def pack_offers(pack: CountyPack, config: NetworkConfig, sites: Mapping[str, Site]) -> list[Offer]:
    """Each row of the pack's `services.csv` as an offer at its site (needs outside the hub's
    vocabulary are left out: `hubnet county check` reports them)."""
    offers: list[Offer] = []
    for row in pack.services:
        site = sites.get(row.site)
        if site is None:  # `hubnet county check` refuses such a pack; an older version may hold one
            continue
        offers.append(
            Offer(
                offer_id=f"{row.id}@{row.site}",
                service_id=row.id,
                name=row.name,
                site_id=row.site,
                area=site.area,
                districts=site.districts,
                needs=frozenset(need for need in row.needs if need in config.needs),
                sector=row.sector,
                tier=row.tier,
                min_age=row.min_age,
                max_age=row.max_age,
                send_max_age=row.send_max_age,
                capacity_per_week=row.capacity,
                priority_places=row.priority_places,
            )
        )
    return offers


def directory_needs(service: DirectoryService, config: OrukConfig) -> frozenset[str]:
    """The hub needs a directory service meets: those its taxonomy codes map to (`[oruk.needs]`),
    plus send-support when the directory marks it as a SEND service."""
    needs = {config.needs[t.code] for t in service.taxonomy if t.code in config.needs}
    if service.send and "send-support" in config.needs.values():
        needs.add("send-support")
    return frozenset(needs)


def directory_home(location: Location, homes: Mapping[str, Home]) -> Home | None:
    """Where the pack places a directory location: by its postcode, never by a guess."""
    return homes.get(normalise(location.postcode)) if location.postcode else None


def directory_offers(
    catalogue: ServiceCatalogue, config: OrukConfig, homes: Mapping[str, Home]
) -> tuple[list[Offer], dict[str, Site]]:
    """Offers from an Open Referral UK catalogue: each active service at each of its locations
    whose postcode the county pack places in a hub area. Services with no need, and locations
    outside the county, are left out (routing cannot use them; `hubnet county check` reports them
    for a pack's own directory, services/county/directory.py)."""
    offers: list[Offer] = []
    sites: dict[str, Site] = {}
    for service in catalogue.services.values():
        needs = directory_needs(service, config)
        if service.status != "active" or not needs:
            continue
        for link in service.locations:
            location = catalogue.locations.get(link.location_id)
            home = directory_home(location, homes) if location else None
            if location is None or home is None:
                continue
            where = frozenset({home.district})
            sites[location.id] = Site(
                location.id, location.name or location.id, DIRECTORY_SITE, home.area, where
            )
            statutory = service.organisation_id in config.statutory_organisations
            offers.append(
                Offer(
                    offer_id=f"{service.id}@{location.id}",
                    service_id=service.id,
                    name=service.name,
                    site_id=location.id,
                    area=home.area,
                    districts=where,
                    needs=needs,
                    sector="statutory" if statutory else "voluntary",
                    tier=service.tier or "universal",
                    min_age=service.min_age,
                    max_age=service.max_age,
                    send_max_age=None,
                    capacity_per_week=(
                        config.default_capacity_per_week
                        if service.capacity_per_week is None
                        else service.capacity_per_week
                    ),
                    source="oruk",
                )
            )
    return offers, sites


def network_from_pack(pack: CountyPack, config: NetworkConfig) -> Network:
    """The hub network of one county pack: its `services.csv` rows and the services of the Open
    Referral UK directory it names (`services_from`), both placed by its own geography."""
    places = county_places(pack)
    offers = pack_offers(pack, config, places.sites)
    if pack.directory is not None:
        found, locations = directory_offers(pack.directory, config.oruk, places.homes)
        offers += found
        places = dataclasses.replace(places, sites={**places.sites, **locations})
    return assemble(config, places, offers)
