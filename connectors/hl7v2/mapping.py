"""One HL7 v2 message to hub events: which message types map, to which events, keyed how.

- ADT (visits, people, merges, cancels): see `adt`.
- VXU^V04: immunisation, one per RXA (RXA-21 = D: record-retracted); Patient, Immunization,
  Observation; one record per order (ORC-3, else ORC-2).
- ORU^R01: observation, one per OBR; Patient, Observation; one record per order (OBR-3, else OBR-2).

The record version is MSH-7 as fixed-width UTC text, so a resent message gives the same event id
and a later message about the same record supersedes the earlier one.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from functools import lru_cache, partial

from connectors.base import SourceContext
from connectors.common.fhir_time import utc_stamp
from connectors.hl7v2 import adt, clinical
from connectors.hl7v2.context import MessageContext, Person, control_id, following, person, required, when
from connectors.hl7v2.datatypes import to_datetime
from connectors.hl7v2.parsing import Message, Segment
from schemas.envelope import HubEvent
from schemas.errors import MappingError
from schemas.event_types import EventType
from schemas.identifiers import local_system

_SLUG = re.compile(r"[^a-z0-9.]+")


_Mapper = Callable[[MessageContext], list[HubEvent]]


def map_message(message: Message, source: SourceContext) -> list[HubEvent]:
    """Hub events of one parsed message, or `MappingError` naming the segment and field."""
    mapper = _MAPPERS.get((message.message_code, message.trigger))
    if mapper is None:
        raise MappingError(
            f"message type {message.message_code or '?'}^{message.trigger or '?'} is not supported",
            location="MSH-9",
            hint=f"hubnet accepts {SUPPORTED_TYPES}",
        )
    sent_at = to_datetime(message.header.value(7))
    if sent_at is None:
        raise MappingError(
            "the message date/time is missing",
            location="MSH-7",
            hint="send MSH-7: hubnet orders updates of a record by it",
        )
    ctx = MessageContext(
        message, source, _source_system(message, source.partner), utc_stamp(sent_at), sent_at
    )
    events = mapper(ctx)
    ctx.found.check()  # a problem noted where no event was made still rejects the message
    return events


def _source_system(message: Message, partner: str) -> str:
    """The sending application and facility (MSH-3, MSH-4) of this partner."""
    return _system_of(partner, message.header.text(3), message.header.text(4))


@lru_cache(maxsize=1024)
def _system_of(partner: str, application: str, facility: str) -> str:
    """Cached: a feed has a handful of senders, and every message of theirs names them again."""
    parts = [_SLUG.sub("-", name.lower()).strip("-") or "unknown" for name in (application, facility)]
    return local_system(partner, "hl7v2/" + "/".join(parts))


def _immunisations(ctx: MessageContext) -> list[HubEvent]:
    """VXU^V04: one event per RXA; its RXR and OBX follow it, its ORC precedes it."""
    message = ctx.message
    patient = person(ctx, required(message, "PID", "the patient"))
    events: list[Callable[[], HubEvent]] = []
    orc: Segment | None = None
    for segment in message.segments:
        if segment.name == "ORC":
            orc = segment
        if segment.name != "RXA":
            continue
        rxa = segment
        key = _order_key(orc, 3, 2) or f"{patient.key}:{rxa.text(3)}:{rxa.text(5)}"
        record_id = f"V04:order:{key}"
        occurred = ctx.take(when, rxa.value(3)) or ctx.sent_at
        if rxa.text(21).upper() == "D":
            events.append(partial(ctx.retraction, record_id, occurred, patient))
            continue
        children = following(message, rxa, ("RXR", "OBX"), stop=("RXA", "ORC"))
        rxr = next((s for s in children if s.name == "RXR"), None)
        rid = ctx.rid(record_id, "Immunization")
        immunization = ctx.take(clinical.immunization, rxa, rxr, patient.ref, rid)
        observations = ctx.observations(
            [s for s in children if s.name == "OBX"], patient.ref, record_id, rxa.value(3)
        )
        entries = [*([(immunization, rxa.label)] if immunization else []), *patient.entries(), *observations]
        ctx.validate(entries)
        events.append(
            partial(
                ctx.event,
                EventType.IMMUNISATION,
                record_id,
                occurred,
                entries,
                patient.subjects,
                restricted=patient.restricted,
            )
        )
    if not events:
        required(message, "RXA", "the vaccination")
    return ctx.made(events)


def _results(ctx: MessageContext) -> list[HubEvent]:
    """ORU^R01: one event per OBR (results before any OBR form one group of their own)."""
    message = ctx.message
    patient: Person | None = None
    groups: list[tuple[Person, Segment | None, list[Segment]]] = []
    for segment in message.segments:
        if segment.name == "PID":
            patient = person(ctx, segment)
        elif segment.name in ("OBR", "OBX") and patient is None:
            required(message, "PID", "the patient")
        elif segment.name == "OBR" and patient is not None:
            groups.append((patient, segment, []))
        elif segment.name == "OBX" and patient is not None:
            if not groups or groups[-1][0] is not patient:
                groups.append((patient, None, []))
            groups[-1][2].append(segment)
    events: list[Callable[[], HubEvent]] = []
    for owner, obr, results in groups:
        if obr is not None:
            key = _order_key(obr, 3, 2) or f"{control_id(message)}:{obr.occurrence}"
        else:
            key = f"{control_id(message)}:{owner.pid.occurrence}:unordered"
        record_id = f"R01:order:{key}"
        requested = obr.value(7) if obr is not None else None
        entries = ctx.observations(results, owner.ref, record_id, requested)
        occurred = ctx.take(when, requested, *(obx.value(14) for obx in results)) or ctx.sent_at
        if entries:
            ctx.validate([*entries, *owner.entries()])
            events.append(
                partial(
                    ctx.event,
                    EventType.OBSERVATION,
                    record_id,
                    occurred,
                    [*entries, *owner.entries()],
                    owner.subjects,
                    restricted=owner.restricted,
                )
            )
    if not events and not ctx.found.count:
        required(message, "OBX", "the results")
    return ctx.made(events)


def _order_key(segment: Segment | None, *fields: int) -> str | None:
    """The filler (or else placer) order number, with its namespace: stable across resends."""
    if segment is None:
        return None
    for number in fields:
        value = segment.value(number)
        if entity := value.comp(1):
            namespace = value.comp(2) or value.comp(3)
            return f"{entity}@{namespace}" if namespace else entity
    return None


_MAPPERS: dict[tuple[str, str], _Mapper] = {
    **{("ADT", trigger): adt.visit_event for trigger in adt.VISIT_EVENTS},
    **{("ADT", trigger): adt.person_event for trigger in adt.PERSON_EVENTS},
    **{("ADT", trigger): adt.cancel_event for trigger in adt.CANCELS},
    ("ADT", "A40"): adt.merges,
    ("VXU", "V04"): _immunisations,
    ("ORU", "R01"): _results,
}
SUPPORTED_TYPES = ", ".join(f"{code}^{trigger}" for code, trigger in _MAPPERS)
