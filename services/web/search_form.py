"""What is wrong with a filled-in search form, field by field, in the GOV.UK error-message style.

The search page shows these in an error summary and beside each field, and keeps what was typed,
instead of a bare error page (issue #20: a last-name-only search lost the form, and an NHS number
"123" got no message at all). The API keeps its own 400 (services/timeline/access.py).
"""

from __future__ import annotations

from datetime import date

from schemas.identifiers import nhs_number_is_valid, normalise_nhs_number
from services.timeline.access import SearchQuery

Problem = tuple[str, str]
"""(field id, what to do), for the summary's link and the message beside the field."""


def problems(query: SearchQuery) -> list[Problem]:
    """Every problem with the form, in the order the fields appear; empty when it can be searched."""
    found: list[Problem] = []
    nhs = normalise_nhs_number(query.nhs_number.strip())
    if nhs and not nhs_number_is_valid(nhs):
        found.append(("nhs_number", "Enter a valid NHS number: 10 digits, for example 485 777 3456"))
    birth = query.birth_date.strip()
    if birth and not _is_date(birth):
        found.append(("birth_date", "Enter the date of birth as year-month-day, for example 2023-01-27"))
    by_name = query.family_name.strip() or query.given_name.strip() or birth
    if by_name and not (nhs or query.upn.strip() or query.postcode.strip()):
        if not query.family_name.strip():
            found.append(("family_name", "Enter a last name to search by name and date of birth"))
        if not birth:
            found.append(("birth_date", "Enter a date of birth to search by name"))
    return found


def by_field(query: SearchQuery) -> dict[str, str]:
    """The first problem of each field, fields in page order (what the page shows)."""
    first: dict[str, str] = {}
    for field, message in problems(query):
        first.setdefault(field, message)
    return first


def _is_date(text: str) -> bool:
    try:
        date.fromisoformat(text)
    except ValueError:
        return False
    return True
