"""Checks across a county pack's tables: every code a row names must name something in the pack.

A row can be well-formed on its own and still wrong for the county: a neighbour that is not one of
its districts, a site in a hub area no rule defines, a service meeting a need the referral router
does not know (services/referrals/network.toml), a team with a role hubnet does not have, a
postcode no hub-area rule covers (its families would be in no hub area, so no staff would see
them). Each problem points at the row that names the missing thing.
"""

from __future__ import annotations

from typing import Protocol

from schemas.county import CountyPack, GeographyField
from services.referrals.network import read_config
from services.timeline.policy import Role

ALL_AREAS = "*"


class Reporter(Protocol):
    def at(self, name: str, index: int, field: str, message: str) -> None: ...


def cross_check(pack: CountyPack, report: Reporter) -> None:
    """Report every dangling reference and every postcode that maps to no hub area."""
    districts = {d.code for d in pack.districts}
    areas = {rule.hub_area for rule in pack.hub_areas}
    for index, district in enumerate(pack.districts):
        for neighbour in district.neighbours:
            if neighbour not in districts:
                report.at(
                    "districts.csv", index, "neighbours", f"{neighbour} is not a district in districts.csv"
                )
    for index, rule in enumerate(pack.hub_areas):
        if rule.field is GeographyField.LAUA and rule.code not in districts:
            report.at("hub-areas.csv", index, "code", f"{rule.code} is not a district in districts.csv")
    _check_network(pack, areas, report)
    _check_postcodes(pack, districts, report)


def _check_network(pack: CountyPack, areas: set[str], report: Reporter) -> None:
    """Sites in defined hub areas, services at listed sites meeting known needs, teams with real
    roles and areas."""
    sites = {site.id for site in pack.sites}
    for index, site in enumerate(pack.sites):
        if site.hub_area not in areas:
            report.at(
                "sites.csv", index, "hub_area", f"{site.hub_area} is defined by no row of hub-areas.csv"
            )
    needs = read_config().needs
    for index, service in enumerate(pack.services):
        if service.site not in sites:
            report.at("services.csv", index, "site", f"{service.site} is not a site in sites.csv")
        for need in service.needs:
            if need not in needs:
                report.at(
                    "services.csv", index, "needs", f"{need} is not a hub need ({', '.join(sorted(needs))})"
                )
    roles = {role.value for role in Role}
    for index, team in enumerate(pack.teams):
        if team.role not in roles:
            report.at(
                "teams.csv", index, "role", f"{team.role} is not a hubnet role ({', '.join(sorted(roles))})"
            )
        for area in team.hub_areas:
            if area != ALL_AREAS and area not in areas:
                report.at("teams.csv", index, "hub_areas", f"{area} is defined by no row of hub-areas.csv")


def _check_postcodes(pack: CountyPack, districts: set[str], report: Reporter) -> None:
    keyed = {(rule.field, rule.code) for rule in pack.hub_areas}
    for index, row in enumerate(pack.postcodes):
        if row.doterm:
            continue
        if row.laua not in districts:
            report.at("postcodes.csv", index, "laua", f"{row.laua} is not a district in districts.csv")
        elif not any((field, getattr(row, field.value)) in keyed for field in GeographyField):
            report.at(
                "postcodes.csv", index, "pcds", "no row of hub-areas.csv covers its laua, osward or lsoa21"
            )
