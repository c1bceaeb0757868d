"""The review queue over HTTP (FastAPI TestClient, no broker): list, confirm, reject, conflicts."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from services.identity.api import install
from services.identity.service import IdentityService
from services.identity.store import IdentityStore
from tests.unit.identity.events import event, person


@pytest.fixture
def client(tmp_path: Path) -> Iterator[tuple[TestClient, IdentityService]]:
    store = IdentityStore.open(tmp_path / "identity.sqlite")
    service = IdentityService(store)
    rows = [
        person("Amy", "Jones", "2019-05-02", "female", "CO15 1AB", local=("gp", "1")),
        person("Amy", "Smith", "2019-05-02", "female", "CM1 2AB", local=("vcs", "2")),
        person("Ben", "Patel", "2015-01-01", "male", "SS1 1AB", local=("gp", "3")),
        person("Ben", "Price", "2015-01-01", "male", "SS2 2AB", local=("vcs", "4")),
    ]
    for number, row in enumerate(rows):
        service.link(event(row, f"r{number}"))
    app = FastAPI()
    install(
        app, service, reviewer=lambda _request, _action, _target, _persons: "alice", scope=lambda _r, _p: True
    )
    yield TestClient(app), service
    store.close()


def test_list_confirm_and_reject(client: tuple[TestClient, IdentityService]) -> None:
    http, service = client
    reviews = http.get("/v1/identity/reviews").json()
    assert len(reviews) == 2
    assert reviews[0]["score"]["given"][0] == "exact"
    body = {"reason": "same child"}
    confirmed = http.post(f"/v1/identity/reviews/{reviews[0]['review_id']}/confirm", json=body)
    assert confirmed.status_code == 200
    assert confirmed.json()["kept"] == reviews[0]["candidate_id"]
    rejected = http.post(f"/v1/identity/reviews/{reviews[1]['review_id']}/reject", json=body)
    assert rejected.json()["status"] == "rejected"
    assert http.get("/v1/identity/reviews").json() == []
    again = http.post(f"/v1/identity/reviews/{reviews[1]['review_id']}/confirm", json=body)
    assert again.status_code == 409
    assert "already rejected" in again.json()["detail"]
    assert http.post("/v1/identity/reviews/nope/reject", json=body).status_code == 409
    assert len(service.store.notices()) == 1
    decided = http.get("/v1/identity/reviews", params={"status": ""}).json()
    assert {r["decided_by"] for r in decided} == {"alice"}, "the signed-in reviewer, never the body"
