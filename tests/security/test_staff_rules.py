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

from services.identity import api as identity_api
from services.identity.service import IdentityService
from services.timeline.audit import AuditTrail
from services.timeline.policy import Role
from services.timeline.store import TimelineStore
from services.timeline.users import UserStore
from services.web.app import create_app
from services.web.routes_identity import review_scope, reviewer
from tests.security.staff_doors import ACROSS_REVIEW, IN_AREA_REVIEW, UPN_OF, http, review_queue
from tests.security.world import GridEntry, build_store, proxy_headers, user_name

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
