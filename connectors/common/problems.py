"""Problems a partner can act on: one path notation, plain reasons, every problem of a record.

Every connector's rejections name places the same way: a FHIR-style element path with zero-based
list positions in brackets (`Patient.identifier[0].value`, `Bundle.entry[3].resource.birthDate`).
The validation libraries speak their own language (pydantic's `identifier.0.value`, fhir_core's
"does not match spec regex" when the cause is a missing time zone, `<class 'list'>`, regexes with
raw newlines in them); `plain_reason` turns each of their error kinds into words a partner's
developer can act on, and never echoes the value (reasons travel to logs and ops pages).

A record is told all that is wrong with it at once, so it is fixed in one round trip: up to
`MAX_LISTED` problems are spelt out, then how many more there are.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any, ParamSpec, TypeVar

import pydantic

from schemas.errors import MappingError, OwnershipError, Problem, ValidationError

P = ParamSpec("P")
T = TypeVar("T")

MAX_LISTED = 10
"""Problems spelt out in one reason; the rest are counted."""
MAX_KEPT = 100
"""Problems kept on an error (with their paths) for callers that list them; a resource with
thousands of broken elements must not make every copy of its rejection that large."""

_FHIR_PATH = re.compile(r"^[A-Z][A-Za-z]*(\.[A-Za-z_][A-Za-z0-9_]*(\[\d+\])?)+$")
_SKIPPED_STEPS = frozenset({"__root__", "root"})  # pydantic/fhir_core steps that name no element
_TYPE_NAMES = {
    "list": "a list",
    "dict": "an object",
    "str": "text",
    "int": "a number",
    "float": "a number",
    "bool": "true/false",
}
_PATTERN_REASONS = {
    # fhir_core's patterns for FHIR primitive types (fhir_core/types.py), printed raw by pydantic
    "[ \r\n\t\\S]+": "the text is empty; FHIR does not allow empty strings (leave the element out instead)",
    "^[^\\s]+(\\s[^\\s]+)*$": (
        "a code must not be empty, nor start or end with spaces, nor hold two spaces in a row"
    ),
    "^[A-Za-z0-9\\-.]+$": "an id may hold only letters, digits, '-' and '.', 1 to 64 of them",
}
_TIME_FORMATS = {
    "Date": "a date must be YYYY, YYYY-MM or YYYY-MM-DD, with no time",
    "DateTime": "a date-time must be YYYY, YYYY-MM, YYYY-MM-DD or YYYY-MM-DDThh:mm:ss with a time zone",
    "Instant": "an instant must be YYYY-MM-DDThh:mm:ss with a time zone (Z or +hh:mm)",
    "Time": "a time must be hh:mm:ss",
}
_HAS_TIME = re.compile(r"T\d{2}:\d{2}")
_HAS_ZONE = re.compile(r"(Z|[+-]\d{2}:\d{2})$")


def element_path(root: str, steps: Iterable[str | int]) -> str:
    """`Patient` + ("identifier", 0, "value") -> `Patient.identifier[0].value`."""
    path = root
    for step in steps:
        if isinstance(step, int):
            path += f"[{step}]"
        elif step not in _SKIPPED_STEPS:
            path = f"{path}.{step}" if path else str(step)
    return path


def located(where: str | None, path: str) -> str:
    """A resource's element path placed inside the input it came from.

    `where` a FHIR path to the resource (`Bundle.entry[3].resource`): the two join into one FHIRPath
    that still names the resource's type (`Bundle.entry[3].resource.ofType(Patient).birthDate`);
    any other place (an HL7 segment, a CSV line) stays in front: `line 4: Patient.birthDate`."""
    if not where:
        return path
    if _FHIR_PATH.match(where):
        resource_type, _, rest = path.partition(".")
        joined = f"{where}.ofType({resource_type})"
        return f"{joined}.{rest}" if rest else joined
    return f"{where}: {path}"


def plain_reason(error: Mapping[str, Any]) -> str:
    """One pydantic / fhir_core error in a partner's words, without the offending value."""
    kind = str(error.get("type", ""))
    message = str(error.get("msg", "invalid value"))
    special = _SPECIAL.get(kind)
    if special is not None:
        return special(message, error.get("ctx") or {}, error.get("input"))
    if kind in _FIXED:
        return _FIXED[kind]
    for prefix, reason in _BY_PREFIX:
        if kind.startswith(prefix):
            return reason
    return _without_library_wording(message)


def _wrong_shape(message: str, context: Mapping[str, Any], _value: Any) -> str:
    """fhir_core's "expected from the instance of X, but got type <class 'list'>"."""
    if "type" not in context:
        return _without_library_wording(message)
    got = re.sub(r"^<class '(\w+)'>$", r"\1", str(context.get("type")))
    expected = context.get("model_class", "object")
    return f"expected one {expected} object here, but got {_TYPE_NAMES.get(got, got)}"


def _list_reason(message: str, _context: Mapping[str, Any], _value: Any) -> str:
    if message.startswith("None is not allowed"):
        return "the list holds a null; remove it"
    return "expected a list (a JSON array [...]) here"


def _pattern_reason(_message: str, context: Mapping[str, Any], _value: Any) -> str:
    return _PATTERN_REASONS.get(
        str(context.get("pattern")), "the text does not have the form FHIR requires for this element"
    )


def _too_long(_message: str, context: Mapping[str, Any], _value: Any) -> str:
    return f"the text is longer than the {context.get('max_length')} characters FHIR allows here"


def _value_reason(message: str, _context: Mapping[str, Any], value: Any) -> str:
    """fhir_core's checks: choice groups, and primitive types (a missing time zone said as such)."""
    message = message.removeprefix("Value error, ")
    if "but got multiple" in message or message.startswith("Expect any of field value"):
        return _choice_reason(message)
    kind = message.split(" value", 1)[0]
    if "timezone aware" in message or (
        kind in ("DateTime", "Instant")
        and isinstance(value, str)
        and _HAS_TIME.search(value)
        and not _HAS_ZONE.search(value)
    ):
        return "a date-time with a time must have a time zone (Z or +hh:mm)"
    if kind == "Date" and isinstance(value, str) and "T" in value:
        return "a date must not hold a time; send YYYY-MM-DD (or use a dateTime element)"
    if message.endswith("does not match spec regex.") and kind in _TIME_FORMATS:
        return f"not a real {kind[0].lower() + kind[1:]}: {_TIME_FORMATS[kind]}"
    if kind == "Decimal":
        return "expected a decimal number here"
    return _without_library_wording(message)


def _bound(_message: str, context: Mapping[str, Any], _value: Any) -> str:
    """pydantic's number limits (`ge`, `le`, `gt`, `lt`) as a sentence."""
    words = {"ge": "at least", "le": "at most", "gt": "more than", "lt": "less than"}
    said = [f"{words[key]} {context[key]}" for key in words if key in context]
    return f"the number must be {' and '.join(said) or 'within its allowed range'}"


def _one_of(_message: str, context: Mapping[str, Any], _value: Any) -> str:
    expected = context.get("expected")
    return f"not one of the allowed values ({expected})" if expected else "not one of the allowed values"


def _choice_reason(message: str) -> str:
    if "but got multiple" in message:
        return "only one of the choice elements (such as value[x]) may be given, but several were"
    return "one of the choice elements (such as value[x]) is required, but none was given"


_SPECIAL: dict[str, Callable[[str, Mapping[str, Any], Any], str]] = {
    "model_validation_format": _wrong_shape,
    "list_type": _list_reason,
    "string_pattern_mismatch": _pattern_reason,
    "string_too_long": _too_long,
    "value_error": _value_reason,
    "greater_than_equal": _bound,
    "less_than_equal": _bound,
    "greater_than": _bound,
    "less_than": _bound,
    "literal_error": _one_of,
    "enum": _one_of,
}
_OBJECT = "expected an object ({...}) here"
_FIXED = {
    "missing": "a required element is missing",
    "model_field_validation.missing": "a required element is missing",
    "extra_forbidden": "FHIR defines no element of this name here (check its spelling and case)",
    "dict_type": _OBJECT,
    "model_type": _OBJECT,
    "model_attributes_type": _OBJECT,
    "json_invalid": _OBJECT,
}
_BY_PREFIX = (
    ("string_", "expected text (a JSON string) here"),
    ("str_", "expected text (a JSON string) here"),
    ("int_", "expected a number here"),
    ("float_", "expected a number here"),
    ("decimal_", "expected a number here"),
    ("bool_", "expected true or false here"),
)


def _without_library_wording(message: str) -> str:
    """Last resort for an error kind not translated above: no Python class names, no raw regex."""
    message = re.sub(r"<class '(\w+)'>", lambda m: _TYPE_NAMES.get(m.group(1), m.group(1)), message)
    message = re.sub(r"(should match )?pattern '.*'", "should have the FHIR form", message, flags=re.S)
    return message.replace("\n", " ").strip() or "invalid value"


def pydantic_problems(error: pydantic.ValidationError, root: str, where: str | None = None) -> list[Problem]:
    """Every problem pydantic found, each at its element path from `root` (placed in `where`)."""
    return [
        Problem(path=located(where, element_path(root, item["loc"])), reason=plain_reason(item))
        for item in error.errors()
    ]


def problems_reason(problems: Sequence[Problem], limit: int = MAX_LISTED, total: int | None = None) -> str:
    """One problem as its reason; several as a count and each `path: reason`, up to `limit`.
    `total`: how many there were when only the first of them were kept."""
    count = max(total or 0, len(problems))
    if count == 1:
        return problems[0].reason
    shown = "; ".join(f"{p.path}: {p.reason}" for p in problems[:limit])
    hidden = count - min(limit, len(problems))
    more = f"; and {hidden} more not listed" if hidden > 0 else ""
    return f"{count} problems: {shown}{more}"


def common_path(paths: Sequence[str]) -> str:
    """The deepest place every path lies under (`Patient` for `Patient.name`, `Patient.gender`;
    `line 4` for `line 4, column dob`, `line 4, column sex`)."""
    first = paths[0]
    prefix = first
    for path in paths[1:]:
        while prefix and not (
            path == prefix or path.startswith((f"{prefix}.", f"{prefix}[", f"{prefix}:", f"{prefix},"))
        ):
            cut = max(prefix.rfind("."), prefix.rfind("["), prefix.rfind(": "), prefix.rfind(", "))
            prefix = prefix[:cut] if cut > 0 else ""
    return prefix


def problems_error(
    problems: Sequence[Problem], hint: str | None = None, total: int | None = None
) -> ValidationError:
    """One `ValidationError` for all of a record's problems: located at the one problem's path,
    or at the place all of them share, with every problem kept on the error (up to `MAX_KEPT`)."""
    location = problems[0].path if len(problems) == 1 else common_path([p.path for p in problems])
    return ValidationError(
        problems_reason(problems, total=total), location=location or None, hint=hint,
        problems=problems[:MAX_KEPT], count=max(total or 0, len(problems)),
    )  # fmt: skip


class Findings:
    """Every problem of one record, gathered while it is read, so the partner fixes them all at once.

    A mapping reads each independent part of a record (a CSV cell, an HL7 field or segment) through
    `take`: a part that raises `MappingError` is noted and read as None, and the mapping goes on to
    the next part (one that needs a failed part skips its own check, so no problem is reported twice
    or from a value that was never read). `check` then raises one error for all of them: the one
    error itself when there was one (its reason and hint unchanged), else `problems_error` with each
    problem's hint kept beside its reason. An `OwnershipError` is never gathered: it is a refusal.

    Reading stops at the `MAX_KEPT`th problem (`note` raises then): a 10 MiB message of bad segments
    would otherwise be read to its end for problems nobody is shown (750,000 OBX took 2 minutes and
    1.6 GB to list, against 10 s to refuse at the first).
    """

    def __init__(self) -> None:
        self.problems: list[Problem] = []
        """The first `MAX_KEPT` problems; `count` says how many there were (a message of a
        hundred thousand bad segments keeps no more than any other)."""
        self.count = 0
        self._first: MappingError | None = None
        self._seen: set[Problem] = set()

    def take(self, read: Callable[P, T], /, *args: P.args, **kwargs: P.kwargs) -> T | None:
        """`read(*args, **kwargs)`, or None with its problem noted."""
        try:
            return read(*args, **kwargs)
        except OwnershipError:
            raise
        except MappingError as error:
            self.note(error)
            return None

    def note(self, error: MappingError) -> None:
        """Keep `error`'s problems (each with its own path), or the error as one problem."""
        found = error.problems or (Problem(path=error.location or "", reason=_with_hint(error)),)
        seen = self._seen
        new = [p for p in found if p not in seen]  # one field read by two checks is one problem
        if not new:
            return
        self._first = self._first or error
        self._seen.update(new)
        self.problems.extend(new[: MAX_KEPT - len(self.problems)])
        self.count += error.count - (len(found) - len(new))
        if self.count >= MAX_KEPT:
            raise problems_error(self.problems, hint=_STOPPED, total=self.count)

    def check(self) -> None:
        """Raise for every problem noted so far; nothing when there was none."""
        if self._first is None:
            return
        if self.count == self._first.count:
            raise self._first
        raise problems_error(self.problems, total=self.count)


_STOPPED = (
    f"hubnet stops reading a record at its {MAX_KEPT}th problem: fix these and send it again to see "
    "any others"
)


def _with_hint(error: MappingError) -> str:
    return f"{error.reason} ({error.hint})" if error.hint else error.reason
