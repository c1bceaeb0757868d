"""Hub staff accounts keep the services each user works for: local accounts, OIDC claims (and the
trusted proxy's header), and the demo accounts `make run` creates."""

from __future__ import annotations

from pathlib import Path

from typer.testing import CliRunner

from services.cli.main import app
from services.cli.users import DEMO_SERVICES
from services.core.settings import Settings
from services.county.store import CountyStore
from services.timeline.policy import Role
from services.timeline.users import UserStore, principal_from_claims
from tests.unit.referrals.networks import demo_county_pack, demo_network

PASSWORD = "long enough password"


def test_a_local_account_keeps_its_services_through_sign_in() -> None:
    users = UserStore.open(":memory:")
    users.add(
        "hv", PASSWORD, Role.HEALTH_VISITOR, ["E07000076"], services=["infant-feeding", "talk-together@hub11"]
    )
    signed_in = users.authenticate("hv", PASSWORD)
    assert signed_in is not None
    assert signed_in.services == ("infant-feeding", "talk-together@hub11")
    assert users.get("hv") == signed_in
    users.add("hv", PASSWORD, Role.HEALTH_VISITOR, ["E07000076"])
    assert users.get("hv").services == ()  # type: ignore[union-attr]
    users.close()


def test_oidc_claims_give_services_as_a_list_or_words_and_none_when_absent() -> None:
    base = {"preferred_username": "u", "hubnet_role": "hub-practitioner", "hubnet_areas": "E07000076"}
    assert principal_from_claims({**base, "hubnet_services": "family-support food-bank"}).services == (
        "family-support",
        "food-bank",
    )
    assert principal_from_claims({**base, "hubnet_services": ["family-support"]}).services == (
        "family-support",
    )
    assert principal_from_claims(base).services == ()


def test_demo_accounts_are_assigned_to_services_of_the_demo_network(tmp_path: Path) -> None:
    result = CliRunner().invoke(app, ["users", "demo"], env={"HUBNET_DATA_DIR": str(tmp_path)})
    assert result.exit_code == 0, result.output
    network_services = {o.service_id for o in demo_network().offers}
    users = UserStore.from_settings(Settings(data_dir=tmp_path))
    for role in Role:
        account = users.get(role.value)
        assert account is not None
        assert account.services == DEMO_SERVICES.get(role, ())
        assert set(account.services) <= network_services, role
    assert users.get("school-staff").services == (), "school staff act on no service's referrals"  # type: ignore[union-attr]
    users.close()


def test_adding_an_account_warns_about_a_service_the_network_does_not_offer(tmp_path: Path) -> None:
    env = {"HUBNET_DATA_DIR": str(tmp_path)}
    args = ["users", "add", "u1", "--role", "hub-practitioner", "--area", "E07000076", "--password", PASSWORD]
    unchecked = CliRunner().invoke(app, [*args, "--service", "family-support"], env=env)
    assert unchecked.exit_code == 0, unchecked.output
    assert "no county pack is loaded, so the services were not checked" in unchecked.output
    county = CountyStore.in_data_dir(tmp_path)
    county.add(demo_county_pack(), loaded_by="test")
    county.close()
    typo = CliRunner().invoke(app, [*args, "--service", "family-suport"], env=env)
    assert typo.exit_code == 0, typo.output
    assert "'family-suport' is not a service" in typo.output
    known = CliRunner().invoke(
        app, [*args, "--service", "family-support", "--service", "talk-together@hub11"], env=env
    )
    assert known.exit_code == 0, known.output
    assert "warning" not in known.output
