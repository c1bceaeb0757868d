"""Security matrix of every other staff read path that shows family or person data: search (API
and search page), family composition and person (API), referral inbox and detail (API and pages),
the identity review queue; and break-glass without a reason. Role x hub area x family, each cell
checked for the status, the presence or absence of the data, and the audit record.

The timeline reads themselves are in test_timeline_matrix.py; the county is tests/security/world.py.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from services.identity import api as identity_api
from services.identity.reviewers import REVIEWER_ROLES
from services.identity.service import IdentityService
from services.timeline.audit_store import AuditStore
from services.timeline.policy import Role
from services.timeline.store import TimelineStore
from services.web.routes_identity import review_scope, reviewer
from services.web.routes_referrals import install as install_referrals
from tests.security.staff_doors import REVIEW_PERSONS, UPN_OF, review_queue
from tests.security.world import (
    FAMILIES,
    SERVICES_OF,
    USER_AREAS,
    Family,
    GridEntry,
    may_break_glass,
    opens_family,
    personal_data,
    proxy_headers,
    user_name,
)
from tests.unit.referrals.support import CHELMSFORD, CLACTON, Harness, referral

pytestmark = pytest.mark.security
County = tuple[TimelineStore, list[GridEntry], AuditStore]
WHO = list(itertools.product(Role, USER_AREAS))
SEARCHED = ("fam-t", "fam-c")
CHILD_FAMILY = {f.child: f.family_id for f in FAMILIES.values()}


@pytest.fixture(scope="module")
def referral_hub(staff_app: FastAPI) -> dict[str, Any]:
    """Referral routing on the same app: one early-help referral per area (Tendring, Chelmsford)."""
    hub = Harness()
    install_referrals(staff_app, hub.service)
    hub.service.handle(referral("sec-t", "early-help-referral", serial=11, postcode=CLACTON, family="fam-t"))
    hub.service.handle(
        referral("sec-c", "early-help-referral", serial=12, postcode=CHELMSFORD, family="fam-c")
    )
    with TestClient(staff_app) as client:
        view = client.get("/v1/referrals/manager", headers=proxy_headers(Role.HUB_MANAGER, "county-wide"))
    placed = view.json()["at_services"]
    assert len(placed) == 2, view.text
    return {r["timeline"].rsplit("/", 1)[-1]: r for r in placed}  # family id -> referral summary


@pytest.fixture(scope="module")
def reviews(staff_app: FastAPI, tmp_path_factory: pytest.TempPathFactory) -> Iterator[IdentityService]:
    """The identity review queue on the same app: one review of two Tendring children, one of a
    Chelmsford child against a Tendring child (tests/security/staff_doors.py)."""
    folder: Path = tmp_path_factory.mktemp("identity")
    service = review_queue(folder)
    identity_api.install(staff_app, service, reviewer, review_scope)
    yield service
    service.store.close()


@pytest.fixture
def client(staff_app: FastAPI) -> Iterator[TestClient]:
    with TestClient(staff_app) as test_client:
        yield test_client


def _last_audit(store: AuditStore, user: str) -> dict[str, Any]:
    [last] = store.audit_rows(actor=user, limit=1)
    return last


def _queries(family: Family) -> dict[str, str]:
    return {
        "nhs-number": f"nhs_number={family.nhs}",
        "name-and-birth-date": f"family_name={family.family_name}&birth_date={family.birth}",
        "postcode": f"postcode={family.postcode.replace(' ', '+')}",
    }


@pytest.mark.parametrize(("role", "area"), WHO)
@pytest.mark.parametrize("family_id", SEARCHED)
def test_search_cells(client: TestClient, county: County, role: Role, area: str, family_id: str) -> None:
    _, _, trail = county
    family = FAMILIES[family_id]
    headers = proxy_headers(role, area)
    for kind, query in _queries(family).items():
        api = client.get(f"/v1/search?{query}", headers=headers)
        page = client.get(f"/?{query}", headers=headers)
        if role is Role.OPERATIONS:
            assert (api.status_code, page.status_code) == (403, 403), kind
            assert _last_audit(trail, user_name(role, area))["outcome"] == "denied"
            continue
        assert (api.status_code, page.status_code) == (200, 200), kind
        found = {p["person_id"] for p in api.json()["persons"]}
        visible = opens_family(role, USER_AREAS[area], family)
        assert (family.child in found) is visible, kind
        assert (f"/persons/{family.child}" in page.text) is visible, kind
        audit = _last_audit(trail, user_name(role, area))
        assert (audit["action"], audit["outcome"]) == ("person.search", "allowed")
        assert family.nhs not in str(audit), "search values are personal data: audited by kind only"


@pytest.mark.parametrize(("role", "area"), WHO)
@pytest.mark.parametrize("family_id", list(FAMILIES))
def test_family_and_person_composition_cells(
    client: TestClient, county: County, role: Role, area: str, family_id: str
) -> None:
    _, _, trail = county
    family = FAMILIES[family_id]
    for url in (f"/v1/families/{family.family_id}", f"/v1/persons/{family.child}"):
        response = client.get(url, headers=proxy_headers(role, area))
        if opens_family(role, USER_AREAS[area], family):
            assert response.status_code == 200, url
            assert family.given in response.text
            assert _last_audit(trail, user_name(role, area))["outcome"] == "allowed"
        else:
            assert response.status_code == 403, url
            for value in personal_data(family):
                assert value not in response.text
            assert _last_audit(trail, user_name(role, area))["outcome"] == "denied"


def _sees_referral(role: Role, area: str, family: Family) -> bool:
    """docs/referrals.md: staff see the referrals sent to the services they are assigned to, in
    their hub areas (a voluntary-sector worker only at voluntary-sector services); hub managers
    those of their districts; operations staff do no referral work. The matrix's referrals are
    early help, sent to the statutory family-support service."""
    if role is Role.OPERATIONS or USER_AREAS[area] not in ("*", family.area):
        return False
    assigned = role is not Role.VOLUNTARY_SECTOR_WORKER and "family-support" in SERVICES_OF.get(role, ())
    return role is Role.HUB_MANAGER or assigned


@pytest.mark.parametrize(("role", "area"), WHO)
def test_referral_inbox_and_detail_cells(
    client: TestClient, county: County, referral_hub: dict[str, Any], role: Role, area: str
) -> None:
    _, _, trail = county
    headers = proxy_headers(role, area)
    user = user_name(role, area)
    inbox_api = client.get("/v1/referrals/inbox", headers=headers)
    inbox_page = client.get("/referrals", headers=headers)
    if role is Role.OPERATIONS:
        assert (inbox_api.status_code, inbox_page.status_code) == (403, 403)
    for family_id, placed in referral_hub.items():
        family = FAMILIES[family_id]
        rid = placed["referral_id"]
        visible = _sees_referral(role, area, family)
        if role is not Role.HUB_MANAGER and role is not Role.OPERATIONS:
            assert (rid in inbox_api.text) is visible, family_id
        if role is not Role.OPERATIONS:
            assert (rid in inbox_page.text) is visible, family_id
        detail_api = client.get(f"/v1/referrals/{rid}", headers=headers)
        detail_page = client.get(f"/referrals/{rid}", headers=headers)
        if visible:
            assert (detail_api.status_code, detail_page.status_code) == (200, 200), family_id
            assert _last_audit(trail, user)["outcome"] == "allowed"
        else:
            assert detail_api.status_code == 403, family_id
            assert detail_page.status_code in (403, 404), family_id
            assert placed["offer_id"] not in detail_api.text + detail_page.text
            if role is not Role.OPERATIONS:  # operations are refused before any referral is looked up
                assert _last_audit(trail, user)["outcome"] == "denied"
        if not visible or role is Role.HUB_MANAGER:  # staff of the receiving service only (no change made)
            accepted = client.post(f"/v1/referrals/{rid}/accept", json={}, headers=headers)
            assert accepted.status_code == 403, family_id
            if role is not Role.OPERATIONS:
                audit = _last_audit(trail, user)
                assert (audit["action"], audit["outcome"]) == ("referrals.accept", "denied")


@pytest.mark.usefixtures("reviews")
@pytest.mark.parametrize(("role", "area"), WHO)
def test_identity_review_queue_cells(client: TestClient, county: County, role: Role, area: str) -> None:
    _, _, trail = county
    response = client.get("/v1/identity/reviews", headers=proxy_headers(role, area))
    audit = _last_audit(trail, user_name(role, area))
    assert audit["action"] == "identity.reviews.list"
    if role in {Role.HUB_MANAGER, Role.HUB_PRACTITIONER}:
        assert response.status_code == 200
        listed = {r["review_id"] for r in response.json()}
        opens = {  # a review is listed only when the reviewer may open both of its records
            review_id for review_id, persons in REVIEW_PERSONS.items()
            if all(opens_family(role, USER_AREAS[area], FAMILIES[CHILD_FAMILY[p]]) for p in persons)
        }  # fmt: skip
        assert listed == opens
        for review_id in set(REVIEW_PERSONS) - opens:
            assert UPN_OF[REVIEW_PERSONS[review_id][0]] not in response.text
        assert audit["outcome"] == "allowed"
    else:
        assert response.status_code == 403
        assert "review_id" not in response.text
        assert audit["outcome"] == "denied"
    assert (role in REVIEWER_ROLES) is (response.status_code == 200)


@pytest.mark.parametrize("role", [r for r in Role if may_break_glass(r)])
@pytest.mark.parametrize("reason", ["", "   ", "because"])
def test_break_glass_without_a_reason_is_refused(
    client: TestClient, county: County, role: Role, reason: str
) -> None:
    _, grid, trail = county
    family = FAMILIES["fam-t"]
    secret = next(e for e in grid if e.family is family and e.sensitivity.value == "V")
    headers = proxy_headers(role, "in-tendring")
    api = client.get(
        f"/v1/families/{family.family_id}/timeline", headers={**headers, "X-Break-Glass-Reason": reason}
    )
    assert api.status_code == 403
    assert secret.marker not in api.text
    audit = _last_audit(trail, user_name(role, "in-tendring"))
    assert (audit["action"], audit["outcome"]) == ("timeline.read.break-glass", "denied")
    form = client.get(f"/break-glass/families/{family.family_id}", headers=headers)
    token = form.text.split('name="csrf" value="', 1)[1].split('"', 1)[0]
    posted = client.post(
        f"/break-glass/families/{family.family_id}", data={"reason": reason, "csrf": token}, headers=headers
    )
    assert posted.status_code == 400
    page = client.get(f"/families/{family.family_id}", headers=headers)
    assert page.status_code == 200
    assert secret.marker not in page.text, (
        "no reason, no break-glass: the very restricted entry stays withheld"
    )
