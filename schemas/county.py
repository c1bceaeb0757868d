"""The county pack: every county-specific fact hubnet needs, as data a county prepares.

One folder, one file per kind of fact (docs/county.md says what each holds and where the county
finds it). These models are the documented schema: `schemas/json/county-pack.schema.json` is
exported from `CountyPack`, and `hubnet county check` validates each file row by row against the
row models below, so a problem is reported with its file, line and field. The tables are CSV
because councils keep them in spreadsheets; the manifest is TOML because it is short and nested.

Geography follows the ONS Postcode Directory (ONSPD) and National Statistics Postcode Lookup
(NSPL): a postcode (`pcds`) lies in a local authority district (`laua`), an electoral ward
(`osward`) and a 2021 LSOA (`lsoa21`); a hub area is assigned by any of those codes.
"""

from __future__ import annotations

import re
from enum import StrEnum
from typing import Annotated, Any, Literal

from pydantic import (
    AliasChoices,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    StrictBool,
    field_validator,
    model_validator,
)

from schemas.directory import ServiceCatalogue, Tier

GSS_CODE = r"^[EWSN]\d{8}$"
"""An ONS Government Statistical Service code: country letter and eight digits (E07000076)."""
PACK_ID = r"^[A-Za-z0-9][A-Za-z0-9-]{0,62}$"
_HOURS = re.compile(r"^(mon|tue|wed|thu|fri|sat|sun) ([01]\d|2[0-3]):([0-5]\d)-([01]\d|2[0-3]):([0-5]\d)$")
Sector = Literal["statutory", "voluntary"]
LIST_SEPARATOR = ";"
"""Cells holding several values (neighbours, hub areas, opening hours) separate them with `;`."""


class GeographyField(StrEnum):
    """The ONSPD/NSPL column a hub-area rule is keyed by, from the widest to the narrowest."""

    LAUA = "laua"
    OSWARD = "osward"
    LSOA21 = "lsoa21"


class SiteKind(StrEnum):
    FAMILY_HUB = "family-hub"
    DELIVERY_SITE = "delivery-site"
    OUTREACH = "outreach"


class _Row(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid", str_strip_whitespace=True)


def split_list(value: Any) -> Any:
    """A `;`-separated cell as a tuple of its non-empty parts; other values pass through."""
    if isinstance(value, str):
        return tuple(part.strip() for part in value.split(LIST_SEPARATOR) if part.strip())
    return value


Listed = Annotated[tuple[str, ...], BeforeValidator(split_list)]


class District(_Row):
    """`districts.csv`: a district (or locality) and the districts it borders, for routing nearby."""

    code: str = Field(pattern=GSS_CODE, description="ONS code of the local authority district (laua).")
    name: str = Field(min_length=1)
    neighbours: Listed = Field(default=(), description="Codes of bordering districts, `;`-separated.")


class HubAreaRule(_Row):
    """`hub-areas.csv`: every postcode whose `field` equals `code` belongs to `hub_area`.

    The narrowest matching rule wins (lsoa21 before osward before laua), so a county can assign
    whole districts and carve out single wards or LSOAs."""

    field: GeographyField
    code: str = Field(pattern=GSS_CODE)
    hub_area: str = Field(pattern=PACK_ID, description="The hub area's id, as staff scopes name it.")
    hub_area_name: str = Field(min_length=1)
    priority_place: bool = Field(default=False, description="Families here get priority places.")


class PostcodeRow(_Row):
    """`postcodes.csv`: rows of the ONSPD or NSPL CSV, cut to the county (other columns are ignored).

    ONSPD names the district and ward columns `oslaua` and `osward`, NSPL `laua` and `ward`: both read."""

    model_config = ConfigDict(frozen=True, extra="ignore", str_strip_whitespace=True)

    pcds: str = Field(
        pattern=r"^[A-Za-z]{1,2}\d[A-Za-z\d]? ?\d[A-Za-z]{2}$", description="Postcode, one space."
    )
    laua: str = Field(pattern=GSS_CODE, validation_alias=AliasChoices("laua", "oslaua"))
    osward: str = Field(pattern=GSS_CODE, validation_alias=AliasChoices("osward", "ward"))
    lsoa21: str = Field(pattern=GSS_CODE, validation_alias=AliasChoices("lsoa21", "lsoa21cd"))
    doterm: str = Field(default="", description="Date terminated (YYYYMM); terminated postcodes are skipped.")


class Site(_Row):
    """`sites.csv`: a family hub, delivery site or outreach venue and when it is open."""

    id: str = Field(pattern=PACK_ID)
    name: str = Field(min_length=1)
    kind: SiteKind
    hub_area: str = Field(pattern=PACK_ID)
    postcode: str = Field(pattern=r"^[A-Za-z]{1,2}\d[A-Za-z\d]? ?\d[A-Za-z]{2}$")
    hours: Listed = Field(
        default=(), description="Opening hours, `;`-separated, each `day HH:MM-HH:MM` (`mon 09:00-17:00`)."
    )

    @field_validator("hours")
    @classmethod
    def _well_formed_hours(cls, hours: tuple[str, ...]) -> tuple[str, ...]:
        for slot in hours:
            match = _HOURS.match(slot)
            if not match:
                raise ValueError(f"opening hours {slot!r}: write each as `mon 09:00-17:00`")
            opens, closes = match.group(2, 3), match.group(4, 5)
            if closes <= opens:
                raise ValueError(f"opening hours {slot!r}: closes before it opens")
        return hours


class Service(_Row):
    """`services.csv`: a service at a site, the needs it meets, who may use it, and how many places
    it has. The referral router (docs/referrals.md) sends a referral only to a service that lists
    the referral's need; a service with no needs is listed for staff but never routed to."""

    id: str = Field(pattern=PACK_ID)
    site: str = Field(pattern=PACK_ID, description="The `sites.csv` id where it runs.")
    name: str = Field(min_length=1)
    needs: Listed = Field(
        default=(),
        description="Hub needs it meets, `;`-separated (the needs of services/referrals/network.toml).",
    )
    sector: Sector = Field(
        default="statutory", description="`voluntary`: referrals reach it only with the family's consent."
    )
    tier: Tier = Field(default="universal", description="universal, targeted or specialist.")
    min_age: int | None = Field(default=None, ge=0, le=25, description="Youngest eligible age in years.")
    max_age: int | None = Field(default=None, ge=0, le=25, description="Oldest eligible age in years.")
    send_max_age: int | None = Field(
        default=None, ge=0, le=25, description="Oldest eligible age for a child or young person with SEND."
    )
    eligibility: str = Field(default="", description="Other criteria, in words staff read.")
    capacity: int = Field(ge=0, description="Places per week.")
    priority_places: int = Field(
        default=0, ge=0, description="Of `capacity`, places kept for families living in a priority place."
    )

    @model_validator(mode="after")
    def _consistent(self) -> Service:
        if self.min_age is not None and self.max_age is not None and self.max_age < self.min_age:
            raise ValueError("max_age is below min_age")
        if self.priority_places > self.capacity:
            raise ValueError("priority_places exceeds capacity")
        return self


class Team(_Row):
    """`teams.csv`: a staff team, the hubnet role its members hold and the hub areas it covers."""

    id: str = Field(pattern=PACK_ID)
    name: str = Field(min_length=1)
    role: str = Field(min_length=1, description="A hubnet staff role (services/timeline/policy.py `Role`).")
    hub_areas: Listed = Field(min_length=1, description="Hub area ids, `;`-separated, or `*` for all.")


Code = Annotated[str, Field(min_length=1)]
SELECTED_ROLE = "selected_role."
"""Claims of the NHS CIS2 role a person selected at sign-in are named `selected_role.<field>`
(services/web/national_rbac.py makes them; `hubnet county check` warns of a rule reading them in a
map without `national_rbac = true`): here, where the pack's schema and the sign-in path both read it."""


class SignInRule(BaseModel):
    """`[[sign_in.rule]]`: a user whose ID token `claim` is, or contains, `value` gets what it grants.

    Read by services/web/claim_map.py at sign-in; checked against the pack by `hubnet county check`
    (the role is hubnet's, the areas the pack's hub areas, the services the pack's services)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    claim: str = Field(
        min_length=1,
        description="A claim of the ID token or UserInfo (`groups`, `roles`; `selected_role.role_code` "
        "with national_rbac).",
    )
    value: str = Field(min_length=1, description="The value to match: a group id, role or ODS code.")
    role: str | None = Field(
        default=None, description="A hubnet staff role; the first matching rule with a role decides it."
    )
    areas: tuple[Code, ...] = Field(
        default=(), description="Hub area ids of the pack (`*` county-wide), added up over matching rules."
    )
    services: tuple[Code, ...] = Field(
        default=(), description="Service ids or `service@site` offers, added up over matching rules."
    )


class SignInIdentity(BaseModel):
    """`[sign_in.identity]`: which claims name the user (shown and audited)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    username_claim: str = Field(default="preferred_username", min_length=1)
    name_claim: str = Field(default="name", min_length=1)


class SignIn(BaseModel):
    """`[sign_in]`: the claim map from the county's OpenID provider to hubnet roles, hub areas and
    services. Empty when staff use local accounts only. The provider itself (issuer, client id,
    scopes) is set in HUBNET_OIDC_* settings, not here: a secret never travels in a pack."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    rule: tuple[SignInRule, ...] = ()
    identity: SignInIdentity = SignInIdentity()
    userinfo: StrictBool = Field(
        default=False, description="Read the provider's UserInfo claims too (NHS CIS2 gives its roles there)."
    )
    national_rbac: StrictBool = Field(
        default=False,
        description="NHS CIS2: rules read the role selected at sign-in (`selected_role.role_code`, "
        "`selected_role.org_code`, ...); a sign-in without a selected role is refused.",
    )


class Manifest(BaseModel):
    """`county.toml`: who the pack is for, its version, and where its optional parts are."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    id: str = Field(pattern=PACK_ID, description="Short id of the county (`essex`, `ealing`).")
    name: str = Field(min_length=1)
    version: str = Field(
        min_length=1, description="The county's own version label; each load is also numbered."
    )
    services_from: str | None = Field(
        default=None,
        description="An Open Referral UK directory file in the pack (JSON or zipped HSDS tables) whose "
        "services are routed to, as well as or instead of services.csv.",
    )
    reference: dict[str, str] = Field(
        default_factory=dict,
        description='Reference data files in the pack by kind (`etr = "reference/etr.csv"`), in their '
        "publishers' layouts: loaded with the pack (organisation and area names by code).",
    )
    sign_in: SignIn = Field(
        default=SignIn(), description="Staff sign-in: the OpenID Connect claim map (docs/county.md)."
    )


class CountyPack(BaseModel):
    """A whole pack as loaded: the manifest, every table, and the Open Referral UK directory that
    `services_from` names, as read when the pack was checked (so a pack version routes on the
    directory it was checked with, whatever happens to the file afterwards)."""

    model_config = ConfigDict(frozen=True)

    manifest: Manifest
    districts: tuple[District, ...]
    hub_areas: tuple[HubAreaRule, ...]
    postcodes: tuple[PostcodeRow, ...]
    sites: tuple[Site, ...]
    services: tuple[Service, ...] = ()
    teams: tuple[Team, ...] = ()
    directory: ServiceCatalogue | None = None
