"""One row of the vaccination batch file, checked column by column into a `Vaccination`.

Formats are the specification's: dates `YYYYMMDD`; DATE_AND_TIME `YYYYMMDDThhmmss`, optionally
followed by `00` (GMT) or `01` (BST, UTC+1), read as UK local time without it; PERSON_GENDER_CODE
the NHS Data Dictionary person gender code (0 not known, 1 male, 2 female, 9 not specified /
indeterminate); PRIMARY_SOURCE `TRUE` or `FALSE`; ACTION_FLAG `new`, `update` or `delete` (any
case). Codes are SNOMED CT. A `delete` row needs only UNIQUE_ID, UNIQUE_ID_URI, ACTION_FLAG and the
person, so a supplier can withdraw a record it no longer holds in full. Errors name the line and
column, never the value.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone
from decimal import Decimal, InvalidOperation
from typing import Any, cast

from connectors.common.csv_records import CsvRow
from connectors.common.demographics import (
    Person,
    checked_birth_date,
    checked_nhs_number,
    nhs_identifier,
    normal_postcode,
)
from connectors.common.problems import Findings
from connectors.vaccination_csv.layout import MANDATORY, UK
from schemas.envelope import Identifier
from schemas.errors import MappingError
from schemas.identifiers import RECORD_SCOPED_KIND, local_system

ACTIONS = ("new", "update", "delete")
_GENDER = {"0": "unknown", "1": "male", "2": "female", "9": "other"}
_DATE_TIME = re.compile(r"(\d{8}T\d{6})(00|01)?")
_SNOMED = re.compile(r"\d{6,18}")


@dataclass(frozen=True)
class Coded:
    code: str
    term: str | None


@dataclass(frozen=True)
class Withdrawal:
    """A `delete` row: the supplier withdraws its record."""

    line: int
    unique_id: str
    unique_id_uri: str
    person: Person

    @property
    def record_id(self) -> str:
        """The supplier's own record: UNIQUE_ID within the system UNIQUE_ID_URI names."""
        return f"{self.unique_id_uri}|{self.unique_id}"


@dataclass(frozen=True)
class Vaccination(Withdrawal):
    """A `new` or `update` row, typed; `None` = the cell was empty."""

    action: str
    occurred: datetime
    site: tuple[str, str]
    location: tuple[str, str]
    performer: str | None = None
    recorded: date | None = None
    primary_source: bool | None = None
    procedure: Coded | None = None
    dose_sequence: int | None = None
    product: Coded | None = None
    manufacturer: str | None = None
    batch: str | None = None
    expiry: date | None = None
    body_site: Coded | None = None
    route: Coded | None = None
    dose: tuple[Decimal, Coded | None] | None = None
    indication: str | None = None


def read_vaccination(row: CsvRow, partner: str) -> Vaccination | Withdrawal:
    """The row, or one error naming every problem of it (each cell checked, not only the first)."""
    found = Findings()
    action = found.take(_action, row)
    unique_id, uri = found.take(row.require, "unique_id"), found.take(row.require, "unique_id_uri")
    record_id = f"{uri}|{unique_id}"
    if action == "delete":
        withdrawn = _person(row, partner, record_id, found, full=False)
        found.check()
        return Withdrawal(row.line, str(unique_id), str(uri), withdrawn)
    for column in MANDATORY:
        found.take(row.require, column)
    occurred = found.take(_date_time, row, "date_and_time")
    person = _person(row, partner, record_id, found, full=True)
    if person.birth_date is not None and occurred is not None:
        found.take(
            checked_birth_date, person.birth_date, row.where("person_dob"), occurred.date(), "the vaccination"
        )
    details = _details(row, found)
    found.check()
    return Vaccination(
        line=row.line,
        action=str(action),
        unique_id=str(unique_id),
        unique_id_uri=str(uri),
        person=person,
        occurred=cast(datetime, occurred),
        site=(row.require("site_code"), row.require("site_code_type_uri")),
        location=(row.require("location_code"), row.require("location_code_type_uri")),
        performer=" ".join(
            p
            for p in (row.get("performing_professional_forename"), row.get("performing_professional_surname"))
            if p
        )
        or None,
        **details,
    )


def _details(row: CsvRow, found: Findings) -> dict[str, Any]:
    """The optional cells of a `new` or `update` row by field, each checked on its own (a problem
    is noted in `found`, and the cell left out)."""
    return {
        "recorded": found.take(_date, row, "recorded_date"),
        "primary_source": found.take(_boolean, row, "primary_source"),
        "procedure": found.take(_coded, row, "vaccination_procedure_code", "vaccination_procedure_term"),
        "dose_sequence": found.take(row.as_int, "dose_sequence", 1, 9),
        "product": found.take(_coded, row, "vaccine_product_code", "vaccine_product_term"),
        "manufacturer": row.get("vaccine_manufacturer"),
        "batch": row.get("batch_number"),
        "expiry": found.take(_date, row, "expiry_date"),
        "body_site": found.take(_coded, row, "site_of_vaccination_code", "site_of_vaccination_term"),
        "route": found.take(_coded, row, "route_of_vaccination_code", "route_of_vaccination_term"),
        "dose": found.take(_dose, row),
        "indication": found.take(_snomed, row, "indication_code"),
    }


def _action(row: CsvRow) -> str:
    action = row.choice("action_flag", ACTIONS)
    if action is None:
        raise MappingError(
            "this required cell is empty", row.where("action_flag"), hint="write new, update or delete"
        )
    return action


def _person(row: CsvRow, partner: str, record_id: str, found: Findings, *, full: bool) -> Person:
    """The vaccinated person. Without an NHS number the subject is local to this record only, so
    identity resolution matches the demographics instead of joining people by a record id. A cell
    with a problem is noted in `found` and left out (one list for the whole row, cheaply)."""
    nhs = row.get("nhs_number")
    identifiers: list[Identifier] = []
    if nhs is not None:
        number = found.take(checked_nhs_number, nhs, row.where("nhs_number"))
        identifiers += [nhs_identifier(number)] if number else []
    else:
        identifiers.append(Identifier(system=local_system(partner, RECORD_SCOPED_KIND), value=record_id))
    gender = found.take(_gender, row)
    if not full:
        return Person(identifiers=tuple(identifiers))
    postcode = found.take(row.require, "person_postcode")
    given, family = found.take(row.require, "person_forename"), found.take(row.require, "person_surname")
    born = found.take(_date, row, "person_dob")
    return Person(
        identifiers=tuple(identifiers),
        given=tuple((given or "").split()),
        family=family,
        birth_date=born,
        gender=gender,
        postcode=normal_postcode(postcode) if postcode else None,
    )


def _gender(row: CsvRow) -> str | None:
    gender = row.get("person_gender_code")
    if gender is not None and gender not in _GENDER:
        raise MappingError(
            "the gender code is not an NHS Data Dictionary person gender code",
            row.where("person_gender_code"),
            hint="use 0 (not known), 1 (male), 2 (female) or 9 (not specified)",
        )
    return _GENDER[gender] if gender is not None else None


def _date(row: CsvRow, column: str) -> date | None:
    value = row.get(column)
    if value is None:
        return None
    try:
        if len(value) != 8 or not value.isdigit():
            raise ValueError(value)
        return datetime.strptime(value, "%Y%m%d").date()
    except ValueError:
        raise MappingError(
            "the value is not a date", row.where(column), hint="write dates as YYYYMMDD"
        ) from None


def _date_time(row: CsvRow, column: str) -> datetime:
    value = row.require(column)
    found = _DATE_TIME.fullmatch(value.upper())
    try:
        if found is None:
            raise ValueError(value)
        moment = datetime.strptime(found.group(1), "%Y%m%dT%H%M%S")
    except ValueError:
        raise MappingError(
            "the value is not a date and time",
            row.where(column),
            hint="write YYYYMMDDThhmmss, optionally followed by 00 (GMT) or 01 (BST)",
        ) from None
    if found.group(2) is None:
        return moment.replace(tzinfo=UK)
    return moment.replace(tzinfo=timezone(timedelta(hours=int(found.group(2)))))


def _boolean(row: CsvRow, column: str) -> bool | None:
    value = row.choice(column, ("true", "false"))
    return None if value is None else value == "true"


def _snomed(row: CsvRow, column: str) -> str | None:
    value = row.get(column)
    if value is not None and not _SNOMED.fullmatch(value):
        raise MappingError(
            "the value is not a SNOMED CT code",
            row.where(column),
            hint="write the SNOMED CT concept id (digits)",
        )
    return value


def _coded(row: CsvRow, code: str, term: str) -> Coded | None:
    found = _snomed(row, code)
    return Coded(found, row.get(term)) if found else None


def _dose(row: CsvRow) -> tuple[Decimal, Coded | None] | None:
    value = row.get("dose_amount")
    if value is None:
        return None
    try:
        amount = Decimal(value)
    except InvalidOperation:
        amount = Decimal("NaN")
    if not amount.is_finite() or amount <= 0:
        raise MappingError(
            "the dose amount is not a positive number", row.where("dose_amount"), hint="write e.g. 0.5"
        )
    return amount, _coded(row, "dose_unit_code", "dose_unit_term")
