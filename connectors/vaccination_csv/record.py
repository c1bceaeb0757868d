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

from connectors.common.csv_records import CsvRow
from connectors.common.demographics import (
    Person,
    checked_birth_date,
    checked_nhs_number,
    nhs_identifier,
    normal_postcode,
)
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
    action = row.choice("action_flag", ACTIONS)
    if action is None:
        raise MappingError(
            "this required cell is empty", row.where("action_flag"), hint="write new, update or delete"
        )
    unique_id, uri = row.require("unique_id"), row.require("unique_id_uri")
    record_id = f"{uri}|{unique_id}"
    if action == "delete":
        return Withdrawal(row.line, unique_id, uri, _person(row, partner, record_id, full=False))
    for column in MANDATORY:
        row.require(column)
    occurred = _date_time(row, "date_and_time")
    person = _person(row, partner, record_id, full=True)
    if person.birth_date is not None:
        checked_birth_date(person.birth_date, row.where("person_dob"), occurred.date(), "the vaccination")
    return Vaccination(
        line=row.line,
        action=action,
        unique_id=unique_id,
        unique_id_uri=uri,
        person=person,
        occurred=occurred,
        site=(row.require("site_code"), row.require("site_code_type_uri")),
        location=(row.require("location_code"), row.require("location_code_type_uri")),
        performer=" ".join(
            p
            for p in (row.get("performing_professional_forename"), row.get("performing_professional_surname"))
            if p
        )
        or None,
        recorded=_date(row, "recorded_date"),
        primary_source=_boolean(row, "primary_source"),
        procedure=_coded(row, "vaccination_procedure_code", "vaccination_procedure_term"),
        dose_sequence=row.as_int("dose_sequence", 1, 9),
        product=_coded(row, "vaccine_product_code", "vaccine_product_term"),
        manufacturer=row.get("vaccine_manufacturer"),
        batch=row.get("batch_number"),
        expiry=_date(row, "expiry_date"),
        body_site=_coded(row, "site_of_vaccination_code", "site_of_vaccination_term"),
        route=_coded(row, "route_of_vaccination_code", "route_of_vaccination_term"),
        dose=_dose(row),
        indication=_snomed(row, "indication_code"),
    )


def _person(row: CsvRow, partner: str, record_id: str, *, full: bool) -> Person:
    """The vaccinated person. Without an NHS number the subject is local to this record only, so
    identity resolution matches the demographics instead of joining people by a record id."""
    nhs = row.get("nhs_number")
    identifiers: list[Identifier] = []
    if nhs is not None:
        identifiers.append(nhs_identifier(checked_nhs_number(nhs, row.where("nhs_number"))))
    else:
        identifiers.append(Identifier(system=local_system(partner, RECORD_SCOPED_KIND), value=record_id))
    gender = row.get("person_gender_code")
    if gender is not None and gender not in _GENDER:
        raise MappingError(
            "the gender code is not an NHS Data Dictionary person gender code",
            row.where("person_gender_code"),
            hint="use 0 (not known), 1 (male), 2 (female) or 9 (not specified)",
        )
    if not full:
        return Person(identifiers=tuple(identifiers))
    postcode = row.require("person_postcode")
    return Person(
        identifiers=tuple(identifiers),
        given=tuple(row.require("person_forename").split()),
        family=row.require("person_surname"),
        birth_date=_date(row, "person_dob"),
        gender=_GENDER[gender] if gender is not None else None,
        postcode=normal_postcode(postcode),
    )


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
