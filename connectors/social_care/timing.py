"""Dates in social care records: reading the formats, and rejecting impossible ones.

An impossible date (an end before its start, a birth or an event after the file arrived, a death
before birth) means the case record is wrong; the event would sit on a child's timeline in the
wrong place, so the record is rejected with the element or column that holds the date.
"""

from __future__ import annotations

from datetime import date, datetime

from connectors.common.fhir_time import at_midnight
from schemas.errors import MappingError

__all__ = ["at_midnight", "check_not_future", "check_order", "uk_date"]


def uk_date(value: str, location: str) -> date:
    """A DfE return date: DD/MM/YYYY as SSDA903 writes it, or ISO YYYY-MM-DD."""
    text = value.strip()
    try:
        if "/" in text:
            return datetime.strptime(text, "%d/%m/%Y").date()
        return date.fromisoformat(text)
    except ValueError:
        raise MappingError(
            "the value is not a date", location, hint="write dates as DD/MM/YYYY (or YYYY-MM-DD)"
        ) from None


def check_order(start: date | None, end: date | None, location: str) -> None:
    """Reject an end date before its start date; `location` names the end."""
    if start is not None and end is not None and end < start:
        raise MappingError(
            "the end date is before the start date", location, hint="check both dates of this entry"
        )


def check_not_future(day: date | None, received: date, location: str) -> None:
    """Reject a date after the day the file arrived: it has not happened yet."""
    if day is not None and day > received:
        raise MappingError(
            "the date is in the future (after the file was received)",
            location,
            hint="check the date; planned events are sent once they have happened",
        )
