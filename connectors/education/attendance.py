"""Map one row of the school attendance return (`attendance-csv`) to hub events.

Column contract: docs/connectors/native-formats.md. One row = one pupil's figures for one term at
one school: an attendance Observation, plus a persistent-absence Flag at 10% or more missed. A
corrected row (higher `record_version`) below 10% retracts the flag an earlier version raised.
"""

from __future__ import annotations

import re
from datetime import date
from typing import cast

from connectors.base import SourceContext
from connectors.common.csv_records import CsvRow
from connectors.common.demographics import checked_birth_date
from connectors.common.problems import Findings
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
TERM = re.compile(r"\d{4}-(autumn|spring|summer)")


def attendance_row_events(row: CsvRow, ctx: SourceContext) -> list[HubEvent]:
    """Events of one row; raises `MappingError` naming the line and column of every problem."""
    found = Findings()
    as_of = found.take(row.required, row.as_date, "as_of_date")
    born = found.take(row.required, row.as_date, "birth_date")
    if born is not None and as_of is not None:
        found.take(checked_birth_date, born, row.where("birth_date"), as_of, "the as_of_date of the figures")
    upn = found.take(lambda: checked_upn(row.require("upn"), row.where("upn")))
    family, given = found.take(row.require, "family_name"), found.take(row.require, "given_name")
    period, urn = found.take(_term, row), found.take(_urn, row)
    possible = found.take(row.required, lambda column: row.as_int(column, low=0), "sessions_possible")
    attended = found.take(row.required, lambda column: row.as_int(column, low=0), "sessions_attended")
    authorised = found.take(row.as_int, "authorised_absences", low=0)
    unauthorised = found.take(row.as_int, "unauthorised_absences", low=0)
    record_id, version = found.take(row.require, "record_id"), found.take(row.record_version)
    found.check()
    day = cast(date, as_of)
    pupil = Pupil(upn=str(upn), family=str(family), given=(str(given),), birth_date=cast(date, born))
    figures = checked_attendance(
        Attendance(
            period=str(period),
            as_of=day,
            school=School(urn=str(urn)),
            possible=cast(int, possible),
            attended=cast(int, attended),
            authorised=authorised,
            unauthorised=unauthorised,
        ),
        row.where("sessions_attended"),
    )
    source = PupilEvents.start(ctx, local_system(ctx.partner, "attendance-return"), str(version), pupil)
    events = attendance_events(source, str(record_id), figures)
    if not figures.persistent_absence and source.record.record_version != "1":
        events.append(source.retraction(flag_record_id(str(record_id)), at_midnight(day)))
    return events


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
