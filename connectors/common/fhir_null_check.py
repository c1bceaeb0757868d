"""fhir_core's check for nulls in lists of complex elements, asked only of the fields it can apply to.

fhir_core 1.1.11 added `FHIRAbstractModel.reject_null_complex_elements`, a `before` validator that
every model instance runs (each resource and each complex element: 5-6 per HL7 v2 message). It
walks every field of the model (Patient 36, Observation 60) to ask whether it is a list of a complex
type, then looks for a null in the few that are. The answer to the question depends on the class
alone, yet it is worked out again per instance: ~10% of HL7 v2 conversion (issue #4, ~38 µs a
message). `lighter_check` works the list out once per class and looks at just those fields. When
it finds a null it calls fhir_core's own function, so the error is fhir_core's, word for word.

pydantic takes a model's validators from its class by name when it builds each subclass, so the
lighter check replaces the classmethod on `FHIRAbstractModel` before the fhir.resources model
modules are imported (`install`, called by connectors/common/fhir_validation.py, through which
hubnet reaches every model). A model class built before that keeps fhir_core's function: slower,
same answers. Installed only on the fhir_core releases whose function it was compared with; on any
other release fhir_core's own stays.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import cache
from importlib.metadata import version
from typing import Any

from fhir_core.fhirabstractmodel import FHIRAbstractModel
from fhir_core.utils import is_list_type, is_primitive_type

COMPARED_RELEASES = ("1.1.11", "1.1.12")
_NAME = "reject_null_complex_elements"
fhir_core_check: Callable[[type[FHIRAbstractModel], Any], Any] = FHIRAbstractModel.__dict__[_NAME].__func__


@cache
def _complex_list_keys(model: type[FHIRAbstractModel]) -> frozenset[str]:
    """Names and aliases of the fields fhir_core's check looks into."""
    keys: set[str] = set()
    for name, field in model.model_fields.items():
        if is_list_type(field) and not is_primitive_type(field) and not name.endswith("__ext"):
            keys.update((name, field.alias) if field.alias else (name,))
    return frozenset(keys)


def lighter_check(model: type[FHIRAbstractModel], data: Any) -> Any:
    """fhir_core's verdict on `data`: unchanged when no complex list holds a null, else its error.

    Looks at the keys `data` has (a handful) rather than at every field of the model. A key that
    fhir_core would not have looked at (a field sent under both its name and its alias) can only
    send the data on to fhir_core's own function, which then decides as it always does."""
    if isinstance(data, dict):
        keys = _complex_list_keys(model)
        for key, value in data.items():
            if isinstance(value, list) and key in keys and any(item is None for item in value):
                return fhir_core_check(model, data)
    return data


def install() -> bool:
    """Give models built from now on the lighter check; False (nothing changed) on a fhir_core
    release it was not compared with."""
    if version("fhir_core") not in COMPARED_RELEASES:
        return False
    setattr(FHIRAbstractModel, _NAME, classmethod(lighter_check))
    return True
