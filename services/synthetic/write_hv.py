"""`hv-csv`: the community health record's extract of health-visiting mandated reviews.

Columns follow docs/connectors/native-formats.md. The subject is the mother for `antenatal`
reviews and the child otherwise; ASQ-3 scores come with the 12-month and 2-2.5-year reviews and
breastfeeding status with the new-birth and 6-8-week ones, as the service records them.
"""

from __future__ import annotations

from services.synthetic.mess import View
from services.synthetic.records import LifeEvent
from services.synthetic.writer import CsvWriter, Fields, person_cells

ASQ_DOMAINS = ("communication", "gross_motor", "fine_motor", "problem_solving", "personal_social")


class HealthVisitingWriter(CsvWriter):
    fmt = "hv-csv"
    columns = (
        "record_id",
        "record_version",
        "nhs_number",
        "given_name",
        "family_name",
        "birth_date",
        "sex",
        "postcode",
        "review_type",
        "review_date",
        "practitioner_role",
        "outcome",
        *(f"asq3_{domain}" for domain in ASQ_DOMAINS),
        "breastfeeding_status",
    )
    date_columns = ("review_date", "birth_date")
    required_columns = ("review_type", "given_name", "review_date")

    def fields(self, event: LifeEvent, view: View, record_id: str, version: int) -> Fields:
        detail = event.detail
        cells: Fields = {
            "record_id": record_id,
            "record_version": version,
            **person_cells(view, event.person.sex),
            "review_type": detail["review_type"],
            "review_date": event.at.date().isoformat(),
            "practitioner_role": detail.get("role", "health-visitor"),
            "outcome": detail["outcome"],
            "breastfeeding_status": detail.get("breastfeeding", ""),
            "_day": event.at.date(),
        }
        for domain, score in zip(ASQ_DOMAINS, detail.get("asq", ()), strict=False):
            cells[f"asq3_{domain}"] = score
        return cells
