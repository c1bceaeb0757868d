"""The pupil as both education formats describe them: identity checks and the FHIR Patient.

Schools identify a pupil by UPN; the check letter is validated here once, for every format, so
identity resolution never links on a mistyped number. Names, date of birth and postcode travel in
the Patient resource for matching; they never appear in error reasons.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from connectors.education.codes import LAESTAB_SYSTEM, SCHOOL_URN_SYSTEM, ULN_SYSTEM
from schemas.envelope import Identifier, resource_id
from schemas.errors import MappingError
from schemas.identifiers import UPN, upn_is_valid


@dataclass(frozen=True)
class School:
    """A school as education files name it: DfE URN and/or LA number + establishment number."""

    urn: str | None = None
    la: str | None = None
    estab: str | None = None
    name: str | None = None

    @property
    def laestab(self) -> str | None:
        """The 7-digit LAESTAB, when both parts are real numbers (CTF writes MMM/XXX when unknown)."""
        if (
            self.la
            and self.estab
            and f"{self.la}{self.estab}".isascii()
            and self.la.isdigit()
            and self.estab.isdigit()
        ):
            return f"{self.la}{self.estab}"
        return None

    @property
    def key(self) -> str:
        """Stable text naming the school inside record ids."""
        return self.laestab or self.urn or f"{self.la or '-'}{self.estab or '-'}"

    def reference(self) -> dict[str, Any]:
        """FHIR Reference to the school by identifier (URN preferred), with its name."""
        reference: dict[str, Any] = {}
        if self.urn:
            reference["identifier"] = {"system": SCHOOL_URN_SYSTEM, "value": self.urn}
        elif self.laestab:
            reference["identifier"] = {"system": LAESTAB_SYSTEM, "value": self.laestab}
        if self.name:
            reference["display"] = self.name
        return reference or {"display": "school not identified"}


@dataclass(frozen=True)
class Pupil:
    """Identity facts of one pupil; `given` holds the forename then any middle names."""

    upn: str
    family: str
    given: tuple[str, ...]
    birth_date: date
    gender: str | None = None
    preferred_family: str | None = None
    preferred_given: str | None = None
    former_family: str | None = None
    uln: str | None = None
    address_lines: tuple[str, ...] = ()
    postcode: str | None = None

    @property
    def subjects(self) -> tuple[Identifier, ...]:
        return (Identifier(system=UPN, value=self.upn),)

    @property
    def key(self) -> str:
        """Pseudonymous pupil key for record ids, so UPNs do not travel in ids and logs."""
        return resource_id("pupil", UPN, self.upn)


def checked_upn(raw: str, location: str) -> str:
    """Upper-cased UPN with a valid DfE check letter, or a `MappingError` at `location`."""
    value = raw.strip().upper()
    if not upn_is_valid(value):
        raise MappingError(
            "the UPN is not valid (13 characters, and the check letter must match)",
            location,
            hint="copy the UPN from the management information system; do not retype it",
        )
    return value


def check_order(start: date, end: date | None, location: str) -> None:
    """Reject an end date before its start date."""
    if end is not None and end < start:
        raise MappingError(
            "the end date is before the start date", location, hint="check both dates of this entry"
        )


def patient_resource(pupil: Pupil) -> dict[str, Any]:
    """FHIR Patient for a pupil; its id is stable per UPN, so every event points at the same one."""
    identifiers = [{"system": UPN, "value": pupil.upn}]
    if pupil.uln:
        identifiers.append({"system": ULN_SYSTEM, "value": pupil.uln})
    names: list[dict[str, Any]] = [{"use": "official", "family": pupil.family, "given": list(pupil.given)}]
    if pupil.preferred_family or pupil.preferred_given:
        names.append(
            {
                "use": "usual",
                "family": pupil.preferred_family or pupil.family,
                "given": [pupil.preferred_given or pupil.given[0]],
            }
        )
    if pupil.former_family:
        names.append({"use": "old", "family": pupil.former_family})
    patient: dict[str, Any] = {
        "resourceType": "Patient",
        "id": pupil.key,
        "identifier": identifiers,
        "name": names,
        "birthDate": pupil.birth_date.isoformat(),
    }
    if pupil.gender:
        patient["gender"] = pupil.gender
    if pupil.address_lines or pupil.postcode:
        address: dict[str, Any] = {"use": "home"}
        if pupil.address_lines:
            address["line"] = list(pupil.address_lines)
        if pupil.postcode:
            address["postalCode"] = pupil.postcode
        patient["address"] = [address]
    return patient
