"""The county's claim map (services/web/claim_map.py): which rules decide a role, how areas and
services add up, and a bad file named by file, rule and field."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from schemas.errors import ConfigurationError
from services.core.settings import Settings
from services.timeline.policy import Role
from services.web.claim_map import ClaimMap, UnmappedError
from tests.unit.county.packs import PACKS_DIR

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


def test_the_map_is_read_from_a_county_pack_manifest_checked_with_its_pack(tmp_path: Path) -> None:
    pack = tmp_path / "london"
    shutil.copytree(PACKS_DIR / "london", pack)
    manifest = pack / "county.toml"
    plain = manifest.read_text()
    sign_in = "\n[sign_in]\n" + MAP.replace("[identity]", "[sign_in.identity]").replace(
        "[[rule]]", "[[sign_in.rule]]"
    )
    manifest.write_text(
        plain
        + sign_in.replace("E07000066", "southall")
        .replace("E07000070", "acton")
        .replace("family-support", "acton-family-support")
    )
    claims_map = ClaimMap.load(manifest)
    assert claims_map.principal({"upn": "a", "groups": ["north"]}).areas == ("southall",)
    sign_in = sign_in.replace("family-support", "acton-family-support")
    manifest.write_text(plain + sign_in.replace("E07000070", "acton"))  # a district code, no hub area
    with pytest.raises(ConfigurationError, match=r"county\.toml:\d+ sign_in\.rule\[2\]\.areas: E07000066"):
        ClaimMap.load(manifest)
    manifest.write_text(plain + '\n[sign_in]\nnote = "to do"\n')
    with pytest.raises(ConfigurationError, match=r"sign_in\.note: note is not read here"):
        ClaimMap.load(manifest)
    manifest.write_text(plain + "\n[sign_in]\nuserinfo = false\n")
    with pytest.raises(ConfigurationError, match=r"county\.toml: no \[\[rule\]\] entries"):
        ClaimMap.load(manifest)


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
        ("[[rule]]\nclaim = 'groups'\n", "claims.toml:1 rule[1].value: Field required"),
        (
            "[[rule]]\nclaim = 'g'\nvalue = 'v'\nrole = 'admin'\n",
            "claims.toml: rule[1].role: 'admin' is not a hubnet role",
        ),
        (
            "[[rule]]\nclaim = 'g'\nvalue = 'v'\nareas = 'E07000066'\n",
            "claims.toml:4 rule[1].areas: Input should be",
        ),
        ("[[rule]\n", "not valid TOML"),
        ("[[sign_in.rule]]\nclaim = 'g'\n", "claims.toml sign_in: read from a pack's county.toml only"),
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
    with pytest.raises(ConfigurationError, match=r"claims\.toml:1 userinfo: Input should be a valid boolean"):
        load(tmp_path, 'userinfo = "yes"\n' + CIS2_MAP)
