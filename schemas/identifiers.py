"""Identifier systems and check-digit rules used across partners.

Connectors normalise every subject identifier to one of these systems so identity resolution can
compare like with like. Check digits are validated here, once, for every format.
"""

from __future__ import annotations

import re

HUB_CODE_SYSTEMS = "https://hubnet.example.org/fhir/CodeSystem/"
"""Base of every code system hubnet defines (hub event types, partner code lists it carries)."""
HUB_EXTENSIONS = "https://hubnet.example.org/fhir/StructureDefinition/"
"""Base of every FHIR extension hubnet defines."""
NHS_NUMBER = "https://fhir.nhs.uk/Id/nhs-number"
UPN = "https://hubnet.example.org/Id/upn"
LOCAL_PREFIX = "https://hubnet.example.org/Id/local/"
NHS_NUMBER_VERIFICATION_EXTENSION = (
    "https://fhir.hl7.org.uk/StructureDefinition/Extension-UKCore-NHSNumberVerificationStatus"
)

_UPN_LETTERS = "ABCDEFGHJKLMNPQRTUVWXYZ"  # DfE check-letter table: no I, O or S


def local_system(partner: str, kind: str = "id") -> str:
    """System URL for a partner's own record numbers, e.g. a social care person id."""
    return f"{LOCAL_PREFIX}{partner}/{kind}"


def normalise_nhs_number(raw: str) -> str:
    """Strip spaces and dashes that partners commonly include; does not validate."""
    return re.sub(r"[\s-]", "", raw)


def nhs_number_is_valid(value: str) -> bool:
    """Modulus 11 check of a 10-digit NHS number (NHS Data Dictionary)."""
    if not re.fullmatch(r"[0-9]{10}", value):
        return False
    total = sum(int(d) * w for d, w in zip(value[:9], range(10, 1, -1), strict=True))
    check = 11 - total % 11
    if check == 11:
        check = 0
    return check != 10 and check == int(value[9])


def nhs_check_digit(first_nine: str) -> int | None:
    """Check digit for nine digits, or None when the number cannot be issued (remainder gives 10)."""
    total = sum(int(d) * w for d, w in zip(first_nine, range(10, 1, -1), strict=True))
    check = 11 - total % 11
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
