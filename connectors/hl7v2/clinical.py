"""PV1 to Encounter, RXA (+ RXR) to Immunization, OBX to Observation.

Each function gets the segment, the reference of the Patient it belongs to and the resource id
to use, and returns one FHIR R4 resource as a plain dict (validated later, once, by the caller).
"""

from __future__ import annotations

import re
from typing import Any

from connectors.common.problems import Findings
from connectors.hl7v2.datatypes import codeable_concept, coding_system, fhir_date, fhir_datetime
from connectors.hl7v2.parsing import Segment, Value
from connectors.hl7v2.people import identifiers
from schemas.errors import MappingError

_ACT_CODE = "http://terminology.hl7.org/CodeSystem/v3-ActCode"
_PATIENT_CLASS = {"I": "IMP", "O": "AMB", "E": "EMER", "P": "PRENC", "R": "AMB", "B": "IMP"}
_OBSERVATION_STATUS = {
    "F": "final",
    "U": "final",
    "C": "corrected",
    "A": "amended",
    "P": "preliminary",
    "S": "preliminary",
    "R": "preliminary",
    "I": "registered",
    "O": "registered",
    "X": "cancelled",
    "D": "entered-in-error",
    "W": "entered-in-error",
}
_NOT_DONE = frozenset({"RE", "NA"})
_NUMBER = re.compile(r"[+-]?(\d+(\.\d*)?|\.\d+)")
_COMPARATORS = ("<=", ">=", "<", ">")
_TEXT_TYPES = frozenset({"ST", "TX", "FT", "ID", "IS", "TM", "XPN", "XAD", "XTN", "XCN"})
_CODED_TYPES = frozenset({"CE", "CWE", "CNE", "CF"})
_DATE_TYPES = frozenset({"DT", "DTM", "TS"})
_ABSENT = "http://terminology.hl7.org/CodeSystem/data-absent-reason"
_INTERPRETATION = "http://terminology.hl7.org/CodeSystem/v3-ObservationInterpretation"


def encounter(pv1: Segment, trigger: str, patient_ref: str, partner: str, resource_id: str) -> dict[str, Any]:
    """PV1: patient class, visit number, location, service, admit and discharge times."""
    discharged = fhir_datetime(pv1.value(45))
    status = (
        "finished" if trigger == "A03" or discharged else "arrived" if trigger == "A04" else "in-progress"
    )
    patient_class = pv1.text(2).upper()
    resource: dict[str, Any] = {
        "resourceType": "Encounter",
        "id": resource_id,
        "status": status,
        "class": (
            {"system": _ACT_CODE, "code": _PATIENT_CLASS[patient_class]}
            if patient_class in _PATIENT_CLASS
            else {"system": "http://terminology.hl7.org/CodeSystem/v2-0004", "code": patient_class or "U"}
        ),
        "subject": {"reference": patient_ref},
    }
    if visit := identifiers(pv1.reps(19), partner):
        resource["identifier"] = visit
    period = {"start": fhir_datetime(pv1.value(44)), "end": discharged}
    if any(period.values()):
        resource["period"] = {k: v for k, v in period.items() if v}
    if service := codeable_concept(pv1.value(10)):
        resource["serviceType"] = service
    if trigger == "A02":  # a transfer: the new location (PV1-3) is current, the prior (PV1-6) is left
        moves = [(_place(pv1.value(3)), "active"), (_place(pv1.value(6)), "completed")]
        if locations := [
            {"location": {"display": where}, "status": status} for where, status in moves if where
        ]:
            resource["location"] = locations
    elif where := _place(pv1.value(3)):
        resource["location"] = [{"location": {"display": where}}]
    hospitalization = {
        "admitSource": codeable_concept(pv1.value(14)),
        "dischargeDisposition": codeable_concept(pv1.value(36)),
    }
    if any(hospitalization.values()):
        resource["hospitalization"] = {k: v for k, v in hospitalization.items() if v}
    return resource


def _place(value: Value) -> str:
    """A PL (point of care, room, bed, facility) as one line of text."""
    return ", ".join(p for p in (value.comp(1), value.comp(2), value.comp(3), value.comp(4)) if p)


def immunization(rxa: Segment, rxr: Segment | None, patient_ref: str, resource_id: str) -> dict[str, Any]:
    """RXA: vaccine, date given, dose, lot; RXR: route and site; RXA-20 RE/NA = not given. Every
    problem of the segment is named at once."""
    found = Findings()
    vaccine = codeable_concept(rxa.value(5))
    if vaccine is None:
        found.note(MappingError("the vaccine is missing", rxa.loc(5), hint="send the vaccine code in RXA-5"))
    given = found.take(fhir_datetime, rxa.value(3))
    if given is None and not rxa.text(3):
        found.note(
            MappingError(
                "the administration date is missing", rxa.loc(3), hint="send the date given in RXA-3"
            )
        )
    expiry = found.take(fhir_date, rxa.value(16))
    amount = rxa.text(6)
    dose = None
    if _NUMBER.fullmatch(amount) and float(amount) != 999:  # 999 = amount not recorded (CDC guide)
        dose = found.take(_quantity, amount, rxa.value(7))
    found.check()
    not_done = rxa.text(20).upper() in _NOT_DONE
    resource: dict[str, Any] = {
        "resourceType": "Immunization",
        "id": resource_id,
        "status": "not-done" if not_done else "completed",
        "vaccineCode": vaccine,
        "patient": {"reference": patient_ref},
        "occurrenceDateTime": given,
    }
    if source := rxa.text(9):
        resource["primarySource"] = source == "00"
    if dose is not None:
        resource["doseQuantity"] = dose
    if lot := rxa.text(15):
        resource["lotNumber"] = lot
    if expiry:
        resource["expirationDate"] = expiry
    if maker := rxa.text(17, 2) or rxa.text(17):
        resource["manufacturer"] = {"display": maker}
    if not_done and (reason := codeable_concept(rxa.value(18))):
        resource["statusReason"] = reason
    if rxr is not None:
        if route := codeable_concept(rxr.value(1)):
            resource["route"] = route
        if site := codeable_concept(rxr.value(2)):
            resource["site"] = site
    return resource


def observation(
    obx: Segment, patient_ref: str, resource_id: str, fallback_time: Value | None
) -> dict[str, Any]:
    """OBX: code, value by OBX-2 type, units, range, flags, status, time (OBX-14, else the order's).
    Every problem of the segment is named at once."""
    found = Findings()
    code = codeable_concept(obx.value(3))
    if code is None:
        found.note(
            MappingError("the observation has no code", obx.loc(3), hint="send what was observed in OBX-3")
        )
    value = found.take(_observation_value, obx)
    when = found.take(fhir_datetime, obx.value(14))
    if when is None and fallback_time is not None:
        when = found.take(fhir_datetime, fallback_time)
    found.check()
    resource: dict[str, Any] = {
        "resourceType": "Observation",
        "id": resource_id,
        "status": _OBSERVATION_STATUS.get(obx.text(11).upper(), "unknown"),
        "code": code,
        "subject": {"reference": patient_ref},
    }
    resource.update(value or {})
    if when:
        resource["effectiveDateTime"] = when
    if reference_range := obx.text(7):
        resource["referenceRange"] = [{"text": reference_range}]
    flags = [{"system": _INTERPRETATION, "code": v.comp(1)} for v in obx.reps(8) if v.comp(1)]
    if flags:
        resource["interpretation"] = [{"coding": [flag]} for flag in flags]
    return resource


def _observation_value(obx: Segment) -> dict[str, Any]:
    values = obx.reps(5)
    typed = _typed_value(obx.text(2).upper(), values, obx.value(6)) if values else None
    if typed is None:
        reason = "unsupported" if values else "unknown"
        return {"dataAbsentReason": {"coding": [{"system": _ABSENT, "code": reason}]}}
    return typed


def _typed_value(kind: str, values: list[Value], unit: Value) -> dict[str, Any] | None:
    """OBX-5 by its OBX-2 data type; None for types hubnet does not carry (ED, RP: documents)."""
    first = values[0]
    if kind == "NM" and len(values) == 1:
        return {"valueQuantity": _quantity(first.comp(1), unit, first.loc(1))}
    if kind == "SN":
        return _structured_numeric(first, unit)
    if kind in _CODED_TYPES:
        concept = codeable_concept(first)
        return {"valueCodeableConcept": concept} if concept else None
    if kind in _DATE_TYPES:
        when = fhir_datetime(first)
        return {"valueDateTime": when} if when else None
    if kind in _TEXT_TYPES or kind == "NM":
        text = "\n".join(" ".join(p for p in (v.comp(i) for i in range(1, 4)) if p) for v in values)
        return {"valueString": text}
    return None


def _quantity(text: str, unit: Value, where: str | None = None) -> dict[str, Any]:
    """A number with an optional comparator (`<5`) and a CE unit (`mL^millilitre^UCUM`)."""
    text = text.strip()
    comparator = next((c for c in _COMPARATORS if text.startswith(c)), "")
    number = text.removeprefix(comparator).strip()
    if not _NUMBER.fullmatch(number):
        raise MappingError(
            "the value is not a number",
            where or unit.location,
            hint="send numbers in NM values, or use ST for text",
        )
    quantity: dict[str, Any] = {"value": float(number) if "." in number else int(number)}
    if comparator:
        quantity["comparator"] = comparator
    if code := unit.comp(1):
        quantity["unit"] = unit.comp(2) or code
        quantity["code"] = code
        if system := coding_system(unit.comp(3)):
            quantity["system"] = system
    return quantity


def _structured_numeric(value: Value, unit: Value) -> dict[str, Any]:
    """SN: comparator^number^separator^number; `-` is a range, `:` or `/` a ratio."""
    comparator, low, separator, high = (value.comp(i) for i in range(1, 5))
    if separator == "-" and high:
        return {
            "valueRange": {
                "low": _quantity(low, unit, value.loc(2)),
                "high": _quantity(high, unit, value.loc(4)),
            }
        }
    if separator in (":", "/") and high:
        return {
            "valueRatio": {
                "numerator": {"value": _quantity(low, unit, value.loc(2))["value"]},
                "denominator": {"value": _quantity(high, unit, value.loc(4))["value"]},
            }
        }
    return {"valueQuantity": _quantity(f"{comparator}{low}", unit, value.loc(2))}
