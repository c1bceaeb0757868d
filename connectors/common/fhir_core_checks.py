"""fhir_core's per-instance model checks, asked only of what can fail them.

Every fhir.resources model instance (each resource and each complex element: 5-6 per HL7 v2
message) runs two validators that fhir_core defines on `FHIRAbstractModel`:
- `reject_null_complex_elements` (before; added in fhir_core 1.1.11) walks every field of the model
  (Patient 36, Observation 60) to ask whether it is a list of a complex type, then looks for a null
  in the few that are: ~10% of HL7 v2 conversion, ~38 µs a message (issue #4);
- `validate_after_model_construction` (after) asks the model for its required primitive elements
  and its choice groups (`value[x]`), rebuilds the alias map of every field, and reads field
  metadata through pydantic's `model_fields` descriptor, on every instance.
What those questions depend on is the class alone. The lighter checks here work it out once per
model and then look only at the values that can fail: the keys the data has, the required elements,
the choice groups. Whenever a value could fail, they call fhir_core's own function, so every verdict
and every error is fhir_core's, word for word; they only skip the work for values that pass.

pydantic takes a model's validators from its class by name when it builds each subclass, so
`install` replaces the two methods on `FHIRAbstractModel` before the fhir.resources model modules
are imported (connectors/common/fhir_validation.py calls it; hubnet reaches every model through that
module). A model class built before that keeps fhir_core's functions: slower, same answers.
Installed only on the fhir_core releases they were compared with; on any other release fhir_core's
own stay (tests/unit/connectors/test_fhir_core_checks.py compares them on every model).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import cache
from importlib.metadata import version
from typing import Any

from fhir_core.fhirabstractmodel import FHIRAbstractModel
from fhir_core.utils import is_list_type, is_primitive_type

COMPARED_RELEASES = ("1.1.11", "1.1.12")
_NULL_CHECK = "reject_null_complex_elements"
_AFTER_CHECK = "validate_after_model_construction"
fhir_core_null_check: Callable[[type[FHIRAbstractModel], Any], Any] = FHIRAbstractModel.__dict__[
    _NULL_CHECK
].__func__
fhir_core_after_check: Callable[[FHIRAbstractModel], FHIRAbstractModel] = FHIRAbstractModel.__dict__[
    _AFTER_CHECK
]


@cache
def _complex_list_keys(model: type[FHIRAbstractModel]) -> frozenset[str]:
    """Names and aliases of the fields fhir_core's null check looks into."""
    keys: set[str] = set()
    for name, field in model.model_fields.items():
        if is_list_type(field) and not is_primitive_type(field) and not name.endswith("__ext"):
            keys.update((name, field.alias) if field.alias else (name,))
    return frozenset(keys)


def lighter_null_check(model: type[FHIRAbstractModel], data: Any) -> Any:
    """fhir_core's verdict on `data`: unchanged when no complex list holds a null, else its error.

    Looks at the keys `data` has (a handful) rather than at every field of the model. A key that
    fhir_core would not have looked at (a field sent under both its name and its alias) can only
    send the data on to fhir_core's own function, which then decides as it always does."""
    if isinstance(data, dict):
        keys = _complex_list_keys(model)
        for key, value in data.items():
            if isinstance(value, list) and key in keys and any(item is None for item in value):
                return fhir_core_null_check(model, data)
    return data


@dataclass(frozen=True, slots=True)
class _AfterPlan:
    """What fhir_core's after-check reads of a model: the fields of its required primitive
    elements, and each choice group with whether one of it is required."""

    required: tuple[str, ...]
    choices: tuple[tuple[tuple[str, ...], bool], ...]


_plans: dict[type[FHIRAbstractModel], _AfterPlan | None] = {}


def _plan_of(instance: FHIRAbstractModel) -> _AfterPlan | None:
    """The model's plan, read once through the instance's own methods (they describe the class);
    None, so fhir_core always decides, for a model whose description does not read as expected."""
    model = type(instance)
    if model not in _plans:
        try:
            aliases = model.get_alias_mapping()
            fields = model.model_fields
            _plans[model] = _AfterPlan(
                required=tuple(aliases[name] for name, _ in instance.get_required_fields()),
                choices=tuple(
                    (tuple(group), fields[group[0]].json_schema_extra["one_of_many_required"] is True)  # type: ignore[index]
                    for group in instance.get_one_of_many_fields().values()
                ),
            )
        except (KeyError, TypeError, IndexError):
            _plans[model] = None
    return _plans[model]


def lighter_after_check(instance: FHIRAbstractModel) -> FHIRAbstractModel:
    """fhir_core's verdict on a built instance: itself when every required primitive has a value
    and every choice group holds at most one (exactly one where required), else fhir_core decides
    (a missing value may still be excused by an extension, and it words the errors)."""
    plan = _plan_of(instance)
    if plan is None:
        return fhir_core_after_check(instance)
    for name in plan.required:
        if getattr(instance, name, None) is None:
            return fhir_core_after_check(instance)
    for group, required in plan.choices:
        given = sum(getattr(instance, name, None) is not None for name in group)
        if given > 1 or (required and not given):
            return fhir_core_after_check(instance)
    return instance


def install() -> bool:
    """Give models built from now on the lighter checks; False (nothing changed) on a fhir_core
    release they were not compared with."""
    if version("fhir_core") not in COMPARED_RELEASES:
        return False
    setattr(FHIRAbstractModel, _NULL_CHECK, classmethod(lighter_null_check))
    setattr(FHIRAbstractModel, _AFTER_CHECK, lighter_after_check)
    return True
