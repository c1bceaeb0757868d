"""Every family and person page of a generated county, for every demo role, with no error page
(issue #20: families with more than 50 entries gave a bare 500, and the browser tests never opened
one), over each county the end-to-end tests run (issue #22: the `make run` demo county, and a small
county generated inside the London pack). Each county is loaded once (tests/e2e/demo_county.py)
and served by a real uvicorn server.

Exhaustive and cheap: each role signs in through a real HTTP client and opens every family and
person page, following "Older entries" to the last page; the hub manager, who sees the most,
every family through each domain filter and a date range too. Each kind of page (search results,
family first and later pages, filtered family, person, entry) is then opened in headless Chromium
once per role and scanned with axe-core: no serious or critical WCAG 2.x A/AA violation. Staff
scoped to one hub area of the county's pack open exactly the families the pack places there.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from html import unescape
from typing import Any

import httpx
import pytest

from services.timeline.policy import Role
from services.web.app import create_app
from services.web.routes_pages import DOMAIN_LABELS
from tests.e2e import test_timeline_browser
from tests.e2e.demo_county import COUNTIES, PASSWORD, County, DemoCounty, load
from tests.e2e.serving import served
from tests.e2e.test_timeline_browser import AXE

pytestmark = pytest.mark.e2e
browser = test_timeline_browser.browser  # the same module-scoped headless Chromium fixture
READERS = [role for role in Role if role is not Role.OPERATIONS]  # operations read no family
NEXT = re.compile(r'href="([^"]+)" rel="next"')
ENTRY = re.compile(r'href="(/entries/[^"]+)"')


@pytest.fixture(scope="module", params=COUNTIES, ids=lambda c: c.name)
def county(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[DemoCounty]:
    which: County = request.param
    loaded = load(tmp_path_factory.mktemp(which.name), which)
    yield loaded
    loaded.close()


@pytest.fixture(scope="module")
def server(county: DemoCounty) -> Iterator[str]:
    with served(create_app(county.store, county.users, county.audit, b"c" * 32)) as url:
        yield url


@contextmanager
def _signed_in(server: str, role: Role | str) -> Iterator[httpx.Client]:
    """A real HTTP client signed in as the role's demo account (or the account named)."""
    with httpx.Client(base_url=server, timeout=30) as client:
        yield _sign_in(client, role)


def _sign_in(client: httpx.Client, role: Role | str) -> httpx.Client:
    username = role.value if isinstance(role, Role) else role
    form = client.get("/sign-in").text
    token = re.search(r'name="csrf" value="([^"]+)"', form)
    assert token, "sign-in form without a CSRF token"
    answer = client.post("/sign-in", data={"username": username, "password": PASSWORD, "csrf": token[1]})
    assert answer.status_code in (200, 303), f"{username} could not sign in"
    return client


def _walk(client: httpx.Client, url: str, statuses: Counter[int], failures: list[str]) -> int:
    """Open `url` and every later page; count statuses, note any error page. The pages seen."""
    pages = 0
    next_url: str | None = url
    while next_url is not None:
        page = client.get(next_url)
        statuses[page.status_code] += 1
        pages += 1
        if page.status_code not in (200, 403):
            failures.append(f"{next_url}: {page.status_code}")
            return pages
        found = NEXT.search(page.text)
        next_url = unescape(found[1]) if found else None
    return pages


@pytest.mark.parametrize("role", list(Role), ids=lambda role: role.value)
def test_every_family_and_person_page_opens_for_every_role(
    role: Role, county: DemoCounty, server: str
) -> None:
    statuses: Counter[int] = Counter()
    failures: list[str] = []
    longest = 0
    with _signed_in(server, role) as client:
        for family in county.families:
            longest = max(longest, _walk(client, f"/families/{family}", statuses, failures))
            if role is Role.HUB_MANAGER:  # sees the most: every filter too
                for query in [*(f"domain={d}" for d in DOMAIN_LABELS), "since=2024-01-01&until=2025-12-31"]:
                    _walk(client, f"/families/{family}?{query}", statuses, failures)
        for person in county.persons:
            longest = max(longest, _walk(client, f"/persons/{person}", statuses, failures))
    assert failures == [], f"{role.value}: {failures[:10]}"
    if role in READERS:
        assert statuses[200] > 0, f"{role.value} read nothing"
    if role is Role.HUB_MANAGER:
        assert longest > 1, "the demo county has families with more than one page of entries"


def _axe_serious(page: Any, name: str) -> None:
    """No serious or critical WCAG 2.0/2.1/2.2 A or AA violation (axe-core)."""
    page.add_script_tag(path=str(AXE))
    result = page.evaluate(
        "async () => await axe.run(document, {runOnly: {type: 'tag', values: "
        "['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'wcag22aa']}})"
    )
    problems = [
        f"{v['id']} ({v['impact']}): {v['help']}"
        for v in result["violations"]
        if v["impact"] in ("serious", "critical")
    ]
    assert not problems, f"{name}: {problems}"


@pytest.mark.parametrize("role", READERS, ids=lambda role: role.value)
def test_each_kind_of_page_has_no_serious_accessibility_problem(
    role: Role, county: DemoCounty, server: str, browser: Any
) -> None:
    context = browser.new_context(bypass_csp=True)  # bypass only to inject axe
    page = context.new_page()
    page.goto(f"{server}/sign-in")
    page.fill("#username", role.value)
    page.fill("#password", PASSWORD)
    page.click("button:has-text('Sign in')")
    page.wait_for_load_state()
    kinds: dict[str, str] = {}
    with _signed_in(server, role) as client:  # find pages of each kind this role may open
        for family in county.families:
            first = client.get(f"/families/{family}")
            if first.status_code != 200:
                continue
            kinds.setdefault("family", f"/families/{family}")
            kinds.setdefault("filtered family", f"/families/{family}?domain=health")
            later = NEXT.search(first.text)
            if later:
                kinds.setdefault("family later page", unescape(later[1]))
            entry = ENTRY.search(first.text)
            if entry:
                kinds.setdefault("entry", entry[1])
            if len(kinds) == 4:
                break
        for person in county.persons:
            if client.get(f"/persons/{person}").status_code == 200:
                kinds["person"] = f"/persons/{person}"
                break
    people = (county.store.person(p) for p in county.persons)
    someone = next(p for p in people if p is not None and p.name and p.birth_date)
    kinds["search"] = f"/?family_name={someone.name.split()[-1]}&birth_date={someone.birth_date}"
    for kind, url in kinds.items():
        response = page.goto(url if url.startswith("http") else f"{server}{url}")
        assert response.status == 200, f"{role.value} {kind} {url}: {response.status}"
        assert page.locator(".govuk-error-summary, h1:has-text('Internal Server Error')").count() == 0
        _axe_serious(page, f"{role.value} {kind}")
    assert "family" in kinds, f"{role.value} opened no family"
    context.close()


def test_every_family_with_a_postcode_is_in_a_hub_area_of_the_countys_pack(county: DemoCounty) -> None:
    """The generated families live where the pack places them: no family whose records state a
    postcode is left to county-wide staff only for want of a hub area (one whose records state
    none rightly has no hub area), and the county spans more than one hub area."""
    stated = {f for f, postcode in county.postcodes.items() if postcode}
    assert stated
    assert {f: county.postcodes[f] for f in stated if county.areas[f] is None} == {}
    assert {f for f, area in county.areas.items() if area is None} == set(county.families) - stated
    placed = {county.areas[f] for f in stated}
    assert placed <= set(county.practitioners.values())
    assert len(placed) > 1


def test_staff_of_one_hub_area_open_exactly_its_families(county: DemoCounty, server: str) -> None:
    """A hub practitioner scoped to one hub area opens every family placed there and is refused
    every other one (README "Staff rules", rule 1), over real HTTP."""
    for username, area in county.practitioners.items():
        with _signed_in(server, username) as client:
            statuses = {f: client.get(f"/families/{f}").status_code for f in county.families}
        theirs = {f for f, a in county.areas.items() if a == area}
        assert {f for f, status in statuses.items() if status == 200} == theirs, username
        assert {f for f, status in statuses.items() if status == 403} == set(county.families) - theirs, (
            username
        )
