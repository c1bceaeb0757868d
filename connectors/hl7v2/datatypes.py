"""HL7 v2 data types to FHIR R4 data types: DTM/TS, XPN, XAD, XTN, CE/CWE, CX.

Each function reads one `Value` (a field repetition) and returns a FHIR element as a plain dict,
or None when the value carries nothing. Errors name the component (`PID-7.1`) and never the value.
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta, timezone, tzinfo
from functools import lru_cache
from typing import Any
from zoneinfo import ZoneInfo

from connectors.common.demographics import checked_nhs_number
from connectors.hl7v2.parsing import Value
from schemas.errors import MappingError
from schemas.identifiers import NHS_NUMBER, local_system

LOCAL_TIME = ZoneInfo("Europe/London")
"""HL7 allows date-times without an offset; from UK partners they are UK local time."""

_DTM = re.compile(
    r"(\d{4})(?:(\d{2})(?:(\d{2})(?:(\d{2})(?:(\d{2})(?:(\d{2})(?:\.(\d{1,4}))?)?)?)?)?)?([+-]\d{4})?"
)
_CODE_SYSTEMS = {
    "LN": "http://loinc.org",
    "LOINC": "http://loinc.org",
    "SCT": "http://snomed.info/sct",
    "SNM": "http://snomed.info/sct",
    "SNOMED": "http://snomed.info/sct",
    "SNOMEDCT": "http://snomed.info/sct",
    "CVX": "http://hl7.org/fhir/sid/cvx",
    "NDC": "http://hl7.org/fhir/sid/ndc",
    "MVX": "http://hl7.org/fhir/sid/mvx",
    "UCUM": "http://unitsofmeasure.org",
    "I10": "http://hl7.org/fhir/sid/icd-10",
    "DMD": "https://dmd.nhs.uk",
    "NCIT": "http://ncimeta.nci.nih.gov",
}
_NAME_USE = {"L": "official", "D": "usual", "M": "maiden", "N": "nickname", "B": "old", "S": "anonymous"}
_ADDRESS_USE = {"H": "home", "B": "work", "O": "work", "C": "temp", "BA": "old"}
_TELECOM_USE = {"PRN": "home", "WPN": "work", "ORN": "home", "VHN": "home", "EMR": "home"}
_TELECOM_SYSTEM = {
    "PH": "phone",
    "CP": "phone",
    "FX": "fax",
    "BP": "pager",
    "INTERNET": "email",
    "X.400": "email",
}
_NHS_AUTHORITY = "NHS"
_NHS_TYPE = "NH"
_SLUG = re.compile(r"[^a-z0-9.]+")
_BAD_DTM = "the date/time is not in HL7 form YYYY[MM[DD[HH[MM[SS[.S]]]]]][+/-ZZZZ]"
_BAD_OFFSET = "the time zone offset is outside -14:00..+14:00"
_BAD_DAY = "the date/time does not exist in the calendar"
_DTM_HINTS = {
    _BAD_DTM: "send dates as HL7 DTM, e.g. 20250314",
    _BAD_OFFSET: "send the offset from UTC, e.g. +0000 or +0100",
    _BAD_DAY: "check the date",
}


MAX_OFFSET = timedelta(hours=14)
"""FHIR dateTime (and every real time zone) stays within 14 hours of UTC."""


_Dtm = tuple[tuple[str | None, ...], datetime]


def _parse_dtm(value: Value, component: int) -> _Dtm | None:
    """The DTM's parts (for its precision) and its moment, or None when empty."""
    text = value.comp(component)
    if not text:
        return None
    parsed = _dtm(text)
    if isinstance(parsed, tuple):
        return parsed
    raise MappingError(parsed, value.loc(component), hint=_DTM_HINTS[parsed])


@lru_cache(maxsize=4096)
def _dtm(text: str) -> _Dtm | str:
    """Parse one DTM text, or say why not. Cached: a message repeats its times (MSH-7, EVN-2,
    OBX-14) and a feed repeats dates of birth; the result is immutable, the text its only input."""
    match = _DTM.fullmatch(text)
    if not match:
        return _BAD_DTM
    year, month, day, hour, minute, second, fraction, offset = match.groups()
    if offset is None:
        zone: tzinfo = LOCAL_TIME
    else:
        delta = timedelta(hours=int(offset[1:3]), minutes=int(offset[3:5]))
        if delta > MAX_OFFSET or int(offset[3:5]) > 59:
            return _BAD_OFFSET
        zone = timezone(delta if offset[0] == "+" else -delta)
    try:
        moment = datetime(
            int(year),
            int(month or 1),
            int(day or 1),
            int(hour or 0),
            int(minute or 0),
            int(second or 0),
            int((fraction or "0").ljust(6, "0")),
            tzinfo=zone,
        )
    except ValueError:
        return _BAD_DAY
    return match.groups(), moment


def to_datetime(value: Value, component: int = 1) -> datetime | None:
    """A DTM/TS as an aware datetime (missing parts are the start of the period)."""
    parsed = _parse_dtm(value, component)
    return parsed[1] if parsed else None


def fhir_date(value: Value, component: int = 1) -> str | None:
    """FHIR `date` at the precision the partner sent: 2025, 2025-03 or 2025-03-14."""
    parsed = _parse_dtm(value, component)
    if parsed is None:
        return None
    return "-".join(part for part in parsed[0][:3] if part)


def fhir_datetime(value: Value, component: int = 1) -> str | None:
    """FHIR `dateTime`: a date when no time was sent, else a full time with offset."""
    parsed = _parse_dtm(value, component)
    if parsed is None:
        return None
    parts, moment = parsed
    if parts[3] is None:
        return "-".join(part for part in parts[:3] if part)
    return moment.isoformat()


def human_name(value: Value) -> dict[str, Any] | None:
    """XPN: family^given^middle^suffix^prefix^degree^type."""
    family, first, middle, suffix, prefix, _, kind = value.components(7)
    given = [g for g in (first, middle) if g]
    if not family and not given:
        return None
    name: dict[str, Any] = {}
    if use := _NAME_USE.get(kind.upper()):
        name["use"] = use
    if family:
        name["family"] = family
    if given:
        name["given"] = given
    if prefix:
        name["prefix"] = [prefix]
    if suffix:
        name["suffix"] = [suffix]
    return name


def address(value: Value) -> dict[str, Any] | None:
    """XAD: street^other^city^county/state^postcode^country^type."""
    parts = {
        "line": [line for line in (" ".join(value.subs(1)), value.comp(2)) if line],
        "city": value.comp(3),
        "district": value.comp(4),
        "postalCode": value.comp(5),
        "country": value.comp(6),
    }
    result: dict[str, Any] = {key: part for key, part in parts.items() if part}
    if not result:
        return None
    if use := _ADDRESS_USE.get(value.comp(7).upper()):
        result["use"] = use
    return result


def telecom(value: Value, default_use: str | None = None) -> dict[str, Any] | None:
    """XTN: a 2.3 style number in component 1, or 2.5+ parts (e-mail, area code, local number)."""
    equipment = value.comp(3).upper()
    system = _TELECOM_SYSTEM.get(equipment, "phone")
    if system == "email" or value.comp(2).upper() == "NET":
        system, number = "email", value.comp(4) or value.comp(1)
    else:
        number = value.comp(12) or value.comp(1) or (value.comp(6) + value.comp(7))
    if not number:
        return None
    point: dict[str, Any] = {"system": system, "value": number}
    use = "mobile" if equipment == "CP" else _TELECOM_USE.get(value.comp(2).upper(), default_use)
    if use:
        point["use"] = use
    return point


def coding_system(name: str) -> str | None:
    """FHIR system URL of an HL7 v2 coding system name (table 0396), or None when unknown."""
    upper = name.upper()
    if upper.startswith("HL7") and upper[3:].isdigit():
        return f"http://terminology.hl7.org/CodeSystem/v2-{upper[3:]}"
    return _CODE_SYSTEMS.get(upper.replace(" ", "").replace("-", ""))


def codeable_concept(value: Value) -> dict[str, Any] | None:
    """CE/CWE/CNE: code^text^system, alternate code^text^system, ..., original text (9)."""
    parts = value.components(9)
    codings = []
    for first in (0, 3):
        code, display, system = parts[first : first + 3]
        if code:
            coding: dict[str, Any] = {"code": code}
            if url := coding_system(system):
                coding["system"] = url
            if display:
                coding["display"] = display
            codings.append(coding)
    text = parts[8] or parts[1]
    if not codings and not text:
        return None
    concept: dict[str, Any] = {"coding": codings} if codings else {}
    if text:
        concept["text"] = text
    return concept


def identifier(value: Value, partner: str) -> dict[str, Any] | None:
    """CX to a FHIR Identifier; an NHS number (authority NHS or type NH) must pass modulus 11.

    Other identifiers keep their assigning authority in the system, so two hospitals' record
    numbers never collide: `local_system(partner, <authority or "mrn">)`.
    """
    raw = value.comp(1)
    if not raw:
        return None
    authority = value.comp(4) or value.comp(4, 2)
    kind = value.comp(5).upper()
    result: dict[str, Any]
    if authority.upper() == _NHS_AUTHORITY or kind == _NHS_TYPE:
        number = checked_nhs_number(raw, value.loc(1))
        result = {"system": NHS_NUMBER, "value": number}
    else:
        slug = _SLUG.sub("-", authority.lower()).strip("-") or "mrn"
        result = {"system": local_system(partner, slug), "value": raw}
    if kind:
        result["type"] = {
            "coding": [{"system": "http://terminology.hl7.org/CodeSystem/v2-0203", "code": kind}]
        }
    return result
