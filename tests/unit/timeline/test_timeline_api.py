"""Timeline API and access enforcement over HTTP (FastAPI TestClient, no broker): search, family
composition, paging, filters, FHIR searchset, withheld entries, consent, break-glass, audit."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient

from services.timeline.access import NOT_OPEN
from services.timeline.audit_store import AuditStore
from services.web.app import create_app
from tests.unit.timeline.events import NHS
from tests.unit.timeline.world import PASSWORD, build


@pytest.fixture
def world() -> Iterator[tuple[TestClient, AuditStore]]:
    store, users, audit = build()
    with TestClient(create_app(store, users, audit, b"k" * 32)) as client:
        yield client, audit.store
    store.close()


def get(client: TestClient, user: str, url: str, **headers: str) -> tuple[int, dict[str, Any]]:
    response = client.get(url, auth=(user, PASSWORD), headers=headers)
    return response.status_code, response.json()


def test_no_credentials_is_401(world: tuple[TestClient, AuditStore]) -> None:
    client, _ = world
    assert client.get("/v1/families/f1/timeline").status_code == 401
    assert client.get("/v1/families/f1", auth=("health-visitor", "wrong password")).status_code == 401


def test_search_by_each_key_within_area_only(world: tuple[TestClient, AuditStore]) -> None:
    client, _ = world
    _, found = get(
        client, "hub-practitioner", f"/v1/search?nhs_number={NHS[0][:3]} {NHS[0][3:6]} {NHS[0][6:]}"
    )
    assert [p["person_id"] for p in found["persons"]] == ["baby"]
    _, found = get(client, "hub-practitioner", "/v1/search?family_name=JONES&birth_date=1994-02-03")
    assert [p["person_id"] for p in found["persons"]] == ["mum"]
    _, found = get(client, "hub-practitioner", "/v1/search?postcode=co151ab")
    assert {p["person_id"] for p in found["persons"]} == {"mum", "baby", "kid2"}
    _, found = get(client, "hub-practitioner", f"/v1/search?nhs_number={NHS[3]}")
    assert found["persons"] == []  # lives in Chelmsford
    _, found = get(client, "county-manager", f"/v1/search?nhs_number={NHS[3]}")
    assert [p["person_id"] for p in found["persons"]] == ["far"]
    status, _ = get(client, "hub-practitioner", "/v1/search")
    assert status == 400
    assert get(client, "operations", "/v1/search?postcode=CO15 1AB")[0] == 403


def test_family_composition(world: tuple[TestClient, AuditStore]) -> None:
    client, _ = world
    status, family = get(client, "school-staff", "/v1/families/f1")
    assert status == 200
    assert family["hub_area"] == "E07000076"
    assert {(m["person_id"], m["role"]) for m in family["members"]} == {("mum", "carer"), ("baby", "child")}
    assert family["relationships"] == [{"person_id": "baby", "related_id": "mum", "relationship": "mother"}]


def test_out_of_area_family_is_refused_and_audited(world: tuple[TestClient, AuditStore]) -> None:
    client, store = world
    status, body = get(client, "health-visitor", "/v1/families/f3/timeline")
    assert status == 403
    assert body["detail"] == NOT_OPEN  # the same answer as for an id that does not exist
    [row] = store.audit_rows(actor="health-visitor", limit=1)
    assert (row["action"], row["target"], row["outcome"]) == ("timeline.read", "f3", "denied")
    assert "outside your hub area" in row["reason"]  # the real reason, for the audit only


def test_restricted_entry_withheld_then_shown_with_break_glass(
    world: tuple[TestClient, AuditStore],
) -> None:
    client, store = world
    _, page = get(client, "hub-practitioner", "/v1/families/f1/timeline")
    [withheld] = [e for e in page["entries"] if e["visibility"] == "withheld"]
    assert "summary" not in withheld
    assert "how_to_request_access" in withheld
    short = get(client, "hub-practitioner", "/v1/families/f1/timeline", **{"X-Break-Glass-Reason": "why"})
    assert short[0] == 403
    reason = "Child reported at risk tonight, out of hours duty"
    _, page = get(client, "hub-practitioner", "/v1/families/f1/timeline", **{"X-Break-Glass-Reason": reason})
    assert page["break_glass"] is True
    assert all(e["visibility"] == "shown" for e in page["entries"])
    [row] = store.audit_rows(actor="hub-practitioner", limit=1)
    assert (row["action"], row["reason"]) == ("timeline.read.break-glass", reason)
    assert (
        get(client, "school-staff", "/v1/families/f1/timeline", **{"X-Break-Glass-Reason": reason})[0] == 403
    )


def test_social_worker_sees_restricted_social_care_without_break_glass(
    world: tuple[TestClient, AuditStore],
) -> None:
    client, _ = world
    _, page = get(client, "social-worker", "/v1/families/f1/timeline?domain=social-care")
    assert [e["visibility"] for e in page["entries"]] == ["shown"]


def test_domains_per_role(world: tuple[TestClient, AuditStore]) -> None:
    client, _ = world
    _, page = get(client, "voluntary-sector-worker", "/v1/families/f1/timeline")
    assert {e["domain"] for e in page["entries"]} == {"community"}
    _, page = get(client, "school-staff", "/v1/families/f1/timeline")
    assert {e["domain"] for e in page["entries"]} == {"community", "education"}


def test_consent_withdrawal_hides_partner(world: tuple[TestClient, AuditStore]) -> None:
    client, _ = world
    _, page = get(client, "hub-manager", "/v1/families/f2/timeline")
    assert "food-bank" not in {e["partner"] for e in page["entries"]}
    assert "food-bank" not in page["partners"]
    _, page = get(client, "hub-manager", "/v1/persons/kid2/timeline")
    assert "food-bank" not in {e["partner"] for e in page["entries"]}


def test_paging_filters_and_bad_cursor(world: tuple[TestClient, AuditStore]) -> None:
    client, _ = world
    _, first = get(client, "health-visitor", "/v1/families/f1/timeline?limit=2")
    _, rest = get(
        client, "health-visitor", f"/v1/families/f1/timeline?limit=10&cursor={first['next_cursor']}"
    )
    _, whole = get(client, "health-visitor", "/v1/families/f1/timeline?limit=10")
    ids = [e["event_id"] for e in first["entries"] + rest["entries"]]
    assert ids == [e["event_id"] for e in whole["entries"]]
    assert len(ids) == 5
    assert rest["next_cursor"] is None
    _, only = get(
        client, "health-visitor", "/v1/families/f1/timeline?partner=school&since=2024-04-15T00:00:00Z"
    )
    assert [e["partner"] for e in only["entries"]] == ["school"]
    assert get(client, "health-visitor", "/v1/families/f1/timeline?cursor=nonsense")[0] == 400


def test_fhir_searchset_bundle(world: tuple[TestClient, AuditStore]) -> None:
    client, _ = world
    _, bundle = get(client, "hub-practitioner", "/v1/families/f1/timeline?format=fhir&limit=2")
    assert bundle["resourceType"] == "Bundle"
    assert bundle["type"] == "searchset"
    assert {link["relation"] for link in bundle["link"]} == {"self", "next"}
    modes = {e["search"]["mode"] for e in bundle["entry"]}
    assert modes <= {"match", "outcome"}
    from fhir.resources.R4B.bundle import Bundle

    Bundle.model_validate(bundle)


def test_entry_detail_has_resources_unless_withheld(world: tuple[TestClient, AuditStore]) -> None:
    client, _ = world
    _, page = get(client, "hub-practitioner", "/v1/families/f1/timeline")
    shown = next(e for e in page["entries"] if e["visibility"] == "shown" and e["domain"] == "health")
    withheld = next(e for e in page["entries"] if e["visibility"] == "withheld")
    assert get(client, "hub-practitioner", f"/v1/entries/{shown['event_id']}")[1]["resources"]
    assert "resources" not in get(client, "hub-practitioner", f"/v1/entries/{withheld['event_id']}")[1]
    assert get(client, "voluntary-sector-worker", f"/v1/entries/{shown['event_id']}")[0] == 403


def test_every_read_is_audited(world: tuple[TestClient, AuditStore]) -> None:
    """Audit completeness: each call, allowed or denied, leaves exactly one record naming who,
    role, what, why, when; search values never appear in it."""
    client, store = world
    calls = [
        ("/v1/families/f1", "family.read", "f1", "allowed"),
        ("/v1/families/f1/timeline", "timeline.read", "f1", "allowed"),
        ("/v1/persons/baby", "person.read", "baby", "allowed"),
        ("/v1/persons/baby/timeline", "timeline.read", "baby", "allowed"),
        ("/v1/persons/far", "person.read", "far", "denied"),
        ("/v1/families/f3", "family.read", "f3", "denied"),
        (f"/v1/search?nhs_number={NHS[0]}", "person.search", "1 persons", "allowed"),
    ]
    for url, action, target, outcome in calls:
        before = len(store.audit_rows(limit=1000))
        client.get(url, auth=("health-visitor", PASSWORD))
        rows = store.audit_rows(limit=1000)
        assert len(rows) == before + 1, url
        row = rows[0]
        assert (row["action"], row["target"], row["outcome"]) == (action, target, outcome)
        assert row["actor"] == "health-visitor"
        assert row["actor_role"] == "health-visitor"
        assert row["reason"]
        assert row["at"]
        assert NHS[0] not in str(row)
