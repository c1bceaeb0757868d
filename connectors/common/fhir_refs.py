"""References between resources: find them, resolve them inside a Bundle, point them at hub ids.

A hub event carries resources under deterministic UUIDs (`schemas.envelope.resource_id`), so a
partner's `Patient/123` becomes the same `urn:uuid:...` in every event that mentions it, and
references keep resolving across events in the timeline store.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable, Iterator
from typing import Any

import orjson

from schemas.envelope import resource_id

_RELATIVE = re.compile(r"^[A-Z][A-Za-z]+/[A-Za-z0-9\-.]{1,64}$")


def iter_references(value: Any) -> Iterator[str]:
    """Every `Reference.reference` string inside a resource (not inside contained resources,
    whose `#id` references are local to their container)."""
    if isinstance(value, dict):
        for key, item in value.items():
            if key == "reference" and isinstance(item, str):
                yield item
            elif key != "contained":
                yield from iter_references(item)
    elif isinstance(value, list):
        for item in value:
            yield from iter_references(item)


def full_url_of(entry: dict[str, Any]) -> str | None:
    """The entry's fullUrl when it has the shape FHIR gives it (one JSON string, a `uri`), else
    None: JSON does not guarantee the shape, and a list or number names no entry. The fhir
    connector rejects such an entry with its path (`bundle_rules.check_entry`); elsewhere the
    resource is named by its id, identifier or content instead."""
    full_url = entry.get("fullUrl")
    return full_url if isinstance(full_url, str) else None


def logical_key(resource: dict[str, Any], full_url: str | None = None) -> str:
    """The partner's own name for a resource, which is its record id in the hub: `Type/id`; else
    its first business identifier (`Type?identifier=system|value`, FHIR's conditional reference
    form); else a server URL fullUrl; else a digest of its canonical content. Never the bare type:
    three id-less Immunizations are three records (issue #19). A `urn:uuid:` fullUrl is a
    placeholder local to one message (FHIR R4 Bundle, "Resolving references in Bundles"), so it
    does not name the record across sends; the content digest does, a resend included."""
    resource_type = str(resource.get("resourceType"))
    if resource.get("id"):
        return f"{resource_type}/{resource['id']}"
    identifier = business_identifier(resource)
    if identifier is not None:
        return f"{resource_type}?identifier={identifier}"
    if full_url and not full_url.startswith("urn:"):
        return full_url
    return f"{resource_type}/sha256-{content_digest(resource)}"


def business_identifier(resource: dict[str, Any]) -> str | None:
    """`system|value` of the resource's first identifier that has both, or None."""
    identifiers = resource.get("identifier")
    for item in identifiers if isinstance(identifiers, list) else [identifiers]:
        if isinstance(item, dict):
            system, value = item.get("system"), item.get("value")
            if isinstance(system, str) and system and isinstance(value, str) and value.strip():
                return f"{system}|{value.strip()}"
    return None


def content_digest(resource: dict[str, Any]) -> str:
    """The first 24 hex digits of the SHA-256 of the resource's canonical JSON (sorted keys)."""
    try:
        canonical = orjson.dumps(resource, option=orjson.OPT_SORT_KEYS)
    except TypeError:  # content JSON cannot hold: validation refuses it later; name it all the same
        canonical = repr(sorted(resource.items(), key=lambda item: str(item[0]))).encode()
    return hashlib.sha256(canonical).hexdigest()[:24]


def hub_resource_id(source_system: str, key: str) -> str:
    """Deterministic UUID of a partner resource in hub events (same input -> same id)."""
    return resource_id(source_system, key)


class BundleIndex:
    """Resolves references among a Bundle's entries, by fullUrl or by `Type/id` (FHIR's rules for
    resolving references in Bundles: exact fullUrl first, then a relative reference)."""

    def __init__(self, entries: list[dict[str, Any]]) -> None:
        self._by_url: dict[str, int] = {}
        for position, entry in enumerate(entries):
            resource = entry.get("resource")
            if not isinstance(resource, dict):
                continue
            full_url = full_url_of(entry)
            if full_url is not None:
                self._by_url[full_url] = position
                tail = "/".join(full_url.rstrip("/").split("/")[-2:])
                self._by_url.setdefault(tail, position)
            if resource.get("id") and resource.get("resourceType"):
                self._by_url.setdefault(f"{resource['resourceType']}/{resource['id']}", position)

    def resolve(self, reference: str) -> int | None:
        """Position of the referenced entry, or None when it is not in the Bundle."""
        found = self._by_url.get(reference)
        if found is None and "/" in reference and not reference.startswith("urn:"):
            found = self._by_url.get("/".join(reference.split("/")[-2:]))
        return found


def rewrite_references(value: Any, targets: dict[str, str]) -> Any:
    """A copy of `value` with each reference found in `targets` replaced by its new text."""
    if isinstance(value, dict):
        out = {key: rewrite_references(item, targets) for key, item in value.items()}
        reference = value.get("reference")
        if isinstance(reference, str) and reference in targets:
            out["reference"] = targets[reference]
        return out
    if isinstance(value, list):
        return [rewrite_references(item, targets) for item in value]
    return value


def hub_targets(
    index: BundleIndex, entries: list[dict[str, Any]], source_system: str, names: Iterable[str]
) -> dict[str, str]:
    """Reference text -> hub `urn:uuid:` for each reference in `names`: entries of the Bundle by
    the partner's name for them, and relative references pointing outside it (`Patient/123`) by
    that name, so the same partner resource gets the same hub id in every event."""
    targets: dict[str, str] = {}
    for name in names:
        if name in targets:
            continue
        position = index.resolve(name)
        if position is not None:
            entry = entries[position]
            key = logical_key(entry["resource"], full_url_of(entry))
        elif _RELATIVE.match(name):
            key = name
        else:
            continue
        targets[name] = f"urn:uuid:{hub_resource_id(source_system, key)}"
    return targets
