"""The county's claim map (services/web/claim_map.py): which rules decide a role, how areas and
services add up, and a bad file named by file, rule and field."""

from __future__ import annotations

from pathlib import Path

import pytest

from schemas.errors import ConfigurationError
from services.core.settings import Settings
from services.timeline.policy import Role
from services.web.claim_map import ClaimMap, UnmappedError

MAP = """
[identity]
username_claim = "upn"

[[rule]]
claim = "roles"
value = "HubManager"
role = "hub-manager"

[[rule]]
claim = "groups"
value = "north"
role = "hub-practitioner"
areas = ["E07000066"]

[[rule]]
claim = "groups"
value = "south"
areas = ["E07000070"]
services = ["family-support"]
"""


def load(tmp_path: Path, text: str) -> ClaimMap:
    path = tmp_path / "claims.toml"
    path.write_text(text)
    return ClaimMap.load(path)


def test_the_first_matching_rule_with_a_role_decides_it_and_areas_and_services_add_up(tmp_path: Path) -> None:
    claims = {"upn": "kim@county.example", "roles": ["HubManager"], "groups": ["north", "south"]}
    who = load(tmp_path, MAP).principal(claims)
    assert (who.username, who.role) == ("kim@county.example", Role.HUB_MANAGER)
    assert who.areas == ("E07000066", "E07000070")
    assert who.services == ("family-support",)


def test_the_map_is_read_from_a_county_pack_manifest_sign_in_section(tmp_path: Path) -> None:
    manifest = 'id = "ealing"\nname = "Ealing"\n\n[sign_in]\n' + MAP.replace(
        "[identity]", "[sign_in.identity]"
    )
    claims_map = load(tmp_path, manifest.replace("[[rule]]", "[[sign_in.rule]]"))
    assert claims_map.principal({"upn": "a", "groups": ["north"]}).areas == ("E07000066",)
    with pytest.raises(ConfigurationError, match=r"claims\.toml \[sign_in\]: no \[\[rule\]\] entries"):
        load(tmp_path, 'id = "ealing"\n\n[sign_in]\nnote = "to do"\n')


def test_a_single_string_claim_matches_as_a_one_item_list(tmp_path: Path) -> None:
    assert load(tmp_path, MAP).principal({"upn": "a", "groups": "north"}).role is Role.HUB_PRACTITIONER


@pytest.mark.parametrize(
    ("claims", "missing"),
    [({"groups": ["south"]}, "a role"), ({"roles": ["HubManager"]}, "a hub area"), ({}, "a role")],
)
def test_a_user_without_a_role_or_an_area_is_unmapped_and_told_what_is_missing(
    tmp_path: Path, claims: dict[str, object], missing: str
) -> None:
    with pytest.raises(UnmappedError, match=missing):
        load(tmp_path, MAP).principal({"upn": "x", **claims})


@pytest.mark.parametrize(
    ("text", "where"),
    [
        ("", "no [[rule]] entries"),
        ("[[rule]]\nclaim = 'groups'\n", "rule 1, value: required"),
        (
            "[[rule]]\nclaim = 'g'\nvalue = 'v'\nrole = 'admin'\n",
            "rule 1, role: 'admin' is not a hubnet role",
        ),
        ("[[rule]]\nclaim = 'g'\nvalue = 'v'\nareas = 'E07000066'\n", "rule 1, areas: a list of codes"),
        ("[[rule]\n", "not valid TOML"),
    ],
)
def test_a_bad_claim_map_names_the_file_rule_and_field(tmp_path: Path, text: str, where: str) -> None:
    with pytest.raises(ConfigurationError, match=r"claims\.toml") as raised:
        load(tmp_path, text)
    assert where in str(raised.value)


def test_an_issuer_without_client_redirect_or_claim_map_is_refused_naming_what_to_set() -> None:
    with pytest.raises(
        ValueError, match="HUBNET_OIDC_CLIENT_ID, HUBNET_OIDC_REDIRECT_URL, HUBNET_OIDC_CLAIM_MAP"
    ):
        Settings(oidc_issuer="https://login.example/tenant/v2.0")
