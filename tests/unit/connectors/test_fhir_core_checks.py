"""The lighter model checks (connectors/common/fhir_core_checks.py) give fhir_core's verdict, and
fhir_core's error, for every model of both FHIR releases hubnet reads, and are what hubnet's models
run."""

from __future__ import annotations

import importlib
import itertools
import pkgutil
import subprocess
import sys
from collections.abc import Callable, Iterator
from functools import cache
from importlib.metadata import version
from typing import Any

import pydantic
import pytest
from fhir_core.fhirabstractmodel import FHIRAbstractModel

from connectors.common import fhir_core_checks
from connectors.common.fhir_core_checks import (
    COMPARED_RELEASES,
    fhir_core_after_check,
    fhir_core_null_check,
    lighter_after_check,
    lighter_null_check,
)
from connectors.common.fhir_validation import validate_resource
from schemas.errors import ValidationError
from tests.conftest import REPO

RELEASES = ["fhir.resources.R4B", "fhir.resources.STU3"]


@cache
def _models(package: str) -> list[type[FHIRAbstractModel]]:
    """Every model class a fhir.resources release defines (its modules imported one by one)."""
    root = importlib.import_module(package)
    for info in pkgutil.iter_modules(root.__path__):
        if not info.name.startswith(("tests", "fhirtypes")):
            importlib.import_module(f"{package}.{info.name}")
    found: list[type[FHIRAbstractModel]] = []
    pending = [FHIRAbstractModel]
    while pending:
        for sub in pending.pop().__subclasses__():
            pending.append(sub)
            if sub.__module__.startswith(package):
                found.append(sub)
    return found


def _verdict(check: Callable[..., Any], *args: Any) -> Any:
    """What the check returned, or its error: pydantic's details, or type and text of another."""
    try:
        return check(*args)
    except pydantic.ValidationError as error:
        return error.errors(include_url=False)
    except (ValueError, TypeError, AssertionError) as error:
        return (type(error).__name__, str(error))


@pytest.mark.parametrize("package", RELEASES)
def test_the_null_check_gives_fhir_cores_verdict_on_every_model(package: str) -> None:
    compared = 0
    for model in _models(package):
        for name, field in model.model_fields.items():
            values: tuple[Any, ...] = ([{}, None], [None], [{}], ["text", None], None, {})
            for data in (
                *({key: value, "other": [None]} for key in {name, field.alias or name} for value in values),
                {name: [None], field.alias or name: [{}]},  # sent under both its spellings
            ):
                lighter = _verdict(lighter_null_check, model, data)
                assert lighter == _verdict(fhir_core_null_check, model, data), (model, data)
                compared += 1
        data = {(f.alias or n): [None] for n, f in model.model_fields.items()}  # every error, in order
        assert _verdict(lighter_null_check, model, data) == _verdict(fhir_core_null_check, model, data), model
    assert compared > 10_000  # the releases' models were really found


def _instances(model: type[FHIRAbstractModel]) -> Iterator[FHIRAbstractModel]:
    """Unvalidated instances that pass and fail the after-check every way it can: required
    primitives given, missing, or missing with an explaining extension; each choice group with
    none, one or two of its types given."""
    probe = model.model_construct()
    aliases = model.get_alias_mapping()
    required = [(aliases[name], ext) for name, ext in probe.get_required_fields()]
    groups = list(probe.get_one_of_many_fields().values())
    given: dict[str, Any] = {name: "x" for name, _ in required} | {group[0]: "x" for group in groups}
    yield model.model_construct()
    yield model.model_construct(**given)
    for name, ext in required:
        yield model.model_construct(**(given | {name: None}))
        if ext:
            yield model.model_construct(**(given | {name: None, ext: {"extension": [{"url": "u"}]}}))
            yield model.model_construct(**(given | {name: None, ext: {"extension": []}}))
    for group in groups:
        yield model.model_construct(**{k: v for k, v in given.items() if k not in group})
        for pair in itertools.islice(itertools.combinations(group, 2), 3):
            yield model.model_construct(**(given | dict.fromkeys(pair, "x")))


@pytest.mark.parametrize("package", RELEASES)
def test_the_after_check_gives_fhir_cores_verdict_on_every_model(package: str) -> None:
    compared = failing = 0
    for model in _models(package):
        for instance in _instances(model):
            own = _verdict(fhir_core_after_check, instance)
            assert _verdict(lighter_after_check, instance) == own, (model, instance)
            compared += 1
            failing += own is not instance
    assert compared > 2_000  # both verdicts were really exercised
    assert failing > 500


def test_a_hubnet_process_builds_its_models_with_the_checks_of_its_fhir_core_release() -> None:
    """In a fresh interpreter, as `hubnet listen` starts: import the connector, convert a message;
    the models that validated it carry the lighter checks on a release they were compared with,
    and fhir_core's own on any other (a new release keeps working, only slower, until compared)."""
    probe = (
        "from importlib.metadata import version\n"
        "from pathlib import Path\n"
        "from connectors.base import SourceContext\n"
        "from connectors.hl7v2.connector import Hl7v2Connector\n"
        "from connectors.common import fhir_core_checks as checks\n"
        "data = Path('samples/hl7v2/family-hub-feed.hl7').read_bytes()\n"
        "assert list(Hl7v2Connector().convert(data, SourceContext(partner='probe')))\n"
        "from fhir.resources.R4B.observation import Observation\n"
        "from fhir.resources.R4B.humanname import HumanName\n"
        "compared = version('fhir_core') in checks.COMPARED_RELEASES\n"
        "null_check = checks.lighter_null_check if compared else checks.fhir_core_null_check\n"
        "after_check = checks.lighter_after_check if compared else checks.fhir_core_after_check\n"
        "for model in (Observation, HumanName):\n"
        "    found = model.__pydantic_decorators__.model_validators\n"
        "    assert found['reject_null_complex_elements'].func.__func__ is null_check\n"
        "    assert found['validate_after_model_construction'].func is after_check\n"
        "print('lighter' if compared else 'fhir_core')\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", probe], check=False, cwd=REPO, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == ("lighter" if version("fhir_core") in COMPARED_RELEASES else "fhir_core")


def test_a_null_among_observation_components_is_rejected_with_its_path() -> None:
    with pytest.raises(ValidationError) as raised:
        validate_resource(
            {
                "resourceType": "Observation",
                "status": "final",
                "code": {"text": "ASQ-3"},
                "component": [{"code": {"text": "gross motor"}, "valueInteger": 50}, None],
            }
        )
    assert raised.value.location == "Observation.component"
    assert "the list holds a null" in str(raised.value)


def test_a_missing_status_or_two_values_are_still_rejected() -> None:
    with pytest.raises(ValidationError) as missing:
        validate_resource({"resourceType": "Observation", "code": {"text": "weight"}})
    assert missing.value.location == "Observation.status"
    with pytest.raises(ValidationError, match="only one of the choice elements"):
        validate_resource(
            {
                "resourceType": "Observation",
                "status": "final",
                "code": {"text": "weight"},
                "valueString": "heavy",
                "valueInteger": 9,
            }
        )


def test_an_unknown_fhir_core_release_keeps_its_own_checks(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(fhir_core_checks, "version", lambda _: "9.9.9")
    monkeypatch.setattr(FHIRAbstractModel, "reject_null_complex_elements", classmethod(fhir_core_null_check))
    monkeypatch.setattr(FHIRAbstractModel, "validate_after_model_construction", fhir_core_after_check)
    assert fhir_core_checks.install() is False
    assert FHIRAbstractModel.__dict__["reject_null_complex_elements"].__func__ is fhir_core_null_check
    assert FHIRAbstractModel.__dict__["validate_after_model_construction"] is fhir_core_after_check
