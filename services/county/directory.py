"""The Open Referral UK directory a county pack names in `services_from`: read and checked.

A county that keeps its services in an ORUK directory (HSDS 3.0 UK profile JSON or a zip of HSDS
CSV tables) names the file instead of, or as well as, writing `services.csv`. It is read by the
same importer as `hubnet directory import` (connectors/oruk), so each record is validated as
published (ids, ages and eligibility, statuses, service_at_locations, locations), and then checked
for what routing needs of it, with the routing's own mapping (services/referrals/network.py
`directory_needs`, `directory_home`): every active service meets a hub need through its taxonomy
codes (`[oruk.needs]` of network.toml), and every location it is delivered at lies at a postcode
the pack places in a hub area. A service routing could not use is a problem, not a silent gap: the
county believes the directory supplies it. Each problem names the file, the JSON path (or CSV row)
and what to do. Inactive services are listed in the directory only, so they are not checked.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

from connectors.base import Rejection
from connectors.oruk.catalogue import Kind
from connectors.oruk.importer import DirectoryImport, load_directory
from schemas.county import CountyPack
from schemas.directory import Service, ServiceCatalogue
from services.county.problems import Problem
from services.referrals.network import (
    Home,
    OrukConfig,
    county_places,
    directory_home,
    directory_needs,
    read_config,
)

Where = Mapping[tuple[Kind, str], str]


def read_directory(folder: Path, name: str) -> tuple[DirectoryImport, list[Problem]]:
    """The directory file `name` of the pack, and a problem for each record it refuses."""
    imported = load_directory((folder / name).read_bytes())
    problems = [_refused(name, rejection) for rejection in imported.rejections]
    if not imported.catalogue.services and not problems:
        problems.append(
            Problem(
                name, None, "", "holds no services: give the directory's services (a service list "
                "page, an array of services, or the HSDS CSV tables zipped)",
            )
        )  # fmt: skip
    return imported, problems


def _refused(name: str, rejection: Rejection) -> Problem:
    """A refused record as a pack problem: its path as the field, the reason without it."""
    where = rejection.location or rejection.record_ref or ""
    message = (
        rejection.reason.removeprefix(f"{rejection.location}: ") if rejection.location else rejection.reason
    )
    return Problem(
        name, None, where, f"{message}; refused: a pack loads its directory only with none refused"
    )


def check_directory(pack: CountyPack, name: str, where: Where) -> list[Problem]:
    """Every active service of the pack's directory that routing could not use, and why."""
    if pack.directory is None:
        return []
    config = read_config().oruk
    homes = county_places(pack).homes
    problems: list[Problem] = []
    for service in pack.directory.services.values():
        if service.status != "active":
            continue
        at = where.get(("service", service.id), f"service {service.id}")
        if not directory_needs(service, config):
            problems.append(Problem(name, None, at, _no_need(service, config)))
        if not service.locations:
            problems.append(
                Problem(
                    name, None, f"{at}.service_at_locations", f"service {service.id} is delivered at no "
                    "location: routing places a service by its location's postcode; add a "
                    "service_at_location with a physical address",
                )
            )  # fmt: skip
        for link in service.locations:
            reason = _unplaced(pack.directory, link.location_id, homes)
            if reason is not None:
                located = where.get(("location", link.location_id), f"{at}.service_at_locations")
                problems.append(Problem(name, None, located, f"service {service.id}: {reason}"))
        if service.locations and all(_online(pack.directory, link.location_id) for link in service.locations):
            problems.append(
                Problem(
                    name, None, f"{at}.service_at_locations", f"service {service.id} is delivered online "
                    "only (virtual locations): routing sends a family to a place, so it would never be "
                    "routed to; add the place it runs at, or mark it inactive",
                )
            )  # fmt: skip
    return problems


def _online(catalogue: ServiceCatalogue, location_id: str) -> bool:
    location = catalogue.locations.get(location_id)
    return location is not None and location.location_type == "virtual"


def _no_need(service: Service, config: OrukConfig) -> str:
    codes = ", ".join(sorted({t.code for t in service.taxonomy})) or "none"
    known = ", ".join(sorted(config.needs))
    return (
        f"service {service.id} meets no hub need: none of its taxonomy codes ({codes}) is mapped in "
        f"network.toml [oruk.needs] ({known}); give it one of those terms, map its code there, or "
        "mark it inactive"
    )


def _unplaced(catalogue: ServiceCatalogue, location_id: str, homes: Mapping[str, Home]) -> str | None:
    """Why routing cannot place the service at this location, or None when it can."""
    location = catalogue.locations.get(location_id)
    if location is None:
        return f"its location {location_id} is not in the directory: include the location record"
    if location.location_type == "virtual":
        return None  # delivered online as well: fine (one delivered online only is reported)
    if location.postcode is None:
        return (
            f"location {location_id} has no postcode: routing places a service by the postcode of its "
            "location; give it an address with postal_code"
        )
    if directory_home(location, homes) is None:
        return (
            f"location {location_id} is at {location.postcode}, which the pack places in no hub area: "
            "add its ONSPD row to postcodes.csv (covered by hub-areas.csv), or drop the location"
        )
    return None
