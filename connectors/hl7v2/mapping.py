"""One HL7 v2 message to hub events: which message types map, to which events, keyed how.

- ADT^A01 / A03 / A04: admission / discharge / encounter; Patient, Encounter, RelatedPerson,
  Observation; one record per visit (PV1-19).
- ADT^A08 / A31: person-updated (person-died when PID-29/30 say so); ADT^A28: person-registered;
  Patient, RelatedPerson; one record per trigger and patient.
- ADT^A40: person-merged, one per PID/MRG pair; Patient with `link` type `replaces`.
- VXU^V04: immunisation, one per RXA (RXA-21 = D: record-retracted); Patient, Immunization,
  Observation; one record per order (ORC-3, else ORC-2).
- ORU^R01: observation, one per OBR; Patient, Observation; one record per order (OBR-3, else OBR-2).

The record version is MSH-7 as fixed-width UTC text, so a resent message gives the same event id
and a later message about the same record supersedes the earlier one.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from functools import lru_cache
from typing import Any

from connectors.base import SourceContext
from connectors.common.fhir_sensitivity import label, sensitivity_of
from connectors.common.fhir_time import utc_stamp
from connectors.common.fhir_validation import validate_resource
from connectors.hl7v2 import clinical, people
from connectors.hl7v2.datatypes import to_datetime
from connectors.hl7v2.parsing import Message, Segment, Value
from schemas.envelope import Entry, HubEvent, Identifier, Sensitivity, resource_id
from schemas.errors import MappingError
from schemas.event_types import EventType
from schemas.identifiers import local_system

_SLUG = re.compile(r"[^a-z0-9.]+")


@dataclass
class _Context:
    """Facts shared by every event of one message."""

    message: Message
    source: SourceContext
    source_system: str
    version: str
    sent_at: datetime
    validated: set[int] = field(default_factory=set)

    @property
    def partner(self) -> str:
        return self.source.partner

    def rid(self, record_id: str, part: str) -> str:
        return resource_id(self.source_system, record_id, part)

    def event(
        self,
        event_type: EventType,
        record_id: str,
        occurred_at: datetime,
        resources: list[tuple[dict[str, Any], str]],
        subjects: list[Identifier],
        *,
        restricted: bool = False,
        retracts: str | None = None,
    ) -> HubEvent:
        """Validate each resource once (`where` = its segment) and wrap them in one hub event."""
        for resource, where in resources:
            if id(resource) not in self.validated:
                validate_resource(resource, where)
                self.validated.add(id(resource))
        plain = [resource for resource, _ in resources]
        level = Sensitivity.RESTRICTED if restricted else sensitivity_of(plain)
        return HubEvent.create(
            event_type=event_type,
            source_partner=self.partner,
            source_system=self.source_system,
            source_record_id=record_id,
            record_version=self.version,
            occurred_at=occurred_at,
            subjects=subjects,
            entries=[Entry.of(label(resource, level)) for resource in plain],
            sensitivity=level,
            trace_id=self.source.trace_id,
            ingested_at=self.source.received_at,
            retracts=retracts,
        )


@dataclass
class _Person:
    """The patient of a message part: resource, subjects, key for record ids, NK1 relations."""

    resource: dict[str, Any]
    subjects: list[Identifier]
    key: str
    restricted: bool
    pid: Segment
    related: list[tuple[dict[str, Any], str]]

    @property
    def ref(self) -> str:
        return f"urn:uuid:{self.resource['id']}"

    def entries(self) -> list[tuple[dict[str, Any], str]]:
        return [(self.resource, self.pid.label), *self.related]


_Mapper = Callable[[_Context], list[HubEvent]]

_ADT_EVENTS = {
    "A01": EventType.ADMISSION,
    "A03": EventType.DISCHARGE,
    "A04": EventType.ENCOUNTER,
    "A08": EventType.PERSON_UPDATED,
    "A28": EventType.PERSON_REGISTERED,
    "A31": EventType.PERSON_UPDATED,
}


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
    return mapper(
        _Context(message, source, _source_system(message, source.partner), utc_stamp(sent_at), sent_at)
    )


def _source_system(message: Message, partner: str) -> str:
    """The sending application and facility (MSH-3, MSH-4) of this partner."""
    return _system_of(partner, message.header.text(3), message.header.text(4))


@lru_cache(maxsize=1024)
def _system_of(partner: str, application: str, facility: str) -> str:
    """Cached: a feed has a handful of senders, and every message of theirs names them again."""
    parts = [_SLUG.sub("-", name.lower()).strip("-") or "unknown" for name in (application, facility)]
    return local_system(partner, "hl7v2/" + "/".join(parts))


def _person(ctx: _Context, pid: Segment) -> _Person:
    """Patient (PID, PD1) and RelatedPersons (NK1) of the patient a PID starts. Resource ids
    follow the patient (not the event), so every event about one patient names the same Patient."""
    segments = _following(ctx.message, pid, ("PD1", "NK1"), stop=("PID", "PV1", "ORC", "OBR", "RXA"))
    pd1 = next((s for s in segments if s.name == "PD1"), None)
    identifiers = people.patient_identifiers(pid, ctx.partner)
    key = _identity_key(identifiers[0])
    scope = f"patient:{key}"
    resource = people.patient(pid, pd1, identifiers, ctx.rid(scope, "Patient"))
    ref = f"urn:uuid:{resource['id']}"
    related = [
        (people.related_person(nk1, ref, ctx.partner, ctx.rid(scope, nk1.label)), nk1.label)
        for nk1 in segments
        if nk1.name == "NK1"
    ]
    subjects = people.subjects_of(identifiers)
    return _Person(resource, subjects, key, people.is_protected(pd1), pid, related)


def _identity_key(identifier: dict[str, Any]) -> str:
    """A record-id part naming a person without carrying their NHS number in clear."""
    return resource_id("patient", f"{identifier['system']}|{identifier['value']}")


def _required(message: Message, name: str, what: str) -> Segment:
    segment = message.first(name)
    if segment is None:
        raise MappingError(
            f"the message has no {name} segment ({what})",
            location=name,
            hint=f"{message.message_code}^{message.trigger} messages must carry a {name} segment",
        )
    return segment


def _when(*values: Value | None) -> datetime | None:
    for value in values:
        if value is not None and (moment := to_datetime(value)):
            return moment
    return None


def _adt(ctx: _Context) -> list[HubEvent]:
    message = ctx.message
    trigger = message.trigger
    pid = _required(message, "PID", "the patient")
    evn = message.first("EVN")
    event_time = [evn.value(6), evn.value(2)] if evn else []
    if trigger not in ("A01", "A03", "A04"):
        person = _person(ctx, pid)
        event_type = _ADT_EVENTS[trigger]
        if event_type is EventType.PERSON_UPDATED and people.is_deceased(pid):
            event_type = EventType.PERSON_DIED
        occurred = _when(*event_time) or ctx.sent_at
        return [
            ctx.event(
                event_type,
                f"{trigger}:patient:{person.key}",
                occurred,
                person.entries(),
                person.subjects,
                restricted=person.restricted,
            )
        ]
    pv1 = _required(message, "PV1", "the visit")
    visit = pv1.text(19)
    record_id = f"{trigger}:visit:{visit}" if visit else f"{trigger}:message:{_control_id(message)}"
    person = _person(ctx, pid)
    encounter = clinical.encounter(pv1, trigger, person.ref, ctx.partner, ctx.rid(record_id, "Encounter"))
    entries = [(encounter, pv1.label), *person.entries()]
    for obx in message.all("OBX"):
        observation = clinical.observation(obx, person.ref, ctx.rid(record_id, obx.label), None)
        observation["encounter"] = {"reference": f"urn:uuid:{encounter['id']}"}
        entries.append((observation, obx.label))
    visit_time = pv1.value(45 if trigger == "A03" else 44)
    occurred = _when(visit_time, *event_time) or ctx.sent_at
    return [
        ctx.event(
            _ADT_EVENTS[trigger],
            record_id,
            occurred,
            entries,
            person.subjects,
            restricted=person.restricted,
        )
    ]


def _merges(ctx: _Context) -> list[HubEvent]:
    """ADT^A40: each PID (the surviving record) with the MRG after it (the record merged away)."""
    events = []
    for pid in ctx.message.all("PID"):
        mrg = next(iter(_following(ctx.message, pid, ("MRG",), stop=("PID",))), None)
        if mrg is None:
            raise MappingError(
                "the merge has no MRG segment after this PID",
                location=pid.label,
                hint="send an MRG segment naming the record merged into this patient",
            )
        retired = people.merged_identifiers(mrg, ctx.partner)
        person = _person(ctx, pid)
        record_id = f"A40:patient:{person.key}:{_identity_key(retired[0])}"
        person.resource["link"] = [{"other": {"identifier": i}, "type": "replaces"} for i in retired]
        evn = ctx.message.first("EVN")
        occurred = _when(evn.value(6), evn.value(2)) if evn else None
        subjects = person.subjects + [s for s in people.subjects_of(retired) if s not in person.subjects]
        events.append(
            ctx.event(
                EventType.PERSON_MERGED,
                record_id,
                occurred or ctx.sent_at,
                person.entries(),
                subjects,
                restricted=person.restricted,
            )
        )
    if not events:
        _required(ctx.message, "PID", "the surviving patient")
    return events


def _immunisations(ctx: _Context) -> list[HubEvent]:
    """VXU^V04: one event per RXA; its RXR and OBX follow it, its ORC precedes it."""
    message = ctx.message
    person = _person(ctx, _required(message, "PID", "the patient"))
    events = []
    orc: Segment | None = None
    for segment in message.segments:
        if segment.name == "ORC":
            orc = segment
        if segment.name != "RXA":
            continue
        rxa = segment
        key = _order_key(orc, 3, 2) or f"{person.key}:{rxa.text(3)}:{rxa.text(5)}"
        record_id = f"V04:order:{key}"
        occurred = _when(rxa.value(3)) or ctx.sent_at
        if rxa.text(21).upper() == "D":
            events.append(
                ctx.event(
                    EventType.RECORD_RETRACTED,
                    record_id,
                    occurred,
                    [],
                    person.subjects,
                    restricted=person.restricted,
                    retracts=record_id,
                )
            )
            continue
        children = _following(message, rxa, ("RXR", "OBX"), stop=("RXA", "ORC"))
        rxr = next((s for s in children if s.name == "RXR"), None)
        immunization = clinical.immunization(rxa, rxr, person.ref, ctx.rid(record_id, "Immunization"))
        entries = [(immunization, rxa.label), *person.entries()]
        entries += [
            (clinical.observation(obx, person.ref, ctx.rid(record_id, obx.label), rxa.value(3)), obx.label)
            for obx in children
            if obx.name == "OBX"
        ]
        events.append(
            ctx.event(
                EventType.IMMUNISATION,
                record_id,
                occurred,
                entries,
                person.subjects,
                restricted=person.restricted,
            )
        )
    if not events:
        _required(message, "RXA", "the vaccination")
    return events


def _results(ctx: _Context) -> list[HubEvent]:
    """ORU^R01: one event per OBR (results before any OBR form one group of their own)."""
    message = ctx.message
    person: _Person | None = None
    groups: list[tuple[_Person, Segment | None, list[Segment]]] = []
    for segment in message.segments:
        if segment.name == "PID":
            person = _person(ctx, segment)
        elif segment.name in ("OBR", "OBX") and person is None:
            _required(message, "PID", "the patient")
        elif segment.name == "OBR" and person is not None:
            groups.append((person, segment, []))
        elif segment.name == "OBX" and person is not None:
            if not groups or groups[-1][0] is not person:
                groups.append((person, None, []))
            groups[-1][2].append(segment)
    events = []
    for owner, obr, results in groups:
        if obr is not None:
            key = _order_key(obr, 3, 2) or f"{_control_id(message)}:{obr.occurrence}"
        else:
            key = f"{_control_id(message)}:{owner.pid.occurrence}:unordered"
        record_id = f"R01:order:{key}"
        when = obr.value(7) if obr is not None else None
        entries = [
            (clinical.observation(obx, owner.ref, ctx.rid(record_id, obx.label), when), obx.label)
            for obx in results
        ]
        occurred = _when(when, *(obx.value(14) for obx in results)) or ctx.sent_at
        if entries:
            events.append(
                ctx.event(
                    EventType.OBSERVATION,
                    record_id,
                    occurred,
                    [*entries, *owner.entries()],
                    owner.subjects,
                    restricted=owner.restricted,
                )
            )
    if not events:
        _required(message, "OBX", "the results")
    return events


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


def _control_id(message: Message) -> str:
    control_id = message.control_id
    if not control_id:
        raise MappingError(
            "the message control id is missing",
            location="MSH-10",
            hint="send a unique message control id in MSH-10",
        )
    return control_id


def _following(
    message: Message, start: Segment, wanted: tuple[str, ...], stop: tuple[str, ...]
) -> list[Segment]:
    """Segments named `wanted` after `start`, up to the next segment named in `stop`."""
    segments = message.segments
    index = segments.index(start) + 1
    found = []
    while index < len(segments) and segments[index].name not in stop:
        if segments[index].name in wanted:
            found.append(segments[index])
        index += 1
    return found


_MAPPERS: dict[tuple[str, str], _Mapper] = {
    **{("ADT", trigger): _adt for trigger in _ADT_EVENTS},
    ("ADT", "A40"): _merges,
    ("VXU", "V04"): _immunisations,
    ("ORU", "R01"): _results,
}
SUPPORTED_TYPES = ", ".join(f"{code}^{trigger}" for code, trigger in _MAPPERS)
