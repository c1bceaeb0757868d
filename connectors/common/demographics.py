"""A person as flat partner formats describe them (CSV columns, simple JSON), and its FHIR Patient.

Small partners often hold only a name, a date of birth and a postcode, sometimes an NHS number.
Identity resolution matches on exactly these, so every flat-format connector puts them in a
Patient resource the same way, with the NHS number's check digit enforced here, once. Error
reasons name the field, never its value: reasons travel to logs and ops pages.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from typing import Any

from schemas.envelope import Identifier
from schemas.errors import MappingError
from schemas.identifiers import NHS_NUMBER, nhs_number_is_valid, normalise_nhs_number

_POSTCODE = re.compile(r"^([A-Z]{1,2}\d[A-Z\d]?)\s*(\d[A-Z]{2})$")


def checked_nhs_number(raw: str, location: str) -> str:
    """The NHS number without spaces or dashes, or a `MappingError` when it fails modulus 11."""
    number = normalise_nhs_number(raw)
    if not nhs_number_is_valid(number):
        raise MappingError(
            "the NHS number is not 10 digits with a valid modulus 11 check digit",
            location,
            hint="copy the NHS number from a letter or the NHS App, or leave it empty",
        )
    return number


def checked_birth_date(born: date, location: str, not_after: date, what: str) -> date:
    """The date of birth, or a `MappingError` when it falls after `not_after` (today, the event)."""
    if born > not_after:
        raise MappingError(
            f"the date of birth is after {what}",
            location,
            hint="check the date of birth (YYYY-MM-DD) and the other dates of the record",
        )
    return born


def normal_postcode(raw: str) -> str:
    """Upper case with one space before the inward code, so `co151ab` and `CO15 1AB` match; text
    that is not shaped like a UK postcode is kept as written (upper case), for people to read."""
    text = " ".join(raw.upper().split())
    found = _POSTCODE.match(text)
    return f"{found.group(1)} {found.group(2)}" if found else text


@dataclass(frozen=True)
class Person:
    """Identity facts of one person; `identifiers` are normalised subject identifiers."""

    identifiers: tuple[Identifier, ...]
    given: tuple[str, ...] = ()
    family: str | None = None
    birth_date: date | None = None
    gender: str | None = None
    postcode: str | None = None


def patient_resource(person: Person, patient_id: str) -> dict[str, Any]:
    """FHIR Patient carrying what identity resolution matches on: identifiers, name, birth date and
    postcode; the caller picks a stable `patient_id` so every event of a person names one Patient."""
    identifiers: list[dict[str, Any]] = [
        {"system": ident.system, "value": ident.value} for ident in person.identifiers
    ]
    patient: dict[str, Any] = {"resourceType": "Patient", "id": patient_id, "identifier": identifiers}
    if person.family or person.given:
        name: dict[str, Any] = {"use": "usual"}
        if person.family:
            name["family"] = person.family
        if person.given:
            name["given"] = list(person.given)
        patient["name"] = [name]
    if person.gender:
        patient["gender"] = person.gender
    if person.birth_date:
        patient["birthDate"] = person.birth_date.isoformat()
    if person.postcode:
        patient["address"] = [{"use": "home", "postalCode": person.postcode}]
    return patient


def nhs_identifier(number: str) -> Identifier:
    """Subject identifier for an NHS number already checked by `checked_nhs_number`."""
    return Identifier(system=NHS_NUMBER, value=number)
