"""Validate FHIR R4 resources once, at the edge, with the fhir.resources R4B models.

UK Core is an R4 profile set; R4B's models are the closest the library ships. Inputs in an older
release (NHS event messages are STU3) are checked against that release's models before mapping. Errors become
`ValidationError`s that name the FHIR path (`Patient.birthDate`) and never echo the value, because
reasons travel to logs and ops pages where personal data must not appear.
"""

from __future__ import annotations

from collections import OrderedDict
from typing import Any, Literal

import orjson
import pydantic
from fhir.resources.R4B import get_fhir_model_class
from fhir.resources.STU3 import get_fhir_model_class as get_stu3_model_class

from schemas.errors import ValidationError

_VALID_CACHE_SIZE = 8192
_valid: OrderedDict[tuple[str, bytes], None] = OrderedDict()


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


def _remember_valid(key: tuple[str, bytes] | None) -> None:
    if key is None:
        return
    _valid[key] = None
    if len(_valid) > _VALID_CACHE_SIZE:
        _valid.popitem(last=False)


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
    prefix = f"{where}." if where else ""
    if not isinstance(resource_type, str):
        raise ValidationError("the resource has no resourceType", location=where or "resourceType")
    try:
        model = lookup(resource_type)
    except (ValueError, KeyError):
        raise ValidationError(
            f"'{resource_type}' is not a FHIR {label} resource type", location=f"{prefix}resourceType"
        ) from None
    try:
        model.model_validate(resource)
    except pydantic.ValidationError as error:
        first = error.errors()[0]
        path = ".".join(str(p) for p in (resource_type, *first["loc"]) if p != "__root__")
        count = error.error_count()
        more = f" (and {count - 1} more problem{'s' if count > 2 else ''})" if count > 1 else ""
        raise ValidationError(
            f"{_plain(first)}{more}",
            location=f"{where}: {path}" if where else path,
            hint=f"see the FHIR {label} definition of this element",
        ) from None
    _remember_valid(cache_key)
    return resource


def _plain(error: Any) -> str:
    """pydantic's message without the offending value, in partner-facing words."""
    kind = error.get("type", "")
    if kind == "missing":
        return "a required element is missing"
    if kind == "extra_forbidden":
        return "this element is not part of the resource"
    if "but got multiple" in str(error.get("msg", "")):
        return "only one of the choice elements (such as value[x]) may be given, but several were"
    message = str(error.get("msg", "invalid value"))
    return message.removeprefix("Value error, ")
