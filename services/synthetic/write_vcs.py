"""`vcs-json` and `vcs-csv`: what a charity sends about the families it helps.

Layouts follow docs/connectors/native-formats.md. Charities rarely hold an NHS number: names,
date of birth and postcode are what identity resolution gets, often misspelt (see `mess`). The
food bank and the advice line post JSON; the hub session, parenting and relationship charities
upload the CSV template.
"""

from __future__ import annotations

import random
from collections.abc import Sequence

import orjson

from services.synthetic.mess import View, bad_date
from services.synthetic.partners import Partner
from services.synthetic.records import LifeEvent
from services.synthetic.writer import CsvWriter, Defect, Fields, FormatWriter, json_array

PERSON_KEYS = ("local_id", "given_name", "family_name", "birth_date", "postcode", "nhs_number")


def activity_fields(event: LifeEvent, view: View, record_id: str, version: int) -> Fields:
    """The flat record both layouts carry."""
    return {
        "record_id": record_id,
        "record_version": str(version),
        "organisation": event.partner.code,
        "activity": event.kind,
        "date": event.at.date().isoformat(),
        "local_id": view.local_id,
        "given_name": view.given,
        "family_name": view.surname,
        "birth_date": view.birth_date.isoformat(),
        "postcode": view.postcode,
        "nhs_number": view.nhs_number or "",
        "service_name": event.detail.get("service_name", event.partner.name),
        "notes": event.detail.get("notes", ""),
        "_day": event.at.date(),
    }


class VcsCsvWriter(CsvWriter):
    fmt = "vcs-csv"
    columns = (
        "record_id",
        "record_version",
        "organisation",
        "activity",
        "date",
        *PERSON_KEYS,
        "service_name",
        "notes",
    )
    date_columns = ("date",)
    required_columns = ("activity", "date")

    def fields(self, event: LifeEvent, view: View, record_id: str, version: int) -> Fields:
        return activity_fields(event, view, record_id, version)


class VcsJsonWriter(FormatWriter):
    fmt = "vcs-json"
    extension = "json"

    def fields(self, event: LifeEvent, view: View, record_id: str, version: int) -> Fields:
        return activity_fields(event, view, record_id, version)

    def malform(self, fields: Fields, rng: random.Random) -> Defect:
        """A date no one can read, or a webhook body cut off in transit."""
        if rng.random() < 0.5:
            fields["date"] = bad_date(rng, fields["_day"])
            return Defect.INLINE
        return Defect.TRUNCATED

    def encode(self, fields: Fields) -> bytes:
        body = {k: v for k, v in fields.items() if k not in PERSON_KEYS and not k.startswith("_")}
        body["person"] = {k: fields[k] for k in PERSON_KEYS}
        return orjson.dumps(body)

    def assemble(
        self, partner: Partner, group: str, period: str, bodies: Sequence[bytes]
    ) -> tuple[bytes, list[str]]:
        return json_array(bodies)
