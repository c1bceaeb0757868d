"""The child a social care record is about: subject identifiers and the FHIR Patient.

Every social care format names the child by the local authority's own person id (Liquidlogic,
Mosaic or Eclipse id; `LAchildID` in the CIN census; `CHILD` in SSDA903), and all three formats
require it. NHS number and UPN are cross-references typed by hand into the case record, so an
invalid one is dropped rather than rejecting the record: the local id still places the event on
the right timeline, and a bad cross-reference must never link two children. A cross-reference is
therefore never the sole identifier, which is the only case where hubnet would reject for it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

import structlog

from connectors.common.demographics import Person, nhs_identifier, patient_resource
from connectors.social_care import resources
from schemas.envelope import Identifier, resource_id
from schemas.identifiers import UPN, local_system, nhs_number_is_valid, normalise_nhs_number, upn_is_valid

log = structlog.get_logger(__name__)

PERSON_KIND = "person"
FAMILY_KIND = "family"


def family_identifier(partner: str, family_id: str | None) -> Identifier | None:
    """The authority's family/household group id as a subject identifier, when the record has one."""
    value = (family_id or "").strip()
    return Identifier(system=local_system(partner, FAMILY_KIND), value=value) if value else None


def person_identifier(partner: str, local_id: str) -> Identifier:
    """The local authority's social care person id as a subject identifier."""
    return Identifier(system=local_system(partner, PERSON_KIND), value=local_id.strip())


def cross_references(nhs_number: str | None, upn: str | None, source: str) -> list[Identifier]:
    """Valid NHS number and UPN as identifiers; invalid ones are dropped (counted in the log by
    kind only, never by value), because the local person id is always there to carry the event."""
    found: list[Identifier] = []
    if nhs_number:
        number = normalise_nhs_number(nhs_number)
        if nhs_number_is_valid(number):
            found.append(nhs_identifier(number))
        else:
            log.debug("social_care.cross_reference_dropped", kind="nhs_number", source=source)
    if upn:
        value = upn.strip().upper()
        if upn_is_valid(value):
            found.append(Identifier(system=UPN, value=value))
        else:
            log.debug("social_care.cross_reference_dropped", kind="upn", source=source)
    return found


@dataclass(frozen=True)
class Child:
    """Identity facts of one child; `person.identifiers` starts with the local person id."""

    person: Person
    death_date: date | None = None
    authority: str | None = None
    """The DfE LA code of the authority whose record this is, when the source says (CIN census)."""

    @property
    def subjects(self) -> tuple[Identifier, ...]:
        return self.person.identifiers

    def patient(self) -> dict[str, Any]:
        """FHIR Patient whose id depends only on the local person id, so every social care format
        of one authority (case events, CIN census, SSDA903) names the same Patient."""
        local = self.person.identifiers[0]
        patient = patient_resource(self.person, resource_id("social-care-person", local.token))
        if self.death_date:
            patient["deceasedDateTime"] = self.death_date.isoformat()
        if self.authority:
            patient["managingOrganization"] = resources.authority(self.authority)
        return patient


def make_child(
    partner: str,
    local_id: str,
    *,
    source: str,
    nhs_number: str | None = None,
    upn: str | None = None,
    given: tuple[str, ...] = (),
    family: str | None = None,
    birth_date: date | None = None,
    gender: str | None = None,
    postcode: str | None = None,
    death_date: date | None = None,
    authority: str | None = None,
) -> Child:
    """A child from one record's fields; `source` names the format for the dropped-reference log."""
    identifiers = (person_identifier(partner, local_id), *cross_references(nhs_number, upn, source))
    person = Person(
        identifiers=identifiers,
        given=given,
        family=family,
        birth_date=birth_date,
        gender=gender,
        postcode=postcode,
    )
    return Child(person=person, death_date=death_date, authority=authority)
