"""Hub staff pages in headless Chromium (Debian's `chromium`, driven by Playwright with
`executable_path`; never `playwright install`): sign in, search, read a family timeline, open an
entry, break-glass with a reason. Screenshots go to test-artifacts/e2e-timeline/. Each page is
checked with axe-core (vendored tests/e2e/vendor/axe.min.js, MPL-2.0) for WCAG 2.x A/AA rules.

Skips only when chromium is absent and CI is unset; in CI a missing browser fails the test.
"""

from __future__ import annotations

import importlib
import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from services.web.app import create_app
from tests.e2e.serving import served
from tests.unit.timeline.events import NHS
from tests.unit.timeline.world import PASSWORD, build

pytestmark = pytest.mark.e2e
REPO = Path(__file__).resolve().parents[2]
ARTIFACTS = REPO / "test-artifacts" / "e2e-timeline"
AXE = Path(__file__).with_name("vendor") / "axe.min.js"
CHROMIUM_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
    "--disable-component-update", "--no-first-run", "--disable-sync",
]  # fmt: skip


def _chromium() -> str:
    found = shutil.which("chromium") or shutil.which("chromium-browser")
    if found is None:
        if os.environ.get("CI"):
            pytest.fail("CI is set but Debian's chromium is not installed (apt-get install -y chromium)")
        pytest.skip("chromium not installed (apt-get install -y chromium); CI unset, so skipping")
    return found


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    store, users, audit = build(tmp_path_factory.mktemp("timeline") / "timeline.sqlite")
    with served(create_app(store, users, audit, b"b" * 32)) as url:
        yield url
    store.close()


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    executable = _chromium()
    # in CI a missing Playwright is an error; elsewhere the browser tests skip without it
    sync_api: Any = (
        importlib.import_module("playwright.sync_api")
        if os.environ.get("CI")
        else pytest.importorskip("playwright.sync_api")
    )
    with sync_api.sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS, headless=True)
        yield launched
        launched.close()


def _axe(page: Any, name: str) -> None:
    """No WCAG 2.0/2.1/2.2 A or AA violations on the page (axe-core)."""
    page.add_script_tag(path=str(AXE))
    result = page.evaluate(
        "async () => await axe.run(document, {runOnly: {type: 'tag', values: "
        "['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'wcag22aa']}})"
    )
    problems = [f"{v['id']}: {v['help']} ({len(v['nodes'])} nodes)" for v in result["violations"]]
    assert not problems, f"{name}: {problems}"


def _shot(page: Any, name: str) -> None:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)


def test_sign_in_search_read_timeline_and_break_glass(server: str, browser: Any) -> None:
    context = browser.new_context(bypass_csp=True, java_script_enabled=True)  # bypass only to inject axe
    page = context.new_page()
    page.goto(f"{server}/families/f1")
    assert "/sign-in" in page.url
    _shot(page, "01-sign-in")
    _axe(page, "sign-in")
    page.fill("#username", "hub-practitioner")
    page.fill("#password", "not the password")
    page.click("button:has-text('Sign in')")
    assert page.locator(".govuk-error-summary").is_visible()
    _axe(page, "sign-in error")
    page.fill("#username", "hub-practitioner")
    page.fill("#password", PASSWORD)
    page.click("button:has-text('Sign in')")
    page.wait_for_url(f"{server}/families/f1")

    page.goto(f"{server}/")
    page.fill("#nhs_number", NHS[0])
    page.click("button:has-text('Search')")
    _shot(page, "02-search")
    _axe(page, "search results")
    page.click("a:has-text('Family 1')")
    page.wait_for_url(f"{server}/families/f1")
    assert page.locator("h3:has-text('6-8 week review')").count() >= 1
    assert page.locator("text=recorded by Essex hv (Health visiting)").count() >= 1
    assert page.locator("text=Restricted record withheld").count() == 1
    _shot(page, "03-family-timeline")
    _axe(page, "family page")

    page.check("#domain-education")
    page.click("button:has-text('Apply filters')")
    assert page.locator(".hub-timeline__item").count() == 1
    _shot(page, "04-filtered")

    page.goto(f"{server}/families/f1")
    page.click("a:has-text('Use break-glass access')")
    _axe(page, "break-glass form")
    page.click("button:has-text('Show restricted entries')")
    assert page.locator(".govuk-error-summary").is_visible()
    page.fill("#reason", "Duty social worker asked for urgent welfare check")
    page.click("button:has-text('Show restricted entries')")
    page.wait_for_url(f"{server}/families/f1")
    assert page.locator("text=Break-glass access is on").is_visible()
    assert page.locator("text=Restricted record withheld").count() == 0
    _shot(page, "05-break-glass")

    page.locator(".hub-timeline a").first.click()
    assert page.locator("summary:has-text('FHIR resources')").is_visible()
    _shot(page, "06-entry")
    _axe(page, "entry page")
    context.close()


def test_pages_work_without_javascript(server: str, browser: Any) -> None:
    context = browser.new_context(java_script_enabled=False)
    page = context.new_page()
    page.goto(f"{server}/sign-in")
    page.fill("#username", "school-staff")
    page.fill("#password", PASSWORD)
    page.click("button:has-text('Sign in')")
    page.goto(f"{server}/families/f1")
    domains = {d.strip() for d in page.locator(".hub-timeline__meta span").all_inner_texts()}
    assert domains == {"Education", "Community"}
    _shot(page, "07-school-staff-no-js")
    context.close()
