"""What every mapper of one HL7 v2 message shares: the message's facts, its patients, segment lookups.

`MessageContext` validates and wraps resources into hub events with the message's source system
and version (MSH-7); `person` reads the patient a PID starts (with PD1 and NK1). The mappers of
each message family (`adt`, `mapping`) build on these so they say only what differs.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, ParamSpec, TypeVar

from connectors.base import SourceContext
from connectors.common.fhir_sensitivity import label, sensitivity_of
from connectors.common.fhir_validation import validate_resource
from connectors.common.problems import Findings
from connectors.hl7v2 import clinical, people
from connectors.hl7v2.datatypes import to_datetime
from connectors.hl7v2.parsing import Message, Segment, Value
from schemas.envelope import Entry, HubEvent, Identifier, Sensitivity, resource_id
from schemas.errors import MappingError
from schemas.event_types import EventType

P = ParamSpec("P")
T = TypeVar("T")


@dataclass
class MessageContext:
    """Facts shared by every event of one message."""

    message: Message
    source: SourceContext
    source_system: str
    version: str
    sent_at: datetime
    validated: set[int] = field(default_factory=set)
    found: Findings = field(default_factory=Findings)
    """Every problem of the message so far: segments are read on past a bad one, so the sender is
    told all of them at once; no event is made while there is any (`event`, `map_message`)."""

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
        """Validate each resource once (`where` = its segment) and wrap them in one hub event;
        raises every problem of the message found so far instead."""
        self.validate(resources)
        self.found.check()
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

    def validate(self, resources: list[tuple[dict[str, Any], str]]) -> None:
        """Check each resource against FHIR once, noting its problems with the message's."""
        for resource, where in resources:
            if id(resource) not in self.validated:
                self.found.take(validate_resource, resource, where)
                self.validated.add(id(resource))

    def made(self, planned: list[Callable[[], HubEvent]]) -> list[HubEvent]:
        """The events a mapper planned (each resource validated as it was planned), once the
        whole message is read: every problem of every segment is raised together."""
        self.found.check()
        return [make() for make in planned]

    def observations(
        self, obxs: list[Segment], patient_ref: str, record_id: str, fallback_time: Value | None
    ) -> list[tuple[dict[str, Any], str]]:
        """The Observations of OBX segments; each one that cannot be read has its problems noted."""
        read = (
            (
                self.take(
                    clinical.observation, obx, patient_ref, self.rid(record_id, obx.label), fallback_time
                ),
                obx,
            )
            for obx in obxs
        )
        return [(resource, obx.label) for resource, obx in read if resource is not None]

    def take(self, read: Callable[P, T], /, *args: P.args, **kwargs: P.kwargs) -> T | None:
        """`read(...)`, or None with its problem noted among the message's."""
        return self.found.take(read, *args, **kwargs)

    def retraction(self, record_id: str, occurred_at: datetime, patient: Person) -> HubEvent:
        """The sender's own record `record_id` retracted (a cancelled visit, a deleted order)."""
        return self.event(
            EventType.RECORD_RETRACTED, record_id, occurred_at, [], patient.subjects,
            restricted=patient.restricted, retracts=record_id,
        )  # fmt: skip


@dataclass
class Person:
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


def person(ctx: MessageContext, pid: Segment) -> Person:
    """Patient (PID, PD1) and RelatedPersons (NK1) of the patient a PID starts. Resource ids
    follow the patient (not the event), so every event about one patient names the same Patient."""
    segments = following(ctx.message, pid, ("PD1", "NK1"), stop=("PID", "PV1", "ORC", "OBR", "RXA"))
    pd1 = next((s for s in segments if s.name == "PD1"), None)
    identifiers = people.patient_identifiers(pid, ctx.partner, ctx.found)
    key = identity_key(identifiers[0]) if identifiers else f"unidentified:{pid.occurrence}"  # never used:
    # without an identifier a problem is noted, so the message makes no event
    scope = f"patient:{key}"
    resource = people.patient(pid, pd1, identifiers, ctx.rid(scope, "Patient"), ctx.found)
    ref = f"urn:uuid:{resource['id']}"
    related = [
        (people.related_person(nk1, ref, ctx.partner, ctx.rid(scope, nk1.label), ctx.found), nk1.label)
        for nk1 in segments
        if nk1.name == "NK1"
    ]
    subjects = people.subjects_of(identifiers)
    return Person(resource, subjects, key, people.is_protected(pd1), pid, related)


def identity_key(identifier: dict[str, Any]) -> str:
    """A record-id part naming a person without carrying their NHS number in clear."""
    return resource_id("patient", f"{identifier['system']}|{identifier['value']}")


def required(message: Message, name: str, what: str) -> Segment:
    segment = message.first(name)
    if segment is None:
        raise MappingError(
            f"the message has no {name} segment ({what})",
            location=name,
            hint=f"{message.message_code}^{message.trigger} messages must carry a {name} segment",
        )
    return segment


def when(*values: Value | None) -> datetime | None:
    """The first of `values` that holds a date/time."""
    for value in values:
        if value is not None and (moment := to_datetime(value)):
            return moment
    return None


def event_time(message: Message) -> list[Value]:
    """EVN-6 (event occurred) then EVN-2 (recorded), when the message has an EVN."""
    evn = message.first("EVN")
    return [evn.value(6), evn.value(2)] if evn else []


def control_id(message: Message) -> str:
    found = message.control_id
    if not found:
        raise MappingError(
            "the message control id is missing",
            location="MSH-10",
            hint="send a unique message control id in MSH-10",
        )
    return found


def following(
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
