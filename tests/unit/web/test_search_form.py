"""The search page keeps what was typed and says what is missing or wrong (issue #20: a
last-name-only search lost the form; an NHS number "123" got no message), in the GOV.UK error
summary pattern; a complete search still finds people."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from services.timeline.access import SearchQuery
from services.web.app import create_app
from services.web.search_form import by_field
from tests.unit.timeline.events import NHS
from tests.unit.timeline.test_timeline_web import sign_in
from tests.unit.timeline.world import build


@pytest.fixture
def client() -> Iterator[TestClient]:
    store, users, audit = build()
    with TestClient(create_app(store, users, audit, b"f" * 32)) as web:
        sign_in(web, "health-visitor")
        yield web
    store.close()


def test_a_last_name_only_search_keeps_the_name_and_asks_for_the_date_of_birth(client: TestClient) -> None:
    page = client.get("/?family_name=Jones")
    assert page.status_code == 400
    assert "govuk-error-summary" in page.text
    assert '<a href="#birth_date">Enter a date of birth to search by name</a>' in page.text
    assert 'id="birth_date-error"' in page.text
    assert 'value="Jones"' in page.text


def test_a_short_nhs_number_gets_a_message_beside_the_field(client: TestClient) -> None:
    page = client.get("/?nhs_number=123")
    assert page.status_code == 400
    assert 'href="#nhs_number"' in page.text
    assert "govuk-input--error" in page.text
    assert 'value="123"' in page.text


def test_an_nhs_number_with_a_wrong_check_digit_is_refused_with_a_message() -> None:
    wrong = NHS[0][:9] + str((int(NHS[0][9]) + 1) % 10)
    assert "nhs_number" in by_field(SearchQuery(nhs_number=wrong))
    assert by_field(SearchQuery(nhs_number=NHS[0])) == {}
    assert by_field(SearchQuery(nhs_number=f"{NHS[0][:3]} {NHS[0][3:6]} {NHS[0][6:]}")) == {}


def test_a_date_of_birth_that_is_not_a_date_is_named(client: TestClient) -> None:
    problems = by_field(SearchQuery(family_name="Jones", birth_date="5/1/23"))
    assert list(problems) == ["birth_date"]
    assert "2023-01-27" in problems["birth_date"]


def test_a_complete_search_still_finds_people(client: TestClient) -> None:
    page = client.get(f"/?nhs_number={NHS[0]}")
    assert page.status_code == 200
    assert 'href="/persons/baby"' in page.text
    assert "govuk-error-summary" not in page.text
