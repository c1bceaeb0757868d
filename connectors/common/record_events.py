"""Hub events made from one partner record: what they all share, written once.

A flat-format record (a CSV row, a census episode, a JSON object) often becomes several events:
each needs the same sender, source system, record version, subjects and trace, resource ids that
are stable per record, resources validated once, and retractions shaped the same way. Connectors
build a `RecordEvents` per record and ask it for events; what goes in them stays their own.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from connectors.base import SourceContext
from connectors.common.fhir_sensitivity import label
from connectors.common.fhir_validation import validate_resource
from schemas.envelope import Entry, HubEvent, Identifier, Sensitivity, resource_id
from schemas.event_types import EventType


@dataclass(frozen=True)
class RecordEvents:
    """Sender, source system, version and subjects shared by the events of one record."""

    ctx: SourceContext
    source_system: str
    record_version: str
    subjects: tuple[Identifier, ...]

    def resource_id(self, kind: str, record_id: str) -> str:
        """Stable UUID of a resource made from one source record, so a resend replaces it."""
        return resource_id(kind, self.source_system, record_id)

    def event(
        self,
        event_type: EventType,
        record_id: str,
        occurred_at: datetime,
        resources: Sequence[dict[str, Any]],
        sensitivity: Sensitivity = Sensitivity.NORMAL,
    ) -> HubEvent:
        """One hub event of the given resources, each validated; the first is the focus."""
        return HubEvent.create(
            event_type=event_type,
            source_partner=self.ctx.partner,
            source_system=self.source_system,
            source_record_id=record_id,
            record_version=self.record_version,
            occurred_at=occurred_at,
            subjects=self.subjects,
            entries=[Entry.of(validate_resource(r)) for r in resources],
            sensitivity=sensitivity,
            trace_id=self.ctx.trace_id,
            ingested_at=self.ctx.received_at,
        )

    def retraction(self, record_id: str, occurred_at: datetime) -> HubEvent:
        """Withdraw what earlier versions of `record_id` put on the timeline. A retraction must come
        with a higher record version than what it retracts, or it shares that event's id."""
        return HubEvent.create(
            event_type=EventType.RECORD_RETRACTED,
            source_partner=self.ctx.partner,
            source_system=self.source_system,
            source_record_id=record_id,
            record_version=self.record_version,
            occurred_at=occurred_at,
            subjects=self.subjects,
            trace_id=self.ctx.trace_id,
            ingested_at=self.ctx.received_at,
            retracts=record_id,
        )


@dataclass(frozen=True)
class PersonEvents:
    """The events of one record about one person: each also carries the person's Patient, so the
    references inside it resolve. Connectors subclass it with what their person record holds."""

    record: RecordEvents
    patient: dict[str, Any]

    @property
    def ctx(self) -> SourceContext:
        return self.record.ctx

    @property
    def patient_reference(self) -> dict[str, str]:
        return {"reference": f"urn:uuid:{self.patient['id']}"}

    def resource_id(self, kind: str, record_id: str) -> str:
        return self.record.resource_id(kind, record_id)

    def person_event(
        self,
        event_type: EventType,
        record_id: str,
        occurred_at: datetime,
        resources: Sequence[dict[str, Any]],
        sensitivity: Sensitivity,
        *,
        label_patient: bool,
    ) -> HubEvent:
        """The resources (the first is the focus; restricted ones labelled in `meta.security`), then
        the Patient, labelled too when `label_patient`."""
        patient = label(self.patient, sensitivity) if label_patient else self.patient
        labelled = [label(r, sensitivity) for r in resources]
        return self.record.event(event_type, record_id, occurred_at, [*labelled, patient], sensitivity)

    def retraction(self, record_id: str, occurred_at: datetime) -> HubEvent:
        """Withdraw what an earlier version of `record_id` put on the timeline."""
        return self.record.retraction(record_id, occurred_at)
