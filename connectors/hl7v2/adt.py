"""ADT messages to hub events: visits, people, merges, and the triggers that cancel a visit event.

- A01 admit, A02 transfer, A03 discharge, A04 register: one event per visit and trigger
  (`<trigger>:visit:<PV1-19>`) with the Encounter, Patient, RelatedPersons and any OBX.
- A08 / A31 update, A28 add person: one event per trigger and patient.
- A40 merge: person-merged, one per PID/MRG pair; Patient with `link` type `replaces`.
- A11 cancel admit / visit, A12 cancel transfer, A13 cancel discharge: `record-retracted` of the
  visit record they cancel (HL7 v2.5 3.3.11-13: A11 cancels an A01 or an A04, so it retracts the
  visit's records of both). The cancelled record is found by the visit number, so a cancel
  without PV1-19 is refused rather than guessed.
"""

from __future__ import annotations

from connectors.hl7v2 import clinical, people
from connectors.hl7v2.context import (
    MessageContext,
    control_id,
    event_time,
    following,
    identity_key,
    person,
    required,
    when,
)
from schemas.envelope import HubEvent
from schemas.errors import MappingError
from schemas.event_types import EventType

VISIT_EVENTS = {
    "A01": EventType.ADMISSION,
    "A02": EventType.ENCOUNTER,
    "A03": EventType.DISCHARGE,
    "A04": EventType.ENCOUNTER,
}
PERSON_EVENTS = {
    "A08": EventType.PERSON_UPDATED,
    "A28": EventType.PERSON_REGISTERED,
    "A31": EventType.PERSON_UPDATED,
}
CANCELS = {"A11": ("A01", "A04"), "A12": ("A02",), "A13": ("A03",)}
"""Cancel trigger -> the triggers whose visit record it retracts."""


def person_event(ctx: MessageContext) -> list[HubEvent]:
    """A08 / A28 / A31: the patient's demographics (person-died when PID-29/30 say so)."""
    trigger = ctx.message.trigger
    patient = person(ctx, required(ctx.message, "PID", "the patient"))
    event_type = PERSON_EVENTS[trigger]
    if event_type is EventType.PERSON_UPDATED and people.is_deceased(patient.pid):
        event_type = EventType.PERSON_DIED
    return [
        ctx.event(
            event_type,
            f"{trigger}:patient:{patient.key}",
            when(*event_time(ctx.message)) or ctx.sent_at,
            patient.entries(),
            patient.subjects,
            restricted=patient.restricted,
        )
    ]


def visit_event(ctx: MessageContext) -> list[HubEvent]:
    """A01 / A02 / A03 / A04: the visit's Encounter with the patient and any OBX."""
    message = ctx.message
    trigger = message.trigger
    pid = required(message, "PID", "the patient")
    pv1 = required(message, "PV1", "the visit")
    visit = pv1.text(19)
    record_id = f"{trigger}:visit:{visit}" if visit else f"{trigger}:message:{control_id(message)}"
    patient = person(ctx, pid)
    encounter = ctx.take(
        clinical.encounter, pv1, trigger, patient.ref, ctx.partner, ctx.rid(record_id, "Encounter")
    )
    entries = [*([(encounter, pv1.label)] if encounter else []), *patient.entries()]
    for observation, where in ctx.observations(message.all("OBX"), patient.ref, record_id, None):
        if encounter is not None:
            observation["encounter"] = {"reference": f"urn:uuid:{encounter['id']}"}
        entries.append((observation, where))
    if trigger == "A02":  # a transfer happens when the event says, not when the visit began
        occurred = when(*event_time(message)) or ctx.sent_at
    else:
        occurred = when(pv1.value(45 if trigger == "A03" else 44), *event_time(message)) or ctx.sent_at
    return [
        ctx.event(
            VISIT_EVENTS[trigger],
            record_id,
            occurred,
            entries,
            patient.subjects,
            restricted=patient.restricted,
        )
    ]


def cancel_event(ctx: MessageContext) -> list[HubEvent]:
    """A11 / A12 / A13: retract the visit records the cancel names by PV1-19."""
    message = ctx.message
    trigger = message.trigger
    patient = person(ctx, required(message, "PID", "the patient"))
    pv1 = required(message, "PV1", "the visit being cancelled")
    visit = pv1.text(19)
    if not visit:
        cancelled = " or ".join(CANCELS[trigger])
        raise MappingError(
            f"the cancel names no visit number, so hubnet cannot tell which {cancelled} it cancels",
            location=pv1.loc(19),
            hint=f"send the visit number of the cancelled {cancelled} in PV1-19",
        )
    occurred = when(*event_time(message)) or ctx.sent_at
    events = []
    for cancelled in CANCELS[trigger]:
        record_id = f"{cancelled}:visit:{visit}"
        events.append(ctx.retraction(record_id, occurred, patient))
    return events


def merges(ctx: MessageContext) -> list[HubEvent]:
    """ADT^A40: each PID (the surviving record) with the MRG after it (the record merged away)."""
    events = []
    for pid in ctx.message.all("PID"):
        mrg = next(iter(following(ctx.message, pid, ("MRG",), stop=("PID",))), None)
        if mrg is None:
            raise MappingError(
                "the merge has no MRG segment after this PID",
                location=pid.label,
                hint="send an MRG segment naming the record merged into this patient",
            )
        retired = people.merged_identifiers(mrg, ctx.partner)
        survivor = person(ctx, pid)
        record_id = f"A40:patient:{survivor.key}:{identity_key(retired[0])}"
        survivor.resource["link"] = [{"other": {"identifier": i}, "type": "replaces"} for i in retired]
        subjects = survivor.subjects + [s for s in people.subjects_of(retired) if s not in survivor.subjects]
        events.append(
            ctx.event(
                EventType.PERSON_MERGED,
                record_id,
                when(*event_time(ctx.message)) or ctx.sent_at,
                survivor.entries(),
                subjects,
                restricted=survivor.restricted,
            )
        )
    if not events:
        required(ctx.message, "PID", "the surviving patient")
    return events
