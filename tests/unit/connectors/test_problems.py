"""Rejections a partner can act on (connectors/common/problems.py): plain reasons instead of the
validation libraries' wording, every problem of a record listed (bounded, counted), and one path
notation (`Patient.identifier[0].value`) whether the input was JSON, XML or inside a Bundle.

Rules quoted from FHIR R4: datatypes (https://hl7.org/fhir/R4/datatypes.html) "dateTime ... If
hours and minutes are specified, a time zone SHALL be populated"; JSON (https://hl7.org/fhir/R4/json.html)
"string property values can never be empty"; a single-cardinality element is one object, not an array.
"""

from __future__ import annotations

import re
from typing import Any

import orjson
import pytest

from connectors import registry
from connectors.base import Rejection, SourceContext
from connectors.common.fhir_validation import clear_validation_cache, validate_resource
from connectors.common.problems import (
    MAX_KEPT,
    MAX_LISTED,
    element_path,
    located,
    plain_reason,
    problems_error,
)
from connectors.fhir.connector import FhirConnector
from schemas.errors import Problem, ValidationError
from tests.public_data import public_sample

LIBRARY_WORDING = ("<class", "regex", "pattern", "Value error", "Input should", "None is not allowed")
IMMUNISATION = {
    "resourceType": "Immunization",
    "status": "completed",
    "vaccineCode": {"text": "MMR"},
    "patient": {"reference": "Patient/1"},
}


def _refusal(resource: dict[str, Any], where: str | None = None) -> ValidationError:
    clear_validation_cache()
    with pytest.raises(ValidationError) as raised:
        validate_resource(resource, where)
    return raised.value


def _assert_plain(text: str) -> None:
    assert not any(word in text for word in LIBRARY_WORDING), text
    assert "\n" not in text
    assert "\r" not in text


def test_a_date_time_without_its_time_zone_is_said_to_lack_a_time_zone() -> None:
    error = _refusal({**IMMUNISATION, "occurrenceDateTime": "2024-03-01T10:30:00"})
    assert error.location == "Immunization.occurrenceDateTime"
    assert "time zone" in error.reason
    _assert_plain(error.describe())


def test_an_instant_without_its_time_zone_is_said_to_lack_a_time_zone() -> None:
    error = _refusal({"resourceType": "Patient", "meta": {"lastUpdated": "2024-03-01T10:30:00"}})
    assert error.location == "Patient.meta.lastUpdated"
    assert "time zone" in error.reason


def test_a_date_with_a_time_is_told_to_drop_the_time() -> None:
    error = _refusal({"resourceType": "Patient", "birthDate": "2020-01-02T08:00:00Z"})
    assert "must not hold a time" in error.reason


def test_a_list_where_one_object_belongs_is_said_in_words_not_python_class_names() -> None:
    error = _refusal({"resourceType": "Patient", "maritalStatus": [{"text": "married"}]})
    assert error.location == "Patient.maritalStatus"
    assert error.reason == "expected one CodeableConcept object here, but got a list"
    _assert_plain(error.describe())


def test_an_empty_string_is_explained_without_printing_a_regex() -> None:
    """fhir_core's String pattern holds a raw CR and LF; the reason must not."""
    error = _refusal({"resourceType": "Patient", "name": [{"family": ""}]})
    assert error.location == "Patient.name[0].family"
    assert "empty" in error.reason
    _assert_plain(error.describe())


def test_a_code_with_stray_spaces_and_a_bad_id_are_explained() -> None:
    error = _refusal({"resourceType": "Patient", "id": "a b", "gender": " male"})
    assert [p.path for p in error.problems] == ["Patient.id", "Patient.gender"]
    assert "letters, digits" in error.problems[0].reason
    assert "spaces" in error.problems[1].reason
    _assert_plain(error.describe())


def test_every_problem_of_a_record_is_listed_with_its_own_path() -> None:
    error = _refusal({"resourceType": "Patient", "birthDate": "2020-13-01", "gender": 5, "nickname": "x"})
    assert [p.path for p in error.problems] == ["Patient.birthDate", "Patient.gender", "Patient.nickname"]
    assert error.reason.startswith("3 problems: ")
    for problem in error.problems:
        assert f"{problem.path}: {problem.reason}" in error.reason
    assert "more problem" not in error.reason
    assert error.location == "Patient"


def test_a_long_list_of_problems_is_bounded_and_counted() -> None:
    names = [{"given": "not-a-list"} for _ in range(MAX_LISTED + 5)]
    error = _refusal({"resourceType": "Patient", "name": names})
    assert len(error.problems) == MAX_LISTED + 5
    assert error.reason.startswith(f"{MAX_LISTED + 5} problems: ")
    assert error.reason.count("Patient.name[") == MAX_LISTED
    assert error.reason.endswith("and 5 more not listed")
    assert error.location == "Patient.name"


def test_the_problems_kept_on_a_rejection_are_bounded_too() -> None:
    problems = [Problem(f"Patient.name[{n}].given", "expected a list") for n in range(MAX_KEPT + 50)]
    error = problems_error(problems)
    assert len(error.problems) == MAX_KEPT
    assert error.reason.startswith(f"{MAX_KEPT + 50} problems: ")
    assert error.reason.endswith(f"and {MAX_KEPT + 50 - MAX_LISTED} more not listed")


def test_list_positions_are_written_in_brackets() -> None:
    error = _refusal({"resourceType": "Patient", "identifier": [{"system": "https://x.example", "value": 5}]})
    assert error.location == "Patient.identifier[0].value"


def test_a_resource_inside_a_bundle_is_located_by_one_fhir_path_naming_its_type() -> None:
    error = _refusal({"resourceType": "Patient", "birthDate": "2020-13-01"}, "Bundle.entry[2].resource")
    assert error.location == "Bundle.entry[2].resource.ofType(Patient).birthDate"


def test_a_place_that_is_not_a_fhir_path_stays_in_front() -> None:
    assert located("line 4", "Patient.birthDate") == "line 4: Patient.birthDate"
    assert located("PID", "Patient.birthDate") == "PID: Patient.birthDate"
    assert element_path("Patient", ("maritalStatus", "root")) == "Patient.maritalStatus"


def test_an_unknown_contained_resource_type_is_a_rejection_not_a_hubnet_fault() -> None:
    error = _refusal({"resourceType": "Patient", "contained": [{"resourceType": "Wizard", "id": "w"}]})
    assert error.location == "Patient.contained[0].resourceType"
    assert "not a FHIR R4 resource type" in error.reason


def test_an_untranslated_library_message_still_loses_class_names_and_regexes() -> None:
    reason = plain_reason({"type": "something_new", "msg": "got <class 'dict'>, pattern '[ \r\n]+'"})
    _assert_plain(reason)


def test_a_rejection_carries_each_problem_for_the_gateway_to_list() -> None:
    problems = [Problem("Patient.gender", "a"), Problem("Patient.birthDate", "b")]
    rejection = Rejection.from_error(problems_error(problems), record=_record())
    assert rejection.problems == tuple(problems)
    assert rejection.location == "Patient"


def _record() -> Any:
    from connectors.base import Record

    return Record(raw=b"{}", ref="entry 0")


def _xml_and_json(family_xml: str, family_json: dict[str, Any]) -> tuple[Rejection, Rejection]:
    """The same broken Bundle entry sent as FHIR XML and as FHIR JSON."""
    xml = (
        '<Bundle xmlns="http://hl7.org/fhir"><type value="collection"/>'
        '<entry><resource><Patient><id value="a"/><birthDate value="2020-01-01"/></Patient>'
        "</resource></entry>"
        f'<entry><resource><Patient><id value="b"/>{family_xml}</Patient></resource></entry></Bundle>'
    ).encode()
    body = {
        "resourceType": "Bundle",
        "type": "collection",
        "entry": [
            {"resource": {"resourceType": "Patient", "id": "a", "birthDate": "2020-01-01"}},
            {"resource": {"resourceType": "Patient", "id": "b", **family_json}},
        ],
    }
    ctx = SourceContext(partner="essex-nhs")
    found = []
    for data in (xml, orjson.dumps(body)):
        found += [o for o in FhirConnector().convert(data, ctx) if isinstance(o, Rejection)]
    [from_xml, from_json] = found
    return from_xml, from_json


def test_xml_and_json_input_name_the_same_element_the_same_way() -> None:
    from_xml, from_json = _xml_and_json(
        '<name><family value="A"/></name><name><given value="B"/>'
        '<period><start value="2020-01-01T10:00:00"/></period></name>',
        {"name": [{"family": "A"}, {"given": ["B"], "period": {"start": "2020-01-01T10:00:00"}}]},
    )
    assert from_xml.location == from_json.location == "Patient.name[1].period.start"
    assert "time zone" in from_xml.reason


_LIBRARY_OR_OTHER_NOTATION = re.compile(
    r"<class|regex|pattern '|Value error|Input should|None is not allowed|[\n\r]"
    r"|[A-Za-z]\.\d+(\.|$)"  # pydantic's `identifier.0.value`
    r"|[A-Za-z]/[A-Za-z]+\[\d+\]"  # XPath `/Bundle/entry[3]/resource`
)


@pytest.mark.parametrize(
    ("fmt", "folders"),
    [
        ("fhir", ("nhs-pds-r4-examples", "nhs-immunisation-r4-examples", "nhs-bars", "ukcore-r4-examples")),
        ("nems", ("nhs-child-health-events",)),
        ("hl7v2", ("hl7v2-samples",)),
        ("cin-census", ("childrens-social-care/cin-census",)),
    ],
)
def test_no_rejection_of_a_public_sample_speaks_library_language(fmt: str, folders: tuple[str, ...]) -> None:
    """Every rejection hubnet gives the public samples (when this was written: 185 FHIR, 4 NEMS,
    105 HL7 v2, 4 CIN census) is in plain words and in the one path notation."""
    connector = registry.get(fmt)
    rejected = 0
    for folder in folders:
        for path in sorted(public_sample(*folder.split("/")).rglob("*")):
            if path.suffix.lower() not in (".json", ".xml", ".hl7"):
                continue
            for outcome in connector.convert(path.read_bytes(), SourceContext(partner="essex-nhs")):
                if isinstance(outcome, Rejection):
                    rejected += 1
                    text = f"{outcome.location} {outcome.reason}"
                    assert not _LIBRARY_OR_OTHER_NOTATION.search(text), (path.name, text)
    assert rejected > 0
