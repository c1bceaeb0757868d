"""The identity review API on the real staff app: signed-in reviewers only, decided_by from the
session, every attempt audited."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from services.identity import api
from services.identity.service import IdentityService
from services.identity.store import IdentityStore
from services.web.app import create_app
from services.web.routes_identity import review_scope, reviewer
from tests.unit.identity.events import event, person
from tests.unit.timeline.world import PASSWORD, build


@pytest.fixture
def staff(tmp_path: Path) -> Iterator[tuple[TestClient, IdentityService, object]]:
    store, users, audit = build()
    identity = IdentityService(IdentityStore.open(tmp_path / "identity.sqlite"))
    for number, row in enumerate([
        person("Amy", "Jones", "2019-05-02", "female", "CO15 1AB", local=("gp", "1")),
        person("Amy", "Smith", "2019-05-02", "female", "CM1 2AB", local=("vcs", "2")),
    ]):  # fmt: skip
        identity.link(event(row, f"r{number}"))
    app = create_app(store, users, audit, b"s" * 32)
    api.install(app, identity, reviewer, review_scope)
    with TestClient(app) as client:
        yield client, identity, audit.store
    identity.store.close()
    store.close()


def test_only_hub_managers_and_practitioners_review_and_every_attempt_is_audited(
    staff: tuple[TestClient, IdentityService, object],
) -> None:
    client, identity, store = staff
    assert client.get("/v1/identity/reviews").status_code == 401
    assert client.get("/v1/identity/reviews", auth=("health-visitor", PASSWORD)).status_code == 403
    assert client.get("/v1/identity/reviews", auth=("hub-manager", PASSWORD)).json() == [], (
        "records not on the timeline yet have no known hub area: only county-wide reviewers see them"
    )
    (review,) = client.get("/v1/identity/reviews", auth=("county-manager", PASSWORD)).json()
    decided = client.post(
        f"/v1/identity/reviews/{review['review_id']}/reject",
        json={"reason": "different children", "decided_by": "someone else"},
        auth=("county-manager", PASSWORD),
    )
    assert decided.status_code == 200
    (row,) = identity.store.reviews(None)
    assert row["decided_by"] == "county-manager"
    trail = [(r["actor"], r["action"], r["outcome"]) for r in store.audit_rows()]  # type: ignore[attr-defined]
    assert ("health-visitor", "identity.reviews.list", "denied") in trail
    assert ("hub-manager", "identity.reviews.list", "allowed") in trail
    assert ("county-manager", "identity.review.reject", "allowed") in trail
