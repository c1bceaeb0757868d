"""Referral pages in the hub staff UI: sign-in, a service's inbox, the manager's view, the detail
page with its routing reasons, an action through the form (CSRF checked), refusals, audit rows."""

from __future__ import annotations

import re

import pytest
from fastapi.testclient import TestClient

from services.timeline.audit import AuditTrail
from services.timeline.audit_store import AuditStore
from services.timeline.policy import Role
from services.timeline.store import TimelineStore
from services.timeline.users import UserStore
from services.web.app import create_app
from services.web.routes_referrals import install
from tests.unit.referrals.support import Harness, referral
from tests.unit.timeline.events import feed, linked

PASSWORD = "correct horse battery"


@pytest.fixture
def site() -> tuple[TestClient, Harness, AuditStore]:
    """The staff app, the referral desk behind it, and the audit store its pages write to."""
    store = TimelineStore.open(":memory:")
    audit = AuditStore.open(":memory:")
    users = UserStore.open(":memory:")
    users.add("hv", PASSWORD, Role.HEALTH_VISITOR, ["E07000076"], services=["family-support"])
    users.add("harlow", PASSWORD, Role.HEALTH_VISITOR, ["E07000073"], services=["family-support"])
    users.add("boss", PASSWORD, Role.HUB_MANAGER, ["E07000076"])
    users.add("ops", PASSWORD, Role.OPERATIONS, ["*"])
    app = create_app(store, users, AuditTrail(audit), b"s" * 32)
    hub = Harness()
    install(app, hub.service)
    hub.service.handle(referral("r1", "early-help-referral"))
    hub.service.handle(referral("r2", "hip-replacement", serial=2, family="f2"))
    return TestClient(app), hub, audit


def sign_in(client: TestClient, user: str) -> None:
    page = client.get("/sign-in")
    token = re.search(r'name="csrf" value="([^"]+)"', page.text)
    assert token
    form = {"username": user, "password": PASSWORD, "csrf": token.group(1), "next": "/referrals"}
    done = client.post("/sign-in", data=form, follow_redirects=False)
    assert done.status_code == 303


def test_signed_out_visitors_go_to_sign_in(site: tuple[TestClient, Harness, AuditStore]) -> None:
    client, _hub, _store = site
    response = client.get("/referrals", follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"] == "/sign-in?next=/referrals"


def _clacton_family_support(hub: Harness) -> str:
    """How pages name the offer the Tendring referral goes to (`family-support@hub11`)."""
    offer = hub.network.offer("family-support@hub11")
    assert offer is not None
    return f"{offer.name}, {hub.network.sites[offer.site_id].name}"


def test_a_health_visitor_sees_the_inbox_and_declines_with_a_reason(
    site: tuple[TestClient, Harness, AuditStore],
) -> None:
    client, hub, store = site
    sign_in(client, "hv")
    inbox = client.get("/referrals")
    assert inbox.status_code == 200
    assert _clacton_family_support(hub) in inbox.text  # the service in words, not its offer id
    assert "family-support@hub11" not in inbox.text
    assert 'href="/families/fam-1"' in inbox.text
    rid = hub.store.find("source_record_id = 'r1'")[0].referral_id
    page = client.get(f"/referrals/{rid}")
    assert "How it was routed" in page.text
    assert "dropped Family mentoring (charity)" in page.text
    token = re.search(r'name="csrf" value="([^"]+)"', page.text)
    assert token
    missing = client.post(f"/referrals/{rid}", data={"action": "reject", "csrf": token.group(1)})
    assert "a reason is required to reject a referral" in missing.text
    forged = client.post(f"/referrals/{rid}", data={"action": "accept", "csrf": "forged"})
    assert forged.status_code == 400
    done = client.post(
        f"/referrals/{rid}", data={"action": "reject", "reason": "family moved", "csrf": token.group(1)},
        follow_redirects=False,
    )  # fmt: skip
    assert done.status_code == 303
    moved = hub.store.get(rid)
    assert moved is not None
    assert moved.attempt == 2
    trail = [(row["action"], row["outcome"]) for row in store.audit_rows(target=rid)]
    assert ("referrals.reject", "allowed") in trail
    assert ("referrals.read", "allowed") in trail


def test_other_districts_and_roles_are_refused(site: tuple[TestClient, Harness, AuditStore]) -> None:
    client, hub, store = site
    rid = hub.store.find("source_record_id = 'r1'")[0].referral_id
    sign_in(client, "harlow")
    assert _clacton_family_support(hub) not in client.get("/referrals").text
    assert client.get(f"/referrals/{rid}").status_code == 404
    assert [(r["actor"], r["outcome"]) for r in store.audit_rows(target=rid)] == [("harlow", "denied")]
    client.cookies.clear()
    sign_in(client, "ops")
    assert client.get("/referrals").status_code == 403


def test_the_hub_manager_sees_the_queue_and_the_api_shares_the_sign_in(
    site: tuple[TestClient, Harness, AuditStore],
) -> None:
    client, _hub, _store = site
    sign_in(client, "boss")
    page = client.get("/referrals")
    assert "Waiting for a hub manager" in page.text
    assert "not recognised" in page.text  # the hip-replacement request: no hub need
    view = client.get("/v1/referrals/manager").json()
    assert len(view["queue"]) == 1
    assert len(view["at_services"]) == 1


def test_inbox_rows_name_the_child_and_family_with_need_and_due_in_words(
    site: tuple[TestClient, Harness, AuditStore],
) -> None:
    client, _hub, _audit = site
    feed(
        client.app.state.access.store,
        linked("person-1", ("fam-1",), name=("Amelia", "Jones"), birth="2022-01-15"),
    )
    sign_in(client, "hv")
    page = client.get("/referrals").text
    assert "Amelia Jones, 3 years" in page
    assert "Family support" in page  # the need's display name, not the code
    assert re.search(r"in \d+ (day|hour)s?", page)
    assert "early-help-referral" not in page


def test_inbox_rows_withhold_names_of_a_family_outside_the_users_areas(
    site: tuple[TestClient, Harness, AuditStore],
) -> None:
    client, _hub, _audit = site
    feed(
        client.app.state.access.store,
        linked("person-1", ("fam-1",), name=("Amelia", "Jones"), postcode="CM20 2XY"),
    )
    sign_in(client, "hv")
    page = client.get("/referrals").text
    assert "Amelia" not in page
    assert "a family outside your hub areas" in page


def test_the_navigation_counts_referrals_waiting_on_the_user(
    site: tuple[TestClient, Harness, AuditStore],
) -> None:
    client, _hub, _store = site
    sign_in(client, "hv")
    nav = re.search(r'href="/referrals">Referrals <strong[^>]*>(\d+)</strong>', client.get("/").text)
    assert nav
    assert nav.group(1) == "1"
    client.cookies.clear()
    sign_in(client, "boss")  # one referral in the manager's queue (the unrecognised need)
    nav = re.search(r'href="/referrals">Referrals <strong[^>]*>(\d+)</strong>', client.get("/").text)
    assert nav
    assert nav.group(1) == "1"
    client.cookies.clear()
    sign_in(client, "ops")
    assert 'href="/referrals"' not in client.get("/ops").text
