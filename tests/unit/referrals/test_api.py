"""The inbox API: a service's inbox, one referral with its reasons, actions, the hub manager's
district view and overdue list; access control (403) and an audit record for every read and action."""

from __future__ import annotations

import dataclasses
from datetime import timedelta

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from schemas.audit import AuditRecord
from services.referrals.access import Receiving, Staff, can_see
from services.referrals.api import router
from tests.unit.referrals.support import HARLOW, Harness, referral

STAFF = {
    "tendring-hv": Staff(user_id="u1", role="service-worker", offers=("family-support@hub11",)),
    "harlow-hv": Staff(user_id="u2", role="service-worker", offers=("family-support@hub08",)),
    "tendring-manager": Staff(user_id="u3", role="hub-manager", districts=("E07000076",)),
}


@pytest.fixture
def setup() -> tuple[TestClient, Harness, list[AuditRecord]]:
    hub = Harness()
    audit: list[AuditRecord] = []
    app = FastAPI()
    app.include_router(router)
    app.state.referrals = hub.service
    app.state.referral_staff = lambda request: STAFF[request.headers["x-user"]]
    app.state.referral_audit = audit.append
    hub.service.handle(referral("r1", "early-help-referral"))  # Tendring Family Hub
    hub.service.handle(referral("r2", "hip-replacement", serial=2, family="f2"))  # Tendring manager's queue
    return TestClient(app), hub, audit


def as_(user: str) -> dict[str, str]:
    return {"x-user": user}


def test_a_service_sees_its_inbox_and_the_family_is_one_click_away(
    setup: tuple[TestClient, Harness, list[AuditRecord]],
) -> None:
    client, _hub, audit = setup
    inbox = client.get("/v1/referrals/inbox", headers=as_("tendring-hv")).json()
    assert [r["offer_id"] for r in inbox] == ["family-support@hub11"]
    assert inbox[0]["dfe_status"] == "New"
    assert inbox[0]["timeline"] == "/families/fam-1"
    assert client.get("/v1/referrals/inbox", headers=as_("harlow-hv")).json() == []
    assert [a.action for a in audit] == ["referrals.inbox", "referrals.inbox"]


def test_detail_shows_every_routing_reason(setup: tuple[TestClient, Harness, list[AuditRecord]]) -> None:
    client, _hub, _audit = setup
    rid = client.get("/v1/referrals/inbox", headers=as_("tendring-hv")).json()[0]["referral_id"]
    detail = client.get(f"/v1/referrals/{rid}", headers=as_("tendring-hv")).json()
    lines = detail["attempts"][0]["explanation"]
    assert lines[0].startswith("need Family support (early help), home hub area Tendring Family Hubs")
    assert any(line.startswith("dropped Family mentoring (charity)") for line in lines)
    assert detail["history"][0]["status"] == "requested"


def test_actions_move_the_referral_and_are_audited(
    setup: tuple[TestClient, Harness, list[AuditRecord]],
) -> None:
    client, hub, audit = setup
    rid = client.get("/v1/referrals/inbox", headers=as_("tendring-hv")).json()[0]["referral_id"]
    opened = client.post(f"/v1/referrals/{rid}/open", json={}, headers=as_("tendring-hv"))
    assert opened.status_code == 200
    assert opened.json()["dfe_status"] == "Opened"
    rejected = client.post(f"/v1/referrals/{rid}/reject", json={}, headers=as_("tendring-hv"))
    assert rejected.status_code == 409
    assert "reason is required" in rejected.json()["detail"]
    done = client.post(
        f"/v1/referrals/{rid}/reject", json={"reason": "family declined"}, headers=as_("tendring-hv")
    )
    assert done.status_code == 200
    assert done.json()["status"] == "requested"
    assert done.json()["offer_id"] != "family-support@hub11"
    mine = [t for t in hub.tasks() if t["identifier"][0]["value"].startswith(rid)]
    assert [t["status"] for t in mine] == ["requested", "received", "rejected", "requested"]
    assert ("referrals.reject", "allowed", "family declined") in [
        (a.action, a.outcome, a.reason) for a in audit
    ]


def test_other_services_are_refused_and_the_refusal_audited(
    setup: tuple[TestClient, Harness, list[AuditRecord]],
) -> None:
    client, _hub, audit = setup
    rid = client.get("/v1/referrals/inbox", headers=as_("tendring-hv")).json()[0]["referral_id"]
    assert client.get(f"/v1/referrals/{rid}", headers=as_("harlow-hv")).status_code == 403
    assert client.post(f"/v1/referrals/{rid}/accept", json={}, headers=as_("harlow-hv")).status_code == 403
    assert [(a.actor, a.outcome) for a in audit if a.target == rid] == [("u2", "denied"), ("u2", "denied")]
    assert (
        client.post(
            f"/v1/referrals/{rid}/assign",
            json={"offer_id": "family-support@hub11-out"},
            headers=as_("tendring-hv"),
        ).json()["detail"]
        == "only a hub manager of its district may assign a referral"
    )
    assert client.get("/v1/referrals/nope", headers=as_("tendring-hv")).status_code == 404


def test_the_hub_manager_sees_queue_overdue_and_assigns(
    setup: tuple[TestClient, Harness, list[AuditRecord]],
) -> None:
    client, hub, _audit = setup
    assert client.get("/v1/referrals/manager", headers=as_("tendring-hv")).status_code == 403
    view = client.get("/v1/referrals/manager", headers=as_("tendring-manager")).json()
    (queued,) = view["queue"]
    assert queued["status"] == "awaiting-manager"
    assert view["overdue"] == []
    assert len(view["at_services"]) == 1
    hub.clock.advance(timedelta(days=3))
    hub.service.scan()
    overdue = client.get("/v1/referrals/manager", headers=as_("tendring-manager")).json()["overdue"]
    assert {r["escalated"] for r in overdue} == {True}
    assert len(overdue) == 2
    assigned = client.post(
        f"/v1/referrals/{queued['referral_id']}/assign",
        json={"offer_id": "family-support@hub11-out", "reason": "needs a home visit"},
        headers=as_("tendring-manager"),
    )
    assert assigned.status_code == 200
    assert assigned.json()["offer_id"] == "family-support@hub11-out"


def test_without_a_signed_in_user_nothing_is_shown() -> None:
    app = FastAPI()
    app.include_router(router)
    app.state.referrals = Harness().service

    assert TestClient(app).get("/v1/referrals/inbox").status_code == 401


def test_referrals_are_kept_from_other_services_at_the_same_site() -> None:
    hub = Harness()
    hub.service.handle(referral("r1", "youth-work-referral", age=15, postcode=HARLOW))
    (found,) = hub.store.find("1=1")
    assert found.offer_id is not None
    site = found.offer_id.split("@")[1]
    other = next(
        o.offer_id for o in hub.service.network.offers if o.site_id == site and o.offer_id != found.offer_id
    )
    restricted = dataclasses.replace(found, sensitivity="R")
    site_colleague = Staff(user_id="u", role="service-worker", offers=(other,))
    service_worker = Staff(user_id="u", role="service-worker", offers=(found.offer_id,))
    here = Receiving(sector="statutory")
    assert not can_see(site_colleague, found, here)
    assert not can_see(site_colleague, restricted, here)
    assert can_see(service_worker, found, here)
    assert can_see(service_worker, restricted, here)


def test_signed_in_staff_map_to_referral_access() -> None:
    from services.referrals.access import staff_from_principal
    from services.timeline.policy import Role
    from services.timeline.users import Principal
    from tests.unit.referrals.networks import demo_network

    network = demo_network()
    manager = staff_from_principal(Principal("m", "M", Role.HUB_MANAGER, ("E07000076",)), network)
    assert manager is not None
    assert manager.role == "hub-manager"
    assert manager.districts == ("E07000076",)
    county = staff_from_principal(Principal("c", "C", Role.HUB_MANAGER, ("*",)), network)
    assert county is not None
    assert len(county.districts) == 12
    visitor = staff_from_principal(
        Principal("h", "H", Role.HEALTH_VISITOR, ("E07000076",), ("family-support",)), network
    )
    assert visitor is not None
    assert visitor.works_at("family-support@hub11")
    assert not visitor.works_at("family-support@hub08"), "assigned services in the user's own areas only"
    assert not visitor.works_at("parenting-programme@hub11"), "only the services the user is assigned to"
    unassigned = staff_from_principal(Principal("s", "S", Role.SCHOOL_STAFF, ("E07000076",)), network)
    assert unassigned is not None
    assert unassigned.offers == ()
    charity = staff_from_principal(
        Principal("v", "V", Role.VOLUNTARY_SECTOR_WORKER, ("E07000076",), ("family-support", "food-bank")),
        network,
    )
    assert charity is not None
    assert charity.voluntary
    assert charity.offers
    assert {network.by_id[o].sector for o in charity.offers} == {"voluntary"}
    assert staff_from_principal(Principal("o", "O", Role.OPERATIONS, ("*",)), network) is None
