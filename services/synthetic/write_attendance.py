"""`attendance-csv`: a school's termly attendance return, one row per pupil per term.

Columns follow docs/connectors/native-formats.md. Schools deliver once a term, after it ends, so
the delivery period here is the term (`2024-autumn`) rather than the month.
"""

from __future__ import annotations

from services.synthetic.mess import View
from services.synthetic.records import LifeEvent
from services.synthetic.writer import CsvWriter, Fields


class AttendanceWriter(CsvWriter):
    fmt = "attendance-csv"
    period = "term"
    columns = (
        "record_id",
        "record_version",
        "upn",
        "given_name",
        "family_name",
        "birth_date",
        "school_urn",
        "term",
        "sessions_possible",
        "sessions_attended",
        "authorised_absences",
        "unauthorised_absences",
        "as_of_date",
    )
    date_columns = ("as_of_date", "birth_date")
    required_columns = ("upn", "school_urn", "sessions_possible")

    def fields(self, event: LifeEvent, view: View, record_id: str, version: int) -> Fields:
        detail = event.detail
        return {
            "record_id": record_id,
            "record_version": version,
            "upn": event.person.upn,
            "given_name": view.given,
            "family_name": view.surname,
            "birth_date": view.birth_date.isoformat(),
            "school_urn": event.partner.code,
            "term": detail["term"],
            "sessions_possible": detail["possible"],
            "sessions_attended": detail["possible"] - detail["authorised"] - detail["unauthorised"],
            "authorised_absences": detail["authorised"],
            "unauthorised_absences": detail["unauthorised"],
            "as_of_date": event.at.date().isoformat(),
            "_day": event.at.date(),
        }
