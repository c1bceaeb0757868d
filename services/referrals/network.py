"""The hub network model routing reads: districts and their neighbours, sites (family hubs open
50 h/week, delivery sites 20-30 h/week, outreach), the services offered at each site (`Offer`), with
eligibility, tier, sector, weekly capacity and priority places, plus the needs vocabulary.

Built once at start-up by `load_network` from `network.toml` (services and capacity), the county's
sites (a generated `county.json`, or the synthetic county's layout) and optionally an Open Referral
UK catalogue (`services.referrals.directory`) and an ONS Postcode Directory file. Immutable after.
"""

from __future__ import annotations

import random
import tomllib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, time
from pathlib import Path
from typing import Any, Literal

import orjson
from pydantic import BaseModel, ConfigDict, Field, model_validator

from schemas.directory import ServiceCatalogue, Tier
from schemas.errors import ConfigurationError
from services.referrals.postcodes import PostcodeLookup, read_onspd, synthetic_county
from services.referrals.sla import WorkingCalendar
from services.synthetic import geography

DEFAULT_CONFIG = Path(__file__).with_name("network.toml")
Sector = Literal["statutory", "voluntary"]
SiteKind = Literal["family-hub", "library", "community-centre", "outreach", "directory-location"]
TIER_RANK: dict[str, int] = {"universal": 0, "targeted": 1, "specialist": 2}
OUTREACH = "outreach"
_SITES_SEED = "hubnet-referrals"  # any seed: site ids (HUBnn, HUBnn-S1...) do not depend on it


class _Strict(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class NeedConfig(_Strict):
    display: str
    codes: tuple[str, ...] = ()
    safeguarding: bool = False
    tier: Tier = "universal"


class ServiceConfig(_Strict):
    id: str = Field(pattern=r"^[a-z0-9-]+$")
    name: str
    needs: tuple[str, ...] = Field(min_length=1)
    sector: Sector
    tier: Tier
    min_age: int | None = Field(default=None, ge=0)
    max_age: int | None = Field(default=None, ge=0)
    send_max_age: int | None = Field(default=None, ge=0)
    capacity_per_week: int = Field(ge=0)
    priority_share: float = Field(default=0.0, ge=0, le=1)
    at: tuple[SiteKind, ...] = Field(min_length=1)


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
    """`network.toml`, checked whole: unknown keys, unknown needs and one-way neighbours are errors."""

    sla: SlaConfig = SlaConfig()
    calendar: CalendarConfig = CalendarConfig()
    routing: RoutingConfig = RoutingConfig()
    neighbours: dict[str, tuple[str, ...]] = Field(default_factory=dict)
    needs: dict[str, NeedConfig]
    services: tuple[ServiceConfig, ...] = ()
    oruk: OrukConfig = OrukConfig()

    @model_validator(mode="after")
    def _consistent(self) -> NetworkConfig:
        for service in self.services:
            unknown = set(service.needs) - set(self.needs)
            if unknown:
                raise ValueError(f"service {service.id} names unknown needs: {', '.join(sorted(unknown))}")
        for need in self.oruk.needs.values():
            if need not in self.needs:
                raise ValueError(f"oruk.needs maps to an unknown need: {need}")
        for name, others in self.neighbours.items():
            for other in others:
                if name not in self.neighbours.get(other, ()):
                    raise ValueError(f"neighbours: {name} lists {other}, but {other} does not list {name}")
        return self


@dataclass(frozen=True)
class District:
    code: str
    name: str
    neighbours: tuple[str, ...] = ()  # district codes


@dataclass(frozen=True)
class Site:
    site_id: str
    name: str
    kind: str  # a SiteKind
    district: str  # district code
    hours_per_week: int


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
    district: str
    needs: frozenset[str]
    sector: Sector
    tier: str
    min_age: int | None
    max_age: int | None
    send_max_age: int | None
    capacity_per_week: int
    priority_share: float = 0.0
    source: str = "network.toml"

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
        held = 0 if priority_place else round(self.capacity_per_week * self.priority_share)
        return max(self.capacity_per_week - held - used, 0)


@dataclass(frozen=True)
class Network:
    districts: Mapping[str, District]
    sites: Mapping[str, Site]
    offers: tuple[Offer, ...]
    needs: Mapping[str, Need]
    postcodes: PostcodeLookup
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

    def district_name(self, code: str | None) -> str:
        district = self.districts.get(code or "")
        return district.name if district else "unknown district"


def assemble(
    config: NetworkConfig,
    districts: Mapping[str, District],
    sites: Mapping[str, Site],
    offers: Iterable[Offer],
    postcodes: PostcodeLookup,
) -> Network:
    """The network with its indexes (offers by need and by id, partner codes to needs) built."""
    offers = tuple(offers)
    by_need: dict[str, list[Offer]] = {}
    for offer in offers:
        for need in offer.needs:
            by_need.setdefault(need, []).append(offer)
    need_codes = {code: name for name, need in config.needs.items() for code in (name, *need.codes)}
    return Network(
        districts=districts,
        sites=sites,
        offers=offers,
        needs={name: Need(name, n.display, n.safeguarding, n.tier) for name, n in config.needs.items()},
        postcodes=postcodes,
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


def county_sites(county: Mapping[str, Any] | None = None) -> dict[str, Site]:
    """Sites of a generated `county.json`, or of the synthetic county's layout; plus one outreach
    team per district, based at its family hub."""
    codes = {d.name: d.code for d in geography.DISTRICTS}
    if county is None:
        rows = [s.to_json() for s in geography.build_sites(random.Random(_SITES_SEED))]
    else:
        rows = [*county.get("family_hubs", []), *county.get("delivery_sites", [])]
    sites: dict[str, Site] = {}
    for row in rows:
        district = codes[row["district"]]
        sites[row["site_id"]] = Site(
            row["site_id"], row["name"], row["kind"], district, row["hours_per_week"]
        )
        if row["kind"] == "family-hub":
            team = f"{row['site_id']}-OUT"
            sites[team] = Site(team, f"{row['district']} outreach team", OUTREACH, district, 0)
    return sites


def county_districts(config: NetworkConfig) -> dict[str, District]:
    codes = {d.name: d.code for d in geography.DISTRICTS}
    unknown = set(config.neighbours) - set(codes)
    if unknown:
        raise ConfigurationError(f"neighbours names unknown districts: {', '.join(sorted(unknown))}")
    return {
        d.code: District(d.code, d.name, tuple(codes[n] for n in config.neighbours.get(d.name, ())))
        for d in geography.DISTRICTS
    }


def configured_offers(config: NetworkConfig, sites: Mapping[str, Site]) -> list[Offer]:
    """Each `[[services]]` entry at every site of the kinds it lists."""
    return [
        Offer(
            offer_id=f"{service.id}@{site.site_id}",
            service_id=service.id,
            name=service.name,
            site_id=site.site_id,
            district=site.district,
            needs=frozenset(service.needs),
            sector=service.sector,
            tier=service.tier,
            min_age=service.min_age,
            max_age=service.max_age,
            send_max_age=service.send_max_age,
            capacity_per_week=service.capacity_per_week,
            priority_share=service.priority_share,
        )
        for service in config.services
        for site in sites.values()
        if site.kind in service.at
    ]


def directory_offers(
    catalogue: ServiceCatalogue, config: OrukConfig, postcodes: PostcodeLookup
) -> tuple[list[Offer], dict[str, Site]]:
    """Offers from an Open Referral UK catalogue: each active service at each of its locations
    whose postcode lies in a known district. A service meets the needs its taxonomy codes map to
    (`[oruk.needs]`), plus send-support when the directory marks it as a SEND service; services
    with no need, and locations outside the county, are left out (routing cannot use them)."""
    offers: list[Offer] = []
    sites: dict[str, Site] = {}
    for service in catalogue.services.values():
        needs = {config.needs[t.code] for t in service.taxonomy if t.code in config.needs}
        if service.send and "send-support" in config.needs.values():
            needs.add("send-support")
        if service.status != "active" or not needs:
            continue
        for link in service.locations:
            location = catalogue.locations.get(link.location_id)
            district = postcodes.district(location.postcode) if location else None
            if location is None or district is None:
                continue
            sites[location.id] = Site(
                location.id, location.name or location.id, "directory-location", district, 0
            )
            statutory = service.organisation_id in config.statutory_organisations
            offers.append(
                Offer(
                    offer_id=f"{service.id}@{location.id}",
                    service_id=service.id,
                    name=service.name,
                    site_id=location.id,
                    district=district,
                    needs=frozenset(needs),
                    sector="statutory" if statutory else "voluntary",
                    tier=service.tier or "universal",
                    min_age=service.min_age,
                    max_age=service.max_age,
                    send_max_age=None,
                    capacity_per_week=config.default_capacity_per_week,
                    source="oruk",
                )
            )
    return offers, sites


def load_network(
    config_path: Path = DEFAULT_CONFIG,
    county_json: Path | None = None,
    catalogue: ServiceCatalogue | None = None,
    onspd_csv: Path | None = None,
) -> Network:
    """The network of the configured county, plus the services of a directory catalogue."""
    config = read_config(config_path)
    sites = county_sites(orjson.loads(county_json.read_bytes()) if county_json else None)
    postcodes = synthetic_county()
    if onspd_csv is not None:
        try:
            postcodes = postcodes.with_onspd(read_onspd(onspd_csv.read_bytes()))
        except (OSError, ValueError) as error:
            raise ConfigurationError(f"ONS postcode directory {onspd_csv}: {error}") from None
    offers = configured_offers(config, sites)
    if catalogue is not None:
        found, places = directory_offers(catalogue, config.oruk, postcodes)
        offers += found
        sites = {**sites, **places}
    return assemble(config, county_districts(config), sites, offers, postcodes)
