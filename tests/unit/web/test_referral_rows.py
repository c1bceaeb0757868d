"""Referral inbox rows in words: due times as people say them, ages as health visitors say them."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from services.web.referral_rows import age_words, due_phrase

NOW = datetime(2025, 3, 3, 9, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("delta", "expected"),
    [
        (timedelta(hours=3, minutes=20), ("in 3 hours", False)),
        (timedelta(hours=1), ("in 1 hour", False)),
        (timedelta(minutes=40), ("in 40 minutes", False)),
        (timedelta(days=2, hours=5), ("in 2 days", False)),
        (timedelta(days=-2, hours=-1), ("2 days overdue", True)),
        (timedelta(hours=-5), ("5 hours overdue", True)),
        (timedelta(seconds=20), ("due now", False)),
    ],
)
def test_due_times_read_as_in_or_overdue(delta: timedelta, expected: tuple[str, bool]) -> None:
    assert due_phrase(NOW + delta, NOW) == expected


def test_nothing_due_says_nothing() -> None:
    assert due_phrase(None, NOW) == ("", False)


@pytest.mark.parametrize(
    ("born", "expected"),
    [
        ("2022-01-15", "3 years"),
        ("2024-12-03", "3 months"),
        ("2024-02-04", "12 months"),
        ("2023-03-03", "2 years"),
        ("2023-03-04", "23 months"),
        ("2025-02-03", "1 month"),
        ("", ""),
        ("2026-01-01", ""),
    ],
)
def test_ages_are_months_under_two_and_years_after(born: str, expected: str) -> None:
    assert age_words(born, date(2025, 3, 3)) == expected
