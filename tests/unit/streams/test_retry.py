"""Transient failures are retried with backoff; anything else reaches the caller at once."""

from __future__ import annotations

import asyncio
import sqlite3

import pytest

from services.streams.retry import is_transient, retry_transient


class _RetriableError(Exception):
    retriable = True


class _SerializationFailureError(Exception):
    sqlstate = "40001"


@pytest.mark.parametrize(
    ("error", "transient"),
    [
        (sqlite3.OperationalError("database is locked"), True),
        (sqlite3.OperationalError("database table is locked"), True),
        (sqlite3.OperationalError("no such table: person"), False),
        (sqlite3.IntegrityError("UNIQUE constraint failed"), False),
        (_RetriableError(), True),
        (_SerializationFailureError(), True),
        (ValueError("bad JSON"), False),
    ],
)
def test_which_errors_are_transient(error: Exception, transient: bool) -> None:
    assert is_transient(error) is transient


def test_transient_errors_are_retried_until_the_work_succeeds() -> None:
    calls = []

    async def work() -> str:
        calls.append(1)
        if len(calls) < 4:
            raise sqlite3.OperationalError("database is locked")
        return "done"

    result = asyncio.run(retry_transient("test", work, first_delay=0.001, max_delay=0.002))
    assert result == "done"
    assert len(calls) == 4


def test_other_errors_are_raised_at_once() -> None:
    calls = []

    async def work() -> None:
        calls.append(1)
        raise ValueError("poison")

    with pytest.raises(ValueError, match="poison"):
        asyncio.run(retry_transient("test", work, first_delay=0.001))
    assert len(calls) == 1
