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


CIS2_MAP = """
national_rbac = true

[[rule]]
claim = "selected_role.role_code"
value = "R8001"
role = "health-visitor"

[[rule]]
claim = "selected_role.activity_codes"
value = "B0360"
areas = ["E07000066"]
"""


def cis2_role(roleid: str, code: str, activities: list[str]) -> dict[str, object]:
    return {"person_roleid": roleid, "org_code": "RDE", "role_code": code, "activity_codes": activities}


def test_national_rbac_reads_only_the_selected_role_and_a_job_role_code_within_its_path(
    tmp_path: Path,
) -> None:
    cis2 = load(tmp_path, CIS2_MAP)
    roles = [cis2_role("1", "S8000:G8000:R8001", ["B0360"]), cis2_role("2", "R8008", [])]
    who = cis2.principal({"sub": "s", "selected_roleid": "1", "nhsid_nrbac_roles": roles})
    assert (who.role, who.areas) == (Role.HEALTH_VISITOR, ("E07000066",))
    with pytest.raises(UnmappedError, match=r"The role you selected .* give it a role"):
        cis2.principal({"sub": "s", "selected_roleid": "2", "nhsid_nrbac_roles": roles})
    smuggled = {"selected_role.role_code": "R8001", "selected_role.activity_codes": ["B0360"]}
    with pytest.raises(UnmappedError, match="give it a role"):  # only the provider's role list counts
        cis2.principal({"sub": "s", "selected_roleid": "2", "nhsid_nrbac_roles": roles, **smuggled})
    with pytest.raises(UnmappedError, match="not among the roles"):
        cis2.principal({"sub": "s", "selected_roleid": "3", "nhsid_nrbac_roles": roles})
    with pytest.raises(UnmappedError, match="did not say which of your roles"):
        cis2.principal({"sub": "s", "nhsid_nrbac_roles": roles})


def test_the_userinfo_and_national_rbac_switches_are_true_or_false(tmp_path: Path) -> None:
    assert load(tmp_path, "userinfo = true\n" + CIS2_MAP).userinfo
    assert not load(tmp_path, MAP).userinfo
    with pytest.raises(ConfigurationError, match=r"claims\.toml, userinfo: true or false"):
        load(tmp_path, 'userinfo = "yes"\n' + CIS2_MAP)
