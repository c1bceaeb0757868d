"""FHIR validator invariants and Bundle structure on inputs (issue #19, "Conformance of FHIR inputs").

Each case is written from the rule's text in FHIR R4 (named in the test): ele-1, ext-1 and
Extension.url, per-1, ras-2, the Bundle and Bundle.entry elements, the fullUrl rules (bdl-7, bdl-8,
"fullUrl SHALL NOT disagree with the id"), and reference type agreement.
"""

from __future__ import annotations

from typing import Any

import orjson
import pytest

from connectors.base import Rejection, SourceContext
from connectors.fhir.connector import FhirConnector
from connectors.ndjson.connector import NdjsonConnector
from schemas.envelope import HubEvent
from schemas.identifiers import NHS_NUMBER
from tests.unit.connectors.fhir_support import assert_explained

PATIENT: dict[str, Any] = {
    "resourceType": "Patient",
    "id": "p1",
    "identifier": [{"system": NHS_NUMBER, "value": "9990003009"}],
    "name": [{"family": "Hart", "given": ["Amelia"]}],
    "birthDate": "2023-02-14",
}


def convert(resource: dict[str, Any]) -> list[HubEvent | Rejection]:
    return list(FhirConnector().convert(orjson.dumps(resource), SourceContext(partner="gp")))


def refused(resource: dict[str, Any]) -> Rejection:
    outcomes = convert(resource)
    rejections = [o for o in outcomes if isinstance(o, Rejection)]
    assert rejections, outcomes
    assert_explained(rejections[0])
    return rejections[0]


def paths(rejection: Rejection) -> list[str]:
    return [p.path for p in rejection.problems] or [str(rejection.location)]


def test_a_sound_patient_converts() -> None:
    (event,) = convert(PATIENT)
    assert isinstance(event, HubEvent)


def test_an_empty_resource_is_not_a_registration() -> None:
    """ele-1: `{"resourceType": "Patient", "id": "p2"}` (issue #19) registers no one."""
    rejection = refused({"resourceType": "Patient", "id": "p2"})
    assert paths(rejection) == ["Patient"]
    assert "ele-1" in rejection.reason


@pytest.mark.parametrize(
    ("element", "value", "path"),
    [
        ("name", [{}], "Patient.name[0]"),
        ("telecom", [], "Patient.telecom"),
        ("maritalStatus", {}, "Patient.maritalStatus"),
        ("gender", None, "Patient.gender"),
    ],
)
def test_empty_or_null_elements_are_refused(element: str, value: Any, path: str) -> None:
    """ele-1: "All FHIR elements must have a @value or children"."""
    rejection = refused({**PATIENT, element: value})
    assert path in paths(rejection)


def test_an_extension_url_must_be_absolute_but_a_complex_extensions_parts_may_be_relative() -> None:
    """FHIR R4 Extension.url; a complex extension's parts are named by relative urls."""
    rejection = refused({**PATIENT, "extension": [{"url": "birthPlace", "valueString": "Colchester"}]})
    assert paths(rejection) == ["Patient.extension[0].url"]
    geolocation = {
        "url": "http://hl7.org/fhir/StructureDefinition/geolocation",
        "extension": [{"url": "latitude", "valueDecimal": 51.9}, {"url": "longitude", "valueDecimal": 0.9}],
    }
    (event,) = convert({**PATIENT, "address": [{"postalCode": "CO1 1AA", "extension": [geolocation]}]})
    assert isinstance(event, HubEvent)


def test_an_extension_with_both_a_value_and_extensions_is_refused() -> None:
    """ext-1: "Must have either extensions or value[x], not both"."""
    part = {"url": "b", "valueString": "c"}
    both = {"url": "https://example.org/x", "valueString": "a", "extension": [part]}
    rejection = refused({**PATIENT, "extension": [both]})
    assert paths(rejection) == ["Patient.extension[0]"]
    assert "ext-1" in rejection.reason


@pytest.mark.parametrize(
    ("period", "ok"),
    [
        ({"start": "2024-05-02", "end": "2024-05-01"}, False),
        ({"start": "2024-05-01T10:00:00+00:00", "end": "2024-05-01T10:30:00+01:00"}, False),
        ({"start": "2024-05-01T10:00:00+01:00", "end": "2024-05-01T09:30:00+00:00"}, True),
        ({"start": "2024-05-01", "end": "2024"}, True),  # the end covers all of 2024
        ({"start": "2024-05-01"}, True),
    ],
)
def test_a_period_never_ends_before_it_starts(period: dict[str, str], ok: bool) -> None:
    """per-1: "If present, start SHALL have a lower value than end"."""
    encounter = {
        "resourceType": "Encounter",
        "id": "e1",
        "status": "finished",
        "class": {"system": "http://terminology.hl7.org/CodeSystem/v3-ActCode", "code": "AMB"},
        "subject": {"reference": "Patient/p1"},
        "period": period,
    }
    outcomes = convert(encounter)
    assert isinstance(outcomes[0], HubEvent) is ok
    if not ok:
        assert isinstance(outcomes[0], Rejection)
        assert paths(outcomes[0]) == ["Encounter.period"]


@pytest.mark.parametrize(("probability", "ok"), [(30, True), (100, True), (130, False), (-1, False)])
def test_a_risk_probability_is_a_percentage(probability: float, ok: bool) -> None:
    """ras-2: RiskAssessment.prediction.probability[x] "Must be <= 100"."""
    risk = {
        "resourceType": "RiskAssessment",
        "id": "r1",
        "status": "final",
        "subject": {"reference": "Patient/p1"},
        "prediction": [{"probabilityDecimal": probability}],
    }
    outcomes = convert(risk)
    assert isinstance(outcomes[0], HubEvent) is ok


def _bundle(*entries: dict[str, Any], **extra: Any) -> dict[str, Any]:
    return {"resourceType": "Bundle", "type": "collection", "entry": list(entries), **extra}


def test_an_unknown_element_on_the_bundle_is_refused_not_ignored() -> None:
    rejection = refused(_bundle({"fullUrl": "urn:uuid:1", "resource": PATIENT}, patientNote="x"))
    assert paths(rejection) == ["Bundle.patientNote"]


def test_an_unknown_element_on_an_entry_refuses_that_entry_only() -> None:
    other = {**PATIENT, "id": "p2", "identifier": [{"system": NHS_NUMBER, "value": "9990003017"}]}
    outcomes = convert(
        _bundle(
            {"fullUrl": "urn:uuid:1", "resource": PATIENT, "comment": "x"},
            {"fullUrl": "urn:uuid:2", "resource": other},
        )
    )
    assert [type(o).__name__ for o in outcomes] == ["Rejection", "HubEvent"]
    assert paths(outcomes[0]) == ["Bundle.entry[0].comment"]  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("full_url", "rule"),
    [
        ("Patient/p1", "absolute"),
        ("https://gp.example.org/fhir/Patient/p1/_history/2", "bdl-8"),
        ("https://gp.example.org/fhir/Patient/p9", "agree"),
    ],
)
def test_full_url_rules(full_url: str, rule: str) -> None:
    """FHIR R4 Bundle.entry.fullUrl: absolute, version-independent (bdl-8), agrees with the id."""
    rejection = refused(_bundle({"fullUrl": full_url, "resource": PATIENT}))
    assert paths(rejection) == ["Bundle.entry[0].fullUrl"]
    assert rule in rejection.reason


def test_two_entries_with_one_full_url_are_refused() -> None:
    """bdl-7: fullUrl unique in a Bundle unless the entries are different versions."""
    entry = {"fullUrl": "urn:uuid:1", "resource": PATIENT}
    rejection = refused(_bundle(entry, entry))
    assert paths(rejection) == ["Bundle.entry[1].fullUrl"]


@pytest.mark.parametrize(
    ("full_url", "actor"),
    [
        ("https://gp.example.org/fhir/Practitioner/x", {"reference": "Practitioner/x"}),
        ("urn:uuid:o", {"reference": "urn:uuid:o", "type": "Practitioner"}),
    ],
)
def test_a_reference_resolving_to_another_type_is_refused(full_url: str, actor: dict[str, str]) -> None:
    """A `Practitioner/x` reference that resolves to an Organization (issue #19)."""
    organisation = {"resourceType": "Organization", "name": "Clinic"}
    immunisation = {
        "resourceType": "Immunization",
        "id": "i1",
        "status": "completed",
        "vaccineCode": {"text": "MMR"},
        "patient": {"reference": "urn:uuid:p"},
        "occurrenceDateTime": "2024-05-01",
        "performer": [{"actor": actor}],
    }
    outcomes = convert(
        _bundle(
            {"fullUrl": "urn:uuid:p", "resource": PATIENT},
            {"fullUrl": full_url, "resource": organisation},
            {"fullUrl": "urn:uuid:i", "resource": immunisation},
        )
    )
    rejections = [o for o in outcomes if isinstance(o, Rejection)]
    assert len(rejections) == 1
    assert paths(rejections[0]) == ["Immunization.performer[0].actor.reference"]
    assert "Organization" in rejections[0].reason


def test_ndjson_lines_are_held_to_the_same_invariants() -> None:
    data = orjson.dumps(PATIENT) + b"\n" + orjson.dumps({"resourceType": "Patient", "id": "p2"}) + b"\n"
    outcomes = list(NdjsonConnector().convert(data, SourceContext(partner="gp")))
    assert isinstance(outcomes[0], HubEvent)
    assert isinstance(outcomes[1], Rejection)
    assert outcomes[1].location == "line 2: Patient"
