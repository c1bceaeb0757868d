"""What FHIR R4 requires of a Bundle and its entries, beyond the resources inside them.

- Unknown elements at Bundle or entry level are refused, not ignored: a record is cut out of its
  Bundle keeping only the elements FHIR defines, so an unknown one would silently vanish.
- fullUrl rules (FHIR R4 Bundle): absolute (a URL or `urn:uuid:`/`urn:oid:`), never a
  version-specific reference (bdl-8: no `/_history/`), unique in the Bundle unless the entries
  are versions of one resource (bdl-7), and when it is a RESTful URL its `Type/id` end agrees with
  the resource ("fullUrl ... SHALL agree with resource.id").
- A reference that resolves in the Bundle points at a resource of the type it names: a
  `Practitioner/x` that resolves to an Organization is refused (the FHIR validator's
  "reference type mismatch").
"""

from __future__ import annotations

import re
from typing import Any

from connectors.common.fhir_refs import BundleIndex
from connectors.common.problems import problems_error
from schemas.errors import Problem

BUNDLE_ELEMENTS = frozenset(
    {"resourceType", "id", "meta", "implicitRules", "language", "identifier", "type", "timestamp",
     "total", "link", "entry", "signature"}
)  # fmt: skip
ENTRY_ELEMENTS = frozenset(
    {"id", "extension", "modifierExtension", "link", "fullUrl", "resource", "search", "request", "response"}
)
_ABSOLUTE = re.compile(r"^([A-Za-z][A-Za-z0-9+.-]*):\S+$")
_TYPED = re.compile(r"(?:^|/)([A-Z][A-Za-z]+)/([A-Za-z0-9\-.]{1,64})$")
_DUPLICATE = "another entry has the same fullUrl (FHIR R4 bdl-7: unique unless versions differ)"
_NOT_TEXT = "a fullUrl must be a single uri string (FHIR R4 Bundle.entry.fullUrl, 0..1 uri)"
_HINT = "see FHIR R4 Bundle: the elements of Bundle and Bundle.entry, and the fullUrl rules"


def check_bundle(bundle: dict[str, Any]) -> None:
    """The Bundle's own elements and its fullUrls' uniqueness; `MappingError` for the whole input."""
    problems = [
        Problem(path=f"Bundle.{key}", reason="FHIR defines no element of this name on a Bundle")
        for key in bundle
        if key not in BUNDLE_ELEMENTS and not key.startswith("_")
    ]
    seen: dict[str, set[str]] = {}
    for position, entry in enumerate(bundle.get("entry") or []):
        full_url = entry.get("fullUrl") if isinstance(entry, dict) else None
        if not isinstance(full_url, str):
            continue
        resource = entry.get("resource")
        meta = resource.get("meta") if isinstance(resource, dict) else None
        version = str(meta.get("versionId")) if isinstance(meta, dict) else ""
        versions = seen.setdefault(full_url, set())
        if version in versions:
            problems.append(
                Problem(
                    path=f"Bundle.entry[{position}].fullUrl",
                    reason=_DUPLICATE,
                )
            )
        versions.add(version)
    _raise(problems)


def check_entry(entry: dict[str, Any], position: int) -> None:
    """One entry's elements and fullUrl; `MappingError` for that entry's record."""
    where = f"Bundle.entry[{position}]"
    problems = [
        Problem(path=f"{where}.{key}", reason="FHIR defines no element of this name on a Bundle entry")
        for key in entry
        if key not in ENTRY_ELEMENTS and not key.startswith("_")
    ]
    full_url = entry.get("fullUrl")
    resource = entry.get("resource")
    if full_url is not None and not isinstance(full_url, str):
        problems.append(Problem(path=f"{where}.fullUrl", reason=_NOT_TEXT))
    elif isinstance(full_url, str):
        reason = _full_url_problem(full_url, resource if isinstance(resource, dict) else None)
        if reason:
            problems.append(Problem(path=f"{where}.fullUrl", reason=reason))
    _raise(problems)


def _full_url_problem(full_url: str, resource: dict[str, Any] | None) -> str | None:
    scheme = _ABSOLUTE.match(full_url)
    if scheme is None:
        return "a fullUrl must be absolute: the resource's URL, or urn:uuid:/urn:oid: (FHIR R4 Bundle)"
    if "/_history/" in full_url:
        return "a fullUrl must not name a version (FHIR R4 bdl-8: no /_history/)"
    typed = _TYPED.search(full_url) if scheme.group(1).lower() in ("http", "https") else None
    named = (typed.group(1), typed.group(2)) if typed else None
    own = (resource.get("resourceType"), resource.get("id")) if resource is not None else None
    if named and own and own[1] is not None and named != own:
        return "the fullUrl's Type/id does not agree with the resource's type and id (FHIR R4 Bundle)"
    return None


def check_reference_targets(
    resource: dict[str, Any], index: BundleIndex, entries: list[dict[str, Any]], root: str
) -> None:
    """Every reference of `resource` that resolves in the Bundle names the target's own type."""
    if not _mismatched(resource, (index, entries)):
        return  # the usual case: no paths built
    problems: list[Problem] = []
    _targets(resource, root, (index, entries), problems)
    _raise(problems)


def _mismatched(value: Any, bundle: _Bundle) -> bool:
    if isinstance(value, dict):
        if isinstance(value.get("reference"), str):
            found: list[Problem] = []
            _target(value, "", bundle, found)
            if found:
                return True
        return any(_mismatched(item, bundle) for key, item in value.items() if key != "contained")
    if isinstance(value, list):
        return any(_mismatched(item, bundle) for item in value)
    return False


_Bundle = tuple[BundleIndex, list[dict[str, Any]]]


def _targets(value: Any, path: str, bundle: _Bundle, problems: list[Problem]) -> None:
    if isinstance(value, dict):
        text = value.get("reference")
        if isinstance(text, str):
            _target(value, path, bundle, problems)
        for key, item in value.items():
            if key != "contained":
                _targets(item, f"{path}.{key}", bundle, problems)
    elif isinstance(value, list):
        for position, item in enumerate(value):
            _targets(item, f"{path}[{position}]", bundle, problems)


def _target(reference: dict[str, Any], path: str, bundle: _Bundle, problems: list[Problem]) -> None:
    index, entries = bundle
    text = str(reference["reference"])
    found = index.resolve(text)
    if found is None:
        return
    target = entries[found].get("resource")
    actual = target.get("resourceType") if isinstance(target, dict) else None
    named = _TYPED.search(text)
    claimed = {t for t in (named.group(1) if named else None, reference.get("type")) if isinstance(t, str)}
    if actual and claimed and claimed != {actual}:
        problems.append(
            Problem(
                path=f"{path}.reference",
                reason=f"the reference names a {'/'.join(sorted(claimed))} but resolves to a {actual} "
                "in this Bundle (reference type mismatch)",
            )
        )


def _raise(problems: list[Problem]) -> None:
    if problems:
        raise problems_error(problems, hint=_HINT)
