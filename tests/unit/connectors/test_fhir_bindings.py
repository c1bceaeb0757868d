"""Required bindings are checked (issue #19, "Identity safety" 3).

FHIR R4 "Terminologies", binding strength `required`: "To be conformant, the concept in this
element SHALL be from the specified value set". fhir.resources does not check codes, so
`Patient.gender = "boy"` and `Immunization.status = "bogus-status"` passed; hubnet checks them
against the FHIR value sets vendored in connectors/common (R4 from the FHIR 4.0.1 definitions).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import orjson
import pytest
from fhir.resources.R4B import get_fhir_model_class

from connectors.base import Rejection, SourceContext
from connectors.common.fhir_bindings import check_bindings
from connectors.common.fhir_validation import clear_validation_cache, validate_resource
from connectors.fhir.connector import FhirConnector
from connectors.nems.connector import NemsConnector
from schemas.envelope import HubEvent
from schemas.errors import ValidationError
from tests.public_data import public_sample
from tests.unit.connectors.fhir_support import assert_explained

ADMINISTRATIVE_GENDER = "http://hl7.org/fhir/ValueSet/administrative-gender"
CONDITION_CLINICAL = "http://terminology.hl7.org/CodeSystem/condition-clinical"
NEMS_SAMPLE = Path(__file__).resolve().parents[3] / "samples" / "nems" / "vaccination-new.xml"


def _immunisation() -> dict[str, Any]:
    """The NHS Immunisation API's published MMR example (contained Patient, full record)."""
    path = public_sample("nhs-immunisation-r4-examples", "completed_mmr_immunization_event.json")
    resource: dict[str, Any] = orjson.loads(path.read_bytes())
    return resource


def _convert(resource: dict[str, Any]) -> list[HubEvent | Rejection]:
    clear_validation_cache()
    return list(FhirConnector().convert(orjson.dumps(resource), SourceContext(partner="nhs-imms")))


def test_the_published_example_passes() -> None:
    (outcome,) = _convert(_immunisation())
    assert isinstance(outcome, HubEvent)


@pytest.mark.parametrize("code", ["invalid", "boy", "Male", "M"])
def test_patient_gender_outside_administrative_gender_is_refused(code: str) -> None:
    patient = {"resourceType": "Patient", "id": "p1", "gender": code, "name": [{"family": "Jones"}]}
    (outcome,) = _convert(patient)
    assert isinstance(outcome, Rejection)
    assert outcome.location == "Patient.gender"
    assert ADMINISTRATIVE_GENDER in outcome.reason
    assert "female, male, other, unknown" in outcome.reason  # what to send instead
    assert_explained(outcome)


def test_immunization_status_outside_its_value_set_is_refused() -> None:
    resource = {**_immunisation(), "status": "bogus-status"}
    (outcome,) = _convert(resource)
    assert isinstance(outcome, Rejection)
    assert outcome.location == "Immunization.status"
    assert "bogus-status" not in outcome.reason  # values are never echoed


def test_a_contained_patients_gender_is_checked_too() -> None:
    resource = _immunisation()
    resource["contained"][1]["gender"] = "boy"
    (outcome,) = _convert(resource)
    assert isinstance(outcome, Rejection)
    assert outcome.location == "Immunization.contained[1].gender"


def test_bindings_inside_data_types_are_checked() -> None:
    """Identifier.use (identifier-use) and Quantity.comparator, wherever the type is used."""
    resource = _immunisation()
    resource["identifier"][0]["use"] = "main"
    resource["doseQuantity"]["comparator"] = "about"
    with pytest.raises(ValidationError) as caught:
        check_bindings(resource)
    assert [problem.path for problem in caught.value.problems] == [
        "Immunization.identifier[0].use",
        "Immunization.doseQuantity.comparator",
    ]


def test_a_codeable_concept_needs_one_coding_from_its_required_value_set() -> None:
    condition = {
        "resourceType": "Condition",
        "subject": {"reference": "Patient/1"},
        "code": {"text": "asthma"},
        "clinicalStatus": {"coding": [{"system": CONDITION_CLINICAL, "code": "active"}]},
    }
    validate_resource(condition)
    for spoilt in (
        {"coding": [{"system": "http://example.org/local", "code": "active"}]},
        {"coding": [{"system": CONDITION_CLINICAL, "code": "ongoing"}]},
        {"text": "active"},
    ):
        with pytest.raises(ValidationError) as caught:
            validate_resource({**condition, "clinicalStatus": spoilt})
        assert caught.value.location == "Condition.clinicalStatus"
    local_and_standard = [
        {"system": "http://example.org/local", "code": "A"},
        {"system": CONDITION_CLINICAL, "code": "active"},
    ]
    validate_resource({**condition, "clinicalStatus": {"coding": local_and_standard}})


def test_every_status_and_intent_of_a_referral_is_checked() -> None:
    request = {
        "resourceType": "ServiceRequest",
        "status": "active",
        "intent": "order",
        "subject": {"reference": "Patient/1"},
    }
    validate_resource(request)
    for element, code in (("status", "open"), ("intent", "referral"), ("priority", "high")):
        with pytest.raises(ValidationError) as caught:
            validate_resource({**request, element: code})
        assert caught.value.location == f"ServiceRequest.{element}"


def test_a_stu3_nems_message_with_a_gender_outside_stu3_administrative_gender_is_refused() -> None:
    """NEMS is STU3: its Patient.gender is bound (required) to STU3 administrative-gender."""
    data = NEMS_SAMPLE.read_bytes()
    outcomes = list(NemsConnector().convert(data, SourceContext(partner="nems")))
    assert all(isinstance(o, HubEvent) for o in outcomes)
    assert data.count(b'<gender value="') == 1
    spoilt = data.replace(b'<gender value="', b'<gender value="boy-', 1)
    (outcome,) = NemsConnector().convert(spoilt, SourceContext(partner="nems"))
    assert isinstance(outcome, Rejection)
    assert outcome.location is not None
    assert outcome.location == "Bundle.entry[2].resource.ofType(Patient).gender"
    assert "STU3" in outcome.reason


EMITTED = (
    "Patient", "RelatedPerson", "Immunization", "Observation", "Consent", "EpisodeOfCare", "Flag",
    "Encounter", "ServiceRequest", "Task", "Condition", "Procedure", "Appointment", "CarePlan",
    "CareTeam", "AllergyIntolerance", "DocumentReference", "Account", "Linkage", "Provenance",
    "Communication", "DiagnosticReport", "QuestionnaireResponse", "MedicationRequest",
    "MedicationStatement", "Organization", "Location", "HealthcareService", "Practitioner",
)  # fmt: skip


def test_vendored_r4_value_sets_agree_with_the_models_own_code_lists() -> None:
    """Two derivations of the FHIR definitions agree: the vendored tables (from the value sets)
    and fhir.resources' `enum_values` (from each element's short text, complete unless it ends
    in `+`), for every `code` element of the resources hubnet emits."""
    checked = 0
    for resource_type, name, field in (
        (kind, name, field)
        for kind in EMITTED
        for name, field in get_fhir_model_class(kind).model_fields.items()
    ):
        extra = field.json_schema_extra if isinstance(field.json_schema_extra, dict) else {}
        codes = extra.get("enum_values")
        if not codes or "+" in codes:
            continue
        key = field.alias or name
        for code in codes:  # each listed code passes ...
            check_bindings({"resourceType": resource_type, key: code})
        with pytest.raises(ValidationError):  # ... and a code outside the list does not
            check_bindings({"resourceType": resource_type, key: "not-a-listed-code"})
        checked += 1
    assert checked > 30
