"""The staff UI's referral workflow over real HTTP (uvicorn on loopback): recording a family's consent,
which releases the family's held referral through the router, and the lifecycle actions, each with
its refusal for staff the rules do not allow, audited either way (#20)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest

from schemas.envelope import HubEvent
from schemas.event_types import EventType
from schemas.linked import LinkedEvent
from services.referrals.lifecycle import Status
from tests.security.referral_ui import CARER, CHARITY, FAMILY, PASSWORD, World
from tests.security.staff_doors import http
from tests.unit.referrals.support import nhs
from tests.unit.timeline.events import feed


@pytest.fixture
def world(tmp_path: Path) -> World:
    return World(tmp_path)


@pytest.fixture
def client(world: World) -> Iterator[httpx.Client]:
    with http(world.app) as found:
        yield found


def sign_in(client: httpx.Client, user: str) -> None:
    client.cookies.clear()
    token = _csrf(client.get("/sign-in").text)
    done = client.post("/sign-in", data={"username": user, "password": PASSWORD, "csrf": token, "next": "/"})
    assert done.status_code == 303


def _csrf(page: str) -> str:
    found = re.search(r'name="csrf" value="([^"]+)"', page)
    assert found
    return found.group(1)


def consent_form(client: httpx.Client, **fields: str | list[str]) -> httpx.Response:
    page = client.get(f"/families/{FAMILY}/consent")
    form: dict[str, str | list[str]] = {
        "csrf": _csrf(page.text), "decision": "permit", "given_by": CARER, "method": "phone",
        "about": [CHARITY[0]], "given_on": datetime.now(UTC).date().isoformat(), **fields,
    }  # fmt: skip
    return client.post(f"/families/{FAMILY}/consent", data=form)


def audit(world: World, action: str) -> list[tuple[str, str]]:
    return [(r["actor"], r["outcome"]) for r in world.audit.audit_rows() if r["action"] == action]


def test_consent_recorded_in_the_ui_releases_the_held_referral(world: World, client: httpx.Client) -> None:
    held = world.hub.store.get(world.referral_id)
    assert held is not None
    assert held.status is Status.HELD
    sign_in(client, "hv")
    form = client.get(f"/families/{FAMILY}/consent")
    assert "Jade Jones" in form.text
    done = consent_form(client)
    assert done.status_code == 303
    assert done.headers["location"] == f"/families/{FAMILY}?consent=given"
    events = [HubEvent.from_bytes(m.value) for m in world.outbox.on("fh.events")]
    assert [e.event_type for e in events] == [EventType.CONSENT_RECORDED]
    assert events[0].subjects[0].value == nhs(50)  # the carer who gave it
    consent = events[0].entries[0].resource
    assert consent["provision"]["type"] == "permit"
    assert consent["policyRule"]["text"] == "given by phone by the family's member"
    assert _audit_actors(world, "consent.record") == ["hv"]
    world.deliver_consent()
    released = world.hub.store.get(world.referral_id)
    assert released is not None
    assert released.status is Status.REQUESTED
    assert released.offer_id is not None
    assert released.offer_id.startswith("food-bank@")


def _audit_actors(world: World, action: str) -> list[str]:
    records = [m.value for m in world.outbox.messages if m.topic == "fh.audit"]
    return [_actor(r) for r in records if f'"action":"{action}"'.encode() in r]


def _actor(record: bytes) -> str:
    found = re.search(rb'"actor":"([^"]+)"', record)
    assert found
    return found.group(1).decode()


def test_a_withdrawal_is_recorded_as_a_deny(world: World, client: httpx.Client) -> None:
    sign_in(client, "hv")
    assert consent_form(client, decision="withdraw", method="written").status_code == 303
    consent = HubEvent.from_bytes(world.outbox.on("fh.events")[0].value).entries[0].resource
    assert consent["provision"]["type"] == "deny"
    assert consent["status"] == "rejected"
    assert "hv" in _audit_actors(world, "consent.withdraw")


def test_consent_is_refused_to_roles_and_areas_that_may_not_record_it(
    world: World, client: httpx.Client
) -> None:
    sign_in(client, "school")
    assert client.get(f"/families/{FAMILY}/consent").status_code == 403
    assert ("school", "denied") in audit(world, "consent.form")
    sign_in(client, "harlow")  # may not open a Tendring family
    assert client.get(f"/families/{FAMILY}/consent").status_code == 403
    assert ("harlow", "denied") in audit(world, "family.read")
    sign_in(client, "food")  # the voluntary sector is who consent lets receive referrals
    assert client.get(f"/families/{FAMILY}/consent").status_code == 403
    assert world.outbox.on("fh.events") == []


def test_a_consent_form_with_mistakes_says_what_to_fix_and_records_nothing(
    world: World, client: httpx.Client
) -> None:
    sign_in(client, "hv")
    wrong = consent_form(client, given_by="", method="fax", about=["not-a-partner"], given_on="2999-01-01")
    assert wrong.status_code == 400
    for message in (
        "Select the family member who gave the decision",
        "Select how the family gave it",
        "Select at least one partner the decision is about",
        "must be today or in the past",
    ):
        assert message in wrong.text
    assert consent_form(client, given_on="yesterday").status_code == 400
    assert world.outbox.on("fh.events") == []


def act(client: httpx.Client, referral_id: str, action: str, **fields: str) -> httpx.Response:
    page = client.get(f"/referrals/{referral_id}")
    return client.post(
        f"/referrals/{referral_id}", data={"csrf": _csrf(page.text), "action": action, **fields}
    )


def test_actions_over_http_by_the_receiving_service_and_refusals_for_others(
    world: World, client: httpx.Client
) -> None:
    sign_in(client, "hv")
    consent_form(client)
    world.deliver_consent()
    rid = world.referral_id
    sign_in(client, "hv")  # not the receiving service
    refused = client.post(f"/referrals/{rid}", data={"csrf": _csrf(client.get("/").text), "action": "accept"})
    assert refused.status_code == 403
    sign_in(client, "boss")  # hub managers re-route, but do not accept for a service
    assert act(client, rid, "accept").status_code == 403
    sign_in(client, "food")
    inbox = client.get("/referrals").text
    assert "Mia Jones, 6 years" in inbox
    assert "Food and essentials" in inbox
    assert "foodbank-referral" not in inbox
    assert act(client, rid, "accept").status_code == 303
    assert act(client, rid, "start").status_code == 303
    outcome = "Food parcels for four weeks; family referred on to money advice"
    assert act(client, rid, "complete", reason=outcome).status_code == 303
    done = world.hub.store.get(rid)
    assert done is not None
    assert done.status is Status.COMPLETED
    sign_in(client, "boss")
    journey = client.get(f"/families/{FAMILY}").text
    assert "held until the family&#39;s consent is recorded" in journey
    assert "accepted (food)" in journey
    assert "closed: work completed (food). Food parcels for four weeks" in journey
    assert sorted(a for a, o in audit(world, "referrals.accept") if o == "denied") == ["boss", "hv"]
    assert ("food", "allowed") in audit(world, "referrals.complete")


def test_a_hub_manager_re_routes_and_a_service_declines_with_a_reason(
    world: World, client: httpx.Client
) -> None:
    sign_in(client, "hv")
    consent_form(client)
    world.deliver_consent()
    rid = world.referral_id
    current = world.hub.store.get(rid)
    assert current is not None
    other = next(
        o.offer_id for o in world.hub.network.offers
        if "food-support" in o.needs and o.offer_id != current.offer_id
    )  # fmt: skip
    sign_in(client, "food")
    assert act(client, rid, "assign", offer_id=other).status_code == 403  # re-routing is the manager's
    missing = act(client, rid, "reject")
    assert "a reason is required to reject a referral" in missing.text
    assert act(client, rid, "reject", reason="no volunteers this month").status_code == 303
    assert ("food", "allowed") in audit(world, "referrals.reject")
    declined = world.hub.store.get(rid)
    assert declined is not None
    assert declined.offer_id != current.offer_id  # a decline routes on at once
    sign_in(client, "boss")
    assert act(client, rid, "assign", offer_id=other).status_code == 303
    moved = world.hub.store.get(rid)
    assert moved is not None
    assert moved.offer_id == other
    assert ("boss", "allowed") in audit(world, "referrals.assign")


def test_the_hub_managers_queue_names_the_hub_area_of_a_held_referral(
    world: World, client: httpx.Client
) -> None:
    """A held referral waits for the hub manager of its hub area, named as such on the queue and on
    the referral's page (the summary's area name was looked up again as an id: "unknown hub area")."""
    sign_in(client, "boss")
    queue = client.get("/referrals").text
    page = client.get(f"/referrals/{world.referral_id}").text
    for shown in (queue, page):
        assert "hub manager, Tendring Family Hubs" in shown
        assert "unknown hub area" not in shown


def test_consent_recorded_by_staff_shows_as_hub_staff_on_the_timeline(
    world: World, client: httpx.Client
) -> None:
    """The staff-recorded consent entry names its recorder in words, on the entry and in the
    partner filter, never as hubnet's own code `hubnet-staff`."""
    sign_in(client, "hv")
    assert consent_form(client).status_code == 303
    for message in world.outbox.on("fh.events"):
        feed(
            world.timeline,
            LinkedEvent(event=HubEvent.from_bytes(message.value), person_id=CARER, family_ids=(FAMILY,)),
        )
    page = client.get(f"/families/{FAMILY}").text
    assert "Consent to share with Essex foodbank given" in page
    assert "Hub staff" in page
    assert "hubnet-staff<" not in page
    assert "· hubnet-staff" not in page


def test_a_referrals_page_gives_its_deadline_in_words(world: World, client: httpx.Client) -> None:
    """The deadline as staff read it, in London time with how long is left, not a raw timestamp."""
    sign_in(client, "boss")
    page = client.get(f"/referrals/{world.referral_id}").text
    due = re.search(r"Due</dt><dd[^>]*>([^<]*)</dd>", page)
    assert due
    assert re.fullmatch(
        r"\d{1,2} \w+ \d{4} at \d{2}:\d{2} \((in \d+ \w+|\d+ \w+ overdue|due now)\)", due.group(1)
    )
