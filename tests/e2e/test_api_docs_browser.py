"""Both API reference pages (staff API and partner ingest API; Swagger UI at /docs, ReDoc at
/redoc) render their operations in headless Chromium with every request outside loopback blocked
(issue #20: they were blank offline, loading Swagger UI from a CDN). The assets come from the
package (services/apidocs/static/), and the pages' Content-Security-Policy lets nothing else in."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any
from urllib.parse import urlsplit

import pytest

from services.gateway.app import build_app
from services.web.app import create_app
from tests.e2e import test_timeline_browser
from tests.e2e.serving import served
from tests.unit.timeline.world import build

pytestmark = pytest.mark.e2e
browser = test_timeline_browser.browser  # the same module-scoped headless Chromium fixture
LOOPBACK = frozenset({"127.0.0.1", "localhost"})
REDOC_LOGO = "https://cdn.redoc.ly/redoc/logo-mini.svg"
"""ReDoc 2's "API docs by Redocly" footer image: the CSP refuses it, so the page shows no logo."""


@pytest.fixture(scope="module")
def staff_api() -> Iterator[str]:
    store, users, audit = build()
    with served(create_app(store, users, audit, b"d" * 32)) as url:
        yield url
    store.close()


@pytest.fixture(scope="module")
def ingest_api() -> Iterator[str]:
    with served(build_app()) as url:
        yield url


def _offline_page(browser: Any) -> tuple[Any, Any, list[str], list[str]]:
    """A page whose requests beyond loopback are aborted (and listed), with its console errors."""
    context = browser.new_context()
    outside: list[str] = []
    errors: list[str] = []

    def only_loopback(route: Any) -> None:
        if urlsplit(route.request.url).hostname in LOOPBACK:
            route.continue_()
        else:
            outside.append(route.request.url)
            route.abort()

    context.route("**/*", only_loopback)
    page = context.new_page()
    page.on("console", lambda message: errors.append(message.text) if message.type == "error" else None)
    return context, page, outside, errors


@pytest.mark.parametrize("api", ["staff_api", "ingest_api"])
def test_swagger_ui_renders_the_operations_with_no_network_beyond_loopback(
    api: str, browser: Any, request: pytest.FixtureRequest
) -> None:
    url = request.getfixturevalue(api)
    context, page, outside, errors = _offline_page(browser)
    response = page.goto(f"{url}/docs")
    assert response.status == 200
    page.wait_for_selector(".opblock", timeout=20_000)
    assert page.locator(".opblock").count() >= 3
    assert page.locator(".opblock-summary-path").first.inner_text().startswith("/")
    assert outside == []
    assert [e for e in errors if "Content Security Policy" in e] == []
    context.close()


@pytest.mark.parametrize("api", ["staff_api", "ingest_api"])
def test_redoc_renders_the_operations_with_no_network_beyond_loopback(
    api: str, browser: Any, request: pytest.FixtureRequest
) -> None:
    url = request.getfixturevalue(api)
    context, page, outside, errors = _offline_page(browser)
    response = page.goto(f"{url}/redoc")
    assert response.status == 200
    page.wait_for_selector("[data-section-id^='operation/']", state="attached", timeout=20_000)
    assert page.locator("[data-section-id^='operation/']").count() >= 3
    assert "Something went wrong" not in page.inner_text("body")
    assert outside == []
    assert [e for e in errors if "Content Security Policy" in e and REDOC_LOGO not in e] == []
    context.close()
