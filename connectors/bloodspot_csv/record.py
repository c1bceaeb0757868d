"""One row of the blood spot results CSV (docs/connectors/bloodspot-csv.md) into a checked `Card`.

One row is one blood spot card (one sample of one baby) as the screening laboratory reports it to
the child health records department: the baby, the sample's dates, and a status code for each of
the nine conditions the laboratory has a result for (an empty cell: not reported in this row).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import cast

from connectors.bloodspot_csv.codes import CONDITIONS, STATUS_CODES
from connectors.common.csv_records import CsvRow
from connectors.common.demographics import (
    Person,
    checked_birth_date,
    checked_nhs_number,
    nhs_identifier,
    normal_postcode,
)
from connectors.common.problems import Findings
from schemas.envelope import Identifier
from schemas.errors import MappingError
from schemas.identifiers import RECORD_SCOPED_KIND, local_system

REQUIRED_COLUMNS = (
    "record_id",
    "nhs_number",
    "given_name",
    "family_name",
    "birth_date",
    "laboratory_ods_code",
    "sample_taken",
    "sample_received",
    *CONDITIONS,
)
ACTIONS = ("new", "update", "delete")
_SEXES = {"male": "male", "female": "female", "other": "other", "unknown": "unknown"}
_SEXES |= {"1": "male", "2": "female", "9": "other", "0": "unknown"}
_STATUS = re.compile(r"(\d{2})(\d{2})?")
_ODS = re.compile(r"[A-Z0-9]{3,8}")


@dataclass(frozen=True)
class Result:
    condition: str
    status: str
    sub_code: str | None


@dataclass(frozen=True)
class Card:
    """One blood spot card's results, checked."""

    line: int
    record_id: str
    action: str
    person: Person
    laboratory: str
    taken: datetime
    received: date
    reported: datetime | None
    results: tuple[Result, ...]


def read_card(row: CsvRow, partner: str) -> Card:
    """The card, or one error naming every problem of the row (each cell checked on its own)."""
    found = Findings()
    record_id = found.take(row.require, "record_id")
    action = found.take(row.choice, "action", ACTIONS, default="new") or "new"
    person = found.take(_baby, row, partner, str(record_id))
    taken = found.take(_moment, row, "sample_taken")
    received = found.take(row.required, row.as_date, "sample_received")
    if person is not None and person.birth_date is not None and taken is not None:
        found.take(
            checked_birth_date,
            person.birth_date,
            row.where("birth_date"),
            taken.date(),
            "the sample was taken",
        )
    if received is not None and taken is not None and received < taken.date():
        found.note(
            MappingError(
                "the sample was received before it was taken",
                row.where("sample_received"),
                hint="check sample_taken and sample_received",
            )
        )
    results = tuple(r for condition in CONDITIONS if (r := found.take(_result, row, condition)))
    if not any(row.get(condition) for condition in CONDITIONS) and action != "delete":
        found.note(
            MappingError(
                "the row reports no result for any condition",
                row.where("pku"),
                hint=f"give a status code in at least one of {', '.join(CONDITIONS)}",
            )
        )
    laboratory = found.take(_laboratory, row)
    reported = found.take(_moment, row, "reported") if row.get("reported") else None
    found.check()
    return Card(
        line=row.line,
        record_id=str(record_id),
        action=action,
        person=cast(Person, person),
        laboratory=str(laboratory),
        taken=cast(datetime, taken),
        received=cast(date, received),
        reported=reported,
        results=results,
    )


def _laboratory(row: CsvRow) -> str:
    laboratory = row.require("laboratory_ods_code").upper()
    if not _ODS.fullmatch(laboratory):
        raise MappingError(
            "the laboratory code is not an ODS code",
            row.where("laboratory_ods_code"),
            hint="give the screening laboratory's ODS organisation code",
        )
    return laboratory


def _baby(row: CsvRow, partner: str, record_id: str) -> Person:
    """The baby; without an NHS number the subject names this card's baby only (identity then
    matches the demographics, so two babies never join by a laboratory number)."""
    found = Findings()
    nhs = row.get("nhs_number")
    identifiers: list[Identifier] = []
    if nhs is not None:
        number = found.take(checked_nhs_number, nhs, row.where("nhs_number"))
        identifiers += [nhs_identifier(number)] if number else []
    else:
        identifiers.append(Identifier(system=local_system(partner, RECORD_SCOPED_KIND), value=record_id))
    sex = found.take(_sex, row)
    postcode = row.get("postcode")
    given, family = found.take(row.require, "given_name"), found.take(row.require, "family_name")
    born = found.take(row.required, row.as_date, "birth_date")
    found.check()
    return Person(
        identifiers=tuple(identifiers),
        given=tuple(str(given).split()),
        family=family,
        birth_date=born,
        gender=sex,
        postcode=normal_postcode(postcode) if postcode else None,
    )


def _sex(row: CsvRow) -> str | None:
    sex = row.get("sex")
    if sex is not None and sex.lower() not in _SEXES:
        raise MappingError(
            "the sex is not one of the allowed codes",
            row.where("sex"),
            hint="use male, female, other, unknown (or the NHS Data Dictionary codes 1, 2, 9, 0)",
        )
    return _SEXES[sex.lower()] if sex else None


def _moment(row: CsvRow, column: str) -> datetime:
    """An ISO date-time; without an offset it is UTC, as in every hubnet CSV format."""
    moment = row.required(row.as_datetime, column)
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _result(row: CsvRow, condition: str) -> Result | None:
    value = row.get(condition)
    if value is None:
        return None
    found = _STATUS.fullmatch(value)
    if found is None or found.group(1) not in STATUS_CODES:
        raise MappingError(
            "the value is not an NBS programme status code",
            row.where(condition),
            hint="give the two-digit status code 01-10 (e.g. 04), or its four-digit sub code (e.g. 0301)",
        )
    return Result(condition, found.group(1), value if found.group(2) else None)
