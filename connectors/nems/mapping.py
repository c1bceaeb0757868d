"""One NEMS / Digital Child Health STU3 event message to one R4 hub event.

Steps: read the message (JSON or XML, STU3), validate every resource with the STU3 models,
rewrite each as R4 (`stu3_to_r4`), validate it with the R4B models, and build the hub event:
the focus resource first, the rest of the message after it, hub ids throughout.

Which record: the focus resource's business identifier (persisted by publishers across new,
update and delete messages, as the NEMS guide requires), scoped by event type, so updates and
deletes land on the same `source_record_id`. A `delete` becomes RECORD_RETRACTED retracting it.
"""

from __future__ import annotations

from typing import Any

from connectors.base import SourceContext
from connectors.common.fhir_classify import event_type_of, occurred_at
from connectors.common.fhir_input import read_fhir
from connectors.common.fhir_invariants import check_invariants
from connectors.common.fhir_refs import BundleIndex, full_url_of, hub_targets, iter_references, logical_key
from connectors.common.fhir_sensitivity import label, sensitivity_of
from connectors.common.fhir_subject import Lookup, as_hub_resource, normalise_identifier, resolve_subject
from connectors.common.fhir_validation import validate_resource
from connectors.nems.header import MessageFacts, read_header
from connectors.nems.stu3_to_r4 import to_r4
from schemas.envelope import Entry, HubEvent, Identifier
from schemas.errors import MappingError
from schemas.event_types import EventType
from schemas.identifiers import NHS_NUMBER

NEMS_EVENTS: dict[str, EventType] = {
    "pds-birth-notification": EventType.BIRTH_NOTIFICATION,
    "pds-change-of-address": EventType.ADDRESS_CHANGED,
    "pds-change-of-gp": EventType.GP_CHANGED,
    "pds-death-notification": EventType.PERSON_DIED,
    "pds-record-change": EventType.PERSON_UPDATED,
    "pds-record-changed": EventType.PERSON_UPDATED,
    "newborn-hearing": EventType.NEWBORN_SCREENING,
    "nipe-outcome": EventType.NEWBORN_SCREENING,
    "blood-spot-test-outcome": EventType.NEWBORN_SCREENING,
    "vaccinations": EventType.IMMUNISATION,
    "professional-contacts": EventType.ENCOUNTER,
}
"""NEMS event codes (without their `-1`, `-2` version suffix) to hub codes; other codes (older
Digital Child Health `CH0nn` codes) take the hub code of their focus resource. `pds-record-changed`
is how NHS England's own PDS record change example spells the `pds-record-change-1` code (that
example's leading space is refused by the STU3 `code` type, naming `MessageHeader.event.code`)."""


def map_nems_message(data: bytes, ctx: SourceContext) -> list[HubEvent]:
    """Pure: the hub event of one event message, or `MappingError` with where and why."""
    bundle = read_fhir(data, "STU3")
    entries = _message_entries(bundle)
    for position, entry in enumerate(entries):
        check_invariants(entry["resource"], where=f"Bundle.entry[{position}].resource")
        validate_resource(entry["resource"], where=f"Bundle.entry[{position}].resource", release="STU3")
    facts = read_header(entries[0]["resource"], ctx.partner, ctx.org_ids)
    r4 = [
        {**entry, "resource": to_r4(entry["resource"], f"Bundle.entry[{position}].resource")}
        for position, entry in enumerate(entries[1:], start=1)
    ]
    index = BundleIndex(r4)
    focus_at = index.resolve(facts.focus)
    if focus_at is None:
        raise MappingError(
            "the MessageHeader's focus is not an entry of the message",
            location="MessageHeader.focus",
            hint="include the focus resource with a fullUrl equal to the focus reference",
        )
    focus = r4[focus_at]["resource"]

    def lookup(reference: str) -> dict[str, Any] | None:
        found = index.resolve(reference)
        return r4[found]["resource"] if found is not None else None

    births = _event_type(facts, focus) is EventType.BIRTH_NOTIFICATION
    subject_at = _baby_at(r4, focus_at) if births else focus_at
    subjects = _subjects(r4[subject_at]["resource"], lookup, facts, ctx.partner)
    ordered = [r4[subject_at], *(entry for p, entry in enumerate(r4) if p != subject_at)]
    names = [name for entry in r4 for name in iter_references(entry["resource"])]
    targets = hub_targets(index, r4, facts.source_system, names)
    level = sensitivity_of([entry["resource"] for entry in r4])
    resources = []
    for entry in ordered:
        key = logical_key(entry["resource"], full_url_of(entry))
        resource = label(as_hub_resource(entry["resource"], key, facts.source_system, targets), level)
        resources.append(validate_resource(resource, where=f"{resource['resourceType']} (as R4)"))
    record_id = _record_id(facts, focus)
    deleted = facts.lifecycle == "delete"
    return [
        HubEvent.create(
            event_type=EventType.RECORD_RETRACTED if deleted else _event_type(facts, focus),
            source_partner=ctx.partner,
            source_system=facts.source_system,
            source_record_id=record_id,
            record_version=facts.version,
            occurred_at=occurred_at(focus, facts.sent_at),
            subjects=subjects,
            entries=[Entry.of(resource) for resource in resources],
            sensitivity=level,
            trace_id=ctx.trace_id,
            ingested_at=ctx.received_at,
            retracts=record_id if deleted else None,
        )
    ]


def _message_entries(bundle: dict[str, Any]) -> list[dict[str, Any]]:
    if bundle.get("resourceType") != "Bundle" or bundle.get("type") != "message":
        raise MappingError(
            "a NEMS event is a FHIR Bundle of type message",
            location="Bundle.type",
            hint="send the event message Bundle as published",
        )
    entries = bundle.get("entry") or []
    for position, entry in enumerate(entries):
        if not isinstance(entry, dict) or not isinstance(entry.get("resource"), dict):
            raise MappingError("the entry holds no resource", location=f"Bundle.entry[{position}].resource")
    if not entries or entries[0]["resource"].get("resourceType") != "MessageHeader":
        raise MappingError(
            "the message must start with its MessageHeader",
            location="Bundle.entry[0].resource",
            hint="put the MessageHeader first, as FHIR messaging requires",
        )
    return list(entries)


def _baby_at(entries: list[dict[str, Any]], focus_at: int) -> int:
    """The baby's entry in a birth notification: the youngest Patient of the message.

    PDS birth notifications focus the baby and carry the mother as a second Patient, but some
    publishers' layouts focus the mother; reading those by position would make the mother the
    child. Birth dates decide, and the focus stands when they cannot (one Patient, or no dates)."""
    dated = [
        (str(entry["resource"]["birthDate"]), position)
        for position, entry in enumerate(entries)
        if entry["resource"].get("resourceType") == "Patient" and entry["resource"].get("birthDate")
    ]
    if len(dated) < 2:
        return focus_at
    youngest = max(dated)
    return youngest[1] if [d for d, _ in dated].count(youngest[0]) == 1 else focus_at


def _subjects(focus: dict[str, Any], lookup: Lookup, facts: MessageFacts, partner: str) -> list[Identifier]:
    """The child's identifiers: from the focus's Patient, else the NHS number NEMS routed on."""
    try:
        return resolve_subject(focus, lookup, partner)[0]
    except MappingError:
        if facts.routing_nhs_number is None:
            raise
    routed = normalise_identifier(
        {"system": NHS_NUMBER, "value": facts.routing_nhs_number},
        "MessageHeader.extension(routingDemographics).extension(nhsNumber).valueIdentifier",
    )
    return [Identifier(system=routed["system"], value=routed["value"])]


def _event_name(code: str) -> str:
    """The event code without its version suffix (`-1`)."""
    return code.rsplit("-", 1)[0] if code[-1:].isdigit() else code


def _record_id(facts: MessageFacts, focus: dict[str, Any]) -> str:
    """The source record: event type plus the focus's persisted business identifier."""
    event = _event_name(facts.event_code)
    for identifier in focus.get("identifier") or []:
        if identifier.get("system") and identifier.get("value"):
            return f"{event}/{focus['resourceType']}/{identifier['system']}|{identifier['value']}"
    if facts.lifecycle == "delete":
        raise MappingError(
            "a delete message's focus has no identifier, so hubnet cannot tell which record it removes",
            location=f"{focus['resourceType']}.identifier",
            hint="send the identifier used in the original new message",
        )
    return f"{event}/{logical_key(focus)}"


def _event_type(facts: MessageFacts, focus: dict[str, Any]) -> EventType:
    return NEMS_EVENTS.get(_event_name(facts.event_code)) or event_type_of(focus)
