"""Read one `hv-csv` row (docs/connectors/native-formats.md) into a checked `Review`.

The subject is the mother for an `antenatal` contact and the child for every other review.
ASQ-3 scores belong to the 12-month and 2-2.5-year reviews and breastfeeding status to the
new-birth and 6-8-week visits: a value on another review is rejected rather than guessed at,
because it usually means the extract's columns have shifted.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import TypeVar

from connectors.common.csv_records import CsvRow
from connectors.common.demographics import (
    Person,
    checked_birth_date,
    checked_nhs_number,
    nhs_identifier,
    normal_postcode,
)
from schemas.errors import MappingError

REVIEW_TYPES = {
    "antenatal": "Antenatal health promoting contact",
    "new-birth": "New birth visit",
    "6-8-week": "6-8 week review",
    "12-month": "12 month review",
    "2-2.5-year": "2-2.5 year review",
}
OUTCOMES = ("completed", "not-attended", "declined")
ASQ3_DOMAINS = {
    "communication": "Communication",
    "gross_motor": "Gross motor",
    "fine_motor": "Fine motor",
    "problem_solving": "Problem solving",
    "personal_social": "Personal-social",
}
ASQ3_REVIEWS = frozenset({"12-month", "2-2.5-year"})
BREASTFEEDING = ("exclusive", "partial", "none")
BREASTFEEDING_REVIEWS = frozenset({"new-birth", "6-8-week"})
SEXES = ("male", "female", "other", "unknown")
T = TypeVar("T")
REQUIRED_COLUMNS = (
    "record_id",
    "nhs_number",
    "given_name",
    "family_name",
    "birth_date",
    "review_type",
    "review_date",
)


@dataclass(frozen=True)
class Review:
    """One mandated contact, checked: who, which review, when, how it went, what was measured."""

    record_id: str
    record_version: str
    line: int
    subject: Person
    review_type: str
    review_date: date
    outcome: str
    practitioner_role: str | None
    asq3: dict[str, int]
    breastfeeding: str | None


def read_review(row: CsvRow) -> Review:
    """The checked review of a row; `MappingError` names the line and column of the first fault."""
    review_type = row.choice("review_type", tuple(REVIEW_TYPES))
    review_date = row.as_date("review_date")
    born = row.as_date("birth_date")
    if review_type is None or review_date is None or born is None:
        missing = next(c for c in ("review_type", "review_date", "birth_date") if row.get(c) is None)
        raise MappingError("this required cell is empty", row.where(missing), hint="fill it in")
    checked_birth_date(born, row.where("birth_date"), review_date, "the review date")
    number = checked_nhs_number(row.require("nhs_number"), row.where("nhs_number"))
    postcode = row.get("postcode")
    person = Person(
        identifiers=(nhs_identifier(number),),
        given=(row.require("given_name"),),
        family=row.require("family_name"),
        birth_date=born,
        gender=row.choice("sex", SEXES),
        postcode=normal_postcode(postcode) if postcode else None,
    )
    return Review(
        record_id=row.require("record_id"),
        record_version=row.record_version(),
        line=row.line,
        subject=person,
        review_type=review_type,
        review_date=review_date,
        outcome=row.choice("outcome", OUTCOMES, default="completed") or "completed",
        practitioner_role=row.get("practitioner_role"),
        asq3=_asq3(row, review_type),
        breastfeeding=_only_on(
            row, "breastfeeding_status", row.choice("breastfeeding_status", BREASTFEEDING), review_type
        ),
    )


def _asq3(row: CsvRow, review_type: str) -> dict[str, int]:
    scores: dict[str, int] = {}
    for domain in ASQ3_DOMAINS:
        column = f"asq3_{domain}"
        score = _only_on(row, column, row.as_int(column, 0, 60), review_type)
        if score is not None:
            scores[domain] = score
    return scores


def _only_on(row: CsvRow, column: str, value: T | None, review_type: str) -> T | None:
    allowed = ASQ3_REVIEWS if column.startswith("asq3_") else BREASTFEEDING_REVIEWS
    if value is not None and review_type not in allowed:
        raise MappingError(
            f"this value does not belong to a {review_type} review",
            row.where(column),
            hint=f"send it only with these reviews: {', '.join(sorted(allowed))}",
        )
    return value
