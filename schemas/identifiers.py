"""Identifier systems and check-digit rules used across partners.

Connectors normalise every subject identifier to one of these systems so identity resolution can
compare like with like. Check digits are validated here, once, for every format.
"""

from __future__ import annotations

import re
from operator import mul

HUB_CODE_SYSTEMS = "https://hubnet.example.org/fhir/CodeSystem/"
"""Base of every code system hubnet defines (hub event types, partner code lists it carries)."""
HUB_EXTENSIONS = "https://hubnet.example.org/fhir/StructureDefinition/"
"""Base of every FHIR extension hubnet defines."""
NHS_NUMBER = "https://fhir.nhs.uk/Id/nhs-number"
ODS_ORGANISATION = "https://fhir.nhs.uk/Id/ods-organization-code"
"""NHS Organisation Data Service code of an organisation: what a FHIR message sender is checked by."""
UPN = "https://hubnet.example.org/Id/upn"
LOCAL_PREFIX = "https://hubnet.example.org/Id/local/"
RECORD_SCOPED_KIND = "record"
"""Kind of a local identifier that names the person of one record only (`local/<partner>/record`):
given to a Patient known by no system-bearing identifier and no stable logical id (a contained
`#Pat1`). Identity resolution never links two records by it alone unless they are one record."""
NHS_NUMBER_VERIFICATION_EXTENSION = (
    "https://fhir.hl7.org.uk/StructureDefinition/Extension-UKCore-NHSNumberVerificationStatus"
)

_NHS_WEIGHTS = (10, 9, 8, 7, 6, 5, 4, 3, 2)
_UPN_LETTERS = "ABCDEFGHJKLMNPQRTUVWXYZ"  # DfE check-letter table: no I, O or S


def local_system(partner: str, kind: str = "id") -> str:
    """System URL for a partner's own record numbers, e.g. a social care person id."""
    return f"{LOCAL_PREFIX}{partner}/{kind}"


def partner_namespace(partner: str) -> str:
    """The prefix of every source system a partner's records may have: a record's identity is
    (partner, source system, record id), and the partner is spelt into the system itself so that
    every store keyed by source system (and the event id derived from it) is keyed by the owner."""
    return f"{LOCAL_PREFIX}{partner}/"


def owns_system(partner: str, system: str) -> bool:
    """Whether `system` is one of `partner`'s own source systems (inside its namespace)."""
    return system.startswith(partner_namespace(partner))


def partner_of_system(system: str) -> str | None:
    """The partner whose namespace `system` is in, or None for a system outside every partner's."""
    if not system.startswith(LOCAL_PREFIX):
        return None
    partner, _, rest = system[len(LOCAL_PREFIX) :].partition("/")
    return partner if partner and rest else None


def normalise_nhs_number(raw: str) -> str:
    """Strip spaces and dashes that partners commonly include; does not validate."""
    return re.sub(r"[\s-]", "", raw)


def nhs_number_is_valid(value: str) -> bool:
    """Modulus 11 check of a 10-digit NHS number (NHS Data Dictionary). ASCII digits only: other
    Unicode digits pass `isdigit` but are not an NHS number as sent."""
    if len(value) != 10 or not (value.isascii() and value.isdigit()):
        return False
    return nhs_check_digit(value[:9]) == int(value[9])


def nhs_check_digit(first_nine: str) -> int | None:
    """Check digit for nine digits, or None when the number cannot be issued (remainder gives 10)."""
    if len(first_nine) != len(_NHS_WEIGHTS):
        raise ValueError("an NHS number's check digit is computed from exactly nine digits")
    check = 11 - sum(map(mul, map(int, first_nine), _NHS_WEIGHTS)) % 11
    if check == 11:
        return 0
    return None if check == 10 else check


def upn_check_letter(body: str) -> str:
    """DfE UPN check letter for the 12 characters after it (LA code, school, year, serial)."""
    total = 0
    for weight, ch in zip(range(2, 14), body, strict=True):
        value = int(ch) if ch.isdigit() else _UPN_LETTERS.index(ch)
        total += weight * value
    return _UPN_LETTERS[total % 23]


def upn_is_valid(value: str) -> bool:
    """A permanent UPN is a check letter then 12 digits; a temporary one ends in a letter."""
    if not re.fullmatch(r"[A-HJ-NP-RT-Z][0-9]{11}[0-9A-HJ-NP-RT-Z]", value):
        return False
    return upn_check_letter(value[1:]) == value[0]
