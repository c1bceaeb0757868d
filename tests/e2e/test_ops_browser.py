"""The ops pages in headless Chromium (Debian's `chromium` through Playwright, as
tests/e2e/test_timeline_browser.py, whose browser and axe-core helpers this uses): sign in as
operations, see the overview with its charts, open a dead letter; with and without JavaScript.
Screenshots go to test-artifacts/e2e-ops/; every page is checked with axe-core for WCAG 2.x A/AA.

No broker: the monitor's report and samples are written to the ops store directly, and the dead
letters come from a list (the broker path is tests/integration/test_ops_page.py)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from schemas.dead_letter import DeadLetter
from services.core.settings import Settings
from services.ops.dead_letters import Entry
from services.ops.history import Sample
from services.ops.store import OpsStore
from services.timeline.audit import AuditTrail
from services.timeline.audit_store import AuditStore
from services.web import routes_ops
from services.web.app import create_app
from tests.e2e import test_timeline_browser
from tests.e2e.serving import served
from tests.e2e.test_timeline_browser import _axe
from tests.unit.gateway.support import ListPublisher
from tests.unit.ops.test_status_view import healthy_report
from tests.unit.timeline.world import PASSWORD, build

pytestmark = pytest.mark.e2e
REPO = Path(__file__).resolve().parents[2]
ARTIFACTS = REPO / "test-artifacts" / "e2e-ops"
browser = test_timeline_browser.browser  # the same module-scoped headless Chromium fixture


def _shot(page: Any, name: str) -> None:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)


def _monitor_history(settings: Settings, now: datetime) -> None:
    """An hour of monitor samples (every 2 minutes) and its latest report, as `hubnet monitor` leaves them."""
    app_store = OpsStore.in_data_dir(settings.data_dir)
    report = healthy_report()
    moved = now - report.collected_at  # the sample report's clock, brought to now
    services = [
        s.model_copy(update={"started_at": s.started_at + moved, "last_beat_at": s.last_beat_at + moved})
        for s in report.services
    ]
    partners = [p.model_copy(update={"last_input_at": now - timedelta(hours=3)}) for p in report.partners]
    report = report.model_copy(update={"collected_at": now, "services": services, "partners": partners})
    app_store.save_monitor_report(now, 30.0, report.model_dump_json())
    for step in range(31):
        at = now - timedelta(minutes=60 - 2 * step)
        sample = Sample(
            at=at,
            events=100 * step + 8 * step * step,  # a rising rate
            dead_letters=step // 10,
            lag={"timeline": (step * 7) % 40},
            latency_p50_ms=80.0 + step,
            latency_p95_ms=200.0 + 10 * (step % 7),
            latency_count=50,
        )
        app_store.add_monitor_sample(at, sample.model_dump_json())
    app_store.close()


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    data = tmp_path_factory.mktemp("ops")
    store, users, _ = build(data / "timeline.sqlite")
    published = ListPublisher()
    settings = Settings(data_dir=data)
    now = datetime.now(UTC)
    _monitor_history(settings, now)
    rejected = DeadLetter.create(
        connector="hv-csv",
        partner="nelft-hv",
        reason="review_type 'newborn-check' is not a known review type",
        original=b"record_id,review_type\nHV-BAD-1,newborn-check\n",
        trace_id="t",
        location="line 2, column review_type",
        record_ref="line 2",
        source_name="hv-2025-06-02.csv",
        rejected_at=now - timedelta(hours=2),
    )
    entries = [Entry(rejected)]
    app = create_app(store, users, AuditTrail(AuditStore.open(":memory:"), published), b"o" * 32)
    routes_ops.install(app, settings, load_dead_letters=lambda: entries, publisher=published)
    with served(app) as url:
        yield url
    app.state.ops.store.close()
    store.close()


def _sign_in(page: Any, server: str) -> None:
    page.goto(f"{server}/ops")
    assert "/sign-in" in page.url
    page.fill("#username", "operations")
    page.fill("#password", PASSWORD)
    page.click("button:has-text('Sign in')")
    page.wait_for_url(f"{server}/ops")


def test_operations_sees_the_overview_with_charts_and_opens_a_dead_letter(server: str, browser: Any) -> None:
    context = browser.new_context(bypass_csp=True, java_script_enabled=True)  # bypass only to inject axe
    page = context.new_page()
    _sign_in(page, server)
    assert page.locator("h2:has-text('Last hour')").is_visible()
    assert page.locator("svg.hub-sparkline[role='img']").count() == 5
    assert page.locator("svg.hub-sparkline polyline").count() >= 5
    assert page.locator("p:has-text('Events accepted: latest')").is_visible()
    assert page.locator("button:has-text('Pause automatic updates')").is_visible()  # /static/ops.js ran
    assert not page.locator("text=Reload the page for newer figures.").is_visible()
    _shot(page, "01-overview")
    _axe(page, "ops overview")

    page.click("summary:has-text('Figures')  >> nth=0")
    assert page.locator("table:has-text('Per minute')").first.is_visible()
    page.click("button:has-text('Pause automatic updates')")
    assert page.locator("button:has-text('Resume automatic updates')").is_visible()

    page.click("a:has-text('Dead letters')")
    page.wait_for_url(f"{server}/ops/dead-letters")
    assert page.locator("caption:has-text('1 dead letter')").is_visible()
    _shot(page, "02-dead-letters")
    _axe(page, "dead-letter list")

    page.locator("table.hub-dead-letters a").first.click()
    assert page.locator("pre.hub-original").inner_text().startswith("record_id,review_type")
    assert page.locator("dd:has-text('line 2, column review_type')").is_visible()
    page.click("button:has-text('Discard this dead letter')")
    assert page.locator(".govuk-error-summary").is_visible()  # a discard needs a reason
    _shot(page, "03-dead-letter")
    _axe(page, "dead letter with a discard error")
    context.close()


def test_the_overview_works_without_javascript(server: str, browser: Any) -> None:
    context = browser.new_context(java_script_enabled=False)
    page = context.new_page()
    _sign_in(page, server)
    assert page.locator("svg.hub-sparkline[role='img']").count() == 5
    assert page.locator("text=Reload the page for newer figures.").is_visible()
    assert page.locator("button:has-text('Pause automatic updates')").count() == 0
    _shot(page, "04-overview-no-js")
    context.close()


@pytest.mark.parametrize("width", [375, 1024])
def test_the_dead_letters_table_scrolls_in_its_box_not_the_page(
    server: str, browser: Any, width: int
) -> None:
    """Issue #20: the table stretched the whole page sideways; now it scrolls inside a focusable box."""
    context = browser.new_context(viewport={"width": width, "height": 800})
    page = context.new_page()
    _sign_in(page, server)
    page.goto(f"{server}/ops/dead-letters")
    assert page.locator("table.hub-dead-letters").is_visible()
    assert page.evaluate("document.documentElement.scrollWidth <= document.documentElement.clientWidth")
    assert page.locator(".hub-table-scroll[tabindex='0'] table.hub-dead-letters").count() == 1
    context.close()
