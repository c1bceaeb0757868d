"""The areas an OpenID sign-in grants are the county pack's hub areas, the unit the timeline gives
each family and the access policy compares (issue #22): over the London test pack (hub areas by
ward, ids such as `southall`, no district code among them), a county generated inside the pack and
projected with the pack deciding each family's hub area, a staff server whose claim map is the
pack's own `[sign_in]` (HUBNET_OIDC_CLAIM_MAP = its county.toml, checked with its pack), and the
real OpenID provider: a user the map gives one hub area opens exactly that area's families."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from services.timeline.users import UserStore
from tests.e2e.demo_county import County as PackCounty
from tests.e2e.demo_county import load
from tests.security.oidc_provider import Provider
from tests.security.oidc_signins import World, browser, oidc_world, sign_in_at_provider, world_user
from tests.security.oidc_signins import staff_app_provider as start_provider
from tests.security.staff_servers import County
from tests.unit.county.packs import PACKS_DIR

pytestmark = pytest.mark.security
LONDON = PACKS_DIR / "london"
ACCOUNTS = {
    "sue": {"name": "Sue Grant", "preferred_username": "sue@ealing.example", "groups": ["sg-hub-southall"]},
    "abe": {"name": "Abe Khan", "preferred_username": "abe@ealing.example", "groups": ["sg-hub-acton"]},
}
SIGN_IN = """
[[sign_in.rule]]
claim = "groups"
value = "sg-hub-southall"
role = "hub-practitioner"
areas = ["southall"]

[[sign_in.rule]]
claim = "groups"
value = "sg-hub-acton"
role = "hub-practitioner"
areas = ["acton"]
"""


@pytest.fixture(scope="module")
def provider() -> Iterator[tuple[str, Provider]]:
    yield from start_provider(ACCOUNTS)


@pytest.fixture(scope="module")
def london(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, str | None]]:
    """A county generated inside the London pack, projected with the pack's hub areas: the
    timeline store's file and each family's hub area."""
    folder = tmp_path_factory.mktemp("london-county")
    county = load(folder, PackCounty("london", LONDON))
    county.store.close()
    return folder / "timeline.sqlite", county.areas


@pytest.fixture
def world(
    tmp_path: Path, provider: tuple[str, Provider], london: tuple[Path, dict[str, str | None]]
) -> Iterator[World]:
    pack = tmp_path / "pack"
    shutil.copytree(LONDON, pack)
    manifest = pack / "county.toml"
    manifest.write_text(manifest.read_text(encoding="utf-8") + SIGN_IN, encoding="utf-8")
    UserStore.open(tmp_path / "users.sqlite").close()  # no local accounts: OpenID only
    county = County(london[0], tmp_path / "users.sqlite", tmp_path / "audit.sqlite")
    yield from oidc_world(
        tmp_path, provider, manifest, "openid profile hubnet", county=county, local_accounts=False
    )


@pytest.mark.parametrize(("login", "area"), [("sue", "southall"), ("abe", "acton")])
def test_a_user_mapped_to_one_london_hub_area_opens_exactly_that_areas_families(
    world: World, london: tuple[Path, dict[str, str | None]], login: str, area: str
) -> None:
    areas = london[1]
    theirs = {family for family, placed in areas.items() if placed == area}
    others = {family for family, placed in areas.items() if placed != area}
    assert theirs, f"the generated county placed no family in {area}: {areas}"
    assert {"southall", "acton"} <= set(areas.values()), f"both hub areas need families: {areas}"
    with browser(world.base) as client:
        sign_in_at_provider(client, login)
        assert world_user(world, client)["areas"] == [area]
        statuses = {family: client.get(f"/v1/families/{family}").status_code for family in areas}
    assert {family for family, status in statuses.items() if status == 200} == theirs
    assert {family for family, status in statuses.items() if status == 403} == others
