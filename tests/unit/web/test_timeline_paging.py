"""Family and person pages with more entries than fit on one page (issue #20: a bare 500 whenever
there was a next page): every page renders, the "Older entries" link keeps the filters, and
following the links visits each entry exactly once."""

from __future__ import annotations

import re
from collections.abc import Iterator
from html import unescape

import pytest
from fastapi.testclient import TestClient

from services.web.app import create_app
from tests.unit.timeline.events import feed, linked
from tests.unit.timeline.test_timeline_web import sign_in
from tests.unit.timeline.world import build

ENTRIES = 120  # more than two pages of 50


@pytest.fixture
def client() -> Iterator[TestClient]:
    store, users, audit = build()
    feed(store, *(
        linked(person="baby", record=f"busy{n}", occurred=f"2024-01-01T{n // 60:02d}:{n % 60:02d}:00")
        for n in range(ENTRIES)
    ))  # fmt: skip
    with TestClient(create_app(store, users, audit, b"p" * 32)) as web:
        sign_in(web, "health-visitor")
        yield web
    store.close()


def _walk(client: TestClient, url: str) -> tuple[list[int], set[str]]:
    """Follow "Older entries" from `url` to the last page: each page's status and every entry seen."""
    statuses: list[int] = []
    seen: list[str] = []
    next_url: str | None = url
    while next_url is not None:
        page = client.get(next_url)
        statuses.append(page.status_code)
        seen += re.findall(r'href="/entries/([^"]+)"', page.text)
        found = re.search(r'href="([^"]+)" rel="next"', page.text)
        next_url = unescape(found.group(1)) if found else None
        assert len(statuses) < 10, "paging never ends"
    assert len(seen) == len(set(seen)), "an entry shown on two pages"
    return statuses, set(seen)


def test_a_family_with_more_than_one_page_of_entries_pages_to_the_end(client: TestClient) -> None:
    statuses, seen = _walk(client, "/families/f1")
    assert statuses == [200, 200, 200]
    assert len(seen) >= ENTRIES


def test_a_person_with_more_than_one_page_of_entries_pages_to_the_end(client: TestClient) -> None:
    statuses, seen = _walk(client, "/persons/baby")
    assert statuses == [200, 200, 200]
    assert len(seen) >= ENTRIES


def test_the_next_page_link_keeps_the_filters(client: TestClient) -> None:
    page = client.get("/families/f1?domain=health&since=2023-01-01")
    found = re.search(r'href="([^"]+)" rel="next"', page.text)
    assert found, "no next-page link"
    link = unescape(found.group(1))
    assert "domain=health" in link
    assert "since=2023-01-01" in link
    assert "cursor=" in link
