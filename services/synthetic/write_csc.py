"""`csc-events`: case events exported by the council's children's social care case management system.

Columns follow docs/connectors/native-formats.md. The case management system exports its case
events as CSV (group `case-events`); its early help module sends JSON `{"events": [...]}` with the
same keys (group `early-help`), so both shapes of the format reach the connector.
"""

from __future__ import annotations

from collections.abc import Sequence

import orjson

from services.synthetic.mess import View
from services.synthetic.partners import Partner
from services.synthetic.records import LifeEvent
from services.synthetic.writer import CsvWriter, Fields, json_array, person_cells

JSON_GROUP = "early-help"


class SocialCareWriter(CsvWriter):
    fmt = "csc-events"
    columns = (
        "record_id",
        "record_version",
        "person_id",
        "family_id",
        "nhs_number",
        "upn",
        "given_name",
        "family_name",
        "birth_date",
        "sex",
        "postcode",
        "event_type",
        "event_date",
        "referral_source",
        "reason",
        "assessment_outcome",
        "cp_category",
        "legal_status",
        "placement_type",
        "closure_reason",
        "purge",
    )
    date_columns = ("event_date",)
    required_columns = ("event_type", "person_id", "event_date", "given_name")

    def fields(self, event: LifeEvent, view: View, record_id: str, version: int) -> Fields:
        person = event.person
        cells: Fields = {
            "record_id": record_id,
            "record_version": version,
            "person_id": person.csc_id,
            "family_id": event.family.csc_group,
            **person_cells(view, person.sex),
            "upn": person.upn if person.upn and view.nhs_number else "",
            "event_type": event.kind,
            "event_date": event.at.date().isoformat(),
            "_day": event.at.date(),
            "_group": event.group,
        }
        cells.update(event.detail)
        return cells

    def retraction(self, fields: Fields) -> Fields:
        return {**fields, "record_version": int(fields["record_version"]) + 1, "purge": "true"}

    def extension_for(self, group: str) -> str:
        return "json" if group == JSON_GROUP else "csv"

    def encode(self, fields: Fields) -> bytes:
        if fields["_group"] != JSON_GROUP:
            return super().encode(fields)
        return orjson.dumps({c: str(fields[c]) for c in self.columns if fields.get(c) not in (None, "")})

    def assemble(
        self, partner: Partner, group: str, period: str, bodies: Sequence[bytes]
    ) -> tuple[bytes, list[str]]:
        if group != JSON_GROUP:
            return super().assemble(partner, group, period, bodies)
        return json_array(bodies, "events")
