"""Validate FHIR R4 resources once, at the edge, with the fhir.resources R4B models.

UK Core is an R4 profile set; R4B's models are the closest the library ships. Inputs in an older
release (NHS event messages are STU3) are checked against that release's models before mapping. Errors become
one `ValidationError` listing every problem of the resource at its FHIR path (`Patient.birthDate`,
`Patient.identifier[0].value`) in plain words (connectors/common/problems.py), never echoing the
value, because reasons travel to logs and ops pages where personal data must not appear.

Most of the cost of fhir.resources validation is a fixed charge per complex element (each
HumanName, Coding, Reference runs its own model's Python validators), and feeds repeat elements
constantly: the same vaccine Coding, the same unit, the same patient's name in every message about
them. So each complex element is validated once, with its own model, and the instance is handed to
the parent's model, which accepts an already-validated instance of the right class as it stands
(that is pydantic's and fhir.resources' rule, not a shortcut of ours). Every element of every
resource is still checked by its fhir.resources model; only the repeats are not checked twice.
Errors are always reported by the plain whole-resource validation, so paths and wording do not
depend on what was cached.
"""

from __future__ import annotations

import typing
from collections import OrderedDict
from collections.abc import Callable
from functools import cache
from typing import Any, Literal

import orjson
import pydantic
from fhir.resources.R4B import get_fhir_model_class
from fhir.resources.STU3 import get_fhir_model_class as get_stu3_model_class

from connectors.common import fhir_core_checks
from connectors.common.fhir_bindings import check_bindings
from connectors.common.problems import element_path, located, problems_error, pydantic_problems
from schemas.errors import Problem, ValidationError

fhir_core_checks.install()  # before any model class is built: hubnet reaches them all through here

_VALID_CACHE_SIZE = 8192
_ELEMENT_CACHE_SIZE = 16384
_valid: OrderedDict[tuple[str, bytes], None] = OrderedDict()
_elements: OrderedDict[tuple[type[pydantic.BaseModel], bytes], pydantic.BaseModel] = OrderedDict()
_ANY_RESOURCE = ("Resource", "DomainResource")  # `contained`, `Bundle.entry.resource`: left whole


def _seen_valid(release: str, resource: dict[str, Any]) -> tuple[bool, tuple[str, bytes] | None]:
    """Identical resources recur (the same Patient in every event of a record, a charity's
    Organization in every activity); validating their exact bytes once halves connector CPU.
    Unserialisable content (never valid FHIR JSON anyway) simply skips the cache."""
    try:
        key = (release, orjson.dumps(resource, option=orjson.OPT_SORT_KEYS))
    except TypeError:
        return False, None
    if key in _valid:
        _valid.move_to_end(key)
        return True, key
    return False, key


def clear_validation_cache() -> None:
    """Forget what was validated; benchmarks call it so repeated inputs are not measured as free."""
    _valid.clear()
    _elements.clear()


def _remember_valid(key: tuple[str, bytes] | None) -> None:
    if key is None:
        return
    _valid[key] = None
    if len(_valid) > _VALID_CACHE_SIZE:
        _valid.popitem(last=False)


@cache
def _complex_elements(model: type[pydantic.BaseModel]) -> dict[str, tuple[type[pydantic.BaseModel], bool]]:
    """JSON name -> (element model, repeats?) of the model's complex-typed elements, read from
    the fhir.resources field annotations (`List[abc.HumanNameType] | None`). Anything else (primitives,
    `Resource`-typed elements, primitive-extension lists with null placeholders) is not listed, so
    it is validated with its parent as before."""
    found: dict[str, tuple[type[pydantic.BaseModel], bool]] = {}
    for name, field in model.model_fields.items():
        for option in typing.get_args(field.annotation) or (field.annotation,):
            repeats = typing.get_origin(option) is list
            kind = typing.get_args(option)[0] if repeats else option
            get_model = getattr(kind, "get_model_klass", None)
            if get_model is None:
                continue
            element = get_model()
            if element.__resource_type__ not in _ANY_RESOURCE:
                found[field.alias or name] = (element, repeats)
            break
    return found


def _with_validated_parts(model: type[pydantic.BaseModel], data: dict[str, Any]) -> dict[str, Any]:
    """A shallow copy of `data` whose complex elements are validated model instances. A list
    holding anything but objects (a null, a string) stays as sent, for the parent to reject."""
    elements = _complex_elements(model)
    parts = dict(data)
    for name, value in data.items():
        spec = elements.get(name)
        if spec is None:
            continue
        element, repeats = spec
        if repeats and isinstance(value, list) and all(isinstance(item, dict) for item in value):
            parts[name] = [_validated(element, item) for item in value]
        elif not repeats and isinstance(value, dict):
            parts[name] = _validated(element, value)
    return parts


def _validated(model: type[pydantic.BaseModel], value: dict[str, Any]) -> pydantic.BaseModel:
    """The model instance of one complex element, validated on first sight only (FIFO-bounded)."""
    key = (model, orjson.dumps(value, option=orjson.OPT_SORT_KEYS))
    found = _elements.get(key)
    if found is None:
        found = model(**_with_validated_parts(model, value))
        _elements[key] = found
        if len(_elements) > _ELEMENT_CACHE_SIZE:
            _elements.popitem(last=False)  # O(1) and atomic, so threads sharing the cache are safe
    return found


def _check(model: type[pydantic.BaseModel], resource: dict[str, Any]) -> None:
    """Validate from already-validated parts; on any failure (or content orjson cannot
    serialise) validate the resource whole, so the reported error is the plain one.

    The parts go to the model's constructor: fhir.resources models have their own `__init__`
    (the resourceType check), which `model_validate` calls for a dict too, one dispatch later."""
    try:
        model(**_with_validated_parts(model, resource))
    except (pydantic.ValidationError, TypeError):
        model.model_validate(resource)


def validate_resource(
    resource: dict[str, Any], where: str | None = None, release: Literal["R4B", "STU3"] = "R4B"
) -> dict[str, Any]:
    """Check one resource against its R4B (or STU3) model; return it unchanged (processors pass
    plain dicts)."""
    seen, cache_key = _seen_valid(release, resource)
    if seen:
        return resource
    lookup = get_stu3_model_class if release == "STU3" else get_fhir_model_class
    label = "STU3" if release == "STU3" else "R4"
    resource_type = resource.get("resourceType")
    if not isinstance(resource_type, str):
        raise ValidationError("the resource has no resourceType", location=where or "resourceType")
    try:
        model = lookup(resource_type)
    except (ValueError, KeyError):
        raise ValidationError(
            f"'{resource_type}' is not a FHIR {label} resource type",
            location=located(where, f"{resource_type}.resourceType"),
        ) from None
    hint = f"see the FHIR {label} definition of each element"
    try:
        _check(model, resource)
    except pydantic.ValidationError as error:
        raise problems_error(pydantic_problems(error, resource_type, where), hint=hint) from None
    except KeyError:  # fhir_core looks a nested resource's type up in its type map
        raise problems_error(_unknown_nested_types(resource, lookup, label, where), hint=hint) from None
    check_bindings(resource, where, release)
    _remember_valid(cache_key)
    return resource


def _unknown_nested_types(
    resource: dict[str, Any], lookup: Callable[[str], Any], label: str, where: str | None
) -> list[Problem]:
    """Where a contained (or otherwise nested) resource names a type the release does not have."""
    found: list[Problem] = []

    def visit(value: Any, steps: tuple[str | int, ...]) -> None:
        if isinstance(value, list):
            for index, item in enumerate(value):
                visit(item, (*steps, index))
        elif isinstance(value, dict):
            kind = value.get("resourceType")
            if steps and isinstance(kind, str) and not _known(lookup, kind):
                path = element_path(str(resource["resourceType"]), (*steps, "resourceType"))
                found.append(Problem(located(where, path), f"this is not a FHIR {label} resource type"))
            for key, item in value.items():
                visit(item, (*steps, key))

    visit(resource, ())
    return found or [Problem(where or str(resource["resourceType"]), "a nested resource is not valid FHIR")]


def _known(lookup: Callable[[str], Any], resource_type: str) -> bool:
    try:
        lookup(resource_type)
    except (ValueError, KeyError):
        return False
    return True
