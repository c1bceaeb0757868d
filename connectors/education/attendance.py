"""Map one row of the school attendance return (`attendance-csv`) to hub events.

Column contract: docs/connectors/native-formats.md. One row = one pupil's figures for one term at
one school: an attendance Observation, plus a persistent-absence Flag at 10% or more missed. A
corrected row (higher `record_version`) below 10% retracts the flag an earlier version raised.
"""

from __future__ import annotations

import re
from typing import TypeVar

from connectors.base import SourceContext
from connectors.common.csv_records import CsvRow
from connectors.common.demographics import checked_birth_date
from connectors.education.absence import Attendance, attendance_events, checked_attendance, flag_record_id
from connectors.education.events import PupilEvents, at_midnight
from connectors.education.pupil import Pupil, School, checked_upn
from schemas.envelope import HubEvent
from schemas.errors import MappingError
from schemas.identifiers import local_system

REQUIRED_COLUMNS = (
    "record_id",
    "upn",
    "given_name",
    "family_name",
    "birth_date",
    "school_urn",
    "term",
    "sessions_possible",
    "sessions_attended",
    "as_of_date",
)
T = TypeVar("T")
TERM = re.compile(r"\d{4}-(autumn|spring|summer)")


def attendance_row_events(row: CsvRow, ctx: SourceContext) -> list[HubEvent]:
    """Events of one row; raises `MappingError` naming the line and column of the first problem."""
    as_of = _present(row.as_date("as_of_date"), row, "as_of_date")
    born = checked_birth_date(
        _present(row.as_date("birth_date"), row, "birth_date"),
        row.where("birth_date"),
        as_of,
        "the as_of_date of the figures",
    )
    pupil = Pupil(
        upn=checked_upn(row.require("upn"), row.where("upn")),
        family=row.require("family_name"),
        given=(row.require("given_name"),),
        birth_date=born,
    )
    figures = checked_attendance(
        Attendance(
            period=_term(row),
            as_of=as_of,
            school=School(urn=_urn(row)),
            possible=_present(row.as_int("sessions_possible", low=0), row, "sessions_possible"),
            attended=_present(row.as_int("sessions_attended", low=0), row, "sessions_attended"),
            authorised=row.as_int("authorised_absences", low=0),
            unauthorised=row.as_int("unauthorised_absences", low=0),
        ),
        row.where("sessions_attended"),
    )
    record_id = row.require("record_id")
    source = PupilEvents.start(
        ctx, local_system(ctx.partner, "attendance-return"), row.record_version(), pupil
    )
    events = attendance_events(source, record_id, figures)
    if not figures.persistent_absence and source.record.record_version != "1":
        events.append(source.retraction(flag_record_id(record_id), at_midnight(as_of)))
    return events


def _present(value: T | None, row: CsvRow, column: str) -> T:
    """A parsed required cell: None means the cell was empty."""
    if value is None:
        raise MappingError("this required cell is empty", row.where(column), hint="fill it in")
    return value


def _term(row: CsvRow) -> str:
    term = row.require("term").lower()
    if not TERM.fullmatch(term):
        raise MappingError(
            "the term is not one the return allows",
            row.where("term"),
            hint="write the year and term, e.g. 2024-autumn, 2025-spring, 2025-summer",
        )
    return term


def _urn(row: CsvRow) -> str:
    urn = row.require("school_urn")
    if not re.fullmatch(r"\d{6}", urn):
        raise MappingError("the school URN must be 6 digits", row.where("school_urn"), hint="use the DfE URN")
    return urn
