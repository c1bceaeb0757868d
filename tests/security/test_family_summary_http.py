"""The family page's summary over real HTTP (uvicorn on loopback, real SQLite files), for a health
visitor and for school staff: each sees the facts of the entries its role may see and nothing of
the rest, and an entry recorded since the reader's previous visit carries the marker."""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest

from schemas.audit import AuditRecord
from services.timeline.audit_store import AuditStore
from services.web.app import create_app
from services.web.family_summary import LONDON
from tests.e2e.serving import served
from tests.unit.timeline.summary_events import HIDDEN_NURSE, SECRET_CLINIC, add_summary_events
from tests.unit.timeline.world import PASSWORD, build

NEW = "New since your last visit</strong>"
NO_IMMUNISATIONS = (
    "No immunisation records you can see have reached the hub: check the child's GP or child health record"
)


@pytest.fixture
def site(tmp_path: Path) -> Iterator[tuple[str, AuditStore]]:
    store, users, audit = build(tmp_path / "timeline.sqlite")
    now = datetime.now(UTC)
    add_summary_events(store, now.astimezone(LONDON).date(), recorded=now - timedelta(hours=1))
    with served(create_app(store, users, audit, b"h" * 32)) as url:
        yield url, audit.store
    store.close()


@contextmanager
def _signed_in(url: str, user: str) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=url, timeout=30) as client:
        token = re.search(r'name="csrf" value="([^"]+)"', client.get("/sign-in").text)
        assert token is not None
        form = {"username": user, "password": PASSWORD, "csrf": token.group(1), "next": "/"}
        assert client.post("/sign-in", data=form).status_code == 303
        yield client


def _summary_of(page: str) -> str:
    found = re.search(r'<section class="hub-summary".*?</section>', page, re.DOTALL)
    assert found is not None, "the family page has no summary"
    return found.group(0)


def test_a_health_visitor_sees_the_restricted_immunisation_in_the_summary(
    site: tuple[str, AuditStore],
) -> None:
    url, _ = site
    with _signed_in(url, "health-visitor") as client:
        page = client.get("/families/f1")
    assert page.status_code == 200
    summary = _summary_of(page.text)
    assert HIDDEN_NURSE in summary
    assert SECRET_CLINIC in summary
    assert "Clacton Primary" in summary
    assert "Persistently absent" in summary
    assert "MMR dose 1" not in summary
    assert NO_IMMUNISATIONS not in summary
    assert "Overdue</strong> 6-in-1 (DTaP/IPV/Hib/HepB) dose 1" in summary  # the MMR counts, the rest is due


def test_school_staff_learn_nothing_of_health_entries_from_the_summary(
    site: tuple[str, AuditStore],
) -> None:
    url, _ = site
    with _signed_in(url, "school-staff") as client:
        page = client.get("/families/f1")
    assert page.status_code == 200
    assert HIDDEN_NURSE not in page.text
    assert SECRET_CLINIC not in page.text
    summary = _summary_of(page.text)
    # the restricted MMR is the baby's only immunisation record: withheld, so none this role can see
    assert NO_IMMUNISATIONS in summary
    assert "MMR dose 1" not in summary
    assert "hub-summary__dose" not in summary  # no dose listed as due or overdue
    assert "Persistently absent" in summary


def test_entries_recorded_since_the_previous_visit_are_marked(site: tuple[str, AuditStore]) -> None:
    url, audits = site
    with _signed_in(url, "hub-practitioner") as client:
        first = client.get("/families/f1").text
        assert "This is your first visit to this family." in first
        assert NEW not in first
        earlier = datetime.now(UTC) - timedelta(hours=2)
        audits.add_audit(
            AuditRecord(
                at=earlier, actor="hub-practitioner", actor_role="hub-practitioner", action="family.read",
                target="f1", outcome="allowed", reason="test: a visit two hours ago",
            ).model_dump(mode="json")
        )  # fmt: skip
        again = client.get("/families/f1").text
    assert "Your last visit ended" in again
    assert again.count(NEW) == 2  # the explanation in the summary, and the one entry recorded since
