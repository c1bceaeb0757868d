"""PID (+ PD1) to a FHIR Patient, NK1 to RelatedPerson, MRG to the identifiers a merge retires.

Identifiers come from PID-3 (and the older PID-2 and PID-4, which some UK systems still fill): the
NHS number is recognised by assigning authority `NHS` or identifier type `NH` and checked; every
other identifier is kept as a partner-local id, so identity resolution can still match US-style or
hospital-only records.
"""

from __future__ import annotations

import re
from typing import Any

from connectors.common.problems import Findings
from connectors.hl7v2.datatypes import (
    address,
    codeable_concept,
    fhir_date,
    fhir_datetime,
    human_name,
    identifier,
    telecom,
)
from connectors.hl7v2.parsing import Segment, Value
from schemas.envelope import Identifier
from schemas.errors import MappingError

_GENDER = {
    # HL7 table 0001 (administrative sex): male, female, other, ambiguous, unknown, not applicable
    "M": "male",
    "F": "female",
    "O": "other",
    "A": "other",
    "U": "unknown",
    "N": "unknown",
    # NHS Data Dictionary person gender code, as NHS England's ITK ADT messages send it: 1 male,
    # 2 female, 9 indeterminate (UK Core maps it to `other`), 0 not known, X not specified
    "1": "male",
    "2": "female",
    "9": "other",
    "0": "unknown",
    "X": "unknown",
}
_GENDER_CODES = "HL7 table 0001 (M, F, O, A, U, N) or NHS Data Dictionary person gender (1, 2, 9, 0, X)"
_PATIENT_ID_FIELDS = (3, 2, 4)
ODS_CODE = "https://fhir.nhs.uk/Id/ods-organization-code"
_GP_PRACTICE_CODE = re.compile(r"[A-Z]\d{5}")


def identifiers(values: list[Value], partner: str, problems: Findings | None = None) -> list[dict[str, Any]]:
    """FHIR identifiers of CX repetitions, duplicates dropped, NHS number first. With `problems`, a
    repetition that fails its check is noted there and left out; without, it raises."""
    found: dict[tuple[str, str], dict[str, Any]] = {}
    for value in values:
        ident = (
            problems.take(identifier, value, partner) if problems is not None else identifier(value, partner)
        )
        if ident:
            found.setdefault((ident["system"], ident["value"]), ident)
    return sorted(found.values(), key=lambda i: not i["system"].endswith("nhs-number"))


def subjects_of(fhir_identifiers: list[dict[str, Any]]) -> list[Identifier]:
    return [Identifier(system=i["system"], value=i["value"]) for i in fhir_identifiers]


def patient_identifiers(pid: Segment, partner: str, problems: Findings) -> list[dict[str, Any]]:
    """Identifiers of PID-3, then PID-2 and PID-4; at least one is required. Each problem is noted
    in `problems` (the identifiers that passed are returned)."""
    values = [v for field in _PATIENT_ID_FIELDS for v in pid.reps(field)]
    before = problems.count
    found = identifiers(values, partner, problems)
    if not found and problems.count == before:
        problems.note(
            MappingError(
                "the patient has no identifier",
                pid.loc(3),
                hint="send the NHS number (authority NHS, type NH) or the local record number in PID-3",
            )
        )
    return found


def patient(
    pid: Segment,
    pd1: Segment | None,
    fhir_identifiers: list[dict[str, Any]],
    resource_id: str,
    problems: Findings,
) -> dict[str, Any]:
    """The Patient resource of a PID segment, with the identifiers `patient_identifiers` found; a
    field with a problem is noted in `problems` and left out."""
    resource: dict[str, Any] = {"resourceType": "Patient", "id": resource_id, "identifier": fhir_identifiers}
    _put_people_fields(resource, pid, names=5, addresses=11)
    telecoms = [t for v in pid.reps(13) if (t := telecom(v, "home"))]
    telecoms += [t for v in pid.reps(14) if (t := telecom(v, "work"))]
    if telecoms:
        resource["telecom"] = telecoms
    if birth := problems.take(fhir_date, pid.value(7)):
        resource["birthDate"] = birth
    if sex := problems.take(gender, pid, 8):
        resource["gender"] = sex
    if death := problems.take(fhir_datetime, pid.value(29)):
        resource["deceasedDateTime"] = death
    elif pid.text(30).upper() == "Y":
        resource["deceasedBoolean"] = True
    if pd1 is not None and (practice := _practice(pd1)):
        resource["generalPractitioner"] = [practice]
    return resource


def gender(segment: Segment, field: int) -> str | None:
    """FHIR administrative gender of PID-8 / NK1-15; None when empty. A code of neither table is
    refused, not dropped: a person's recorded sex must not vanish without the sender knowing."""
    code = segment.text(field).upper()
    if not code:
        return None
    found = _GENDER.get(code)
    if found is None:
        raise MappingError(
            "the administrative sex is not a code hubnet knows",
            segment.loc(field),
            hint=f"send {_GENDER_CODES}",
        )
    return found


def is_deceased(pid: Segment) -> bool:
    return pid.text(30).upper() == "Y" or bool(pid.value(29))


def is_protected(pd1: Segment | None) -> bool:
    """PD1-12 protection indicator `Y`: the partner asks that the record is not disclosed."""
    return pd1 is not None and pd1.text(12).upper() == "Y"


def related_person(
    nk1: Segment, patient_ref: str, partner: str, resource_id: str, problems: Findings
) -> dict[str, Any]:
    """NK1 -> RelatedPerson: name, relationship (table 0063), address, phones, own identifiers; a
    field with a problem is noted in `problems` and left out."""
    resource: dict[str, Any] = {
        "resourceType": "RelatedPerson",
        "id": resource_id,
        "patient": {"reference": patient_ref},
    }
    if found := identifiers(nk1.reps(33), partner, problems):
        resource["identifier"] = found
    if relationship := codeable_concept(nk1.value(3)):
        resource["relationship"] = [relationship]
    _put_people_fields(resource, nk1, names=2, addresses=4)
    telecoms = [t for v in nk1.reps(5) if (t := telecom(v, "home"))]
    telecoms += [t for v in nk1.reps(6) if (t := telecom(v, "work"))]
    if telecoms:
        resource["telecom"] = telecoms
    if sex := problems.take(gender, nk1, 15):
        resource["gender"] = sex
    if birth := problems.take(fhir_date, nk1.value(16)):
        resource["birthDate"] = birth
    return resource


def merged_identifiers(mrg: Segment, partner: str) -> list[dict[str, Any]]:
    """MRG-1 (prior patient identifier list), falling back to MRG-4 (prior patient id, pre-2.5)."""
    found = identifiers(mrg.reps(1) or mrg.reps(4), partner)
    if not found:
        raise MappingError(
            "the merge names no prior patient identifier",
            mrg.loc(1),
            hint="send the identifier of the record being merged away in MRG-1",
        )
    return found


def _put_people_fields(resource: dict[str, Any], segment: Segment, *, names: int, addresses: int) -> None:
    if found_names := [n for v in segment.reps(names) if (n := human_name(v))]:
        resource["name"] = found_names
    if found_addresses := [a for v in segment.reps(addresses) if (a := address(v))]:
        resource["address"] = found_addresses


def _practice(pd1: Segment) -> dict[str, Any] | None:
    """PD1-3 (XON): the registered GP practice, by ODS code when the partner sends one."""
    value = pd1.value(3)
    code = value.comp(10) or value.comp(3)
    name = value.comp(1)
    if _GP_PRACTICE_CODE.fullmatch(code):
        reference: dict[str, Any] = {"identifier": {"system": ODS_CODE, "value": code}}
        if name:
            reference["display"] = name
        return reference
    return {"display": name} if name else None
