"""A health visitor's morning on the `make run` demo county, step by step as the README's
"A health visitor's morning on `make run`" walks it (issue #20), in headless Chromium (Debian's
`chromium` through Playwright, as tests/e2e/test_timeline_browser.py) against a real uvicorn server:
the demo account `health-visitor` sees what waits on it, finds the family, reads the summary,
records the family's consent (the food bank's held referral is released through the real router),
then accepts, starts and completes the referral the county's health visitors sent to its infant
feeding or Talk Together service. Each page is checked with axe-core. Screenshots go to
test-artifacts/e2e-referrals/, or to docs/screenshots/ when SCREENSHOTS=docs is set (the committed
ones were taken so).

The demo county is loaded as tests/e2e/demo_county.py does (its connectors, identity, timeline and
referral routing, no broker); what the consent form queues is delivered to the same identity,
timeline and referral services, as the workers of `make run` do.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from html import unescape
from pathlib import Path
from typing import Any

import httpx
import pytest

from schemas.envelope import HubEvent
from schemas.topics import EVENTS
from services.cli.users import DEMO_SERVICES
from services.county.pack import read_pack
from services.reference.files import KINDS
from services.referrals.lifecycle import Status
from services.referrals.store import Referral
from services.synthetic.county_pack import PACK_DIR
from services.synthetic.registrations import county_partners
from services.timeline.audit import AuditTrail
from services.timeline.audit_store import AuditStore
from services.timeline.policy import Role
from services.web import routes_consent, routes_referrals
from services.web.app import create_app
from services.web.referral_words import need_words
from tests.e2e.demo_county import COUNTIES, PASSWORD, County, DemoCounty, load
from tests.e2e.serving import served
from tests.e2e.test_demo_county_pages import _sign_in as _client_sign_in
from tests.e2e.test_timeline_browser import _axe, browser  # noqa: F401 - the shared browser fixture
from tests.security.test_referral_ui_http import _csrf
from tests.unit.gateway.support import ListPublisher

pytestmark = pytest.mark.e2e
REPO = Path(__file__).resolve().parents[2]
SHOTS = REPO / (
    "docs/screenshots" if os.environ.get("SCREENSHOTS") == "docs" else "test-artifacts/e2e-referrals"
)
FOOD_BANKS = "1900101"  # Essex Community Food Banks, the charity whose referrals wait for consent
HEALTH_VISITOR = Role.HEALTH_VISITOR.value


DEMO = next(which for which in COUNTIES if which.pack is None)  # the `make run` demo county
PACKED = [which for which in COUNTIES if which.pack is not None]
"""The counties generated inside a test pack (the demo county's consent is walked in the health
visitor's morning)."""


@pytest.fixture(scope="module")
def county(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[DemoCounty]:
    """The county a test names (parametrised indirectly), loaded once per module."""
    which: County = request.param
    loaded = load(tmp_path_factory.mktemp(which.name), which)
    yield loaded
    loaded.close()


def _shot(page: Any, name: str, at: str | None = None) -> None:
    """The window (1000 x 800), scrolled to `at` (a selector) when given."""
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.set_viewport_size({"width": 1000, "height": 800})
    if at is not None:
        page.locator(at).first.evaluate("node => node.scrollIntoView()")
    page.screenshot(path=str(SHOTS / f"{name}.png"))


def _sign_in(page: Any, base: str, user: str) -> None:
    page.context.clear_cookies()  # signs the previous user out
    page.goto(f"{base}/sign-in")
    page.fill("#username", user)
    page.fill("#password", PASSWORD)
    page.click("button:has-text('Sign in')")


def _morning(county: DemoCounty) -> tuple[Referral, Referral]:
    """A family with a referral waiting on the health visitor's services and one held for its
    consent: (the waiting one, the held one)."""
    services = DEMO_SERVICES[Role.HEALTH_VISITOR]
    for family in county.families:
        found = county.referrals.store.find("family_id = ? ORDER BY created_at, referral_id", (family,))
        waiting = [
            r for r in found if r.status is Status.REQUESTED and (r.offer_id or "@").split("@")[0] in services
        ]
        held = [r for r in found if r.status is Status.HELD]
        if waiting and held:
            return waiting[0], held[0]
    pytest.fail(
        "no demo family has both a referral for the health visitor's services and one held for consent"
    )


@dataclass
class Site:
    base: str
    outbox: ListPublisher


@pytest.fixture(scope="module")
def site(county: DemoCounty) -> Iterator[Site]:
    """The staff app as `hubnet serve api` mounts it (timeline, referrals, consent, reference
    names), on a real uvicorn server; what it queues stays in `outbox`."""
    outbox = ListPublisher()
    app = create_app(
        county.store, county.users, AuditTrail(AuditStore.open(":memory:"), outbox), b"m" * 32,
        names=county.names.name_of,
    )  # fmt: skip
    routes_referrals.install(app, county.referrals)
    partners = [(p.code, p.name) for p in county_partners(county.folder)]
    routes_consent.install(app, lambda: partners)
    with served(app) as base:
        yield Site(base, outbox)


def _codes_in(text: str, county: DemoCounty) -> list[str]:
    """Organisation and area codes of the loaded reference data that `text` shows instead of the
    name (in any case: partners are registered by the lower-case code), and the hub's need codes
    and service offer ids."""
    network = county.referrals.network
    codes = {code for kind in KINDS for code, _name in county.names.rows(kind)}
    codes |= {code for code in network.needs if "-" in code}  # not `safeguarding`: a word as well
    codes |= {offer.offer_id for offer in network.offers}
    return sorted(code for code in codes if re.search(rf"(?<![\w@-]){re.escape(code)}(?![\w@-])", text, re.I))


@pytest.mark.parametrize("county", [DEMO], indirect=True, ids=[DEMO.name])
def test_a_health_visitors_morning_as_the_readme_walks_it(
    county: DemoCounty,
    site: Site,
    browser: Any,  # noqa: F811
) -> None:
    waiting, held = _morning(county)
    need = need_words(county.referrals.network, waiting.need)
    base = site.base
    context = browser.new_context(bypass_csp=True)  # bypass only to inject axe
    page = context.new_page()
    # 1. Find a family: the health visitor's referrals name the child and the family
    _sign_in(page, base, HEALTH_VISITOR)
    page.click("a.govuk-service-navigation__link:has-text('Referrals')")
    inbox = page.inner_text("main")
    assert need in inbox
    _axe(page, "health visitor's inbox")
    _shot(page, "referrals-inbox")
    page.click(f"tr:has(a[href='/referrals/{waiting.referral_id}']) a[href='/families/{waiting.family_id}']")
    # 2. Read the summary: members, key workers and open referrals in words
    summary = page.inner_text("section.hub-summary")
    assert f"{need}: sent to a service" in summary
    assert _codes_in(summary, county) == []
    _axe(page, "family page")
    _shot(page, "family-summary", "section.hub-summary")
    # 3. Record the family's consent: the food bank's referral waits for it
    page.click("a:has-text('Record the family')")
    page.check("#decision-permit")
    page.select_option("#given_by", held.person_id)
    page.check("#method-in-person")
    page.check(f"#about-{FOOD_BANKS}")
    _axe(page, "consent form")
    _shot(page, "consent-form")
    page.click("button:has-text('Record the decision')")
    assert "Consent recorded" in page.inner_text("main")
    county.deliver([HubEvent.from_bytes(m.value) for m in site.outbox.on(EVENTS)])
    released = county.referrals.store.get(held.referral_id)
    assert released is not None
    assert released.status is Status.REQUESTED
    assert (released.offer_id or "").startswith("food-bank@")
    # 4. Accept the referral, start work, complete it with the outcome as the reason
    page.click("a.govuk-service-navigation__link:has-text('Referrals')")
    page.click(f"a[href='/referrals/{waiting.referral_id}']")
    page.check("#action-accept")
    page.click("button:has-text('Save')")
    assert "accepted" in page.inner_text("h1")
    _axe(page, "referral")
    _shot(page, "referral-accepted")
    page.check("#action-start")
    page.click("button:has-text('Save')")
    page.check("#action-complete")
    page.fill("#reason", "Two home visits; feeding going well")
    page.click("button:has-text('Save')")
    assert "completed" in page.inner_text("h1")
    page.goto(f"{base}/families/{waiting.family_id}")
    journey = page.inner_text("main")
    assert f"accepted ({HEALTH_VISITOR})" in journey
    assert "closed: work completed" in journey
    _shot(page, "family-journey", "h2:has-text('Consent and referrals')")
    context.close()
    done = county.referrals.store.get(waiting.referral_id)
    assert done is not None
    assert done.status is Status.COMPLETED


def _pages(client: httpx.Client, county: DemoCounty, *, persons: bool) -> Iterator[tuple[str, str]]:
    """(address, main text) of the referral inbox and every family (and with `persons`, person)
    page the client may open, then every referral page and the first entry page linked from them."""
    linked: set[str] = set()
    urls = ["/referrals", *(f"/families/{family}" for family in county.families)]
    urls += [f"/persons/{person}" for person in county.persons] if persons else []
    for url in urls:
        page = client.get(url)
        if page.status_code != 200:
            continue
        linked |= set(re.findall(r'href="(/referrals/[0-9a-f-]{36})"', page.text))
        linked |= set(re.findall(r'href="(/entries/[^"]+)"', page.text)[:1])
        yield url, _main_text(page.text)
    for url in sorted(linked):
        yield url, _main_text(client.get(url).text)


def _main_text(html: str) -> str:
    """The page's main content as words (tags dropped: codes in links and ids are not shown; an
    entry's FHIR resources, collapsed under the words, show the record as the partner sent it)."""
    main = html[html.index("<main") : html.index("</main>")]
    main = re.sub(r'<pre class="govuk-body-s hub-resources">.*?</pre>', " ", main, flags=re.S)
    return unescape(re.sub(r"<[^>]+>", " ", main))


@pytest.mark.parametrize("county", COUNTIES, indirect=True, ids=lambda which: which.name)
@pytest.mark.parametrize("role", [Role.HEALTH_VISITOR, Role.HUB_MANAGER], ids=lambda role: role.value)
def test_pages_name_organisations_areas_needs_and_services_not_their_codes(
    county: DemoCounty, site: Site, role: Role
) -> None:
    shown: dict[str, list[str]] = {}
    seen = 0
    with httpx.Client(base_url=site.base, timeout=30) as client:
        _client_sign_in(client, role)
        for url, text in _pages(client, county, persons=role is Role.HUB_MANAGER):  # who sees the most
            seen += 1
            codes = _codes_in(text, county)
            if codes:
                shown[url] = codes
    assert seen > len(county.families) // 2, f"{role.value} opened only {seen} pages"
    assert shown == {}, f"codes shown instead of names: {dict(list(shown.items())[:5])}"


@pytest.mark.parametrize("county", COUNTIES, indirect=True, ids=lambda which: which.name)
def test_a_hub_manager_opens_exactly_the_referrals_of_their_hub_area(county: DemoCounty, site: Site) -> None:
    """Referrals are routed on the county's own pack, so they carry its hub areas; a hub manager
    scoped to one opens exactly the referrals from or to it (docs/referrals.md, rule 3), over HTTP."""
    referrals = county.referrals.store.find("1=1 ORDER BY referral_id")
    assert referrals, "the county's partners referred some of its families"
    assert {r.district for r in referrals} <= {*county.managers.values(), None}
    assert any(r.district for r in referrals), "some referral was placed in a hub area"
    for username, area in county.managers.items():
        with httpx.Client(base_url=site.base, timeout=30) as client:
            _client_sign_in(client, username)
            statuses = {
                r.referral_id: client.get(f"/referrals/{r.referral_id}").status_code for r in referrals
            }
        theirs = {r.referral_id for r in referrals if area in (r.district, r.home_district)}
        assert {ref for ref, status in statuses.items() if status == 200} == theirs, username
        assert set(statuses.values()) <= {200, 403, 404}, username


@pytest.mark.parametrize("county", PACKED, indirect=True, ids=lambda which: which.name)
def test_consent_sends_a_held_referral_to_a_service_of_the_pack_in_the_familys_own_hub_area(
    county: DemoCounty, site: Site
) -> None:
    """Routing on the county's own pack (issue #22): a food bank referral held for the family's
    consent, released by consent its hub area's practitioner records over HTTP, is sent to a food
    bank the pack lists in the hub area the family lives in, and that hub area's manager reads it
    there by name."""
    held = [
        r
        for r in county.referrals.store.find("status = ? ORDER BY referral_id", (Status.HELD.value,))
        if r.home_district is not None and r.home_district == county.areas.get(r.family_id)
    ]
    assert held, "no referral of a family living in a hub area waits for its consent"
    referral, area = held[0], held[0].home_district
    practitioner = next(user for user, scope in county.practitioners.items() if scope == area)
    sent = len(site.outbox.on(EVENTS))
    with httpx.Client(base_url=site.base, timeout=30) as client:
        _client_sign_in(client, practitioner)
        form = client.get(f"/families/{referral.family_id}/consent")
        assert form.status_code == 200, form.text
        posted = client.post(f"/families/{referral.family_id}/consent", data={
            "csrf": _csrf(form.text), "decision": "permit", "given_by": referral.person_id,
            "method": "in-person", "about": FOOD_BANKS, "given_on": datetime.now(UTC).date().isoformat(),
        })  # fmt: skip
        assert posted.status_code == 303, posted.text
    county.deliver([HubEvent.from_bytes(m.value) for m in site.outbox.on(EVENTS)[sent:]])
    released = county.referrals.store.get(referral.referral_id)
    assert released is not None
    assert released.status is Status.REQUESTED, released.reason
    offer = county.referrals.network.offer(released.offer_id or "")
    assert offer is not None
    assert offer.service_id in {service.id for service in read_pack(county.folder / PACK_DIR).services}
    assert (offer.area, released.district) == (area, area)
    assert released.need in offer.needs
    manager = next(user for user, scope in county.managers.items() if scope == area)
    with httpx.Client(base_url=site.base, timeout=30) as client:
        _client_sign_in(client, manager)
        page = client.get(f"/referrals/{referral.referral_id}")
        assert page.status_code == 200
        assert offer.name in unescape(page.text)
