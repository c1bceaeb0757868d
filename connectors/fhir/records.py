"""Cut a FHIR input into records: one per resource about a person, each replayable on its own.

A Bundle's entries are the records. An entry is a record when it is about a person (a Patient,
or a resource with a subject), or when nothing else in the Bundle references it (so a stray
Organization is rejected on its own, never dropped). Entries that only support others (the
Organization an Encounter names, a Medication) travel inside the records that reference them.

Each record's bytes are a Bundle of the same type holding the record's entry first (after the
MessageHeader of a message), then every entry it references directly or through others, so the
record converts alone, as `Record.raw` requires, and its references still resolve.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import orjson

from connectors.base import Record
from connectors.common.fhir_input import read_fhir
from connectors.common.fhir_refs import BundleIndex, full_url_of, iter_references, logical_key
from connectors.common.fhir_subject import subject_reference
from connectors.fhir.bundle_rules import check_bundle
from schemas.errors import MappingError

_BUNDLE_FIELDS = ("id", "meta", "identifier", "type", "timestamp")


def split_fhir(data: bytes) -> Iterator[Record]:
    """Records of one input: the input itself for a single resource, else one per record entry."""
    resource = read_fhir(data)
    if resource["resourceType"] != "Bundle":
        yield Record(raw=data, ref=logical_key(resource))
        return
    yield from split_bundle(resource)


def is_record(resource: dict[str, Any]) -> bool:
    """A resource about a person: a Patient, or anything naming a subject."""
    return resource.get("resourceType") == "Patient" or subject_reference(resource) is not None


def main_entry(bundle: dict[str, Any]) -> int | None:
    """Position of a record Bundle's own entry: the first that is not its MessageHeader in a
    message; the first entry in any other Bundle, so a MessageHeader sent inside a batch is the
    record it is (and refused as one), never mistaken for the resource it points at."""
    entries = _entries(bundle)
    if bundle.get("type") != "message":
        return 0 if entries else None
    for position, entry in enumerate(entries):
        resource = entry.get("resource")
        if not (isinstance(resource, dict) and resource.get("resourceType") == "MessageHeader"):
            return position
    return None


def split_bundle(bundle: dict[str, Any]) -> Iterator[Record]:
    entries = _entries(bundle)
    check_bundle(bundle)
    index = BundleIndex(entries)
    links = [_links(entry, index, position) for position, entry in enumerate(entries)]
    referenced = {target for targets in links for target in targets}
    header = _message_header(bundle, entries)
    if header is not None:
        links[header] = set()  # the header names the focus; it does not pull entries into records
    chosen = [p for p, entry in enumerate(entries) if p != header and _chosen(entry, p in referenced)]
    if not chosen:
        raise MappingError(
            f"the {bundle.get('type') or ''} Bundle holds no resources to record".replace("  ", " "),
            location="Bundle.entry",
            hint="a Bundle of requests only (GET, HEAD) or of search outcomes carries no patient data",
        )
    shell = {name: bundle[name] for name in _BUNDLE_FIELDS if name in bundle}
    for position in chosen:
        members = [position, *sorted(_closure(position, links) - {position, header})]
        if header is not None:
            members.insert(0, header)
        raw = orjson.dumps({"resourceType": "Bundle", **shell, "entry": [entries[p] for p in members]})
        resource = entries[position].get("resource")
        what = logical_key(resource, full_url_of(entries[position])) if isinstance(resource, dict) else ""
        yield Record(raw=raw, ref=f"entry {position}" + (f" ({what})" if what else ""))


def _entries(bundle: dict[str, Any]) -> list[dict[str, Any]]:
    entries = bundle.get("entry") or []
    if not isinstance(entries, list) or not all(isinstance(e, dict) for e in entries):
        raise MappingError(
            "Bundle.entry must be a list of entries", location="Bundle.entry", hint="see FHIR R4 Bundle"
        )
    return entries


def _message_header(bundle: dict[str, Any], entries: list[dict[str, Any]]) -> int | None:
    if bundle.get("type") != "message":
        return None
    first = entries[0].get("resource") if entries else None
    if not (isinstance(first, dict) and first.get("resourceType") == "MessageHeader"):
        raise MappingError(
            "a message Bundle must start with its MessageHeader",
            location="Bundle.entry[0].resource",
            hint="put the MessageHeader first, as FHIR messaging requires",
        )
    return 0


def _chosen(entry: dict[str, Any], referenced: bool) -> bool:
    resource = entry.get("resource")
    if (entry.get("search") or {}).get("mode") == "outcome":
        return False  # a search's own OperationOutcome, not a result
    if resource is None:
        return (entry.get("request") or {}).get("method") == "DELETE"
    if not isinstance(resource, dict):
        return True  # malformed: rejected on its own
    return is_record(resource) or not referenced


def _links(entry: dict[str, Any], index: BundleIndex, position: int) -> set[int]:
    resource = entry.get("resource")
    if not isinstance(resource, dict):
        return set()
    found = {index.resolve(reference) for reference in iter_references(resource)}
    return {target for target in found if target is not None and target != position}


def _closure(start: int, links: list[set[int]]) -> set[int]:
    seen = {start}
    todo = [start]
    while todo:
        for target in links[todo.pop()]:
            if target not in seen:
                seen.add(target)
                todo.append(target)
    return seen
