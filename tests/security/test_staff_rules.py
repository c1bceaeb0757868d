"""Staff rules of issue #18 (finding 7 and the audit items of 9), each through the real HTTP server:
identity reviews only where the reviewer may open both records; referrals acted on only by staff of
the receiving service; free text withheld unless classified normal; refusals audited.

The role x area matrices themselves are in test_staff_reads.py and test_timeline_matrix.py; the
county is tests/security/world.py.
"""

from __future__ import annotations

import dataclasses
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI
from structlog.testing import capture_logs

from services.core.settings import Settings
from services.county.store import CountyStore
from services.identity import api as identity_api
from services.identity.service import IdentityService
from services.referrals.access import can_see, staff_from_principal
from services.referrals.store import Referral, ReferralStore
from services.timeline.audit import AuditTrail
from services.timeline.audit_store import AuditStore
from services.timeline.policy import Role
from services.timeline.store import TimelineStore
from services.timeline.users import Principal, UserStore
from services.web import routes_ops
from services.web.app import create_app
from services.web.routes_identity import review_scope, reviewer
from services.web.routes_referrals import install as install_referrals
from tests.security.staff_doors import ACROSS_REVIEW, IN_AREA_REVIEW, UPN_OF, http, review_queue
from tests.security.world import GridEntry, build_store, proxy_headers, user_name
from tests.unit.gateway.support import ListPublisher
from tests.unit.referrals.networks import demo_county_pack
from tests.unit.referrals.support import Harness, consent_event, referral
from tests.unit.timeline.events import TENDRING

pytestmark = pytest.mark.security
County = tuple[TimelineStore, list[GridEntry], AuditStore]
FOOD_BANK = "food-bank@hub11-s2"
"""A voluntary-sector offer in Tendring (services/referrals/network.toml at the synthetic sites)."""


@pytest.fixture
def county() -> Iterator[tuple[TimelineStore, list[GridEntry], AuditStore]]:
    store, grid = build_store()
    audit = AuditStore.open(":memory:")
    yield store, grid, audit
    audit.close()
    store.close()


@pytest.fixture
def staff_app(county: County) -> Iterator[FastAPI]:
    store, _, audit = county
    users = UserStore.open(":memory:")
    yield create_app(store, users, AuditTrail(audit), b"r" * 32, trust_proxy=True)
    users.close()


@pytest.fixture
def reviews(staff_app: FastAPI, tmp_path: Path) -> Iterator[IdentityService]:
    service = review_queue(tmp_path)
    identity_api.install(staff_app, service, reviewer, review_scope)
    yield service
    service.store.close()


def _last_audit(store: AuditStore, user: str) -> dict[str, Any]:
    [last] = store.audit_rows(actor=user, limit=1)
    return last


def test_a_colchester_style_practitioner_cannot_list_or_reject_a_review_outside_their_area(
    staff_app: FastAPI, reviews: IdentityService, county: County
) -> None:
    """Finding 7: a practitioner of one area listed another area's child's UPN and rejected a match."""
    _, _, trail = county
    headers = proxy_headers(Role.HUB_PRACTITIONER, "in-chelmsford")
    with http(staff_app) as client:
        listed = client.get("/v1/identity/reviews", headers=headers)
        assert listed.status_code == 200
        assert listed.json() == [], "both reviews involve a Tendring child"
        assert UPN_OF["child-c"] not in listed.text
        for review_id in (ACROSS_REVIEW, IN_AREA_REVIEW):
            refused = client.post(
                f"/v1/identity/reviews/{review_id}/reject", json={"reason": "not the same"}, headers=headers
            )
            assert refused.status_code == 403, review_id
            assert "outside your hub area" in refused.json()["detail"]
            audit = _last_audit(trail, user_name(Role.HUB_PRACTITIONER, "in-chelmsford"))
            assert (audit["action"], audit["target"], audit["outcome"]) == (
                "identity.review.reject",
                review_id,
                "denied",
            )
            assert "hub area" in audit["reason"]
    assert {r["status"] for r in reviews.store.reviews(None)} == {"open"}, "nothing was decided"


def test_a_reviewer_decides_a_review_only_when_both_records_are_in_their_areas(
    staff_app: FastAPI, reviews: IdentityService
) -> None:
    tendring = proxy_headers(Role.HUB_MANAGER, "in-tendring")
    with http(staff_app) as client:
        listed = client.get("/v1/identity/reviews", headers=tendring).json()
        assert [r["review_id"] for r in listed] == [IN_AREA_REVIEW]
        across = client.post(
            f"/v1/identity/reviews/{ACROSS_REVIEW}/confirm", json={"reason": "same"}, headers=tendring
        )
        assert across.status_code == 403
        decided = client.post(
            f"/v1/identity/reviews/{IN_AREA_REVIEW}/reject", json={"reason": "twins"}, headers=tendring
        )
        assert decided.status_code == 200, decided.text
        county_wide = proxy_headers(Role.HUB_MANAGER, "county-wide")
        assert [r["review_id"] for r in client.get("/v1/identity/reviews", headers=county_wide).json()] == [
            ACROSS_REVIEW
        ]
    statuses = {r["review_id"]: r["status"] for r in reviews.store.reviews(None)}
    assert statuses == {IN_AREA_REVIEW: "rejected", ACROSS_REVIEW: "open"}


def _csrf(html: str) -> str:
    return html.split('name="csrf" value="', 1)[1].split('"', 1)[0]


@pytest.mark.parametrize(
    ("role", "reason", "status"),
    [(Role.SCHOOL_STAFF, "A concern was phoned in at 09:10", 403), (Role.HUB_PRACTITIONER, "because", 400)],
)
def test_a_refused_break_glass_on_the_web_form_is_audited(
    staff_app: FastAPI,
    county: County,
    role: Role,
    reason: str,
    status: int,
) -> None:
    """Finding 9: the API audited break-glass refusals, the web form did not."""
    _, _, trail = county
    headers = proxy_headers(role, "in-tendring")
    with http(staff_app) as client:
        token = _csrf(client.get("/break-glass/families/fam-t", headers=headers).text)
        posted = client.post(
            "/break-glass/families/fam-t", data={"reason": reason, "csrf": token}, headers=headers
        )
    assert posted.status_code == status
    audit = _last_audit(trail, user_name(role, "in-tendring"))
    assert (audit["action"], audit["target"], audit["outcome"]) == (
        "timeline.read.break-glass",
        "fam-t",
        "denied",
    )
    assert audit["reason"]


def test_asking_the_referral_api_for_an_unknown_referral_is_audited(
    staff_app: FastAPI, county: County
) -> None:
    """Finding 9: a 404 from /v1/referrals left no trace, so probing for ids went unseen."""
    _, _, trail = county
    install_referrals(staff_app, Harness().service)
    headers = proxy_headers(Role.HUB_MANAGER, "in-tendring")
    user = user_name(Role.HUB_MANAGER, "in-tendring")
    with http(staff_app) as client:
        assert client.get("/v1/referrals/ref-guessed", headers=headers).status_code == 404
        audit = _last_audit(trail, user)
        assert (audit["action"], audit["target"], audit["outcome"]) == (
            "referrals.read",
            "ref-guessed",
            "denied",
        )
        acted = client.post("/v1/referrals/ref-guessed/accept", json={}, headers=headers)
        assert acted.status_code == 404
        audit = _last_audit(trail, user)
        assert (audit["action"], audit["outcome"]) == ("referrals.accept", "denied")


def test_the_dead_letter_reason_filter_is_never_written_to_the_audit_trail_or_logs(
    staff_app: FastAPI, county: County, tmp_path: Path
) -> None:
    """Finding 9: an operator's free-text filter (here a child's name and NHS number copied from a
    dead letter) was kept verbatim in the audit record's target and its log line."""
    _, _, trail = county
    typed = "Poppy Tendringson 9990000018"
    routes_ops.install(
        staff_app, Settings(data_dir=tmp_path), load_dead_letters=list, publisher=ListPublisher()
    )
    headers = proxy_headers(Role.OPERATIONS, "county-wide")
    with capture_logs() as logs, http(staff_app) as client:
        listed = client.get(
            "/ops/dead-letters", params={"reason": typed, "partner": "nhs-hv"}, headers=headers
        )
    assert listed.status_code == 200
    audit = _last_audit(trail, user_name(Role.OPERATIONS, "county-wide"))
    assert audit["action"] == "ops.dlq.list"
    assert audit["target"] == f"partner=nhs-hv&reason=({len(typed)} characters)"
    for word in typed.split():
        assert word not in str(audit)
        assert word not in str(logs)
    staff_app.state.ops.store.close()


@pytest.fixture
def referral_desk(staff_app: FastAPI) -> Harness:
    """Referral routing on the staff app, with an early-help referral at Tendring's family hub."""
    hub = Harness()
    install_referrals(staff_app, hub.service)
    hub.service.handle(referral("rules-1", "early-help-referral", serial=21, family="fam-21"))
    return hub


def _only(hub: Harness, record: str) -> Referral:
    found = hub.store.by_source("nhs-hv", "https://example.org/nhs-hv/records", record)
    assert found is not None
    return found


@pytest.mark.parametrize(
    "role", [Role.SCHOOL_STAFF, Role.VOLUNTARY_SECTOR_WORKER, Role.SOCIAL_WORKER, Role.HUB_MANAGER]
)
def test_only_staff_of_the_receiving_service_accept_or_decline_a_referral(
    staff_app: FastAPI,
    referral_desk: Harness,
    county: County,
    role: Role,
) -> None:
    """Finding 7: school staff accepted, and a voluntary-sector worker declined, a social-care
    referral sent to another service; hub managers keep the queue, not the service's decisions."""
    _, _, trail = county
    rid = _only(referral_desk, "rules-1").referral_id
    headers = {**proxy_headers(role, "in-tendring"), "x-hubnet-services": "food-bank youth-service"}
    with http(staff_app) as client:
        for action, body in (("accept", {}), ("reject", {"reason": "not for us"})):
            refused = client.post(f"/v1/referrals/{rid}/{action}", json=body, headers=headers)
            assert refused.status_code == 403, (action, refused.text)
            audit = _last_audit(trail, user_name(role, "in-tendring"))
            assert (audit["action"], audit["outcome"]) == (f"referrals.{action}", "denied")
            token = _csrf(client.get("/referrals", headers=headers).text)
            form = {"action": action, "reason": "not for us", "csrf": token}
            page = client.post(f"/referrals/{rid}", data=form, headers=headers)
            assert page.status_code == 403, action
    still = _only(referral_desk, "rules-1")
    assert (still.status.value, still.offer_id) == ("requested", "family-support@hub11")


def test_staff_assigned_to_the_receiving_service_accept_it(
    staff_app: FastAPI, referral_desk: Harness
) -> None:
    rid = _only(referral_desk, "rules-1").referral_id
    worker = {**proxy_headers(Role.SCHOOL_STAFF, "in-tendring"), "x-hubnet-services": "family-support"}
    with http(staff_app) as client:
        assert rid in client.get("/v1/referrals/inbox", headers=worker).text
        accepted = client.post(f"/v1/referrals/{rid}/accept", json={}, headers=worker)
    assert accepted.status_code == 200, accepted.text
    assert _only(referral_desk, "rules-1").status.value == "accepted"


def test_voluntary_sector_staff_see_a_referral_only_while_the_familys_consent_stands(
    staff_app: FastAPI, referral_desk: Harness, county: County
) -> None:
    _, _, trail = county
    hub = referral_desk
    hub.service.handle(
        referral("rules-vcs", "foodbank-referral", serial=22, family="fam-22", age=6, consent=True)
    )
    placed = _only(hub, "rules-vcs")
    assert placed.offer_id is not None
    assert placed.offer_id.startswith("food-bank@hub11")
    charity = proxy_headers(Role.VOLUNTARY_SECTOR_WORKER, "in-tendring")  # assigned to food-bank
    with http(staff_app) as client:
        assert client.get(f"/v1/referrals/{placed.referral_id}", headers=charity).status_code == 200
        hub.service.handle(
            consent_event(
                "rules-withdrawn", serial=22, family="fam-22", permit=False, when="2025-03-03T12:00:00Z"
            )
        )
        shown = client.get(f"/v1/referrals/{placed.referral_id}", headers=charity)
        assert shown.status_code == 403
        assert placed.referral_id not in client.get("/v1/referrals/inbox", headers=charity).text
        assert placed.referral_id not in client.get("/referrals", headers=charity).text
        declined = client.post(
            f"/v1/referrals/{placed.referral_id}/reject", json={"reason": "x"}, headers=charity
        )
        assert declined.status_code == 403
    audit = _last_audit(trail, user_name(Role.VOLUNTARY_SECTOR_WORKER, "in-tendring"))
    assert (audit["action"], audit["outcome"]) == ("referrals.reject", "denied")


def test_a_safeguarding_referral_is_never_sent_to_or_shown_to_the_voluntary_sector(
    staff_app: FastAPI, referral_desk: Harness
) -> None:
    hub = referral_desk
    hub.service.handle(
        referral("rules-sg", "safeguarding-concern", serial=23, family="fam-23", age=6, consent=True)
    )
    placed = _only(hub, "rules-sg")
    manager = proxy_headers(Role.HUB_MANAGER, "in-tendring")
    with http(staff_app) as client:
        sent = client.post(
            f"/v1/referrals/{placed.referral_id}/assign",
            json={"offer_id": FOOD_BANK},
            headers=manager,
        )
    assert sent.status_code == 409
    assert "never sent to a voluntary-sector service" in sent.json()["detail"]
    at_charity = dataclasses.replace(placed, offer_id=FOOD_BANK)
    charity = staff_from_principal(
        Principal("v", "V", Role.VOLUNTARY_SECTOR_WORKER, (TENDRING,), ("food-bank",)), hub.network
    )
    assert charity is not None
    assert not can_see(charity, at_charity, hub.service.receiving(at_charity))


def test_the_command_line_acts_only_as_an_account_of_the_receiving_service(tmp_path: Path) -> None:
    """`hubnet referrals act --by NAME` took any name: now NAME must be a hub staff account the
    inbox would let act, and every attempt is on the audit trail."""
    settings = Settings(data_dir=tmp_path)
    hub = Harness(store=ReferralStore.from_settings(settings))
    hub.service.handle(referral("rules-cli", "early-help-referral", serial=24, family="fam-24"))
    rid = _only(hub, "rules-cli").referral_id
    hub.store.close()
    users = UserStore.from_settings(settings)
    users.add("teacher", "long enough password", Role.SCHOOL_STAFF, [TENDRING])
    users.add(
        "worker", "long enough password", Role.HUB_PRACTITIONER, [TENDRING], services=["family-support"]
    )
    users.close()
    county = CountyStore.in_data_dir(settings)  # the pack the harness routed on, as `hubnet county load`
    county.add(demo_county_pack(), loaded_by="test")
    county.close()
    env = {**os.environ, "HUBNET_DATA_DIR": str(tmp_path), "HUBNET_LOG_FORMAT": "json"}
    env.pop("HUBNET_DATABASE_URL", None)

    def hubnet(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "services.cli", "referrals", "act", rid, *args],
            capture_output=True, text=True, env=env, timeout=120, check=False,
        )  # fmt: skip

    nobody = hubnet("accept", "--by", "someone-typed")
    assert nobody.returncode != 0
    assert "not an active hub staff account" in nobody.stderr
    teacher = hubnet("accept", "--by", "teacher")
    assert teacher.returncode != 0
    assert "not for a service or district you work in" in teacher.stderr
    worker = hubnet("accept", "--by", "worker")
    assert worker.returncode == 0, worker.stderr
    audit = AuditStore.from_settings(settings)
    trail = [(r["actor"], r["action"], r["outcome"]) for r in audit.audit_rows(target=rid)]
    audit.close()
    assert ("someone-typed", "referrals.accept", "denied") in trail
    assert ("teacher", "referrals.accept", "denied") in trail
    assert ("worker", "referrals.accept", "allowed") in trail
