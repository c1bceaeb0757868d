"""`hubnet referrals list|show` act as a named staff account and show exactly what the staff UI's
referral pages would show it (services/referrals/access.py, #20, trust rule), through the real
`hubnet` entry point (Typer) against a real referral store, user store, loaded county pack and
audit store in a data dir:

- staff of the receiving service and the hub manager of its district see a referral, its routing
  reasons and history; staff of another area, another service or a role without referral work do
  not, with the reason, exit status 2;
- voluntary-sector staff see a referral at their offer only while the family's consent stands;
- a name that is no account acts for nobody; every read, allowed or refused, is audited.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from services.core.settings import Settings
from services.county.store import CountyStore
from services.referrals.store import Referral, ReferralStore
from services.timeline.policy import Role
from services.timeline.users import UserStore
from tests.security.staff_doors import hubnet, last_audit
from tests.unit.referrals.networks import demo_county_pack
from tests.unit.referrals.support import Harness, consent_event, referral
from tests.unit.timeline.events import CHELMSFORD, TENDRING

pytestmark = pytest.mark.security
PASSWORD = "a long enough password"
ACCOUNTS: dict[str, tuple[Role, str, list[str]]] = {
    "tendring-worker": (Role.HUB_PRACTITIONER, TENDRING, ["family-support"]),
    "chelmsford-worker": (Role.HUB_PRACTITIONER, CHELMSFORD, ["family-support"]),
    "tendring-youth": (Role.HUB_PRACTITIONER, TENDRING, ["youth-service"]),
    "tendring-manager": (Role.HUB_MANAGER, TENDRING, []),
    "chelmsford-manager": (Role.HUB_MANAGER, CHELMSFORD, []),
    "tendring-charity": (Role.VOLUNTARY_SECTOR_WORKER, TENDRING, ["food-bank"]),
    "operator": (Role.OPERATIONS, TENDRING, []),
}
NOT_FOUND = "there is no referral with that id for your services or districts"


def _by_record(store: ReferralStore, record: str) -> Referral:
    found = store.by_source("nhs-hv", "https://example.org/nhs-hv/records", record)
    assert found is not None
    return found


@pytest.fixture
def desk(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[Path, str, str]:
    """An early-help referral at Tendring's family hub and a food-bank one (the family consented),
    routed on the demo county pack, loaded where `hubnet` looks; the accounts above."""
    monkeypatch.setenv("HUBNET_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("HUBNET_LOG_FORMAT", "json")
    monkeypatch.delenv("HUBNET_DATABASE_URL", raising=False)
    settings = Settings(data_dir=tmp_path)
    hub = Harness(store=ReferralStore.from_settings(settings))
    hub.service.handle(referral("cli-early", "early-help-referral", serial=31, family="fam-31"))
    hub.service.handle(
        referral("cli-food", "foodbank-referral", serial=32, family="fam-32", age=6, consent=True)
    )
    early, food = (_by_record(hub.store, r) for r in ("cli-early", "cli-food"))
    hub.store.close()
    assert early.offer_id == "family-support@hub11"
    assert (food.offer_id or "").startswith("food-bank@hub11")
    users = UserStore.from_settings(settings)
    for name, (role, area, services) in ACCOUNTS.items():
        users.add(name, PASSWORD, role, [area], services=services)
    users.close()
    county = CountyStore.in_data_dir(settings)  # the pack the harness routed on, as `hubnet county load`
    county.add(demo_county_pack(), loaded_by="test")
    county.close()
    return tmp_path, early.referral_id, food.referral_id


@pytest.mark.parametrize("by", ["tendring-worker", "tendring-manager"])
def test_receiving_service_staff_and_the_districts_hub_manager_see_the_referral(
    desk: tuple[Path, str, str], by: str
) -> None:
    data_dir, early, _ = desk
    listed = hubnet("referrals", "list", "--by", by)
    assert listed.exit_code == 0, listed.output
    assert early in listed.output
    audit = last_audit(data_dir, by)
    assert (audit["action"], audit["outcome"]) == ("referrals.list", "allowed")
    shown = hubnet("referrals", "show", early, "--by", by)
    assert shown.exit_code == 0, shown.output
    assert "routed to Family support worker" in shown.output, "the router's explanation"
    assert "history" in shown.output
    audit = last_audit(data_dir, by)
    assert (audit["action"], audit["target"], audit["outcome"]) == ("referrals.read", early, "allowed")


@pytest.mark.parametrize(
    ("by", "why"),
    [
        ("chelmsford-worker", NOT_FOUND),
        ("chelmsford-manager", NOT_FOUND),
        ("tendring-youth", NOT_FOUND),
        ("operator", "is not a hub staff account that works with referrals"),
        ("somebody-typed", "not an active hub staff account"),
    ],
    ids=["another-area", "another-districts-manager", "another-service", "operations", "no-such-account"],
)
def test_others_neither_list_nor_read_the_referral(desk: tuple[Path, str, str], by: str, why: str) -> None:
    data_dir, early, _ = desk
    shown = hubnet("referrals", "show", early, "--by", by)
    assert shown.exit_code == 2, shown.output
    assert why in shown.output
    assert "Traceback" not in shown.output
    assert "routed to" not in shown.output
    audit = last_audit(data_dir, by)
    assert (audit["action"], audit["target"], audit["outcome"]) == ("referrals.read", early, "denied")
    listed = hubnet("referrals", "list", "--by", by)
    assert early not in listed.output
    if why != NOT_FOUND:  # roles without referral work, and no account, are refused outright
        assert listed.exit_code == 2, listed.output
        assert why in listed.output
        assert last_audit(data_dir, by)["outcome"] == "denied"


def test_a_district_that_is_not_the_accounts_is_refused(desk: tuple[Path, str, str]) -> None:
    data_dir, early, _ = desk
    refused = hubnet("referrals", "list", "--district", TENDRING, "--by", "chelmsford-manager")
    assert refused.exit_code == 2, refused.output
    assert f"{TENDRING} is not a district you manage or work in" in refused.output
    assert early not in refused.output
    audit = last_audit(data_dir, "chelmsford-manager")
    assert (audit["action"], audit["target"], audit["outcome"]) == ("referrals.list", TENDRING, "denied")
    own = hubnet("referrals", "list", "--district", TENDRING, "--by", "tendring-manager")
    assert own.exit_code == 0, own.output
    assert early in own.output


def test_voluntary_sector_staff_see_a_referral_only_while_the_familys_consent_stands(
    desk: tuple[Path, str, str],
) -> None:
    data_dir, early, food = desk
    listed = hubnet("referrals", "list", "--by", "tendring-charity")
    assert listed.exit_code == 0, listed.output
    assert food in listed.output
    assert early not in listed.output, "another service's referral"
    assert hubnet("referrals", "show", food, "--by", "tendring-charity").exit_code == 0
    store = ReferralStore.from_settings(Settings(data_dir=data_dir))
    Harness(store=store).service.handle(
        consent_event("cli-withdrawn", serial=32, family="fam-32", permit=False, when="2025-03-03T12:00:00Z")
    )
    store.close()
    assert food not in hubnet("referrals", "list", "--by", "tendring-charity").output
    refused = hubnet("referrals", "show", food, "--by", "tendring-charity")
    assert refused.exit_code == 2, refused.output
    assert NOT_FOUND in refused.output
    audit = last_audit(data_dir, "tendring-charity")
    assert (audit["action"], audit["target"], audit["outcome"]) == ("referrals.read", food, "denied")
