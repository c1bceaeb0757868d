"""The command-line doors of staff decisions follow the web UI's rules (#20, trust rule), through
the real `hubnet` entry point (Typer) against real stores in a data dir:

- `hubnet identity review list|confirm|reject`, `hubnet identity split` and `show` act as a named
  staff account and reach only records it may open (services/identity/reviewers.py, the rule
  test_staff_rules.py holds the web UI to): another area's review is neither listed nor decided;
- `hubnet consent record|withdraw|list` records (and lists decisions) only for a role that records
  consent, for a person or family in the account's areas (services/consent/recorders.py, the
  staff UI form's rule);
- `hubnet audit` reads the trail only as a role that may read it (hub managers and operations,
  services/timeline/policy.py), and that read is itself on the trail;
- a name that is no active account acts for nobody; every attempt is on the audit trail.

The county is tests/security/world.py's (Tendring and Chelmsford families on the timeline).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from services.core.settings import Settings
from services.gateway.database import Database
from services.gateway.partners import Partner, PartnerStore
from services.identity.store import IdentityStore
from services.timeline.policy import COUNTY_WIDE, Role
from services.timeline.users import UserStore
from tests.security.staff_doors import ACROSS_REVIEW, IN_AREA_REVIEW, UPN_OF, hubnet, last_audit, review_queue
from tests.security.world import FAMILIES, GRID_PARTNER, build_store
from tests.unit.timeline.events import CHELMSFORD, TENDRING

pytestmark = pytest.mark.security
ACCOUNTS = {
    "tendring-manager": (Role.HUB_MANAGER, TENDRING),
    "chelmsford-practitioner": (Role.HUB_PRACTITIONER, CHELMSFORD),
    "county-manager": (Role.HUB_MANAGER, COUNTY_WIDE),
    "tendring-hv": (Role.HEALTH_VISITOR, TENDRING),
    "chelmsford-hv": (Role.HEALTH_VISITOR, CHELMSFORD),
    "tendring-school": (Role.SCHOOL_STAFF, TENDRING),
    "tendring-charity": (Role.VOLUNTARY_SECTOR_WORKER, TENDRING),
    "operator": (Role.OPERATIONS, TENDRING),
}
TENDRING_CHILD = FAMILIES["fam-t"].nhs


@pytest.fixture
def data_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The matrix county's timeline, the review queue, the accounts above and the partner the
    consent decisions are about, where `hubnet` looks."""
    monkeypatch.setenv("HUBNET_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("HUBNET_LOG_FORMAT", "json")
    monkeypatch.delenv("KAFKA_BOOTSTRAP_SERVERS", raising=False)
    timeline, _ = build_store(tmp_path / "timeline.sqlite")
    timeline.close()
    review_queue(tmp_path).store.close()
    users = UserStore.from_settings(Settings(data_dir=tmp_path))
    for name, (role, area) in ACCOUNTS.items():
        users.add(name, "a long enough password", role, [area])
    users.close()
    database = Database.at(tmp_path)
    PartnerStore(database).add(Partner(code="food-bank", name="Tendring Food Bank", org_ids=("1234567",)))
    database.close()
    return tmp_path


def statuses(data_dir: Path) -> dict[str, str]:
    store = IdentityStore.from_settings(Settings(data_dir=data_dir))
    try:
        return {r["review_id"]: r["status"] for r in store.reviews(None)}
    finally:
        store.close()


def test_identity_review_list_shows_only_reviews_whose_two_records_the_account_may_open(
    data_dir: Path,
) -> None:
    tendring = hubnet("identity", "review", "list", "--by", "tendring-manager")
    assert tendring.exit_code == 0, tendring.output
    assert IN_AREA_REVIEW in tendring.output
    assert ACROSS_REVIEW not in tendring.output, "a Chelmsford child is outside Tendring"
    assert UPN_OF["child-c"].split("|")[1] not in tendring.output
    chelmsford = hubnet("identity", "review", "list", "--by", "chelmsford-practitioner")
    assert chelmsford.exit_code == 0, chelmsford.output
    assert IN_AREA_REVIEW not in chelmsford.output
    assert ACROSS_REVIEW not in chelmsford.output
    county = hubnet("identity", "review", "list", "--by", "county-manager")
    assert IN_AREA_REVIEW in county.output
    assert ACROSS_REVIEW in county.output
    audit = last_audit(data_dir, "chelmsford-practitioner")
    assert (audit["action"], audit["outcome"]) == ("identity.reviews.list", "allowed")


def test_identity_review_decisions_outside_the_accounts_areas_are_refused_and_audited(
    data_dir: Path,
) -> None:
    for review_id in (ACROSS_REVIEW, IN_AREA_REVIEW):
        refused = hubnet("identity", "review", "reject", review_id, "--by", "chelmsford-practitioner")
        assert refused.exit_code == 2, refused.output
        assert "outside your hub area" in refused.output
        assert "Traceback" not in refused.output
        audit = last_audit(data_dir, "chelmsford-practitioner")
        assert (audit["action"], audit["target"], audit["outcome"]) == (
            "identity.review.reject",
            review_id,
            "denied",
        )
    across = hubnet("identity", "review", "confirm", ACROSS_REVIEW, "--by", "tendring-manager")
    assert across.exit_code == 2, across.output
    assert statuses(data_dir) == {IN_AREA_REVIEW: "open", ACROSS_REVIEW: "open"}, "nothing was decided"


def test_identity_review_decided_by_an_account_that_may_open_both_records(data_dir: Path) -> None:
    decided = hubnet(
        "identity", "review", "reject", IN_AREA_REVIEW, "--by", "tendring-manager", "--reason", "twins"
    )
    assert decided.exit_code == 0, decided.output
    assert statuses(data_dir) == {IN_AREA_REVIEW: "rejected", ACROSS_REVIEW: "open"}
    audit = last_audit(data_dir, "tendring-manager")
    assert (audit["action"], audit["target"], audit["outcome"]) == (
        "identity.review.reject",
        IN_AREA_REVIEW,
        "allowed",
    )
    store = IdentityStore.from_settings(Settings(data_dir=data_dir))
    [review] = [r for r in store.reviews(None) if r["review_id"] == IN_AREA_REVIEW]
    store.close()
    assert review["decided_by"] == "tendring-manager"


@pytest.mark.parametrize(
    ("by", "why"),
    [
        ("tendring-hv", "decided by hub managers and hub practitioners"),
        ("somebody-typed", "not an active hub staff account"),
    ],
    ids=["role-not-a-reviewer", "no-such-account"],
)
def test_identity_doors_refuse_other_roles_and_names_that_are_no_account(
    data_dir: Path, by: str, why: str
) -> None:
    for args in (
        ("identity", "review", "list"),
        ("identity", "review", "confirm", IN_AREA_REVIEW),
        ("identity", "split", "child-t", UPN_OF["child-t"]),
    ):
        refused = hubnet(*args, "--by", by)
        assert refused.exit_code == 2, (args, refused.output)
        assert why in refused.output
        assert last_audit(data_dir, by)["outcome"] == "denied"
    assert statuses(data_dir) == {IN_AREA_REVIEW: "open", ACROSS_REVIEW: "open"}


@pytest.mark.parametrize(
    ("args", "action"),
    [(("identity", "split", "child-t", UPN_OF["child-t"]), "identity.split"),
     (("identity", "show", "child-t"), "identity.show")],
    ids=["split", "show"],
)  # fmt: skip
def test_identity_split_or_history_of_a_person_outside_the_accounts_areas_is_refused(
    data_dir: Path, args: tuple[str, ...], action: str
) -> None:
    refused = hubnet(*args, "--by", "chelmsford-practitioner")
    assert refused.exit_code == 2, refused.output
    assert "outside your hub area" in refused.output
    assert UPN_OF["child-t"].split("|")[1] not in refused.output
    audit = last_audit(data_dir, "chelmsford-practitioner")
    assert (audit["action"], audit["target"], audit["outcome"]) == (action, "child-t", "denied")
    shown = hubnet("identity", "show", "child-t", "--by", "tendring-manager")
    assert shown.exit_code == 0, shown.output
    assert UPN_OF["child-t"] in shown.output


@pytest.mark.parametrize(
    ("by", "why"),
    [
        ("tendring-school", "your role does not record families' consent"),
        ("tendring-charity", "your role does not record families' consent"),
        ("chelmsford-hv", "outside your hub area"),
        ("somebody-typed", "not an active hub staff account"),
    ],
    ids=["school-staff", "voluntary-sector", "another-area", "no-such-account"],
)
@pytest.mark.parametrize("command", ["record", "withdraw"])
def test_consent_command_refuses_accounts_whose_role_or_area_may_not_record_it(
    data_dir: Path, command: str, by: str, why: str
) -> None:
    """Refused before anything is sent: no broker is configured, so a command that went on to send
    would fail differently (no bootstrap servers), not with this reason."""
    refused = hubnet("consent", command, "--nhs-number", TENDRING_CHILD, "--about", "food-bank", "--by", by)
    assert refused.exit_code == 2, refused.output
    assert why in refused.output
    assert "Traceback" not in refused.output
    audit = last_audit(data_dir, by)
    assert (audit["action"], audit["outcome"]) == (f"consent.{command}", "denied")
    assert TENDRING_CHILD not in str(audit), "the audit record names no NHS number"


def test_consent_command_for_a_person_not_on_the_timeline_is_for_county_wide_staff_only(
    data_dir: Path,
) -> None:
    unknown = "9990000042"  # a valid test-range number nobody on the timeline holds
    refused = hubnet(
        "consent", "record", "--nhs-number", unknown, "--about", "food-bank", "--by", "tendring-hv"
    )
    assert refused.exit_code == 2, refused.output
    assert "only county-wide staff" in refused.output


@pytest.mark.parametrize(
    ("by", "why"),
    [
        ("tendring-school", "your role does not record families' consent"),
        ("chelmsford-hv", "This record is not open to you"),
        ("somebody-typed", "not an active hub staff account"),
    ],
    ids=["school-staff", "another-area", "no-such-account"],
)
def test_consent_list_shows_a_familys_decisions_only_to_recorders_who_may_open_it(
    data_dir: Path, by: str, why: str
) -> None:
    refused = hubnet("consent", "list", "--family", "fam-w", "--by", by)
    assert refused.exit_code == 2, refused.output
    assert why in refused.output
    assert GRID_PARTNER not in refused.output
    assert last_audit(data_dir, by)["outcome"] == "denied"
    shown = hubnet("consent", "list", "--family", "fam-w", "--by", "tendring-hv")
    assert shown.exit_code == 0, shown.output
    assert GRID_PARTNER in shown.output
    assert "withdrawn" in shown.output


def test_identity_show_refusal_says_what_a_persons_history_needs(data_dir: Path) -> None:
    refused = hubnet("identity", "show", "child-t", "--by", "tendring-school")
    assert refused.exit_code == 2, refused.output
    assert "identity history" in refused.output
    assert "hub managers and hub practitioners" in refused.output
    assert "reviews are decided by" not in refused.output, "show decides nothing"
    assert UPN_OF["child-t"].split("|")[1] not in refused.output
    audit = last_audit(data_dir, "tendring-school")
    assert (audit["action"], audit["target"], audit["outcome"]) == ("identity.show", "child-t", "denied")


@pytest.mark.parametrize("by", ["tendring-manager", "operator"])
def test_audit_trail_is_read_by_hub_managers_and_operations_and_the_read_is_audited(
    data_dir: Path, by: str
) -> None:
    hubnet("identity", "show", "child-t", "--by", "chelmsford-practitioner")  # a refusal to find
    read = hubnet("audit", "--actor", "chelmsford-practitioner", "--by", by)
    assert read.exit_code == 0, read.output
    assert "identity.show" in read.output
    assert "chelmsford-practitioner" in read.output
    audit = last_audit(data_dir, by)
    assert (audit["action"], audit["outcome"]) == ("audit.read", "allowed")


@pytest.mark.parametrize(
    ("by", "why"),
    [
        ("tendring-hv", "the audit trail is read by hub manager and operations accounts"),
        ("tendring-school", "the audit trail is read by hub manager and operations accounts"),
        ("somebody-typed", "not an active hub staff account"),
    ],
    ids=["health-visitor", "school-staff", "no-such-account"],
)
def test_audit_trail_is_refused_to_other_roles_and_names_that_are_no_account(
    data_dir: Path, by: str, why: str
) -> None:
    hubnet("identity", "show", "child-t", "--by", "chelmsford-practitioner")
    refused = hubnet("audit", "--target", "child-t", "--by", by)
    assert refused.exit_code == 2, refused.output
    assert why in refused.output
    assert "chelmsford-practitioner" not in refused.output
    assert "Traceback" not in refused.output
    audit = last_audit(data_dir, by)
    assert (audit["action"], audit["target"], audit["outcome"]) == ("audit.read", "child-t", "denied")
