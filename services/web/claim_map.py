"""Who a signed-in OpenID user is in hubnet: the county's claim map, from ID token claims to a role,
hub areas and services.

Why a map and not claims named after hubnet: a county's identity provider already says who people
are (Entra ID security groups or app roles, CIS2 role codes and ODS organisation codes); asking it
to mint hubnet-specific claims means a change request per staff move. The map is data the county
writes. HUBNET_OIDC_CLAIM_MAP names the county pack's manifest (county.toml), whose `[sign_in]`
section holds the rules (`[[sign_in.rule]]`), or a TOML file holding the section's keys at its top
level. Either is read by the one schema `hubnet county check` uses (schemas/county.py `SignIn`,
services/county/pack.py `read_sign_in`); a pack's map is checked with its pack:

    [[rule]]
    claim = "groups"            # a claim of the ID token (a string or a list of strings)
    value = "6f1c...-hub-north" # matches when the claim is, or contains, this value
    role = "hub-practitioner"   # optional: the first matching rule with a role decides it
    areas = ["north"]           # hub area ids, added up over every matching rule
    services = ["family-support"]

Areas are hub-area ids of the county pack (hub-areas.csv `hub_area`, `*` county-wide): the unit the
timeline worker gives each family from the loaded pack and the access policy compares
(services/timeline/policy.py `family_access`). They equal district codes only where a pack keys
hub areas by district, as the Essex demo does.

Two switches at the top of the map serve NHS CIS2: `userinfo = true` adds the claims of the
provider's UserInfo endpoint to the ID token's (CIS2 gives RBAC roles only there), and
`national_rbac = true` has the rules read the role the person selected at sign-in
(`selected_role.role_code`, `selected_role.org_code`, ...; services/web/national_rbac.py).

A user whose claims give no role or no area is refused: when unsure, withhold and explain.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from schemas.county import SignIn, SignInRule
from schemas.errors import ConfigurationError
from services.county.pack import read_sign_in
from services.county.problems import PackError
from services.timeline.policy import Role
from services.timeline.users import Principal
from services.web.national_rbac import NoSelectedRoleError, selected_role_claims


class UnmappedError(Exception):
    """The provider vouched for the user but the county's map gives them no role or no area."""


@dataclass(frozen=True)
class Rule:
    claim: str
    value: str
    role: Role | None
    areas: tuple[str, ...]
    services: tuple[str, ...]

    def matches(self, claims: Mapping[str, Any]) -> bool:
        found = claims.get(self.claim)
        values = found if isinstance(found, list) else [found]
        return self.value in (str(item) for item in values if item is not None)


@dataclass(frozen=True)
class ClaimMap:
    rules: tuple[Rule, ...]
    username_claim: str = "preferred_username"
    name_claim: str = "name"
    userinfo: bool = False
    """Read the provider's UserInfo claims too (OidcClient.finish fetches them)."""
    national_rbac: bool = False
    """CIS2: rules read the selected national RBAC role, and a sign-in without one is refused."""

    @classmethod
    def load(cls, path: Path) -> ClaimMap:
        """The map in `path` (a pack's county.toml, checked with its pack, or a stand-alone map),
        read as `hubnet county check` reads it; a problem is a `ConfigurationError` listing each
        with its file, line and field."""
        try:
            section = read_sign_in(path)
        except PackError as error:
            listed = "\n".join(f"  {problem}" for problem in error.problems)
            raise ConfigurationError(
                f"{path}: the staff sign-in map (HUBNET_OIDC_CLAIM_MAP) has {len(error.problems)} "
                f"problem(s); `hubnet county check` lists a pack's:\n{listed}"
            ) from None
        return cls.of(section, f"{path}")

    @classmethod
    def of(cls, section: SignIn, where: str) -> ClaimMap:
        """The map a `[sign_in]` section holds; one without rules, or with a role hubnet does not
        have (a stand-alone map; a pack's is checked against hubnet's roles already), is refused."""
        if not section.rule:
            raise ConfigurationError(f"{where}: no [[rule]] entries; add one per group, role or team code")
        return cls(
            tuple(_rule(rule, f"{where}: rule[{n}]") for n, rule in enumerate(section.rule, start=1)),
            section.identity.username_claim,
            section.identity.name_claim,
            section.userinfo,
            section.national_rbac,
        )

    def principal(self, claims: Mapping[str, Any]) -> Principal:
        """The hubnet user these verified claims make, or `UnmappedError` saying what is missing."""
        if self.national_rbac:
            try:
                claims = selected_role_claims(claims)
            except NoSelectedRoleError as none:
                raise UnmappedError(str(none)) from None
        username = str(claims.get(self.username_claim) or claims.get("sub") or "")
        matched = [rule for rule in self.rules if rule.matches(claims)]
        role = next((rule.role for rule in matched if rule.role is not None), None)
        areas = _union(rule.areas for rule in matched)
        if role is None or not areas:
            raise UnmappedError(self._unmapped("a role" if role is None else "a hub area"))
        services = _union(rule.services for rule in matched)
        return Principal(username, str(claims.get(self.name_claim) or username), role, areas, services)

    def _unmapped(self, missing: str) -> str:
        if self.national_rbac:
            return (
                f"The role you selected is recognised by your organisation, but hubnet's county settings "
                f"give it {missing}. Sign in again and choose the role you hold at a Family Hub partner, "
                "or ask your Family Hub administrator to add this role to the claim map."
            )
        return (
            f"Your account is recognised by your organisation, but hubnet's county settings give it "
            f"{missing}. Ask your Family Hub administrator to add your group or team to the claim map."
        )


def _union(groups: Any) -> tuple[str, ...]:
    seen: dict[str, None] = {}
    for group in groups:
        seen.update(dict.fromkeys(group))
    return tuple(seen)


def _rule(rule: SignInRule, where: str) -> Rule:
    try:
        role = Role(rule.role) if rule.role is not None else None
    except ValueError:
        known = ", ".join(r.value for r in Role)
        raise ConfigurationError(f"{where}.role: {rule.role!r} is not a hubnet role ({known})") from None
    return Rule(rule.claim, rule.value, role, rule.areas, rule.services)
