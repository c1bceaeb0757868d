"""The lighter null check (connectors/common/fhir_null_check.py) gives fhir_core's verdict, and
fhir_core's error, for every model of both FHIR releases hubnet reads, and is what hubnet's models run."""

from __future__ import annotations

import importlib
import pkgutil
from typing import Any

import pydantic
import pytest
from fhir_core.fhirabstractmodel import FHIRAbstractModel

from connectors.common import fhir_null_check
from connectors.common.fhir_null_check import fhir_core_check, lighter_check
from connectors.common.fhir_validation import validate_resource
from schemas.errors import ValidationError


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


def _verdict(check: Any, model: type[FHIRAbstractModel], data: dict[str, Any]) -> Any:
    """The data returned, or the error's details (pydantic errors compare by their dicts)."""
    try:
        return check(model, data)
    except pydantic.ValidationError as error:
        return error.errors(include_url=False)


@pytest.mark.parametrize("package", ["fhir.resources.R4B", "fhir.resources.STU3"])
def test_every_model_gets_fhir_cores_verdict(package: str) -> None:
    compared = 0
    for model in _models(package):
        for name, field in model.model_fields.items():
            values: tuple[Any, ...] = ([{}, None], [None], [{}], ["text", None], None, {})
            for data in (
                *({key: value, "other": [None]} for key in {name, field.alias or name} for value in values),
                {name: [None], field.alias or name: [{}]},  # sent under both its spellings
            ):
                lighter, own = _verdict(lighter_check, model, data), _verdict(fhir_core_check, model, data)
                assert lighter == own, (model, data)
                compared += 1
        data = {(f.alias or n): [None] for n, f in model.model_fields.items()}  # every error, in order
        assert _verdict(lighter_check, model, data) == _verdict(fhir_core_check, model, data), model
    assert compared > 10_000  # the releases' models were really found


def test_hubnets_models_run_the_lighter_check() -> None:
    validate_resource({"resourceType": "Observation", "status": "final", "code": {"text": "weight"}})
    from fhir.resources.R4B.observation import Observation

    validator = Observation.__pydantic_decorators__.model_validators["reject_null_complex_elements"]
    assert getattr(validator.func, "__func__", None) is lighter_check


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
    assert "None is not allowed" in str(raised.value)


def test_an_unknown_fhir_core_release_keeps_its_own_check(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(fhir_null_check, "version", lambda _: "9.9.9")
    monkeypatch.setattr(FHIRAbstractModel, "reject_null_complex_elements", classmethod(fhir_core_check))
    assert fhir_null_check.install() is False
    assert FHIRAbstractModel.__dict__["reject_null_complex_elements"].__func__ is fhir_core_check
