"""FHIR invariants the models do not enforce, checked on what partners send (fhir, nems, ndjson).

fhir.resources checks types and cardinality; the FHIR validator also checks the invariants every
element and some data types carry. These are the ones hubnet enforces, each named by its FHIR R4
key so a partner can look it up:

- ele-1 "All FHIR elements must have a @value or children": no `{}`, no `[]`, no `null`, and a
  resource must say something beyond its id and metadata (`{"resourceType": "Patient", "id": "p2"}`
  registers no one);
- ext-1 "Must have either extensions or value[x], not both", and `Extension.url` absolute (FHIR R4
  Extension: "the url SHALL be an absolute URL"; a sub-extension of a complex extension is named
  by a relative url such as `latitude`, which FHIR allows);
- per-1 "If present, start SHALL have a lower value than end" (every Period: `period`, `*Period`);
- ras-2 "Must be <= 100" (RiskAssessment.prediction.probability as a percentage, and 0 or more).

Pure functions over the JSON form; each returns every problem at its element path (the shared
notation of connectors/common/problems.py). One walk of the resource, no model lookups.
"""

from __future__ import annotations

import re
from typing import Any

from connectors.common.fhir_time import parse_fhir_datetime
from connectors.common.problems import element_path, located, problems_error
from schemas.errors import Problem

_METADATA = frozenset({"resourceType", "id", "meta", "implicitRules", "language", "text", "contained"})
_ABSOLUTE = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*:\S+$")
_EXTENSION_KEYS = ("extension", "modifierExtension")
Steps = tuple[str | int, ...]


def check_invariants(resource: dict[str, Any], where: str | None = None) -> None:
    """Raise `ValidationError` listing every invariant the resource breaks."""
    found = invariant_problems(resource)
    if found:
        root = str(resource.get("resourceType"))
        problems = [
            Problem(path=located(where, element_path(root, steps)), reason=why) for steps, why in found
        ]
        raise problems_error(problems, hint="see the FHIR R4 invariant named in each reason")


def invariant_problems(resource: dict[str, Any]) -> list[tuple[Steps, str]]:
    """(steps from the resource, reason) of each broken invariant."""
    found: list[tuple[Steps, str]] = []
    if not any(key not in _METADATA for key in resource):
        found.append(((), _EMPTY_RESOURCE))
    if not _fine(resource, is_extension=False):  # almost every resource is: no paths built then
        _walk(resource, (), found)
    if resource.get("resourceType") == "RiskAssessment":
        _probabilities(resource, found)
    return found


def _fine(value: Any, is_extension: bool) -> bool:
    """The walk below as a yes/no answer, building no paths: False when it may find something."""
    if type(value) is list:
        return bool(value) and all(item is not None and _fine(item, False) for item in value)
    if type(value) is not dict:
        return True
    return bool(value) and all(_element_fine(key, item, is_extension) for key, item in value.items())


def _element_fine(key: str, item: Any, in_extension: bool) -> bool:
    if item is None:
        return False
    if key in _EXTENSION_KEYS and type(item) is list:
        extensions_fine = all(type(x) is not dict or _extension_fine(x, in_extension) for x in item)
        return extensions_fine and bool(item) and all(x is not None and _fine(x, True) for x in item)
    if (key == "period" or key.endswith("Period")) and type(item) is dict:
        start, end = item.get("start"), item.get("end")
        if isinstance(start, str) and isinstance(end, str) and _later(start, end):
            return False
    return _fine(item, False)


def _extension_fine(extension: dict[str, Any], nested: bool) -> bool:
    url = extension.get("url")
    if isinstance(url, str) and not nested and not _ABSOLUTE.match(url):
        return False
    return not (extension.get("extension") and any(key.startswith("value") for key in extension))


def _walk(value: Any, steps: Steps, found: list[tuple[Steps, str]]) -> None:
    if isinstance(value, dict):
        if not value and steps:
            found.append((steps, "the element is empty (FHIR R4 ele-1: an element has a value or children)"))
        for key, item in value.items():
            here = (*steps, key)
            if item is None:
                found.append((here, "the element is null (FHIR R4 ele-1: leave it out instead)"))
                continue
            if key in _EXTENSION_KEYS and isinstance(item, list):
                nested = len(steps) >= 2 and steps[-2] in _EXTENSION_KEYS and isinstance(steps[-1], int)
                for position, extension in enumerate(item):
                    _extension(extension, (*here, position), found, nested)
            if (key == "period" or key.endswith("Period")) and isinstance(item, dict):
                _period(item, here, found)
            _walk(item, here, found)
    elif isinstance(value, list):
        if not value:
            found.append((steps, "the list is empty (FHIR R4 ele-1: leave the element out instead)"))
        for position, item in enumerate(value):
            if item is None:
                found.append(((*steps, position), "the list holds a null (FHIR R4 ele-1)"))
            else:
                _walk(item, (*steps, position), found)


def _extension(extension: Any, steps: Steps, found: list[tuple[Steps, str]], nested: bool) -> None:
    """ext-1, and an absolute url; a complex extension names its parts by relative urls
    (`latitude` inside geolocation), which FHIR allows (`nested`)."""
    if not isinstance(extension, dict):
        return
    url = extension.get("url")
    if isinstance(url, str) and not nested and not _ABSOLUTE.match(url):
        found.append(((*steps, "url"), "an extension's url must be an absolute URL (FHIR R4 Extension.url)"))
    has_value = any(key.startswith("value") for key in extension)
    if has_value and extension.get("extension"):
        found.append((steps, "an extension has either a value[x] or extensions, not both (FHIR R4 ext-1)"))


def _period(period: dict[str, Any], steps: Steps, found: list[tuple[Steps, str]]) -> None:
    start, end = period.get("start"), period.get("end")
    if isinstance(start, str) and isinstance(end, str) and _later(start, end):
        found.append((steps, "the period starts after it ends (FHIR R4 per-1: start SHALL be before end)"))


def _later(start: str, end: str) -> bool:
    """Whether `start` is after `end`, comparing only the precision both state (a partial date
    `2024` covers all of that year, so it is never before `2024-05-01`)."""
    if "T" in start and "T" in end:
        begins, ends = parse_fhir_datetime(start), parse_fhir_datetime(end)
        if begins is not None and ends is not None:
            return begins > ends
    common = min(len(start), len(end), 10)
    return start[:common] > end[:common]


def _probabilities(resource: dict[str, Any], found: list[tuple[Steps, str]]) -> None:
    for position, prediction in enumerate(resource.get("prediction") or []):
        if not isinstance(prediction, dict):
            continue
        here: Steps = ("prediction", position)
        value = prediction.get("probabilityDecimal")
        if isinstance(value, int | float) and not 0 <= value <= 100:
            found.append(((*here, "probabilityDecimal"), _PERCENT))
        span = prediction.get("probabilityRange")
        for bound in ("low", "high"):
            limit = span.get(bound) if isinstance(span, dict) else None
            number = limit.get("value") if isinstance(limit, dict) else None
            if isinstance(number, int | float) and not 0 <= number <= 100:
                found.append(((*here, "probabilityRange", bound, "value"), _PERCENT))


_EMPTY_RESOURCE = "the resource holds nothing but its id and metadata (FHIR R4 ele-1: no empty elements)"
_PERCENT = "a probability is a percentage from 0 to 100 (FHIR R4 ras-2: must be <= 100)"
