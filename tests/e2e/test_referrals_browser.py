"""A referral's whole journey in headless Chromium (Debian's `chromium` through Playwright, as
tests/e2e/test_timeline_browser.py): a health visitor signs in, records the family's consent, the
held referral is released through the router, and the food bank's worker accepts it; each page is
checked with axe-core. Screenshots go to test-artifacts/e2e-referrals/, or to docs/screenshots/
when SCREENSHOTS=docs is set (the committed ones were taken so).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest

from services.referrals.lifecycle import Status
from tests.e2e.serving import served
from tests.e2e.test_timeline_browser import _axe, browser  # noqa: F401 - the shared browser fixture
from tests.security.referral_ui import CARER, CHARITY, FAMILY, PASSWORD, World

pytestmark = pytest.mark.e2e
REPO = Path(__file__).resolve().parents[2]
SHOTS = REPO / (
    "docs/screenshots" if os.environ.get("SCREENSHOTS") == "docs" else "test-artifacts/e2e-referrals"
)


def _shot(page: Any, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.set_viewport_size({"width": 1000, "height": 800})
    page.screenshot(path=str(SHOTS / f"{name}.png"))


def _sign_in(page: Any, base: str, user: str) -> None:
    page.context.clear_cookies()  # signs the previous user out
    page.goto(f"{base}/sign-in")
    page.fill("#username", user)
    page.fill("#password", PASSWORD)
    page.click("button:has-text('Sign in')")


def test_sign_in_record_consent_release_and_accept_the_referral(tmp_path: Path, browser: Any) -> None:  # noqa: F811
    world = World(tmp_path)
    with served(world.app) as base:
        context = browser.new_context(bypass_csp=True)  # bypass only to inject axe
        page = context.new_page()
        _sign_in(page, base, "boss")
        page.goto(f"{base}/referrals")
        assert "held" in page.inner_text("main")
        _axe(page, "manager queue")
        _shot(page, "referrals-manager-queue")
        _sign_in(page, base, "hv")
        page.goto(f"{base}/families/{FAMILY}")
        page.click("a:has-text('Record the family')")
        page.check("#decision-permit")
        page.select_option("#given_by", CARER)
        page.check("#method-phone")
        page.check(f"#about-{CHARITY[0]}")
        _axe(page, "consent form")
        _shot(page, "consent-form")
        page.click("button:has-text('Record the decision')")
        assert "Consent recorded" in page.inner_text("main")
        world.deliver_consent()  # identity and the referral worker, as on make run
        released = world.hub.store.get(world.referral_id)
        assert released is not None
        assert released.status is Status.REQUESTED
        _sign_in(page, base, "food")
        page.goto(f"{base}/referrals")
        assert "Mia Jones, 6 years" in page.inner_text("main")
        _axe(page, "service inbox")
        _shot(page, "referrals-inbox")
        page.click("a:has-text('Mia Jones')")
        page.check("#action-accept")
        page.click("button:has-text('Save')")
        assert "accepted" in page.inner_text("h1")
        _axe(page, "referral")
        _shot(page, "referral-accepted")
        _sign_in(page, base, "boss")
        page.goto(f"{base}/families/{FAMILY}")
        journey = page.inner_text("main")
        assert "held until the family's consent is recorded" in journey
        assert "accepted (food)" in journey
        _shot(page, "family-journey")
        context.close()
    accepted = world.hub.store.get(world.referral_id)
    assert accepted is not None
    assert accepted.status is Status.ACCEPTED
