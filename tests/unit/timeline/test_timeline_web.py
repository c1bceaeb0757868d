"""Hub staff web pages through the TestClient: sign-in with CSRF, search, family page with withheld
entries, break-glass with a mandatory reason, sign-out, security headers (no browser needed)."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from services.timeline.audit_store import AuditStore
from services.web.app import create_app
from tests.unit.timeline.events import NHS
from tests.unit.timeline.world import PASSWORD, build


@pytest.fixture
def web() -> Iterator[tuple[TestClient, AuditStore]]:
    store, users, audit = build()
    with TestClient(create_app(store, users, audit, b"s" * 32)) as client:
        yield client, audit.store
    store.close()


def csrf(html: str) -> str:
    found = re.search(r'name="csrf" value="([^"]+)"', html)
    assert found, "form without a CSRF token"
    return found.group(1)


def sign_in(client: TestClient, user: str, password: str = PASSWORD) -> int:
    token = csrf(client.get("/sign-in").text)
    form = {"username": user, "password": password, "csrf": token, "next": "/"}
    return client.post("/sign-in", data=form, follow_redirects=False).status_code


def test_pages_need_sign_in(web: tuple[TestClient, AuditStore]) -> None:
    client, _ = web
    response = client.get("/families/f1", follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"].startswith("/sign-in")


def test_sign_in_needs_csrf_and_the_right_password(web: tuple[TestClient, AuditStore]) -> None:
    client, _ = web
    client.get("/sign-in")
    bad = client.post("/sign-in", data={"username": "health-visitor", "password": PASSWORD, "csrf": "x"})
    assert bad.status_code == 400
    assert sign_in(client, "health-visitor", "not the password") == 401
    assert sign_in(client, "health-visitor") == 303


def test_search_family_and_withheld_entry(web: tuple[TestClient, AuditStore]) -> None:
    client, _ = web
    sign_in(client, "hub-practitioner")
    results = client.get(f"/?nhs_number={NHS[0]}")
    assert 'href="/persons/baby"' in results.text
    page = client.get("/families/f1")
    assert page.status_code == 200
    assert "6-8 week review</a>" in page.text
    assert "recorded by Essex hv (Health visiting)" in page.text
    assert "Restricted record withheld" in page.text
    assert 'href="/break-glass/families/f1"' in page.text
    assert "{&#34;" not in page.text  # never raw JSON on the timeline
    assert client.get("/families/f3").status_code == 403


def test_break_glass_needs_a_reason_then_shows_and_audits(web: tuple[TestClient, AuditStore]) -> None:
    client, store = web
    sign_in(client, "hub-practitioner")
    token = csrf(client.get("/break-glass/families/f1").text)
    refused = client.post("/break-glass/families/f1", data={"reason": "", "csrf": token})
    assert refused.status_code == 400
    assert "Enter the reason" in refused.text
    reason = "Police welfare check requested tonight"
    done = client.post(
        "/break-glass/families/f1", data={"reason": reason, "csrf": token}, follow_redirects=True
    )
    assert "Break-glass access is on" in done.text
    assert "Restricted record withheld" not in done.text
    assert store.audit_rows(actor="hub-practitioner", limit=1)[0]["reason"] == reason


def test_school_staff_cannot_break_glass(web: tuple[TestClient, AuditStore]) -> None:
    client, _ = web
    sign_in(client, "school-staff")
    token = csrf(client.get("/break-glass/families/f1").text)
    response = client.post(
        "/break-glass/families/f1", data={"reason": "I would like to see it all", "csrf": token}
    )
    assert response.status_code == 403


def test_entry_page_shows_fhir_and_person_page_lists_families(web: tuple[TestClient, AuditStore]) -> None:
    client, _ = web
    sign_in(client, "health-visitor")
    person = client.get("/persons/baby")
    assert 'href="/families/f1"' in person.text
    link = re.search(r'href="/entries/([0-9a-f-]+)"', person.text)
    assert link
    entry = client.get(f"/entries/{link.group(1)}")
    assert "FHIR resources" in entry.text
    assert '"resourceType": "Encounter"' in entry.text


def test_sign_out_and_security_headers(web: tuple[TestClient, AuditStore]) -> None:
    client, _ = web
    sign_in(client, "health-visitor")
    page = client.get("/")
    assert "default-src 'self'" in page.headers["content-security-policy"]
    assert page.headers["x-frame-options"] == "DENY"
    assert "<script" not in page.text
    client.post("/sign-out", data={"csrf": csrf(page.text)})
    assert client.get("/", follow_redirects=False).status_code == 303


def test_operations_staff_land_on_the_ops_page_not_a_family_search(
    web: tuple[TestClient, AuditStore],
) -> None:
    client, _ = web
    sign_in(client, "operations")
    response = client.get("/", follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"] == "/ops"
    sign_in(client, "hub-practitioner")
    assert client.get("/", follow_redirects=False).status_code == 200
