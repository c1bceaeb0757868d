"""Where a dead letter's input went wrong, as `hubnet dlq list` and the ops page show it."""

from __future__ import annotations

import pytest

from schemas.dead_letter import DeadLetter


def _letter(source: str | None, record: str | None, location: str | None) -> DeadLetter:
    return DeadLetter.create(
        connector="c", partner="p", reason="r", original=b"x", trace_id="t",
        source_name=source, record_ref=record, location=location,
    )  # fmt: skip


@pytest.mark.parametrize(
    ("source", "record", "location", "where"),
    [
        ("invalid.csv", "line 3", "line 3, column upn", "invalid.csv line 3, column upn"),
        ("feeds/a.json", "feeds/a.json", "JSON line 2, column 414", "feeds/a.json JSON line 2, column 414"),
        (
            "invalid.json",
            "$.contents[0]",
            "$.contents[0].minimum_age",
            "invalid.json $.contents[0].minimum_age",
        ),
        ("invalid.hl7", "message 1", "PID-3[1].1", "invalid.hl7 message 1 PID-3[1].1"),
        (None, "entry 2", None, "entry 2"),
        (None, None, None, ""),
    ],
)
def test_where_names_each_place_once(source: str | None, record: str | None, location: str | None,
                                     where: str) -> None:  # fmt: skip
    assert _letter(source, record, location).where == where
