"""Read one `hv-csv` row (docs/connectors/native-formats.md) into a checked `Review`.

The subject is the mother for an `antenatal` contact and the child for every other review.
ASQ-3 scores belong to the 12-month and 2-2.5-year reviews and breastfeeding status to the
new-birth and 6-8-week visits: a value on another review is rejected rather than guessed at,
because it usually means the extract's columns have shifted.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import TypeVar, cast

from connectors.common.csv_records import CsvRow
from connectors.common.demographics import (
    Person,
    checked_birth_date,
    checked_nhs_number,
    nhs_identifier,
    normal_postcode,
)
from connectors.common.problems import Findings
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
    """The checked review of a row; `MappingError` names the line and column of every fault."""
    found = Findings()
    review_type = found.take(_review_type, row)
    review_date = found.take(row.required, row.as_date, "review_date")
    born = found.take(row.required, row.as_date, "birth_date")
    if born is not None and review_date is not None:
        found.take(checked_birth_date, born, row.where("birth_date"), review_date, "the review date")
    number = found.take(lambda: checked_nhs_number(row.require("nhs_number"), row.where("nhs_number")))
    postcode = row.get("postcode")
    given, family = found.take(row.require, "given_name"), found.take(row.require, "family_name")
    gender = found.take(row.choice, "sex", SEXES)
    record_id, version = found.take(row.require, "record_id"), found.take(row.record_version)
    outcome = found.take(row.choice, "outcome", OUTCOMES, default="completed") or "completed"
    asq3 = found.take(_asq3, row, review_type) if review_type else None
    breastfeeding = found.take(row.choice, "breastfeeding_status", BREASTFEEDING)
    if review_type is not None:
        found.take(_only_on, row, "breastfeeding_status", breastfeeding, review_type)
    found.check()
    person = Person(
        identifiers=(nhs_identifier(str(number)),),
        given=(str(given),),
        family=family,
        birth_date=born,
        gender=gender,
        postcode=normal_postcode(postcode) if postcode else None,
    )
    return Review(
        record_id=str(record_id),
        record_version=str(version),
        line=row.line,
        subject=person,
        review_type=str(review_type),
        review_date=cast(date, review_date),
        outcome=outcome,
        practitioner_role=row.get("practitioner_role"),
        asq3=asq3 or {},
        breastfeeding=breastfeeding,
    )


def _review_type(row: CsvRow) -> str:
    review_type = row.choice("review_type", tuple(REVIEW_TYPES))
    if review_type is None:
        raise row.empty("review_type")
    return review_type


def _asq3(row: CsvRow, review_type: str) -> dict[str, int]:
    """The ASQ-3 domain scores, each checked on its own."""
    found = Findings()
    scores: dict[str, int] = {}
    for domain in ASQ3_DOMAINS:
        column = f"asq3_{domain}"
        score = found.take(_only_on, row, column, found.take(row.as_int, column, 0, 60), review_type)
        if score is not None:
            scores[domain] = score
    found.check()
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
