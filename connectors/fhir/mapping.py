"""One FHIR R4 record to one hub event: validate, find the person, give resources hub ids.

A record is one resource (or a record Bundle cut by `records.split_bundle`, whose first entry
after any MessageHeader is the record). The event carries that resource plus the supporting
resources it references directly (an Organization, a Medication), each validated once with the
R4B models. Resources get deterministic UUIDs derived from the partner's own `Type/id`, and
references are rewritten to them, so `Patient/123` is the same `urn:uuid:` in every event.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from typing import Any

import orjson

from connectors.base import Record, SourceContext
from connectors.common.fhir_classify import event_type_of, occurred_at, reject_unrecordable
from connectors.common.fhir_input import read_fhir
from connectors.common.fhir_invariants import check_invariants
from connectors.common.fhir_refs import BundleIndex, full_url_of, hub_targets, iter_references, logical_key
from connectors.common.fhir_sensitivity import label, sensitivity_of
from connectors.common.fhir_subject import as_hub_resource, resolve_subject
from connectors.common.fhir_time import meta_version, parse_fhir_datetime, utc_stamp
from connectors.common.fhir_validation import validate_resource
from connectors.fhir.bundle_rules import check_entry, check_reference_targets
from connectors.fhir.records import is_record, main_entry
from schemas.envelope import Entry, HubEvent, Identifier
from schemas.errors import MappingError
from schemas.event_types import EventType
from schemas.identifiers import local_system


@dataclass
class RecordInput:
    """A record as read back from its bytes: its resource and the entries around it."""

    resource: dict[str, Any] | None
    full_url: str | None = None
    request: dict[str, Any] = field(default_factory=dict)
    entries: list[dict[str, Any]] = field(default_factory=list)
    timestamp: str | None = None
    index: BundleIndex = field(default_factory=lambda: BundleIndex([]))

    def lookup(self, reference: str) -> dict[str, Any] | None:
        position = self.index.resolve(reference)
        return self.entries[position].get("resource") if position is not None else None


def read_record(data: bytes) -> RecordInput:
    resource = read_fhir(data)
    if resource["resourceType"] != "Bundle":
        return RecordInput(resource=resource)
    entries = resource.get("entry") or []
    position = main_entry(resource)
    if position is None:
        raise MappingError("the Bundle holds no entry to record", location="Bundle.entry")
    entry = entries[position]
    check_entry(entry, position)
    return RecordInput(
        resource=entry.get("resource"),
        full_url=full_url_of(entry),
        request=entry.get("request") or {},
        entries=entries,
        timestamp=resource.get("timestamp"),
        index=BundleIndex(entries),
    )


def map_fhir_record(record: Record, ctx: SourceContext) -> list[HubEvent]:
    """Pure: the hub event of one record, or `MappingError` with where and why."""
    found = read_record(record.raw)
    source_system = local_system(ctx.partner, "fhir")
    if found.resource is None:
        return [_deleted(found, source_system, ctx)]
    main = found.resource
    if not isinstance(main, dict):
        raise MappingError("the entry's resource is not a FHIR resource", location="Bundle.entry.resource")
    reject_unrecordable(main)
    check_invariants(main)
    validate_resource(main)
    check_reference_targets(main, found.index, found.entries, str(main.get("resourceType")))
    server_names = not (found.full_url or "").startswith("urn:")
    subjects, patient = resolve_subject(main, found.lookup, ctx.partner, found.full_url, server_names)
    key = logical_key(main, found.full_url)
    supporting = _supporting(found, main)
    names = [name for resource in (main, *(r for r, _ in supporting)) for name in iter_references(resource)]
    targets = hub_targets(found.index, found.entries, source_system, names)
    level = sensitivity_of([main, *(r for r, _ in supporting), *([patient] if patient else [])])
    resources = [
        label(as_hub_resource(resource, name, source_system, targets), level)
        for resource, name in [(main, key), *supporting]
    ]
    event_type = event_type_of(main, found.request.get("method"))
    when = occurred_at(main, ctx.received_at)
    return [
        HubEvent.create(
            event_type=event_type,
            source_partner=ctx.partner,
            source_system=source_system,
            source_record_id=key,
            record_version=meta_version(main) or _content_version(main, when),
            occurred_at=when,
            subjects=subjects,
            entries=[Entry.of(resource) for resource in resources],
            sensitivity=level,
            trace_id=ctx.trace_id,
            ingested_at=ctx.received_at,
            retracts=key if event_type is EventType.RECORD_RETRACTED else None,
        )
    ]


def _supporting(found: RecordInput, main: dict[str, Any]) -> list[tuple[dict[str, Any], str]]:
    """Resources the record references directly that are not records themselves, validated,
    with the partner's name for each."""
    out: list[tuple[dict[str, Any], str]] = []
    seen: set[int] = set()
    for reference in iter_references(main):
        position = found.index.resolve(reference)
        if position is None or position in seen:
            continue
        seen.add(position)
        entry = found.entries[position]
        resource = entry.get("resource")
        if isinstance(resource, dict) and resource is not main and not is_record(resource):
            check_invariants(resource, where=f"Bundle.entry[{position}].resource")
            validate_resource(resource, where=f"Bundle.entry[{position}].resource")
            out.append((resource, logical_key(resource, full_url_of(entry))))
    return out


def _content_version(resource: dict[str, Any], when: Any) -> str:
    """Version of a resource that states none: its clinical time plus a content hash, so a resend
    is idempotent and a changed resource is a new version."""
    digest = hashlib.sha256(orjson.dumps(resource, option=orjson.OPT_SORT_KEYS)).hexdigest()[:12]
    return f"{utc_stamp(when)}~{digest}"


def _deleted(found: RecordInput, source_system: str, ctx: SourceContext) -> HubEvent:
    """A transaction's DELETE of a Patient withdraws that record; other DELETEs do not say whose
    record they remove, so they are rejected. Versioned by the Bundle's timestamp."""
    url = str(found.request.get("url") or "")
    parts = url.split("?", maxsplit=1)[0].rstrip("/").split("/")
    if len(parts) < 2 or parts[-2] != "Patient":
        raise MappingError(
            "a DELETE of anything but a Patient does not say whose record it removes",
            location="Bundle.entry.request.url",
            hint="send the resource with status 'entered-in-error' instead",
        )
    key = f"Patient/{parts[-1]}"
    when = (parse_fhir_datetime(found.timestamp) if found.timestamp else None) or ctx.received_at
    return HubEvent.create(
        event_type=EventType.RECORD_RETRACTED,
        source_partner=ctx.partner,
        source_system=source_system,
        source_record_id=key,
        record_version=utc_stamp(when),
        occurred_at=when,
        subjects=[Identifier(system=local_system(ctx.partner, "patient"), value=parts[-1])],
        trace_id=ctx.trace_id,
        ingested_at=ctx.received_at,
        retracts=key,
    )
