"""Validation from already-validated parts (connectors/common/fhir_validation.py) gives the same
verdict, and the same error, as validating each resource whole with its fhir.resources model.

Public samples: tests/data/public/ (see its README): NHS PDS and Immunisation API R4 examples
(NHSDigital, MIT), BaRS examples (NHSDigital, MIT), Synthea R4 bundles (smart-on-fhir, Apache-2.0),
and the R4 resources hubnet makes from the HL7 v2 samples (microsoft/FHIR-Converter, MIT).
"""

from __future__ import annotations

import copy
from collections.abc import Iterator
from typing import Any

import orjson
import pydantic
import pytest
from fhir.resources.R4B import get_fhir_model_class

from connectors.base import SourceContext
from connectors.common.fhir_bindings import check_bindings
from connectors.common.fhir_validation import clear_validation_cache, validate_resource
from connectors.hl7v2.connector import Hl7v2Connector
from schemas.envelope import HubEvent
from schemas.errors import ValidationError
from tests.public_data import PUBLIC_DATA as SHARED_DATA

JSON_FOLDERS = ("nhs-pds-r4-examples", "nhs-immunisation-r4-examples", "nhs-bars", "synthea-r4")


def _resources(value: Any) -> Iterator[dict[str, Any]]:
    """Every resource in a JSON document: itself, Bundle entries, contained resources."""
    if isinstance(value, dict):
        if isinstance(value.get("resourceType"), str):
            yield value
        for item in value.values():
            yield from _resources(item)
    elif isinstance(value, list):
        for item in value:
            yield from _resources(item)


def _shared_resources() -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = []
    for folder in JSON_FOLDERS:
        for path in sorted((SHARED_DATA / folder).rglob("*.json")):
            try:
                document = orjson.loads(path.read_bytes().removeprefix(b"\xef\xbb\xbf"))
            except orjson.JSONDecodeError:  # a few example files are templates, not JSON
                continue
            found += [r for r in _resources(document) if r["resourceType"] != "Bundle"]
    connector = Hl7v2Connector()
    for path in sorted((SHARED_DATA / "hl7v2-samples").glob("*.hl7")):
        for outcome in connector.convert(path.read_bytes(), SourceContext(partner="essex-nhs")):
            if isinstance(outcome, HubEvent):
                found += [entry.resource for entry in outcome.entries]
    return found


@pytest.fixture(scope="module")
def resources() -> list[dict[str, Any]]:
    return _shared_resources()


def _fhir_path(resource_type: str, loc: tuple[Any, ...]) -> str:
    """pydantic's location in FHIR path notation: list positions in brackets, no `root` steps."""
    steps = "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in loc if p not in ("root", "__root__"))
    return resource_type + steps


def _plain_error(resource: dict[str, Any]) -> tuple[str, ...] | None:
    """What whole-resource validation says: None when valid, else the place of every error. The
    models do not check codes, so the required-binding check (fhir_bindings) follows them, as in
    `validate_resource` (one BaRS OperationOutcome sends issue code "too costly", not "too-costly")."""
    try:
        model = get_fhir_model_class(resource["resourceType"])
    except (KeyError, ValueError):
        return ("unknown type",)
    try:
        model.model_validate(resource)
        check_bindings(resource)
    except pydantic.ValidationError as error:
        return tuple(_fhir_path(resource["resourceType"], e["loc"]) for e in error.errors())
    except ValidationError as error:
        return tuple(problem.path for problem in error.problems)
    return None


def _hub_error(resource: dict[str, Any]) -> tuple[str, ...] | None:
    try:
        validate_resource(resource)
    except ValidationError as error:
        return tuple(problem.path for problem in error.problems) or ("?",)
    return None


def test_every_shared_resource_gets_the_verdict_of_whole_validation(resources: list[dict[str, Any]]) -> None:
    assert len(resources) > 1000
    clear_validation_cache()
    verdicts = [(_hub_error(r), _plain_error(r)) for r in resources]
    assert all(hub == plain for hub, plain in verdicts)
    assert any(plain is None for _, plain in verdicts)


def _nested_objects(value: Any) -> Iterator[dict[str, Any]]:
    """The JSON objects inside a resource (not the resource itself), outermost first."""
    children = value.values() if isinstance(value, dict) else value if isinstance(value, list) else ()
    for child in children:
        if isinstance(child, dict):
            yield child
        yield from _nested_objects(child)


@pytest.mark.parametrize(
    "spoil",
    [
        pytest.param(lambda part: part.__setitem__("notAnElement", "x"), id="unknown-element"),
        pytest.param(lambda part: part.__setitem__("id", 5), id="wrong-type"),
    ],
)
def test_a_cached_valid_element_never_hides_an_invalid_copy(
    resources: list[dict[str, Any]], spoil: Any
) -> None:
    """Warm the cache with each valid resource, then spoil one nested element at a time: the
    spoilt resource is rejected exactly where whole validation rejects it."""
    clear_validation_cache()
    checked = 0
    for resource in resources[::25]:
        if _plain_error(resource) is not None:
            continue
        validate_resource(resource)
        for index in range(min(8, sum(1 for _ in _nested_objects(resource)))):
            spoilt = copy.deepcopy(resource)
            spoil(list(_nested_objects(spoilt))[index])
            plain = _plain_error(spoilt)
            assert _hub_error(spoilt) == plain
            checked += plain is not None
    assert checked > 100


def test_the_same_object_is_checked_against_each_element_type_it_is_used_as() -> None:
    clear_validation_cache()
    validate_resource({"resourceType": "Patient", "name": [{"family": "Example"}]})
    with pytest.raises(ValidationError, match=r"Patient\.address"):
        validate_resource({"resourceType": "Patient", "address": [{"family": "Example"}]})


def test_a_null_in_a_list_of_elements_is_still_rejected() -> None:
    clear_validation_cache()
    validate_resource({"resourceType": "Patient", "name": [{"family": "Example"}]})
    with pytest.raises(ValidationError, match=r"Patient\.name"):
        validate_resource({"resourceType": "Patient", "name": [{"family": "Example"}, None]})


def test_unserialisable_content_is_validated_whole() -> None:
    clear_validation_cache()
    with pytest.raises(ValidationError, match=r"Patient\.name"):
        validate_resource({"resourceType": "Patient", "name": [{"family": {1, 2}}]})


def test_clearing_the_cache_forgets_elements_too() -> None:
    """Benchmarks rely on it: after a clear, nothing is served from memory."""
    from connectors.common import fhir_validation

    validate_resource({"resourceType": "Patient", "name": [{"family": "Example"}]})
    assert fhir_validation._elements
    clear_validation_cache()
    assert not fhir_validation._elements


def test_the_element_cache_stays_within_its_bound(monkeypatch: pytest.MonkeyPatch) -> None:
    """Oldest elements leave first; a long-running worker's memory does not grow with its feed."""
    from connectors.common import fhir_validation

    clear_validation_cache()
    monkeypatch.setattr(fhir_validation, "_ELEMENT_CACHE_SIZE", 10)
    for n in range(50):
        validate_resource({"resourceType": "Patient", "name": [{"family": f"Example{n}"}]})
    assert len(fhir_validation._elements) == 10
    with pytest.raises(ValidationError, match=r"Patient\.name"):
        validate_resource({"resourceType": "Patient", "name": [{"family": "Example0", "bogus": 1}]})
