"""Staff rules of issue #18 (finding 7 and the audit items of 9), each through the real HTTP server:
identity reviews only where the reviewer may open both records; referrals acted on only by staff of
the receiving service; free text withheld unless classified normal; refusals audited.

The role x area matrices themselves are in test_staff_reads.py and test_timeline_matrix.py; the
county is tests/security/world.py.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI
from structlog.testing import capture_logs

from services.core.settings import Settings
from services.identity import api as identity_api
from services.identity.service import IdentityService
from services.timeline.audit import AuditTrail
from services.timeline.policy import Role
from services.timeline.store import TimelineStore
from services.timeline.users import UserStore
from services.web import routes_ops
from services.web.app import create_app
from services.web.routes_identity import review_scope, reviewer
from services.web.routes_referrals import install as install_referrals
from tests.security.staff_doors import ACROSS_REVIEW, IN_AREA_REVIEW, UPN_OF, http, review_queue
from tests.security.world import GridEntry, build_store, proxy_headers, user_name
from tests.unit.gateway.support import ListPublisher
from tests.unit.referrals.support import Harness

pytestmark = pytest.mark.security


@pytest.fixture
def county() -> Iterator[tuple[TimelineStore, list[GridEntry]]]:
    store, grid = build_store()
    yield store, grid
    store.close()


@pytest.fixture
def staff_app(county: tuple[TimelineStore, list[GridEntry]]) -> Iterator[FastAPI]:
    store, _ = county
    users = UserStore.open(":memory:")
    yield create_app(store, users, AuditTrail(store), b"r" * 32, trust_proxy=True)
    users.close()


@pytest.fixture
def reviews(staff_app: FastAPI, tmp_path: Path) -> Iterator[IdentityService]:
    service = review_queue(tmp_path)
    identity_api.install(staff_app, service, reviewer, review_scope)
    yield service
    service.store.close()


def _last_audit(store: TimelineStore, user: str) -> dict[str, Any]:
    [last] = store.audit_rows(actor=user, limit=1)
    return last


def test_a_colchester_style_practitioner_cannot_list_or_reject_a_review_outside_their_area(
    staff_app: FastAPI, reviews: IdentityService, county: tuple[TimelineStore, list[GridEntry]]
) -> None:
    """Finding 7: a practitioner of one area listed another area's child's UPN and rejected a match."""
    store, _ = county
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
            audit = _last_audit(store, user_name(Role.HUB_PRACTITIONER, "in-chelmsford"))
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
    staff_app: FastAPI, county: tuple[TimelineStore, list[GridEntry]], role: Role, reason: str, status: int
) -> None:
    """Finding 9: the API audited break-glass refusals, the web form did not."""
    store, _ = county
    headers = proxy_headers(role, "in-tendring")
    with http(staff_app) as client:
        token = _csrf(client.get("/break-glass/families/fam-t", headers=headers).text)
        posted = client.post(
            "/break-glass/families/fam-t", data={"reason": reason, "csrf": token}, headers=headers
        )
    assert posted.status_code == status
    audit = _last_audit(store, user_name(role, "in-tendring"))
    assert (audit["action"], audit["target"], audit["outcome"]) == (
        "timeline.read.break-glass",
        "fam-t",
        "denied",
    )
    assert audit["reason"]


def test_asking_the_referral_api_for_an_unknown_referral_is_audited(
    staff_app: FastAPI, county: tuple[TimelineStore, list[GridEntry]]
) -> None:
    """Finding 9: a 404 from /v1/referrals left no trace, so probing for ids went unseen."""
    store, _ = county
    install_referrals(staff_app, Harness().service)
    headers = proxy_headers(Role.HUB_MANAGER, "in-tendring")
    user = user_name(Role.HUB_MANAGER, "in-tendring")
    with http(staff_app) as client:
        assert client.get("/v1/referrals/ref-guessed", headers=headers).status_code == 404
        audit = _last_audit(store, user)
        assert (audit["action"], audit["target"], audit["outcome"]) == (
            "referrals.read",
            "ref-guessed",
            "denied",
        )
        acted = client.post("/v1/referrals/ref-guessed/accept", json={}, headers=headers)
        assert acted.status_code == 404
        audit = _last_audit(store, user)
        assert (audit["action"], audit["outcome"]) == ("referrals.accept", "denied")


def test_the_dead_letter_reason_filter_is_never_written_to_the_audit_trail_or_logs(
    staff_app: FastAPI, county: tuple[TimelineStore, list[GridEntry]], tmp_path: Path
) -> None:
    """Finding 9: an operator's free-text filter (here a child's name and NHS number copied from a
    dead letter) was kept verbatim in the audit record's target and its log line."""
    store, _ = county
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
    audit = _last_audit(store, user_name(Role.OPERATIONS, "county-wide"))
    assert audit["action"] == "ops.dlq.list"
    assert audit["target"] == f"partner=nhs-hv&reason=({len(typed)} characters)"
    for word in typed.split():
        assert word not in str(audit)
        assert word not in str(logs)
    staff_app.state.ops.store.close()
