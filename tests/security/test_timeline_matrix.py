"""Security matrix of the family timeline over HTTP: every read path of the API and the staff
pages x role x the user's hub area x family (in area, other area, consent withdrawn) x break-glass,
and within each response every entry of the domain x sensitivity grid (tests/security/world.py).

A denied cell must be denied (status, and none of the family's entries or personal data in the
body, and a `denied` audit record); an allowed cell must show exactly what the rules say: shown
entries with their content, withheld ones listed without it, hidden ones not at all. The expected
answers come from the role table in tests/unit/timeline/test_timeline_policy.py, which states the
rules of docs/timeline.md independently of services/timeline/policy.py.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from httpx import Response

from schemas.event_types import Domain
from services.timeline.audit_store import AuditStore
from services.timeline.policy import Role, Visibility
from services.timeline.store import TimelineStore
from tests.security.world import (
    EVERYDAY_NOTE,
    FAMILIES,
    SENSITIVE_NOTE,
    SENSITIVE_TITLE,
    USER_AREAS,
    Family,
    GridEntry,
    expected,
    free_text_event,
    may_break_glass,
    opens_family,
    personal_data,
    proxy_headers,
    reads_sensitive_text,
    sees_domain,
    user_name,
)

pytestmark = pytest.mark.security
REASON = "Safeguarding concern phoned in by the school at 09:10"
LISTINGS = ("api-family", "api-person", "api-fhir", "page-family", "page-person")
ENTRY_PATHS = ("api-entry", "page-entry")
County = tuple[TimelineStore, list[GridEntry], AuditStore]


@dataclass(frozen=True)
class Cell:
    """Who asks (role, hub area) about which family, with or without break-glass."""

    role: Role
    area: str
    family: Family
    glass: bool

    @property
    def user(self) -> str:
        return user_name(self.role, self.area)

    @property
    def opens_family(self) -> bool:
        return opens_family(self.role, USER_AREAS[self.area], self.family)


CELLS = [
    pytest.param(Cell(role, area, FAMILIES[family], glass), id=f"{role}-{area}-{family}-glass={glass}")
    for role, area, family, glass in itertools.product(Role, USER_AREAS, FAMILIES, (False, True))
]


@pytest.fixture
def client(staff_app: FastAPI) -> Iterator[TestClient]:
    with TestClient(staff_app) as test_client:
        yield test_client


def _listing_url(path: str, family: Family) -> str:
    return {
        "api-family": f"/v1/families/{family.family_id}/timeline?limit=200",
        "api-person": f"/v1/persons/{family.child}/timeline?limit=200",
        "api-fhir": f"/v1/families/{family.family_id}/timeline?limit=200&format=fhir",
        "page-family": f"/families/{family.family_id}",
        "page-person": f"/persons/{family.child}",
    }[path]


def _break_glass_on_page(client: TestClient, headers: dict[str, str], family: Family) -> int:
    """The page flow: the form (for its CSRF token), then the reason; the grant lives in the session."""
    form = client.get(f"/break-glass/families/{family.family_id}", headers=headers)
    token = re.search(r'name="csrf" value="([^"]+)"', form.text)
    assert token, form.text
    answer = client.post(
        f"/break-glass/families/{family.family_id}",
        data={"reason": REASON, "csrf": token[1]},
        headers=headers,
        follow_redirects=False,
    )
    status: int = answer.status_code
    return status


def _get(client: TestClient, path: str, url: str, cell: Cell) -> tuple[Response, bool]:
    """The response and whether break-glass is in force for it (asked for and allowed)."""
    headers = proxy_headers(cell.role, cell.area)
    if cell.glass and path.startswith("page"):
        status = _break_glass_on_page(client, headers, cell.family)
        assert status == (303 if may_break_glass(cell.role) else 403), f"break-glass form answered {status}"
        return client.get(url, headers=headers), may_break_glass(cell.role)
    if cell.glass:
        headers["X-Break-Glass-Reason"] = REASON
    return client.get(url, headers=headers), cell.glass


def _assert_denied(response: Response, store: AuditStore, user: str, grid: list[GridEntry]) -> None:
    assert response.status_code == 403, response.text[:300]
    for entry in grid:
        assert entry.marker not in response.text
    [last] = store.audit_rows(actor=user, limit=1)
    assert last["outcome"] == "denied", last


def _assert_audited_allowed(store: AuditStore, user: str) -> None:
    [last] = store.audit_rows(actor=user, limit=1)
    assert last["outcome"] == "allowed", last


def _json_cells(body: dict[str, Any], entry: GridEntry, want: Visibility) -> None:
    found = [e for e in body["entries"] if e["event_id"] == entry.event_id]
    if want is Visibility.HIDDEN:
        assert found == []
        return
    [item] = found
    assert item["visibility"] == want.value
    assert (entry.marker in str(item)) is (want is Visibility.SHOWN)


def _fhir_cells(body: dict[str, Any], text: str, grid: list[GridEntry], wants: list[Visibility]) -> None:
    for entry, want in zip(grid, wants, strict=True):
        assert (entry.marker in text) is (want is Visibility.SHOWN), entry.marker
    outcomes = [e for e in body["entry"] if e["resource"]["resourceType"] == "OperationOutcome"]
    assert len(outcomes) == wants.count(Visibility.WITHHELD)


def _page_cells(text: str, entry: GridEntry, want: Visibility) -> None:
    assert (entry.marker in text) is (want is Visibility.SHOWN), entry.marker
    assert (entry.listed_day in text) is (want is not Visibility.HIDDEN), entry.listed_day


@pytest.mark.parametrize("path", LISTINGS)
@pytest.mark.parametrize("cell", CELLS)
def test_timeline_listing_cells(client: TestClient, county: County, path: str, cell: Cell) -> None:
    _, everything, trail = county
    role, family = cell.role, cell.family
    grid = [e for e in everything if e.family is family]
    response, in_force = _get(client, path, _listing_url(path, family), cell)
    refused_glass = cell.glass and not may_break_glass(role) and path.startswith("api")
    if not cell.opens_family or refused_glass:
        _assert_denied(response, trail, cell.user, grid)
        if not refused_glass:
            for value in personal_data(family):
                assert value not in response.text
        return
    assert response.status_code == 200, response.text[:300]
    _assert_audited_allowed(trail, cell.user)
    wants = [expected(role, entry, in_force) for entry in grid]
    if path == "api-fhir":
        _fhir_cells(response.json(), response.text, grid, wants)
        return
    for entry, want in zip(grid, wants, strict=True):
        if path.startswith("api"):
            _json_cells(response.json(), entry, want)
        else:
            _page_cells(response.text, entry, want)
    if path.startswith("api"):  # the partner filter names only partners of entries listed to this role
        body = response.json()
        assert set(body["partners"]) == {e["partner"] for e in body["entries"]}
    else:
        assert ("control-partner" in response.text) is sees_domain(role, Domain.HEALTH)


@pytest.mark.parametrize("path", ENTRY_PATHS)
@pytest.mark.parametrize("cell", CELLS)
def test_entry_detail_cells(client: TestClient, county: County, path: str, cell: Cell) -> None:
    _, everything, trail = county
    for entry in (e for e in everything if e.family is cell.family):
        url = f"/v1/entries/{entry.event_id}" if path == "api-entry" else f"/entries/{entry.event_id}"
        response, in_force = _get(client, path, url, cell)
        refused_glass = cell.glass and not may_break_glass(cell.role) and path == "api-entry"
        want = expected(cell.role, entry, in_force)
        if not cell.opens_family or refused_glass or want is Visibility.HIDDEN:
            _assert_denied(response, trail, cell.user, [entry])
            continue
        assert response.status_code == 200, (entry.marker, response.text[:300])
        _assert_audited_allowed(trail, cell.user)
        assert (entry.marker in response.text) is (want is Visibility.SHOWN), entry.marker
        if path == "api-entry":
            assert ("resources" in response.json()) is (want is Visibility.SHOWN)


FREE_TEXT_PATHS = ("api-family", "api-fhir", "page-family", "api-entry", "page-entry")
WITHHELD_TEXT = "withheld: free text"


@pytest.mark.parametrize("path", FREE_TEXT_PATHS)
@pytest.mark.parametrize("cell", CELLS)
def test_free_text_cells(client: TestClient, county: County, path: str, cell: Cell) -> None:
    """Issue #18 finding 7: free text in an entry labelled normal (an OBX-5 string naming domestic
    abuse, child protection and HIV) shows only to roles that may see restricted entries of those
    domains, or under break-glass; elsewhere "withheld: free text", while everyday text shows."""
    if not cell.opens_family or not sees_domain(cell.role, Domain.HEALTH):
        return  # refused or hidden: test_timeline_listing_cells and test_entry_detail_cells hold these
    event_id = free_text_event(cell.family).event.event_id
    entry_urls = {"api-entry": f"/v1/entries/{event_id}", "page-entry": f"/entries/{event_id}"}
    url = entry_urls.get(path) or _listing_url(path, cell.family)
    response, in_force = _get(client, path, url, cell)
    if cell.glass and not may_break_glass(cell.role) and path.startswith("api"):
        assert response.status_code == 403
        return
    assert response.status_code == 200, response.text[:300]
    reads = reads_sensitive_text(cell.role, in_force)
    assert (SENSITIVE_TITLE in response.text) is reads, "the title is made from the partner's text"
    if path in {"api-family", "page-family"}:
        return  # listings show titles, not resources
    assert (SENSITIVE_NOTE in response.text) is reads
    assert (WITHHELD_TEXT in response.text) is not reads
    assert EVERYDAY_NOTE.replace("'", "&#39;") in response.text or EVERYDAY_NOTE in response.text


def test_the_grid_covers_every_rule(county: County) -> None:
    """The matrix would prove little if the county lacked a kind of cell: each visibility occurs
    for some role, and every family has every domain x sensitivity."""
    _, grid, _audit = county
    assert len(grid) == 3 * 5 * 3
    seen = {expected(role, entry, glass) for role in Role for entry in grid for glass in (False, True)}
    assert seen == set(Visibility)
