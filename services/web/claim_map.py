"""Who a signed-in OpenID user is in hubnet: the county's claim map, from ID token claims to a role,
hub areas and services.

Why a map and not claims named after hubnet: a county's identity provider already says who people
are (Entra ID security groups or app roles, CIS2 role codes and ODS organisation codes); asking it
to mint hubnet-specific claims means a change request per staff move. The map is data the county
writes. HUBNET_OIDC_CLAIM_MAP names a TOML file holding the rules at its top level, or the county
pack's manifest (county.toml), whose `[sign_in]` section holds them (`[[sign_in.rule]]`):

    [[rule]]
    claim = "groups"            # a claim of the ID token (a string or a list of strings)
    value = "6f1c...-hub-north" # matches when the claim is, or contains, this value
    role = "hub_worker"         # optional: the first matching rule with a role decides it
    areas = ["E07000066"]       # hub areas (district codes), added up over every matching rule
    services = ["family-support"]

Two switches at the top of the map serve NHS CIS2: `userinfo = true` adds the claims of the
provider's UserInfo endpoint to the ID token's (CIS2 gives RBAC roles only there), and
`national_rbac = true` has the rules read the role the person selected at sign-in
(`selected_role.role_code`, `selected_role.org_code`, ...; services/web/national_rbac.py).

A user whose claims give no role or no area is refused: when unsure, withhold and explain.
"""

from __future__ import annotations

import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from schemas.errors import ConfigurationError
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
        """The map in `path`; a problem is a `ConfigurationError` naming the file, rule and field."""
        try:
            data = tomllib.loads(path.read_text(encoding="utf-8"))
        except OSError as error:
            raise ConfigurationError(f"{path}: cannot read the claim map ({error.strerror})") from None
        except tomllib.TOMLDecodeError as error:
            raise ConfigurationError(f"{path}: not valid TOML ({error})") from None
        if isinstance(data.get("sign_in"), dict):
            return cls.parse(data["sign_in"], f"{path} [sign_in]")
        return cls.parse(data, str(path))

    @classmethod
    def parse(cls, data: Mapping[str, Any], where: str) -> ClaimMap:
        rules = data.get("rule")
        if not isinstance(rules, list) or not rules:
            raise ConfigurationError(f"{where}: no [[rule]] entries; add one per group, role or team code")
        identity = data.get("identity", {})
        return cls(
            tuple(_rule(item, f"{where}: rule {n}") for n, item in enumerate(rules, start=1)),
            str(identity.get("username_claim", "preferred_username")),
            str(identity.get("name_claim", "name")),
            _switch(data, "userinfo", where),
            _switch(data, "national_rbac", where),
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


def _switch(data: Mapping[str, Any], field: str, where: str) -> bool:
    value = data.get(field, False)
    if not isinstance(value, bool):
        raise ConfigurationError(f"{where}, {field}: true or false, e.g. {field} = true")
    return value


def _union(groups: Any) -> tuple[str, ...]:
    seen: dict[str, None] = {}
    for group in groups:
        seen.update(dict.fromkeys(group))
    return tuple(seen)


def _strings(item: Mapping[str, Any], field: str, where: str) -> tuple[str, ...]:
    value = item.get(field, [])
    if not isinstance(value, list) or not all(isinstance(v, str) and v for v in value):
        raise ConfigurationError(f'{where}, {field}: a list of codes, e.g. {field} = ["E07000066"]')
    return tuple(value)


def _rule(item: Any, where: str) -> Rule:
    if not isinstance(item, dict):
        raise ConfigurationError(f"{where}: a table with claim, value and what it grants")
    for field in ("claim", "value"):
        if not isinstance(item.get(field), str) or not item[field]:
            raise ConfigurationError(f"{where}, {field}: required (the claim's name and the value to match)")
    role = item.get("role")
    if role is not None and role not in {r.value for r in Role}:
        known = ", ".join(r.value for r in Role)
        raise ConfigurationError(f"{where}, role: {role!r} is not a hubnet role ({known})")
    return Rule(
        item["claim"], item["value"], Role(role) if role is not None else None,
        _strings(item, "areas", where), _strings(item, "services", where),
    )  # fmt: skip
