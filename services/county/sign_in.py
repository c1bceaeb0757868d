"""Checks of the pack's staff sign-in map (`[sign_in]` in county.toml) against the pack and hubnet.

Each rule is well-formed by its schema (schemas/county.py `SignInRule`); these checks catch what is
well-formed and still wrong, before a load rather than at someone's sign-in: a role hubnet does not
have, a hub area or service the pack does not define (the user would get nothing there, or the
county would believe they had), the same claim value mapped twice (services/web/claim_map.py takes
the role of the first matching rule, so a second role for it never applies), a rule that grants
nothing, a rule reading the CIS2 selected role (`selected_role.*`) in a map without
`national_rbac = true` (it would never match), and a map under which nobody could sign in at all
(no rule gives a role, or none an area).
"""

from __future__ import annotations

from typing import Protocol

from schemas.county import SELECTED_ROLE, CountyPack, SignInRule
from services.timeline.policy import COUNTY_WIDE, Role

Loc = tuple[str | int, ...]


class ManifestReporter(Protocol):
    def manifest_at(self, loc: Loc, message: str) -> None: ...


def check_sign_in(pack: CountyPack, report: ManifestReporter) -> None:
    """Report every rule naming what does not exist, repeating another, or granting nothing."""
    rules = pack.manifest.sign_in.rule
    if not rules:
        return
    roles = {role.value for role in Role}
    areas = {rule.hub_area for rule in pack.hub_areas} | {COUNTY_WIDE}
    offers = _offers(pack)
    first: dict[tuple[str, str], int] = {}
    for index, rule in enumerate(rules):
        at: Loc = ("sign_in", "rule", index)
        if rule.role is not None and rule.role not in roles:
            report.manifest_at(
                (*at, "role"), f"{rule.role} is not a hubnet role ({', '.join(sorted(roles))})"
            )
        for area in rule.areas:
            if area not in areas:
                report.manifest_at((*at, "areas"), f"{area} is defined by no row of hub-areas.csv")
        for service in rule.services:
            if service not in offers:
                report.manifest_at((*at, "services"), _unknown_service(service, pack))
        if not (rule.role or rule.areas or rule.services):
            report.manifest_at(at, "grants nothing: give it a role, areas or services")
        if rule.claim.startswith(SELECTED_ROLE) and not pack.manifest.sign_in.national_rbac:
            report.manifest_at(
                (*at, "claim"),
                f"{rule.claim} is the CIS2 selected role's, read only with national_rbac = true in "
                "[sign_in] (and userinfo = true for CIS2): add them, or the rule never matches",
            )
        earlier = first.setdefault((rule.claim, rule.value), index)
        if earlier != index:
            report.manifest_at(at, _repeat(rules[earlier], earlier, rule))
    for what, given in (("a role", any(r.role for r in rules)), ("a hub area", any(r.areas for r in rules))):
        if not given:
            report.manifest_at(("sign_in",), f"no rule gives {what}, so every sign-in would be refused")


def _offers(pack: CountyPack) -> set[str]:
    """Service ids and `service@site` offers of services.csv and of the Open Referral directory
    the pack names (`services_from`: its service ids, and `service@location` for each location)."""
    offers = {s.id for s in pack.services} | {f"{s.id}@{s.site}" for s in pack.services}
    if pack.directory is not None:
        for service in pack.directory.services.values():
            offers.add(service.id)
            offers.update(f"{service.id}@{link.location_id}" for link in service.locations)
    return offers


def _unknown_service(service: str, pack: CountyPack) -> str:
    """What a rule's service should name: an offer of services.csv, or of the pack's directory."""
    if pack.manifest.services_from:
        return (
            f"{service} is neither a service of services.csv (an id, or id@site) nor of "
            f"{pack.manifest.services_from} (an id, or id@location)"
        )
    return f"{service} is not a service of services.csv (an id, or id@site)"


def _repeat(earlier: SignInRule, number: int, rule: SignInRule) -> str:
    same = f"{rule.claim} = {rule.value!r} is mapped by rule[{number + 1}] already"
    if earlier.role and rule.role and earlier.role != rule.role:
        return (
            f"{same} to role {earlier.role}: the first matching rule with a role decides, so "
            f"{rule.role} never applies; keep one role for it"
        )
    return f"{same}: merge the two into one rule"
