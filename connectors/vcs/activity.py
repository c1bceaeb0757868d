"""One voluntary-sector activity record, read and checked the same way from JSON or CSV.

Both wire forms carry the same fields (docs/connectors/native-formats.md); they differ only in
where a field lives and how its location is written (`$.person.birth_date` or `line 12, column
birth_date`). `Fields` hides that difference, so the checks here are written once.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Protocol, cast

from connectors.common.demographics import (
    Person,
    checked_birth_date,
    checked_nhs_number,
    nhs_identifier,
    normal_postcode,
)
from connectors.common.fhir_time import parse_fhir_datetime
from connectors.common.problems import Findings
from connectors.common.values import record_version
from schemas.envelope import Identifier, resource_id
from schemas.errors import MappingError
from schemas.identifiers import local_system

ACTIVITIES: dict[str, str] = {
    "session-attended": "Session attended",
    "foodbank-referral": "Food bank referral",
    "parenting-course-started": "Parenting course started",
    "parenting-course-completed": "Parenting course completed",
    "relationship-support": "Relationship support",
    "housing-advice": "Housing advice",
    "debt-advice": "Debt advice",
}
"""Activity code -> display text, as the contract lists them."""

FIELDS = (
    "record_id",
    "record_version",
    "organisation",
    "activity",
    "date",
    "local_id",
    "given_name",
    "family_name",
    "birth_date",
    "postcode",
    "nhs_number",
    "service_name",
    "notes",
)
PERSON_FIELDS = ("local_id", "given_name", "family_name", "birth_date", "postcode", "nhs_number")
CHARITY_SYSTEM = "https://org-id.guide/list/GB-CHC"
COMPANY_SYSTEM = "https://org-id.guide/list/GB-COH"


class Fields(Protocol):
    """Where an activity's fields come from: a CSV row (`CsvRow`) or a JSON object."""

    def get(self, column: str) -> str | None:
        """The trimmed value, or None when empty or absent (= not known)."""

    def where(self, column: str) -> str:
        """The location partners see for a field, used in every error."""


@dataclass(frozen=True)
class Activity:
    """A checked activity record, ready to map to FHIR."""

    record_id: str
    record_version: str
    organisation: Identifier
    activity: str
    occurred_at: datetime
    person: Person
    service_name: str | None
    notes: str | None


def read_activity(fields: Fields, partner: str, today: date) -> Activity:
    """Check every field, and name every problem at once; `today` (the day the input was received)
    bounds dates, so a date in the future is rejected and mapping stays pure."""
    found = Findings()
    occurred_at = found.take(_occurred_at, fields, today)
    record_id, version = found.take(_required, fields, "record_id"), found.take(_version, fields)
    organisation, activity = found.take(_organisation, fields), found.take(_activity, fields)
    person = found.take(_person, fields, partner, occurred_at.date() if occurred_at else today)
    found.check()
    return Activity(
        record_id=str(record_id),
        record_version=str(version),
        organisation=cast(Identifier, organisation),
        activity=str(activity),
        occurred_at=cast(datetime, occurred_at),
        person=cast(Person, person),
        service_name=fields.get("service_name"),
        notes=fields.get("notes"),
    )


def _required(fields: Fields, name: str) -> str:
    value = fields.get(name)
    if value is None:
        raise MappingError("this required field is empty or missing", fields.where(name), hint="fill it in")
    return value


def _version(fields: Fields) -> str:
    return record_version(fields.get("record_version"), fields.where("record_version"))


def _organisation(fields: Fields) -> Identifier:
    """Charity Commission numbers are 6-7 digits; Companies House numbers 8 digits or 2 letters
    and 6 digits (SC, NI, OC...)."""
    value = _required(fields, "organisation").upper().replace(" ", "")
    if value.isascii() and value.isdigit() and len(value) in (6, 7):
        return Identifier(system=CHARITY_SYSTEM, value=value)
    if (
        len(value) == 8
        and value.isascii()
        and (value.isdigit() or (value[:2].isalpha() and value[2:].isdigit()))
    ):
        return Identifier(system=COMPANY_SYSTEM, value=value)
    raise MappingError(
        "the organisation is neither a charity number nor a Companies House number",
        fields.where("organisation"),
        hint="send your registered charity number (e.g. 1234567) or company number (e.g. 01234567)",
    )


def _activity(fields: Fields) -> str:
    code = _required(fields, "activity").lower()
    if code not in ACTIVITIES:
        raise MappingError(
            "the activity is not one of the known codes",
            fields.where("activity"),
            hint=f"use one of: {', '.join(ACTIVITIES)}",
        )
    return code


def _moment(value: str, where: str, date_only: bool = False) -> datetime:
    """A full date (midnight UTC) or, unless `date_only`, a date-time (no offset = UTC)."""
    moment = parse_fhir_datetime(value) if len(value) == 10 or (len(value) > 10 and not date_only) else None
    if moment is None:
        raise MappingError("the value is not a real date", where, hint="write dates as YYYY-MM-DD")
    return moment


def _occurred_at(fields: Fields, today: date) -> datetime:
    moment = _moment(_required(fields, "date"), fields.where("date"))
    if moment.date() > today:
        raise MappingError(
            "the date is in the future", fields.where("date"), hint="send activities once they have happened"
        )
    return moment


def _person(fields: Fields, partner: str, occurred_on: date) -> Person:
    """Subject identifiers: NHS number when given, the charity's own client id, and when neither
    is known a pseudonymous id derived from name, date of birth and postcode, so one person's
    events share a Kafka key; with none of these the person cannot be told apart from others."""
    found = Findings()
    nhs = fields.get("nhs_number")
    local_id = fields.get("local_id")
    given = tuple((fields.get("given_name") or "").split())
    family = fields.get("family_name")
    birth = fields.get("birth_date")
    where = fields.where("birth_date")
    born = None
    if birth and (moment := found.take(_moment, birth, where, date_only=True)):
        born = found.take(checked_birth_date, moment.date(), where, occurred_on, "the activity date")
    raw_postcode = fields.get("postcode")
    postcode = normal_postcode(raw_postcode) if raw_postcode else None
    identifiers: list[Identifier] = []
    if nhs is not None and (number := found.take(checked_nhs_number, nhs, fields.where("nhs_number"))):
        identifiers.append(nhs_identifier(number))
    if local_id is not None:
        identifiers.append(Identifier(system=local_system(partner, "client"), value=local_id))
    elif given and family and born:
        derived = resource_id(
            "vcs-client", " ".join(given).lower(), family.lower(), born.isoformat(), postcode or ""
        )
        identifiers.append(Identifier(system=local_system(partner, "derived-client"), value=derived))
    if not identifiers and not found.count:
        raise MappingError(
            "the person cannot be identified",
            fields.where("local_id"),
            hint="fill local_id, or nhs_number, or given_name, family_name and birth_date",
        )
    found.check()
    return Person(
        identifiers=tuple(identifiers),
        given=given,
        family=family,
        birth_date=born,
        postcode=postcode,
    )
